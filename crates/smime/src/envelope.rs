//! CMS EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083, RFC 5084) with
//! ECDH ephemeral-static key agreement (RFC 5753): one KeyAgreeRecipientInfo per
//! recipient, each with its own ephemeral key.
//!
//! ```text
//! ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT ANY }
//!   -- id-envelopedData 1.2.840.113549.1.7.3, id-ct-authEnvelopedData 1.2.840.113549.1.9.16.1.23
//! EnvelopedData ::= SEQUENCE {                      -- RFC 5652 §6.1
//!      version CMSVersion,                          -- 2: a kari is present
//!      originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//!      recipientInfos SET OF RecipientInfo,
//!      encryptedContentInfo EncryptedContentInfo,
//!      unprotectedAttrs [1] IMPLICIT Attributes OPTIONAL }
//! AuthEnvelopedData ::= SEQUENCE {                  -- RFC 5083 §2.1
//!      version CMSVersion,                          -- always 0
//!      originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//!      recipientInfos SET OF RecipientInfo,
//!      authEncryptedContentInfo EncryptedContentInfo,
//!      authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
//!      mac OCTET STRING,                            -- the GCM tag
//!      unauthAttrs [2] IMPLICIT Attributes OPTIONAL }
//! RecipientInfo ::= CHOICE { …, kari [1] KeyAgreeRecipientInfo, … }
//! KeyAgreeRecipientInfo ::= SEQUENCE {              -- RFC 5652 §6.2.2
//!      version 3,
//!      originator [0] EXPLICIT originatorKey [1] OriginatorPublicKey,
//!      ukm [1] EXPLICIT OCTET STRING OPTIONAL,
//!      keyEncryptionAlgorithm { dhSinglePass-stdDH-sha256kdf-scheme, { id-aes256-wrap } },
//!      recipientEncryptedKeys SEQUENCE OF SEQUENCE {
//!           rid IssuerAndSerialNumber, encryptedKey OCTET STRING } }
//! OriginatorPublicKey ::= SEQUENCE { algorithm { id-ecPublicKey }, publicKey BIT STRING }
//! EncryptedContentInfo ::= SEQUENCE {
//!      contentType id-data,
//!      contentEncryptionAlgorithm { id-aes256-CBC, IV OCTET STRING }
//!                               | { id-aes256-GCM, GCMParameters { nonce, icvLen 16 } },
//!      encryptedContent [0] IMPLICIT OCTET STRING }
//! ECC-CMS-SharedInfo ::= SEQUENCE {                 -- RFC 5753 §7.2, the KDF's SharedInfo
//!      keyInfo { id-aes256-wrap },                  -- parameters absent
//!      entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,   -- the ukm
//!      suppPubInfo [2] EXPLICIT OCTET STRING }      -- KEK length in bits, 32-bit big-endian
//! ```
//!
//! The reader never panics and never allocates by a length it read: every length is
//! checked against the bytes actually present before anything is taken.

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::FailReason;

use crate::cms::{issuer_and_serial, OID_DATA};
use crate::crypto::{self, CryptoError, KdfHash};
use crate::der::{alg, seq, single, tlv, Items};

/// id-envelopedData, 1.2.840.113549.1.7.3.
pub const OID_ENVELOPED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
/// id-ct-authEnvelopedData, 1.2.840.113549.1.9.16.1.23.
pub const OID_AUTH_ENVELOPED_DATA: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17,
];
/// dhSinglePass-stdDH-sha256kdf-scheme, 1.3.132.1.11.1 (RFC 5753 §7.1.4).
pub const OID_ECDH_SHA256KDF: &[u8] = &[0x2b, 0x81, 0x04, 0x01, 0x0b, 0x01];
/// dhSinglePass-stdDH-sha1kdf-scheme, 1.3.133.16.840.63.0.2 (OpenSSL's default).
pub const OID_ECDH_SHA1KDF: &[u8] = &[0x2b, 0x81, 0x05, 0x10, 0x86, 0x48, 0x3f, 0x00, 0x02];
/// id-aes256-wrap, 2.16.840.1.101.3.4.1.45 (RFC 3565).
pub const OID_AES256_WRAP: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2d];
/// id-aes256-CBC, 2.16.840.1.101.3.4.1.42 (RFC 3565).
pub const OID_AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];
/// id-aes256-GCM, 2.16.840.1.101.3.4.1.46 (RFC 5084).
pub const OID_AES256_GCM: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2e];
/// id-ecPublicKey, 1.2.840.10045.2.1.
pub const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 (P-256), 1.2.840.10045.3.1.7.
pub const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The content-encryption algorithm, and with it the CMS type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    /// EnvelopedData with AES-256-CBC: confidentiality only.
    Aes256Cbc,
    /// AuthEnvelopedData with AES-256-GCM: confidentiality and integrity.
    Aes256Gcm,
}

