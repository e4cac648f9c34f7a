//! cipherstage packets core (being built).
