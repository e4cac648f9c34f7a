//! Annotating a certificate's DER field by field (RFC 5280 §4.1).
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
//!      ...
//!      extensions      [3]  EXPLICIT Extensions OPTIONAL }
//! ```
//! The top-level and TBSCertificate fields are broken down; names, keys and
//! extensions are leaves with their decoded summary. Anything that does not parse
//! becomes one opaque leaf, so annotation never fails and never panics.

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

/// Splits a SEQUENCE's contents into its elements.
fn elements(contents: &[u8], base: usize) -> Result<Vec<(usize, Tlv)>, DerError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < contents.len() {
        let rest = contents.get(at..).unwrap_or_default();
        let t = tlv(rest).map_err(|e| DerError {
            offset: base + at + e.offset,
        })?;
        out.push((at, t));
        at += t.total();
    }
    Ok(out)
}

fn contents(data: &[u8], t: Tlv) -> &[u8] {
    data.get(t.header..t.total()).unwrap_or_default()
}

/// The validity period (notBefore, notAfter) in seconds since the epoch.
pub fn validity(cert: &[u8]) -> Option<(i64, i64)> {
    let outer = tlv(cert).ok()?;
    let tbs_bytes = contents(cert, outer);
    let tbs = tlv(tbs_bytes).ok()?;
    let tbs_c = contents(tbs_bytes, tbs);
    let el = elements(tbs_c, 0).ok()?;
    let skip = usize::from(el.first()?.1.tag == 0xa0);
    let (at, v) = *el.get(skip + 3)?;
    let vb = tbs_c.get(at..at + v.total())?;
    let times = elements(contents(vb, v), 0).ok()?;
    let body = contents(vb, v);
    let t = |i: usize| -> Option<i64> {
        let (a, t) = *times.get(i)?;
        parse_time(t.tag, body.get(a + t.header..a + t.total())?)
    };
    Some((t(0)?, t(1)?))
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

/// The first commonName (OID 2.5.4.3) in a Name's bytes, if any.
fn common_name(name: &[u8]) -> Option<String> {
    let pos = name
        .windows(5)
        .position(|w| w == [0x06, 0x03, 0x55, 0x04, 0x03])?;
    let rest = name.get(pos + 5..)?;
    let t = tlv(rest).ok()?;
    Some(String::from_utf8_lossy(contents(rest, t)).into_owned())
}

const OID_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const OID_RSA_SHA256: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
];
const OID_ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

fn alg_value(alg: &[u8]) -> Option<Value> {
    let key = if alg.windows(OID_ED25519.len()).any(|w| w == OID_ED25519) {
        "pki.alg.ed25519"
    } else if alg
        .windows(OID_RSA_SHA256.len())
        .any(|w| w == OID_RSA_SHA256)
    {
        "pki.alg.sha256_with_rsa"
    } else if alg
        .windows(OID_ECDSA_SHA256.len())
        .any(|w| w == OID_ECDSA_SHA256)
    {
        "pki.alg.ecdsa_with_sha256"
    } else {
        return None;
    };
    Some(Value::Key(key.into()))
}

/// Lays out the fields of certificate `der` into `b`; never fails (an unparsable
/// certificate becomes one opaque leaf).
pub fn annotate_certificate(b: &mut FieldsBuilder, der: &[u8], p: Protection) {
    match certificate_fields(b.offset(), der, p) {
        Some(fields) => {
            b.group(
                "pki.field.certificate",
                "pki.explain.certificate",
                p,
                |inner| {
                    for f in fields {
                        push(inner, f);
                    }
                },
            );
        }
        None => {
            b.leaf(
                "pki.field.certificate",
                der.len(),
                None,
                "pki.explain.certificate_opaque",
                p,
            );
        }
    }
}

/// Re-emits a pre-built field into a builder (keeps offsets: they were built from the same start).
fn push(b: &mut FieldsBuilder, f: Field) {
    let len = f.end - f.start;
    if f.children.is_empty() {
        b.leaf(&f.name, len, f.value, &f.explain, f.protection);
    } else {
        b.group(&f.name, &f.explain, f.protection, |inner| {
            for c in f.children {
                push(inner, c);
            }
        });
    }
}