impl Cipher {
    /// The IV (CBC, 16 bytes) or nonce (GCM, 12 bytes, RFC 5084 §3.2) length.
    pub fn iv_len(self) -> usize {
        match self {
            Cipher::Aes256Cbc => 16,
            Cipher::Aes256Gcm => 12,
        }
    }
}

mod parse;
pub use parse::{parse, DecodeError, DecodeKind, EncryptedKey, Envelope, KeyAgree};

/// ECC-CMS-SharedInfo for an AES-256 wrap key (RFC 5753 §7.2).
pub fn shared_info(ukm: Option<&[u8]>) -> Vec<u8> {
    let ukm = ukm.map(|u| tlv(0xa0, &tlv(0x04, u))).unwrap_or_default();
    seq(&[
        &alg(OID_AES256_WRAP),
        &ukm,
        &tlv(0xa2, &tlv(0x04, &256u32.to_be_bytes())),
    ])
}

/// The P-256 public point (65 bytes, uncompressed) of a certificate.
pub fn certificate_point(cert: &[u8]) -> Option<&[u8]> {
    let c = single(cert, 0x30)?;
    let tbs = Items::new(c.body()).expect(0x30)?;
    let mut it = Items::new(tbs.body());
    it.expect(0xa0);
    for _ in 0..5 {
        it.next_el()?;
    }
    let spki = it.expect(0x30)?;
    let mut s = Items::new(spki.body());
    let a = s.expect(0x30)?;
    let mut ai = Items::new(a.body());
    if ai.expect(0x06)?.body() != OID_EC_PUBLIC_KEY || ai.expect(0x06)?.body() != OID_P256 {
        return None;
    }
    match s.expect(0x03)?.body().split_first()? {
        (0, p) if p.len() == 65 && p.first() == Some(&4) => Some(p),
        _ => None,
    }
}

/// What the sender computed for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientKeys {
    /// The recipient's certificate's public point.
    pub recipient_point: Vec<u8>,
    /// The ephemeral private scalar (drawn from the random source).
    pub ephemeral_private: [u8; 32],
    /// The ephemeral public point, sent as originatorKey.
    pub ephemeral_point: Vec<u8>,
    /// The ECDH shared secret Z (x-coordinate).
    pub z: Vec<u8>,
    /// The KDF's SharedInfo.
    pub shared_info: Vec<u8>,
    /// The key-encryption key.
    pub kek: [u8; 32],
    /// The CEK wrapped under the KEK.
    pub wrapped: [u8; 40],
}

/// An encrypted structure and every secret behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The ContentInfo, DER.
    pub der: Vec<u8>,
    /// The content-encryption key.
    pub cek: [u8; 32],
    /// The IV (CBC) or nonce (GCM).
    pub iv: Vec<u8>,
    /// One entry per recipient, in order.
    pub recipients: Vec<RecipientKeys>,
}

/// Why encrypting failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptError {
    /// The random source failed.
    Random,
    /// A recipient's certificate has no P-256 key.
    Certificate,
    /// A primitive refused (a drawn scalar out of range: about 2^-32).
    Crypto(CryptoError),
}

fn draw<const N: usize>(rng: &mut dyn RandomSource) -> Result<[u8; N], EncryptError> {
    let mut b = [0u8; N];
    rng.fill(&mut b).map_err(|_| EncryptError::Random)?;
    Ok(b)
}

