//! Laying out DER as fields: the walker and the primitives every annotator shares.

use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

use super::{parse_time, El, Items};

mod certificate;
mod crl;
mod csr;
mod extension;
mod name;

pub(crate) use certificate::*;
pub(crate) use extension::*;
pub(crate) use name::*;

pub use certificate::{annotate_certificate, annotate_ecdsa_signature};
pub use crl::annotate_crl;
pub use csr::annotate_csr;

/// A field's name key and explanation key.
pub(crate) type Label = (&'static str, &'static str);

/// The ASN.1 name of a tag, for header values.
pub(crate) fn tag_name(tag: u8) -> String {
    let universal = match tag {
        0x01 => "BOOLEAN",
        0x02 => "INTEGER",
        0x03 => "BIT STRING",
        0x04 => "OCTET STRING",
        0x05 => "NULL",
        0x06 => "OBJECT IDENTIFIER",
        0x0c => "UTF8String",
        0x13 => "PrintableString",
        0x16 => "IA5String",
        0x17 => "UTCTime",
        0x18 => "GeneralizedTime",
        0x1e => "BMPString",
        0x30 => "SEQUENCE",
        0x31 => "SET",
        _ if tag & 0xc0 == 0x80 => return format!("[{}]", tag & 0x1f),
        _ => return format!("0x{tag:02x}"),
    };
    universal.to_owned()
}

/// The explanation of a constructed element's header, by its tag.
pub(crate) fn header_explain(tag: u8) -> &'static str {
    match tag {
        0x30 => "pki.explain.der_header",
        0x31 => "pki.explain.der_header_set",
        0x03 => "pki.explain.der_header_bit_string",
        0x04 => "pki.explain.der_header_octet_string",
        0xa0..=0xbf => "pki.explain.der_header_explicit",
        _ => "pki.explain.der_header_other",
    }
}

/// The tag-and-length leaf of a constructed (or wrapping) element.
pub(crate) fn header(b: &mut FieldsBuilder, el: El, explain: &str, p: Protection) {
    let v = format!("{}, {} B", tag_name(el.tag), el.body().len());
    b.leaf(
        "pki.field.der_header",
        el.header,
        Some(Value::Text(v)),
        explain,
        p,
    );
}

/// Bytes that should be field `name` but do not decode as one: one leaf.
pub(crate) fn malformed(b: &mut FieldsBuilder, len: usize, name: &str, p: Protection) {
    b.leaf(name, len, None, "pki.explain.malformed", p);
}

/// A constructed element with tag `tag`: its header, then what `inner` takes of
/// its contents, then whatever `inner` left.
pub(crate) fn con<'a>(
    b: &mut FieldsBuilder,
    el: El<'a>,
    tag: u8,
    label: Label,
    p: Protection,
    inner: impl FnOnce(&mut FieldsBuilder, &mut Items<'a>),
) {
    con_hdr(b, el, tag, label, header_explain(tag), p, inner);
}

/// [`con`] with an explanation of the header other than the tag's usual one.
pub(crate) fn con_hdr<'a>(
    b: &mut FieldsBuilder,
    el: El<'a>,
    tag: u8,
    label: Label,
    hdr: &str,
    p: Protection,
    inner: impl FnOnce(&mut FieldsBuilder, &mut Items<'a>),
) {
    if el.tag != tag {
        return malformed(b, el.len(), label.0, p);
    }
    b.group(label.0, label.1, p, |b| {
        header(b, el, hdr, p);
        let mut it = Items::new(el.body());
        inner(b, &mut it);
        it.finish(b, p);
    });
}

/// A primitive element with tag `tag` as one leaf; `decode` gives its value, or
/// `None` if the contents are not what the field allows.
pub(crate) fn prim(
    b: &mut FieldsBuilder,
    el: El,
    tag: u8,
    label: Label,
    p: Protection,
    decode: impl FnOnce(&[u8]) -> Option<Option<Value>>,
) {
    match (el.tag == tag).then(|| decode(el.body())).flatten() {
        Some(v) => {
            b.leaf(label.0, el.len(), v, label.1, p);
        }
        None => malformed(b, el.len(), label.0, p),
    }
}

