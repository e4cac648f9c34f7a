//! The primitives S/MIME encryption is made of, each from a crate that has it:
//!
//! - ECDH on P-256 (RFC 5753 §3.1, "ephemeral-static"): the sender's side with ring
//!   (an ephemeral key, which is all ring's `agreement` takes); the recipient's side,
//!   whose key is static (the one in his certificate), with RustCrypto's `p256`.
//! - The ANSI X9.63 KDF (SEC 1 §3.6.1) over ring's SHA-256 (or SHA-1, which is what
//!   OpenSSL's default `dhSinglePass-stdDH-sha1kdf-scheme` uses; read, never written).
//! - AES key wrap (RFC 3394) with RustCrypto's `aes-kw`.
//! - AES-256-CBC with PKCS #7 padding (RFC 5652 §6.3) with RustCrypto's `cbc` and `aes`.
//! - AES-256-GCM (RFC 5084) with ring.
//!
//! No function here panics on any input.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use cipherstage_transcript::rand::fixed;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256};
use ring::digest;

use crate::der::{single, Items};

/// Why a primitive refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// A public key is not a point on P-256 (or not in uncompressed form).
    BadPoint,
    /// A private scalar is zero or not below the group order.
    BadScalar,
    /// RFC 3394 §2.2.3: after unwrapping, the integrity register is not A6A6A6A6A6A6A6A6.
    UnwrapIntegrity,
    /// The wrapped key has the wrong length for a 256-bit key.
    WrapLength,
    /// The CBC ciphertext is not a whole number of 16-byte blocks.
    BlockLength,
    /// The last CBC block does not end with valid PKCS #7 padding.
    Padding,
    /// The GCM tag does not verify.
    Tag,
}

/// The hash of the X9.63 KDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfHash {
    /// SHA-1 (dhSinglePass-stdDH-sha1kdf-scheme, OpenSSL's default; read only).
    Sha1,
    /// SHA-256 (dhSinglePass-stdDH-sha256kdf-scheme, RFC 5753 §7.1.4; what we write).
    Sha256,
}

/// ANSI X9.63 KDF (SEC 1 v2 §3.6.1): `Hash(Z ‖ counter ‖ SharedInfo)` for
/// counter = 00000001, 00000002, … (32-bit big-endian), concatenated and cut to `len`.
pub fn x963_kdf(hash: KdfHash, z: &[u8], shared_info: &[u8], len: usize) -> Vec<u8> {
    let alg = match hash {
        KdfHash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        KdfHash::Sha256 => &digest::SHA256,
    };
    let mut out = Vec::with_capacity(len);
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut ctx = digest::Context::new(alg);
        ctx.update(z);
        ctx.update(&counter.to_be_bytes());
        ctx.update(shared_info);
        out.extend_from_slice(ctx.finish().as_ref());
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// The sender's half of ECDH: the ephemeral key from `scalar` (32 bytes from the
/// random source), its public point (65 bytes, uncompressed) and the shared secret Z
/// (the x-coordinate of scalar·Q) with the recipient's point `peer`.
pub fn ecdh_ephemeral(scalar: &[u8; 32], peer: &[u8]) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    // ring fills exactly 32 bytes for a P-256 private key (see transcript::rand).
    let private = EphemeralPrivateKey::generate(&ECDH_P256, &fixed(scalar))
        .map_err(|_| CryptoError::BadScalar)?;
    let public = private
        .compute_public_key()
        .map_err(|_| CryptoError::BadScalar)?
        .as_ref()
        .to_vec();
    let z = agreement::agree_ephemeral(private, &UnparsedPublicKey::new(&ECDH_P256, peer), |z| {
        z.to_vec()
    })
    .map_err(|_| CryptoError::BadPoint)?;
    Ok((public, z))
}

/// The recipient's half of ECDH with his static key: Z from his private `scalar` and
/// the originator's point `peer` (which must be on the curve).
pub fn ecdh_static(scalar: &[u8], peer: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if peer.first() != Some(&0x04) {
        return Err(CryptoError::BadPoint);
    }
    let sk = p256::SecretKey::from_slice(scalar).map_err(|_| CryptoError::BadScalar)?;
    let pk = p256::PublicKey::from_sec1_bytes(peer).map_err(|_| CryptoError::BadPoint)?;
    let shared = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
    Ok(shared.raw_secret_bytes().to_vec())
}

/// The private scalar of a P-256 PKCS#8 key (RFC 5208 around an RFC 5915 ECPrivateKey,
/// as ring and OpenSSL write it).
pub fn p256_scalar(pkcs8: &[u8]) -> Option<[u8; 32]> {
    let pki = single(pkcs8, 0x30)?;
    let mut it = Items::new(pki.body());
    it.expect(0x02)?;
    it.expect(0x30)?;
    let inner = it.expect(0x04)?;
    let ec = single(inner.body(), 0x30)?;
    let mut e = Items::new(ec.body());
    if e.expect(0x02)?.body() != [1] {
        return None;
    }
    e.expect(0x04)?.body().try_into().ok()
}