/// Encrypts `content` (a MIME entity) for every certificate in `recipients`: the CEK
/// and the IV or nonce first, then one ephemeral key per recipient, all from `rng`.
pub fn encrypt(
    content: &[u8],
    recipients: &[&[u8]],
    cipher: Cipher,
    rng: &mut dyn RandomSource,
) -> Result<Sealed, EncryptError> {
    let cek: [u8; 32] = draw(rng)?;
    let (iv, enc_alg, ciphertext, mac) = match cipher {
        Cipher::Aes256Cbc => {
            let iv: [u8; 16] = draw(rng)?;
            let ct = crypto::cbc_encrypt(&cek, &iv, content);
            let a = seq(&[&tlv(0x06, OID_AES256_CBC), &tlv(0x04, &iv)]);
            (iv.to_vec(), a, ct, Vec::new())
        }
        Cipher::Aes256Gcm => {
            let nonce: [u8; 12] = draw(rng)?;
            // No authAttrs: the additional data is empty (RFC 5083 §2.2).
            let (ct, tag) =
                crypto::gcm_seal(&cek, &nonce, &[], content).map_err(EncryptError::Crypto)?;
            let params = seq(&[&tlv(0x04, &nonce), &tlv(0x02, &[16])]);
            let a = seq(&[&tlv(0x06, OID_AES256_GCM), &params]);
            (nonce.to_vec(), a, ct, tag)
        }
    };
    let mut keys = Vec::new();
    let mut infos = Vec::new();
    let info = shared_info(None);
    for cert in recipients {
        let point = certificate_point(cert).ok_or(EncryptError::Certificate)?;
        let (issuer, serial) = issuer_and_serial(cert).ok_or(EncryptError::Certificate)?;
        let scalar: [u8; 32] = draw(rng)?;
        let (eph, z) = crypto::ecdh_ephemeral(&scalar, point).map_err(EncryptError::Crypto)?;
        let kek: [u8; 32] = crypto::x963_kdf(KdfHash::Sha256, &z, &info, 32)
            .try_into()
            .map_err(|_| EncryptError::Crypto(CryptoError::WrapLength))?;
        let wrapped = crypto::wrap(&kek, &cek).map_err(EncryptError::Crypto)?;
        // originatorKey [1] IMPLICIT OriginatorPublicKey, inside originator [0] EXPLICIT.
        let originator_key = tlv(
            0xa1,
            &[
                alg(OID_EC_PUBLIC_KEY),
                tlv(0x03, &[&[0u8][..], &eph].concat()),
            ]
            .concat(),
        );
        let kari = tlv(
            0xa1,
            &[
                tlv(0x02, &[3]),
                tlv(0xa0, &originator_key),
                seq(&[&tlv(0x06, OID_ECDH_SHA256KDF), &alg(OID_AES256_WRAP)]),
                seq(&[&seq(&[&seq(&[issuer, serial]), &tlv(0x04, &wrapped)])]),
            ]
            .concat(),
        );
        infos.push(kari);
        keys.push(RecipientKeys {
            recipient_point: point.to_vec(),
            ephemeral_private: scalar,
            ephemeral_point: eph,
            z,
            shared_info: info.clone(),
            kek,
            wrapped,
        });
    }
    // DER orders a SET OF by the encodings.
    infos.sort();
    let eci = seq(&[&tlv(0x06, OID_DATA), &enc_alg, &tlv(0x80, &ciphertext)]);
    let (oid, body) = match cipher {
        Cipher::Aes256Cbc => (
            OID_ENVELOPED_DATA,
            seq(&[&tlv(0x02, &[2]), &tlv(0x31, &infos.concat()), &eci]),
        ),
        Cipher::Aes256Gcm => (
            OID_AUTH_ENVELOPED_DATA,
            seq(&[
                &tlv(0x02, &[0]),
                &tlv(0x31, &infos.concat()),
                &eci,
                &tlv(0x04, &mac),
            ]),
        ),
    };
    Ok(Sealed {
        der: seq(&[&tlv(0x06, oid), &tlv(0xa0, &body)]),
        cek,
        iv,
        recipients: keys,
    })
}

/// One step of the recipient's decryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenStep {
    /// The CMS structure decodes.
    Cms,
    /// A RecipientInfo names the recipient's certificate.
    Recipient,
    /// The originator's ephemeral key is a point on P-256.
    OriginatorKey,
    /// RFC 3394 §2.2.3: the unwrapped key passes the integrity check.
    KeyUnwrap,
    /// CBC: the decrypted content ends with valid PKCS #7 padding.
    Padding,
    /// GCM: the tag verifies over the content.
    Tag,
}