/// A string wrapped in a primitive element (BIT STRING or OCTET STRING): its
/// header, the unused-bits byte for a BIT STRING, then `content` lays out the rest.
pub(crate) fn wrapper<'a>(
    b: &mut FieldsBuilder,
    el: El<'a>,
    label: Label,
    group_p: Protection,
    p: Protection,
    content: impl FnOnce(&mut FieldsBuilder, &'a [u8]),
) {
    let body = el.body();
    let (unused, rest) = match (el.tag, body.split_first()) {
        (0x03, Some((u, rest))) if *u < 8 => (Some(*u), rest),
        (0x04, _) => (None, body),
        _ => return malformed(b, el.len(), label.0, p),
    };
    b.group(label.0, label.1, group_p, |b| {
        header(b, el, header_explain(el.tag), p);
        if let Some(u) = unused {
            let v = Some(Value::Uint(u64::from(u)));
            b.leaf("pki.field.unused_bits", 1, v, "pki.explain.unused_bits", p);
        }
        content(b, rest);
    });
}

/// `n` bytes as one leaf, unless there are none.
pub(crate) fn bytes(b: &mut FieldsBuilder, n: usize, label: Label, p: Protection) {
    if n > 0 {
        b.leaf(label.0, n, None, label.1, p);
    }
}

/// The protection of signature bytes: a signature, unless encrypted on the wire.
/// The subject's public key shows as key material unless it travels encrypted.
pub(crate) fn key_protection(p: Protection) -> Protection {
    if p == Protection::Encrypted {
        p
    } else {
        Protection::KeyMaterial
    }
}

pub(crate) fn sig_protection(p: Protection) -> Protection {
    if p == Protection::Encrypted {
        p
    } else {
        Protection::Signature
    }
}

// ---------------------------------------------------------------------------
// Values.

