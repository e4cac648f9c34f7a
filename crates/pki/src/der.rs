//! Annotating certificates (RFC 5280 §4.1) and certificate signing requests
//! (PKCS#10, RFC 2986) down to their DER primitives.
//!
//! ```text
//! Certificate  ::=  SEQUENCE  {
//!      tbsCertificate       TBSCertificate,
//!      signatureAlgorithm   AlgorithmIdentifier,
//!      signatureValue       BIT STRING  }
//! TBSCertificate  ::=  SEQUENCE  {
//!      version         [0]  EXPLICIT Version DEFAULT v1,
//!      serialNumber         CertificateSerialNumber,
//!      signature            AlgorithmIdentifier,
//!      issuer               Name,
//!      validity             Validity,
//!      subject              Name,
//!      subjectPublicKeyInfo SubjectPublicKeyInfo,
//!      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
//!      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
//!      extensions      [3]  EXPLICIT Extensions OPTIONAL }
//! CertificationRequest ::= SEQUENCE {
//!      certificationRequestInfo SEQUENCE {
//!           version       INTEGER { v1(0) },
//!           subject       Name,
//!           subjectPKInfo SubjectPublicKeyInfo,
//!           attributes    [0] IMPLICIT SET OF Attribute },
//!      signatureAlgorithm AlgorithmIdentifier,
//!      signature          BIT STRING }
//! ```
//!
//! A small walker ([`Items`], `con`, `prim`) lays the tree out in wire order:
//! every constructed element is a group whose first leaf is its tag and length,
//! every primitive element is one leaf with its decoded value. Whatever does not
//! parse becomes one leaf covering exactly its bytes, at the lowest level where it
//! went wrong, so annotation never fails, never panics, and always covers its input
//! exactly once.

use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

/// One DER TLV: where its header ends and its contents end, relative to its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv {
    /// The tag byte.
    pub tag: u8,
    /// Length of tag + length octets.
    pub header: usize,
    /// Length of the contents.
    pub len: usize,
}

impl Tlv {
    /// Total length of the TLV.
    pub fn total(&self) -> usize {
        self.header + self.len
    }
}

/// Where and why DER does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerError {
    /// Byte offset of the fault.
    pub offset: usize,
}

/// Reads the TLV at the start of `data` (single-byte tags, definite lengths up to 3 octets).
pub fn tlv(data: &[u8]) -> Result<Tlv, DerError> {
    let tag = *data.first().ok_or(DerError { offset: 0 })?;
    let first = *data.get(1).ok_or(DerError { offset: 1 })?;
    let (header, len) = if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 3 {
            return Err(DerError { offset: 1 });
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *data.get(2 + i).ok_or(DerError { offset: 2 + i })? as usize;
        }
        (2 + n, len)
    };
    if data.len() < header + len {
        return Err(DerError { offset: data.len() });
    }
    Ok(Tlv { tag, header, len })
}

/// The validity period (notBefore, notAfter) in seconds since the epoch.
pub fn validity(cert: &[u8]) -> Option<(i64, i64)> {
    let outer = Items::new(cert).next()?;
    let tbs = Items::new(outer.body()).next()?;
    let mut it = Items::new(tbs.body());
    it.opt(0xa0);
    // serialNumber, signature, issuer.
    for _ in 0..3 {
        it.next()?;
    }
    let v = it.next()?;
    let mut times = Items::new(v.body());
    let (a, z) = (times.next()?, times.next()?);
    Some((parse_time(a.tag, a.body())?, parse_time(z.tag, z.body())?))
}

/// UTCTime (0x17) or GeneralizedTime (0x18) to seconds since the epoch.
fn parse_time(tag: u8, s: &[u8]) -> Option<i64> {
    let s = core::str::from_utf8(s).ok()?;
    let s = s.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let y: i64 = s.get(0..2)?.parse().ok()?;
            (if y >= 50 { 1900 + y } else { 2000 + y }, s.get(2..)?)
        }
        0x18 => (s.get(0..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |r: core::ops::Range<usize>| -> Option<i64> { rest.get(r)?.parse().ok() };
    let (mo, d, h, mi, se) = (n(0..2)?, n(2..4)?, n(4..6)?, n(6..8)?, n(8..10)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se)
}

// ---------------------------------------------------------------------------
// The walker.

/// A field's name key and explanation key.
type Label = (&'static str, &'static str);

/// One DER element with its bytes.
#[derive(Debug, Clone, Copy)]
struct El<'a> {
    tag: u8,
    header: usize,
    all: &'a [u8],
}

impl<'a> El<'a> {
    fn body(&self) -> &'a [u8] {
        self.all.get(self.header..).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.all.len()
    }
}

/// A cursor over the consecutive elements of some DER contents.
struct Items<'a> {
    rest: &'a [u8],
}

impl<'a> Items<'a> {
    fn new(data: &'a [u8]) -> Self {
        Items { rest: data }
    }

    /// The next element, if what is left starts with a whole one.
    fn peek(&self) -> Option<El<'a>> {
        let t = tlv(self.rest).ok()?;
        Some(El {
            tag: t.tag,
            header: t.header,
            all: self.rest.get(..t.total())?,
        })
    }

    fn next(&mut self) -> Option<El<'a>> {
        let e = self.peek()?;
        self.rest = self.rest.get(e.len()..).unwrap_or_default();
        Some(e)
    }

    /// The next element if it has `tag` (an OPTIONAL field).
    fn opt(&mut self, tag: u8) -> Option<El<'a>> {
        if self.peek()?.tag == tag {
            self.next()
        } else {
            None
        }
    }

    /// Lays out whatever nobody took: whole elements one leaf each, then the
    /// bytes that do not parse as DER as one leaf.
    fn finish(mut self, b: &mut FieldsBuilder, p: Protection) {
        while let Some(e) = self.next() {
            let v = Some(Value::Text(tag_name(e.tag)));
            b.leaf(
                "pki.field.der_extra",
                e.len(),
                v,
                "pki.explain.der_extra",
                p,
            );
        }
        if !self.rest.is_empty() {
            let n = self.rest.len();
            b.leaf(
                "pki.field.der_garbled",
                n,
                None,
                "pki.explain.der_garbled",
                p,
            );
        }
    }
}

