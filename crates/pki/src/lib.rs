//! A deterministic test PKI for the TLS scenarios.
//!
//! Root CA → intermediate CA → leaf certificates, built with rcgen from a seeded
//! [`RandomSource`] (Ed25519 keys, whose signatures need no randomness, so the same
//! seed gives the same DER), plus the broken variants the failure scenarios need.
//! Chains are verified with rustls-webpki at an injected time, and every
//! certificate's DER can be annotated field by field for the app.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod authority;
pub mod der;
pub mod issue;
pub mod pem;

use cipherstage_transcript::rand::{fixed, RandomSource};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber, PKCS_ECDSA_P256_SHA256, PKCS_ED25519,
};
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING,
    RSA_PSS_SHA256,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// The moment the scenarios happen: 2026-11-01T00:00:00Z, in seconds since the epoch.
pub const SCENARIO_NOW: u64 = 1_793_491_200;

const Y2026_01_01: i64 = 1_767_225_600;
const Y2036_01_01: i64 = 2_082_758_400;
const Y2026_06_01: i64 = 1_780_272_000;
const Y2027_06_01: i64 = 1_811_808_000;
const Y2025_06_01: i64 = 1_748_736_000;
const Y2027_01_01: i64 = 1_798_761_600;
const Y2028_01_01: i64 = 1_830_297_600;
const DAY: i64 = 86_400;

/// How far every validity date of a PKI built for the moment `now` moves: the whole
/// days from [`SCENARIO_NOW`] to `now`, in seconds (rounded down, so a certificate
/// valid, expired or not yet valid at `SCENARIO_NOW` is so at `now`, with the same
/// margins to within a day). Zero at `SCENARIO_NOW`: the scenarios' bytes.
pub fn validity_shift(now: u64) -> i64 {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let from = i64::try_from(SCENARIO_NOW).unwrap_or(0);
    now.saturating_sub(from).div_euclid(DAY).saturating_mul(DAY)
}

/// Why the PKI could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PkiError {
    /// The random source failed.
    Random,
    /// ring refused a key.
    Key,
    /// rcgen refused the parameters.
    Generate(String),
}

/// The kind of a private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Ed25519 (RFC 8032): deterministic signatures.
    Ed25519,
    /// ECDSA on P-256 with SHA-256: every signature needs a fresh secret nonce.
    EcdsaP256,
    /// RSA (2048–4096 bits), signing RSASSA-PSS with SHA-256 and a random salt. ring
    /// cannot generate RSA keys: these only come from outside (OpenSSL, a PEM file).
    Rsa,
}

/// A private key as PKCS#8: Ed25519 (v2, as ring writes it) or ECDSA P-256 (v1 with
/// the public key, as ring and OpenSSL write it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Which algorithm.
    pub kind: KeyKind,
    /// The PKCS#8 document.
    pub pkcs8: Vec<u8>,
}

/// ring's ECDSA key pair, made deterministic: ring draws 32 bytes when it loads the
/// key (the nonce key) and 32 per signature (mixed with the key and the message
/// digest into the nonce), and both come from the caller's random source.
fn ecdsa_pair(pkcs8: &[u8], nonce_key: &[u8; 32]) -> Result<EcdsaKeyPair, PkiError> {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &fixed(nonce_key))
        .map_err(|_| PkiError::Key)
}

impl Key {
    /// An Ed25519 key drawn from 32 random bytes.
    pub fn generate(rng: &mut dyn RandomSource) -> Result<Key, PkiError> {
        let mut seed = [0u8; 32];
        rng.fill(&mut seed).map_err(|_| PkiError::Random)?;
        let doc = Ed25519KeyPair::generate_pkcs8(&fixed(&seed)).map_err(|_| PkiError::Key)?;
        Ok(Key {
            kind: KeyKind::Ed25519,
            pkcs8: doc.as_ref().to_vec(),
        })
    }

