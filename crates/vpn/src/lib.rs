//! A TLS VPN for remote work, the seed's FortiGate / OpenVPN / Zscaler picture.
//!
//! The laptop opens a mutual-TLS connection to the company's VPN gateway with the
//! client certificate the company's CA issued to it, then sends whole IP packets
//! (addressed to a server on the office LAN, from an address of the VPN pool) as TLS
//! application data. The gateway decrypts each packet, checks it against its policy
//! and forwards it onto the LAN; the answer travels back the same way. On the
//! Internet, Eve sees only TLS records between the laptop and the gateway.
//!
//! Nothing here is new cryptography: it is the cipherstage TLS core (real handshake,
//! real record protection) carrying packets built and checked by the packet core.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod cloud;
pub mod openvpn;

use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::describe::{ip_packet, HeaderProtection};
use cipherstage_packets::{ipv4, tcp, IpProtocol, Ipv4Addr};
use cipherstage_pki::{issue::issue_server, Key, Pki, SCENARIO_NOW};
use cipherstage_tls::enums::SignatureScheme;
use cipherstage_tls::scenario::{build_pki, seeded, take, EVE_TAMPERS};
use cipherstage_tls::{
    Client, ClientAuth, ClientConfig, Connection, Identity, Outgoing, Server, ServerConfig, Signer,
    VirtualHost,
};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Actor, Endpoint, FailReason, Field, FieldsBuilder, Flow, Layer, Link, NarrateFlips,
    Recorder, Role, Transcript, Transmit, Wire,
};

const LAPTOP: usize = 0;
const GATEWAY: usize = 1;
const INTRANET: usize = 2;
const EVE: usize = 3;
/// The Internet: laptop ↔ gateway, watched by Eve.
const INTERNET: Wire<'static> = Wire {
    link: 0,
    protocol: "tls",
    layer: Layer::Transport,
};
/// The office LAN behind the gateway.
const LAN: Wire = Wire {
    link: 1,
    protocol: "ipv4",
    layer: Layer::Network,
};
/// Upper bound on delivery rounds (a handshake needs fewer than 10).
const MAX_ROUNDS: usize = 32;

/// The gateway's name on the Internet.
pub const GATEWAY_NAME: &str = "vpn.example.com";
/// The address the gateway hands the laptop from its VPN pool.
pub const POOL_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 8, 0, 2);
/// The office LAN the gateway lets VPN users reach: 10.0.0.0/24.
pub const OFFICE_NET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 0, 0, 0), 24);

/// Which certificate the laptop's VPN client holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaptopCert {
    /// alice's, issued by the company's CA (clientAuth).
    Issued,
    /// None: the gateway refuses (certificate_required), the "authentication error".
    None,
    /// One issued by a CA the gateway does not trust (unknown_ca).
    Untrusted,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The laptop's certificate.
    pub cert: LaptopCert,
    /// The office server the laptop talks to.
    pub target: Ipv4Addr,
    /// The path of the HTTP request.
    pub path: String,
    /// Eve flips one byte of a record on the Internet (message numbers count every
    /// message of the run; those on the office LAN are out of her reach).
    pub tamper: Option<cipherstage_transcript::TamperAt>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            cert: LaptopCert::Issued,
            target: Ipv4Addr::new(10, 0, 0, 5),
            path: "/payroll".into(),
            tamper: None,
        }
    }
}

/// Whether `a` is inside the office network.
pub fn in_office_net(a: Ipv4Addr) -> bool {
    let (net, bits) = OFFICE_NET;
    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
    u32::from(a) & mask == u32::from(net) & mask
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
            story(&mut d, p, &pki, crng, srng, &mut *rng);
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

/// What a run looks like to Wireshark: the Internet link as a TCP/TLS capture with
/// the TLS key log that decrypts it, and the office LAN as raw IP packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captures {
    /// The laptop ↔ gateway records (TCP port 443), pcapng.
    pub internet: Vec<u8>,
    /// NSS key log lines for the TLS connection.
    pub keylog: String,
    /// The gateway ↔ office server packets, pcapng (LINKTYPE_RAW).
    pub lan: Vec<u8>,
}

