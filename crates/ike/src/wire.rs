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

use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

use crate::codec::{protect, DecodeError, DecodeErrorKind, Reader, Writer};
use crate::consts::{self, payload, transform, HEADER_LEN, PAYLOAD_HEADER_LEN};
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

/// One transform of a proposal (§3.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transform {
    /// Transform type (ENCR, PRF, DH, ESN …).
    pub ty: u8,
    /// Transform id within its type.
    pub id: u16,
    /// The Key Length attribute, in bits, if present.
    pub key_bits: Option<u16>,
}

/// One proposal of an SA payload (§3.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Proposal number (1 for the first).
    pub num: u8,
    /// Security protocol id.
    pub protocol: u8,
    /// The sender's inbound SPI (empty for IKE in IKE_SA_INIT, 4 bytes for ESP).
    pub spi: Vec<u8>,
    /// The transforms, in order.
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// The transforms of type `ty`.
    pub fn of(&self, ty: u8) -> impl Iterator<Item = &Transform> {
        self.transforms.iter().filter(move |t| t.ty == ty)
    }
}

/// One IPv4 address-range traffic selector (§3.13.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    /// IP protocol (0: any).
    pub protocol: u8,
    /// First port.
    pub start_port: u16,
    /// Last port.
    pub end_port: u16,
    /// First address.
    pub start: [u8; 4],
    /// Last address.
    pub end: [u8; 4],
}

impl Selector {
    /// Every address, protocol and port.
    pub const ANY: Selector = Selector {
        protocol: 0,
        start_port: 0,
        end_port: 0xffff,
        start: [0; 4],
        end: [255; 4],
    };

    /// A single address, any protocol and port.
    pub fn host(a: [u8; 4]) -> Self {
        Selector {
            start: a,
            end: a,
            ..Selector::ANY
        }
    }

    /// The addresses of `net`/`prefix`, any protocol and port.
    pub fn subnet(net: [u8; 4], prefix: u8) -> Self {
        let n = u32::from_be_bytes(net);
        let mask = u32::MAX
            .checked_shl(32 - u32::from(prefix.min(32)))
            .unwrap_or(0);
        Selector {
            start: (n & mask).to_be_bytes(),
            end: (n | !mask).to_be_bytes(),
            ..Selector::ANY
        }
    }

    /// The part of `self` inside `other`, if any (narrowing, §2.9).
    pub fn intersect(&self, other: &Selector) -> Option<Selector> {
        let (a0, a1) = (u32::from_be_bytes(self.start), u32::from_be_bytes(self.end));
        let (b0, b1) = (
            u32::from_be_bytes(other.start),
            u32::from_be_bytes(other.end),
        );
        let (lo, hi) = (a0.max(b0), a1.min(b1));
        let (plo, phi) = (
            self.start_port.max(other.start_port),
            self.end_port.min(other.end_port),
        );
        let protocol = match (self.protocol, other.protocol) {
            (0, p) | (p, 0) => p,
            (p, q) if p == q => p,
            _ => return None,
        };
        (lo <= hi && plo <= phi).then_some(Selector {
            protocol,
            start_port: plo,
            end_port: phi,
            start: lo.to_be_bytes(),
            end: hi.to_be_bytes(),
        })
    }
}

/// A payload, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Security Association: the proposals (§3.3).
    Sa(Vec<Proposal>),
    /// Key Exchange: the DH group and the public value (§3.4).
    Ke {
        /// DH Group Num.
        group: u16,
        /// The public value.
        data: Vec<u8>,
    },
    /// Nonce (§3.9).
    Nonce(Vec<u8>),
    /// Notify (§3.10).
    Notify {
        /// Protocol id (0 for the IKE SA).
        protocol: u8,
        /// The SPI it concerns (usually empty).
        spi: Vec<u8>,
        /// Notify message type.
        ty: u16,
        /// Notification data.
        data: Vec<u8>,
    },
    /// Identification, IDi or IDr (§3.5).
    Id {
        /// IDi (true) or IDr.
        initiator: bool,
        /// ID type.
        ty: u8,
        /// Identification data.
        data: Vec<u8>,
    },
    /// Authentication (§3.8).
    Auth {
        /// Auth method.
        method: u8,
        /// Authentication data.
        data: Vec<u8>,
    },
    /// Configuration (§3.15).
    Cp {
        /// CFG type (request, reply …).
        ty: u8,
        /// Attributes: type and value.
        attrs: Vec<(u16, Vec<u8>)>,
    },
    /// Traffic selectors, TSi or TSr (§3.13).
    Ts {
        /// TSi (true) or TSr.
        initiator: bool,
        /// The selectors.
        selectors: Vec<Selector>,
    },
    /// Certificate (§3.6).
    Cert {
        /// Cert Encoding (4: X.509 Certificate - Signature).
        encoding: u8,
        /// The certificate (DER).
        data: Vec<u8>,
    },
    /// A payload we do not interpret (Vendor ID, CERTREQ …), kept as its body.
    Other {
        /// Its payload type.
        ty: u8,
        /// Its body.
        body: Vec<u8>,
    },
}

