//! The derivations behind a secret's formula, read from the inputs the run
//! recorded: TLS HKDF-Expand-Label / Derive-Secret, SSH keys A–F, the hybrid
//! demo's HKDF-Expand. Parsing them needs no core; recomputing them uses the
//! cores' own functions, so only a build with that family's core can.

use cipherstage_transcript::Secret;

/// A TLS secret made by HKDF-Expand-Label (directly or as Derive-Secret), with the
/// label, context and length this run used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion<'a> {
    /// Derive-Secret (the context is a transcript hash) or plain HKDF-Expand-Label.
    pub derive: bool,
    /// The secret expanded from.
    pub secret: &'a [u8],
    /// The label, without the "tls13 " prefix HkdfLabel adds.
    pub label: &'a [u8],
    /// The context (a transcript hash, a ticket nonce, or empty).
    pub context: &'a [u8],
    /// The output length: the length of the secret shown.
    pub len: usize,
}

fn input<'a>(sec: &'a Secret, name: &str) -> Option<&'a [u8]> {
    sec.formula
        .inputs
        .iter()
        .find(|i| i.name == name)
        .map(|i| i.bytes.as_slice())
}

impl<'a> Expansion<'a> {
    /// The expansion behind `sec`, if its formula is one.
    pub fn of(sec: &'a Secret) -> Option<Self> {
        let derive = match sec.formula.key.as_str() {
            "tls.formula.derive_secret" => true,
            "tls.formula.hkdf_expand_label" => false,
            _ => return None,
        };
        let context = if derive {
            input(sec, "tls.input.transcript_hash")?
        } else {
            input(sec, "tls.input.context").unwrap_or_default()
        };
        Some(Expansion {
            derive,
            secret: input(sec, "tls.input.secret")?,
            label: input(sec, "tls.input.label")?,
            context,
            len: sec.bytes.len(),
        })
    }
}

#[cfg(feature = "tls")]
impl Expansion<'_> {
    /// HkdfLabel = length ‖ "tls13 " + label ‖ context, as the key schedule builds it.
    pub fn hkdf_label(&self) -> Vec<u8> {
        cipherstage_tls::keys::hkdf_label(self.label, self.context, self.len)
    }

    /// HKDF-Expand(secret, HkdfLabel, length) with the suite's hash (known from the
    /// secret's length): what the secret must equal.
    pub fn recompute(&self) -> Option<Vec<u8>> {
        use cipherstage_tls::keys::Hash;
        let hash = match self.secret.len() {
            32 => Hash::Sha256,
            48 => Hash::Sha384,
            _ => return None,
        };
        Some(hash.expand(self.secret, &self.hkdf_label(), self.len))
    }
}

/// A secret whose formula takes a label chosen by the core: an SSH key A–F
/// (RFC 4253 §7.2, the letter) or a hybrid-demo key or IV (HKDF-Expand with a text
/// label), with the inputs this run recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Labelled<'a> {
    /// HASH(K ‖ H ‖ letter ‖ session_id), extended: `k` is K as the mpint recorded.
    SshKey {
        /// K, mpint-encoded.
        k: &'a [u8],
        /// The exchange hash H.
        h: &'a [u8],
        /// The letter, A to F.
        letter: u8,
        /// The session id.
        session_id: &'a [u8],
        /// Bytes derived.
        len: usize,
    },
    /// HKDF-Expand(PRK, label, length).
    HkdfExpand {
        /// The pseudorandom key.
        prk: &'a [u8],
        /// The label, used as HKDF's info.
        label: &'a [u8],
        /// Bytes derived.
        len: usize,
    },
}

