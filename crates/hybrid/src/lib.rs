//! Hybrid encryption (ハイブリッド暗号方式), the idea TLS is built on, as a tiny real protocol.
//!
//! Alice and Bob each send an X25519 public key; both compute the same shared
//! secret, stretch it with HKDF-SHA-256 into one AES-128-GCM key and IV per
//! direction, and exchange sealed messages. Eve sits on the link: she sees the
//! public keys and the ciphertext, never the key. In the tamper scenario she
//! flips one byte, and the receiver's tag check fails.
//!
//! Layout follows the path of a byte: [`wire`] parses and emits messages and
//! describes every byte; [`peer`] holds the sans-IO state machines; [`scenario`]
//! drives both through an in-memory link and records the transcript.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod hkdf;
pub mod peer;
pub mod scenario;
pub mod wire;

pub use scenario::{run, Params, TamperAt};
