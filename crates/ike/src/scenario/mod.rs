//! The VPN stories built on IKEv2, run with the transcript's one driver
//! (`cipherstage_transcript::drive`): the initiator (a home PC, or office A's gateway)
//! and the responder (the company's VPN gateway) exchange IKE_SA_INIT and IKE_AUTH in
//! UDP port 500 over the Internet, where Eve watches; once the CHILD_SA is up, the
//! initiator sends a TCP SYN to an office server inside ESP tunnel mode, sealed with the
//! keys IKE negotiated; the gateway opens it and forwards the inner packet onto the
//! office LAN — as it is (the server sees the address the company assigned) or with its
//! own LAN address as the source (NAT mode).

use cipherstage_packets::Ipv4Addr;
use cipherstage_transcript::driver::drive;
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, ActorId, Layer, Link, LinkId, Recorder, Role, TamperAt, Transcript, Wire,
};

use crate::auth::{CertAuth, Trust};
use crate::consts::notify;
use crate::{
    Addr, Encr, Group, Identity, Initiator, InitiatorConfig, InitiatorState, Responder,
    ResponderConfig, Selector,
};

mod endpoints;
mod export;

pub use export::{Export, IkeSaKeys};

use endpoints::{Client, Eve, Gateway, Plan, Server};

/// The scenarios of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Story {
    /// `ikev2-remote-access`: a home PC joins the company network.
    RemoteAccess,
    /// `ikev2-site-to-site`: two offices' gateways join their networks.
    SiteToSite,
    /// `ikev2-no-proposal`: no algorithm in common, NO_PROPOSAL_CHOSEN.
    NoProposal,
    /// `ikev2-invalid-ke`: the KE is of a group the gateway refuses; INVALID_KE_PAYLOAD, retry.
    InvalidKe,
    /// `ikev2-auth-failed`: a wrong pre-shared key, AUTHENTICATION_FAILED.
    AuthFailed,
    /// `ikev2-tamper`: Eve flips a byte; a tampered SK payload is dropped silently.
    Tamper,
    /// `ikev2-cert-untrusted`: the home PC's certificate is from a CA the company does not
    /// trust; AUTHENTICATION_FAILED.
    CertUntrusted,
}

impl Story {
    /// Every story, in picker order.
    pub const ALL: [Story; 7] = [
        Story::RemoteAccess,
        Story::SiteToSite,
        Story::NoProposal,
        Story::InvalidKe,
        Story::AuthFailed,
        Story::Tamper,
        Story::CertUntrusted,
    ];

    /// The scenario id.
    pub fn id(self) -> &'static str {
        match self {
            Story::RemoteAccess => "ikev2-remote-access",
            Story::SiteToSite => "ikev2-site-to-site",
            Story::NoProposal => "ikev2-no-proposal",
            Story::InvalidKe => "ikev2-invalid-ke",
            Story::AuthFailed => "ikev2-auth-failed",
            Story::Tamper => "ikev2-tamper",
            Story::CertUntrusted => "ikev2-cert-untrusted",
        }
    }

    /// The story with this scenario id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// What a scenario's parameters choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// The IKE SA's and the CHILD_SA's AEAD.
    pub encr: Encr,
    /// The Diffie-Hellman group.
    pub group: Group,
    /// Whether the gateway puts its own LAN address on forwarded packets (NAT mode).
    pub gateway_nat: bool,
    /// How the two ends prove who they are.
    pub auth: AuthMode,
    /// The byte Eve flips, if any.
    pub tamper: Option<TamperAt>,
}

/// How the two ends authenticate in IKE_AUTH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMode {
    /// A pre-shared key both hold.
    Psk,
    /// Certificates from the company's CA (the test PKI): ECDSA P-256 signatures.
    Cert,
}

impl AuthMode {
    /// Stable id (`psk`, `cert`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Psk => "psk",
            AuthMode::Cert => "cert",
        }
    }

    /// The mode with this id.
    pub fn from_id(id: &str) -> Option<Self> {
        [AuthMode::Psk, AuthMode::Cert]
            .into_iter()
            .find(|m| m.as_str() == id)
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            encr: Encr::AesGcm256,
            group: Group::Curve25519,
            gateway_nat: false,
            auth: AuthMode::Psk,
            tamper: None,
        }
    }
}

/// The pre-shared key both ends are configured with (wrong at the home PC in
/// `ikev2-auth-failed`).
pub const PSK: &str = "correct horse battery staple";
/// The address the gateway hands out through CP.
pub const VIRTUAL_ADDR: [u8; 4] = [10, 10, 0, 2];
/// The DNS server it names.
pub const DNS_ADDR: [u8; 4] = [10, 0, 0, 53];

