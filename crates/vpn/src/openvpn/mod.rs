//! OpenVPN's protocol in TLS mode (openvpn 2.6), sans-IO: packet framing over TCP
//! and UDP, the reliable control channel carrying the cipherstage TLS 1.3
//! handshake, key method 2, PUSH_REQUEST/PUSH_REPLY, data-channel keys from the TLS
//! exporter (`key-derivation tls-ekm`) and the AEAD data channel.
//!
//! tls-auth and tls-crypt (v1) protect the control packets ([`wrap`]).
//!
//! Not here: tls-crypt-v2, the TLS 1.0 PRF key derivation of peers
//! without tls-ekm, renegotiation (soft reset), compression, fragmentation.

pub mod client_cert;
pub mod control;
pub mod data;
pub mod describe;
pub mod scenario;
pub mod session;
pub mod wire;
pub mod wrap;

pub use control::{KeyMethod, PushReply};
pub use data::{Cipher, Keys};
pub use session::{Config, Event, PushConfig, Role, Sent, Session, State, Tls};
pub use wrap::{ControlProtection, Digest, StaticKey};