impl Payload {
    /// Its payload type.
    pub fn ty(&self) -> u8 {
        match self {
            Payload::Sa(_) => payload::SA,
            Payload::Ke { .. } => payload::KE,
            Payload::Nonce(_) => payload::NONCE,
            Payload::Notify { .. } => payload::NOTIFY,
            Payload::Id {
                initiator: true, ..
            } => payload::IDI,
            Payload::Id { .. } => payload::IDR,
            Payload::Auth { .. } => payload::AUTH,
            Payload::Cp { .. } => payload::CP,
            Payload::Ts {
                initiator: true, ..
            } => payload::TSI,
            Payload::Ts { .. } => payload::TSR,
            Payload::Cert { .. } => payload::CERT,
            Payload::Other { ty, .. } => *ty,
        }
    }

    /// A Notify about the IKE SA.
    pub fn notify(ty: u16, data: Vec<u8>) -> Payload {
        Payload::Notify {
            protocol: 0,
            spi: Vec::new(),
            ty,
            data,
        }
    }

    /// The body (after the generic header) with its fields.
    pub fn body(&self, p: Protection) -> Writer {
        let mut w = Writer::new();
        match self {
            Payload::Sa(proposals) => {
                for (i, prop) in proposals.iter().enumerate() {
                    let last = i + 1 == proposals.len();
                    w.group_valued(
                        "proposal",
                        p,
                        proposal_body(prop, last, p),
                        Some(Value::Uint(prop.num.into())),
                    );
                }
            }
            Payload::Ke { group, data } => {
                w.named(
                    "dh_group",
                    &group.to_be_bytes(),
                    consts::transform_id_key(transform::DH, *group),
                    p,
                );
                w.raw("reserved", &[0, 0], None, p);
                w.raw("ke_data", data, None, key_material(p));
            }
            Payload::Nonce(n) => w.raw("nonce_data", n, None, p),
            Payload::Notify {
                protocol,
                spi,
                ty,
                data,
            } => {
                w.named(
                    "protocol_id",
                    &[*protocol],
                    consts::protocol_key(*protocol),
                    p,
                );
                w.u8("spi_size", spi.len() as u8, p);
                w.named("notify_type", &ty.to_be_bytes(), consts::notify_key(*ty), p);
                if !spi.is_empty() {
                    w.hex("notify_spi", spi, p);
                }
                notify_data(&mut w, *ty, data, p);
            }
            Payload::Id { ty, data, .. } => {
                w.named("id_type", &[*ty], consts::id_type_key(*ty), p);
                w.raw("reserved", &[0; 3], None, p);
                id_data(&mut w, *ty, data, p);
            }
            Payload::Auth { method, data } => {
                w.named(
                    "auth_method",
                    &[*method],
                    consts::auth_method_key(*method),
                    p,
                );
                w.raw("reserved", &[0; 3], None, p);
                auth_data(&mut w, *method, data, p);
            }
            Payload::Cert { encoding, data } => {
                let key = if *encoding == crate::auth::X509_SIGNATURE {
                    "ike.value.cert_x509_signature"
                } else {
                    "ike.value.unknown"
                };
                w.named("cert_encoding", &[*encoding], key, p);
                let mut b = FieldsBuilder::new(0);
                cipherstage_pki::der::annotate_certificate(&mut b, data, p);
                w.described(data, b.finish());
            }
            Payload::Cp { ty, attrs } => {
                w.named("cfg_type", &[*ty], consts::cfg_type_key(*ty), p);
                w.raw("reserved", &[0; 3], None, p);
                for (t, v) in attrs {
                    let mut a = Writer::new();
                    a.named("attr_type", &t.to_be_bytes(), consts::cfg_attr_key(*t), p);
                    a.u16("attr_length", v.len() as u16, p);
                    if v.len() == 4 {
                        a.raw("attr_value", v, Some(Value::Text(ipv4(v))), p);
                    } else if !v.is_empty() {
                        a.raw("attr_value", v, None, p);
                    }
                    w.group("cfg_attribute", p, a);
                }
            }
            Payload::Ts { selectors, .. } => {
                w.u8("ts_count", selectors.len() as u8, p);
                w.raw("reserved", &[0; 3], None, p);
                for s in selectors {
                    let mut t = Writer::new();
                    t.named(
                        "ts_type",
                        &[consts::TS_IPV4_ADDR_RANGE],
                        "ike.value.ts_ipv4_addr_range",
                        p,
                    );
                    t.u8("ip_protocol", s.protocol, p);
                    t.u16("selector_length", 16, p);
                    t.u16("start_port", s.start_port, p);
                    t.u16("end_port", s.end_port, p);
                    t.raw("start_addr", &s.start, Some(Value::Text(ipv4(&s.start))), p);
                    t.raw("end_addr", &s.end, Some(Value::Text(ipv4(&s.end))), p);
                    w.group("selector", p, t);
                }
            }
            Payload::Other { body, .. } => w.raw("payload_body", body, None, p),
        }
        w
    }