impl<'a> Labelled<'a> {
    /// The labelled derivation behind `sec`, if its formula is one.
    pub fn of(sec: &'a Secret) -> Option<Self> {
        let len = sec.bytes.len();
        match sec.formula.key.as_str() {
            "ssh.formula.derive_key" => Some(Labelled::SshKey {
                k: input(sec, "ssh.input.k")?,
                h: input(sec, "ssh.input.h")?,
                letter: *input(sec, "ssh.input.letter")?.first()?,
                session_id: input(sec, "ssh.input.session_id")?,
                len,
            }),
            "formula.hkdf_expand" => Some(Labelled::HkdfExpand {
                prk: input(sec, "input.prk")?,
                label: input(sec, "input.label")?,
                len,
            }),
            _ => None,
        }
    }

    /// The secret recomputed by the core's own function from these inputs, when
    /// this build links that core.
    pub fn recompute(&self) -> Option<Vec<u8>> {
        match *self {
            #[cfg(feature = "ssh")]
            Labelled::SshKey {
                k,
                h,
                letter,
                session_id,
                len,
            } => {
                // The recorded K is an mpint: 4-byte length, then the integer with a 0x00
                // in front when its top bit is set; kex::derive takes the bare integer.
                let body = k.get(4..)?;
                let bare = body.strip_prefix(&[0u8]).unwrap_or(body);
                Some(cipherstage_ssh::kex::derive(
                    bare, h, letter, session_id, len,
                ))
            }
            #[cfg(feature = "hybrid")]
            Labelled::HkdfExpand { prk, label, len } => {
                cipherstage_hybrid::hkdf::expand(prk, label, len)
            }
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// The curve of a Diffie–Hellman shared secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// X25519 (RFC 7748).
    X25519,
    /// ECDH on NIST P-256: the x-coordinate of d·Q.
    P256,
}

/// Which keys of prf+'s output a recorded IKE key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keymat {
    /// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
    IkeSa,
    /// KEYMAT = prf+(SK_d, Ni | Nr) of a CHILD_SA.
    ChildSa,
}

/// Every other secret whose formula a student could recompute, with the inputs
/// this run recorded: HKDF-Extract, (EC)DH, a SHA-256 over recorded parts, SSH's
/// exchange hash, the content a TLS CertificateVerify signs, IKEv2's SKEYSEED and
/// prf+ keys, S/MIME's X9.63 KDF and AES key unwrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Computed<'a> {
    /// HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM); `tls` for the TLS key
    /// schedule (SHA-256 or SHA-384, known from the output length), else the
    /// hybrid demo's SHA-256.
    Extract {
        /// The salt.
        salt: &'a [u8],
        /// The input keying material.
        ikm: &'a [u8],
        /// The catalogue key naming the IKM.
        ikm_name: &'a str,
        /// Bytes out (the hash length).
        len: usize,
        /// The TLS key schedule's extract (else the hybrid demo's).
        tls: bool,
    },
    /// A Diffie–Hellman shared secret from the owner's private key (the random
    /// bytes ring made it from) and the peer's public key.
    Agreement {
        /// The curve.
        curve: Curve,
        /// The owner's private key.
        private: &'a [u8],
        /// The catalogue key naming the private key.
        private_name: &'a str,
        /// The peer's public key as sent (IKE's P-256 value is x ‖ y, without 04).
        peer: &'a [u8],
        /// The catalogue key naming the peer's key.
        peer_name: &'a str,
    },
    /// SHA-256 of the recorded inputs, concatenated in order.
    Sha256 {
        /// (catalogue key, bytes) of each part.
        parts: Vec<(&'a str, &'a [u8])>,
    },
    /// SSH's exchange hash H over the recorded inputs (RFC 5656 §4).
    ExchangeHash {
        /// (catalogue key, bytes) of V_C, V_S, I_C, I_S, K_S, Q_C, Q_S and K (mpint).
        parts: Vec<(&'a str, &'a [u8])>,
    },
    /// 64 spaces ‖ context string ‖ 0x00 ‖ transcript hash: what a TLS 1.3
    /// CertificateVerify signs.
    SignedContent {
        /// "TLS 1.3, server CertificateVerify" (or the client's).
        context: &'a [u8],
        /// The transcript hash up to the Certificate.
        transcript_hash: &'a [u8],
    },
    /// SKEYSEED = prf(Ni | Nr, g^ir).
    Skeyseed {
        /// Ni.
        ni: &'a [u8],
        /// Nr.
        nr: &'a [u8],
        /// g^ir.
        g_ir: &'a [u8],
    },
    /// Bytes `range` of prf+(key, seed).
    PrfPlus {
        /// IKE SA or CHILD_SA keys.
        kind: Keymat,
        /// SKEYSEED or SK_d.
        key: &'a [u8],
        /// The seed's parts: Ni, Nr (and SPIi, SPIr for the IKE SA).
        seed: Vec<&'a [u8]>,
        /// Which bytes of the output.
        range: core::ops::Range<usize>,
    },
    /// KEK = Hash(Z ‖ counter ‖ SharedInfo) … (ANSI X9.63), `len` bytes.
    X963 {
        /// SHA-1 (OpenSSL's default) rather than SHA-256.
        sha1: bool,
        /// The ECDH shared secret Z.
        z: &'a [u8],
        /// The first counter (00000001).
        counter: &'a [u8],
        /// DER of ECC-CMS-SharedInfo.
        shared_info: &'a [u8],
        /// Bytes out.
        len: usize,
    },
    /// CEK = AES key unwrap of the encryptedKey under the KEK (RFC 3394).
    Unwrap {
        /// The key-encryption key.
        kek: &'a [u8],
        /// The wrapped key as sent.
        wrapped: &'a [u8],
    },
}