pub(crate) fn text(c: &[u8]) -> Value {
    Value::Text(String::from_utf8_lossy(c).into_owned())
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A non-negative INTEGER that fits in 64 bits.
pub(crate) fn uint(c: &[u8]) -> Option<u64> {
    let (&first, rest) = c.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    let digits = if first == 0 && !rest.is_empty() {
        rest
    } else {
        c
    };
    if digits.len() > 8 {
        return None;
    }
    Some(digits.iter().fold(0, |v, &x| (v << 8) | u64::from(x)))
}

pub(crate) fn boolean(c: &[u8]) -> Option<Option<Value>> {
    let v = match c {
        [0] => "FALSE",
        [_] => "TRUE",
        _ => return None,
    };
    Some(Some(Value::Text(v.into())))
}

pub(crate) fn hex_value(c: &[u8]) -> Option<Option<Value>> {
    (!c.is_empty()).then(|| Some(Value::Text(hex(c))))
}

/// The dotted form of an OBJECT IDENTIFIER's contents.
pub(crate) fn oid_dotted(c: &[u8]) -> Option<String> {
    if c.last()? & 0x80 != 0 {
        return None;
    }
    let mut arcs = Vec::new();
    let mut v: u64 = 0;
    for &x in c {
        v = v.checked_mul(128)? | u64::from(x & 0x7f);
        if x & 0x80 == 0 {
            arcs.push(v);
            v = 0;
        }
    }
    let (&first, rest) = arcs.split_first()?;
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut s = format!("{a}.{b}");
    for r in rest {
        s.push_str(&format!(".{r}"));
    }
    Some(s)
}

pub(crate) const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

pub(crate) const OID_ED25519: &str = "1.3.101.112";

pub(crate) const OID_RSA: &str = "1.2.840.113549.1.1.1";

pub(crate) const OID_EXTENSION_REQUEST: &str = "1.2.840.113549.1.9.14";

/// Known OIDs and their `pki.oid.*` keys.
pub(crate) const OIDS: &[(&str, &str)] = &[
    // Algorithms.
    (OID_ED25519, "pki.oid.ed25519"),
    ("1.3.101.113", "pki.oid.ed448"),
    ("1.3.101.110", "pki.oid.x25519"),
    ("1.2.840.10045.4.3.2", "pki.oid.ecdsa_with_sha256"),
    ("1.2.840.10045.4.3.3", "pki.oid.ecdsa_with_sha384"),
    ("1.2.840.10045.4.3.4", "pki.oid.ecdsa_with_sha512"),
    (OID_RSA, "pki.oid.rsa_encryption"),
    ("1.2.840.113549.1.1.5", "pki.oid.sha1_with_rsa"),
    ("1.2.840.113549.1.1.10", "pki.oid.rsassa_pss"),
    ("1.2.840.113549.1.1.11", "pki.oid.sha256_with_rsa"),
    ("1.2.840.113549.1.1.12", "pki.oid.sha384_with_rsa"),
    ("1.2.840.113549.1.1.13", "pki.oid.sha512_with_rsa"),
    (OID_EC_PUBLIC_KEY, "pki.oid.ec_public_key"),
    ("1.2.840.10045.3.1.7", "pki.oid.prime256v1"),
    ("1.3.132.0.34", "pki.oid.secp384r1"),
    ("1.3.132.0.35", "pki.oid.secp521r1"),
    // Name attributes.
    ("2.5.4.3", "pki.oid.common_name"),
    ("2.5.4.5", "pki.oid.serial_number"),
    ("2.5.4.6", "pki.oid.country_name"),
    ("2.5.4.7", "pki.oid.locality"),
    ("2.5.4.8", "pki.oid.state"),
    ("2.5.4.9", "pki.oid.street_address"),
    ("2.5.4.10", "pki.oid.organization_name"),
    ("2.5.4.11", "pki.oid.organizational_unit_name"),
    ("1.2.840.113549.1.9.1", "pki.oid.email_address"),
    ("0.9.2342.19200300.100.1.25", "pki.oid.domain_component"),
    // Extensions.
    ("2.5.29.14", "pki.oid.subject_key_identifier"),
    ("2.5.29.15", "pki.oid.key_usage"),
    ("2.5.29.17", "pki.oid.subject_alt_name"),
    ("2.5.29.19", "pki.oid.basic_constraints"),
    ("2.5.29.30", "pki.oid.name_constraints"),
    ("2.5.29.31", "pki.oid.crl_distribution_points"),
    ("2.5.29.32", "pki.oid.certificate_policies"),
    ("2.5.29.35", "pki.oid.authority_key_identifier"),
    ("2.5.29.37", "pki.oid.ext_key_usage"),
    ("1.3.6.1.5.5.7.1.1", "pki.oid.authority_info_access"),
    ("1.3.6.1.4.1.11129.2.4.2", "pki.oid.ct_scts"),
    // Key purposes.
    ("1.3.6.1.5.5.7.3.1", "pki.oid.server_auth"),
    ("1.3.6.1.5.5.7.3.2", "pki.oid.client_auth"),
    ("1.3.6.1.5.5.7.3.3", "pki.oid.code_signing"),
    ("1.3.6.1.5.5.7.3.4", "pki.oid.email_protection"),
    ("1.3.6.1.5.5.7.3.8", "pki.oid.time_stamping"),
    ("1.3.6.1.5.5.7.3.9", "pki.oid.ocsp_signing"),
    ("2.5.29.37.0", "pki.oid.any_extended_key_usage"),
    // PKCS#9 attributes.
    (OID_EXTENSION_REQUEST, "pki.oid.extension_request"),
    ("1.2.840.113549.1.9.7", "pki.oid.challenge_password"),
];

/// A known OID as its key, an unknown one as dotted text.
pub(crate) fn oid_value(dotted: &str) -> Value {
    match OIDS.iter().find(|(o, _)| *o == dotted) {
        Some((_, k)) => Value::Key((*k).to_owned()),
        None => Value::Text(dotted.to_owned()),
    }
}

/// An OBJECT IDENTIFIER leaf; returns the dotted OID.
pub(crate) fn oid(b: &mut FieldsBuilder, el: El, label: Label, p: Protection) -> Option<String> {
    let dotted = (el.tag == 0x06).then(|| oid_dotted(el.body())).flatten();
    prim(b, el, 0x06, label, p, |_| {
        dotted.as_deref().map(oid_value).map(Some)
    });
    dotted
}

/// The dotted OID an element's contents start with (to name it before laying it out).
pub(crate) fn first_oid(el: El) -> Option<String> {
    let first = Items::new(el.body()).next().filter(|e| e.tag == 0x06)?;
    oid_dotted(first.body())
}

/// An attribute value string; the explanation names its string type.
pub(crate) fn string(b: &mut FieldsBuilder, el: El, name: &'static str, p: Protection) {
    let explain = match el.tag {
        0x0c => "pki.explain.string_utf8",
        0x13 => "pki.explain.string_printable",
        0x16 => "pki.explain.string_ia5",
        0x1e => "pki.explain.string_bmp",
        0x12 | 0x14 | 0x1a | 0x1c => "pki.explain.string_other",
        _ => return malformed(b, el.len(), name, p),
    };
    prim(b, el, el.tag, (name, explain), p, |c| {
        if el.tag != 0x1e {
            return Some(Some(text(c)));
        }
        // BMPString: UTF-16BE.
        if c.len() % 2 != 0 {
            return None;
        }
        let units = c.chunks_exact(2).map(|u| match u {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]),
            _ => 0,
        });
        let s: String = char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        Some(Some(Value::Text(s)))
    });
}

