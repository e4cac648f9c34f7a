//! Algorithm negotiation (RFC 4253 §7.1), the curve25519-sha256 exchange hash
//! (RFC 8731 §3, RFC 5656 §4) and key derivation (RFC 4253 §7.2).

use ring::digest;

use crate::wire::codec::mpint;
use crate::wire::KexInit;

/// Key exchange methods we speak.
pub const KEX_CURVE25519: &str = "curve25519-sha256";
/// The pre-RFC name of the same method.
pub const KEX_CURVE25519_LIBSSH: &str = "curve25519-sha256@libssh.org";
/// ECDH on NIST P-256 with SHA-256 (RFC 5656 §4).
pub const KEX_ECDH_P256: &str = "ecdh-sha2-nistp256";
/// Client's strict-KEX marker (Terrapin countermeasure).
pub const STRICT_CLIENT: &str = "kex-strict-c-v00@openssh.com";
/// Server's strict-KEX marker.
pub const STRICT_SERVER: &str = "kex-strict-s-v00@openssh.com";
/// chacha20-poly1305@openssh.com.
pub const CHACHA: &str = "chacha20-poly1305@openssh.com";
/// aes256-gcm@openssh.com (RFC 5647 as OpenSSH names it).
pub const AES256_GCM: &str = "aes256-gcm@openssh.com";
/// A MAC name offered for form's sake: AEAD ciphers make the MAC list irrelevant.
pub const HMAC_SHA256: &str = "hmac-sha2-256-etm@openssh.com";

/// A negotiated cipher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    /// chacha20-poly1305@openssh.com: 64-byte key, no IV.
    ChaCha20Poly1305,
    /// aes256-gcm@openssh.com: 32-byte key, 12-byte IV.
    Aes256Gcm,
}

impl Cipher {
    /// Its SSH name.
    pub fn name(self) -> &'static str {
        match self {
            Cipher::ChaCha20Poly1305 => CHACHA,
            Cipher::Aes256Gcm => AES256_GCM,
        }
    }

    /// By SSH name.
    pub fn from_name(n: &str) -> Option<Cipher> {
        match n {
            CHACHA => Some(Cipher::ChaCha20Poly1305),
            AES256_GCM => Some(Cipher::Aes256Gcm),
            _ => None,
        }
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Cipher::ChaCha20Poly1305 => 64,
            Cipher::Aes256Gcm => 32,
        }
    }

    /// IV length in bytes.
    pub fn iv_len(self) -> usize {
        match self {
            Cipher::ChaCha20Poly1305 => 0,
            Cipher::Aes256Gcm => 12,
        }
    }
}

/// Why the chosen algorithm won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// It is the client's first choice and the server supports it.
    ClientFirstChoice,
    /// Earlier client choices were not supported by the server; this is the first that is.
    FirstCommon {
        /// How many client choices were skipped.
        skipped: usize,
    },
}

/// One negotiated algorithm and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The algorithm.
    pub name: String,
    /// Why.
    pub why: Why,
}

/// Everything the two KEXINITs decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Key exchange method.
    pub kex: Chosen,
    /// Host key algorithm.
    pub host_key: Chosen,
    /// Cipher client → server.
    pub cipher_c2s: Chosen,
    /// Cipher server → client.
    pub cipher_s2c: Chosen,
    /// Compression client → server.
    pub comp_c2s: Chosen,
    /// Compression server → client.
    pub comp_s2c: Chosen,
    /// Whether both sides offered strict key exchange.
    pub strict: bool,
}

/// What went wrong in negotiation: the category with no common algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoCommon(pub &'static str);

/// The first client algorithm the server also lists (RFC 4253 §7.1).
pub fn choose(
    client: &[String],
    server: &[String],
    what: &'static str,
) -> Result<Chosen, NoCommon> {
    // Markers like kex-strict-* and ext-info-* are not methods; never choose one.
    let real = |n: &&String| !n.starts_with("kex-strict-") && !n.starts_with("ext-info-");
    client
        .iter()
        .filter(real)
        .enumerate()
        .find(|(_, c)| server.contains(c))
        .map(|(i, c)| Chosen {
            name: c.clone(),
            why: if i == 0 {
                Why::ClientFirstChoice
            } else {
                Why::FirstCommon { skipped: i }
            },
        })
        .ok_or(NoCommon(what))
}

