//! How a server certificate comes to be, and how a browser checks the chain link by
//! link: the subject's certificate signing request (PKCS#10, RFC 2986), the CA's
//! proof-of-possession check, issuance from the request's public key, and each
//! signature in the chain verified against its issuer's key.
//!
//! Everything here runs the real algorithms: the CSR is signed by the subject's key
//! (rcgen), checked with ring, and the certificate is issued by the test PKI's
//! intermediate CA over exactly the public key the CSR carries.

use cipherstage_transcript::rand::{RandomSource, Seeded};
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer, SerialNumber};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ED25519};

use crate::der::{tlv, DerError, Tlv};
use crate::{Cert, Key, KeyKind, PkiError, PublicKey, VerifyError};

const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

/// The parts of a signed DER structure (a certificate or a CSR): the signed bytes,
/// the signature algorithm and the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// The to-be-signed TLV, header included (what the signature covers).
    pub tbs: &'a [u8],
    /// The signature AlgorithmIdentifier's contents.
    pub algorithm: &'a [u8],
    /// The signature (the BIT STRING's contents after the unused-bits byte).
    pub signature: &'a [u8],
}

fn contents(data: &[u8], t: Tlv) -> &[u8] {
    data.get(t.header..t.total()).unwrap_or_default()
}

/// The consecutive TLVs of `data`, as (bytes, tlv).
fn elements(data: &[u8]) -> Result<Vec<(&[u8], Tlv)>, DerError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let rest = data.get(at..).unwrap_or_default();
        let t = tlv(rest).map_err(|e| DerError {
            offset: at + e.offset,
        })?;
        out.push((rest.get(..t.total()).unwrap_or_default(), t));
        at += t.total();
    }
    Ok(out)
}

/// Splits a certificate or CSR into what was signed and the signature.
pub fn signed_parts(der: &[u8]) -> Result<Signed<'_>, DerError> {
    let outer = tlv(der)?;
    if outer.tag != 0x30 || outer.total() != der.len() {
        return Err(DerError { offset: 0 });
    }
    let body = contents(der, outer);
    let el = elements(body).map_err(|e| DerError {
        offset: outer.header + e.offset,
    })?;
    let [(tbs, _), (alg, alg_t), (sig, sig_t)] = el.as_slice() else {
        return Err(DerError {
            offset: outer.header,
        });
    };
    let bits = contents(sig, *sig_t);
    if sig_t.tag != 0x03 || bits.first() != Some(&0) {
        return Err(DerError {
            offset: outer.header + tbs.len() + alg.len(),
        });
    }
    Ok(Signed {
        tbs,
        algorithm: contents(alg, *alg_t),
        signature: bits.get(1..).unwrap_or_default(),
    })
}

/// The first TLV inside `data` whose contents start with OID `oid`.
fn has_oid(alg: &[u8], oid: &[u8]) -> bool {
    tlv(alg).is_ok_and(|t| t.tag == 0x06 && contents(alg, t) == oid)
}

/// The kind and raw public key of a SubjectPublicKeyInfo TLV.
pub fn spki_key(spki: &[u8]) -> Option<(KeyKind, Vec<u8>)> {
    let t = tlv(spki).ok()?;
    let el = elements(contents(spki, t)).ok()?;
    let [(alg, alg_t), (bits, bits_t)] = el.as_slice() else {
        return None;
    };
    let alg = contents(alg, *alg_t);
    let kind = if has_oid(alg, OID_ED25519) {
        KeyKind::Ed25519
    } else if has_oid(alg, OID_EC_PUBLIC_KEY) {
        KeyKind::EcdsaP256
    } else {
        return None;
    };
    let b = contents(bits, *bits_t);
    if bits_t.tag != 0x03 || b.first() != Some(&0) {
        return None;
    }
    Some((kind, b.get(1..)?.to_vec()))
}

