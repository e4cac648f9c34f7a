//! The algorithms of an IKE SA, all from `ring`: the PRF and prf+ (RFC 7296 §2.13),
//! Diffie-Hellman over Curve25519 (RFC 8031) and the 256-bit ECP group (RFC 5903), and
//! the AEAD of the SK payload (RFC 5282 for AES-GCM, RFC 7634 for ChaCha20-Poly1305).

use cipherstage_transcript::rand::{fixed, RandomError, RandomSource};
use ring::{aead, agreement, hmac};

use crate::consts::transform;

/// Output (and preferred key) length of PRF_HMAC_SHA2_256.
pub const PRF_LEN: usize = 32;
/// Length of the AEAD's explicit IV in the SK payload and ESP.
pub const IV_LEN: usize = 8;
/// Length of the ICV (the AEAD tag) in the SK payload and ESP.
pub const ICV_LEN: usize = 16;
/// Length of the salt taken from the key material after each AEAD key (RFC 5282 §7.1).
pub const SALT_LEN: usize = 4;
/// prf+ can make at most 255 blocks (its counter is one byte).
pub const PRF_PLUS_MAX: usize = 255 * PRF_LEN;

/// A crypto operation failed: a peer's public value is invalid, or a tag did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// The peer's KE data is not a valid point of the group (or gives an all-zero secret).
    BadPublicValue,
    /// The AEAD tag did not verify.
    TagMismatch,
    /// A key of the wrong length, or too much prf+ output asked for.
    Internal,
    /// The random source failed.
    Random,
}

impl From<RandomError> for CryptoError {
    fn from(_: RandomError) -> Self {
        CryptoError::Random
    }
}

/// prf(K, S) = HMAC-SHA-256(K, S) (PRF_HMAC_SHA2_256, RFC 4868).
pub fn prf(key: &[u8], data: &[&[u8]]) -> [u8; PRF_LEN] {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&k);
    for d in data {
        ctx.update(d);
    }
    let mut out = [0u8; PRF_LEN];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// prf+(K, S) = T1 | T2 | …, Tn = prf(K, Tn-1 | S | n) (RFC 7296 §2.13), `len` bytes.
pub fn prf_plus(key: &[u8], seed: &[u8], len: usize) -> Result<Vec<u8>, CryptoError> {
    if len > PRF_PLUS_MAX {
        return Err(CryptoError::Internal);
    }
    let mut out = Vec::with_capacity(len);
    let mut t: Vec<u8> = Vec::new();
    let mut n: u8 = 1;
    while out.len() < len {
        let block = prf(key, &[&t, seed, &[n]]);
        out.extend_from_slice(&block);
        t = block.to_vec();
        n = n.wrapping_add(1);
    }
    out.truncate(len);
    Ok(out)
}

/// The encryption transform of an SA (an AEAD: no separate integrity transform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encr {
    /// ENCR_AES_GCM_16 with a 128-bit key.
    AesGcm128,
    /// ENCR_AES_GCM_16 with a 256-bit key.
    AesGcm256,
    /// ENCR_CHACHA20_POLY1305.
    ChaCha20Poly1305,
}

impl Encr {
    /// Every transform, in our order of preference.
    pub const ALL: [Encr; 3] = [Encr::AesGcm256, Encr::AesGcm128, Encr::ChaCha20Poly1305];

    /// Stable id (`aes256gcm`), as in the ESP core.
    pub fn as_str(self) -> &'static str {
        self.esp().as_str()
    }

    /// The transform with this id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == id)
    }

    /// The transform id and, for AES-GCM, the Key Length attribute in bits.
    pub fn wire(self) -> (u16, Option<u16>) {
        match self {
            Encr::AesGcm128 => (transform::ENCR_AES_GCM_16, Some(128)),
            Encr::AesGcm256 => (transform::ENCR_AES_GCM_16, Some(256)),
            Encr::ChaCha20Poly1305 => (transform::ENCR_CHACHA20_POLY1305, None),
        }
    }

    /// The transform these wire values name.
    pub fn from_wire(id: u16, key_bits: Option<u16>) -> Option<Self> {
        match (id, key_bits) {
            (transform::ENCR_AES_GCM_16, Some(128)) => Some(Encr::AesGcm128),
            (transform::ENCR_AES_GCM_16, Some(256)) => Some(Encr::AesGcm256),
            (transform::ENCR_CHACHA20_POLY1305, None) => Some(Encr::ChaCha20Poly1305),
            _ => None,
        }
    }

    /// Cipher key length (without the salt).
    pub fn key_len(self) -> usize {
        self.esp().key_len()
    }

    /// Key material one direction takes: the key and the 4-byte salt.
    pub fn keymat_len(self) -> usize {
        self.key_len() + SALT_LEN
    }

    /// The same transform in the ESP core.
    pub fn esp(self) -> cipherstage_ipsec::Algorithm {
        match self {
            Encr::AesGcm128 => cipherstage_ipsec::Algorithm::Aes128Gcm,
            Encr::AesGcm256 => cipherstage_ipsec::Algorithm::Aes256Gcm,
            Encr::ChaCha20Poly1305 => cipherstage_ipsec::Algorithm::ChaCha20Poly1305,
        }
    }

    fn ring(self) -> &'static aead::Algorithm {
        match self {
            Encr::AesGcm128 => &aead::AES_128_GCM,
            Encr::AesGcm256 => &aead::AES_256_GCM,
            Encr::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    fn key_and_nonce(
        self,
        keymat: &[u8],
        iv: [u8; IV_LEN],
    ) -> Result<(aead::LessSafeKey, aead::Nonce), CryptoError> {
        let (key, salt) = keymat
            .split_at_checked(self.key_len())
            .ok_or(CryptoError::Internal)?;
        if salt.len() != SALT_LEN {
            return Err(CryptoError::Internal);
        }
        let unbound = aead::UnboundKey::new(self.ring(), key).map_err(|_| CryptoError::Internal)?;
        let mut nonce = [0u8; 12];
        nonce[..SALT_LEN].copy_from_slice(salt);
        nonce[SALT_LEN..].copy_from_slice(&iv);
        Ok((
            aead::LessSafeKey::new(unbound),
            aead::Nonce::assume_unique_for_key(nonce),
        ))
    }

    /// Encrypts `plaintext` in place with key ‖ salt `keymat` and returns the ICV.
    pub fn seal(
        self,
        keymat: &[u8],
        iv: [u8; IV_LEN],
        aad: &[u8],
        plaintext: &mut [u8],
    ) -> Result<[u8; ICV_LEN], CryptoError> {
        let (key, nonce) = self.key_and_nonce(keymat, iv)?;
        let tag = key
            .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), plaintext)
            .map_err(|_| CryptoError::Internal)?;
        let mut out = [0u8; ICV_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts ciphertext ‖ ICV; a wrong key or any changed byte is a tag mismatch.
    pub fn open(
        self,
        keymat: &[u8],
        iv: [u8; IV_LEN],
        aad: &[u8],
        ciphertext_and_icv: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let (key, nonce) = self.key_and_nonce(keymat, iv)?;
        let mut buf = ciphertext_and_icv.to_vec();
        let plain = key
            .open_in_place(nonce, aead::Aad::from(aad), &mut buf)
            .map_err(|_| CryptoError::TagMismatch)?;
        Ok(plain.to_vec())
    }
}

