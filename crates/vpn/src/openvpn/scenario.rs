//! `vpn-openvpn`: working from home, the laptop's OpenVPN client connects to the
//! company's gateway over UDP 1194, gets its address pushed, and its HTTP request to
//! an office server crosses the data channel. The gateway forwards it onto the LAN
//! either behind its own LAN address (NAT: the server sees the gateway) or as is
//! (routed: the server sees the VPN pool address). Eve watches the Internet link.

use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::{ipv4, tcp, udp, IpProtocol, Ipv4Addr};
use cipherstage_pki::{issue::issue_server, Key, Pki, SCENARIO_NOW};
use cipherstage_tls::enums::SignatureScheme;
use cipherstage_tls::keys::Hash;
use cipherstage_tls::scenario::{build_pki, seeded};
use cipherstage_tls::{
    Client, ClientAuth, ClientConfig, Identity, Server, ServerConfig, Signer, VirtualHost,
};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, Event as TEvent, FailReason, Formula, FormulaInput, Layer, Link, Recorder, Role,
    Transcript, Wire,
};

use super::data::EKM_LABEL;
use super::session::{Drop as Dropped, Event, PushConfig, Sent};
use super::wrap::{ControlProtection, Digest, StaticKey, WrapError, STATIC_KEY_LEN};
use super::{Config, Session, Tls};
use crate::{forwarded, lan_packet, read_packet, tcp_packet, LaptopCert, GATEWAY_NAME};

const LAPTOP: usize = 0;
const GATEWAY: usize = 1;
const INTRANET: usize = 2;
const EVE: usize = 3;
const INTERNET: Wire<'static> = Wire {
    link: 0,
    protocol: "openvpn",
    layer: Layer::Network,
};
const LAN: Wire<'static> = Wire {
    link: 1,
    protocol: "ipv4",
    layer: Layer::Network,
};
/// Rounds of delivery at most (a run needs about 30).
const MAX_ROUNDS: usize = 200;
/// The laptop's address on the Internet (its home router) and the gateway's.
pub const LAPTOP_PUBLIC: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
/// The gateway's public address.
pub const GATEWAY_PUBLIC: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// The gateway's address on the office LAN (the source NAT puts on packets).
pub const GATEWAY_LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The gateway's tunnel address and the laptop's pushed one.
pub const TUN_GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 8, 0, 1);
/// The address pushed to the laptop.
pub const TUN_LAPTOP: Ipv4Addr = Ipv4Addr::new(10, 8, 0, 2);
const MASK24: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);
const PORT: u16 = 1194;

/// How the gateway forwards tunnelled packets onto the LAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarding {
    /// Source NAT to the gateway's LAN address: the server sees the gateway.
    Nat,
    /// Routed: the server sees the VPN pool address (and routes 10.8.0.0/24 back).
    Routed,
}

/// What protects the control packets beyond TLS (`--tls-auth`, `--tls-crypt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Nothing: the control packets and the TLS handshake in them are readable.
    None,
    /// tls-auth: an HMAC-SHA256 and a replay id on every control packet (key
    /// directions: gateway 0, laptop 1).
    TlsAuth,
    /// tls-crypt: every control packet encrypted with AES-256-CTR and authenticated.
    TlsCrypt,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// NAT or routed.
    pub forwarding: Forwarding,
    /// tls-auth, tls-crypt or neither.
    pub protection: Protection,
    /// A byte Eve flips in flight.
    pub tamper: Option<cipherstage_transcript::TamperAt>,
    /// The laptop's certificate.
    pub cert: LaptopCert,
    /// The office server.
    pub target: Ipv4Addr,
    /// The path of the HTTP request.
    pub path: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            forwarding: Forwarding::Nat,
            protection: Protection::None,
            tamper: None,
            cert: LaptopCert::Issued,
            target: Ipv4Addr::new(10, 0, 0, 5),
            path: "/payroll".into(),
        }
    }
}

