//! IKEv2 messages on the wire (RFC 7296 §3): the header, the payload chain and each
//! payload's body, read with a bounded [`Reader`] and written with a [`Writer`] that
//! records the field of every byte.
//!
//! ```text
//!                      1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       IKE SA Initiator's SPI                  |
//! |                       IKE SA Responder's SPI                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
//! |                          Message ID                           |
//! |                            Length                             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Each payload starts with the generic header (§3.2): Next Payload (1), C bit and
//! reserved (1), Payload Length (2), the length including these four bytes.
//!
//! No-panic contract: parsing never indexes received bytes; lengths are checked
//! against what is left before anything is allocated, and every list is capped
//! ([`crate::consts::MAX_PAYLOADS`] and friends).

mod body;

pub use body::{ipv4, Payload, Proposal, Selector, Transform};

use cipherstage_transcript::{Field, Protection};

use crate::codec::{protect, DecodeError, DecodeErrorKind, Reader, Writer};
use crate::consts::{self, payload, HEADER_LEN, PAYLOAD_HEADER_LEN};
use crate::crypto::{CryptoError, Encr, ICV_LEN, IV_LEN};

/// The IKE header (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// IKE SA Initiator's SPI.
    pub spi_i: [u8; 8],
    /// IKE SA Responder's SPI (zero in the first request).
    pub spi_r: [u8; 8],
    /// Type of the first payload.
    pub next: u8,
    /// Exchange type.
    pub exchange: u8,
    /// Flags (Initiator, Response).
    pub flags: u8,
    /// Message ID.
    pub message_id: u32,
    /// Length of the whole message.
    pub length: u32,
}

impl Header {
    /// Reads and checks the header at the start of `bytes`: version 2, a length equal
    /// to the datagram's.
    pub fn parse(bytes: &[u8]) -> Result<Header, DecodeError> {
        if bytes.len() > consts::MAX_MESSAGE {
            return Err(DecodeError {
                kind: DecodeErrorKind::TooMany,
                offset: consts::MAX_MESSAGE,
            });
        }
        let mut r = Reader::new(bytes, 0);
        let spi_i = r.array()?;
        let spi_r = r.array()?;
        let next = r.u8()?;
        let version = r.u8()?;
        if version >> 4 != 2 {
            return Err(DecodeError {
                kind: DecodeErrorKind::Malformed,
                offset: 17,
            });
        }
        let exchange = r.u8()?;
        let flags = r.u8()?;
        let message_id = r.u32()?;
        let length = r.u32()?;
        if length as usize != bytes.len() {
            return Err(DecodeError {
                kind: DecodeErrorKind::Malformed,
                offset: 24,
            });
        }
        Ok(Header {
            spi_i,
            spi_r,
            next,
            exchange,
            flags,
            message_id,
            length,
        })
    }

    /// Whether the Response flag is set.
    pub fn is_response(&self) -> bool {
        self.flags & consts::flags::RESPONSE != 0
    }

    fn emit(&self, w: &mut Writer, p: Protection) {
        let mut h = Writer::new();
        h.hex("spi_i", &self.spi_i, p);
        h.hex("spi_r", &self.spi_r, p);
        h.named(
            "next_payload",
            &[self.next],
            &consts::payload_key(self.next),
            p,
        );
        h.named("version", &[consts::VERSION], "ike.value.version_2_0", p);
        h.named(
            "exchange_type",
            &[self.exchange],
            consts::exchange_key(self.exchange),
            p,
        );
        h.named("flags", &[self.flags], flags_key(self.flags), p);
        h.u32("message_id", self.message_id, p);
        h.u32("length", self.length, p);
        w.group("header", p, h);
    }
}

fn flags_key(f: u8) -> &'static str {
    use consts::flags::{INITIATOR, RESPONSE};
    match (f & INITIATOR != 0, f & RESPONSE != 0) {
        (true, false) => "ike.value.flags_initiator_request",
        (true, true) => "ike.value.flags_initiator_response",
        (false, false) => "ike.value.flags_responder_request",
        (false, true) => "ike.value.flags_responder_response",
    }
}