    /// Reads the body of a payload of type `ty`.
    pub fn parse(ty: u8, mut r: Reader<'_>) -> Result<Payload, DecodeError> {
        let out = match ty {
            payload::SA => {
                let mut proposals = Vec::new();
                while !r.is_empty() {
                    if proposals.len() == consts::MAX_PROPOSALS {
                        return Err(r.error(DecodeErrorKind::TooMany));
                    }
                    proposals.push(parse_proposal(&mut r)?);
                }
                if proposals.is_empty() {
                    return Err(r.error(DecodeErrorKind::Malformed));
                }
                Payload::Sa(proposals)
            }
            payload::KE => {
                let group = r.u16()?;
                r.take(2)?;
                Payload::Ke {
                    group,
                    data: r.rest().to_vec(),
                }
            }
            payload::NONCE => {
                let n = r.rest();
                // §3.9: between 16 and 256 octets.
                if !(16..=256).contains(&n.len()) {
                    return Err(r.error(DecodeErrorKind::Malformed));
                }
                Payload::Nonce(n.to_vec())
            }
            payload::NOTIFY => {
                let protocol = r.u8()?;
                let spi_size = r.u8()?;
                let ty = r.u16()?;
                let spi = r.take(spi_size.into())?.to_vec();
                Payload::Notify {
                    protocol,
                    spi,
                    ty,
                    data: r.rest().to_vec(),
                }
            }
            payload::IDI | payload::IDR => {
                let id_ty = r.u8()?;
                r.take(3)?;
                Payload::Id {
                    initiator: ty == payload::IDI,
                    ty: id_ty,
                    data: r.rest().to_vec(),
                }
            }
            payload::CERT => {
                let encoding = r.u8()?;
                Payload::Cert {
                    encoding,
                    data: r.rest().to_vec(),
                }
            }
            payload::AUTH => {
                let method = r.u8()?;
                r.take(3)?;
                Payload::Auth {
                    method,
                    data: r.rest().to_vec(),
                }
            }
            payload::CP => {
                let cfg_ty = r.u8()?;
                r.take(3)?;
                let mut attrs = Vec::new();
                while !r.is_empty() {
                    if attrs.len() == consts::MAX_ITEMS {
                        return Err(r.error(DecodeErrorKind::TooMany));
                    }
                    let t = r.u16()? & 0x7fff;
                    let len = r.u16()?;
                    attrs.push((t, r.take(len.into())?.to_vec()));
                }
                Payload::Cp { ty: cfg_ty, attrs }
            }
            payload::TSI | payload::TSR => {
                let count = r.u8()?;
                r.take(3)?;
                if usize::from(count) > consts::MAX_ITEMS || count == 0 {
                    return Err(r.error(DecodeErrorKind::TooMany));
                }
                let mut selectors = Vec::new();
                for _ in 0..count {
                    let ts_ty = r.u8()?;
                    let protocol = r.u8()?;
                    let len = r.u16()?;
                    if ts_ty != consts::TS_IPV4_ADDR_RANGE || len != 16 {
                        // IPv6 and other selector types are not supported.
                        return Err(r.error(DecodeErrorKind::Malformed));
                    }
                    selectors.push(Selector {
                        protocol,
                        start_port: r.u16()?,
                        end_port: r.u16()?,
                        start: r.array()?,
                        end: r.array()?,
                    });
                }
                r.expect_empty()?;
                Payload::Ts {
                    initiator: ty == payload::TSI,
                    selectors,
                }
            }
            _ => Payload::Other {
                ty,
                body: r.rest().to_vec(),
            },
        };
        Ok(out)
    }
}