    /// An ECDSA P-256 key drawn from 32 random bytes (ring rejects the one draw in
    /// about 2^32 that is not a valid scalar: then this returns [`PkiError::Key`]).
    pub fn generate_ecdsa_p256(rng: &mut dyn RandomSource) -> Result<Key, PkiError> {
        let mut seed = [0u8; 32];
        rng.fill(&mut seed).map_err(|_| PkiError::Random)?;
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &fixed(&seed))
            .map_err(|_| PkiError::Key)?;
        Ok(Key {
            kind: KeyKind::EcdsaP256,
            pkcs8: doc.as_ref().to_vec(),
        })
    }

    /// Signs `msg`. Ed25519 needs no randomness; ECDSA draws 64 bytes from `rng`
    /// (same source state, same signature).
    pub fn sign(&self, msg: &[u8], rng: &mut dyn RandomSource) -> Result<Vec<u8>, PkiError> {
        match self.kind {
            KeyKind::Ed25519 => {
                let kp = Ed25519KeyPair::from_pkcs8(&self.pkcs8).map_err(|_| PkiError::Key)?;
                Ok(kp.sign(msg).as_ref().to_vec())
            }
            KeyKind::EcdsaP256 => {
                let mut nonce_key = [0u8; 32];
                let mut nonce = [0u8; 32];
                rng.fill(&mut nonce_key).map_err(|_| PkiError::Random)?;
                rng.fill(&mut nonce).map_err(|_| PkiError::Random)?;
                let kp = ecdsa_pair(&self.pkcs8, &nonce_key)?;
                let sig = kp.sign(&fixed(&nonce), msg).map_err(|_| PkiError::Key)?;
                Ok(sig.as_ref().to_vec())
            }
            KeyKind::Rsa => {
                let kp = RsaKeyPair::from_pkcs8(&self.pkcs8).map_err(|_| PkiError::Key)?;
                // PSS with SHA-256 draws exactly a 32-byte salt.
                let mut salt = [0u8; 32];
                rng.fill(&mut salt).map_err(|_| PkiError::Random)?;
                let mut sig = vec![0u8; kp.public().modulus_len()];
                kp.sign(&RSA_PSS_SHA256, &fixed(&salt), msg, &mut sig)
                    .map_err(|_| PkiError::Key)?;
                Ok(sig)
            }
        }
    }

    /// The raw public key: 32 bytes (Ed25519) or the 65-byte uncompressed point (P-256).
    pub fn public_key(&self) -> Result<Vec<u8>, PkiError> {
        match self.kind {
            KeyKind::Ed25519 => {
                let kp = Ed25519KeyPair::from_pkcs8(&self.pkcs8).map_err(|_| PkiError::Key)?;
                Ok(kp.public_key().as_ref().to_vec())
            }
            KeyKind::EcdsaP256 => {
                let kp = ecdsa_pair(&self.pkcs8, &[0; 32])?;
                Ok(kp.public_key().as_ref().to_vec())
            }
            KeyKind::Rsa => {
                let kp = RsaKeyPair::from_pkcs8(&self.pkcs8).map_err(|_| PkiError::Key)?;
                Ok(kp.public_key().as_ref().to_vec())
            }
        }
    }

    /// The key as PKCS#8 v1, the form OpenSSL writes: Ed25519 keeps only the seed;
    /// ring's ECDSA document already is v1.
    pub fn pkcs8_v1(&self) -> Vec<u8> {
        match self.kind {
            KeyKind::Ed25519 => {
                let mut out = vec![
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04,
                    0x22, 0x04, 0x20,
                ];
                out.extend_from_slice(self.pkcs8.get(16..48).unwrap_or_default());
                out
            }
            KeyKind::EcdsaP256 | KeyKind::Rsa => self.pkcs8.clone(),
        }
    }

    /// A key from a PKCS#8 document ring accepts as Ed25519 (v1 or v2), as ECDSA
    /// P-256 (with the public key, as OpenSSL writes it) or as RSA (2048–4096 bits).
    pub fn from_pkcs8(doc: &[u8]) -> Result<Key, PkiError> {
        if Ed25519KeyPair::from_pkcs8_maybe_unchecked(doc).is_ok() {
            // In both layouts ring and OpenSSL write, the 32-byte seed sits at offset 16.
            let seed = doc.get(16..48).ok_or(PkiError::Key)?;
            let v2 = Ed25519KeyPair::generate_pkcs8(&fixed(seed)).map_err(|_| PkiError::Key)?;
            return Ok(Key {
                kind: KeyKind::Ed25519,
                pkcs8: v2.as_ref().to_vec(),
            });
        }
        let kind = if ecdsa_pair(doc, &[0; 32]).is_ok() {
            KeyKind::EcdsaP256
        } else {
            RsaKeyPair::from_pkcs8(doc).map_err(|_| PkiError::Key)?;
            KeyKind::Rsa
        };
        Ok(Key {
            kind,
            pkcs8: doc.to_vec(),
        })
    }

    /// The public half as rcgen sees it (what a certificate for this key carries).
    pub(crate) fn public(&self) -> Result<PublicKey, PkiError> {
        Ok(PublicKey {
            raw: self.public_key()?,
            alg: match self.kind {
                KeyKind::Ed25519 => &PKCS_ED25519,
                KeyKind::EcdsaP256 => &PKCS_ECDSA_P256_SHA256,
                KeyKind::Rsa => &rcgen::PKCS_RSA_SHA256,
            },
        })
    }

    /// An rcgen signing key (CAs are Ed25519, whose signatures need no randomness).
    fn rcgen(&self) -> Result<KeyPair, PkiError> {
        if self.kind != KeyKind::Ed25519 {
            return Err(PkiError::Generate(
                "only Ed25519 keys sign certificates".into(),
            ));
        }
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from(self.pkcs8.as_slice());
        KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_ED25519)
            .map_err(|e| PkiError::Generate(e.to_string()))
    }
}