/// The SubjectPublicKeyInfo TLV of a certificate (the 7th TBS field, after version).
pub fn certificate_spki(cert: &[u8]) -> Option<&[u8]> {
    let s = signed_parts(cert).ok()?;
    let t = tlv(s.tbs).ok()?;
    let el = elements(contents(s.tbs, t)).ok()?;
    let skip = usize::from(el.first()?.1.tag == 0xa0);
    el.get(skip + 5).map(|(b, _)| *b)
}

/// Verifies `sig` over `msg` with a raw public key of `kind`, as the algorithm
/// `algorithm` (an AlgorithmIdentifier's contents) says.
fn verify_raw(
    kind: KeyKind,
    public: &[u8],
    algorithm: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    let alg: &dyn ring::signature::VerificationAlgorithm = match kind {
        KeyKind::Ed25519 if has_oid(algorithm, OID_ED25519) => &ED25519,
        KeyKind::EcdsaP256 if has_oid(algorithm, OID_ECDSA_SHA256) => &ECDSA_P256_SHA256_ASN1,
        _ => return Err(VerifyError::Other("unsupported algorithm".into())),
    };
    UnparsedPublicKey::new(alg, public)
        .verify(msg, sig)
        .map_err(|_| VerifyError::BadSignature)
}

/// Verifies that `issuer`'s key made the signature on `cert` (one link of a chain).
pub fn verify_signed_by(cert: &[u8], issuer: &[u8]) -> Result<(), VerifyError> {
    let s = signed_parts(cert).map_err(|_| VerifyError::Malformed)?;
    let spki = certificate_spki(issuer).ok_or(VerifyError::Malformed)?;
    let (kind, public) = spki_key(spki).ok_or(VerifyError::Malformed)?;
    verify_raw(kind, &public, s.algorithm, s.tbs, s.signature)
}

/// A parsed certificate signing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csr {
    /// The key kind and raw public key it asks a certificate for.
    pub key: (KeyKind, Vec<u8>),
    /// The requester's signature verified with that key: it holds the private key.
    pub proof_of_possession: Result<(), VerifyError>,
}

/// Reads a CSR and checks its self-signature (proof of possession, RFC 2986 §3).
pub fn read_csr(der: &[u8]) -> Result<Csr, DerError> {
    let s = signed_parts(der)?;
    let t = tlv(s.tbs)?;
    let el = elements(contents(s.tbs, t))?;
    // version, subject, subjectPKInfo, attributes
    let spki = el.get(2).map(|(b, _)| *b).ok_or(DerError { offset: 0 })?;
    let key = spki_key(spki).ok_or(DerError { offset: 0 })?;
    let proof_of_possession = verify_raw(key.0, &key.1, s.algorithm, s.tbs, s.signature);
    Ok(Csr {
        key,
        proof_of_possession,
    })
}

/// rcgen's view of a subject key that signs its own CSR. ECDSA needs randomness per
/// signature: it comes from a generator seeded by the caller's random source.
struct CsrSigner<'a> {
    key: &'a Key,
    public: PublicKey,
    seed: u64,
}

impl rcgen::PublicKeyData for CsrSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public.raw
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.public.alg
    }
}

impl rcgen::SigningKey for CsrSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key
            .sign(msg, &mut Seeded::new(self.seed))
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

fn leaf_params(host: &str) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::new(vec![host.to_owned()])
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::OrganizationName, "cipherstage");
    p.distinguished_name.push(DnType::CommonName, host);
    Ok(p)
}

/// The CSR `key` makes for `host` (subject CN and a subjectAltName with the name).
pub fn make_csr(key: &Key, host: &str, rng: &mut dyn RandomSource) -> Result<Vec<u8>, PkiError> {
    let mut seed = [0u8; 8];
    rng.fill(&mut seed).map_err(|_| PkiError::Random)?;
    let signer = CsrSigner {
        key,
        public: key.public()?,
        seed: u64::from_be_bytes(seed),
    };
    let csr = leaf_params(host)?
        .serialize_request(&signer)
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    Ok(csr.der().to_vec())
}

