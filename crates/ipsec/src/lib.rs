//! IPsec as a real, sans-IO implementation: ESP (RFC 4303) with AES-GCM (RFC 4106) and
//! ChaCha20-Poly1305 (RFC 7634), AH (RFC 4302) with HMAC-SHA-256-128 (RFC 4868), ESP in
//! UDP for NAT traversal (RFC 3948), and security associations with sequence numbers and
//! the anti-replay window (RFC 4303 §3.4.3).
//!
//! The path of a byte: [`wire`] reads and writes ESP and AH headers; [`sa`] and [`ah`]
//! seal, open and verify with keys held in security associations; [`describe`] explains
//! every byte for the transcript; [`scenario`] drives hosts, gateways and a NAT over
//! in-memory links and records the transcript; [`export`] writes what was on the wire as
//! pcapng with the SAs Wireshark needs to decrypt it.
//!
//! Keys are configured by hand (as `ip xfrm state add` would); there is no IKEv2.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod ah;
pub mod describe;
pub mod encap;
pub mod export;
pub mod replay;
pub mod sa;
pub mod scenario;
pub mod wire;

pub use sa::{
    seal_open_round, Algorithm, EspSa, Inbound, InboundCheck, Opened, Sad, Sealed, SpiFailure,
};
pub use scenario::{run, run_with_export, Inner, Mode, Params, Story, TamperAt, REPLY};

/// Why bytes could not be read as an ESP or AH header, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// What is wrong.
    pub kind: ErrorKind,
    /// The byte offset where it was noticed.
    pub offset: usize,
}

/// What is wrong with a header's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fewer bytes than the header requires.
    Truncated,
    /// A reserved or impossible value.
    Malformed,
}

impl Error {
    pub(crate) fn at(kind: ErrorKind, offset: usize) -> Self {
        Error { kind, offset }
    }
}

/// Why a receiver dropped a packet (RFC 4303 §3.4 processing order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    /// The outer IP header (or UDP) is broken: bad checksum, truncated.
    Ip(cipherstage_packets::Error),
    /// The ESP or AH header does not parse.
    Decode(Error),
    /// No inbound SA has this SPI (RFC 4303 §3.4.2): an auditable event.
    UnknownSpi(u32),
    /// The sequence number was already received, or is left of the window (§3.4.3).
    Replay(u32),
    /// The ICV did not verify (§3.4.4): the bytes or the key differ from the sender's.
    IcvMismatch,
    /// The decrypted trailer is inconsistent (padding, pad length).
    BadTrailer,
    /// The sender's 32-bit sequence number would wrap; a new SA is needed (§3.3.3).
    SequenceExhausted,
    /// A key of the wrong length for the algorithm.
    KeyLength,
}

impl Discard {
    /// Key of the alert the receiver raises.
    pub fn alert_key(self) -> &'static str {
        match self {
            Discard::Ip(_) => "ipsec.alert.ip_header",
            Discard::Decode(_) | Discard::BadTrailer => "ipsec.alert.malformed",
            Discard::UnknownSpi(_) => "ipsec.alert.unknown_spi",
            Discard::Replay(_) => "ipsec.alert.replay",
            Discard::IcvMismatch => "ipsec.alert.icv_failed",
            Discard::SequenceExhausted | Discard::KeyLength => "ipsec.alert.internal",
        }
    }
}