/// A public key for rcgen to put in a certificate.
pub(crate) struct PublicKey {
    raw: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl rcgen::PublicKeyData for PublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// A certificate with its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Its private key.
    pub key: Key,
}

/// The whole test PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pki {
    /// The trusted root CA.
    pub root: Cert,
    /// The intermediate CA the root signed; it signs every good leaf.
    pub intermediate: Cert,
    /// A second root nobody trusts.
    pub rogue_root: Cert,
    /// Server leaf for `www.example.com` and `example.com`.
    pub www: Cert,
    /// Server leaf for `shop.example.com`.
    pub shop: Cert,
    /// The default virtual host's leaf (`default.example.net`), sent when no SNI matches.
    pub default_host: Cert,
    /// `www.example.com`, expired.
    pub www_expired: Cert,
    /// `www.example.com`, not yet valid.
    pub www_not_yet_valid: Cert,
    /// `www.example.com`, self-signed.
    pub www_self_signed: Cert,
    /// Client leaf `alice` with the clientAuth EKU.
    pub alice: Cert,
    /// `alice`, expired.
    pub alice_expired: Cert,
    /// `alice` with only the serverAuth EKU.
    pub alice_wrong_eku: Cert,
    /// `alice` issued by the rogue root.
    pub alice_untrusted: Cert,
    /// A key that matches no certificate (for a forged CertificateVerify).
    pub stray_key: Key,
    /// Server leaf for `www.example.com` and `example.com` with an ECDSA P-256 key.
    pub www_ecdsa: Cert,
    /// Client leaf `alice` with an ECDSA P-256 key and the clientAuth EKU.
    pub alice_ecdsa: Cert,
    /// S/MIME leaf `alice`: rfc822Name `alice@example.com`, the emailProtection EKU,
    /// an ECDSA P-256 key, issued by the intermediate.
    pub alice_mail: Cert,
    /// A certificate that also claims `alice@example.com` (ECDSA P-256), issued by the
    /// rogue root.
    pub mallory_mail: Cert,
    /// S/MIME leaf `bob`: rfc822Name `bob@example.com`, emailProtection, an ECDSA P-256
    /// key (S/MIME encryption agrees a key with it by ECDH), issued by the intermediate.
    pub bob_mail: Cert,
    /// Like `bob_mail`, but for clientAuth only: no emailProtection, so a mail client
    /// must not encrypt to it.
    pub bob_mail_wrong_eku: Cert,
    /// Mallory's key in a certificate for bob@example.com from her own CA: the key she
    /// publishes as Bob's.
    pub mallory_as_bob: Cert,
}

pub(crate) struct Spec<'a> {
    pub(crate) cn: &'a str,
    pub(crate) sans: &'a [&'a str],
    pub(crate) from: i64,
    pub(crate) until: i64,
    pub(crate) serial: u8,
    pub(crate) ca: bool,
    pub(crate) eku: &'a [ExtendedKeyUsagePurpose],
}

pub(crate) fn ca(cn: &str, serial: u8, shift: i64) -> Spec<'_> {
    Spec {
        cn,
        sans: &[],
        from: Y2026_01_01.saturating_add(shift),
        until: Y2036_01_01.saturating_add(shift),
        serial,
        ca: true,
        eku: &[],
    }
}

/// The intermediate CA's parameters, as its certificate was made from them (an
/// issuer's name and key identifier come from these; its validity plays no part).
pub(crate) fn intermediate_params() -> Result<CertificateParams, PkiError> {
    params(&ca(INTERMEDIATE_CN, 2, 0))
}

const INTERMEDIATE_CN: &str = "cipherstage Intermediate CA";

pub(crate) fn params(s: &Spec) -> Result<CertificateParams, PkiError> {
    let sans: Vec<String> = s.sans.iter().map(|n| (*n).to_owned()).collect();
    let mut p = CertificateParams::new(sans).map_err(|e| PkiError::Generate(e.to_string()))?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::OrganizationName, "cipherstage");
    p.distinguished_name.push(DnType::CommonName, s.cn);
    p.not_before = time::OffsetDateTime::from_unix_timestamp(s.from)
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    p.not_after = time::OffsetDateTime::from_unix_timestamp(s.until)
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    p.serial_number = Some(SerialNumber::from_slice(&[0x10, s.serial]));
    if s.ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.use_authority_key_identifier_extension = true;
    }
    p.extended_key_usages = s.eku.to_vec();
    Ok(p)
}