/// A certificate for `host` that `key` signs itself: no CA vouches for it.
pub fn self_signed(key: &Key, host: &str, rng: &mut dyn RandomSource) -> Result<Vec<u8>, PkiError> {
    let mut seed = [0u8; 8];
    rng.fill(&mut seed).map_err(|_| PkiError::Random)?;
    let signer = CsrSigner {
        key,
        public: key.public()?,
        seed: u64::from_be_bytes(seed),
    };
    let mut p = leaf_params(host)?;
    validity_and_usage(&mut p, 0)?;
    let cert = p
        .self_signed(&signer)
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    Ok(cert.der().to_vec())
}

/// A year from 2026-06-01, moved by `shift` seconds ([`crate::validity_shift`]).
fn validity_and_usage(p: &mut CertificateParams, shift: i64) -> Result<(), PkiError> {
    let at = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t.saturating_add(shift))
            .map_err(|e| PkiError::Generate(e.to_string()))
    };
    p.not_before = at(crate::Y2026_06_01)?;
    p.not_after = at(crate::Y2027_06_01)?;
    p.serial_number = Some(SerialNumber::from_slice(&[0x10, 30]));
    p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(())
}

/// The intermediate CA issues a serverAuth certificate for `host` over `key`'s public
/// key (as [`issue_for`] does for a CSR already checked).
pub fn issue_server(key: &Key, host: &str, intermediate: &Cert) -> Result<Vec<u8>, PkiError> {
    issue_server_at(key, host, intermediate, crate::SCENARIO_NOW)
}

/// [`issue_server`] for the moment `now`: the validity moved as
/// [`Pki::build_at`](crate::Pki::build_at) moves it (the intermediate should come from
/// a PKI built at the same `now`).
pub fn issue_server_at(
    key: &Key,
    host: &str,
    intermediate: &Cert,
    now: u64,
) -> Result<Vec<u8>, PkiError> {
    let csr = Csr {
        key: (key.kind, key.public_key()?),
        proof_of_possession: Ok(()),
    };
    issue_for_at(&csr, host, intermediate, now)
}

/// The intermediate CA issues a serverAuth certificate for `host` over exactly the
/// public key of `csr`, valid for a year from 2026-06-01.
pub fn issue_for(csr: &Csr, host: &str, intermediate: &Cert) -> Result<Vec<u8>, PkiError> {
    issue_for_at(csr, host, intermediate, crate::SCENARIO_NOW)
}