/// Runs the story under id `scenario` with `seed` (`None`: live randomness).
pub fn run(scenario: &str, p: &Params, seed: Option<u64>) -> Transcript {
    let mut master = Source::from_seed(seed);
    let mut d = Recorder::new(p.tamper, Some(EVE));
    d.watch(INTERNET.link);
    match build_pki(&mut master) {
        Ok(pki) => {
            let crng = seeded(&mut master);
            let srng = seeded(&mut master);
            let mut rng = seeded(&mut master);
            // The static key is drawn only when one is used: without, every byte
            // stays as it was.
            let key = match p.protection {
                Protection::None => None,
                _ => {
                    let mut krng = seeded(&mut master);
                    let mut k = [0u8; STATIC_KEY_LEN];
                    krng.fill(&mut k).ok().map(|_| StaticKey(k))
                }
            };
            let mut make = |d: &mut Recorder, rng: &mut dyn RandomSource| configs(d, p, &pki, rng);
            story(&mut d, p, &mut make, crng, srng, &mut *rng, key);
        }
        Err(_) => d.narrate("tls.narr.pki_failed", &[]),
    }
    let actor = |role, name: &str| Actor {
        role,
        name: name.to_owned(),
    };
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            actor(Role::Client, "vpn.actor.laptop"),
            actor(Role::Gateway, "vpn.actor.gateway"),
            actor(Role::Server, "vpn.actor.intranet"),
            actor(Role::Eavesdropper, "vpn.actor.eve"),
        ],
        links: vec![
            Link {
                a: LAPTOP,
                b: GATEWAY,
                observers: vec![EVE],
            },
            Link {
                a: GATEWAY,
                b: INTRANET,
                observers: Vec::new(),
            },
        ],
        events: d.events,
    }
}

fn configs(
    d: &mut Recorder,
    p: &Params,
    pki: &Pki,
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
    sc.client_auth = Some(ClientAuth {
        roots: vec![pki.root.der.clone()],
        now: SCENARIO_NOW,
        signature_schemes: vec![
            SignatureScheme::Ed25519,
            SignatureScheme::EcdsaSecp256r1Sha256,
        ],
        crls: Vec::new(),
    });
    sc.ticket = None;
    let mut cc = ClientConfig::new(GATEWAY_NAME, vec![pki.root.der.clone()], SCENARIO_NOW);
    // openvpn sends no server name; the client checks the gateway's certificate
    // against the company CA (and its name, as --verify-x509-name would).
    cc.sni = None;
    cc.identity = match p.cert {
        LaptopCert::Issued => {
            d.narrate("vpn.narr.cert_issued", &[]);
            Some(Identity {
                chain: vec![pki.alice.der.clone(), pki.intermediate.der.clone()],
                signer: Signer::Key(pki.alice.key.clone()),
            })
        }
        LaptopCert::Untrusted => {
            d.narrate("vpn.narr.cert_untrusted", &[]);
            Some(Identity {
                chain: vec![pki.alice_untrusted.der.clone()],
                signer: Signer::Key(pki.alice_untrusted.key.clone()),
            })
        }
        LaptopCert::None => {
            d.narrate("vpn.narr.cert_none", &[]);
            None
        }
    };
    Some((cc, sc))
}

/// The IPv4/UDP datagram a packet travels in on the Internet (for the capture).
fn datagram(from_laptop: bool, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sport) = if from_laptop {
        (LAPTOP_PUBLIC, GATEWAY_PUBLIC, 51_194)
    } else {
        (GATEWAY_PUBLIC, LAPTOP_PUBLIC, PORT)
    };
    let dport = if from_laptop { PORT } else { 51_194 };
    let u = udp::Repr {
        src_port: sport,
        dst_port: dport,
    }
    .emit(
        payload,
        udp::ChecksumMode::Compute(PseudoHeader::V4 { src, dst }),
    );
    ipv4::Repr::new(src, dst, IpProtocol::Udp, u.len(), 0).packet(&u)
}