fn self_signed(
    rng: &mut dyn RandomSource,
    s: &Spec,
) -> Result<(Cert, CertificateParams), PkiError> {
    let key = Key::generate(rng)?;
    let p = params(s)?;
    let kp = key.rcgen()?;
    let cert = p
        .self_signed(&kp)
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    Ok((
        Cert {
            der: cert.der().to_vec(),
            key,
        },
        p,
    ))
}

fn issued(
    rng: &mut dyn RandomSource,
    s: &Spec,
    issuer: &(Cert, CertificateParams),
) -> Result<(Cert, CertificateParams), PkiError> {
    issue(Key::generate(rng)?, s, issuer)
}

/// Certifies `key` (of any kind) with `issuer`'s Ed25519 key.
fn issue(
    key: Key,
    s: &Spec,
    issuer: &(Cert, CertificateParams),
) -> Result<(Cert, CertificateParams), PkiError> {
    let p = params(s)?;
    let public = key.public()?;
    let ikp = issuer.0.key.rcgen()?;
    let iss = Issuer::from_params(&issuer.1, &ikp);
    let cert = p
        .signed_by(&public, &iss)
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    Ok((
        Cert {
            der: cert.der().to_vec(),
            key,
        },
        p,
    ))
}

impl Pki {
    /// Builds every certificate from `rng` (same seed → same DER), valid as the
    /// scenarios need at [`SCENARIO_NOW`]: leaves from 2026-06-01 for a year, the
    /// expired ones until 2026-06-01, the not-yet-valid one from 2027-01-01.
    pub fn build(rng: &mut dyn RandomSource) -> Result<Pki, PkiError> {
        Pki::build_at(rng, SCENARIO_NOW)
    }

    /// The same PKI for the moment `now` (seconds since the epoch): every validity
    /// date moved by [`validity_shift`]`(now)`, so what is valid, expired or not yet
    /// valid at `SCENARIO_NOW` in [`Pki::build`] is so at `now`. For real peers that
    /// check certificates against the machine's clock; `build_at(rng, SCENARIO_NOW)`
    /// is `build(rng)`, byte for byte. Keys and every other field do not change.
    pub fn build_at(rng: &mut dyn RandomSource, now: u64) -> Result<Pki, PkiError> {
        use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
        let shift = validity_shift(now);
        let at = |t: i64| t.saturating_add(shift);
        let leaf = |cn, sans, serial, eku| Spec {
            cn,
            sans,
            from: at(Y2026_06_01),
            until: at(Y2027_06_01),
            serial,
            ca: false,
            eku,
        };
        let root = self_signed(rng, &ca("cipherstage Root CA", 1, shift))?;
        let inter = issued(rng, &ca(INTERMEDIATE_CN, 2, shift), &root)?;
        let rogue = self_signed(rng, &ca("Rogue Root CA", 3, shift))?;
        let www_sans: &[&str] = &["www.example.com", "example.com"];
        let www = issued(
            rng,
            &leaf("www.example.com", www_sans, 10, &[ServerAuth]),
            &inter,
        )?;
        let shop = issued(
            rng,
            &leaf("shop.example.com", &["shop.example.com"], 11, &[ServerAuth]),
            &inter,
        )?;
        let default_host = issued(
            rng,
            &leaf(
                "default.example.net",
                &["default.example.net"],
                12,
                &[ServerAuth],
            ),
            &inter,
        )?;
        let mut expired = leaf("www.example.com", www_sans, 13, &[ServerAuth]);
        expired.from = at(Y2025_06_01);
        expired.until = at(Y2026_06_01);
        let www_expired = issued(rng, &expired, &inter)?;
        let mut future = leaf("www.example.com", www_sans, 14, &[ServerAuth]);
        future.from = at(Y2027_01_01);
        future.until = at(Y2028_01_01);
        let www_future = issued(rng, &future, &inter)?;
        let www_self = self_signed(rng, &leaf("www.example.com", www_sans, 15, &[ServerAuth]))?;
        let alice = issued(rng, &leaf("alice", &[], 20, &[ClientAuth]), &inter)?;
        let mut alice_exp = leaf("alice", &[], 21, &[ClientAuth]);
        alice_exp.from = at(Y2025_06_01);
        alice_exp.until = at(Y2026_06_01);
        let alice_expired = issued(rng, &alice_exp, &inter)?;
        let alice_wrong_eku = issued(rng, &leaf("alice", &[], 22, &[ServerAuth]), &inter)?;
        let alice_untrusted = issued(rng, &leaf("alice", &[], 23, &[ClientAuth]), &rogue)?;
        let stray_key = Key::generate(rng)?;
        // Drawn last, so every certificate above stays what it was before these existed.
        let www_ecdsa = issue(
            Key::generate_ecdsa_p256(rng)?,
            &leaf("www.example.com", www_sans, 16, &[ServerAuth]),
            &inter,
        )?;
        let alice_ecdsa = issue(
            Key::generate_ecdsa_p256(rng)?,
            &leaf("alice", &[], 24, &[ClientAuth]),
            &inter,
        )?;
        // Drawn after everything above, so every earlier certificate stays byte-identical.
        let email = &[ExtendedKeyUsagePurpose::EmailProtection];
        let mail = |rng: &mut dyn RandomSource, serial, issuer, who, eku| {
            issue_mail(rng, serial, issuer, who, eku, shift)
        };
        let alice_mail = mail(rng, 30, &inter, ("alice", ALICE_MAIL), email)?;
        let mallory_mail = mail(rng, 31, &rogue, ("alice", ALICE_MAIL), email)?;
        // Drawn last again: every certificate above keeps its bytes.
        let bob_mail = mail(rng, 32, &inter, ("bob", BOB_MAIL), email)?;
        let bob_mail_wrong_eku = mail(rng, 33, &inter, ("bob", BOB_MAIL), &[ClientAuth])?;
        let mallory_as_bob = mail(rng, 34, &rogue, ("bob", BOB_MAIL), email)?;
        Ok(Pki {
            root: root.0,
            intermediate: inter.0,
            rogue_root: rogue.0,
            www: www.0,
            shop: shop.0,
            default_host: default_host.0,
            www_expired: www_expired.0,
            www_not_yet_valid: www_future.0,
            www_self_signed: www_self.0,
            alice: alice.0,
            alice_expired: alice_expired.0,
            alice_wrong_eku: alice_wrong_eku.0,
            alice_untrusted: alice_untrusted.0,
            stray_key,
            www_ecdsa: www_ecdsa.0,
            alice_ecdsa: alice_ecdsa.0,
            alice_mail: alice_mail.0,
            mallory_mail: mallory_mail.0,
            bob_mail: bob_mail.0,
            bob_mail_wrong_eku: bob_mail_wrong_eku.0,
            mallory_as_bob: mallory_as_bob.0,
        })
    }
}

