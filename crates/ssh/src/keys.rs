//! Keys the way users know them: Ed25519 and ECDSA P-256 key pairs, the SSH
//! public key blob (RFC 8709 §4, RFC 5656 §3.1), OpenSSH `authorized_keys` / `known_hosts` lines, SHA256
//! fingerprints exactly as `ssh-keygen -lf` prints them, and the
//! `openssh-key-v1` private key format for demo keys.
//!
//! A pasted line is outside input: parsing returns a typed [`KeyError`] with the
//! character offset of the fault and never panics.

use cipherstage_transcript::rand::{fixed, RandomSource};
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use ring::{agreement, digest};

use crate::wire::codec::{mpint, DecodeErrorKind, Reader};

/// Ed25519 keys (RFC 8709).
pub const ED25519: &str = "ssh-ed25519";
/// ECDSA keys on NIST P-256 with SHA-256 (RFC 5656).
pub const ECDSA_P256: &str = "ecdsa-sha2-nistp256";
const NISTP256: &str = "nistp256";
/// RSA keys (RFC 4253 §6.6); as a signature algorithm only SHA-1, which we refuse.
pub const RSA: &str = "ssh-rsa";
/// RSA signatures with SHA-256 (RFC 8332).
pub const RSA_SHA256: &str = "rsa-sha2-256";
/// RSA signatures with SHA-512 (RFC 8332).
pub const RSA_SHA512: &str = "rsa-sha2-512";
/// Smallest and largest RSA modulus accepted, in bits (ring verifies 2048–8192).
pub const RSA_BITS: core::ops::RangeInclusive<usize> = 2048..=8192;

/// An SSH public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An Ed25519 key (RFC 8709).
    Ed25519([u8; 32]),
    /// An ECDSA P-256 key: the uncompressed point, 65 bytes starting 0x04 (RFC 5656 §3.1).
    EcdsaP256(Vec<u8>),
    /// An RSA key (RFC 4253 §6.6): exponent and modulus, big-endian without
    /// leading zeros. Verified with rsa-sha2-256 / rsa-sha2-512 (RFC 8332) only.
    Rsa {
        /// Public exponent e.
        e: Vec<u8>,
        /// Modulus n.
        n: Vec<u8>,
    },
}

/// What is wrong with a key line or blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyErrorKind {
    /// The line has no key type.
    Empty,
    /// A key type this core does not know.
    UnknownKeyType,
    /// The type is not followed by base64 key data.
    MissingKeyData,
    /// A character that is not base64, or bad padding.
    BadBase64,
    /// The decoded blob is malformed.
    BadBlob(DecodeErrorKind),
    /// The type inside the blob differs from the type before it.
    TypeMismatch,
    /// The key has the wrong length for its type.
    BadKeyLength,
}

/// A key parse fault and where it is (character offset in the line, or byte offset in a blob).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyError {
    /// What is wrong.
    pub kind: KeyErrorKind,
    /// Where.
    pub offset: usize,
}

impl KeyError {
    /// Stable key of the message the app shows.
    pub fn key(&self) -> &'static str {
        match self.kind {
            KeyErrorKind::Empty => "ssh.keyerr.empty",
            KeyErrorKind::UnknownKeyType => "ssh.keyerr.unknown_type",
            KeyErrorKind::MissingKeyData => "ssh.keyerr.missing_data",
            KeyErrorKind::BadBase64 => "ssh.keyerr.bad_base64",
            KeyErrorKind::BadBlob(_) => "ssh.keyerr.bad_blob",
            KeyErrorKind::TypeMismatch => "ssh.keyerr.type_mismatch",
            KeyErrorKind::BadKeyLength => "ssh.keyerr.bad_length",
        }
    }
}