/// Writes `payloads` as a chain: each with its generic header, naming the next.
fn chain(w: &mut Writer, payloads: &[Payload], p: Protection) {
    for (i, pl) in payloads.iter().enumerate() {
        let next = payloads.get(i + 1).map_or(payload::NONE, Payload::ty);
        let body = pl.body(p);
        let mut g = Writer::new();
        generic_header(&mut g, next, PAYLOAD_HEADER_LEN + body.len(), p);
        let (bytes, fields) = body.finish();
        g.described(&bytes, fields);
        w.group(&format!("payload_{}", consts::payload_id(pl.ty())), p, g);
    }
}

fn generic_header(w: &mut Writer, next: u8, len: usize, p: Protection) {
    w.named("next_payload", &[next], &consts::payload_key(next), p);
    w.named("critical", &[0], "ike.value.not_critical", p);
    w.u16("payload_length", len as u16, p);
}

/// Length of `payloads` as a chain.
fn chain_len(payloads: &[Payload]) -> usize {
    payloads
        .iter()
        .map(|p| PAYLOAD_HEADER_LEN + p.body(Protection::Plaintext).len())
        .sum()
}

/// A message in the clear (IKE_SA_INIT): the bytes and their field tree.
pub fn emit_plain(mut header: Header, payloads: &[Payload]) -> (Vec<u8>, Vec<Field>) {
    header.next = payloads.first().map_or(payload::NONE, Payload::ty);
    header.length = (HEADER_LEN + chain_len(payloads)) as u32;
    let mut w = Writer::new();
    header.emit(&mut w, Protection::Plaintext);
    chain(&mut w, payloads, Protection::Plaintext);
    w.finish()
}

/// A message whose payloads travel inside an SK payload (§3.14), sealed with `encr`
/// under key ‖ salt `keymat` and the explicit `iv`. The field tree shows the header and
/// the SK header as authenticated, and the ciphertext by the inner payloads it carries.
pub fn emit_encrypted(
    mut header: Header,
    inner: &[Payload],
    encr: Encr,
    keymat: &[u8],
    iv: [u8; IV_LEN],
) -> Result<(Vec<u8>, Vec<Field>), CryptoError> {
    let aad_p = Protection::IntegrityOnly;
    let enc_p = Protection::Encrypted;
    // Inner payloads, then no padding (an AEAD needs none) and the Pad Length byte.
    let mut plain = Writer::new();
    chain(&mut plain, inner, enc_p);
    plain.u8("pad_length", 0, enc_p);
    let (mut body, mut fields) = plain.finish();
    protect(&mut fields, enc_p);
    let sk_len = PAYLOAD_HEADER_LEN + IV_LEN + body.len() + ICV_LEN;
    header.next = payload::SK;
    header.length = (HEADER_LEN + sk_len) as u32;
    let mut w = Writer::new();
    header.emit(&mut w, aad_p);
    let mut sk = Writer::new();
    generic_header(
        &mut sk,
        inner.first().map_or(payload::NONE, Payload::ty),
        sk_len,
        aad_p,
    );
    // RFC 5282 §5.1: the AAD is the IKE header and the SK payload's generic header.
    let aad = [w.bytes(), sk.bytes()].concat();
    let icv = encr.seal(keymat, iv, &aad, &mut body)?;
    sk.raw("iv", &iv, None, aad_p);
    let mut enc = Writer::new();
    enc.described(&body, fields);
    sk.group("encrypted", enc_p, enc);
    sk.raw("icv", &icv, None, Protection::Signature);
    w.group("payload_sk", aad_p, sk);
    Ok(w.finish())
}

/// A received message: its header and its payloads (decrypted, if it had an SK payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The header.
    pub header: Header,
    /// The payloads in order (those inside SK follow any before it).
    pub payloads: Vec<Payload>,
    /// Whether the payloads came from an SK payload.
    pub encrypted: bool,
}