/// The address the S/MIME certificates name.
pub const ALICE_MAIL: &str = "alice@example.com";

/// The address of Bob's S/MIME certificate.
pub const BOB_MAIL: &str = "bob@example.com";

/// An S/MIME leaf for `(cn, address)` (an ECDSA P-256 key, the extended key usages
/// `eku`), signed by `issuer`'s Ed25519 key, its validity moved by `shift` seconds.
fn issue_mail(
    rng: &mut dyn RandomSource,
    serial: u8,
    issuer: &(Cert, CertificateParams),
    (cn, address): (&str, &str),
    eku: &[ExtendedKeyUsagePurpose],
    shift: i64,
) -> Result<(Cert, CertificateParams), PkiError> {
    let key = Key::generate_ecdsa_p256(rng)?;
    let mut p = params(&Spec {
        cn,
        sans: &[],
        from: Y2026_06_01.saturating_add(shift),
        until: Y2027_06_01.saturating_add(shift),
        serial,
        ca: false,
        eku,
    })?;
    let mail = rcgen::string::Ia5String::try_from(address)
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    p.subject_alt_names = vec![rcgen::SanType::Rfc822Name(mail)];
    let public = key.public()?;
    let ikp = issuer.0.key.rcgen()?;
    let iss = Issuer::from_params(&issuer.1, &ikp);
    let cert = p
        .signed_by(&public, &iss)
        .map_err(|e| PkiError::Generate(e.to_string()))?;
    Ok((
        Cert {
            der: cert.der().to_vec(),
            key,
        },
        p,
    ))
}

/// Which end of a connection a certificate must serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A server (serverAuth EKU, if any EKU is present).
    Server,
    /// A client (clientAuth EKU, if any EKU is present).
    Client,
}

/// Why a chain was rejected, in the terms TLS alerts use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// No path to a trusted root (self-signed, unknown CA).
    UnknownIssuer,
    /// notAfter is in the past.
    Expired,
    /// notBefore is in the future.
    NotValidYet,
    /// The certificate does not name the host.
    WrongName,
    /// The EKU does not allow this use.
    WrongUsage,
    /// A signature in the chain does not verify.
    BadSignature,
    /// The DER does not parse.
    Malformed,
    /// A CRL of the issuer lists the certificate's serial number.
    Revoked,
    /// Anything else webpki reports (its debug text).
    Other(String),
}