impl PublicKey {
    /// The algorithm name.
    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => ED25519,
            PublicKey::EcdsaP256(_) => ECDSA_P256,
            PublicKey::Rsa { .. } => RSA,
        }
    }

    /// Whether `alg` is a signature algorithm this key may sign user authentication
    /// with: its own type, or for RSA rsa-sha2-256/512 (never SHA-1 "ssh-rsa",
    /// which OpenSSH refuses since 8.8).
    pub fn accepts_signature_algorithm(&self, alg: &str) -> bool {
        match self {
            PublicKey::Rsa { .. } => alg == RSA_SHA256 || alg == RSA_SHA512,
            _ => alg == self.algorithm(),
        }
    }

    /// The modulus length in bits of an RSA key (256 for the curves).
    pub fn bits(&self) -> usize {
        match self {
            PublicKey::Rsa { n, .. } => modulus_bits(n),
            _ => 256,
        }
    }

    /// The public key blob: `string "ssh-ed25519"`, `string key` (RFC 8709 §4).
    pub fn blob(&self) -> Vec<u8> {
        match self {
            PublicKey::Ed25519(k) => {
                let mut out = Vec::with_capacity(51);
                put_string(&mut out, ED25519.as_bytes());
                put_string(&mut out, k);
                out
            }
            PublicKey::EcdsaP256(q) => {
                let mut out = Vec::with_capacity(104);
                put_string(&mut out, ECDSA_P256.as_bytes());
                put_string(&mut out, NISTP256.as_bytes());
                put_string(&mut out, q);
                out
            }
            PublicKey::Rsa { e, n } => {
                let mut out = Vec::with_capacity(n.len() + e.len() + 24);
                put_string(&mut out, RSA.as_bytes());
                out.extend_from_slice(&mpint(e));
                out.extend_from_slice(&mpint(n));
                out
            }
        }
    }

    /// Decodes a blob; byte offsets in errors are within the blob.
    pub fn from_blob(blob: &[u8]) -> Result<PublicKey, KeyError> {
        let mut r = Reader::new(blob);
        let bad = |e: crate::wire::DecodeError| KeyError {
            kind: KeyErrorKind::BadBlob(e.kind),
            offset: e.offset,
        };
        let t = r.string().map_err(bad)?;
        if t == ECDSA_P256.as_bytes() {
            let at = r.offset();
            if r.string().map_err(bad)? != NISTP256.as_bytes() {
                return Err(KeyError {
                    kind: KeyErrorKind::TypeMismatch,
                    offset: at,
                });
            }
            let at = r.offset();
            let q = r.string().map_err(bad)?;
            r.expect_empty().map_err(bad)?;
            if q.len() != 65 || q.first() != Some(&0x04) {
                return Err(KeyError {
                    kind: KeyErrorKind::BadKeyLength,
                    offset: at,
                });
            }
            return Ok(PublicKey::EcdsaP256(q.to_vec()));
        }
        if t == RSA.as_bytes() {
            let e = positive(r.string().map_err(bad)?);
            let at = r.offset();
            let n = positive(r.string().map_err(bad)?);
            r.expect_empty().map_err(bad)?;
            if !RSA_BITS.contains(&modulus_bits(&n)) || e.is_empty() || e.len() > 8 {
                return Err(KeyError {
                    kind: KeyErrorKind::BadKeyLength,
                    offset: at,
                });
            }
            return Ok(PublicKey::Rsa { e, n });
        }
        if t != ED25519.as_bytes() {
            return Err(KeyError {
                kind: KeyErrorKind::UnknownKeyType,
                offset: 4,
            });
        }
        let at = r.offset();
        let k = r.string().map_err(bad)?;
        r.expect_empty().map_err(bad)?;
        let k: [u8; 32] = k.try_into().map_err(|_| KeyError {
            kind: KeyErrorKind::BadKeyLength,
            offset: at,
        })?;
        Ok(PublicKey::Ed25519(k))
    }

    /// `SHA256:` and the unpadded base64 of SHA-256(blob), as `ssh-keygen -l` prints.
    pub fn fingerprint(&self) -> String {
        let d = digest::digest(&digest::SHA256, &self.blob());
        format!("SHA256:{}", base64_encode(d.as_ref(), false))
    }

    /// The `ssh-keygen -l` line: `256 SHA256:… comment (ED25519)`.
    pub fn fingerprint_line(&self, comment: &str) -> String {
        let comment = if comment.is_empty() {
            "no comment"
        } else {
            comment
        };
        let kind = match self {
            PublicKey::Ed25519(_) => "ED25519",
            PublicKey::EcdsaP256(_) => "ECDSA",
            PublicKey::Rsa { .. } => "RSA",
        };
        format!(
            "{} {} {} ({kind})",
            self.bits(),
            self.fingerprint(),
            comment
        )
    }

    /// An `authorized_keys` / `.pub` line: `ssh-ed25519 AAAA… comment`.
    pub fn to_openssh(&self, comment: &str) -> String {
        let mut s = format!("{} {}", self.algorithm(), base64_encode(&self.blob(), true));
        if !comment.is_empty() {
            s.push(' ');
            s.push_str(comment);
        }
        s
    }

    /// Parses `type base64 [comment]` (no options). Returns the key and comment.
    pub fn parse_openssh(line: &str) -> Result<(PublicKey, String), KeyError> {
        parse_at(line, 0)
    }

    /// Verifies a signature blob whose algorithm must be `alg` (the one the user
    /// authentication request named, RFC 8332 §3.2).
    pub fn verify_as(&self, alg: &str, message: &[u8], sig_blob: &[u8]) -> bool {
        let mut r = Reader::new(sig_blob);
        r.string().is_ok_and(|t| t == alg.as_bytes()) && self.verify(message, sig_blob)
    }

    /// Verifies an SSH signature blob (`string algorithm`, `string signature`) over `message`.
    pub fn verify(&self, message: &[u8], sig_blob: &[u8]) -> bool {
        let mut r = Reader::new(sig_blob);
        let (Ok(t), Ok(sig)) = (r.string(), r.string()) else {
            return false;
        };
        if r.expect_empty().is_err() {
            return false;
        }
        let Ok(t) = core::str::from_utf8(t) else {
            return false;
        };
        if !self.accepts_signature_algorithm(t) {
            return false;
        }
        match self {
            PublicKey::Rsa { e, n } => {
                let alg = if t == RSA_SHA512 {
                    &signature::RSA_PKCS1_2048_8192_SHA512
                } else {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                };
                signature::RsaPublicKeyComponents { n, e }
                    .verify(alg, message, sig)
                    .is_ok()
            }
            PublicKey::Ed25519(k) => signature::UnparsedPublicKey::new(&signature::ED25519, k)
                .verify(message, sig)
                .is_ok(),
            PublicKey::EcdsaP256(q) => {
                // RFC 5656 §3.1.2: the signature is `mpint r`, `mpint s`.
                let mut r = Reader::new(sig);
                let (Ok(a), Ok(b)) = (r.string(), r.string()) else {
                    return false;
                };
                let (Some(a), Some(b)) = (scalar32(a), scalar32(b)) else {
                    return false;
                };
                if r.expect_empty().is_err() {
                    return false;
                }
                let mut fixed_sig = a.to_vec();
                fixed_sig.extend_from_slice(&b);
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, q)
                    .verify(message, &fixed_sig)
                    .is_ok()
            }
        }
    }
}

