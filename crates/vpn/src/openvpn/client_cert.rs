//! `vpn-client-certificate`: the VPN product acts as an intermediate CA under the
//! company's root. The laptop makes a key and a CSR, the VPN CA issues its leaf
//! certificate, the laptop installs it, and the gateway, which trusts that
//! intermediate (and checks its CRL, as openvpn's `--ca` and `--crl-verify`), lets
//! it in over OpenVPN. The failures: no certificate, one from another CA, an
//! expired one, a revoked one, each with the alert the gateway sends and what
//! openvpn logs.

use cipherstage_pki::authority::{Authority, VPN_CA_CN};
use cipherstage_pki::der::{annotate_certificate, annotate_crl, annotate_csr};
use cipherstage_pki::issue::{issue_server, make_csr, read_csr};
use cipherstage_pki::{Key, Pki, SCENARIO_NOW};
use cipherstage_tls::enums::SignatureScheme;
use cipherstage_tls::scenario::{build_pki, seeded};
use cipherstage_tls::{ClientAuth, ClientConfig, Identity, ServerConfig, Signer, VirtualHost};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, FailReason, FieldsBuilder, Layer, Link, Protection, Recorder, Role, Transcript, Wire,
};

use super::scenario::{story, Params};
use crate::{LaptopCert, GATEWAY_NAME};

const LAPTOP: usize = 0;
const GATEWAY: usize = 1;
const EVE: usize = 3;
const VPN_CA: usize = 4;
/// Laptop ↔ VPN CA: the enrollment (in the office or through the company's
/// device management, not over the Internet Eve watches).
const L_ENROLL: usize = 2;
/// VPN CA → gateway: the CA certificate and the CRL the gateway loads.
const L_CA_GATEWAY: usize = 3;
const DAY: i64 = 86_400;
/// The laptop's leaf's serial (10 28).
const SERIAL: u8 = 40;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Nothing: the leaf from the VPN CA is accepted.
    None,
    /// The laptop never enrolled: no certificate (certificate_required).
    NoCertificate,
    /// A certificate from another CA (unknown_ca).
    AnotherCa,
    /// The VPN CA's certificate, but expired (certificate_expired).
    Expired,
    /// Issued, then revoked in the VPN CA's CRL (certificate_revoked).
    Revoked,
}

impl Failure {
    fn key(self) -> &'static str {
        match self {
            Failure::None => "none",
            Failure::NoCertificate => "no_certificate",
            Failure::AnotherCa => "another_ca",
            Failure::Expired => "expired",
            Failure::Revoked => "revoked",
        }
    }
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertParams {
    /// What goes wrong.
    pub failure: Failure,
    /// A byte Eve flips in flight.
    pub tamper: Option<cipherstage_transcript::TamperAt>,
}

impl Default for CertParams {
    fn default() -> Self {
        CertParams {
            failure: Failure::None,
            tamper: None,
        }
    }
}

fn send_der(
    d: &mut Recorder,
    (from, to, link): (usize, usize, usize),
    label: &str,
    der: &[u8],
    annotate: fn(&mut FieldsBuilder, &[u8], Protection),
) {
    let mut b = FieldsBuilder::new(0);
    annotate(&mut b, der, Protection::Plaintext);
    let wire = Wire {
        link,
        protocol: "x509",
        layer: Layer::Transport,
    };
    d.send(wire, from, to, label, der.to_vec(), b.finish());
}

/// Runs the story under id `scenario` with `seed` (`None`: live randomness).
pub fn run(scenario: &str, p: &CertParams, seed: Option<u64>) -> Transcript {
    let mut master = Source::from_seed(seed);
    let mut d = Recorder::new(p.tamper, Some(EVE));
    d.watch(0);
    match build_pki(&mut master) {
        Ok(pki) => {
            let crng = seeded(&mut master);
            let srng = seeded(&mut master);
            let mut rng = seeded(&mut master);
            let mut erng = seeded(&mut master);
            let op = Params {
                cert: if p.failure == Failure::NoCertificate {
                    LaptopCert::None
                } else {
                    LaptopCert::Issued
                },
                tamper: p.tamper,
                ..Params::default()
            };
            match enroll(&mut d, p.failure, &pki, &mut *erng) {
                Some(e) => {
                    let mut make =
                        |_: &mut Recorder, rng: &mut dyn RandomSource| configs(&pki, &e, rng);
                    story(&mut d, &op, &mut make, crng, srng, &mut *rng, None);
                    gateway_log(&mut d, p.failure);
                }
                None => d.narrate("tls.narr.pki_failed", &[]),
            }
        }
        Err(_) => d.narrate("tls.narr.pki_failed", &[]),
    }
    let actor = |role, name: &str| Actor {
        role,
        name: name.to_owned(),
    };
    let link = |a, b, observers: Vec<usize>| Link { a, b, observers };
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            actor(Role::Client, "vpn.actor.laptop"),
            actor(Role::Gateway, "vpn.actor.gateway"),
            actor(Role::Server, "vpn.actor.intranet"),
            actor(Role::Eavesdropper, "vpn.actor.eve"),
            actor(Role::Ca, "vpn.actor.vpn_ca"),
        ],
        links: vec![
            link(LAPTOP, GATEWAY, vec![EVE]),
            link(GATEWAY, 2, Vec::new()),
            link(LAPTOP, VPN_CA, Vec::new()),
            link(VPN_CA, GATEWAY, Vec::new()),
        ],
        events: d.events,
    }
}

