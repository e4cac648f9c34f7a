//! The key schedule (RFC 9846 §7.1), traffic keys (§7.3) and record protection (§5.2).
//!
//! ```text
//!              0
//!              |
//!    PSK ->  HKDF-Extract = Early Secret
//!              |
//!              v
//!        Derive-Secret(., "derived", "")
//!              |
//!    (EC)DHE -> HKDF-Extract = Handshake Secret
//!              +-----> Derive-Secret(., "c hs traffic", ClientHello...ServerHello)
//!              +-----> Derive-Secret(., "s hs traffic", ClientHello...ServerHello)
//!              v
//!        Derive-Secret(., "derived", "")
//!              |
//!    0 -> HKDF-Extract = Master Secret
//!              +-----> Derive-Secret(., "c ap traffic", ClientHello...server Finished)
//!              +-----> Derive-Secret(., "s ap traffic", ClientHello...server Finished)
//!              +-----> Derive-Secret(., "exp master", ClientHello...server Finished)
//!              +-----> Derive-Secret(., "res master", ClientHello...client Finished)
//! ```
//! HKDF is written on ring's HMAC so every intermediate secret can be shown.

use ring::{aead, digest, hmac};

use crate::enums::{CipherSuite, ContentType};
use crate::record::{field, Header, HEADER_LEN, TLS12};

/// The hash of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl Hash {
    /// Output length.
    pub fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }

    /// Always false (hashes have output); here for clippy's `len_without_is_empty`.
    pub fn is_empty(self) -> bool {
        false
    }

    fn hmac_alg(self) -> hmac::Algorithm {
        match self {
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha384 => hmac::HMAC_SHA384,
        }
    }

    /// Hash of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
        };
        digest::digest(alg, data).as_ref().to_vec()
    }

    /// HMAC with `key` over `data`.
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(self.hmac_alg(), key), data)
            .as_ref()
            .to_vec()
    }

    /// HKDF-Extract(salt, ikm) (RFC 5869 §2.2).
    pub fn extract(self, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
        self.hmac(salt, ikm)
    }

    /// HKDF-Expand(prk, info, len) (RFC 5869 §2.3); `len` ≤ 255 × hash length.
    pub fn expand(self, prk: &[u8], info: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut t: Vec<u8> = Vec::new();
        let mut i = 1u8;
        while out.len() < len {
            let mut input = t.clone();
            input.extend_from_slice(info);
            input.push(i);
            t = self.hmac(prk, &input);
            out.extend_from_slice(&t);
            i = i.wrapping_add(1);
        }
        out.truncate(len);
        out
    }

    /// HKDF-Expand-Label(secret, label, context, len) (RFC 9846 §7.1).
    pub fn expand_label(self, secret: &[u8], label: &[u8], context: &[u8], len: usize) -> Vec<u8> {
        self.expand(secret, &hkdf_label(label, context, len), len)
    }

    /// Derive-Secret(secret, label, transcript_hash).
    pub fn derive_secret(self, secret: &[u8], label: &[u8], transcript_hash: &[u8]) -> Vec<u8> {
        self.expand_label(secret, label, transcript_hash, self.len())
    }
}

/// The HkdfLabel structure: length, "tls13 " + label, context.
pub fn hkdf_label(label: &[u8], context: &[u8], len: usize) -> Vec<u8> {
    let mut info = Vec::new();
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push((6 + label.len()) as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label);
    info.push(context.len() as u8);
    info.extend_from_slice(context);
    info
}

/// A cipher suite this code implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    /// Its code point.
    pub id: CipherSuite,
    /// Its hash.
    pub hash: Hash,
    aead: &'static aead::Algorithm,
}

impl Suite {
    /// The implemented suite with this code point.
    pub fn find(id: CipherSuite) -> Option<Suite> {
        let (hash, aead) = match id {
            CipherSuite::Aes128GcmSha256 => (Hash::Sha256, &aead::AES_128_GCM),
            CipherSuite::Aes256GcmSha384 => (Hash::Sha384, &aead::AES_256_GCM),
            CipherSuite::Chacha20Poly1305Sha256 => (Hash::Sha256, &aead::CHACHA20_POLY1305),
            _ => return None,
        };
        Some(Suite { id, hash, aead })
    }

    /// AEAD key length.
    pub fn key_len(&self) -> usize {
        self.aead.key_len()
    }
}

/// The write or read protection of one direction at one epoch.
pub struct RecordKey {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    /// The next record's sequence number.
    pub seq: u64,
}

impl core::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecordKey").field("seq", &self.seq).finish()
    }
}

/// The AEAD tag length of every TLS 1.3 suite here.
pub const TAG_LEN: usize = 16;

impl RecordKey {
    /// Protection from a traffic key and IV.
    pub fn new(suite: &Suite, key: &[u8], iv: &[u8]) -> Option<RecordKey> {
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(suite.aead, key).ok()?);
        Some(RecordKey {
            key,
            iv: iv.try_into().ok()?,
            seq: 0,
        })
    }

    /// The per-record nonce: IV XOR the 64-bit sequence number, left-padded (§5.3).
    pub fn nonce(&self) -> [u8; 12] {
        let mut n = self.iv;
        for (b, s) in n.iter_mut().skip(4).zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// Encrypts `inner` (content ‖ type ‖ padding) into a whole record.
    pub fn seal(&mut self, mut inner: Vec<u8>) -> Vec<u8> {
        let header = Header::new(ContentType::ApplicationData, TLS12, inner.len() + TAG_LEN).emit();
        let nonce = aead::Nonce::assume_unique_for_key(self.nonce());
        // Sealing cannot fail for lengths below the AEAD's limit (2^36 bytes).
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, aead::Aad::from(header), &mut inner)
            .map(|t| t.as_ref().to_vec())
            .unwrap_or_default();
        self.seq += 1;
        let mut out = header.to_vec();
        out.extend_from_slice(&inner);
        out.extend_from_slice(&tag);
        out
    }

    /// Decrypts a whole record; `None` if the tag does not verify.
    pub fn open(&mut self, record: &[u8]) -> Option<Vec<u8>> {
        let header = record.get(..HEADER_LEN)?;
        let mut body = record.get(field::FRAGMENT)?.to_vec();
        let nonce = aead::Nonce::assume_unique_for_key(self.nonce());
        let plain = self
            .key
            .open_in_place(nonce, aead::Aad::from(header), &mut body)
            .ok()?
            .to_vec();
        self.seq += 1;
        Some(plain)
    }
}