/// Negotiates from the client's and server's KEXINIT.
pub fn negotiate(c: &KexInit, s: &KexInit) -> Result<Negotiated, NoCommon> {
    let kex = choose(&c.kex, &s.kex, "kex")?;
    if ![KEX_CURVE25519, KEX_CURVE25519_LIBSSH, KEX_ECDH_P256].contains(&kex.name.as_str()) {
        return Err(NoCommon("kex"));
    }
    let host_key = choose(&c.host_key, &s.host_key, "host_key")?;
    // RSA host keys are verified (rsa-sha2-512/256), never made: our server has none.
    if ![
        crate::keys::ED25519,
        crate::keys::ECDSA_P256,
        crate::keys::RSA_SHA512,
        crate::keys::RSA_SHA256,
    ]
    .contains(&host_key.name.as_str())
    {
        return Err(NoCommon("host_key"));
    }
    let cipher_c2s = choose(&c.cipher_c2s, &s.cipher_c2s, "cipher_c2s")?;
    let cipher_s2c = choose(&c.cipher_s2c, &s.cipher_s2c, "cipher_s2c")?;
    if Cipher::from_name(&cipher_c2s.name).is_none() {
        return Err(NoCommon("cipher_c2s"));
    }
    if Cipher::from_name(&cipher_s2c.name).is_none() {
        return Err(NoCommon("cipher_s2c"));
    }
    let comp_c2s = choose(&c.comp_c2s, &s.comp_c2s, "comp_c2s")?;
    let comp_s2c = choose(&c.comp_s2c, &s.comp_s2c, "comp_s2c")?;
    if comp_c2s.name != "none" || comp_s2c.name != "none" {
        return Err(NoCommon("comp"));
    }
    let strict =
        c.kex.iter().any(|n| n == STRICT_CLIENT) && s.kex.iter().any(|n| n == STRICT_SERVER);
    Ok(Negotiated {
        kex,
        host_key,
        cipher_c2s,
        cipher_s2c,
        comp_c2s,
        comp_s2c,
        strict,
    })
}

fn put_string(h: &mut digest::Context, s: &[u8]) {
    h.update(&(s.len() as u32).to_be_bytes());
    h.update(s);
}

/// The inputs of the exchange hash, in RFC 8731 §3.1 / RFC 5656 §4 order.
#[derive(Debug, Clone, Copy)]
pub struct HashInputs<'a> {
    /// V_C: client's version line without CR LF.
    pub v_c: &'a [u8],
    /// V_S: server's version line without CR LF.
    pub v_s: &'a [u8],
    /// I_C: payload of the client's KEXINIT.
    pub i_c: &'a [u8],
    /// I_S: payload of the server's KEXINIT.
    pub i_s: &'a [u8],
    /// K_S: server host key blob.
    pub k_s: &'a [u8],
    /// Q_C: client ephemeral public key.
    pub q_c: &'a [u8],
    /// Q_S: server ephemeral public key.
    pub q_s: &'a [u8],
    /// K: the X25519 shared secret, as unsigned big-endian bytes.
    pub k: &'a [u8],
}

/// H = SHA-256(string V_C ‖ string V_S ‖ string I_C ‖ string I_S ‖ string K_S ‖ string Q_C ‖ string Q_S ‖ mpint K).
pub fn exchange_hash(i: &HashInputs) -> [u8; 32] {
    let mut h = digest::Context::new(&digest::SHA256);
    for s in [i.v_c, i.v_s, i.i_c, i.i_s, i.k_s, i.q_c, i.q_s] {
        put_string(&mut h, s);
    }
    h.update(&mpint(i.k));
    let mut out = [0u8; 32];
    out.copy_from_slice(h.finish().as_ref());
    out
}

/// Key `letter` (A–F) of `len` bytes: K1 = HASH(K ‖ H ‖ letter ‖ session_id),
/// Kn+1 = HASH(K ‖ H ‖ K1 ‖ … ‖ Kn), concatenated and cut (RFC 4253 §7.2).
pub fn derive(k: &[u8], h: &[u8], letter: u8, session_id: &[u8], len: usize) -> Vec<u8> {
    let k = mpint(k);
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&k);
    ctx.update(h);
    ctx.update(&[letter]);
    ctx.update(session_id);
    let mut out = ctx.finish().as_ref().to_vec();
    while out.len() < len {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&k);
        ctx.update(h);
        ctx.update(&out);
        out.extend_from_slice(ctx.finish().as_ref());
    }
    out.truncate(len);
    out
}