/// The same TCP segment with other addresses (checksums recomputed), one hop on.
fn rewrite(packet: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Option<Vec<u8>> {
    let ip = ipv4::Packet::new_checked(packet).ok()?;
    let r = ipv4::Repr::parse(&ip).ok()?;
    let old = PseudoHeader::V4 {
        src: r.src_addr,
        dst: r.dst_addr,
    };
    let t = tcp::Packet::new_checked(ip.payload()).ok()?;
    let seg = tcp::Repr::parse(&t, &old).ok()?;
    let body = seg.emit(t.payload(), &PseudoHeader::V4 { src, dst });
    let out = ipv4::Repr::new(src, dst, IpProtocol::Tcp, body.len(), ip.ident()).packet(&body);
    Some(forwarded(&out))
}

struct Side {
    s: Session,
    actor: usize,
    peer: usize,
}

fn deliver(d: &mut Recorder, from: usize, to: &mut Side, sent: Vec<Sent>, now: u64) -> bool {
    let any = !sent.is_empty();
    for m in sent {
        let got = d.send(INTERNET, from, to.actor, m.label, m.bytes, m.fields);
        to.s.receive(&got.bytes, now);
    }
    any
}

/// The configurations of the laptop's and the gateway's TLS, made when the story
/// needs them (after its introduction).
pub(crate) type MakeConfigs<'a> =
    dyn FnMut(&mut Recorder, &mut dyn RandomSource) -> Option<(ClientConfig, ServerConfig)> + 'a;

pub(crate) fn story(
    d: &mut Recorder,
    p: &Params,
    make: &mut MakeConfigs,
    crng: Box<dyn RandomSource>,
    srng: Box<dyn RandomSource>,
    rng: &mut dyn RandomSource,
    key: Option<StaticKey>,
) {
    let target = p.target.to_string();
    d.narrate(
        "vpn.ovpn.narr.intro",
        &[("gateway", &GATEWAY_NAME), ("target", &target)],
    );
    let (client_prot, server_prot) = match (p.protection, key) {
        (Protection::TlsAuth, Some(key)) => {
            static_key(d, &key, "vpn.ovpn.narr.tls_auth");
            let auth = |direction| ControlProtection::TlsAuth {
                key: key.clone(),
                direction: Some(direction),
                digest: Digest::Sha256,
            };
            (auth(1), auth(0))
        }
        (Protection::TlsCrypt, Some(key)) => {
            static_key(d, &key, "vpn.ovpn.narr.tls_crypt");
            let c = ControlProtection::TlsCrypt { key };
            (c.clone(), c)
        }
        _ => (ControlProtection::None, ControlProtection::None),
    };
    let Some((cc, sc)) = make(d, rng) else {
        d.narrate("tls.narr.pki_failed", &[]);
        return;
    };
    let client = match Client::new(cc, crng, LAPTOP) {
        Ok(c) => c,
        Err(e) => {
            d.alert(LAPTOP, e.alert.key(), true);
            return;
        }
    };
    let push = PushConfig {
        ifconfig: (TUN_LAPTOP, MASK24),
        route_gateway: TUN_GATEWAY,
        routes: vec![(Ipv4Addr::new(10, 0, 0, 0), MASK24)],
        peer_id: 0,
        ping: (10, 60),
    };
    let mut laptop = Side {
        s: Session::new(
            Config::client(false).protected(client_prot, SCENARIO_NOW),
            Tls::Client(Box::new(client)),
            rng,
        ),
        actor: LAPTOP,
        peer: GATEWAY,
    };
    let mut gateway = Side {
        s: Session::new(
            Config::server(false, push).protected(server_prot, SCENARIO_NOW),
            Tls::Server(Box::new(Server::new(sc, srng, GATEWAY))),
            rng,
        ),
        actor: GATEWAY,
        peer: LAPTOP,
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: cipherstage\r\n\r\n",
        p.path
    );
    let mut st = Story {
        p,
        request,
        sent_request: false,
        answered: false,
        exited: false,
        told: Vec::new(),
    };
    let mut now = 0u64;
    for _ in 0..MAX_ROUNDS {
        laptop.s.tick(now);
        let a = laptop.s.take_sent();
        let acted_a = deliver(d, LAPTOP, &mut gateway, a, now);
        st.events(d, &mut gateway, rng);
        st.events(d, &mut laptop, rng);
        gateway.s.tick(now);
        let b = gateway.s.take_sent();
        let acted_b = deliver(d, GATEWAY, &mut laptop, b, now);
        st.events(d, &mut laptop, rng);
        st.events(d, &mut gateway, rng);
        if st.exited || laptop.s.state() == super::State::Failed && gateway.s.take_sent().is_empty()
        {
            if laptop.s.state() == super::State::Failed {
                d.narrate(
                    if tampered(d) {
                        "vpn.ovpn.narr.tamper_failed"
                    } else {
                        "vpn.narr.auth_error"
                    },
                    &[],
                );
            }
            break;
        }
        now += if acted_a || acted_b { 10 } else { 2_000 };
    }
    if !unnoticed(d, st.exited) && !st.exited && laptop.s.state() != super::State::Failed {
        d.narrate("vpn.ovpn.narr.tamper_dropped", &[]);
    }
    if st.exited {
        d.narrate(
            match p.protection {
                Protection::None => "vpn.ovpn.narr.done",
                Protection::TlsAuth => "vpn.ovpn.narr.done_tls_auth",
                Protection::TlsCrypt => "vpn.ovpn.narr.done_tls_crypt",
            },
            &[],
        );
    }
}

/// After a flipped byte nobody's check failed and nobody sent an alert: say so.
/// Without tls-auth or tls-crypt OpenVPN's own header (session ids, ACKs) is
/// authenticated by nothing; a changed ACK names a packet never sent and is
/// ignored, and the sender sends its packet again (`reliable.c`).
/// Returns whether a byte was flipped and nobody noticed.
fn unnoticed(d: &mut Recorder, completed: bool) -> bool {
    let Some(at) = d
        .events
        .iter()
        .position(|e| matches!(e, TEvent::Message(m) if m.tampered.is_some()))
    else {
        return true;
    };
    let noticed = d.events.iter().skip(at).any(|e| match e {
        TEvent::Check(c) => c.outcome != cipherstage_transcript::Outcome::Passed,
        TEvent::Alert(_) => true,
        _ => false,
    });
    if !noticed {
        d.narrate(
            if completed {
                "vpn.ovpn.narr.tamper_unnoticed"
            } else {
                "vpn.ovpn.narr.stalled.tamper_unnoticed"
            },
            &[],
        );
    }
    !noticed
}

/// Whether Eve flipped a byte in this run.
fn tampered(d: &Recorder) -> bool {
    d.events
        .iter()
        .any(|e| matches!(e, TEvent::Message(m) if m.tampered.is_some()))
}

/// The static key both ends were given beforehand (a file made by `openvpn
/// --genkey`), as a secret of each, with what it is for.
fn static_key(d: &mut Recorder, key: &StaticKey, narration: &str) {
    d.narrate(narration, &[]);
    for owner in [LAPTOP, GATEWAY] {
        d.secret(
            owner,
            "vpn.ovpn.secret.static_key",
            key.0.to_vec(),
            Formula {
                key: "vpn.ovpn.formula.static_key".into(),
                inputs: Vec::new(),
            },
        );
    }
}

struct Story<'a> {
    p: &'a Params,
    request: String,
    sent_request: bool,
    answered: bool,
    exited: bool,
    told: Vec<&'static str>,
}