/// The input called `name`: (name, bytes).
fn named<'a>(sec: &'a Secret, name: &str) -> Option<(&'a str, &'a [u8])> {
    sec.formula
        .inputs
        .iter()
        .find(|i| i.name == name)
        .map(|i| (i.name.as_str(), i.bytes.as_slice()))
}

/// Every input: (name, bytes), in the order recorded.
fn all(sec: &Secret) -> Vec<(&str, &[u8])> {
    sec.formula
        .inputs
        .iter()
        .map(|i| (i.name.as_str(), i.bytes.as_slice()))
        .collect()
}

impl<'a> Computed<'a> {
    /// The computation behind `sec`, if its formula is one of these.
    pub fn of(sec: &'a Secret) -> Option<Self> {
        let len = sec.bytes.len();
        let key = sec.formula.key.as_str();
        let agreement = |curve, private: &str, peer: &str| {
            let (private_name, private) = named(sec, private)?;
            let (peer_name, peer) = named(sec, peer)?;
            Some(Computed::Agreement {
                curve,
                private,
                private_name,
                peer,
                peer_name,
            })
        };
        match key {
            "tls.formula.hkdf_extract" | "formula.hkdf_extract" => {
                let tls = key.starts_with("tls.");
                let (salt_name, ikm) = if tls {
                    ("tls.input.salt", None)
                } else {
                    ("input.salt", Some("input.ikm"))
                };
                let salt = input(sec, salt_name)?;
                // TLS names its IKM after what it is (PSK, (EC)DHE secret, zeros).
                let (ikm_name, ikm) = match ikm {
                    Some(n) => named(sec, n)?,
                    None => *all(sec).iter().find(|(n, _)| *n != salt_name)?,
                };
                Some(Computed::Extract {
                    salt,
                    ikm,
                    ikm_name,
                    len,
                    tls,
                })
            }
            "formula.x25519" | "tls.formula.x25519" => {
                let p = if key.starts_with("tls.") { "tls." } else { "" };
                agreement(
                    Curve::X25519,
                    &format!("{p}input.own_private_key"),
                    &format!("{p}input.peer_public_key"),
                )
            }
            "ssh.formula.ecdh_p256" => agreement(
                Curve::P256,
                "input.own_private_key",
                "input.peer_public_key",
            ),
            "tls.formula.ecdh_p256" => agreement(
                Curve::P256,
                "tls.input.own_private_key",
                "tls.input.peer_public_key",
            ),
            "ike.formula.dh_curve25519" | "ike.formula.dh_ecp256" => {
                let curve = if key.ends_with("curve25519") {
                    Curve::X25519
                } else {
                    Curve::P256
                };
                let peer = sec
                    .formula
                    .inputs
                    .iter()
                    .find(|i| i.name == "ike.input.ke_i" || i.name == "ike.input.ke_r")?;
                agreement(curve, "ike.input.own_private", &peer.name)
            }
            "smime.formula.ecdh" => agreement(
                Curve::P256,
                "smime.input.ephemeral_private",
                "smime.input.recipient_public",
            ),
            "smime.formula.ecdh_static" => agreement(
                Curve::P256,
                "smime.input.bob_private",
                "smime.input.originator_public",
            ),
            "formula.sha256" => Some(Computed::Sha256 { parts: all(sec) }),
            "ssh.formula.exchange_hash" => {
                let parts = all(sec);
                (parts.len() == 8).then_some(Computed::ExchangeHash { parts })
            }
            "tls.formula.signed_content" => Some(Computed::SignedContent {
                context: input(sec, "tls.input.context_string")?,
                transcript_hash: input(sec, "tls.input.transcript_hash")?,
            }),
            "ike.formula.skeyseed" => Some(Computed::Skeyseed {
                ni: input(sec, "ike.input.ni")?,
                nr: input(sec, "ike.input.nr")?,
                g_ir: input(sec, "ike.input.g_ir")?,
            }),
            k if k.starts_with("ike.formula.sk_") || k.starts_with("ike.formula.child_") => {
                let range = parse_range(input(sec, "ike.input.part")?)?;
                let (kind, key, seed) = if k.starts_with("ike.formula.sk_") {
                    let seed = ["ni", "nr", "spi_i", "spi_r"]
                        .iter()
                        .map(|n| input(sec, &format!("ike.input.{n}")))
                        .collect::<Option<Vec<_>>>()?;
                    (Keymat::IkeSa, input(sec, "ike.input.skeyseed")?, seed)
                } else {
                    let seed = vec![input(sec, "ike.input.ni")?, input(sec, "ike.input.nr")?];
                    (Keymat::ChildSa, input(sec, "ike.input.sk_d")?, seed)
                };
                (range.len() == len).then_some(Computed::PrfPlus {
                    kind,
                    key,
                    seed,
                    range,
                })
            }
            "smime.formula.x963_kdf_sha256" | "smime.formula.x963_kdf_sha1" => {
                Some(Computed::X963 {
                    sha1: key.ends_with("sha1"),
                    z: input(sec, "smime.input.z")?,
                    counter: input(sec, "smime.input.counter")?,
                    shared_info: input(sec, "smime.input.shared_info")?,
                    len,
                })
            }
            "smime.formula.key_unwrap" => Some(Computed::Unwrap {
                kek: input(sec, "smime.input.kek")?,
                wrapped: input(sec, "smime.input.wrapped_key")?,
            }),
            _ => None,
        }
    }

