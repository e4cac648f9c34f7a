//! The key schedule of one connection, every step recorded as a transcript secret
//! named as the NSS key log names it where it has such a name.

use rustls_pki_types::SignatureVerificationAlgorithm;

use crate::common::{Common, Error};
use crate::enums::{AlertDescription, SignatureScheme};

/// The secrets derived so far.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    master: Vec<u8>,
    pub client_hs: Vec<u8>,
    pub server_hs: Vec<u8>,
    pub client_ap: Vec<u8>,
    pub server_ap: Vec<u8>,
    resumption: Vec<u8>,
}

impl Schedule {
    /// Early secret → handshake secret → handshake traffic secrets → master secret.
    pub fn handshake(c: &mut Common, shared: &[u8]) -> Result<Schedule, Error> {
        if c.suite.is_none() {
            return Err(Error::new(AlertDescription::InternalError));
        }
        let h = c.hash();
        let zeros = vec![0u8; h.len()];
        let empty_hash = h.digest(&[]);
        let early = c.extract("early_secret", &zeros, &zeros, "psk");
        let derived = c.derive("derived_early", &early, "derived", &empty_hash);
        let hs = c.extract("handshake_secret", &derived, shared, "ecdhe");
        let th = c.transcript_hash();
        let client_hs = c.derive("CLIENT_HANDSHAKE_TRAFFIC_SECRET", &hs, "c hs traffic", &th);
        let server_hs = c.derive("SERVER_HANDSHAKE_TRAFFIC_SECRET", &hs, "s hs traffic", &th);
        let derived = c.derive("derived_handshake", &hs, "derived", &empty_hash);
        let master = c.extract("master_secret", &derived, &zeros, "zeros");
        Ok(Schedule {
            master,
            client_hs,
            server_hs,
            client_ap: Vec::new(),
            server_ap: Vec::new(),
            resumption: Vec::new(),
        })
    }

    /// Application traffic secrets and the exporter secret (transcript through server Finished).
    pub fn application(mut self, c: &mut Common) -> Result<Schedule, Error> {
        let th = c.transcript_hash();
        self.client_ap = c.derive("CLIENT_TRAFFIC_SECRET_0", &self.master, "c ap traffic", &th);
        self.server_ap = c.derive("SERVER_TRAFFIC_SECRET_0", &self.master, "s ap traffic", &th);
        c.exporter = c.derive("EXPORTER_SECRET", &self.master, "exp master", &th);
        Ok(self)
    }

    /// The resumption master secret (transcript through client Finished).
    pub fn resumption(&mut self, c: &mut Common) {
        let th = c.transcript_hash();
        self.resumption = c.derive("resumption_master_secret", &self.master, "res master", &th);
    }

    /// The PSK a NewSessionTicket with `nonce` stands for (RFC 9846 §4.7.1).
    pub fn ticket_psk(&self, c: &mut Common, nonce: &[u8]) {
        let res = self.resumption.clone();
        let h = c.hash();
        let psk = h.expand_label(&res, b"resumption", nonce, h.len());
        c.secret(
            "resumption_psk",
            &psk,
            "hkdf_expand_label",
            &[
                ("secret", &res),
                ("label", b"resumption"),
                ("context", nonce),
            ],
        );
    }

    /// verify_data for our Finished (`client` says whose).
    pub fn finished(&self, c: &mut Common, client: bool) -> Vec<u8> {
        let (base, name) = if client {
            (&self.client_hs, "client_finished_key")
        } else {
            (&self.server_hs, "server_finished_key")
        };
        let h = c.hash();
        let key = c.expand(name, base, "finished", h.len());
        h.hmac(&key, &c.transcript_hash())
    }

    /// Checks the peer's verify_data (in constant time).
    pub fn check_finished(&self, c: &mut Common, client: bool, verify: &[u8]) -> bool {
        let expected = self.finished(c, client);
        ct_eq(&expected, verify)
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The webpki algorithm that verifies `scheme` in TLS 1.3.
pub(crate) fn verify_alg(
    scheme: SignatureScheme,
) -> Option<&'static dyn SignatureVerificationAlgorithm> {
    Some(match scheme {
        SignatureScheme::Ed25519 => webpki::ring::ED25519,
        SignatureScheme::EcdsaSecp256r1Sha256 => webpki::ring::ECDSA_P256_SHA256,
        SignatureScheme::EcdsaSecp384r1Sha384 => webpki::ring::ECDSA_P384_SHA384,
        SignatureScheme::RsaPssRsaeSha256 => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        SignatureScheme::RsaPssRsaeSha384 => webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        _ => return None,
    })
}