/// A Diffie-Hellman group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Curve25519 (RFC 8031): 32-byte public values, 32-byte secret.
    Curve25519,
    /// The 256-bit random ECP group (RFC 5903): x ‖ y public values, x as the secret.
    Ecp256,
}

impl Group {
    /// Every group, in our order of preference.
    pub const ALL: [Group; 2] = [Group::Curve25519, Group::Ecp256];

    /// Stable id (`curve25519`).
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Curve25519 => "curve25519",
            Group::Ecp256 => "ecp256",
        }
    }

    /// The group with this id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == id)
    }

    /// The transform id (the DH Group Num of a KE payload).
    pub fn number(self) -> u16 {
        match self {
            Group::Curve25519 => transform::DH_CURVE25519,
            Group::Ecp256 => transform::DH_ECP256,
        }
    }

    /// The group with this transform id.
    pub fn from_number(n: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.number() == n)
    }

    /// Length of a public value in a KE payload.
    pub fn public_len(self) -> usize {
        match self {
            Group::Curve25519 => 32,
            Group::Ecp256 => 64,
        }
    }

    fn ring(self) -> &'static agreement::Algorithm {
        match self {
            Group::Curve25519 => &agreement::X25519,
            Group::Ecp256 => &agreement::ECDH_P256,
        }
    }
}

/// An ephemeral DH private value, kept as the 32 random bytes ring makes it from, so a
/// state holding it can be cloned and the same seed gives the same key.
#[derive(Clone, PartialEq, Eq)]
pub struct DhPrivate {
    group: Group,
    seed: [u8; 32],
    public: Vec<u8>,
}

impl core::fmt::Debug for DhPrivate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DhPrivate")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl DhPrivate {
    /// A fresh private value for `group`, drawn from `rng`.
    pub fn generate(group: Group, rng: &mut dyn RandomSource) -> Result<Self, CryptoError> {
        let mut seed = [0u8; 32];
        rng.fill(&mut seed)?;
        Self::from_seed(group, seed)
    }

    /// The private value ring makes from these 32 bytes (known-answer tests).
    pub fn from_seed(group: Group, seed: [u8; 32]) -> Result<Self, CryptoError> {
        let key = Self::key(group, &seed)?;
        let public = key
            .compute_public_key()
            .map_err(|_| CryptoError::Internal)?;
        let public = match group {
            Group::Curve25519 => public.as_ref().to_vec(),
            // ring writes the uncompressed point 04 ‖ x ‖ y; IKE carries x ‖ y (RFC 5903 §7).
            Group::Ecp256 => public.as_ref().get(1..).unwrap_or(&[]).to_vec(),
        };
        Ok(DhPrivate {
            group,
            seed,
            public,
        })
    }

    fn key(group: Group, seed: &[u8; 32]) -> Result<agreement::EphemeralPrivateKey, CryptoError> {
        agreement::EphemeralPrivateKey::generate(group.ring(), &fixed(seed))
            .map_err(|_| CryptoError::Internal)
    }

    /// The 32 random bytes it was made from: the private value a shared secret's
    /// formula shows.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// Its group.
    pub fn group(&self) -> Group {
        self.group
    }

    /// The public value as a KE payload carries it.
    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// The shared secret g^ir with the peer's KE data.
    pub fn agree(&self, peer: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if peer.len() != self.group.public_len() {
            return Err(CryptoError::BadPublicValue);
        }
        let peer_ring = match self.group {
            Group::Curve25519 => peer.to_vec(),
            Group::Ecp256 => [&[0x04], peer].concat(),
        };
        let key = Self::key(self.group, &self.seed)?;
        let theirs = agreement::UnparsedPublicKey::new(self.group.ring(), peer_ring);
        let secret = agreement::agree_ephemeral(key, &theirs, |s| s.to_vec())
            .map_err(|_| CryptoError::BadPublicValue)?;
        // RFC 8031 §2: an all-zero X25519 result MUST be rejected.
        if secret.iter().all(|&b| b == 0) {
            return Err(CryptoError::BadPublicValue);
        }
        Ok(secret)
    }
}