impl VerifyError {
    /// Stable key (`pki.verify.unknown_issuer`).
    pub fn key(&self) -> &'static str {
        match self {
            VerifyError::UnknownIssuer => "pki.verify.unknown_issuer",
            VerifyError::Expired => "pki.verify.expired",
            VerifyError::NotValidYet => "pki.verify.not_valid_yet",
            VerifyError::WrongName => "pki.verify.wrong_name",
            VerifyError::WrongUsage => "pki.verify.wrong_usage",
            VerifyError::BadSignature => "pki.verify.bad_signature",
            VerifyError::Malformed => "pki.verify.malformed",
            VerifyError::Revoked => "pki.verify.revoked",
            VerifyError::Other(_) => "pki.verify.other",
        }
    }
}

#[allow(deprecated)]
pub(crate) fn map_err(e: webpki::Error) -> VerifyError {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => VerifyError::UnknownIssuer,
        E::CertExpired { .. } => VerifyError::Expired,
        E::CertNotValidYet { .. } => VerifyError::NotValidYet,
        E::CertNotValidForName(_) => VerifyError::WrongName,
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) => VerifyError::WrongUsage,
        E::InvalidSignatureForPublicKey => VerifyError::BadSignature,
        E::CertRevoked => VerifyError::Revoked,
        E::BadDer | E::BadDerTime | E::TrailingData(_) => VerifyError::Malformed,
        other => VerifyError::Other(format!("{other:?}")),
    }
}

/// The signature algorithms chains and handshake signatures may use.
pub static ALGORITHMS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::ED25519,
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
];

