//! S/MIME signed mail, the seed's "a certificate attached to mail so the recipient
//! can check the sender's key is really hers".
//!
//! Alice's client signs the text part of a mail with CMS SignedData (RFC 5652,
//! ECDSA P-256 with SHA-256, detached) and sends it as RFC 5751 multipart/signed; Bob's
//! client parses it back, checks the digest, the signature, the certificate chain
//! (rustls-webpki, emailProtection) and that From is the certificate's address.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod annotate;
pub mod annotate_env;
pub mod cms;
pub mod crypto;
mod der;
pub mod encrypted;
pub mod envelope;
pub mod mime;
pub mod scenario;
pub mod scenario_encrypted;
pub mod scenario_spoofing;

use cipherstage_pki::{Cert, Key, ALGORITHMS};
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::FailReason;
use rustls_pki_types::{CertificateDer, UnixTime};

/// The emailProtection EKU, 1.3.6.1.5.5.7.3.4 (OID contents).
pub const EKU_EMAIL: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04];
/// The sender's address.
pub const FROM: &str = cipherstage_pki::ALICE_MAIL;
/// The recipient's address.
pub const TO: &str = "bob@example.com";

/// What a mail says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter<'a> {
    /// From address.
    pub from: &'a str,
    /// To address.
    pub to: &'a str,
    /// Subject (any text; non-ASCII becomes an RFC 2047 word, line breaks spaces).
    pub subject: &'a str,
    /// Body text (line endings become CRLF).
    pub body: &'a str,
    /// Date and signingTime, seconds since the epoch.
    pub time: u64,
}

/// The signed text part exactly as digested: its MIME headers, empty line, body.
pub fn text_part(body: &str) -> Vec<u8> {
    let cte = if body.is_ascii() { "7bit" } else { "8bit" };
    format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{}",
        mime::canonical(body)
    )
    .into_bytes()
}

/// Builds the signed mail: `signer` with `key`, also carrying `extra` certificates.
pub fn sign_mail(
    l: &Letter,
    signer: &[u8],
    extra: &[&[u8]],
    key: &Key,
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>, cms::SignError> {
    let mut m = outer_header(l);
    m.extend_from_slice(&signed_entity(l, signer, extra, key, rng)?);
    Ok(m)
}

/// The mail's own header lines up to MIME-Version: From, To, Subject, Date.
pub fn outer_header(l: &Letter) -> Vec<u8> {
    let subject = mime::encode_word(&l.subject.replace(['\r', '\n'], " "));
    format!(
        "From: {}\r\nTo: {}\r\nSubject: {subject}\r\nDate: {}\r\nMIME-Version: 1.0\r\n",
        l.from,
        l.to,
        mime::rfc5322_date(l.time),
    )
    .into_bytes()
}

/// The multipart/signed MIME entity (its Content-Type line, the preamble, the signed
/// text part and the signature part): the body of a signed mail, or what a
/// sign-then-encrypt mail encrypts.
pub fn signed_entity(
    l: &Letter,
    signer: &[u8],
    extra: &[&[u8]],
    key: &Key,
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>, cms::SignError> {
    let part = text_part(l.body);
    let der = cms::sign(&part, signer, extra, key, l.time, rng)?;
    let mut boundary = String::from("----=_cipherstage_signed");
    while part
        .windows(boundary.len())
        .any(|w| w == boundary.as_bytes())
    {
        boundary.push('_');
    }
    let mut m = format!(
        "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; \
         micalg=sha-256; boundary=\"{boundary}\"\r\n\r\n\
         This is an S/MIME signed message\r\n\r\n--{boundary}\r\n",
    )
    .into_bytes();
    m.extend_from_slice(&part);
    m.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n\
             Content-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n{}\r\n--{boundary}--\r\n",
            b64_lines(&der)
        )
        .as_bytes(),
    );
    Ok(m)
}