impl OpenStep {
    /// Stable key of the check (`smime.check.key_unwrap`).
    pub fn key(self) -> &'static str {
        match self {
            OpenStep::Cms => "smime.check.env_cms",
            OpenStep::Recipient => "smime.check.recipient",
            OpenStep::OriginatorKey => "smime.check.originator_key",
            OpenStep::KeyUnwrap => "smime.check.key_unwrap",
            OpenStep::Padding => "smime.check.padding",
            OpenStep::Tag => "smime.check.gcm_tag",
        }
    }
}

/// Why the recipient could not decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// The CMS does not decode.
    Decode(DecodeError),
    /// No RecipientInfo names this certificate.
    NotARecipient,
    /// The private key is not a P-256 key.
    Key,
    /// A primitive failed (the originator's point, the unwrap, the padding, the tag).
    Crypto(CryptoError),
}

/// What the recipient computed, as far as he got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// The content cipher, once the CMS decoded.
    pub cipher: Option<Cipher>,
    /// Every step made, with its failure; stops at the first failure.
    pub steps: Vec<(OpenStep, Option<FailReason>)>,
    /// The KDF's hash of the recipient's RecipientInfo.
    pub kdf: Option<KdfHash>,
    /// The originator's ephemeral point.
    pub originator: Vec<u8>,
    /// The recipient's private scalar (an input of his ECDH).
    pub private: Vec<u8>,
    /// The ECDH shared secret Z.
    pub z: Vec<u8>,
    /// The KDF's SharedInfo.
    pub shared_info: Vec<u8>,
    /// The wrapped key addressed to him.
    pub wrapped: Vec<u8>,
    /// The key-encryption key.
    pub kek: Vec<u8>,
    /// The content-encryption key.
    pub cek: Vec<u8>,
    /// The decrypted content.
    pub content: Vec<u8>,
    /// The first failure.
    pub error: Option<OpenError>,
}

impl Opening {
    /// The content, or why there is none.
    pub fn result(self) -> Result<Vec<u8>, OpenError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.content),
        }
    }
}

/// The recipient with certificate `cert` and PKCS#8 key `pkcs8` decrypts `der`.
/// Never panics.
pub fn open(der: &[u8], cert: &[u8], pkcs8: &[u8]) -> Opening {
    let mut o = Opening {
        cipher: None,
        steps: Vec::new(),
        kdf: None,
        originator: Vec::new(),
        private: Vec::new(),
        z: Vec::new(),
        shared_info: Vec::new(),
        wrapped: Vec::new(),
        kek: Vec::new(),
        cek: Vec::new(),
        content: Vec::new(),
        error: None,
    };
    let fail = |o: &mut Opening, step, reason, e| {
        o.steps.push((step, Some(reason)));
        o.error = Some(e);
    };
    let env = match parse(der) {
        Ok(e) => e,
        Err(e) => {
            fail(
                &mut o,
                OpenStep::Cms,
                FailReason::Malformed,
                OpenError::Decode(e),
            );
            return o;
        }
    };
    o.steps.push((OpenStep::Cms, None));
    o.cipher = Some(env.cipher);
    let me = issuer_and_serial(cert);
    let found = env.recipients.iter().find_map(|ka| {
        let (issuer, serial) = me?;
        let k = ka
            .keys
            .iter()
            .find(|k| k.issuer == issuer && k.serial == serial)?;
        Some((ka, k))
    });
    let Some((ka, ek)) = found else {
        fail(
            &mut o,
            OpenStep::Recipient,
            FailReason::Malformed,
            OpenError::NotARecipient,
        );
        return o;
    };
    o.steps.push((OpenStep::Recipient, None));
    o.kdf = Some(ka.kdf);
    o.originator = ka.originator.to_vec();
    o.wrapped = ek.key.to_vec();
    let Some(scalar) = crypto::p256_scalar(pkcs8) else {
        o.error = Some(OpenError::Key);
        return o;
    };
    o.private = scalar.to_vec();
    match crypto::ecdh_static(&scalar, ka.originator) {
        Ok(z) => o.z = z,
        Err(e) => {
            fail(
                &mut o,
                OpenStep::OriginatorKey,
                FailReason::Malformed,
                OpenError::Crypto(e),
            );
            return o;
        }
    }
    o.steps.push((OpenStep::OriginatorKey, None));
    o.shared_info = shared_info(ka.ukm);
    o.kek = crypto::x963_kdf(ka.kdf, &o.z, &o.shared_info, 32);
    match crypto::unwrap(&o.kek, ek.key) {
        Ok(cek) => o.cek = cek.to_vec(),
        Err(e) => {
            fail(
                &mut o,
                OpenStep::KeyUnwrap,
                FailReason::TagMismatch,
                OpenError::Crypto(e),
            );
            return o;
        }
    }
    o.steps.push((OpenStep::KeyUnwrap, None));
    let (step, reason, result) = match env.cipher {
        Cipher::Aes256Cbc => (
            OpenStep::Padding,
            FailReason::Malformed,
            crypto::cbc_decrypt(&o.cek, env.iv, env.ciphertext),
        ),
        Cipher::Aes256Gcm => {
            // With authAttrs, the additional data is their DER as a SET OF (RFC 5083 §2.2).
            let aad = env.auth_attrs.map(|a| tlv(0x31, a)).unwrap_or_default();
            (
                OpenStep::Tag,
                FailReason::TagMismatch,
                crypto::gcm_open(&o.cek, env.iv, &aad, env.ciphertext, env.mac),
            )
        }
    };
    match result {
        Ok(c) => {
            o.steps.push((step, None));
            o.content = c;
        }
        Err(e) => fail(&mut o, step, reason, OpenError::Crypto(e)),
    }
    o
}

