//! IKEv2 (RFC 7296) as a sans-IO initiator and responder, built for showing every byte:
//! IKE_SA_INIT (SA proposals, KE over Curve25519 or ECP-256, nonces, NAT detection),
//! the key schedule (SKEYSEED, SK_d … SK_pr by prf+), IKE_AUTH inside the SK payload
//! (AES-GCM per RFC 5282, ChaCha20-Poly1305 per RFC 7634) with pre-shared-key AUTH,
//! CP address assignment, traffic selectors, and the first CHILD_SA whose KEYMAT keys
//! the ESP core of `cipherstage-ipsec`.
//!
//! The path of a byte: [`wire`] reads and writes messages, recording each byte's field
//! as it writes; [`crypto`] and [`keys`] derive and protect; [`Initiator`] and
//! [`Responder`] are state machines (one typed state per awaited message) that take
//! datagrams and randomness in and queue datagrams and [`Note`]s out; `scenario`
//! drives them over the transcript's links.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod auth;
pub mod codec;
pub mod consts;
pub mod crypto;
mod initiator;
pub mod keys;
mod negotiate;
mod responder;
pub mod scenario;
pub mod wire;

use cipherstage_transcript::{FailReason, Field, Formula};

pub use crypto::{Encr, Group};
pub use initiator::{
    ExpectAuthResponse, ExpectSaInitResponse, Initiator, InitiatorConfig, InitiatorState,
};
pub use keys::IkeKeys;
pub use responder::{ExpectAuthRequest, Responder, ResponderConfig, ResponderState};
pub use wire::Selector;

/// An IPv4 address and UDP port (what NAT detection hashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Addr {
    /// The address.
    pub ip: [u8; 4],
    /// The UDP port.
    pub port: u16,
}

/// An identity for IDi / IDr (§3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// ID type ([`consts::id_type`]).
    pub ty: u8,
    /// Identification data.
    pub data: Vec<u8>,
}

impl Identity {
    /// An ID_FQDN identity.
    pub fn fqdn(name: &str) -> Self {
        Identity {
            ty: consts::id_type::FQDN,
            data: name.as_bytes().to_vec(),
        }
    }

    /// The body of its ID payload after the generic header: type, reserved, data
    /// (RestOfInitIDPayload in §2.15).
    pub fn body(&self) -> Vec<u8> {
        let mut out = vec![self.ty, 0, 0, 0];
        out.extend_from_slice(&self.data);
        out
    }
}

/// Something a core wants recorded in the transcript, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A secret it derived.
    Secret {
        /// Key of its name (`ike.secret.skeyseed`).
        name: String,
        /// Its bytes.
        bytes: Vec<u8>,
        /// How it was computed.
        formula: Formula,
    },
    /// A check it made: `None` passed.
    Check {
        /// Key of what was checked (`ike.check.auth`).
        what: &'static str,
        /// Why it failed, if it did.
        failed: Option<FailReason>,
    },
    /// A step of the story, as a key with arguments.
    Say {
        /// Key of the sentence (`ike.narr.chose`).
        key: &'static str,
        /// Named arguments.
        args: Vec<(&'static str, String)>,
    },
    /// The exchange failed with this notify (sent or received); fatal for the IKE SA.
    Failed {
        /// Notify message type.
        notify: u16,
    },
}

/// A datagram a core wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Key of its label (`ike.msg.ike_sa_init_request`).
    pub label: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The field tree covering every byte.
    pub fields: Vec<Field>,
}

/// Why a core did not accept a datagram (it records why in its notes as well).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The bytes do not parse.
    Decode(codec::DecodeError),
    /// The SK payload did not verify: dropped silently, as §2.21.2 requires.
    Integrity,
    /// Not the message this state waits for (wrong exchange, SPI or message ID).
    Unexpected,
    /// A cryptographic operation failed (a bad public value, the random source).
    Crypto(crypto::CryptoError),
    /// A required payload is missing or carries values this state cannot accept.
    Syntax,
}