const INTERNET: LinkId = 0;
const LAN: LinkId = 1;
const INITIATOR: ActorId = 0;
const EVE: ActorId = 1;
const GATEWAY: ActorId = 2;
const SERVER: ActorId = 3;
const MAX_ROUNDS: usize = 40;

fn wire(link: LinkId, protocol: &'static str) -> Wire<'static> {
    Wire {
        link,
        protocol,
        layer: Layer::Network,
    }
}

/// The company's test PKI, and a certificate (ECDSA P-256, issued by its intermediate
/// CA) for each identity: (the initiator's, the responder's, what both trust).
fn certificates(
    rng: &mut dyn RandomSource,
    initiator: &Identity,
    responder: &Identity,
    untrusted_initiator: bool,
) -> Option<(CertAuth, CertAuth, Trust)> {
    let pki = cipherstage_pki::Pki::build(rng).ok()?;
    let mut issue = |id: &Identity, ca: &cipherstage_pki::Cert| {
        let key = cipherstage_pki::Key::generate_ecdsa_p256(rng).ok()?;
        let name = String::from_utf8_lossy(&id.data).into_owned();
        let leaf = cipherstage_pki::issue::issue_server(&key, &name, ca).ok()?;
        Some(CertAuth {
            chain: vec![leaf, ca.der.clone()],
            key,
        })
    };
    // In `ikev2-cert-untrusted` the home PC's certificate comes from a CA of its own.
    let issuer = if untrusted_initiator {
        &pki.rogue_root
    } else {
        &pki.intermediate
    };
    let mine = issue(initiator, issuer)?;
    let theirs = issue(responder, &pki.intermediate)?;
    let trust = Trust {
        roots: vec![pki.root.der.clone()],
        now: cipherstage_pki::SCENARIO_NOW,
    };
    Some((mine, theirs, trust))
}

/// Runs `story`: the transcript of one run.
pub fn run(story: Story, params: &Params, seed: Option<u64>) -> Transcript {
    run_with_export(story, params, seed).0
}

/// Runs `story`: the transcript, and what a capture of the Internet link needs.
pub fn run_with_export(story: Story, params: &Params, seed: Option<u64>) -> (Transcript, Export) {
    let site = story == Story::SiteToSite;
    let plan = if site {
        Plan {
            initiator: Addr {
                ip: [192, 0, 2, 1],
                port: 500,
            },
            gateway: Addr {
                ip: [203, 0, 113, 1],
                port: 500,
            },
            gateway_lan: Ipv4Addr::new(10, 2, 0, 1),
            server: Ipv4Addr::new(10, 2, 0, 20),
            fixed_src: Some(Ipv4Addr::new(10, 1, 0, 10)),
        }
    } else {
        Plan {
            initiator: Addr {
                ip: [198, 51, 100, 7],
                port: 500,
            },
            gateway: Addr {
                ip: [203, 0, 113, 1],
                port: 500,
            },
            gateway_lan: Ipv4Addr::new(10, 0, 0, 1),
            server: Ipv4Addr::new(10, 0, 0, 20),
            fixed_src: None,
        }
    };
    let (local_net, remote_net) = if site {
        (
            Selector::subnet([10, 2, 0, 0], 24),
            Selector::subnet([10, 1, 0, 0], 24),
        )
    } else {
        (Selector::subnet([10, 0, 0, 0], 24), Selector::ANY)
    };
    let mut ic = InitiatorConfig {
        encrs: vec![params.encr],
        groups: vec![params.group],
        child_encrs: vec![params.encr],
        id: Identity::fqdn(if site {
            "office-a.example.com"
        } else {
            "home-pc.example.com"
        }),
        peer_id: Some(Identity::fqdn("vpn.example.com")),
        psk: PSK.as_bytes().to_vec(),
        cert: None,
        trust: None,
        request_address: !site,
        tsi: if site { remote_net } else { Selector::ANY },
        tsr: if site { local_net } else { Selector::ANY },
        local: plan.initiator,
        remote: plan.gateway,
    };
    let mut rc = ResponderConfig {
        encrs: Encr::ALL.to_vec(),
        groups: Group::ALL.to_vec(),
        child_encrs: Encr::ALL.to_vec(),
        id: Identity::fqdn("vpn.example.com"),
        peer_id: Some(ic.id.clone()),
        psk: PSK.as_bytes().to_vec(),
        cert: None,
        trust: None,
        pool: (!site).then_some((VIRTUAL_ADDR, Some(DNS_ADDR))),
        local_ts: local_net,
        remote_ts: remote_net,
        local: plan.gateway,
    };
    match story {
        Story::NoProposal => {
            ic.encrs = vec![Encr::AesGcm128];
            rc.encrs = vec![Encr::AesGcm256];
        }
        Story::InvalidKe => {
            ic.groups = vec![Group::Ecp256, Group::Curve25519];
            rc.groups = vec![Group::Curve25519];
        }
        Story::AuthFailed => ic.psk = b"correct horse battery stable".to_vec(),
        _ => {}
    }
    let actors = [
        (
            Role::Client,
            if site {
                "ike.actor.gateway_a"
            } else {
                "ike.actor.home_pc"
            },
        ),
        (Role::Eavesdropper, "ike.actor.eve"),
        (
            Role::Gateway,
            if site {
                "ike.actor.gateway_b"
            } else {
                "ike.actor.gateway"
            },
        ),
        (Role::Server, "ike.actor.server"),
    ]
    .into_iter()
    .map(|(role, name)| Actor {
        role,
        name: name.into(),
    })
    .collect();
    let links = vec![
        Link {
            a: INITIATOR,
            b: GATEWAY,
            observers: vec![EVE],
        },
        Link {
            a: GATEWAY,
            b: SERVER,
            observers: Vec::new(),
        },
    ];
    let mut rec = Recorder::new(params.tamper, Some(EVE));
    rec.watch_only_named_links();
    rec.watch(INTERNET);
    rec.narrate(
        &format!(
            "ike.narr.intro_{}",
            story.id().trim_start_matches("ikev2-").replace('-', "_")
        ),
        &[],
    );
    let mut rng = Source::from_seed(seed);
    let untrusted = story == Story::CertUntrusted;
    if params.auth == AuthMode::Cert || untrusted {
        match certificates(&mut rng, &ic.id, &rc.id, untrusted) {
            Some((mine, theirs, trust)) => {
                ic.cert = Some(mine);
                ic.trust = Some(trust.clone());
                rc.cert = Some(theirs);
                rc.trust = Some(trust);
                rec.narrate("ike.narr.certificates", &[]);
            }
            None => rec.alert(INITIATOR, "ike.alert.internal", true),
        }
    }
    let mut client = Client {
        ike: Initiator::new(ic),
        plan,
        started: false,
        sent_inner: false,
        waited: 0,
        retries: 0,
        idents: 0x3000,
        out: Vec::new(),
    };
    let mut gateway = Gateway {
        ike: Responder::new(rc),
        plan,
        nat: params.gateway_nat && !site,
        inbound: None,
        outbound: None,
        nat_peer: None,
        idents: 0x7000,
        out: Vec::new(),
    };
    let mut server = Server { out: Vec::new() };
    let _ = drive(
        &mut [&mut client, &mut gateway, &mut server],
        &mut Eve,
        &mut rec,
        &mut rng,
        MAX_ROUNDS,
    );
    if let InitiatorState::Failed { notify: n } = client.ike.state() {
        if *n == notify::NO_PROPOSAL_CHOSEN || *n == notify::AUTHENTICATION_FAILED {
            rec.narrate("ike.narr.no_tunnel", &[]);
        }
    }
    let mut export = Export {
        packets: rec
            .events
            .iter()
            .filter_map(|e| match e {
                cipherstage_transcript::Event::Message(m) if m.link == INTERNET => {
                    Some(m.bytes.clone())
                }
                _ => None,
            })
            .collect(),
        ..Export::default()
    };
    // The keys as either end holds them (the gateway's, when the initiator failed late).
    let keys = client
        .ike
        .established()
        .map(|e| (e.spi_i, e.spi_r, e.keys.clone(), Some(e.child.clone())))
        .or_else(|| gateway.ike.keys().map(|(i, r, k)| (i, r, k.clone(), None)));
    if let Some((spi_i, spi_r, k, child)) = keys {
        export.ike = Some(IkeSaKeys {
            spi_i,
            spi_r,
            encr: k.encr,
            sk_ei: k.sk_ei.clone(),
            sk_er: k.sk_er.clone(),
        });
        if let Some(c) = child {
            let (a, b) = (
                Ipv4Addr::from(plan.initiator.ip),
                Ipv4Addr::from(plan.gateway.ip),
            );
            for (src, dst, spi, km) in [(a, b, c.spi_r, &c.key_i), (b, a, c.spi_i, &c.key_r)] {
                let (key, salt) = km.split_at(km.len().saturating_sub(4));
                export.esp.push(cipherstage_ipsec::export::SaExport {
                    src,
                    dst,
                    spi,
                    algorithm: c.encr.esp(),
                    key: key.to_vec(),
                    salt: salt.try_into().unwrap_or([0; 4]),
                });
            }
        }
    }
    let t = Transcript {
        scenario: story.id().into(),
        seed,
        actors,
        links,
        events: rec.events,
    };
    (t, export)
}