/// An mpint body without its leading zero bytes (RSA e and n are positive).
fn positive(m: &[u8]) -> Vec<u8> {
    let start = m.iter().position(|b| *b != 0).unwrap_or(m.len());
    m.get(start..).unwrap_or_default().to_vec()
}

/// The bit length of a big-endian number without leading zeros.
fn modulus_bits(n: &[u8]) -> usize {
    match n.first() {
        Some(b) => (n.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
        None => 0,
    }
}

/// An mpint body as a 32-byte big-endian scalar, if it fits.
fn scalar32(m: &[u8]) -> Option<[u8; 32]> {
    let m = match m.first() {
        Some(0) => m.get(1..)?,
        _ => m,
    };
    if m.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out.get_mut(32 - m.len()..)?.copy_from_slice(m);
    Some(out)
}

/// Parses a key line whose key type starts at character `base`.
fn parse_at(line: &str, base: usize) -> Result<(PublicKey, String), KeyError> {
    let mut parts = fields(line);
    let Some((t_at, t)) = parts.next() else {
        return Err(KeyError {
            kind: KeyErrorKind::Empty,
            offset: base,
        });
    };
    if t != ED25519 && t != ECDSA_P256 && t != RSA {
        return Err(KeyError {
            kind: KeyErrorKind::UnknownKeyType,
            offset: base + t_at,
        });
    }
    let Some((d_at, data)) = parts.next() else {
        return Err(KeyError {
            kind: KeyErrorKind::MissingKeyData,
            offset: base + line.len(),
        });
    };
    let blob = base64_decode(data).map_err(|o| KeyError {
        kind: KeyErrorKind::BadBase64,
        offset: base + d_at + o,
    })?;
    // The type inside the blob must be the one the line names.
    if Reader::new(&blob)
        .string()
        .is_ok_and(|inner| inner != t.as_bytes())
    {
        return Err(KeyError {
            kind: KeyErrorKind::TypeMismatch,
            offset: base + d_at,
        });
    }
    let key = PublicKey::from_blob(&blob).map_err(|e| KeyError {
        kind: match e.kind {
            KeyErrorKind::UnknownKeyType => KeyErrorKind::TypeMismatch,
            k => k,
        },
        offset: base + d_at,
    })?;
    if key.algorithm() != t {
        return Err(KeyError {
            kind: KeyErrorKind::TypeMismatch,
            offset: base + d_at,
        });
    }
    let comment = match parts.next() {
        Some((c_at, _)) => line.get(c_at..).unwrap_or_default().trim_end().to_owned(),
        None => String::new(),
    };
    Ok((key, comment))
}

/// Whitespace-separated words with their byte offsets.
fn fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0usize;
    core::iter::from_fn(move || {
        let rest = line.get(at..)?;
        let start = at + rest.len() - rest.trim_start().len();
        let word = line.get(start..)?.split([' ', '\t']).next()?;
        if word.is_empty() {
            return None;
        }
        at = start + word.len();
        Some((start, word.trim_end_matches(['\r', '\n'])))
    })
}