/// The captures of a run made by [`run`].
pub fn captures(t: &Transcript) -> Captures {
    let mut internet = t.clone();
    internet.events.retain(
        |e| !matches!(e, cipherstage_transcript::Event::Message(m) if m.link != INTERNET.link),
    );
    let lan: Vec<Vec<u8>> = t
        .messages()
        .filter(|m| m.link == LAN.link)
        .map(|m| m.bytes.clone())
        .collect();
    Captures {
        // 2026-01-01T00:00:00Z as the capture's clock: the scenario's own time is injected.
        internet: cipherstage_tls::export::pcapng(&internet, 1_767_225_600),
        keylog: cipherstage_tls::export::keylog(t),
        lan: cipherstage_packets::pcapng::raw_ip(&lan),
    }
}

/// Replaces the application-data leaf of a TLS record's tree with the IP packet it
/// carries, broken down (same bytes, same protection).
fn tunneled(fields: &mut [Field], packet: &[u8]) {
    for f in fields {
        if f.name == "tls.field.application_data" && f.end - f.start == packet.len() {
            let mut b = FieldsBuilder::new(f.start);
            ip_packet(
                &mut b,
                packet,
                HeaderProtection::from(f.protection),
                f.protection,
            );
            f.name = "vpn.field.tunneled_packet".into();
            f.explain = "vpn.explain.tunneled_packet".into();
            f.value = None;
            f.children = b.finish();
            return;
        }
        tunneled(&mut f.children, packet);
    }
}

pub(crate) fn lan_packet(d: &mut Recorder, from: usize, to: usize, label: &str, packet: &[u8]) {
    let mut b = FieldsBuilder::new(0);
    ip_packet(
        &mut b,
        packet,
        cipherstage_transcript::Protection::Plaintext.into(),
        cipherstage_transcript::Protection::Plaintext,
    );
    d.send(LAN, from, to, label, packet.to_vec(), b.finish());
}

/// A TCP segment of an established connection carrying `data`, in an IPv4 packet.
pub(crate) fn tcp_packet(
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    seq_ack: (u32, u32),
    data: &[u8],
    rng: &mut dyn RandomSource,
) -> Vec<u8> {
    let seg = tcp::Repr {
        src_port: src.1,
        dst_port: dst.1,
        seq_number: seq_ack.0,
        ack_number: seq_ack.1,
        flags: tcp::FLAG_PSH | tcp::FLAG_ACK,
        window_len: 502,
        urgent_at: 0,
        options: Vec::new(),
    }
    .emit(
        data,
        &PseudoHeader::V4 {
            src: src.0,
            dst: dst.0,
        },
    );
    let mut ident = [0u8; 2];
    // A failing live source leaves the identification 0: harmless for one packet.
    let _ = rng.fill(&mut ident);
    ipv4::Repr::new(
        src.0,
        dst.0,
        IpProtocol::Tcp,
        seg.len(),
        u16::from_be_bytes(ident),
    )
    .packet(&seg)
}

/// Reads a tunneled IPv4/TCP packet as the gateway does: header and TCP checksums
/// right; returns (source, destination, TCP payload).
pub fn read_packet(packet: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, Vec<u8>)> {
    let p = ipv4::Packet::new_checked(packet).ok()?;
    let r = ipv4::Repr::parse(&p).ok()?;
    let ph = PseudoHeader::V4 {
        src: r.src_addr,
        dst: r.dst_addr,
    };
    let t = tcp::Packet::new_checked(p.payload()).ok()?;
    tcp::Repr::parse(&t, &ph).ok()?;
    Some((r.src_addr, r.dst_addr, t.payload().to_vec()))
}