/// [`open`], as a result.
pub fn decrypt(der: &[u8], cert: &[u8], pkcs8: &[u8]) -> Result<Vec<u8>, OpenError> {
    open(der, cert, pkcs8).result()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cipherstage_pki::Pki;
    use cipherstage_transcript::rand::Seeded;

    #[test]
    fn both_recipients_decrypt_both_ciphers_and_nobody_else() {
        let pki = Pki::build(&mut Seeded::new(1)).unwrap();
        let (bob, alice) = (&pki.bob_mail, &pki.alice_mail);
        for cipher in [Cipher::Aes256Cbc, Cipher::Aes256Gcm] {
            let s = encrypt(
                b"hello",
                &[&bob.der, &alice.der],
                cipher,
                &mut Seeded::new(4),
            )
            .unwrap();
            let again = encrypt(
                b"hello",
                &[&bob.der, &alice.der],
                cipher,
                &mut Seeded::new(4),
            );
            assert_eq!(again.unwrap(), s);
            for c in [bob, alice] {
                assert_eq!(decrypt(&s.der, &c.der, &c.key.pkcs8).unwrap(), b"hello");
            }
            let env = parse(&s.der).unwrap();
            assert_eq!(env.recipients.len(), 2);
            assert_eq!(
                decrypt(&s.der, &pki.mallory_mail.der, &pki.mallory_mail.key.pkcs8),
                Err(OpenError::NotARecipient)
            );
        }
    }

    #[test]
    fn flipped_truncated_and_oversized_input_is_a_typed_error_never_a_panic() {
        let pki = Pki::build(&mut Seeded::new(1)).unwrap();
        let bob = &pki.bob_mail;
        for cipher in [Cipher::Aes256Cbc, Cipher::Aes256Gcm] {
            let s = encrypt(
                b"hello",
                &[&bob.der, &pki.alice_mail.der],
                cipher,
                &mut Seeded::new(9),
            )
            .unwrap();
            for i in 0..s.der.len() {
                for bit in [0x01, 0x80] {
                    let mut d = s.der.clone();
                    d[i] ^= bit;
                    let o = open(&d, &bob.der, &bob.key.pkcs8);
                    if cipher == Cipher::Aes256Gcm && o.error.is_none() {
                        assert_eq!(o.content, b"hello", "byte {i}");
                    }
                }
            }
            for n in 0..s.der.len() {
                let e = parse(&s.der[..n]).unwrap_err();
                assert!(e.offset <= n, "{n}: {e:?}");
            }
            let mut long = s.der.clone();
            long.push(0);
            assert_eq!(parse(&long).unwrap_err().kind, DecodeKind::Trailing);
        }
        // A length far past the end: refused before anything is taken or allocated.
        let huge = [0x30, 0x83, 0xff, 0xff, 0xff, 0x06, 0x00];
        assert_eq!(parse(&huge).unwrap_err().kind, DecodeKind::Der);
        assert_eq!(
            open(&[], &bob.der, &bob.key.pkcs8).steps,
            vec![(OpenStep::Cms, Some(FailReason::Malformed))]
        );
    }
}