/// A `known_hosts` entry: host patterns and a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHost {
    /// Comma-separated host names as written (plain, or hashed `|1|salt|hash`).
    pub hosts: Vec<String>,
    /// The key.
    pub key: PublicKey,
}

impl KnownHost {
    /// Parses `host[,host…] type base64 [comment]`.
    pub fn parse(line: &str) -> Result<KnownHost, KeyError> {
        let mut parts = fields(line);
        let Some((h_at, hosts)) = parts.next() else {
            return Err(KeyError {
                kind: KeyErrorKind::Empty,
                offset: 0,
            });
        };
        let base = h_at + hosts.len();
        let (key, _) = parse_at(line.get(base..).unwrap_or_default(), base)?;
        Ok(KnownHost {
            hosts: hosts.split(',').map(str::to_owned).collect(),
            key,
        })
    }

    /// The line `host type base64`.
    pub fn to_line(&self) -> String {
        format!("{} {}", self.hosts.join(","), self.key.to_openssh(""))
    }
}

/// What a `known_hosts` lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// The host is listed with this very key.
    Known,
    /// The host is not listed: trust on first use is the user's decision.
    Unknown,
    /// The host is listed with a different key (OpenSSH: REMOTE HOST IDENTIFICATION HAS CHANGED).
    Changed {
        /// The key on record.
        expected: PublicKey,
    },
}

impl KnownHost {
    /// Whether this entry names `host`, as written or hashed (`|1|salt|hash`, the form
    /// `HashKnownHosts yes` writes: HMAC-SHA1 keyed with the salt over the host name).
    pub fn matches(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| match h.strip_prefix("|1|") {
            Some(rest) => {
                let Some((salt, hash)) = rest.split_once('|') else {
                    return false;
                };
                let (Ok(salt), Ok(hash)) = (base64_decode(salt), base64_decode(hash)) else {
                    return false;
                };
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
                ring::hmac::verify(&key, host.as_bytes(), &hash).is_ok()
            }
            None => h == host,
        })
    }
}