/// Verifies `chain` (leaf first) up to one of `roots` at `now` (seconds since the epoch)
/// for `usage`, and, if given, that the leaf names `host`.
pub fn verify_chain(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    now: u64,
    usage: Usage,
    host: Option<&str>,
) -> Result<(), VerifyError> {
    let (leaf, rest) = chain.split_first().ok_or(VerifyError::Malformed)?;
    let leaf_der = CertificateDer::from(leaf.as_slice());
    let ee = webpki::EndEntityCert::try_from(&leaf_der).map_err(map_err)?;
    let root_ders: Vec<CertificateDer> = roots
        .iter()
        .map(|r| CertificateDer::from(r.as_slice()))
        .collect();
    let anchors = root_ders
        .iter()
        .map(|r| webpki::anchor_from_trusted_cert(r).map(|a| a.to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)?;
    let inters: Vec<CertificateDer> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let eku = match usage {
        Usage::Server => webpki::KeyUsage::server_auth(),
        Usage::Client => webpki::KeyUsage::client_auth(),
    };
    ee.verify_for_usage(
        ALGORITHMS,
        &anchors,
        &inters,
        UnixTime::since_unix_epoch(core::time::Duration::from_secs(now)),
        eku,
        None,
        None,
    )
    .map_err(map_err)?;
    if let Some(host) = host {
        let name = ServerName::try_from(host).map_err(|_| VerifyError::WrongName)?;
        ee.verify_is_valid_for_subject_name(&name)
            .map_err(map_err)?;
    }
    Ok(())
}

/// Whether `name` is a DNS name a certificate can carry and a browser can ask for.
pub fn is_dns_name(name: &str) -> bool {
    matches!(ServerName::try_from(name), Ok(ServerName::DnsName(_)))
}

/// Checks only that certificate `leaf` names `host` (after [`verify_chain`] without a host).
pub fn verify_name(leaf: &[u8], host: &str) -> Result<(), VerifyError> {
    let der = CertificateDer::from(leaf);
    let ee = webpki::EndEntityCert::try_from(&der).map_err(map_err)?;
    let name = ServerName::try_from(host).map_err(|_| VerifyError::WrongName)?;
    ee.verify_is_valid_for_subject_name(&name).map_err(map_err)
}

/// Verifies a handshake signature made by the key of certificate `leaf`.
pub fn verify_signature(
    leaf: &[u8],
    alg: &dyn rustls_pki_types::SignatureVerificationAlgorithm,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    let der = CertificateDer::from(leaf);
    let ee = webpki::EndEntityCert::try_from(&der).map_err(map_err)?;
    ee.verify_signature(alg, msg, sig).map_err(map_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cipherstage_transcript::rand::Seeded;

    fn pki() -> Pki {
        Pki::build(&mut Seeded::new(1)).unwrap()
    }

    #[test]
    fn same_seed_same_der_other_seed_other_der() {
        let a = pki();
        assert_eq!(a, pki());
        let c = Pki::build(&mut Seeded::new(2)).unwrap();
        assert_ne!(a.root.der, c.root.der);
    }

    #[test]
    fn good_chains_verify_and_broken_ones_fail_as_expected() {
        let p = pki();
        let roots = [p.root.der.clone()];
        let chain = |c: &Cert| vec![c.der.clone(), p.intermediate.der.clone()];
        let s = |c: &Cert, host| verify_chain(&chain(c), &roots, SCENARIO_NOW, Usage::Server, host);
        let c = |c: &Cert| verify_chain(&chain(c), &roots, SCENARIO_NOW, Usage::Client, None);
        assert_eq!(s(&p.www, Some("www.example.com")), Ok(()));
        assert_eq!(s(&p.www, Some("example.com")), Ok(()));
        assert_eq!(s(&p.shop, Some("shop.example.com")), Ok(()));
        assert_eq!(
            s(&p.default_host, Some("www.example.com")),
            Err(VerifyError::WrongName)
        );
        assert_eq!(
            s(&p.www_expired, Some("www.example.com")),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            s(&p.www_not_yet_valid, Some("www.example.com")),
            Err(VerifyError::NotValidYet)
        );
        assert_eq!(
            verify_chain(
                std::slice::from_ref(&p.www_self_signed.der),
                &roots,
                SCENARIO_NOW,
                Usage::Server,
                None
            ),
            Err(VerifyError::UnknownIssuer)
        );
        assert_eq!(c(&p.alice), Ok(()));
        assert_eq!(c(&p.alice_expired), Err(VerifyError::Expired));
        assert_eq!(c(&p.alice_wrong_eku), Err(VerifyError::WrongUsage));
        assert_eq!(
            verify_chain(
                std::slice::from_ref(&p.alice_untrusted.der),
                &roots,
                SCENARIO_NOW,
                Usage::Client,
                None
            ),
            Err(VerifyError::UnknownIssuer)
        );
        // A server certificate is not a client certificate.
        assert_eq!(c(&p.www), Err(VerifyError::WrongUsage));
    }

    /// 2030-01-01T00:00:00Z, past every certificate of `Pki::build`.
    const Y2030: u64 = 1_893_456_000;

    #[test]
    fn built_at_scenario_now_is_built_byte_for_byte() {
        assert_eq!(validity_shift(SCENARIO_NOW), 0);
        let at = Pki::build_at(&mut Seeded::new(1), SCENARIO_NOW).unwrap();
        assert_eq!(at, pki());
        // Less than a day later is the same day: still the scenarios' bytes.
        let later = Pki::build_at(&mut Seeded::new(1), SCENARIO_NOW + 86_399).unwrap();
        assert_eq!(later, pki());
    }

    #[test]
    fn the_shift_is_whole_days_rounded_down_both_ways() {
        assert_eq!(validity_shift(SCENARIO_NOW + 86_400), 86_400);
        assert_eq!(validity_shift(SCENARIO_NOW + 86_400 * 3 + 5), 86_400 * 3);
        assert_eq!(validity_shift(SCENARIO_NOW - 1), -86_400);
        assert_eq!(validity_shift(0) % 86_400, 0);
        assert!(validity_shift(u64::MAX) > 0);
        // Absurd moments are an error, never a panic.
        assert!(Pki::build_at(&mut Seeded::new(1), u64::MAX).is_err());
    }

    /// What the real peers see from 2027-06-01 on: a PKI built for the moment they
    /// check at is valid, expired and not yet valid at that moment exactly as the
    /// scenarios' PKI is at `SCENARIO_NOW`, and only the validity moved.
    #[test]
    fn built_at_2030_is_valid_expired_and_not_yet_valid_in_2030() {
        let p = Pki::build_at(&mut Seeded::new(1), Y2030).unwrap();
        let roots = [p.root.der.clone()];
        let chain = |c: &Cert| vec![c.der.clone(), p.intermediate.der.clone()];
        let s = |c: &Cert, now| verify_chain(&chain(c), &roots, now, Usage::Server, None);
        let c = |c: &Cert, now| verify_chain(&chain(c), &roots, now, Usage::Client, None);
        for cert in [&p.www, &p.shop, &p.default_host, &p.www_ecdsa] {
            assert_eq!(s(cert, Y2030), Ok(()));
            // Not the scenarios' certificates: in 2026 these are not valid yet, and the
            // scenarios' own are expired in 2030.
            assert_eq!(s(cert, SCENARIO_NOW), Err(VerifyError::NotValidYet));
        }
        assert_eq!(s(&pki().www, Y2030), Err(VerifyError::Expired));
        for cert in [&p.alice, &p.alice_ecdsa] {
            assert_eq!(c(cert, Y2030), Ok(()));
        }
        assert_eq!(s(&p.www_expired, Y2030), Err(VerifyError::Expired));
        assert_eq!(c(&p.alice_expired, Y2030), Err(VerifyError::Expired));
        assert_eq!(
            s(&p.www_not_yet_valid, Y2030),
            Err(VerifyError::NotValidYet)
        );
        assert_eq!(c(&p.alice_wrong_eku, Y2030), Err(VerifyError::WrongUsage));
        assert_eq!(
            verify_chain(
                std::slice::from_ref(&p.alice_untrusted.der),
                &roots,
                Y2030,
                Usage::Client,
                None
            ),
            Err(VerifyError::UnknownIssuer)
        );
        // The dates moved by whole days: valid up to the moved notAfter, expired one
        // second after it.
        let shift = validity_shift(Y2030);
        assert_eq!(shift % 86_400, 0);
        let until = u64::try_from(Y2027_06_01 + shift).unwrap();
        assert_eq!(s(&p.www, until), Ok(()));
        assert_eq!(s(&p.www, until + 1), Err(VerifyError::Expired));
        // Far on (the CA's notAfter past 2050 is a GeneralizedTime): the same.
        const Y2060: u64 = 2_840_140_800;
        let far = Pki::build_at(&mut Seeded::new(1), Y2060).unwrap();
        let far_roots = [far.root.der.clone()];
        let far_chain = |c: &Cert| vec![c.der.clone(), far.intermediate.der.clone()];
        let at_2060 =
            |c: &Cert| verify_chain(&far_chain(c), &far_roots, Y2060, Usage::Server, None);
        assert_eq!(at_2060(&far.www), Ok(()));
        assert_eq!(at_2060(&far.www_expired), Err(VerifyError::Expired));
        assert_eq!(
            at_2060(&far.www_not_yet_valid),
            Err(VerifyError::NotValidYet)
        );
        // Same keys: only the dates moved.
        let scen = pki();
        assert_eq!(p.www.key, scen.www.key);
        assert_eq!(p.root.key, scen.root.key);
        assert_ne!(p.www.der, scen.www.der);
    }

    #[test]
    fn pkcs8_v1_and_v2_are_the_same_key() {
        let p = pki();
        let v1 = p.alice.key.pkcs8_v1();
        assert_eq!(Key::from_pkcs8(&v1).unwrap(), p.alice.key);
        assert_eq!(Key::from_pkcs8(&p.alice.key.pkcs8).unwrap(), p.alice.key);
        assert!(Key::from_pkcs8(&[0x30, 0x00]).is_err());
    }

    #[test]
    fn signatures_verify_only_with_the_matching_key() {
        let p = pki();
        let mut rng = Seeded::new(9);
        let sig = p.alice.key.sign(b"hello", &mut rng).unwrap();
        assert_eq!(
            verify_signature(&p.alice.der, webpki::ring::ED25519, b"hello", &sig),
            Ok(())
        );
        let stray = p.stray_key.sign(b"hello", &mut rng).unwrap();
        assert_eq!(
            verify_signature(&p.alice.der, webpki::ring::ED25519, b"hello", &stray),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn ecdsa_leaves_verify_sign_deterministically_and_round_trip() {
        let p = pki();
        let roots = [p.root.der.clone()];
        for (c, usage, host) in [
            (&p.www_ecdsa, Usage::Server, Some("www.example.com")),
            (&p.alice_ecdsa, Usage::Client, None),
        ] {
            assert_eq!(c.key.kind, KeyKind::EcdsaP256);
            let chain = [c.der.clone(), p.intermediate.der.clone()];
            assert_eq!(
                verify_chain(&chain, &roots, SCENARIO_NOW, usage, host),
                Ok(())
            );
            // Same random source state, same signature; another state, another one.
            let a = c.key.sign(b"msg", &mut Seeded::new(5)).unwrap();
            assert_eq!(a, c.key.sign(b"msg", &mut Seeded::new(5)).unwrap());
            let b = c.key.sign(b"msg", &mut Seeded::new(6)).unwrap();
            assert_ne!(a, b);
            for sig in [&a, &b] {
                assert_eq!(
                    verify_signature(&c.der, webpki::ring::ECDSA_P256_SHA256, b"msg", sig),
                    Ok(())
                );
            }
            assert_eq!(
                verify_signature(&c.der, webpki::ring::ECDSA_P256_SHA256, b"other", &a),
                Err(VerifyError::BadSignature)
            );
            // An ECDSA signature is DER: SEQUENCE { r INTEGER, s INTEGER }.
            assert_eq!(a[0], 0x30);
            assert_eq!(Key::from_pkcs8(&c.key.pkcs8_v1()).unwrap(), c.key);
            assert_eq!(c.key.public_key().unwrap().len(), 65);
        }
        // The Ed25519 certificates did not move when the ECDSA ones were added.
        assert_ne!(p.www.der, p.www_ecdsa.der);
        assert_eq!(p.www.key.kind, KeyKind::Ed25519);
    }
}
