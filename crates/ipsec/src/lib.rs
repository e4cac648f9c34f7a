//! cipherstage ipsec core (being built).