/// Looks `host` up in `known_hosts` entries.
pub fn check_known_host(entries: &[KnownHost], host: &str, key: &PublicKey) -> HostKeyStatus {
    let mut other = None;
    for e in entries.iter().filter(|e| e.matches(host)) {
        if &e.key == key {
            return HostKeyStatus::Known;
        }
        other.get_or_insert_with(|| e.key.clone());
    }
    match other {
        Some(expected) => HostKeyStatus::Changed { expected },
        None => HostKeyStatus::Unknown,
    }
}

/// An Ed25519 key pair built from a 32-byte seed (the RFC 8032 private key).
pub struct Ed25519Key {
    seed: [u8; 32],
    pair: Ed25519KeyPair,
}

impl core::fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ed25519Key")
            .field("public", &self.public())
            .finish()
    }
}

impl Ed25519Key {
    /// The key pair for `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Option<Ed25519Key> {
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).ok()?;
        Some(Ed25519Key { seed, pair })
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let mut k = [0u8; 32];
        k.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey::Ed25519(k)
    }

    /// The raw 64-byte signature over `message`.
    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// The SSH signature blob (`string "ssh-ed25519"`, `string sig`) over `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(83);
        put_string(&mut out, ED25519.as_bytes());
        put_string(&mut out, &self.sign_raw(message));
        out
    }

    /// The unencrypted `openssh-key-v1` private key file (PEM armour, 70-column base64).
    pub fn to_openssh_private(&self, comment: &str) -> String {
        let public = self.public();
        let PublicKey::Ed25519(pk) = public else {
            return String::new();
        };
        let check = digest::digest(&digest::SHA256, &self.seed);
        let check = check.as_ref().get(..4).unwrap_or_default();
        let mut private = Vec::new();
        private.extend_from_slice(check);
        private.extend_from_slice(check);
        put_string(&mut private, ED25519.as_bytes());
        put_string(&mut private, &pk);
        let mut both = self.seed.to_vec();
        both.extend_from_slice(&pk);
        put_string(&mut private, &both);
        put_string(&mut private, comment.as_bytes());
        openssh_private_file(&public, private)
    }
}

/// Pads the private section, wraps it as `openssh-key-v1` (no cipher, no KDF) and armours it.
fn openssh_private_file(public: &PublicKey, mut private: Vec<u8>) -> String {
    let mut pad = 1u8;
    while !private.len().is_multiple_of(8) {
        private.push(pad);
        pad += 1;
    }
    let mut body = b"openssh-key-v1\0".to_vec();
    put_string(&mut body, b"none");
    put_string(&mut body, b"none");
    put_string(&mut body, b"");
    body.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut body, &public.blob());
    put_string(&mut body, &private);
    let b64 = base64_encode(&body, true);
    let mut out = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(70) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    out
}

/// An ECDSA P-256 key pair built from a 32-byte private scalar.
pub struct EcdsaP256Key {
    scalar: [u8; 32],
    public: Vec<u8>,
    pair: EcdsaKeyPair,
}

impl core::fmt::Debug for EcdsaP256Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EcdsaP256Key")
            .field("public", &self.public())
            .finish()
    }
}