/// The packet as a router forwards it: TTL one less, header checksum recomputed.
pub(crate) fn forwarded(packet: &[u8]) -> Vec<u8> {
    let mut out = packet.to_vec();
    let mut p = ipv4::Packet::new_unchecked(out.as_mut_slice());
    let ttl = p.ttl().saturating_sub(1);
    p.set_ttl(ttl);
    p.fill_checksum();
    out
}

fn story(
    d: &mut Recorder,
    p: &Params,
    pki: &Pki,
    crng: Box<dyn RandomSource>,
    srng: Box<dyn RandomSource>,
    rng: &mut dyn RandomSource,
) {
    let target = p.target.to_string();
    d.narrate(
        "vpn.narr.intro",
        &[("gateway", &GATEWAY_NAME), ("target", &target)],
    );
    // The gateway's certificate, issued by the company's CA for its public name.
    let gw_key = Key::generate(rng);
    let gw_cert = gw_key
        .as_ref()
        .ok()
        .and_then(|k| issue_server(k, GATEWAY_NAME, &pki.intermediate).ok());
    let (Ok(gw_key), Some(gw_cert)) = (gw_key, gw_cert) else {
        d.narrate("tls.narr.pki_failed", &[]);
        return;
    };
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
    let laptop = match Client::new(cc, crng, LAPTOP) {
        Ok(c) => c,
        Err(e) => {
            d.alert(LAPTOP, e.alert.key(), true);
            return;
        }
    };
    // The packet the laptop tunnels once it is connected.
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: cipherstage\r\n\r\n",
        p.path
    );
    let packet = tcp_packet(
        (POOL_ADDRESS, 51_000),
        (p.target, 80),
        (1_000, 5_000),
        request.as_bytes(),
        rng,
    );
    let mut laptop = Laptop {
        conn: laptop,
        target,
        packet: Some(packet),
        in_flight: None,
    };
    let mut gateway = Gateway {
        conn: Server::new(sc, srng, GATEWAY),
        params: p,
        reply: None,
    };
    d.events.extend(laptop.conn.take_events());
    drive(
        &mut [&mut laptop, &mut gateway],
        &mut NarrateFlips(EVE_TAMPERS),
        d,
        rng,
        MAX_ROUNDS,
    );
    if laptop.conn.peer_closed() && gateway.conn.peer_closed() {
        d.narrate("vpn.narr.done", &[]);
    } else if laptop.conn.peer_alert().is_some() || !laptop.conn.is_connected() {
        d.narrate("vpn.narr.auth_error", &[]);
    }
}

/// A record on the Internet; an application-data record carrying `packet` is
/// labelled and explained as the tunnelled packet.
fn record(to: usize, out: Outgoing, packet: Option<&[u8]>) -> Transmit {
    let mut fields = out.fields;
    let mut label = out.label;
    if let Some(pkt) = packet.filter(|_| label == "tls.msg.application_data") {
        tunneled(&mut fields, pkt);
        label = "vpn.msg.tunneled_packet".into();
    }
    Transmit {
        to,
        wire: INTERNET,
        label,
        bytes: out.bytes,
        fields,
    }
}

/// The laptop's VPN client: once the tunnel is up it sends its one packet, reads
/// the answer and closes.
struct Laptop {
    conn: Client,
    target: String,
    /// The packet to tunnel, until it is sent.
    packet: Option<Vec<u8>>,
    /// The packet in the next application-data record.
    in_flight: Option<Vec<u8>>,
}

impl Endpoint for Laptop {
    fn actor(&self) -> usize {
        LAPTOP
    }