fn key_material(p: Protection) -> Protection {
    if p == Protection::Plaintext {
        Protection::KeyMaterial
    } else {
        p
    }
}

fn signature(p: Protection) -> Protection {
    if p == Protection::Encrypted {
        p
    } else {
        Protection::Signature
    }
}

/// Dotted-quad text of 4 bytes.
pub fn ipv4(b: &[u8]) -> String {
    match b {
        [a, b, c, d] => format!("{a}.{b}.{c}.{d}"),
        _ => String::new(),
    }
}

fn notify_data(w: &mut Writer, ty: u16, data: &[u8], p: Protection) {
    use consts::notify;
    match ty {
        notify::NAT_DETECTION_SOURCE_IP | notify::NAT_DETECTION_DESTINATION_IP => {
            w.raw("nat_hash", data, None, p)
        }
        notify::INVALID_KE_PAYLOAD if data.len() == 2 => {
            let g = u16::from_be_bytes([
                data.first().copied().unwrap_or(0),
                data.get(1).copied().unwrap_or(0),
            ]);
            w.named(
                "accepted_group",
                data,
                consts::transform_id_key(transform::DH, g),
                p,
            );
        }
        notify::SIGNATURE_HASH_ALGORITHMS if data.len().is_multiple_of(2) => {
            for c in data.chunks_exact(2) {
                let h = match c {
                    [a, b] => u16::from_be_bytes([*a, *b]),
                    _ => 0,
                };
                w.named("hash_algorithm", c, consts::hash_key(h), p);
            }
        }
        _ if data.is_empty() => {}
        _ => w.raw("notify_data", data, None, p),
    }
}

/// AUTH data: a MAC for a pre-shared key; for a digital signature (RFC 7427 §3) the
/// length and DER of the signature algorithm, then the signature.
fn auth_data(w: &mut Writer, method: u8, data: &[u8], p: Protection) {
    let sig_p = signature(p);
    let parts = data.split_first().and_then(|(&l, rest)| {
        rest.split_at_checked(usize::from(l))
            .map(|(a, s)| (l, a, s))
    });
    match parts {
        Some((l, alg, sig)) if method == consts::auth_method::DIGITAL_SIGNATURE => {
            w.u8("sig_alg_length", l, p);
            let key = if alg == crate::auth::ECDSA_SHA256 {
                "ike.value.ecdsa_with_sha256"
            } else {
                "ike.value.unknown"
            };
            w.named("sig_alg", alg, key, p);
            let mut b = FieldsBuilder::new(0);
            cipherstage_pki::der::annotate_ecdsa_signature(&mut b, sig, sig_p);
            let mut inner = Writer::new();
            inner.described(sig, b.finish());
            w.group("signature_value", sig_p, inner);
        }
        _ => w.raw("auth_data", data, None, sig_p),
    }
}

