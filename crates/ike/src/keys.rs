//! The key schedule of an IKE SA and its first CHILD_SA (RFC 7296 §2.13–2.15, §2.17),
//! each key recorded as a transcript secret with the formula it came from.

use cipherstage_transcript::{Formula, FormulaInput};

use crate::crypto::{prf, prf_plus, CryptoError, Encr, PRF_LEN};
use crate::Note;

/// The keys of an IKE SA (§2.14). With an AEAD there are no SK_ai / SK_ar (RFC 5282 §7).
#[derive(Clone, PartialEq, Eq)]
pub struct IkeKeys {
    /// The SK payload's transform.
    pub encr: Encr,
    /// SKEYSEED = prf(Ni | Nr, g^ir).
    pub skeyseed: [u8; PRF_LEN],
    /// SK_d: the key CHILD_SA keys are made from.
    pub sk_d: Vec<u8>,
    /// SK_ei: key ‖ salt protecting the initiator's messages.
    pub sk_ei: Vec<u8>,
    /// SK_er: key ‖ salt protecting the responder's messages.
    pub sk_er: Vec<u8>,
    /// SK_pi: the key of the initiator's AUTH payload.
    pub sk_pi: Vec<u8>,
    /// SK_pr: the key of the responder's AUTH payload.
    pub sk_pr: Vec<u8>,
}

impl core::fmt::Debug for IkeKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IkeKeys")
            .field("encr", &self.encr)
            .finish_non_exhaustive()
    }
}

fn input(name: &str, bytes: &[u8]) -> FormulaInput {
    FormulaInput {
        name: format!("ike.input.{name}"),
        bytes: bytes.to_vec(),
    }
}

fn secret(notes: &mut Vec<Note>, name: &str, bytes: &[u8], inputs: Vec<FormulaInput>) {
    notes.push(Note::Secret {
        name: format!("ike.secret.{name}"),
        bytes: bytes.to_vec(),
        formula: Formula {
            key: format!("ike.formula.{name}"),
            inputs,
        },
    });
}

/// Which bytes of prf+'s output a key is, as its formula shows them: `start..end`.
fn part(start: usize, len: usize) -> String {
    format!("{start}..{}", start + len)
}

/// The inputs of one IKE SA's schedule.
#[derive(Debug, Clone, Copy)]
pub struct Schedule<'a> {
    /// The SK transform chosen.
    pub encr: Encr,
    /// Ni.
    pub ni: &'a [u8],
    /// Nr.
    pub nr: &'a [u8],
    /// SPIi.
    pub spi_i: [u8; 8],
    /// SPIr.
    pub spi_r: [u8; 8],
    /// g^ir, the Diffie-Hellman shared secret.
    pub shared: &'a [u8],
}

impl IkeKeys {
    /// SKEYSEED and {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
    /// prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), recording each in `notes`.
    pub fn derive(s: Schedule<'_>, notes: &mut Vec<Note>) -> Result<IkeKeys, CryptoError> {
        let nonces = [s.ni, s.nr].concat();
        let skeyseed = prf(&nonces, &[s.shared]);
        secret(
            notes,
            "skeyseed",
            &skeyseed,
            vec![
                input("ni", s.ni),
                input("nr", s.nr),
                input("g_ir", s.shared),
            ],
        );
        let seed = [s.ni, s.nr, &s.spi_i, &s.spi_r].concat();
        let e = s.encr.keymat_len();
        let lens = [PRF_LEN, e, e, PRF_LEN, PRF_LEN];
        let km = prf_plus(&skeyseed, &seed, lens.iter().sum())?;
        let mut parts = Vec::new();
        let mut ranges = Vec::new();
        let mut at = 0;
        for l in lens {
            parts.push(km.get(at..at + l).ok_or(CryptoError::Internal)?.to_vec());
            ranges.push(part(at, l));
            at += l;
        }
        let [sk_d, sk_ei, sk_er, sk_pi, sk_pr] =
            <[Vec<u8>; 5]>::try_from(parts).map_err(|_| CryptoError::Internal)?;
        for ((name, v), range) in [
            ("sk_d", &sk_d),
            ("sk_ei", &sk_ei),
            ("sk_er", &sk_er),
            ("sk_pi", &sk_pi),
            ("sk_pr", &sk_pr),
        ]
        .into_iter()
        .zip(&ranges)
        {
            secret(
                notes,
                name,
                v,
                vec![
                    input("skeyseed", &skeyseed),
                    input("ni", s.ni),
                    input("nr", s.nr),
                    input("spi_i", &s.spi_i),
                    input("spi_r", &s.spi_r),
                    input("part", range.as_bytes()),
                ],
            );
        }
        Ok(IkeKeys {
            encr: s.encr,
            skeyseed,
            sk_d,
            sk_ei,
            sk_er,
            sk_pi,
            sk_pr,
        })
    }

    /// The key ‖ salt protecting messages sent by the initiator (true) or responder.
    pub fn sending(&self, initiator: bool) -> &[u8] {
        if initiator {
            &self.sk_ei
        } else {
            &self.sk_er
        }
    }
}

/// The AUTH payload's data for a pre-shared key (§2.15):
/// `prf(prf(PSK, "Key Pad for IKEv2"), RealMessage | Nonce | prf(SK_p, RestOfIDPayload))`.
pub fn psk_auth(
    psk: &[u8],
    real_message: &[u8],
    peer_nonce: &[u8],
    sk_p: &[u8],
    id_body: &[u8],
) -> [u8; PRF_LEN] {
    let pad = prf(psk, &[b"Key Pad for IKEv2"]);
    let maced_id = prf(sk_p, &[id_body]);
    prf(&pad, &[real_message, peer_nonce, &maced_id])
}

/// The key material of a CHILD_SA without PFS (§2.17): KEYMAT = prf+(SK_d, Ni | Nr);
/// first the key ‖ salt of the initiator-to-responder SA, then the other direction.
pub fn child_keymat(
    encr: Encr,
    sk_d: &[u8],
    ni: &[u8],
    nr: &[u8],
    notes: &mut Vec<Note>,
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let l = encr.keymat_len();
    let km = prf_plus(sk_d, &[ni, nr].concat(), 2 * l)?;
    let (i, r) = km.split_at_checked(l).ok_or(CryptoError::Internal)?;
    for (name, v, at) in [("child_ei", i, 0), ("child_er", r, l)] {
        secret(
            notes,
            name,
            v,
            vec![
                input("sk_d", sk_d),
                input("ni", ni),
                input("nr", nr),
                input("part", part(at, l).as_bytes()),
            ],
        );
    }
    Ok((i.to_vec(), r.to_vec()))
}
