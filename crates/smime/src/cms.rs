//! CMS SignedData (RFC 5652) with one ECDSA P-256 signer using SHA-256 (RFC 5753,
//! RFC 5754), detached content.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }
//! SignedData ::= SEQUENCE {
//!      version 1, digestAlgorithms SET OF AlgorithmIdentifier,
//!      encapContentInfo SEQUENCE { eContentType id-data },   -- detached: no eContent
//!      certificates [0] IMPLICIT SET OF Certificate,
//!      signerInfos SET OF SignerInfo }
//! SignerInfo ::= SEQUENCE {
//!      version 1, sid IssuerAndSerialNumber, digestAlgorithm sha256,
//!      signedAttrs [0] IMPLICIT SET OF Attribute,
//!      signatureAlgorithm ecdsa-with-SHA256,
//!      signature OCTET STRING }  -- DER ECDSA-Sig-Value ::= SEQUENCE { r, s INTEGER }
//! ```

use cipherstage_pki::{Key, KeyKind};
use cipherstage_transcript::rand::RandomSource;
use ring::digest::{digest, SHA256};

use crate::der::{alg, cat, seq, single, tlv, Items};

/// id-signedData, 1.2.840.113549.1.7.2.
pub const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// id-data, 1.2.840.113549.1.7.1.
pub const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// id-sha256, 2.16.840.1.101.3.4.2.1.
pub const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// ecdsa-with-SHA256, 1.2.840.10045.4.3.2.
pub const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// id-contentType, 1.2.840.113549.1.9.3.
pub const OID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
/// id-messageDigest, 1.2.840.113549.1.9.4.
pub const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// id-signingTime, 1.2.840.113549.1.9.5.
pub const OID_SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];

/// Why a signature could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// The signer's certificate does not parse.
    Certificate,
    /// The key refused to sign.
    Key,
}

/// The issuer Name and serialNumber INTEGER of a certificate, as DER elements.
pub fn issuer_and_serial(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let c = single(cert, 0x30)?;
    let tbs = Items::new(c.body()).expect(0x30)?;
    let mut it = Items::new(tbs.body());
    it.expect(0xa0);
    let serial = it.expect(0x02)?;
    it.expect(0x30)?;
    let issuer = it.expect(0x30)?;
    Some((issuer.all, serial.all))
}