fn id_data(w: &mut Writer, ty: u8, data: &[u8], p: Protection) {
    let value = match ty {
        consts::id_type::IPV4_ADDR => Some(Value::Text(ipv4(data))),
        consts::id_type::FQDN | consts::id_type::RFC822_ADDR => {
            Some(Value::Text(String::from_utf8_lossy(data).into_owned()))
        }
        _ => None,
    };
    w.raw("id_data", data, value, p);
}

fn proposal_body(prop: &Proposal, last: bool, p: Protection) -> Writer {
    let mut transforms = Writer::new();
    for (i, t) in prop.transforms.iter().enumerate() {
        let mut tw = Writer::new();
        let tlast = i + 1 == prop.transforms.len();
        let len = 8 + if t.key_bits.is_some() { 4 } else { 0 };
        tw.named(
            "last_substruc",
            &[if tlast { 0 } else { 3 }],
            if tlast {
                "ike.value.last"
            } else {
                "ike.value.more_transforms"
            },
            p,
        );
        tw.raw("reserved", &[0], None, p);
        tw.u16("transform_length", len, p);
        tw.named(
            "transform_type",
            &[t.ty],
            consts::transform_type_key(t.ty),
            p,
        );
        tw.raw("reserved", &[0], None, p);
        tw.named(
            "transform_id",
            &t.id.to_be_bytes(),
            consts::transform_id_key(t.ty, t.id),
            p,
        );
        if let Some(bits) = t.key_bits {
            tw.named(
                "attr_type",
                &transform::ATTR_KEY_LENGTH.to_be_bytes(),
                "ike.value.attr_key_length",
                p,
            );
            tw.u16("key_length", bits, p);
        }
        transforms.group_valued(
            "transform",
            p,
            tw,
            Some(Value::Key(consts::transform_id_key(t.ty, t.id).to_owned())),
        );
    }
    let mut w = Writer::new();
    w.named(
        "last_substruc",
        &[if last { 0 } else { 2 }],
        if last {
            "ike.value.last"
        } else {
            "ike.value.more_proposals"
        },
        p,
    );
    w.raw("reserved", &[0], None, p);
    w.u16(
        "proposal_length",
        (8 + prop.spi.len() + transforms.len()) as u16,
        p,
    );
    w.u8("proposal_num", prop.num, p);
    w.named(
        "protocol_id",
        &[prop.protocol],
        consts::protocol_key(prop.protocol),
        p,
    );
    w.u8("spi_size", prop.spi.len() as u8, p);
    w.u8("num_transforms", prop.transforms.len() as u8, p);
    if !prop.spi.is_empty() {
        w.hex("proposal_spi", &prop.spi, p);
    }
    w.group("transforms", p, transforms);
    w
}

fn parse_proposal(r: &mut Reader<'_>) -> Result<Proposal, DecodeError> {
    let _last = r.u8()?;
    r.take(1)?;
    let len = r.u16()?;
    if len < 8 {
        return Err(r.error(DecodeErrorKind::Malformed));
    }
    let mut p = r.sub(usize::from(len) - 4)?;
    let num = p.u8()?;
    let protocol = p.u8()?;
    let spi_size = p.u8()?;
    let count = p.u8()?;
    if usize::from(count) > consts::MAX_TRANSFORMS {
        return Err(p.error(DecodeErrorKind::TooMany));
    }
    let spi = p.take(spi_size.into())?.to_vec();
    let mut transforms = Vec::new();
    for _ in 0..count {
        let _last = p.u8()?;
        p.take(1)?;
        let tlen = p.u16()?;
        if tlen < 8 {
            return Err(p.error(DecodeErrorKind::Malformed));
        }
        let mut t = p.sub(usize::from(tlen) - 4)?;
        let ty = t.u8()?;
        t.take(1)?;
        let id = t.u16()?;
        let mut key_bits = None;
        while !t.is_empty() {
            let at = t.u16()?;
            if at & 0x8000 != 0 {
                let v = t.u16()?;
                if at == transform::ATTR_KEY_LENGTH {
                    key_bits = Some(v);
                }
            } else {
                // A TLV attribute: skip its value.
                let l = t.u16()?;
                t.take(l.into())?;
            }
        }
        transforms.push(Transform { ty, id, key_bits });
    }
    p.expect_empty()?;
    Ok(Proposal {
        num,
        protocol,
        spi,
        transforms,
    })
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