impl From<codec::DecodeError> for Error {
    fn from(e: codec::DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<crypto::CryptoError> for Error {
    fn from(e: crypto::CryptoError) -> Self {
        Error::Crypto(e)
    }
}

impl From<wire::ReadError> for Error {
    fn from(e: wire::ReadError) -> Self {
        match e {
            wire::ReadError::Decode(d) => Error::Decode(d),
            wire::ReadError::Integrity => Error::Integrity,
        }
    }
}

impl From<cipherstage_transcript::rand::RandomError> for Error {
    fn from(_: cipherstage_transcript::rand::RandomError) -> Self {
        Error::Crypto(crypto::CryptoError::Random)
    }
}

/// The first CHILD_SA, as both peers hold it: SPIs, transform, selectors and keys.
#[derive(Clone, PartialEq, Eq)]
pub struct ChildSa {
    /// ESP transform.
    pub encr: Encr,
    /// The SPI the initiator receives on (chosen by the initiator).
    pub spi_i: u32,
    /// The SPI the responder receives on (chosen by the responder).
    pub spi_r: u32,
    /// Initiator-to-responder key ‖ salt.
    pub key_i: Vec<u8>,
    /// Responder-to-initiator key ‖ salt.
    pub key_r: Vec<u8>,
    /// The initiator's side of the tunnel (narrowed).
    pub tsi: Vec<Selector>,
    /// The responder's side of the tunnel.
    pub tsr: Vec<Selector>,
}

impl core::fmt::Debug for ChildSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChildSa")
            .field("encr", &self.encr)
            .field("spi_i", &format_args!("0x{:08x}", self.spi_i))
            .field("spi_r", &format_args!("0x{:08x}", self.spi_r))
            .finish_non_exhaustive()
    }
}

impl ChildSa {
    /// The ESP SA carrying traffic from the initiator to the responder (SPI chosen by
    /// the responder), for either end to seal or open with.
    pub fn esp_i_to_r(&self) -> Result<cipherstage_ipsec::EspSa, cipherstage_ipsec::Discard> {
        esp(self.encr, self.spi_r, &self.key_i)
    }

    /// The ESP SA carrying traffic from the responder to the initiator.
    pub fn esp_r_to_i(&self) -> Result<cipherstage_ipsec::EspSa, cipherstage_ipsec::Discard> {
        esp(self.encr, self.spi_i, &self.key_r)
    }
}

fn esp(
    encr: Encr,
    spi: u32,
    keymat: &[u8],
) -> Result<cipherstage_ipsec::EspSa, cipherstage_ipsec::Discard> {
    let (key, salt) = keymat
        .split_at_checked(encr.key_len())
        .ok_or(cipherstage_ipsec::Discard::KeyLength)?;
    let salt: [u8; 4] = salt
        .try_into()
        .map_err(|_| cipherstage_ipsec::Discard::KeyLength)?;
    cipherstage_ipsec::EspSa::new(spi, encr.esp(), key, salt)
}

/// What an established IKE SA holds (either end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Established {
    /// SPIi.
    pub spi_i: [u8; 8],
    /// SPIr.
    pub spi_r: [u8; 8],
    /// The DH group used.
    pub group: Group,
    /// The IKE SA's keys.
    pub keys: IkeKeys,
    /// The first CHILD_SA.
    pub child: ChildSa,
    /// The virtual address (and DNS server) assigned through CP, if any.
    pub assigned: Option<([u8; 4], Option<[u8; 4]>)>,
    /// Whether NAT detection found a translator on the path.
    pub nat: bool,
}

/// The non-ESP marker (RFC 3948 §2.2): four zero bytes before an IKE message sent on
/// the NAT-T port, where a datagram without it is ESP. Peers on a port other than 500
/// (strongSwan with a custom `charon.port`) frame every IKE message this way.
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// An IKE message framed for UDP port 4500: the non-ESP marker, then the message.
pub fn frame_nat_t(message: &[u8]) -> Vec<u8> {
    [&NON_ESP_MARKER[..], message].concat()
}

/// The IKE message inside a datagram received on the NAT-T port, or `None` when the
/// datagram is ESP (its first four bytes, the SPI, are not zero).
pub fn unframe_nat_t(datagram: &[u8]) -> Option<&[u8]> {
    datagram.strip_prefix(&NON_ESP_MARKER[..])
}

/// NAT detection data: SHA-1(SPIi | SPIr | IP | Port) (§2.23).
pub fn nat_hash(spi_i: &[u8; 8], spi_r: &[u8; 8], addr: Addr) -> Vec<u8> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(spi_i);
    ctx.update(spi_r);
    ctx.update(&addr.ip);
    ctx.update(&addr.port.to_be_bytes());
    ctx.finish().as_ref().to_vec()
}