/// Base64 in lines of 64 characters joined by CRLF (RFC 2045 allows up to 76).
pub fn b64_lines(der: &[u8]) -> String {
    let sig = mime::b64_encode(der);
    let lines: Vec<&str> = sig
        .as_bytes()
        .chunks(64)
        .map(|c| core::str::from_utf8(c).unwrap_or_default())
        .collect();
    lines.join("\r\n")
}

/// One step of Bob's verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The mail is multipart/signed with a base64 signature part.
    Mime,
    /// The signature part is a CMS SignedData we can read.
    Cms,
    /// messageDigest is SHA-256 of the received text part.
    Digest,
    /// The ECDSA P-256/SHA-256 signature over the signed attributes verifies with the
    /// certificate's key.
    Signature,
    /// The certificate chains to a trusted root for e-mail protection.
    Chain,
    /// From is the certificate's rfc822Name.
    Sender,
}

impl Step {
    /// Stable key of the check (`smime.check.digest`).
    pub fn key(self) -> &'static str {
        match self {
            Step::Mime => "smime.check.mime",
            Step::Cms => "smime.check.cms",
            Step::Digest => "smime.check.digest",
            Step::Signature => "smime.check.signature",
            Step::Chain => "smime.check.chain",
            Step::Sender => "smime.check.sender",
        }
    }
}

/// What Bob's client found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every step made, in order, with its failure; stops at the first failure.
    pub steps: Vec<(Step, Option<FailReason>)>,
    /// The From address.
    pub from: String,
    /// The signed text part.
    pub text: Vec<u8>,
}

impl Verdict {
    /// Whether every step passed and none was skipped.
    pub fn ok(&self) -> bool {
        self.steps.len() == 6 && self.steps.iter().all(|(_, f)| f.is_none())
    }
}

/// The extnValue contents of the extension `oid` of a certificate.
pub fn extension<'a>(cert: &'a [u8], oid: &[u8]) -> Option<&'a [u8]> {
    use der::{single, Items};
    let c = single(cert, 0x30)?;
    let tbs = Items::new(c.body()).expect(0x30)?;
    let mut it = Items::new(tbs.body());
    while let Some(el) = it.next_el() {
        if el.tag != 0xa3 {
            continue;
        }
        let exts = single(el.body(), 0x30)?;
        let mut e = Items::new(exts.body());
        while let Some(ext) = e.next_el() {
            let mut x = Items::new(ext.body());
            if x.expect(0x06).map(|o| o.body()) != Some(oid) {
                continue;
            }
            x.expect(0x01);
            return x.expect(0x04).map(|v| v.body());
        }
    }
    None
}

/// The rfc822Name entries of a certificate's subjectAltName, lowercase.
pub fn rfc822_names(cert: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(names) = extension(cert, &[0x55, 0x1d, 0x11]).and_then(|v| der::single(v, 0x30))
    else {
        return out;
    };
    let mut n = der::Items::new(names.body());
    while let Some(gn) = n.next_el() {
        if gn.tag == 0x81 {
            out.push(String::from_utf8_lossy(gn.body()).to_ascii_lowercase());
        }
    }
    out
}

/// Whether a certificate's extendedKeyUsage lists emailProtection.
pub fn has_email_eku(cert: &[u8]) -> bool {
    let Some(ekus) = extension(cert, &[0x55, 0x1d, 0x25]).and_then(|v| der::single(v, 0x30)) else {
        return false;
    };
    let mut it = der::Items::new(ekus.body());
    while let Some(o) = it.next_el() {
        if o.tag == 0x06 && o.body() == EKU_EMAIL {
            return true;
        }
    }
    false
}