/// Why a received message was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// It does not parse.
    Decode(DecodeError),
    /// The SK payload's ICV did not verify: dropped silently (§2.21.2, §3.14).
    Integrity,
}

impl From<DecodeError> for ReadError {
    fn from(e: DecodeError) -> Self {
        ReadError::Decode(e)
    }
}

/// Reads the payload chain starting with type `first`; an SK payload is returned as
/// its position (start of its generic header) and first inner type, and must be last.
fn parse_chain(
    first: u8,
    r: &mut Reader<'_>,
    out: &mut Vec<Payload>,
) -> Result<Option<(usize, u8)>, DecodeError> {
    let mut next = first;
    while next != payload::NONE {
        if out.len() >= consts::MAX_PAYLOADS {
            return Err(r.error(DecodeErrorKind::TooMany));
        }
        let at = r.offset();
        let ty = next;
        next = r.u8()?;
        let critical = r.u8()? & 0x80 != 0;
        let len = usize::from(r.u16()?);
        if len < PAYLOAD_HEADER_LEN {
            return Err(r.error(DecodeErrorKind::Malformed));
        }
        let body = r.sub(len - PAYLOAD_HEADER_LEN)?;
        if ty == payload::SK {
            r.expect_empty()?;
            return Ok(Some((at, next)));
        }
        let known = matches!(ty, payload::SA..=payload::CP);
        if !known && critical {
            return Err(DecodeError {
                kind: DecodeErrorKind::UnsupportedCritical(ty),
                offset: at,
            });
        }
        out.push(Payload::parse(ty, body)?);
    }
    r.expect_empty()?;
    Ok(None)
}

/// Reads a whole message; if it carries an SK payload, opens it with `keys`
/// (`encr` and the peer's key ‖ salt) — without keys an SK payload is an error.
pub fn parse(bytes: &[u8], keys: Option<(Encr, &[u8])>) -> Result<Parsed, ReadError> {
    let header = Header::parse(bytes)?;
    let mut r = Reader::new(bytes, 0);
    r.take(HEADER_LEN)?;
    let mut payloads = Vec::new();
    let Some((sk_at, inner_first)) = parse_chain(header.next, &mut r, &mut payloads)? else {
        return Ok(Parsed {
            header,
            payloads,
            encrypted: false,
        });
    };
    let Some((encr, keymat)) = keys else {
        return Err(ReadError::Integrity);
    };
    let aad_end = sk_at + PAYLOAD_HEADER_LEN;
    let aad = bytes.get(..aad_end).ok_or(DecodeError {
        kind: DecodeErrorKind::Truncated,
        offset: sk_at,
    })?;
    let mut sk = Reader::new(bytes.get(aad_end..).unwrap_or(&[]), aad_end);
    let iv = sk.array::<IV_LEN>()?;
    let rest = sk.rest();
    if rest.len() < ICV_LEN + 1 {
        return Err(sk.error(DecodeErrorKind::Truncated).into());
    }
    let plain = encr
        .open(keymat, iv, aad, rest)
        .map_err(|_| ReadError::Integrity)?;
    let (pad_len, before) = plain.split_last().ok_or(DecodeError {
        kind: DecodeErrorKind::Truncated,
        offset: aad_end + IV_LEN,
    })?;
    let inner_len = before
        .len()
        .checked_sub(usize::from(*pad_len))
        .ok_or(DecodeError {
            kind: DecodeErrorKind::Malformed,
            offset: aad_end + IV_LEN + before.len(),
        })?;
    let inner = before.get(..inner_len).unwrap_or(&[]);
    let mut ir = Reader::new(inner, aad_end + IV_LEN);
    if parse_chain(inner_first, &mut ir, &mut payloads)?.is_some() {
        // An SK payload inside an SK payload.
        return Err(ReadError::Decode(ir.error(DecodeErrorKind::Malformed)));
    }
    Ok(Parsed {
        header,
        payloads,
        encrypted: true,
    })
}