/// What the enrollment left: the VPN CA, the laptop's certificate chain and key
/// (none without enrollment), the CRL the gateway loaded.
struct Enrolled {
    ca: Authority,
    laptop: Option<(Vec<Vec<u8>>, Key)>,
    crl: Vec<u8>,
}

fn enroll(
    d: &mut Recorder,
    failure: Failure,
    pki: &Pki,
    rng: &mut dyn RandomSource,
) -> Option<Enrolled> {
    d.narrate("vpn.cc.narr.intro", &[("ca", &VPN_CA_CN)]);
    let ca = Authority::vpn_ca(rng, &pki.root, SCENARIO_NOW).ok()?;
    send_der(
        d,
        (VPN_CA, GATEWAY, L_CA_GATEWAY),
        "vpn.cc.msg.ca_certificate",
        &ca.cert.der,
        annotate_certificate,
    );
    d.narrate("vpn.cc.narr.gateway_trusts", &[("ca", &VPN_CA_CN)]);
    let now = SCENARIO_NOW as i64;
    let laptop = match failure {
        Failure::NoCertificate => {
            d.narrate("vpn.cc.narr.not_enrolled", &[]);
            None
        }
        Failure::AnotherCa => {
            d.narrate("vpn.cc.narr.another_ca", &[]);
            Some((
                vec![pki.alice_untrusted.der.clone()],
                pki.alice_untrusted.key.clone(),
            ))
        }
        Failure::None | Failure::Expired | Failure::Revoked => {
            let key = Key::generate_ecdsa_p256(rng).ok()?;
            let csr_der = make_csr(&key, "alice-laptop.example.com", rng).ok()?;
            d.narrate("vpn.cc.narr.csr", &[]);
            send_der(
                d,
                (LAPTOP, VPN_CA, L_ENROLL),
                "vpn.cc.msg.csr",
                &csr_der,
                annotate_csr,
            );
            let csr = read_csr(&csr_der).ok()?;
            let pop = csr.proof_of_possession.clone();
            d.check(
                VPN_CA,
                "vpn.cc.check.csr_signature",
                pop.is_err().then_some(FailReason::BadSignature),
            );
            let (from, until) = if failure == Failure::Expired {
                (now - 730 * DAY, now - 365 * DAY)
            } else {
                (now - 30 * DAY, now + 335 * DAY)
            };
            let leaf = ca.issue_client(&csr, "alice", SERIAL, from, until).ok()?;
            d.narrate(
                if failure == Failure::Expired {
                    "vpn.cc.narr.issued_expired"
                } else {
                    "vpn.cc.narr.issued"
                },
                &[("ca", &VPN_CA_CN)],
            );
            send_der(
                d,
                (VPN_CA, LAPTOP, L_ENROLL),
                "vpn.cc.msg.leaf",
                &leaf,
                annotate_certificate,
            );
            d.narrate("vpn.cc.narr.installed", &[]);
            Some((vec![leaf, ca.cert.der.clone()], key))
        }
    };
    let revoked: &[u8] = if failure == Failure::Revoked {
        d.narrate("vpn.cc.narr.revoked", &[]);
        &[SERIAL]
    } else {
        &[]
    };
    let crl = ca.crl(revoked, 1, now - DAY, now + 6 * DAY).ok()?;
    send_der(
        d,
        (VPN_CA, GATEWAY, L_CA_GATEWAY),
        "vpn.cc.msg.crl",
        &crl,
        annotate_crl,
    );
    d.narrate("vpn.cc.narr.crl_loaded", &[]);
    Some(Enrolled { ca, laptop, crl })
}

fn configs(
    pki: &Pki,
    e: &Enrolled,
    rng: &mut dyn RandomSource,
) -> Option<(ClientConfig, ServerConfig)> {
    let gw_key = Key::generate(rng).ok()?;
    let gw_cert = issue_server(&gw_key, GATEWAY_NAME, &pki.intermediate).ok()?;
    let mut sc = ServerConfig::new(vec![VirtualHost {
        names: vec![GATEWAY_NAME.to_owned()],
        identity: Identity {
            chain: vec![gw_cert, pki.intermediate.der.clone()],
            signer: Signer::Key(gw_key),
        },
    }]);
    // openvpn's --ca: the VPN CA alone is trusted for clients; --crl-verify its CRL.
    sc.client_auth = Some(ClientAuth {
        roots: vec![e.ca.cert.der.clone()],
        now: SCENARIO_NOW,
        signature_schemes: vec![
            SignatureScheme::Ed25519,
            SignatureScheme::EcdsaSecp256r1Sha256,
        ],
        crls: vec![e.crl.clone()],
    });
    sc.ticket = None;
    let mut cc = ClientConfig::new(GATEWAY_NAME, vec![pki.root.der.clone()], SCENARIO_NOW);
    cc.sni = None;
    cc.identity = e.laptop.as_ref().map(|(chain, key)| Identity {
        chain: chain.clone(),
        signer: Signer::Key(key.clone()),
    });
    Some((cc, sc))
}

/// What the gateway sent and logged, as openvpn 2.6 logs it.
fn gateway_log(d: &mut Recorder, failure: Failure) {
    let key = format!("vpn.cc.narr.gateway.{}", failure.key());
    d.narrate(&key, &[]);
}
