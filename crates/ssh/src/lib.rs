//! cipherstage ssh core (being built).