/// [`issue_for`] for the moment `now`: valid for a year from 2026-06-01 moved by
/// [`crate::validity_shift`]`(now)`.
pub fn issue_for_at(
    csr: &Csr,
    host: &str,
    intermediate: &Cert,
    now: u64,
) -> Result<Vec<u8>, PkiError> {
    let mut p = leaf_params(host)?;
    validity_and_usage(&mut p, crate::validity_shift(now))?;
    p.use_authority_key_identifier_extension = true;
    let public = PublicKey {
        raw: csr.key.1.clone(),
        alg: match csr.key.0 {
            KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
            KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::Rsa => &rcgen::PKCS_RSA_SHA256,
        },
    };
    let ca = crate::intermediate_params()?;
    let ikp = intermediate.key.rcgen()?;
    let cert = p
        .signed_by(&public, &Issuer::from_params(&ca, &ikp))
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    Ok(cert.der().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{verify_chain, Pki, Usage, SCENARIO_NOW};

    #[test]
    fn csr_to_certificate_to_a_chain_the_browser_accepts() {
        let p = Pki::build(&mut Seeded::new(7)).unwrap();
        let mut rng = Seeded::new(8);
        for key in [
            Key::generate(&mut rng).unwrap(),
            Key::generate_ecdsa_p256(&mut rng).unwrap(),
        ] {
            let der = make_csr(&key, "blog.example.org", &mut rng).unwrap();
            let csr = read_csr(&der).unwrap();
            assert_eq!(csr.proof_of_possession, Ok(()));
            assert_eq!(csr.key, (key.kind, key.public_key().unwrap()));
            let cert = issue_for(&csr, "blog.example.org", &p.intermediate).unwrap();
            assert_eq!(verify_signed_by(&cert, &p.intermediate.der), Ok(()));
            assert_eq!(verify_signed_by(&p.intermediate.der, &p.root.der), Ok(()));
            assert_eq!(verify_signed_by(&p.root.der, &p.root.der), Ok(()));
            // Signed by the wrong CA: the signature does not verify.
            assert_eq!(
                verify_signed_by(&cert, &p.root.der),
                Err(VerifyError::BadSignature)
            );
            let chain = [cert.clone(), p.intermediate.der.clone()];
            let roots = [p.root.der.clone()];
            assert_eq!(
                verify_chain(
                    &chain,
                    &roots,
                    SCENARIO_NOW,
                    Usage::Server,
                    Some("blog.example.org")
                ),
                Ok(())
            );
            // The certificate carries the CSR's key.
            let spki = certificate_spki(&cert).unwrap();
            assert_eq!(spki_key(spki).unwrap(), csr.key);
            // A CSR whose signature was altered fails proof of possession.
            let mut bad = der.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert_eq!(
                read_csr(&bad).unwrap().proof_of_possession,
                Err(VerifyError::BadSignature)
            );
        }
    }

    #[test]
    fn issued_at_a_moment_is_valid_then_and_at_scenario_now_is_issued() {
        const Y2030: u64 = 1_893_456_000;
        let key = Key::generate_ecdsa_p256(&mut Seeded::new(3)).unwrap();
        let p = Pki::build(&mut Seeded::new(7)).unwrap();
        assert_eq!(
            issue_server_at(&key, "vpn.example.com", &p.intermediate, SCENARIO_NOW).unwrap(),
            issue_server(&key, "vpn.example.com", &p.intermediate).unwrap()
        );
        let later = Pki::build_at(&mut Seeded::new(7), Y2030).unwrap();
        let cert = issue_server_at(&key, "vpn.example.com", &later.intermediate, Y2030).unwrap();
        let chain = [cert, later.intermediate.der.clone()];
        let roots = [later.root.der.clone()];
        let check = |now| verify_chain(&chain, &roots, now, Usage::Server, Some("vpn.example.com"));
        assert_eq!(check(Y2030), Ok(()));
        assert_eq!(check(SCENARIO_NOW), Err(VerifyError::NotValidYet));
        assert_eq!(check(Y2030 + 400 * 86_400), Err(VerifyError::Expired));
    }

    #[test]
    fn a_self_signed_certificate_verifies_with_its_own_key_but_chains_nowhere() {
        let p = Pki::build(&mut Seeded::new(7)).unwrap();
        let mut rng = Seeded::new(8);
        for key in [
            Key::generate(&mut rng).unwrap(),
            Key::generate_ecdsa_p256(&mut rng).unwrap(),
        ] {
            let cert = self_signed(&key, "blog.example.org", &mut rng).unwrap();
            assert_eq!(verify_signed_by(&cert, &cert), Ok(()));
            assert_eq!(
                verify_chain(
                    &[cert],
                    std::slice::from_ref(&p.root.der),
                    SCENARIO_NOW,
                    Usage::Server,
                    Some("blog.example.org")
                ),
                Err(VerifyError::UnknownIssuer)
            );
        }
    }

    #[test]
    fn garbage_never_panics() {
        let p = Pki::build(&mut Seeded::new(7)).unwrap();
        let key = Key::generate(&mut Seeded::new(1)).unwrap();
        let csr = make_csr(&key, "a.example", &mut Seeded::new(2)).unwrap();
        for der in [&p.www.der, &csr] {
            for cut in 0..der.len() {
                let _ = read_csr(&der[..cut]);
                let _ = verify_signed_by(&der[..cut], &p.root.der);
                let _ = certificate_spki(&der[..cut]);
            }
            let mut f = der.clone();
            for i in 0..f.len() {
                f[i] ^= 0xff;
                let _ = read_csr(&f);
                let _ = verify_signed_by(&f, &p.intermediate.der);
                f[i] ^= 0xff;
            }
        }
    }
}
