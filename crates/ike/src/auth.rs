//! AUTH by certificate: RFC 7427 Digital Signature (Auth Method 14) with ECDSA P-256
//! and SHA-256, the signer's chain in CERT payloads, and the peer's chain checked with
//! `crates/pki` (rustls-webpki at the scenario's time, the ID as the certificate's name).
//!
//! The signed octets are the ones the PSK MAC covers (RFC 7296 §2.15): the sender's
//! first message, the peer's nonce and prf(SK_p, RestOfIDPayload).

use cipherstage_pki::{Key, Usage, VerifyError};
use cipherstage_transcript::rand::RandomSource;

use crate::crypto::prf;

/// The DER AlgorithmIdentifier of ecdsa-with-SHA256 (RFC 7427 Appendix A.4.1).
pub const ECDSA_SHA256: [u8; 12] = [
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];
/// Cert Encoding 4: X.509 Certificate - Signature (RFC 7296 §3.6).
pub const X509_SIGNATURE: u8 = 4;

/// What a side proves itself with when it uses a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertAuth {
    /// Its certificate first, then the intermediates (DER), each sent in a CERT payload.
    pub chain: Vec<Vec<u8>>,
    /// The certificate's ECDSA P-256 private key.
    pub key: Key,
}

/// What a side trusts when the peer authenticates with a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    /// The trusted roots (DER).
    pub roots: Vec<Vec<u8>>,
    /// The time certificates are checked at (seconds since the epoch; passed in).
    pub now: u64,
}

/// Why a certificate AUTH was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertFailure {
    /// The AUTH data does not start with the ecdsa-with-SHA256 identifier.
    Algorithm,
    /// The chain does not verify, or not for this identity.
    Chain(VerifyError),
    /// The signature does not verify with the certificate's key.
    Signature,
}

/// The octets both AUTH methods cover (§2.15).
pub fn signed_octets(
    real_message: &[u8],
    peer_nonce: &[u8],
    sk_p: &[u8],
    id_body: &[u8],
) -> Vec<u8> {
    let maced = prf(sk_p, &[id_body]);
    [real_message, peer_nonce, &maced].concat()
}

/// The AUTH data: the identifier's length, the identifier, the DER ECDSA signature
/// (ECDSA draws its nonce from `rng`: the same seed, the same signature).
pub fn sign(c: &CertAuth, octets: &[u8], rng: &mut dyn RandomSource) -> Option<Vec<u8>> {
    let sig = c.key.sign(octets, rng).ok()?;
    let mut out = vec![ECDSA_SHA256.len() as u8];
    out.extend_from_slice(&ECDSA_SHA256);
    out.extend_from_slice(&sig);
    Some(out)
}

/// Checks the peer's chain (leaf first) for `name`, then its signature over `octets`.
pub fn verify(
    trust: &Trust,
    chain: &[Vec<u8>],
    name: &str,
    auth_data: &[u8],
    octets: &[u8],
) -> Result<(), CertFailure> {
    let (&len, rest) = auth_data.split_first().ok_or(CertFailure::Algorithm)?;
    let (alg, sig) = rest
        .split_at_checked(usize::from(len))
        .ok_or(CertFailure::Algorithm)?;
    if alg != ECDSA_SHA256 {
        return Err(CertFailure::Algorithm);
    }
    // IKE has no EKU of its own (RFC 4945 §5.1.3.12): the test PKI's serverAuth leaves.
    cipherstage_pki::verify_chain(chain, &trust.roots, trust.now, Usage::Server, Some(name))
        .map_err(CertFailure::Chain)?;
    let leaf = chain
        .first()
        .ok_or(CertFailure::Chain(VerifyError::Malformed))?;
    let ok = cipherstage_pki::ALGORITHMS
        .iter()
        .any(|alg| cipherstage_pki::verify_signature(leaf, *alg, octets, sig).is_ok());
    ok.then_some(()).ok_or(CertFailure::Signature)
}

/// Checks the peer's AUTH as the configuration demands — a signature by a trusted
/// certificate for its identity when `trust` is set, else the PSK's MAC — and records
/// the checks in `notes`. Returns whether it holds.
#[allow(clippy::too_many_arguments)]
pub fn check_peer(
    notes: &mut Vec<crate::Note>,
    psk: &[u8],
    trust: Option<&Trust>,
    certs: &[Vec<u8>],
    id: &crate::Identity,
    method: u8,
    data: &[u8],
    octets: &[u8],
) -> bool {
    use cipherstage_transcript::FailReason;
    let Some(trust) = trust else {
        let pad = prf(psk, &[b"Key Pad for IKEv2"]);
        let ok =
            method == crate::consts::auth_method::SHARED_KEY_MIC && data == prf(&pad, &[octets]);
        notes.push(crate::Note::Check {
            what: "ike.check.auth",
            failed: (!ok).then_some(FailReason::BadSignature),
        });
        return ok;
    };
    let name = String::from_utf8_lossy(&id.data);
    let result = if method == crate::consts::auth_method::DIGITAL_SIGNATURE {
        verify(trust, certs, &name, data, octets)
    } else {
        Err(CertFailure::Algorithm)
    };
    let chain_failed = matches!(result, Err(CertFailure::Chain(_)));
    notes.push(crate::Note::Check {
        what: "ike.check.cert_chain",
        failed: chain_failed.then_some(FailReason::Untrusted),
    });
    if !chain_failed {
        notes.push(crate::Note::Check {
            what: "ike.check.auth",
            failed: result.is_err().then_some(FailReason::BadSignature),
        });
    }
    result.is_ok()
}