impl Story<'_> {
    fn events(&mut self, d: &mut Recorder, side: &mut Side, rng: &mut dyn RandomSource) {
        let tls = side.s.take_tls_events();
        d.events.extend(tls);
        for e in side.s.take_events() {
            self.event(d, side, e, rng);
        }
    }

    fn event(&mut self, d: &mut Recorder, side: &mut Side, e: Event, rng: &mut dyn RandomSource) {
        let me = side.actor;
        match e {
            Event::PeerReset(_) => {
                let key = if me == GATEWAY {
                    "vpn.ovpn.narr.client_reset"
                } else {
                    "vpn.ovpn.narr.server_reset"
                };
                if !self.told.contains(&key) {
                    self.told.push(key);
                    d.narrate(key, &[]);
                }
            }
            Event::TlsConnected if me == LAPTOP => d.narrate("vpn.ovpn.narr.tls_up", &[]),
            Event::TlsConnected => {}
            Event::TlsFailed(_) => {}
            Event::KeyMethod(km) => {
                if me == GATEWAY {
                    let proto = km.iv_proto().to_string();
                    let ver = km.peer_var("IV_VER").unwrap_or_default().to_owned();
                    let ciphers = km.peer_var("IV_CIPHERS").unwrap_or_default().to_owned();
                    d.narrate(
                        "vpn.ovpn.narr.peer_info",
                        &[("ver", &ver), ("proto", &proto), ("ciphers", &ciphers)],
                    );
                    d.check(
                        GATEWAY,
                        "vpn.ovpn.check.tls_ekm",
                        (km.iv_proto() & super::control::IV_PROTO_TLS_KEY_EXPORT == 0)
                            .then_some(FailReason::Malformed),
                    );
                } else {
                    d.narrate("vpn.ovpn.narr.server_key_method", &[]);
                }
            }
            Event::ControlText(t) if me == GATEWAY && t == "PUSH_REQUEST" => {
                d.narrate("vpn.ovpn.narr.push_request", &[]);
            }
            Event::ControlText(_) => {}
            Event::Pushed(r) => {
                let route = r
                    .routes
                    .first()
                    .map(|(n, m)| format!("{n}/{m}"))
                    .unwrap_or_default();
                d.narrate(
                    "vpn.ovpn.narr.pushed",
                    &[
                        ("address", &r.ifconfig.0),
                        ("route", &route),
                        ("cipher", &r.cipher.name()),
                        ("peer_id", &r.peer_id),
                    ],
                );
            }
            Event::DataKeys(cipher, key2) => {
                self.secrets(d, me, &key2);
                if me == LAPTOP {
                    d.narrate("vpn.ovpn.narr.data_keys", &[("cipher", &cipher.name())]);
                    self.send_request(d, side, rng);
                }
            }
            Event::Packet(_, ip) if me == GATEWAY => self.gateway_forwards(d, side, &ip, rng),
            Event::Packet(_, ip) => {
                match read_packet(&ip) {
                    Some((_, _, data)) => {
                        d.check(LAPTOP, "vpn.check.inner_packet", None::<FailReason>);
                        let text = String::from_utf8_lossy(&data).into_owned();
                        d.narrate("vpn.narr.laptop_reads", &[("text", &text)]);
                    }
                    None => {
                        d.check(
                            LAPTOP,
                            "vpn.check.inner_packet",
                            Some(FailReason::Malformed),
                        );
                    }
                }
                self.answered = true;
                d.narrate("vpn.ovpn.narr.exit", &[]);
                side.s.send_exit();
            }
            Event::Ping(_) => {}
            Event::Exit => {
                d.narrate("vpn.ovpn.narr.exit_received", &[]);
                self.exited = true;
            }
            Event::Dropped(Dropped::Wrap(w)) => {
                let (reason, key) = match w {
                    WrapError::Replay(_) => (FailReason::Replay, "vpn.ovpn.narr.wrap_replay"),
                    WrapError::BadAuth => (FailReason::TagMismatch, "vpn.ovpn.narr.wrap_bad_auth"),
                    WrapError::Truncated => (FailReason::Malformed, "vpn.ovpn.narr.wrap_bad_auth"),
                };
                d.check(me, "vpn.ovpn.check.wrap", Some(reason));
                d.narrate(key, &[]);
            }
            Event::Dropped(why) => {
                let reason = match why {
                    Dropped::Data(Some(super::data::DataError::Replay(_))) => FailReason::Replay,
                    Dropped::Data(Some(_)) => FailReason::TagMismatch,
                    _ => FailReason::Malformed,
                };
                d.check(me, "vpn.ovpn.check.packet", Some(reason));
            }
            Event::Failed(_) => {}
        }
        let _ = side.peer;
    }

    fn secrets(&self, d: &mut Recorder, owner: usize, key2: &[u8]) {
        let exporter = d
            .events
            .iter()
            .rev()
            .find_map(|e| match e {
                TEvent::Secret(s) if s.owner == owner && s.name == "tls.secret.EXPORTER_SECRET" => {
                    Some(s.bytes.clone())
                }
                _ => None,
            })
            .unwrap_or_default();
        // TLS-Exporter as two recorded steps of the TLS key schedule's own
        // functions (RFC 9846 section 7.5), each recomputable from what is shown.
        let hash = if exporter.len() == 48 {
            Hash::Sha384
        } else {
            Hash::Sha256
        };
        let empty = hash.digest(&[]);
        let label_secret = hash.derive_secret(&exporter, EKM_LABEL, &empty);
        let input = |name: &str, bytes: &[u8]| FormulaInput {
            name: format!("tls.input.{name}"),
            bytes: bytes.to_vec(),
        };
        d.secret(
            owner,
            "vpn.ovpn.secret.exporter_label_secret",
            label_secret.clone(),
            Formula {
                key: "tls.formula.derive_secret".into(),
                inputs: vec![
                    input("secret", &exporter),
                    input("label", EKM_LABEL),
                    input("transcript_hash", &empty),
                ],
            },
        );
        d.secret(
            owner,
            "vpn.ovpn.secret.key2",
            key2.to_vec(),
            Formula {
                key: "tls.formula.hkdf_expand_label".into(),
                inputs: vec![
                    input("secret", &label_secret),
                    input("label", b"exporter"),
                    input("context", &empty),
                ],
            },
        );
    }

    fn send_request(&mut self, d: &mut Recorder, side: &mut Side, rng: &mut dyn RandomSource) {
        if self.sent_request {
            return;
        }
        self.sent_request = true;
        let target = self.p.target.to_string();
        d.narrate(
            "vpn.narr.inner_packet",
            &[("pool", &TUN_LAPTOP), ("target", &target)],
        );
        let pkt = tcp_packet(
            (TUN_LAPTOP, 51_000),
            (self.p.target, 80),
            (1_000, 5_000),
            self.request.as_bytes(),
            rng,
        );
        side.s.send_packet(&pkt);
    }

    fn gateway_forwards(
        &mut self,
        d: &mut Recorder,
        gw: &mut Side,
        ip: &[u8],
        rng: &mut dyn RandomSource,
    ) {
        let Some((src, dst, data)) = read_packet(ip) else {
            d.check(
                GATEWAY,
                "vpn.check.inner_packet",
                Some(FailReason::Malformed),
            );
            return;
        };
        d.check(GATEWAY, "vpn.check.inner_packet", None::<FailReason>);
        let allowed = crate::in_office_net(dst);
        d.check(
            GATEWAY,
            "vpn.check.policy",
            (!allowed).then_some(FailReason::Untrusted),
        );
        let dst_text = dst.to_string();
        if !allowed {
            d.narrate("vpn.narr.dropped", &[("target", &dst_text)]);
            return;
        }
        let (seen, key) = match self.p.forwarding {
            Forwarding::Nat => (GATEWAY_LAN, "vpn.ovpn.narr.nat"),
            Forwarding::Routed => (src, "vpn.ovpn.narr.routed"),
        };
        d.narrate(
            key,
            &[("src", &src), ("lan", &GATEWAY_LAN), ("target", &dst_text)],
        );
        let Some(out) = rewrite(ip, seen, dst) else {
            return;
        };
        lan_packet(d, GATEWAY, INTRANET, "vpn.msg.forwarded_packet", &out);
        let text = String::from_utf8_lossy(&data).into_owned();
        d.narrate("vpn.narr.server_reads", &[("src", &seen), ("text", &text)]);
        let body = "<h1>Payroll (office only)</h1>\n";
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let reply = tcp_packet(
            (dst, 80),
            (seen, 51_000),
            (5_000, 1_000u32.wrapping_add(data.len() as u32)),
            response.as_bytes(),
            rng,
        );
        lan_packet(d, INTRANET, GATEWAY, "vpn.msg.reply_packet", &reply);
        // Back to the tunnel address (un-NAT), into the data channel.
        let Some(back) = rewrite(&reply, dst, src) else {
            return;
        };
        d.narrate("vpn.ovpn.narr.tunnels_back", &[("pool", &src)]);
        gw.s.send_packet(&back);
    }
}

