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
//!
//! The reader ([`tlv`], [`validity`]) is here; the annotation, one file per thing
//! annotated, is in `annotate/` ([`annotate_certificate`], [`annotate_csr`],
//! [`annotate_ecdsa_signature`]).

mod annotate;

use cipherstage_transcript::{FieldsBuilder, Protection, Value};

use annotate::tag_name;

pub use annotate::{annotate_certificate, annotate_crl, annotate_csr, annotate_ecdsa_signature};

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
pub(crate) fn parse_time(tag: u8, s: &[u8]) -> Option<i64> {
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

/// One DER element with its bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct El<'a> {
    tag: u8,
    header: usize,
    all: &'a [u8],
}

impl<'a> El<'a> {
    pub(crate) fn body(&self) -> &'a [u8] {
        self.all.get(self.header..).unwrap_or_default()
    }

    pub(crate) fn len(&self) -> usize {
        self.all.len()
    }
}

/// A cursor over the consecutive elements of some DER contents.
pub(crate) struct Items<'a> {
    rest: &'a [u8],
}

impl<'a> Items<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Items { rest: data }
    }

    /// The next element, if what is left starts with a whole one.
    pub(crate) fn peek(&self) -> Option<El<'a>> {
        let t = tlv(self.rest).ok()?;
        Some(El {
            tag: t.tag,
            header: t.header,
            all: self.rest.get(..t.total())?,
        })
    }

    pub(crate) fn next(&mut self) -> Option<El<'a>> {
        let e = self.peek()?;
        self.rest = self.rest.get(e.len()..).unwrap_or_default();
        Some(e)
    }

    /// The next element if it has `tag` (an OPTIONAL field).
    pub(crate) fn opt(&mut self, tag: u8) -> Option<El<'a>> {
        if self.peek()?.tag == tag {
            self.next()
        } else {
            None
        }
    }

    /// Lays out whatever nobody took: whole elements one leaf each, then the
    /// bytes that do not parse as DER as one leaf.
    pub(crate) fn finish(mut self, b: &mut FieldsBuilder, p: Protection) {
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

#[cfg(test)]
mod tests;
