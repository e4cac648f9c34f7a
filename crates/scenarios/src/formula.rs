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