    /// The secret recomputed from these inputs by the code the cores use (their
    /// own functions, or ring as they call it), when this build links that core.
    pub fn recompute(&self) -> Option<Vec<u8>> {
        match self {
            #[cfg(feature = "tls")]
            Computed::Extract {
                salt,
                ikm,
                len,
                tls: true,
                ..
            } => {
                use cipherstage_tls::keys::Hash;
                let hash = match len {
                    32 => Hash::Sha256,
                    48 => Hash::Sha384,
                    _ => return None,
                };
                Some(hash.extract(salt, ikm))
            }
            #[cfg(feature = "hybrid")]
            Computed::Extract {
                salt,
                ikm,
                tls: false,
                ..
            } => Some(cipherstage_hybrid::hkdf::extract(salt, ikm).to_vec()),
            #[cfg(feature = "ring")]
            Computed::Agreement {
                curve,
                private,
                peer,
                ..
            } => agree(*curve, private, peer),
            #[cfg(feature = "ring")]
            Computed::Sha256 { parts } => {
                let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
                for (_, p) in parts {
                    ctx.update(p);
                }
                Some(ctx.finish().as_ref().to_vec())
            }
            #[cfg(feature = "ssh")]
            Computed::ExchangeHash { parts } => {
                let [v_c, v_s, i_c, i_s, k_s, q_c, q_s, k] = parts.as_slice() else {
                    return None;
                };
                // K is recorded as an mpint; the exchange hash takes the bare integer.
                let body = k.1.get(4..)?;
                let bare = body.strip_prefix(&[0u8]).unwrap_or(body);
                let inputs = cipherstage_ssh::kex::HashInputs {
                    v_c: v_c.1,
                    v_s: v_s.1,
                    i_c: i_c.1,
                    i_s: i_s.1,
                    k_s: k_s.1,
                    q_c: q_c.1,
                    q_s: q_s.1,
                    k: bare,
                };
                Some(cipherstage_ssh::kex::exchange_hash(&inputs).to_vec())
            }
            #[cfg(feature = "tls")]
            Computed::SignedContent {
                context,
                transcript_hash,
            } => {
                let server = match *context {
                    c if c == cipherstage_tls::SERVER_CV_CONTEXT => true,
                    c if c == cipherstage_tls::CLIENT_CV_CONTEXT => false,
                    _ => return None,
                };
                Some(cipherstage_tls::verify_content(server, transcript_hash))
            }
            #[cfg(feature = "ike")]
            Computed::Skeyseed { ni, nr, g_ir } => {
                Some(cipherstage_ike::crypto::prf(&[*ni, *nr].concat(), &[g_ir]).to_vec())
            }
            #[cfg(feature = "ike")]
            Computed::PrfPlus {
                key, seed, range, ..
            } => {
                let out = cipherstage_ike::crypto::prf_plus(key, &seed.concat(), range.end).ok()?;
                out.get(range.clone()).map(<[u8]>::to_vec)
            }
            #[cfg(feature = "smime")]
            Computed::X963 {
                sha1,
                z,
                counter,
                shared_info,
                len,
            } => {
                use cipherstage_smime::crypto::{x963_kdf, KdfHash};
                // The KDF counts from 00000001; any other first counter is not this KDF.
                if *counter != [0, 0, 0, 1] {
                    return None;
                }
                let hash = if *sha1 {
                    KdfHash::Sha1
                } else {
                    KdfHash::Sha256
                };
                Some(x963_kdf(hash, z, shared_info, *len))
            }
            #[cfg(feature = "smime")]
            Computed::Unwrap { kek, wrapped } => cipherstage_smime::crypto::unwrap(kek, wrapped)
                .ok()
                .map(|k| k.to_vec()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

/// Reads "start..end", the part of prf+'s output an IKE key's formula records.
fn parse_range(text: &[u8]) -> Option<core::ops::Range<usize>> {
    let (a, b) = core::str::from_utf8(text).ok()?.split_once("..")?;
    let (start, end): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
    (start <= end && end <= 4096).then_some(start..end)
}

/// (EC)DH as the cores compute it with ring: the private key made from its random
/// bytes, then agreement with the peer's public key.
#[cfg(feature = "ring")]
fn agree(curve: Curve, private: &[u8], peer: &[u8]) -> Option<Vec<u8>> {
    use ring::agreement;
    let (alg, peer) = match curve {
        Curve::X25519 => (&agreement::X25519, peer.to_vec()),
        // IKE carries x ‖ y (RFC 5903 §7); ring reads the uncompressed point 04 ‖ x ‖ y.
        Curve::P256 if peer.len() == 64 => (&agreement::ECDH_P256, [&[0x04], peer].concat()),
        Curve::P256 => (&agreement::ECDH_P256, peer.to_vec()),
    };
    let key = agreement::EphemeralPrivateKey::generate(
        alg,
        &cipherstage_transcript::rand::fixed(private),
    )
    .ok()?;
    agreement::agree_ephemeral(key, &agreement::UnparsedPublicKey::new(alg, peer), |s| {
        s.to_vec()
    })
    .ok()
}