/// `secs` since the epoch as UTCTime contents (`YYMMDDhhmmssZ`, years 1950–2049).
pub fn utc_time(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil(days);
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        y % 100,
        m,
        d,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 as (year, month, day) (H. Hinnant's algorithm).
pub(crate) fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

fn attribute(oid: &[u8], value: &[u8]) -> Vec<u8> {
    seq(&[&tlv(0x06, oid), &tlv(0x31, value)])
}

/// The signed attributes' contents: contentType id-data, signingTime, messageDigest
/// (SHA-256 of `content`), sorted as DER orders a SET OF.
pub fn signed_attributes(content: &[u8], time: u64) -> Vec<u8> {
    let md = digest(&SHA256, content);
    let mut attrs = [
        attribute(OID_CONTENT_TYPE, &tlv(0x06, OID_DATA)),
        attribute(OID_MESSAGE_DIGEST, &tlv(0x04, md.as_ref())),
        attribute(OID_SIGNING_TIME, &tlv(0x17, utc_time(time).as_bytes())),
    ];
    attrs.sort();
    attrs.concat()
}

/// A detached SignedData over `content`, signed by `key` (ECDSA P-256, whose
/// certificate is `signer`; the signature's nonce comes from `rng`), carrying
/// `signer` and then `extra` certificates.
pub fn sign(
    content: &[u8],
    signer: &[u8],
    extra: &[&[u8]],
    key: &Key,
    time: u64,
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>, SignError> {
    let (issuer, serial) = issuer_and_serial(signer).ok_or(SignError::Certificate)?;
    let attrs = signed_attributes(content, time);
    // RFC 5652 §5.4: the signature covers the attributes as an explicit SET OF.
    if key.kind != KeyKind::EcdsaP256 {
        return Err(SignError::Key);
    }
    let sig = key
        .sign(&tlv(0x31, &attrs), rng)
        .map_err(|_| SignError::Key)?;
    let signer_info = seq(&[
        &tlv(0x02, &[1]),
        &seq(&[issuer, serial]),
        &alg(OID_SHA256),
        &tlv(0xa0, &attrs),
        &alg(OID_ECDSA_SHA256),
        &tlv(0x04, &sig),
    ]);
    let mut certs = signer.to_vec();
    for c in extra {
        certs.extend_from_slice(c);
    }
    let signed_data = seq(&[
        &tlv(0x02, &[1]),
        &tlv(0x31, &alg(OID_SHA256)),
        &seq(&[&tlv(0x06, OID_DATA)]),
        &tlv(0xa0, &certs),
        &tlv(0x31, &signer_info),
    ]);
    Ok(seq(&[
        &tlv(0x06, OID_SIGNED_DATA),
        &tlv(0xa0, &signed_data),
    ]))
}

/// A SignedData as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The certificates it carries, DER, in order.
    pub certificates: Vec<Vec<u8>>,
    /// The signer's issuer Name (DER).
    pub issuer: Vec<u8>,
    /// The signer's serialNumber (the whole INTEGER element).
    pub serial: Vec<u8>,
    /// The SignerInfo's digestAlgorithm OID.
    pub digest_alg: Vec<u8>,
    /// The contents of signedAttrs (re-tag them 0x31 to check the signature).
    pub signed_attrs: Vec<u8>,
    /// The contentType attribute's OID.
    pub content_type: Option<Vec<u8>>,
    /// The messageDigest attribute.
    pub message_digest: Option<Vec<u8>>,
    /// The signingTime attribute's text.
    pub signing_time: Option<String>,
    /// The signatureAlgorithm OID.
    pub sig_alg: Vec<u8>,
    /// The signature.
    pub signature: Vec<u8>,
}

/// The OID of an AlgorithmIdentifier (parameters absent or NULL).
fn alg_oid(el: &[u8]) -> Option<Vec<u8>> {
    let a = single(el, 0x30)?;
    let mut it = Items::new(a.body());
    let oid = it.expect(0x06)?;
    it.expect(0x05);
    it.done().then(|| oid.body().to_vec())
}

/// Reads a detached SignedData with exactly one SignerInfo (issuerAndSerialNumber).
pub fn parse(der: &[u8]) -> Option<Parsed> {
    let ci = single(der, 0x30)?;
    let mut it = Items::new(ci.body());
    if it.expect(0x06)?.body() != OID_SIGNED_DATA {
        return None;
    }
    let explicit = it.expect(0xa0)?;
    if !it.done() {
        return None;
    }
    let sd = single(explicit.body(), 0x30)?;
    let mut it = Items::new(sd.body());
    let version = it.expect(0x02)?;
    if !matches!(version.body(), [1] | [3]) {
        return None;
    }
    // digestAlgorithms: well-formed AlgorithmIdentifiers, SHA-256 among them.
    let algs = it.expect(0x31)?;
    let mut a = Items::new(algs.body());
    let mut sha256 = false;
    while !a.done() {
        sha256 |= alg_oid(a.expect(0x30)?.all)? == OID_SHA256;
    }
    if !sha256 {
        return None;
    }
    let encap = it.expect(0x30)?;
    let mut e = Items::new(encap.body());
    if e.expect(0x06)?.body() != OID_DATA || !e.done() {
        // Only detached id-data content: the signed text is the MIME part.
        return None;
    }
    let mut certificates = Vec::new();
    if let Some(certs) = it.expect(0xa0) {
        let mut c = Items::new(certs.body());
        while let Some(cert) = c.next_el() {
            if cert.tag == 0x30 {
                certificates.push(cert.all.to_vec());
            }
        }
        if !c.done() {
            return None;
        }
    }
    it.expect(0xa1);
    let infos = it.expect(0x31)?;
    if !it.done() {
        return None;
    }
    let si = single(infos.body(), 0x30)?;
    let mut s = Items::new(si.body());
    if s.expect(0x02)?.body() != [1] {
        return None;
    }
    let sid = s.expect(0x30)?;
    let mut sid_it = Items::new(sid.body());
    let issuer = sid_it.expect(0x30)?;
    let serial = sid_it.expect(0x02)?;
    if !sid_it.done() {
        return None;
    }
    let digest_alg = alg_oid(s.expect(0x30)?.all)?;
    let attrs = s.expect(0xa0)?;
    let sig_alg = alg_oid(s.expect(0x30)?.all)?;
    let signature = s.expect(0x04)?;
    s.expect(0xa1);
    if !s.done() {
        return None;
    }
    let mut p = Parsed {
        certificates,
        issuer: issuer.all.to_vec(),
        serial: serial.all.to_vec(),
        digest_alg,
        signed_attrs: attrs.body().to_vec(),
        content_type: None,
        message_digest: None,
        signing_time: None,
        sig_alg,
        signature: signature.body().to_vec(),
    };
    let mut a = Items::new(attrs.body());
    while let Some(attr) = a.next_el() {
        let mut at = Items::new(attr.body());
        let oid = at.expect(0x06)?;
        let values = at.expect(0x31)?;
        let mut v = Items::new(values.body());
        let first = v.next_el()?;
        match oid.body() {
            OID_CONTENT_TYPE if first.tag == 0x06 => p.content_type = Some(first.body().to_vec()),
            OID_MESSAGE_DIGEST if first.tag == 0x04 => {
                p.message_digest = Some(first.body().to_vec());
            }
            OID_SIGNING_TIME => {
                p.signing_time = Some(String::from_utf8_lossy(first.body()).into_owned());
            }
            OID_CONTENT_TYPE | OID_MESSAGE_DIGEST => return None,
            _ => {}
        }
    }
    if !a.done() {
        return None;
    }
    Some(p)
}

/// The bytes the signature covers: the signed attributes as an explicit SET OF.
pub fn signed_bytes(p: &Parsed) -> Vec<u8> {
    tlv(0x31, &p.signed_attrs)
}

/// Whether `cert` is the one `p`'s SignerInfo names.
pub fn names_signer(p: &Parsed, cert: &[u8]) -> bool {
    issuer_and_serial(cert).is_some_and(|(i, s)| i == p.issuer && s == p.serial)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    digest(&SHA256, data).as_ref().to_vec()
}

/// Concatenation helper for callers outside this module.
pub fn join(parts: &[&[u8]]) -> Vec<u8> {
    cat(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_time_is_2026_11_01() {
        assert_eq!(utc_time(cipherstage_pki::SCENARIO_NOW), "261101000000Z");
        assert_eq!(utc_time(0), "700101000000Z");
        assert_eq!(civil(19_782), (2024, 2, 29));
    }

    #[test]
    fn garbage_never_parses_and_never_panics() {
        assert!(parse(&[]).is_none());
        assert!(parse(&[0x30, 0x03, 0x06, 0x01, 0x00]).is_none());
        for n in 0..64u8 {
            let v: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ 0x30).collect();
            let _ = parse(&v);
        }
    }
}