/// The ASN.1 name of a tag, for header values.
fn tag_name(tag: u8) -> String {
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
fn header_explain(tag: u8) -> &'static str {
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
fn header(b: &mut FieldsBuilder, el: El, explain: &str, p: Protection) {
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
fn malformed(b: &mut FieldsBuilder, len: usize, name: &str, p: Protection) {
    b.leaf(name, len, None, "pki.explain.malformed", p);
}

/// A constructed element with tag `tag`: its header, then what `inner` takes of
/// its contents, then whatever `inner` left.
fn con<'a>(
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
fn con_hdr<'a>(
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
fn prim(
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
fn wrapper<'a>(
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
fn bytes(b: &mut FieldsBuilder, n: usize, label: Label, p: Protection) {
    if n > 0 {
        b.leaf(label.0, n, None, label.1, p);
    }
}

/// The protection of signature bytes: a signature, unless encrypted on the wire.
/// The subject's public key shows as key material unless it travels encrypted.
fn key_protection(p: Protection) -> Protection {
    if p == Protection::Encrypted {
        p
    } else {
        Protection::KeyMaterial
    }
}

fn sig_protection(p: Protection) -> Protection {
    if p == Protection::Encrypted {
        p
    } else {
        Protection::Signature
    }
}

// ---------------------------------------------------------------------------
// Values.

fn text(c: &[u8]) -> Value {
    Value::Text(String::from_utf8_lossy(c).into_owned())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A non-negative INTEGER that fits in 64 bits.
fn uint(c: &[u8]) -> Option<u64> {
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

fn boolean(c: &[u8]) -> Option<Option<Value>> {
    let v = match c {
        [0] => "FALSE",
        [_] => "TRUE",
        _ => return None,
    };
    Some(Some(Value::Text(v.into())))
}

fn hex_value(c: &[u8]) -> Option<Option<Value>> {
    (!c.is_empty()).then(|| Some(Value::Text(hex(c))))
}

/// The dotted form of an OBJECT IDENTIFIER's contents.
fn oid_dotted(c: &[u8]) -> Option<String> {
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

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EXTENSION_REQUEST: &str = "1.2.840.113549.1.9.14";

/// Known OIDs and their `pki.oid.*` keys.
const OIDS: &[(&str, &str)] = &[
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
fn oid_value(dotted: &str) -> Value {
    match OIDS.iter().find(|(o, _)| *o == dotted) {
        Some((_, k)) => Value::Key((*k).to_owned()),
        None => Value::Text(dotted.to_owned()),
    }
}

/// An OBJECT IDENTIFIER leaf; returns the dotted OID.
fn oid(b: &mut FieldsBuilder, el: El, label: Label, p: Protection) -> Option<String> {
    let dotted = (el.tag == 0x06).then(|| oid_dotted(el.body())).flatten();
    prim(b, el, 0x06, label, p, |_| {
        dotted.as_deref().map(oid_value).map(Some)
    });
    dotted
}

/// The dotted OID an element's contents start with (to name it before laying it out).
fn first_oid(el: El) -> Option<String> {
    let first = Items::new(el.body()).next().filter(|e| e.tag == 0x06)?;
    oid_dotted(first.body())
}

/// An attribute value string; the explanation names its string type.
fn string(b: &mut FieldsBuilder, el: El, name: &'static str, p: Protection) {
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
fn ip(c: &[u8]) -> Option<Option<Value>> {
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

/// keyUsage bits by name (RFC 5280 §4.2.1.3).
fn key_usage(c: &[u8]) -> Option<Option<Value>> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    let (&unused, bits) = c.split_first()?;
    if unused > 7 {
        return None;
    }
    let set: Vec<&str> = NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits.get(i / 8).is_some_and(|x| x & (0x80 >> (i % 8)) != 0))
        .map(|(_, n)| *n)
        .collect();
    let s = if set.is_empty() {
        "-".to_owned()
    } else {
        set.join(", ")
    };
    Some(Some(Value::Text(s)))
}

// ---------------------------------------------------------------------------
// X.509 structures.

/// An AlgorithmIdentifier; returns the algorithm's dotted OID.
fn algorithm(b: &mut FieldsBuilder, el: El, label: Label, p: Protection) -> Option<String> {
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

/// A Name: SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue).
fn name(b: &mut FieldsBuilder, el: El, label: Label, p: Protection) {
    con(b, el, 0x30, label, p, |b, it| {
        while let Some(rdn) = it.next() {
            con(
                b,
                rdn,
                0x31,
                ("pki.field.rdn", "pki.explain.rdn"),
                p,
                |b, it| {
                    while let Some(atv) = it.next() {
                        let l = ("pki.field.attribute", "pki.explain.attribute");
                        con(b, atv, 0x30, l, p, |b, it| {
                            if let Some(e) = it.next() {
                                let l = ("pki.field.attribute_type", "pki.explain.attribute_type");
                                oid(b, e, l, p);
                            }
                            if let Some(e) = it.next() {
                                string(b, e, "pki.field.attribute_value", p);
                            }
                        });
                    }
                },
            );
        }
    });
    // The collapsed Name reads as its common name.
    if let Some(f) = b.last_mut() {
        if let Some(cn) = common_name_of(f) {
            f.value = Some(cn);
        }
    }
}

/// The value of the first commonName attribute under a Name field.
fn common_name_of(f: &Field) -> Option<Value> {
    let is_cn = |a: &Field| {
        a.children.iter().any(|c| {
            c.name == "pki.field.attribute_type"
                && c.value == Some(Value::Key("pki.oid.common_name".into()))
        })
    };
    f.children
        .iter()
        .flat_map(|rdn| rdn.children.iter())
        .filter(|a| a.name == "pki.field.attribute" && is_cn(a))
        .find_map(|a| {
            a.children
                .iter()
                .find(|c| c.name == "pki.field.attribute_value")
                .and_then(|c| c.value.clone())
        })
}

fn validity_fields(b: &mut FieldsBuilder, el: El, p: Protection) {
    let time = |b: &mut FieldsBuilder, e: El, label: Label| {
        prim(b, e, e.tag, label, p, |c| {
            parse_time(e.tag, c).map(|_| Some(text(c)))
        });
    };
    con(
        b,
        el,
        0x30,
        ("pki.field.validity", "pki.explain.validity"),
        p,
        |b, it| {
            if let Some(e) = it.next() {
                time(b, e, ("pki.field.not_before", "pki.explain.not_before"));
            }
            if let Some(e) = it.next() {
                time(b, e, ("pki.field.not_after", "pki.explain.not_after"));
            }
        },
    );
}

/// SubjectPublicKeyInfo: the algorithm, then the key in a BIT STRING.
fn spki(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.spki", "pki.explain.spki"),
        p,
        |b, it| {
            let mut alg = None;
            if let Some(e) = it.next() {
                let l = ("pki.field.spki_algorithm", "pki.explain.spki_algorithm");
                alg = algorithm(b, e, l, p);
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.public_key", "pki.explain.public_key");
                wrapper(b, e, l, p, p, |b, key| {
                    public_key(b, alg.as_deref(), key, key_protection(p))
                });
            }
        },
    );
}

/// The key bits of a SubjectPublicKeyInfo, by algorithm.
fn public_key(b: &mut FieldsBuilder, alg: Option<&str>, key: &[u8], p: Protection) {
    let raw = ("pki.field.key_bytes", "pki.explain.key_bytes");
    match (alg, key) {
        (Some(OID_ED25519), k) if k.len() == 32 => {
            b.leaf(
                "pki.field.ed25519_key",
                32,
                None,
                "pki.explain.ed25519_key",
                p,
            );
        }
        (Some(OID_EC_PUBLIC_KEY), [form @ (2..=4), rest @ ..])
            if *form != 4 || (!rest.is_empty() && rest.len() % 2 == 0) =>
        {
            let (v, n) = if *form == 4 {
                ("pki.value.ec_uncompressed", rest.len() / 2)
            } else {
                ("pki.value.ec_compressed", rest.len())
            };
            let v = Some(Value::Key(v.into()));
            b.leaf(
                "pki.field.ec_point_form",
                1,
                v,
                "pki.explain.ec_point_form",
                p,
            );
            bytes(b, n, ("pki.field.ec_x", "pki.explain.ec_x"), p);
            if *form == 4 {
                bytes(b, n, ("pki.field.ec_y", "pki.explain.ec_y"), p);
            }
        }
        (Some(OID_RSA), k) => {
            let mut it = Items::new(k);
            match it.next() {
                Some(e) => rsa_key(b, e, p),
                None => bytes(b, k.len(), raw, p),
            }
            it.finish(b, p);
        }
        (_, k) => bytes(b, k.len(), raw, p),
    }
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
fn rsa_key(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.rsa_key", "pki.explain.rsa_key"),
        p,
        |b, it| {
            if let Some(e) = it.next() {
                let l = ("pki.field.rsa_modulus", "pki.explain.rsa_modulus");
                prim(b, e, 0x02, l, p, |c| {
                    let n = c.iter().position(|x| *x != 0)?;
                    let top = c.get(n)?;
                    let bits = (c.len() - n) * 8 - top.leading_zeros() as usize;
                    Some(Some(Value::Uint(bits as u64)))
                });
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.rsa_exponent", "pki.explain.rsa_exponent");
                prim(b, e, 0x02, l, p, |c| uint(c).map(|v| Some(Value::Uint(v))));
            }
        },
    );
}

/// A signature BIT STRING: header, unused bits, then the signature by algorithm.
fn signature(b: &mut FieldsBuilder, el: El, alg: Option<&str>, label: Label, p: Protection) {
    let sp = sig_protection(p);
    wrapper(b, el, label, sp, p, |b, sig| match alg {
        Some(a) if a.starts_with("1.2.840.10045.4.") => annotate_ecdsa_signature(b, sig, sp),
        Some(OID_ED25519) if sig.len() == 64 => {
            let l = ("pki.field.signature_bytes", "pki.explain.signature_ed25519");
            bytes(b, 64, l, sp);
        }
        _ => {
            let l = ("pki.field.signature_bytes", "pki.explain.signature_bytes");
            bytes(b, sig.len(), l, sp);
        }
    });
}

/// Lays out an ECDSA-Sig-Value (`SEQUENCE { r INTEGER, s INTEGER }`, as TLS and
/// X.509 carry ECDSA signatures) with every field protected as `p`; bytes that
/// are not one become one leaf. Never fails; covers exactly `sig`.
pub fn annotate_ecdsa_signature(b: &mut FieldsBuilder, sig: &[u8], p: Protection) {
    let mut it = Items::new(sig);
    let Some(e) = it.opt(0x30) else {
        let l = (
            "pki.field.ecdsa_signature",
            "pki.explain.ecdsa_signature_opaque",
        );
        return bytes(b, sig.len(), l, p);
    };
    let l = ("pki.field.ecdsa_signature", "pki.explain.ecdsa_signature");
    con(b, e, 0x30, l, p, |b, it| {
        let int = |c: &[u8]| (!c.is_empty() && c.len() <= 67).then_some(None);
        if let Some(e) = it.next() {
            prim(
                b,
                e,
                0x02,
                ("pki.field.ecdsa_r", "pki.explain.ecdsa_r"),
                p,
                int,
            );
        }
        if let Some(e) = it.next() {
            prim(
                b,
                e,
                0x02,
                ("pki.field.ecdsa_s", "pki.explain.ecdsa_s"),
                p,
                int,
            );
        }
    });
    it.finish(b, p);
}

/// The extensions this view decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ext {
    SubjectAltName,
    BasicConstraints,
    KeyUsage,
    ExtendedKeyUsage,
    SubjectKeyId,
    AuthorityKeyId,
}

impl Ext {
    fn from_oid(dotted: &str) -> Option<Ext> {
        Some(match dotted {
            "2.5.29.17" => Ext::SubjectAltName,
            "2.5.29.19" => Ext::BasicConstraints,
            "2.5.29.15" => Ext::KeyUsage,
            "2.5.29.37" => Ext::ExtendedKeyUsage,
            "2.5.29.14" => Ext::SubjectKeyId,
            "2.5.29.35" => Ext::AuthorityKeyId,
            _ => return None,
        })
    }

    fn label(self) -> Label {
        match self {
            Ext::SubjectAltName => (
                "pki.field.ext_subject_alt_name",
                "pki.explain.ext_subject_alt_name",
            ),
            Ext::BasicConstraints => (
                "pki.field.ext_basic_constraints",
                "pki.explain.ext_basic_constraints",
            ),
            Ext::KeyUsage => ("pki.field.ext_key_usage", "pki.explain.ext_key_usage"),
            Ext::ExtendedKeyUsage => (
                "pki.field.ext_ext_key_usage",
                "pki.explain.ext_ext_key_usage",
            ),
            Ext::SubjectKeyId => (
                "pki.field.ext_subject_key_identifier",
                "pki.explain.ext_subject_key_identifier",
            ),
            Ext::AuthorityKeyId => (
                "pki.field.ext_authority_key_identifier",
                "pki.explain.ext_authority_key_identifier",
            ),
        }
    }
}

/// Extensions ::= SEQUENCE OF Extension.
fn extension_list(b: &mut FieldsBuilder, el: El, p: Protection) {
    let l = ("pki.field.extension_list", "pki.explain.extension_list");
    con(b, el, 0x30, l, p, |b, it| {
        while let Some(e) = it.next() {
            extension(b, e, p);
        }
    });
}

/// Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
fn extension(b: &mut FieldsBuilder, el: El, p: Protection) {
    let kind = first_oid(el).as_deref().and_then(Ext::from_oid);
    let label = kind.map_or(("pki.field.extension", "pki.explain.extension"), Ext::label);
    con(b, el, 0x30, label, p, |b, it| {
        if let Some(e) = it.next() {
            oid(b, e, ("pki.field.extn_id", "pki.explain.extn_id"), p);
        }
        if let Some(e) = it.opt(0x01) {
            prim(
                b,
                e,
                0x01,
                ("pki.field.critical", "pki.explain.critical"),
                p,
                boolean,
            );
        }
        if let Some(e) = it.next() {
            let l = ("pki.field.extn_value", "pki.explain.extn_value");
            wrapper(b, e, l, p, p, |b, v| extension_value(b, kind, v, p));
        }
    });
}

/// The DER inside an extension's OCTET STRING.
fn extension_value(b: &mut FieldsBuilder, kind: Option<Ext>, v: &[u8], p: Protection) {
    let Some(kind) = kind else {
        let l = ("pki.field.extn_value_raw", "pki.explain.extn_value_raw");
        return bytes(b, v.len(), l, p);
    };
    let mut it = Items::new(v);
    if let Some(e) = it.next() {
        match kind {
            Ext::SubjectAltName => {
                let l = ("pki.field.general_names", "pki.explain.san_names");
                general_names(b, e, 0x30, l, p);
            }
            Ext::ExtendedKeyUsage => {
                let l = ("pki.field.key_purposes", "pki.explain.key_purposes");
                con(b, e, 0x30, l, p, |b, it| {
                    while let Some(e) = it.next() {
                        oid(
                            b,
                            e,
                            ("pki.field.key_purpose", "pki.explain.key_purpose"),
                            p,
                        );
                    }
                });
            }
            Ext::BasicConstraints => {
                let l = if e.body().is_empty() {
                    ("pki.field.bc_sequence", "pki.explain.bc_not_ca")
                } else {
                    ("pki.field.bc_sequence", "pki.explain.bc_sequence")
                };
                con(b, e, 0x30, l, p, |b, it| {
                    if let Some(e) = it.opt(0x01) {
                        prim(b, e, 0x01, ("pki.field.ca", "pki.explain.ca"), p, boolean);
                    }
                    if let Some(e) = it.opt(0x02) {
                        let l = ("pki.field.path_len", "pki.explain.path_len");
                        prim(b, e, 0x02, l, p, |c| uint(c).map(|v| Some(Value::Uint(v))));
                    }
                });
            }
            Ext::KeyUsage => {
                let l = ("pki.field.key_usage_bits", "pki.explain.key_usage_bits");
                prim(b, e, 0x03, l, p, key_usage);
            }
            Ext::SubjectKeyId => {
                let l = ("pki.field.key_identifier", "pki.explain.ski");
                prim(b, e, 0x04, l, p, hex_value);
            }
            Ext::AuthorityKeyId => {
                let l = ("pki.field.aki_sequence", "pki.explain.aki_sequence");
                con(b, e, 0x30, l, p, |b, it| {
                    if let Some(e) = it.opt(0x80) {
                        let l = ("pki.field.key_identifier", "pki.explain.aki_key_identifier");
                        prim(b, e, 0x80, l, p, hex_value);
                    }
                    if let Some(e) = it.opt(0xa1) {
                        let l = ("pki.field.aki_issuer", "pki.explain.aki_issuer");
                        general_names(b, e, 0xa1, l, p);
                    }
                    if let Some(e) = it.opt(0x82) {
                        let l = ("pki.field.aki_serial", "pki.explain.aki_serial");
                        prim(b, e, 0x82, l, p, hex_value);
                    }
                });
            }
        }
    }
    it.finish(b, p);
}

/// GeneralNames ::= SEQUENCE OF GeneralName (or IMPLICIT-tagged with `tag`).
fn general_names(b: &mut FieldsBuilder, el: El, tag: u8, label: Label, p: Protection) {
    let hdr = if tag == 0x30 {
        header_explain(tag)
    } else {
        "pki.explain.der_header_implicit"
    };
    con_hdr(b, el, tag, label, hdr, p, |b, it| {
        while let Some(e) = it.next() {
            general_name(b, e, p);
        }
    });
}

fn general_name(b: &mut FieldsBuilder, e: El, p: Protection) {
    let some_text = |c: &[u8]| Some(Some(text(c)));
    match e.tag {
        0x81 => prim(
            b,
            e,
            0x81,
            ("pki.field.email", "pki.explain.email"),
            p,
            some_text,
        ),
        0x82 => prim(
            b,
            e,
            0x82,
            ("pki.field.dns_name", "pki.explain.dns_name"),
            p,
            some_text,
        ),
        0x86 => prim(
            b,
            e,
            0x86,
            ("pki.field.uri", "pki.explain.uri"),
            p,
            some_text,
        ),
        0x87 => prim(
            b,
            e,
            0x87,
            ("pki.field.ip_address", "pki.explain.ip_address"),
            p,
            ip,
        ),
        0xa4 => {
            let l = ("pki.field.directory_name", "pki.explain.directory_name");
            con(b, e, 0xa4, l, p, |b, it| {
                if let Some(n) = it.next() {
                    name(b, n, ("pki.field.name", "pki.explain.name"), p);
                }
            });
        }
        _ => {
            let v = Some(Value::Text(tag_name(e.tag)));
            let (n, x) = ("pki.field.general_name", "pki.explain.general_name_other");
            b.leaf(n, e.len(), v, x, p);
        }
    }
}

/// A whole document: one SEQUENCE laid out by `inner`, then any trailing bytes;
/// anything else is one opaque leaf.
fn document<'a>(
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

/// Lays out the fields of certificate `der` into `b`, down to DER primitives;
/// never fails (an unparsable certificate becomes one opaque leaf).
pub fn annotate_certificate(b: &mut FieldsBuilder, der: &[u8], p: Protection) {
    let label = ("pki.field.certificate", "pki.explain.certificate");
    document(
        b,
        der,
        label,
        "pki.explain.certificate_opaque",
        p,
        |b, it| {
            if let Some(e) = it.next() {
                tbs_certificate(b, e, p);
            }
            let mut alg = None;
            if let Some(e) = it.next() {
                let l = (
                    "pki.field.signature_algorithm",
                    "pki.explain.signature_algorithm",
                );
                alg = algorithm(b, e, l, p);
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.signature_value", "pki.explain.signature_value");
                signature(b, e, alg.as_deref(), l, p);
            }
        },
    );
}

fn tbs_certificate(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.tbs", "pki.explain.tbs"),
        p,
        |b, it| {
            if let Some(e) = it.opt(0xa0) {
                con(
                    b,
                    e,
                    0xa0,
                    ("pki.field.version", "pki.explain.version"),
                    p,
                    |b, it| {
                        if let Some(e) = it.next() {
                            let l = ("pki.field.version_number", "pki.explain.version_number");
                            prim(b, e, 0x02, l, p, |c| {
                                uint(c).map(|v| Some(Value::Uint(v.saturating_add(1))))
                            });
                        }
                    },
                );
            }
            if let Some(e) = it.next() {
                prim(
                    b,
                    e,
                    0x02,
                    ("pki.field.serial", "pki.explain.serial"),
                    p,
                    hex_value,
                );
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.tbs_signature", "pki.explain.tbs_signature");
                algorithm(b, e, l, p);
            }
            if let Some(e) = it.next() {
                name(b, e, ("pki.field.issuer", "pki.explain.issuer"), p);
            }
            if let Some(e) = it.next() {
                validity_fields(b, e, p);
            }
            if let Some(e) = it.next() {
                name(b, e, ("pki.field.subject", "pki.explain.subject"), p);
            }
            if let Some(e) = it.next() {
                spki(b, e, p);
            }
            for (tag, l) in [
                (
                    0x81,
                    ("pki.field.issuer_unique_id", "pki.explain.unique_id"),
                ),
                (
                    0x82,
                    ("pki.field.subject_unique_id", "pki.explain.unique_id"),
                ),
            ] {
                if let Some(e) = it.opt(tag) {
                    bytes(b, e.len(), l, p);
                }
            }
            if let Some(e) = it.opt(0xa3) {
                let l = ("pki.field.extensions", "pki.explain.extensions");
                con(b, e, 0xa3, l, p, |b, it| {
                    if let Some(e) = it.next() {
                        extension_list(b, e, p);
                    }
                });
            }
        },
    );
}

/// Lays out the fields of PKCS#10 certificate signing request `der` into `b`,
/// down to DER primitives (an extensionRequest's extensions exactly as in a
/// certificate); never fails (an unparsable request becomes one opaque leaf).
pub fn annotate_csr(b: &mut FieldsBuilder, der: &[u8], p: Protection) {
    let label = ("pki.field.csr", "pki.explain.csr");
    document(b, der, label, "pki.explain.csr_opaque", p, |b, it| {
        if let Some(e) = it.next() {
            csr_info(b, e, p);
        }
        let mut alg = None;
        if let Some(e) = it.next() {
            let l = (
                "pki.field.signature_algorithm",
                "pki.explain.csr_signature_algorithm",
            );
            alg = algorithm(b, e, l, p);
        }
        if let Some(e) = it.next() {
            let l = ("pki.field.csr_signature", "pki.explain.csr_signature");
            signature(b, e, alg.as_deref(), l, p);
        }
    });
}

fn csr_info(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.csr_info", "pki.explain.csr_info"),
        p,
        |b, it| {
            if let Some(e) = it.next() {
                let l = ("pki.field.version", "pki.explain.csr_version");
                prim(b, e, 0x02, l, p, |c| {
                    uint(c).map(|v| Some(Value::Uint(v.saturating_add(1))))
                });
            }
            if let Some(e) = it.next() {
                name(b, e, ("pki.field.subject", "pki.explain.csr_subject"), p);
            }
            if let Some(e) = it.next() {
                spki(b, e, p);
            }
            if let Some(e) = it.opt(0xa0) {
                let l = ("pki.field.csr_attributes", "pki.explain.csr_attributes");
                con_hdr(
                    b,
                    e,
                    0xa0,
                    l,
                    "pki.explain.der_header_implicit",
                    p,
                    |b, it| {
                        while let Some(e) = it.next() {
                            csr_attribute(b, e, p);
                        }
                    },
                );
            }
        },
    );
}

/// Attribute ::= SEQUENCE { type OID, values SET OF ANY }.
fn csr_attribute(b: &mut FieldsBuilder, el: El, p: Protection) {
    let ext_request = first_oid(el).as_deref() == Some(OID_EXTENSION_REQUEST);
    let l = if ext_request {
        (
            "pki.field.extension_request",
            "pki.explain.extension_request",
        )
    } else {
        ("pki.field.csr_attribute", "pki.explain.csr_attribute")
    };
    con(b, el, 0x30, l, p, |b, it| {
        if let Some(e) = it.next() {
            let l = ("pki.field.attribute_type", "pki.explain.csr_attribute_type");
            oid(b, e, l, p);
        }
        if let Some(e) = it.next() {
            let l = ("pki.field.attribute_values", "pki.explain.attribute_values");
            con(b, e, 0x31, l, p, |b, it| {
                while let Some(e) = it.next() {
                    if ext_request {
                        extension_list(b, e, p);
                    } else {
                        let l = (
                            "pki.field.attribute_value",
                            "pki.explain.csr_attribute_value",
                        );
                        bytes(b, e.len(), l, p);
                    }
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pki;
    use cipherstage_transcript::rand::Seeded;
    use cipherstage_transcript::Field;

    /// Explanations of the leaves that mean "this did not parse as expected".
    const FALLBACK: &[&str] = &[
        "pki.explain.certificate_opaque",
        "pki.explain.csr_opaque",
        "pki.explain.malformed",
        "pki.explain.der_extra",
        "pki.explain.der_garbled",
        "pki.explain.ecdsa_signature_opaque",
        "pki.explain.extn_value_raw",
        "pki.explain.key_bytes",
        "pki.explain.signature_bytes",
        "pki.explain.general_name_other",
        "pki.explain.der_header_other",
    ];

    /// Checks that `fields` tile `start..end` exactly, recursively, with no empty leaf
    /// and no field without a name or an explanation.
    fn tiles(fields: &[Field], start: usize, end: usize) {
        let mut at = start;
        for f in fields {
            assert_eq!(f.start, at, "{} starts where the previous ended", f.name);
            assert!(
                f.end >= f.start && f.end <= end,
                "{} inside its parent",
                f.name
            );
            assert!(!f.name.is_empty() && !f.explain.is_empty());
            if f.children.is_empty() {
                assert!(
                    f.end > f.start || fields.len() == 1,
                    "empty leaf {}",
                    f.name
                );
            } else {
                tiles(&f.children, f.start, f.end);
            }
            at = f.end;
        }
        assert_eq!(at, end, "covered up to the end");
    }

    fn walk<'f>(fields: &'f [Field], out: &mut Vec<&'f Field>) {
        for f in fields {
            out.push(f);
            walk(&f.children, out);
        }
    }

    fn all(fields: &[Field]) -> Vec<&Field> {
        let mut out = Vec::new();
        walk(fields, &mut out);
        out
    }

    /// The values of every field named `name` under the group named `under`.
    fn values(fields: &[Field], under: &str, name: &str) -> Vec<Value> {
        all(fields)
            .into_iter()
            .filter(|g| g.name == under)
            .flat_map(|g| all(&g.children))
            .filter(|f| f.name == name)
            .filter_map(|f| f.value.clone())
            .collect()
    }

    fn annotated(der: &[u8], start: usize, csr: bool) -> Vec<Field> {
        let mut b = FieldsBuilder::new(start);
        if csr {
            annotate_csr(&mut b, der, Protection::Plaintext);
        } else {
            annotate_certificate(&mut b, der, Protection::Plaintext);
        }
        let f = b.finish();
        tiles(&f, start, start + der.len());
        f
    }

    /// Annotated fully: exact coverage and no leaf that is a fallback.
    fn clean(der: &[u8], csr: bool) -> Vec<Field> {
        let f = annotated(der, 5, csr);
        assert_eq!(f.len(), 1);
        for l in all(&f).into_iter().filter(|f| f.children.is_empty()) {
            assert!(
                !FALLBACK.contains(&l.explain.as_str()),
                "fallback leaf {} ({}) at {}",
                l.name,
                l.explain,
                l.start
            );
        }
        f
    }

    /// Every certificate of the PKI with its field name, found through `Debug` so
    /// certificates added to [`Pki`] later are covered without touching this test.
    fn certificates(p: &Pki) -> Vec<(String, Vec<u8>)> {
        let dbg = format!("{p:?}");
        let marker = ": Cert { der: [";
        let mut out = Vec::new();
        for (i, _) in dbg.match_indices(marker) {
            let name = dbg[..i]
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap()
                .to_owned();
            let rest = &dbg[i + marker.len()..];
            let list = &rest[..rest.find(']').unwrap()];
            let der = list.split(", ").map(|n| n.parse().unwrap()).collect();
            out.push((name, der));
        }
        out
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn key(s: &str) -> Value {
        Value::Key(s.into())
    }

    #[test]
    fn every_certificate_is_broken_down_to_primitives() {
        for seed in [1, 4, 9] {
            let p = Pki::build(&mut Seeded::new(seed)).unwrap();
            let certs = certificates(&p);
            let names: Vec<&str> = certs.iter().map(|(n, _)| n.as_str()).collect();
            for n in ["root", "intermediate", "www", "alice", "www_self_signed"] {
                assert!(names.contains(&n), "found {n} in {names:?}");
            }
            assert!(certs.len() >= 13, "found the certificates: {names:?}");
            for (n, der) in &certs {
                let f = clean(der, false);
                let names: Vec<&str> = f[0].children.iter().map(|c| c.name.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "pki.field.der_header",
                        "pki.field.tbs",
                        "pki.field.signature_algorithm",
                        "pki.field.signature_value"
                    ],
                    "{n}"
                );
                let sig = values(&f, "pki.field.signature_algorithm", "pki.field.algorithm");
                assert_eq!(sig, [key("pki.oid.ed25519")], "{n}: CAs sign with Ed25519");
                let cn = values(&f, "pki.field.subject", "pki.field.attribute_value");
                assert!(!cn.is_empty(), "{n}");
                // Every EC key is an uncompressed point split into 0x04, X and Y.
                let spki = all(&f)
                    .into_iter()
                    .find(|g| g.name == "pki.field.spki")
                    .unwrap();
                let alg = values(&f, "pki.field.spki_algorithm", "pki.field.algorithm");
                let key_names: Vec<(&str, usize)> = all(&spki.children)
                    .into_iter()
                    .filter(|l| l.children.is_empty())
                    .map(|l| (l.name.as_str(), l.end - l.start))
                    .skip_while(|(name, _)| *name != "pki.field.unused_bits")
                    .collect();
                if alg == [key("pki.oid.ec_public_key")] {
                    let curve = values(&f, "pki.field.spki_algorithm", "pki.field.named_curve");
                    assert_eq!(curve, [key("pki.oid.prime256v1")]);
                    assert_eq!(
                        key_names,
                        [
                            ("pki.field.unused_bits", 1),
                            ("pki.field.ec_point_form", 1),
                            ("pki.field.ec_x", 32),
                            ("pki.field.ec_y", 32)
                        ],
                        "{n}"
                    );
                } else {
                    assert_eq!(alg, [key("pki.oid.ed25519")], "{n}");
                    assert_eq!(
                        key_names,
                        [("pki.field.unused_bits", 1), ("pki.field.ed25519_key", 32)],
                        "{n}"
                    );
                }
            }
        }
    }

    #[test]
    fn decoded_values_read_like_the_certificate() {
        let p = Pki::build(&mut Seeded::new(4)).unwrap();
        let www = clean(&p.www.der, false);
        assert_eq!(
            values(&www, "pki.field.ext_subject_alt_name", "pki.field.dns_name"),
            [text("www.example.com"), text("example.com")]
        );
        assert_eq!(
            values(&www, "pki.field.subject", "pki.field.attribute_type"),
            [key("pki.oid.organization_name"), key("pki.oid.common_name")]
        );
        assert_eq!(
            values(&www, "pki.field.subject", "pki.field.attribute_value"),
            [text("cipherstage"), text("www.example.com")]
        );
        assert_eq!(
            values(&www, "pki.field.issuer", "pki.field.attribute_value"),
            [text("cipherstage"), text("cipherstage Intermediate CA")]
        );
        // Collapsed, a Name reads as its common name.
        let name_value = |n: &str| {
            all(&www)
                .into_iter()
                .find(|f| f.name == n)
                .and_then(|f| f.value.clone())
        };
        assert_eq!(
            name_value("pki.field.subject"),
            Some(text("www.example.com"))
        );
        assert_eq!(
            name_value("pki.field.issuer"),
            Some(text("cipherstage Intermediate CA"))
        );
        assert_eq!(
            values(&www, "pki.field.version", "pki.field.version_number"),
            [Value::Uint(3)]
        );
        assert_eq!(
            values(&www, "pki.field.tbs", "pki.field.serial"),
            [text("100a")]
        );
        assert_eq!(
            values(&www, "pki.field.validity", "pki.field.not_before"),
            [text("260601000000Z")]
        );
        assert_eq!(
            values(&www, "pki.field.ext_ext_key_usage", "pki.field.key_purpose"),
            [key("pki.oid.server_auth")]
        );
        assert_eq!(
            values(&www, "pki.field.ext_key_usage", "pki.field.key_usage_bits"),
            [text("digitalSignature")]
        );
        let alice = clean(&p.alice.der, false);
        assert_eq!(
            values(
                &alice,
                "pki.field.ext_ext_key_usage",
                "pki.field.key_purpose"
            ),
            [key("pki.oid.client_auth")]
        );
        let root = clean(&p.root.der, false);
        assert_eq!(
            values(&root, "pki.field.ext_basic_constraints", "pki.field.ca"),
            [text("TRUE")]
        );
        assert_eq!(
            values(&root, "pki.field.ext_key_usage", "pki.field.key_usage_bits"),
            [text("keyCertSign, cRLSign")]
        );
        assert!(values(
            &root,
            "pki.field.ext_basic_constraints",
            "pki.field.extn_id"
        )
        .contains(&key("pki.oid.basic_constraints")));
    }

    #[test]
    fn certificates_are_annotated_exactly_and_validity_parses() {
        let p = Pki::build(&mut Seeded::new(4)).unwrap();
        for c in [
            &p.root,
            &p.intermediate,
            &p.www,
            &p.alice,
            &p.www_self_signed,
        ] {
            let mut b = FieldsBuilder::new(7);
            annotate_certificate(&mut b, &c.der, Protection::Plaintext);
            let f = b.finish();
            assert_eq!(f.len(), 1);
            assert_eq!((f[0].start, f[0].end), (7, 7 + c.der.len()));
            assert_eq!(f[0].explain, "pki.explain.certificate", "broken down");
            let tbs = &f[0].children[1];
            let names: Vec<&str> = tbs.children.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "pki.field.der_header",
                    "pki.field.version",
                    "pki.field.serial",
                    "pki.field.tbs_signature",
                    "pki.field.issuer",
                    "pki.field.validity",
                    "pki.field.subject",
                    "pki.field.spki",
                    "pki.field.extensions"
                ]
            );
            // Signature bytes are a signature; everything else is as given.
            for l in all(&f).into_iter().filter(|l| l.children.is_empty()) {
                let sig = l.name == "pki.field.signature_bytes";
                assert_eq!(l.protection == Protection::Signature, sig, "{}", l.name);
            }
        }
        assert_eq!(validity(&p.www.der), Some((1_780_272_000, 1_811_808_000)));
        assert_eq!(
            validity(&p.www_expired.der),
            Some((1_748_736_000, 1_780_272_000))
        );
    }

    fn rcgen_ed25519(seed: u64) -> rcgen::KeyPair {
        let key = crate::Key::generate(&mut Seeded::new(seed)).unwrap();
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8);
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_ED25519).unwrap()
    }

    fn rcgen_p256() -> rcgen::KeyPair {
        use ring::rand::SystemRandom;
        use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .unwrap();
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from(doc.as_ref().to_vec());
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
    }

    fn csr(kp: &rcgen::KeyPair) -> Vec<u8> {
        let params = rcgen::CertificateParams::new(vec!["www.example.com".into()]).unwrap();
        params.serialize_request(kp).unwrap().der().to_vec()
    }

    #[test]
    fn a_csr_is_broken_down_with_its_requested_extensions() {
        let der = csr(&rcgen_ed25519(3));
        let f = clean(&der, true);
        let names: Vec<&str> = f[0].children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pki.field.der_header",
                "pki.field.csr_info",
                "pki.field.signature_algorithm",
                "pki.field.csr_signature"
            ]
        );
        let info: Vec<&str> = f[0].children[1]
            .children
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            info,
            [
                "pki.field.der_header",
                "pki.field.version",
                "pki.field.subject",
                "pki.field.spki",
                "pki.field.csr_attributes"
            ]
        );
        assert_eq!(
            values(&f, "pki.field.csr_info", "pki.field.version"),
            [Value::Uint(1)]
        );
        assert_eq!(
            values(
                &f,
                "pki.field.extension_request",
                "pki.field.attribute_type"
            ),
            [key("pki.oid.extension_request")]
        );
        assert_eq!(
            values(&f, "pki.field.extension_request", "pki.field.dns_name"),
            [text("www.example.com")]
        );
        // The same request signed with ECDSA P-256: the point and r, s are split.
        let der = csr(&rcgen_p256());
        let f = clean(&der, true);
        assert_eq!(
            values(&f, "pki.field.spki_algorithm", "pki.field.named_curve"),
            [key("pki.oid.prime256v1")]
        );
        let leaves: Vec<&str> = all(&f).into_iter().map(|l| l.name.as_str()).collect();
        for n in [
            "pki.field.ec_x",
            "pki.field.ec_y",
            "pki.field.ecdsa_r",
            "pki.field.ecdsa_s",
        ] {
            assert!(leaves.contains(&n), "{n}");
        }
        assert_eq!(
            values(&f, "pki.field.signature_algorithm", "pki.field.algorithm"),
            [key("pki.oid.ecdsa_with_sha256")]
        );
    }

    #[test]
    fn an_ecdsa_signature_is_split_into_r_and_s() {
        use ring::rand::SystemRandom;
        use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING as ALG};
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ALG, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(&ALG, doc.as_ref(), &rng).unwrap();
        let sig = kp.sign(&rng, b"hello").unwrap().as_ref().to_vec();
        let mut b = FieldsBuilder::new(4);
        annotate_ecdsa_signature(&mut b, &sig, Protection::Signature);
        let f = b.finish();
        tiles(&f, 4, 4 + sig.len());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].explain, "pki.explain.ecdsa_signature");
        let names: Vec<&str> = f[0].children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pki.field.der_header",
                "pki.field.ecdsa_r",
                "pki.field.ecdsa_s"
            ]
        );
        for c in &f[0].children[1..] {
            assert!((3..=35).contains(&(c.end - c.start)), "02 len r");
            assert_eq!(c.protection, Protection::Signature);
        }
        // Not an ECDSA-Sig-Value: one leaf; nothing: no field.
        for bad in [&sig[1..], &[0x02, 0x01, 0x05][..], &sig[..sig.len() - 1]] {
            let mut b = FieldsBuilder::new(0);
            annotate_ecdsa_signature(&mut b, bad, Protection::Signature);
            let f = b.finish();
            tiles(&f, 0, bad.len());
            assert_eq!(f.len(), 1);
            assert!(f[0].children.is_empty());
        }
        let mut b = FieldsBuilder::new(0);
        annotate_ecdsa_signature(&mut b, &[], Protection::Signature);
        assert!(b.finish().is_empty());
    }

    #[test]
    fn a_broken_extension_is_one_leaf_and_the_rest_still_breaks_down() {
        let p = Pki::build(&mut Seeded::new(4)).unwrap();
        let mut der = p.www.der.clone();
        // The tag of subjectAltName's SEQUENCE inside its OCTET STRING.
        let at = der
            .windows(5)
            .position(|w| w == [0x06, 0x03, 0x55, 0x1d, 0x11])
            .unwrap();
        let seq = at + 5 + 2;
        assert_eq!(der[seq], 0x30);
        der[seq] = 0x31;
        let f = annotated(&der, 0, false);
        let bad: Vec<&Field> = all(&f)
            .into_iter()
            .filter(|l| l.explain == "pki.explain.malformed")
            .collect();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].name, "pki.field.general_names");
        assert_eq!(
            values(&f, "pki.field.ext_ext_key_usage", "pki.field.key_purpose"),
            [key("pki.oid.server_auth")]
        );
        assert_eq!(
            values(&f, "pki.field.subject", "pki.field.attribute_value"),
            [text("cipherstage"), text("www.example.com")]
        );
    }

    #[test]
    fn primitive_values_decode() {
        let some = |s: &str| Some(Some(text(s)));
        assert_eq!(ip(&[10, 0, 0, 1]), some("10.0.0.1"));
        assert_eq!(
            ip(&[192, 168, 0, 0, 255, 255, 0, 0]),
            some("192.168.0.0/255.255.0.0")
        );
        let mut v6 = [0u8; 16];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[15] = 1;
        assert_eq!(ip(&v6), some("2001::1"));
        assert_eq!(ip(&[1, 2, 3]), None);
        assert_eq!(oid_dotted(&[0x2b, 0x65, 0x70]).unwrap(), "1.3.101.112");
        let ecdsa = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
        assert_eq!(oid_dotted(&ecdsa).unwrap(), "1.2.840.10045.4.3.2");
        assert_eq!(oid_dotted(&[0x88, 0x37, 0x03]).unwrap(), "2.999.3");
        assert_eq!(
            oid_dotted(&[0x2b, 0x86]),
            None,
            "cut in the middle of an arc"
        );
        assert_eq!(oid_dotted(&[]), None);
        assert_eq!(oid_dotted(&[0xff; 12]), None, "overflow");
        assert_eq!(oid_value("1.2.3.4"), text("1.2.3.4"));
        assert_eq!(oid_value("2.5.4.3"), key("pki.oid.common_name"));
        assert_eq!(key_usage(&[0x07, 0x80]), some("digitalSignature"));
        assert_eq!(key_usage(&[0x07, 0x00, 0x80]), some("decipherOnly"));
        assert_eq!(key_usage(&[0x08, 0x80]), None);
        assert_eq!(uint(&[0x00, 0xff]), Some(255));
        assert_eq!(uint(&[0x80]), None, "negative");
        assert_eq!(uint(&[0x00; 10]), None, "too long");
        assert_eq!(boolean(&[0xff]), some("TRUE"));
        assert_eq!(boolean(&[0x00]), some("FALSE"));
        assert_eq!(boolean(&[0x00, 0x00]), None);
        // A BMPString attribute value is UTF-16BE.
        let mut b = FieldsBuilder::new(0);
        let bmp = [0x1e, 0x04, 0x30, 0x42, 0x00, 0x41];
        let el = Items::new(&bmp).next().unwrap();
        string(
            &mut b,
            el,
            "pki.field.attribute_value",
            Protection::Plaintext,
        );
        let f = b.finish();
        assert_eq!(f[0].value, Some(text("あA")));
        assert_eq!(f[0].explain, "pki.explain.string_bmp");
    }

    #[test]
    fn garbage_becomes_one_opaque_leaf_without_panicking() {
        let p = Pki::build(&mut Seeded::new(4)).unwrap();
        for (der, csr) in [
            (p.www.der.clone(), false),
            (p.root.der.clone(), false),
            (csr(&rcgen_ed25519(3)), true),
            (csr(&rcgen_p256()), true),
        ] {
            for cut in 0..der.len() {
                let f = annotated(&der[..cut], 3, csr);
                assert_eq!(f.len(), 1);
            }
            let mut flipped = der.clone();
            for i in 0..flipped.len() {
                for x in [0xff, 0x01, 0x80] {
                    flipped[i] ^= x;
                    annotated(&flipped, 0, csr);
                    flipped[i] ^= x;
                }
            }
        }
        for p in [Protection::Plaintext, Protection::Encrypted] {
            let mut b = FieldsBuilder::new(0);
            annotate_certificate(&mut b, &[], p);
            assert_eq!(b.finish()[0].end, 0);
        }
        let f = annotated(&[0x02, 0x01, 0x00], 0, false);
        assert_eq!(f[0].explain, "pki.explain.certificate_opaque");
        let f = annotated(&[0x30, 0x00, 0x05], 0, true);
        assert_eq!(f[0].explain, "pki.explain.csr");
        assert_eq!(f[0].children[1].explain, "pki.explain.der_garbled");
    }
}