/// Verifies `chain` (leaf first) to `roots` at `now` for e-mail protection.
pub fn verify_email_chain(chain: &[Vec<u8>], roots: &[Vec<u8>], now: u64) -> bool {
    let Some((leaf, rest)) = chain.split_first() else {
        return false;
    };
    if !has_email_eku(leaf) {
        return false;
    }
    let leaf_der = CertificateDer::from(leaf.as_slice());
    let Ok(ee) = webpki::EndEntityCert::try_from(&leaf_der) else {
        return false;
    };
    let root_ders: Vec<CertificateDer> = roots
        .iter()
        .map(|r| CertificateDer::from(r.as_slice()))
        .collect();
    let Ok(anchors) = root_ders
        .iter()
        .map(|r| webpki::anchor_from_trusted_cert(r).map(|a| a.to_owned()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    let inters: Vec<CertificateDer> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    ee.verify_for_usage(
        ALGORITHMS,
        &anchors,
        &inters,
        UnixTime::since_unix_epoch(core::time::Duration::from_secs(now)),
        // CA certificates carry no EKU: required only where present, and the
        // leaf must have it (checked above).
        webpki::KeyUsage::required_if_present(EKU_EMAIL),
        None,
        None,
    )
    .is_ok()
}

/// Bob's client: checks `mail` against `roots` at `now`. Never panics.
pub fn verify(mail: &[u8], roots: &[Vec<u8>], now: u64) -> Verdict {
    verify_as(mail, None, roots, now)
}

/// [`verify`] of a multipart/signed entity; `from` is the outer mail's From value when
/// the entity came out of an encrypted mail (its own header has none).
pub fn verify_as(mail: &[u8], from: Option<&str>, roots: &[Vec<u8>], now: u64) -> Verdict {
    let mut v = Verdict {
        steps: Vec::new(),
        from: String::new(),
        text: Vec::new(),
    };
    let layout = mime::split(mail)
        .filter(|l| l.protocol == "application/pkcs7-signature" && l.micalg == "sha-256");
    let der = layout
        .as_ref()
        .and_then(|l| mail.get(l.signature.clone()))
        .and_then(|part| {
            let (hs, blank) = mime::headers(part, 0)?;
            let ct = mime::content_type(mime::header(&hs, "content-type")?).0;
            let cte = mime::header(&hs, "content-transfer-encoding")?;
            let ok = matches!(
                ct.as_str(),
                "application/pkcs7-signature" | "application/x-pkcs7-signature"
            ) && cte.eq_ignore_ascii_case("base64");
            ok.then(|| mime::b64_decode(part.get(blank + 2..)?))?
        });
    let (Some(layout), Some(der)) = (layout, der) else {
        v.steps.push((Step::Mime, Some(FailReason::Malformed)));
        return v;
    };
    v.steps.push((Step::Mime, None));
    let from = from.or_else(|| mime::header(&layout.headers, "from"));
    v.from = mime::address(from.unwrap_or_default());
    v.text = mail.get(layout.signed.clone()).unwrap_or_default().to_vec();
    let Some(p) = cms::parse(&der) else {
        v.steps.push((Step::Cms, Some(FailReason::Malformed)));
        return v;
    };
    v.steps.push((Step::Cms, None));
    let digest_ok = p.digest_alg == cms::OID_SHA256
        && p.content_type.as_deref() == Some(cms::OID_DATA)
        && p.message_digest.as_deref() == Some(cms::sha256(&v.text).as_slice());
    v.steps.push((
        Step::Digest,
        (!digest_ok).then_some(FailReason::BadSignature),
    ));
    if !digest_ok {
        return v;
    }
    let signer = p.certificates.iter().find(|c| cms::names_signer(&p, c));
    // The signature is a DER ECDSA-Sig-Value; webpki checks that the certificate's
    // key is a P-256 key.
    let sig_ok = p.sig_alg == cms::OID_ECDSA_SHA256
        && signer.is_some_and(|c| {
            cipherstage_pki::verify_signature(
                c,
                webpki::ring::ECDSA_P256_SHA256,
                &cms::signed_bytes(&p),
                &p.signature,
            )
            .is_ok()
        });
    v.steps.push((
        Step::Signature,
        (!sig_ok).then_some(FailReason::BadSignature),
    ));
    let Some(signer) = signer.filter(|_| sig_ok) else {
        return v;
    };
    let mut chain = vec![signer.clone()];
    chain.extend(p.certificates.iter().filter(|c| *c != signer).cloned());
    let chain_ok = verify_email_chain(&chain, roots, now);
    v.steps
        .push((Step::Chain, (!chain_ok).then_some(FailReason::Untrusted)));
    if !chain_ok {
        return v;
    }
    let sender_ok = !v.from.is_empty() && rfc822_names(signer).contains(&v.from);
    v.steps
        .push((Step::Sender, (!sender_ok).then_some(FailReason::Untrusted)));
    v
}

/// Signs `l` as `cert` (with the intermediate attached).
pub fn sign_as(
    l: &Letter,
    cert: &Cert,
    intermediate: &[u8],
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>, cms::SignError> {
    sign_mail(l, &cert.der, &[intermediate], &cert.key, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cipherstage_pki::{Pki, SCENARIO_NOW};
    use cipherstage_transcript::rand::Seeded;

    fn letter() -> Letter<'static> {
        Letter {
            from: FROM,
            to: TO,
            subject: "Lunch",
            body: "Hi Bob,\nlunch at noon?\nAlice",
            time: SCENARIO_NOW,
        }
    }

    #[test]
    fn alice_verifies_mallory_and_flips_do_not() {
        let pki = Pki::build(&mut Seeded::new(1)).unwrap();
        let roots = [pki.root.der.clone()];
        let mut rng = Seeded::new(2);
        let good = sign_as(&letter(), &pki.alice_mail, &pki.intermediate.der, &mut rng).unwrap();
        // ECDSA draws its nonce from the source: same seed, same bytes; other seed,
        // another (equally valid) signature.
        let again = |seed| {
            sign_as(
                &letter(),
                &pki.alice_mail,
                &pki.intermediate.der,
                &mut Seeded::new(seed),
            )
            .unwrap()
        };
        assert_eq!(good, again(2));
        assert_ne!(good, again(3));
        assert!(verify(&again(3), &roots, SCENARIO_NOW).ok());
        // An Ed25519 key is refused rather than mislabelled as ECDSA.
        assert_eq!(
            sign_as(&letter(), &pki.alice, &pki.intermediate.der, &mut rng),
            Err(cms::SignError::Key)
        );
        let v = verify(&good, &roots, SCENARIO_NOW);
        assert!(v.ok(), "{:?}", v.steps);
        assert!(String::from_utf8_lossy(&v.text).contains("lunch at noon?\r\n"));
        assert_eq!(rfc822_names(&pki.alice_mail.der), vec![FROM.to_owned()]);
        let bad = sign_as(&letter(), &pki.mallory_mail, &pki.rogue_root.der, &mut rng).unwrap();
        let v = verify(&bad, &roots, SCENARIO_NOW);
        assert_eq!(
            v.steps.last(),
            Some(&(Step::Chain, Some(FailReason::Untrusted)))
        );
        // Every single flipped byte: no panic; inside the signed part, never accepted.
        let l = mime::split(&good).unwrap();
        let sig_part = &good[l.signature.clone()];
        let b64_start =
            l.signature.start + sig_part.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut unnoticed = Vec::new();
        for i in 0..good.len() {
            let mut m = good.clone();
            m[i] ^= 1;
            let v = verify(&m, &roots, SCENARIO_NOW);
            if l.signed.contains(&i) || (b64_start..l.signature.end).contains(&i) {
                assert!(
                    !v.ok(),
                    "byte {i} ({}) flipped and accepted, b64 at {b64_start}",
                    good[i] as char
                );
            }
            if v.ok() {
                unnoticed.push(i);
            }
        }
        // Only outer headers, the preamble and the signature part's own headers
        // can change unnoticed: none of them is signed.
        assert!(unnoticed.iter().all(|i| !l.signed.contains(i)));
        // Not to a wrong sender.
        let other = Letter {
            from: "carol@example.com",
            ..letter()
        };
        let m = sign_as(&other, &pki.alice_mail, &pki.intermediate.der, &mut rng).unwrap();
        let v = verify(&m, &roots, SCENARIO_NOW);
        assert_eq!(
            v.steps.last(),
            Some(&(Step::Sender, Some(FailReason::Untrusted)))
        );
    }
}