/// An iPAddress GeneralName: IPv4 or IPv6, or an address and mask (name constraints).
pub(crate) fn ip(c: &[u8]) -> Option<Option<Value>> {
    let v4 = |c: &[u8]| -> Option<String> {
        let a: [u8; 4] = c.try_into().ok()?;
        Some(std::net::Ipv4Addr::from(a).to_string())
    };
    let v6 = |c: &[u8]| -> Option<String> {
        let a: [u8; 16] = c.try_into().ok()?;
        Some(std::net::Ipv6Addr::from(a).to_string())
    };
    let s = match c.len() {
        4 => v4(c)?,
        16 => v6(c)?,
        8 => format!("{}/{}", v4(c.get(..4)?)?, v4(c.get(4..)?)?),
        32 => format!("{}/{}", v6(c.get(..16)?)?, v6(c.get(16..)?)?),
        _ => return None,
    };
    Some(Some(Value::Text(s)))
}

/// An AlgorithmIdentifier; returns the algorithm's dotted OID.
pub(crate) fn algorithm(
    b: &mut FieldsBuilder,
    el: El,
    label: Label,
    p: Protection,
) -> Option<String> {
    let mut alg = None;
    con(b, el, 0x30, label, p, |b, it| {
        if let Some(e) = it.next() {
            alg = oid(b, e, ("pki.field.algorithm", "pki.explain.algorithm"), p);
        }
        if let Some(e) = it.next() {
            match e.tag {
                0x05 => {
                    let l = ("pki.field.alg_params", "pki.explain.alg_params_null");
                    prim(b, e, 0x05, l, p, |c| {
                        c.is_empty().then(|| Some(Value::Text("NULL".into())))
                    });
                }
                0x06 => {
                    oid(
                        b,
                        e,
                        ("pki.field.named_curve", "pki.explain.named_curve"),
                        p,
                    );
                }
                _ => {
                    let l = ("pki.field.alg_params", "pki.explain.alg_params");
                    bytes(b, e.len(), l, p);
                }
            }
        }
    });
    alg
}

/// A whole document: one SEQUENCE laid out by `inner`, then any trailing bytes;
/// anything else is one opaque leaf.
pub(crate) fn document<'a>(
    b: &mut FieldsBuilder,
    der: &'a [u8],
    label: Label,
    opaque: &str,
    p: Protection,
    inner: impl FnOnce(&mut FieldsBuilder, &mut Items<'a>),
) {
    let Some(el) = Items::new(der).opt(0x30) else {
        b.leaf(label.0, der.len(), None, opaque, p);
        return;
    };
    b.group(label.0, label.1, p, |b| {
        header(b, el, header_explain(0x30), p);
        let mut it = Items::new(el.body());
        inner(b, &mut it);
        it.finish(b, p);
        Items::new(der.get(el.len()..).unwrap_or_default()).finish(b, p);
    });
}