impl EcdsaP256Key {
    /// The key pair whose private scalar is `scalar` (big-endian, in [1, n-1]).
    pub fn from_scalar(scalar: [u8; 32]) -> Option<EcdsaP256Key> {
        // The public point is scalar·G, which ring's P-256 ECDH computes for us.
        let eph = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &fixed(&scalar))
            .ok()?;
        let public = eph.compute_public_key().ok()?.as_ref().to_vec();
        // ring mixes 32 random bytes into its nonce derivation key; a digest of the
        // scalar keeps this deterministic (nonces also take fresh randomness per signature).
        let mix = digest::digest(&digest::SHA256, &scalar);
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &scalar,
            &public,
            &fixed(mix.as_ref()),
        )
        .ok()?;
        Some(EcdsaP256Key {
            scalar,
            public,
            pair,
        })
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey::EcdsaP256(self.public.clone())
    }

    /// The SSH signature blob over `message` (`string alg`, `string (mpint r, mpint s)`);
    /// ring draws 32 nonce bytes from `rng`.
    pub fn sign(&self, message: &[u8], rng: &mut dyn RandomSource) -> Option<Vec<u8>> {
        let mut random = [0u8; 32];
        rng.fill(&mut random).ok()?;
        let sig = self.pair.sign(&fixed(&random), message).ok()?;
        let (r, s) = sig.as_ref().split_at(32);
        let mut inner = mpint(r);
        inner.extend_from_slice(&mpint(s));
        let mut out = Vec::with_capacity(inner.len() + 27);
        put_string(&mut out, ECDSA_P256.as_bytes());
        put_string(&mut out, &inner);
        Some(out)
    }

    /// The unencrypted `openssh-key-v1` private key file.
    pub fn to_openssh_private(&self, comment: &str) -> String {
        let public = self.public();
        let check = digest::digest(&digest::SHA256, &self.scalar);
        let check = check.as_ref().get(..4).unwrap_or_default();
        let mut private = Vec::new();
        private.extend_from_slice(check);
        private.extend_from_slice(check);
        put_string(&mut private, ECDSA_P256.as_bytes());
        put_string(&mut private, NISTP256.as_bytes());
        put_string(&mut private, &self.public);
        private.extend_from_slice(&mpint(&self.scalar));
        put_string(&mut private, comment.as_bytes());
        openssh_private_file(&public, private)
    }
}

/// A host key of either kind, as a server holds it.
#[derive(Debug)]
pub enum HostKey {
    /// Ed25519.
    Ed25519(Ed25519Key),
    /// ECDSA P-256.
    EcdsaP256(EcdsaP256Key),
}

impl HostKey {
    /// The public half.
    pub fn public(&self) -> PublicKey {
        match self {
            HostKey::Ed25519(k) => k.public(),
            HostKey::EcdsaP256(k) => k.public(),
        }
    }

    /// The signature blob over `message` (Ed25519 is deterministic; ECDSA draws a nonce).
    pub fn sign(&self, message: &[u8], rng: &mut dyn RandomSource) -> Option<Vec<u8>> {
        match self {
            HostKey::Ed25519(k) => Some(k.sign(message)),
            HostKey::EcdsaP256(k) => k.sign(message, rng),
        }
    }

    /// The unencrypted `openssh-key-v1` private key file.
    pub fn to_openssh_private(&self, comment: &str) -> String {
        match self {
            HostKey::Ed25519(k) => k.to_openssh_private(comment),
            HostKey::EcdsaP256(k) => k.to_openssh_private(comment),
        }
    }
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648 §4), padded or not.
pub fn base64_encode(data: &[u8], pad: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                let idx = ((n >> (18 - 6 * i)) & 0x3f) as usize;
                out.push(char::from(B64.get(idx).copied().unwrap_or(b'A')));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); the error is the offending character's offset.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, usize> {
    let bytes = text.as_bytes();
    let body_len = bytes.iter().rposition(|b| *b != b'=').map_or(0, |p| p + 1);
    let padding = bytes.len() - body_len;
    if padding > 2 || (padding > 0 && !bytes.len().is_multiple_of(4)) {
        return Err(body_len);
    }
    let mut out = Vec::with_capacity(body_len * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for (i, c) in bytes.iter().take(body_len).enumerate() {
        let v = B64.iter().position(|b| b == c).ok_or(i)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 || acc != 0 {
        return Err(body_len.saturating_sub(1));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_matches_rfc4648() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes(), true), enc);
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes());
            assert_eq!(
                base64_decode(enc.trim_end_matches('=')).unwrap(),
                plain.as_bytes()
            );
        }
        assert_eq!(base64_decode("Zm9v!"), Err(4));
    }
}
