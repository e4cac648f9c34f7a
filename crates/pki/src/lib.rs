//! cipherstage pki core (being built).