/// RFC 3394 key wrap of a 256-bit key under a 256-bit KEK: 40 bytes.
pub fn wrap(kek: &[u8; 32], key: &[u8; 32]) -> Result<[u8; 40], CryptoError> {
    let kek = aes_kw::KekAes256::new(kek.into());
    let mut out = [0u8; 40];
    kek.wrap(key, &mut out)
        .map_err(|_| CryptoError::WrapLength)?;
    Ok(out)
}

/// RFC 3394 key unwrap to a 256-bit key; fails unless the integrity check holds.
pub fn unwrap(kek: &[u8], wrapped: &[u8]) -> Result<[u8; 32], CryptoError> {
    let kek: &[u8; 32] = kek.try_into().map_err(|_| CryptoError::WrapLength)?;
    if wrapped.len() != 40 {
        return Err(CryptoError::WrapLength);
    }
    let kek = aes_kw::KekAes256::new(kek.into());
    let mut out = [0u8; 32];
    kek.unwrap(wrapped, &mut out).map_err(|e| match e {
        aes_kw::Error::IntegrityCheckFailed => CryptoError::UnwrapIntegrity,
        _ => CryptoError::WrapLength,
    })?;
    Ok(out)
}

type CbcEnc = cbc::Encryptor<aes::Aes256>;
type CbcDec = cbc::Decryptor<aes::Aes256>;

/// AES-256-CBC with PKCS #7 padding (1 to 16 bytes, each the pad length).
pub fn cbc_encrypt(key: &[u8; 32], iv: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    CbcEnc::new(key.into(), iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plain)
}

/// AES-256-CBC decryption; the padding must be valid.
pub fn cbc_decrypt(key: &[u8], iv: &[u8], ct: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key: &[u8; 32] = key.try_into().map_err(|_| CryptoError::WrapLength)?;
    let iv: &[u8; 16] = iv.try_into().map_err(|_| CryptoError::BlockLength)?;
    if ct.is_empty() || !ct.len().is_multiple_of(16) {
        return Err(CryptoError::BlockLength);
    }
    CbcDec::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(ct)
        .map_err(|_| CryptoError::Padding)
}

fn gcm_key(key: &[u8]) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::WrapLength)
}

/// AES-256-GCM with a 12-byte nonce: the ciphertext and the 16-byte tag.
pub fn gcm_seal(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    plain: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let k = gcm_key(key)?;
    let mut buf = plain.to_vec();
    let tag = k
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|_| CryptoError::Tag)?;
    Ok((buf, tag.as_ref().to_vec()))
}

/// AES-256-GCM decryption with a 12-byte nonce and a 16-byte tag.
pub fn gcm_open(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let k = gcm_key(key)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Tag)?;
    if tag.len() != 16 {
        return Err(CryptoError::Tag);
    }
    let mut buf = [ct, tag].concat();
    let n = k
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| CryptoError::Tag)?
        .len();
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ecdh_halves_agree() {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let bob = [7u8; 32];
        let sk = p256::SecretKey::from_slice(&bob).unwrap();
        let bob_pub = sk.public_key().to_encoded_point(false).as_bytes().to_vec();
        let (alice_pub, z) = ecdh_ephemeral(&[9u8; 32], &bob_pub).unwrap();
        assert_eq!(ecdh_static(&bob, &alice_pub).unwrap(), z);
        assert_eq!(ecdh_static(&bob, &[4; 65]), Err(CryptoError::BadPoint));
        assert_eq!(
            ecdh_static(&[0; 32], &alice_pub),
            Err(CryptoError::BadScalar)
        );
    }

    #[test]
    fn cbc_and_gcm_round_trip_and_refuse_changes() {
        let (k, iv) = ([1u8; 32], [2u8; 16]);
        for n in [0, 1, 15, 16, 17] {
            let p = vec![0x41; n];
            let c = cbc_encrypt(&k, &iv, &p);
            assert_eq!(c.len(), (n / 16 + 1) * 16);
            assert_eq!(cbc_decrypt(&k, &iv, &c).unwrap(), p);
        }
        let mut c = cbc_encrypt(&k, &iv, b"hello");
        c[15] ^= 1;
        assert_eq!(cbc_decrypt(&k, &iv, &c), Err(CryptoError::Padding));
        assert_eq!(cbc_decrypt(&k, &iv, &c[..5]), Err(CryptoError::BlockLength));
        let (c, t) = gcm_seal(&k, &[3; 12], b"", b"hello").unwrap();
        assert_eq!(gcm_open(&k, &[3; 12], b"", &c, &t).unwrap(), b"hello");
        let mut bad = c.clone();
        bad[0] ^= 1;
        assert_eq!(gcm_open(&k, &[3; 12], b"", &bad, &t), Err(CryptoError::Tag));
        assert_eq!(gcm_open(&k, &[3; 11], b"", &c, &t), Err(CryptoError::Tag));
        assert_eq!(
            gcm_open(&k, &[3; 12], b"", &c, &t[..15]),
            Err(CryptoError::Tag)
        );
    }
}