    fn step(&mut self, d: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        let mut acted = false;
        if self.conn.is_connected() {
            if let Some(pkt) = self.packet.take() {
                d.narrate("vpn.narr.tunnel_up", &[("pool", &POOL_ADDRESS)]);
                d.narrate(
                    "vpn.narr.inner_packet",
                    &[("pool", &POOL_ADDRESS), ("target", &self.target)],
                );
                let _ = self.conn.send(&pkt);
                self.in_flight = Some(pkt);
                acted = true;
            }
        }
        let got = self.conn.take_app_data();
        if !got.is_empty() {
            match read_packet(&got) {
                Some((_, _, data)) => {
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
            self.conn.close();
            acted = true;
        }
        d.events.extend(self.conn.take_events());
        acted
    }

    fn transmit(&mut self, _d: &mut Recorder) -> Vec<Transmit> {
        let mut out = Vec::new();
        for o in self.conn.take_output() {
            let pkt = if o.label == "tls.msg.application_data" {
                self.in_flight.take()
            } else {
                None
            };
            out.push(record(GATEWAY, o, pkt.as_deref()));
        }
        out
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        take(&mut self.conn, bytes, d)
    }
}

/// The VPN gateway: decrypts the tunnelled packet, forwards it onto the office LAN
/// (where the office server answers at once) and tunnels the answer back.
struct Gateway<'a> {
    conn: Server,
    params: &'a Params,
    /// The answer in the gateway's next record.
    reply: Option<Vec<u8>>,
}

impl Endpoint for Gateway<'_> {
    fn actor(&self) -> usize {
        GATEWAY
    }

    fn step(&mut self, d: &mut Recorder, rng: &mut dyn RandomSource, _now: u64) -> bool {
        let mut acted = false;
        let got = self.conn.take_app_data();
        if !got.is_empty() {
            self.reply = gateway_forwards(d, self.params, &got, &mut self.conn, rng);
            acted = true;
        }
        acted |= self.conn.answer_close();
        d.events.extend(self.conn.take_events());
        acted
    }

    fn transmit(&mut self, _d: &mut Recorder) -> Vec<Transmit> {
        let mut out = Vec::new();
        for o in self.conn.take_output() {
            // The answer rides in the first record after it was sent.
            let pkt = self.reply.take();
            out.push(record(LAPTOP, o, pkt.as_deref()));
        }
        out
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        take(&mut self.conn, bytes, d)
    }
}

/// The gateway decrypted `packet`: it checks it, forwards it onto the LAN, and
/// tunnels the office server's answer back.
fn gateway_forwards(
    d: &mut Recorder,
    p: &Params,
    packet: &[u8],
    gateway: &mut Server,
    rng: &mut dyn RandomSource,
) -> Option<Vec<u8>> {
    let Some((src, dst, data)) = read_packet(packet) else {
        d.check(
            GATEWAY,
            "vpn.check.inner_packet",
            Some(FailReason::Malformed),
        );
        return None;
    };
    d.check(GATEWAY, "vpn.check.inner_packet", None::<FailReason>);
    let allowed = in_office_net(dst);
    let dst_text = dst.to_string();
    d.check(
        GATEWAY,
        "vpn.check.policy",
        (!allowed).then_some(FailReason::Untrusted),
    );
    if !allowed {
        d.narrate("vpn.narr.dropped", &[("target", &dst_text)]);
        gateway.close();
        return None;
    }
    d.narrate(
        "vpn.narr.gateway_decrypts",
        &[("src", &src), ("target", &dst_text)],
    );
    let out = forwarded(packet);
    lan_packet(d, GATEWAY, INTRANET, "vpn.msg.forwarded_packet", &out);
    let text = String::from_utf8_lossy(&data).into_owned();
    d.narrate("vpn.narr.server_reads", &[("src", &src), ("text", &text)]);
    let body = "<h1>Payroll (office only)</h1>\n";
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = tcp_packet(
        (p.target, 80),
        (src, 51_000),
        (5_000, 1_000u32.wrapping_add(data.len() as u32)),
        response.as_bytes(),
        rng,
    );
    lan_packet(d, INTRANET, GATEWAY, "vpn.msg.reply_packet", &reply);
    d.narrate("vpn.narr.gateway_tunnels_back", &[]);
    let back = forwarded(&reply);
    let _ = gateway.send(&back);
    Some(back)
}
