//! The payloads' bodies (RFC 7296 §3.3–3.15): the typed [`Payload`], how each body is
//! read with a bounded [`Reader`] and written with a [`Writer`] that records every
//! byte's field. The generic header and the chain are the message's (`super`).

use cipherstage_transcript::{FieldsBuilder, Protection, Value};

use crate::codec::{DecodeError, DecodeErrorKind, Reader, Writer};
use crate::consts::{self, payload, transform};

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
