//! A sans-IO SSH-2 client and server (RFC 4253, 4252, 4254) with crypto from ring.
//!
//! Layout follows the path of a byte: [`wire`] parses and emits the SSH data
//! types and messages and records what every byte means; [`transport`] frames
//! and protects packets; [`kex`] negotiates algorithms and derives keys;
//! [`client`] and [`server`] are the state machines; [`keys`] handles keys the
//! way users see them (OpenSSH lines, fingerprints); [`scenario`] drives both
//! ends over an in-memory link and records a transcript.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod bastion;
pub mod bulk;
mod channel;
pub mod client;
pub mod jump;
pub mod kex;
pub mod keys;
pub mod pcap;
pub mod remote;
pub mod scenario;
pub mod scp;
pub mod server;
mod session;
pub mod sftp;
pub mod transfer;
pub mod transport;
pub mod wire;

pub use scenario::{run, Params, ScenarioKind, TamperAt};
pub use transport::Outgoing;

/// Why a peer stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The bytes are not a well-formed message.
    Decode(wire::DecodeError),
    /// A packet's length field is impossible.
    BadPacketLength,
    /// A packet's padding is impossible.
    BadPadding,
    /// The AEAD tag did not verify (SSH_DISCONNECT_MAC_ERROR).
    Mac,
    /// A message that does not belong in this state (or breaks strict KEX).
    Unexpected(u8),
    /// No algorithm in common for this category.
    Negotiation(&'static str),
    /// X25519 rejected the peer's public value.
    KeyAgreement,
    /// The server's signature over the exchange hash did not verify.
    BadHostSignature,
    /// The host key differs from the one in known_hosts.
    HostKeyChanged,
    /// The host key is unknown and trust on first use is off.
    HostKeyUnknown,
    /// Authentication failed with every method the client has.
    AuthFailed {
        /// The methods the server said can continue.
        methods: Vec<String>,
    },
    /// The peer sent SSH_MSG_DISCONNECT.
    Disconnected(u32),
    /// The random source failed.
    Random,
    /// A state the core should not reach (a bug, not a wire fault).
    Internal,
    /// The caller named a channel that is not open (or sent after EOF).
    NoChannel,
}

impl From<wire::DecodeError> for Error {
    fn from(e: wire::DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl Error {
    /// Key of the alert this error raises, after SSH's disconnect reason codes (RFC 4253 §11.1).
    pub fn alert_key(&self) -> &'static str {
        match self {
            Error::Decode(_)
            | Error::BadPacketLength
            | Error::BadPadding
            | Error::Unexpected(_) => "ssh.alert.protocol_error",
            Error::Mac => "ssh.alert.mac_error",
            Error::Negotiation(_) | Error::KeyAgreement => "ssh.alert.key_exchange_failed",
            Error::BadHostSignature => "ssh.alert.bad_host_signature",
            Error::HostKeyChanged => "ssh.alert.host_key_changed",
            Error::HostKeyUnknown => "ssh.alert.host_key_not_verifiable",
            Error::AuthFailed { .. } => "ssh.alert.no_more_auth_methods",
            Error::Disconnected(_) => "ssh.alert.peer_disconnected",
            Error::Random | Error::Internal | Error::NoChannel => "ssh.alert.internal_error",
        }
    }
}
