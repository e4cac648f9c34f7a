//! cipherstage tls core (being built).