/// The Internet link as UDP datagrams (port 1194) in a raw-IP pcapng, with the TLS
/// key log of the control channel, and the LAN as raw IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captures {
    /// laptop ↔ gateway, pcapng (LINKTYPE_RAW, IPv4/UDP/OpenVPN).
    pub internet: Vec<u8>,
    /// NSS key log lines.
    pub keylog: String,
    /// gateway ↔ office server, pcapng.
    pub lan: Vec<u8>,
}

/// The captures of a run made by [`run`].
pub fn captures(t: &Transcript) -> Captures {
    let internet: Vec<Vec<u8>> = t
        .messages()
        .filter(|m| m.link == INTERNET.link)
        .map(|m| datagram(m.from == LAPTOP, &m.bytes))
        .collect();
    let lan: Vec<Vec<u8>> = t
        .messages()
        .filter(|m| m.link == LAN.link)
        .map(|m| m.bytes.clone())
        .collect();
    Captures {
        internet: cipherstage_packets::pcapng::raw_ip(&internet),
        keylog: keylog(t),
        lan: cipherstage_packets::pcapng::raw_ip(&lan),
    }
}

/// NSS key log lines for the control channel's TLS connection.
pub fn keylog(t: &Transcript) -> String {
    let secrets: Vec<&cipherstage_transcript::Secret> = t
        .events
        .iter()
        .filter_map(|e| match e {
            TEvent::Secret(s) if s.owner == LAPTOP => Some(s),
            _ => None,
        })
        .collect();
    let Some(random) = secrets
        .iter()
        .find(|s| s.name == "tls.secret.client_random")
        .map(|s| hex(&s.bytes))
    else {
        return String::new();
    };
    let mut out = String::new();
    for s in secrets {
        let Some(label) = s.name.strip_prefix("tls.secret.") else {
            continue;
        };
        if matches!(
            label,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
                | "SERVER_HANDSHAKE_TRAFFIC_SECRET"
                | "CLIENT_TRAFFIC_SECRET_0"
                | "SERVER_TRAFFIC_SECRET_0"
                | "EXPORTER_SECRET"
        ) {
            out.push_str(&format!("{label} {random} {}\n", hex(&s.bytes)));
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