fn certificate_fields(start: usize, der: &[u8], p: Protection) -> Option<Vec<Field>> {
    let outer = tlv(der).ok()?;
    if outer.tag != 0x30 || outer.total() != der.len() {
        return None;
    }
    let body = contents(der, outer);
    let top = elements(body, 0).ok()?;
    if top.len() != 3 {
        return None;
    }
    let (tbs_at, tbs) = *top.first()?;
    let (alg_at, alg) = *top.get(1)?;
    let (sig_at, sig) = *top.get(2)?;
    let tbs_bytes = body.get(tbs_at..tbs_at + tbs.total())?;
    let tbs_c = contents(tbs_bytes, tbs);
    let el = elements(tbs_c, 0).ok()?;
    let has_version = el.first()?.1.tag == 0xa0;
    let names: &[(&str, &str)] = &[
        ("pki.field.serial", "pki.explain.serial"),
        ("pki.field.tbs_signature", "pki.explain.tbs_signature"),
        ("pki.field.issuer", "pki.explain.issuer"),
        ("pki.field.validity", "pki.explain.validity"),
        ("pki.field.subject", "pki.explain.subject"),
        ("pki.field.spki", "pki.explain.spki"),
    ];
    let mut b = FieldsBuilder::new(start);
    b.leaf(
        "pki.field.der_header",
        outer.header,
        None,
        "pki.explain.der_header",
        p,
    );
    b.group("pki.field.tbs", "pki.explain.tbs", p, |b| {
        b.leaf(
            "pki.field.der_header",
            tbs.header,
            None,
            "pki.explain.der_header",
            p,
        );
        let mut i = 0;
        for (at, t) in &el {
            let bytes = tbs_c.get(*at..*at + t.total()).unwrap_or_default();
            if i == 0 && has_version {
                let v = bytes.last().map(|v| Value::Uint(u64::from(*v) + 1));
                b.leaf("pki.field.version", t.total(), v, "pki.explain.version", p);
                i += 1;
                continue;
            }
            let idx = i - usize::from(has_version);
            i += 1;
            match names.get(idx) {
                Some(("pki.field.validity", explain)) => {
                    let inner = contents(bytes, *t);
                    let times = elements(inner, 0).unwrap_or_default();
                    if times.len() != 2 {
                        b.leaf("pki.field.validity", t.total(), None, explain, p);
                        continue;
                    }
                    b.group("pki.field.validity", explain, p, |b| {
                        b.leaf(
                            "pki.field.der_header",
                            t.header,
                            None,
                            "pki.explain.der_header",
                            p,
                        );
                        for ((a, tt), (name, ex)) in times.iter().zip([
                            ("pki.field.not_before", "pki.explain.not_before"),
                            ("pki.field.not_after", "pki.explain.not_after"),
                        ]) {
                            let s = inner.get(a + tt.header..a + tt.total()).unwrap_or_default();
                            let text = String::from_utf8_lossy(s).into_owned();
                            b.leaf(name, tt.total(), Some(Value::Text(text)), ex, p);
                        }
                    });
                }
                Some((name, explain)) => {
                    let value = match *name {
                        "pki.field.issuer" | "pki.field.subject" => {
                            common_name(bytes).map(Value::Text)
                        }
                        "pki.field.tbs_signature" | "pki.field.spki" => alg_value(bytes),
                        "pki.field.serial" => Some(Value::Text(hex(contents(bytes, *t)))),
                        _ => None,
                    };
                    b.leaf(name, t.total(), value, explain, p);
                }
                None => {
                    let (name, explain) = if t.tag == 0xa3 {
                        ("pki.field.extensions", "pki.explain.extensions")
                    } else {
                        ("pki.field.tbs_other", "pki.explain.tbs_other")
                    };
                    b.leaf(name, t.total(), None, explain, p);
                }
            }
        }
    });
    let _ = (alg_at, sig_at);
    let alg_bytes = body.get(alg_at..alg_at + alg.total())?;
    b.leaf(
        "pki.field.signature_algorithm",
        alg.total(),
        alg_value(alg_bytes),
        "pki.explain.signature_algorithm",
        p,
    );
    b.leaf(
        "pki.field.signature_value",
        sig.total(),
        None,
        "pki.explain.signature_value",
        Protection::Signature,
    );
    let fields = b.finish();
    if fields.last().map(|f| f.end) != Some(start + der.len()) {
        return None;
    }
    Some(fields)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pki;
    use cipherstage_transcript::rand::Seeded;

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
        }
        assert_eq!(validity(&p.www.der), Some((1_780_272_000, 1_811_808_000)));
        assert_eq!(
            validity(&p.www_expired.der),
            Some((1_748_736_000, 1_780_272_000))
        );
    }

    #[test]
    fn garbage_becomes_one_opaque_leaf_without_panicking() {
        let p = Pki::build(&mut Seeded::new(4)).unwrap();
        for cut in 0..p.www.der.len() {
            let mut b = FieldsBuilder::new(0);
            annotate_certificate(&mut b, &p.www.der[..cut], Protection::Plaintext);
            let f = b.finish();
            assert_eq!(f[0].end, cut);
        }
        let mut flipped = p.www.der.clone();
        for i in 0..flipped.len() {
            flipped[i] ^= 0xff;
            let mut b = FieldsBuilder::new(0);
            annotate_certificate(&mut b, &flipped, Protection::Plaintext);
            assert_eq!(b.finish()[0].end, flipped.len());
            flipped[i] ^= 0xff;
        }
    }
}
