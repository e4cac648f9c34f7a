//! The scenario driver: hosts, gateways, a NAT and an eavesdropper exchange real IPsec
//! packets over in-memory links; everything is recorded as a transcript (the shape of
//! quinn-proto's `Pair`). Randomness (keys, salts, SPIs, IVs, IP identifications, TCP
//! numbers) comes only from the seeded or live [`Source`].

use core::fmt::Display;

use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::{icmpv4, ipv4, tcp, udp, IpProtocol, Ipv4Addr};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, ActorId, FailReason, Field, Formula, Layer, Link, LinkId, Outcome, Recorder, Role,
    Transcript, Wire,
};

use crate::ah::{self, AhSa};
use crate::describe;
use crate::export::{Export, SaExport};
use crate::sa::{Algorithm, EspSa, InboundCheck, Opened, Sad, Sealed};
use crate::Discard;

pub use cipherstage_transcript::TamperAt;

/// ESP's two ways of carrying a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The original IP header stays; its payload is protected (host to host).
    Transport,
    /// The whole packet is protected inside a new outer IP header (gateway to gateway).
    Tunnel,
}

impl Mode {
    /// Stable id (`transport`, `tunnel`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Transport => "transport",
            Mode::Tunnel => "tunnel",
        }
    }
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The ESP algorithm.
    pub algorithm: Algorithm,
    /// Transport or tunnel (where the scenario lets you choose).
    pub mode: Mode,
    /// What the inner packet is.
    pub inner: Inner,
    /// The application data inside the inner packet.
    pub payload: String,
    /// The inner packet's source (host A, the client); `None`: the scenario's default.
    pub addr_a: Option<Ipv4Addr>,
    /// The inner packet's destination (host B, the server); `None`: the scenario's default.
    pub addr_b: Option<Ipv4Addr>,
    /// The links' MTU: bigger packets are fragmented.
    pub mtu: usize,
    /// The eavesdropper's change, if any (message 0 = the first sent, on any link).
    pub tamper: Option<TamperAt>,
    /// In `ipsec-ah`: a NAT (`true`) or a plain router in the middle.
    pub nat: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            algorithm: Algorithm::Aes128Gcm,
            mode: Mode::Transport,
            inner: Inner::Http,
            payload: "GET /intranet/ HTTP/1.1".into(),
            addr_a: None,
            addr_b: None,
            mtu: 1500,
            tamper: None,
            nat: true,
        }
    }
}

/// Smallest MTU accepted (RFC 791: every host must take 68-byte datagrams).
pub const MIN_MTU: usize = 68;

/// The reply servers send.
pub const REPLY: &str = "HTTP/1.1 200 OK";

/// Runs scenario `id` and returns its transcript.
pub fn run(id: &str, params: &Params, seed: Option<u64>) -> Transcript {
    run_with_export(id, params, seed).0
}

/// Runs scenario `id`; also returns the packets of its internet link (or the only link)
/// with the SAs Wireshark needs to decrypt them.
pub fn run_with_export(id: &str, params: &Params, seed: Option<u64>) -> (Transcript, Export) {
    let mut d = Driver {
        rng: Source::from_seed(seed),
        rec: Recorder::new(params.tamper, None),
        actors: Vec::new(),
        links: Vec::new(),
        export_link: 0,
        export: Export::default(),
        mtu: params.mtu.clamp(MIN_MTU, 0xffff),
    };
    // A scenario stops at its first discarded packet; that is already recorded.
    let _ = match id {
        "ipsec-tunnel" => tunnel(&mut d, params),
        "ipsec-replay" => replay(&mut d, params),
        "ipsec-tamper" => tamper(&mut d, params),
        "ipsec-ah" => ah_nat(&mut d, params),
        "ipsec-nat" => nat_traversal(&mut d, params),
        "ipsec-compare" => compare(&mut d, params),
        _ => transport(&mut d, params),
    };
    let t = Transcript {
        scenario: id.to_owned(),
        seed,
        actors: d.actors,
        links: d.links,
        events: d.rec.events,
    };
    (t, d.export)
}

/// The scenario stopped (a packet was discarded, or randomness failed); already recorded.
#[derive(Debug)]
struct Stop;

/// Who sends to whom on which link.
#[derive(Debug, Clone, Copy)]
struct Hop(ActorId, ActorId, LinkId);

struct Driver {
    rng: Source,
    /// The events so far, and the byte the eavesdropper flips.
    rec: Recorder,
    actors: Vec<Actor>,
    links: Vec<Link>,
    export_link: LinkId,
    export: Export,
    mtu: usize,
}

fn addr(a: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

impl Driver {
    fn actor(&mut self, role: Role, name: &str) -> ActorId {
        self.actors.push(Actor {
            role,
            name: name.to_owned(),
        });
        if role == Role::Eavesdropper {
            self.rec.set_attacker(self.actors.len() - 1);
        }
        self.actors.len() - 1
    }

    fn link(&mut self, a: ActorId, b: ActorId, observers: &[ActorId]) -> LinkId {
        // Eve can only change what crosses a link she is on.
        if observers.is_empty() {
            self.rec.watch_only_named_links();
        } else {
            self.rec.watch(self.links.len());
        }
        self.links.push(Link {
            a,
            b,
            observers: observers.to_vec(),
        });
        self.links.len() - 1
    }

    fn narrate(&mut self, key: &str, args: &[(&str, &dyn Display)]) {
        self.rec.narrate(key, args);
    }

    fn random(&mut self, len: usize) -> Result<Vec<u8>, Stop> {
        let mut v = vec![0u8; len];
        if self.rng.fill(&mut v).is_err() {
            self.narrate("ipsec.narr.no_randomness", &[]);
            return Err(Stop);
        }
        Ok(v)
    }

    fn random_u32(&mut self) -> Result<u32, Stop> {
        let v = self.random(4)?;
        Ok(v.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
    }

    fn random_u16(&mut self) -> Result<u16, Stop> {
        Ok((self.random_u32()? >> 16) as u16)
    }

    fn iv(&mut self) -> Result<[u8; 8], Stop> {
        let v = self.random(8)?;
        let mut iv = [0u8; 8];
        for (d, s) in iv.iter_mut().zip(v) {
            *d = s;
        }
        Ok(iv)
    }

    fn check(&mut self, actor: ActorId, what: &str, outcome: Outcome) {
        self.rec.check(actor, what, outcome);
    }

    /// Records random key material both `owners` hold.
    fn secret(&mut self, owners: &[ActorId], name: &str, bytes: &[u8]) {
        for &owner in owners {
            let formula = Formula {
                key: "formula.random".into(),
                inputs: Vec::new(),
            };
            self.rec.secret(owner, name, bytes.to_vec(), formula);
        }
    }

    fn alert(&mut self, from: ActorId, why: Discard) -> Stop {
        self.rec.alert(from, why.alert_key(), false);
        self.narrate("ipsec.narr.discarded", &[]);
        Stop
    }

    /// Puts one packet on a link as is (it fits the MTU); returns it as it arrives.
    fn put(
        &mut self,
        hop: Hop,
        label: &str,
        protocol: &str,
        bytes: Vec<u8>,
        fields: Vec<Field>,
    ) -> Vec<u8> {
        let Hop(from, to, link) = hop;
        let wire = Wire {
            link,
            protocol,
            layer: Layer::Network,
        };
        let arrived = self.rec.send(wire, from, to, label, bytes, fields);
        if link == self.export_link {
            self.export.packets.push(arrived.bytes.clone());
        }
        if let Some(t) = arrived.tampered {
            self.narrate("ipsec.narr.eve_flips", &[("offset", &t.offset)]);
        }
        arrived.bytes
    }

    /// Sends an IPv4 packet, fragmenting it at the MTU; returns the fragments as they arrive.
    fn send(
        &mut self,
        hop: Hop,
        label: &str,
        protocol: &str,
        packet: Vec<u8>,
        fields: Vec<Field>,
    ) -> Vec<Vec<u8>> {
        if packet.len() <= self.mtu {
            return vec![self.put(hop, label, protocol, packet, fields)];
        }
        let mtu = self.mtu;
        let frags = ipv4::fragment(&packet, mtu).unwrap_or_else(|_| vec![packet.clone()]);
        self.narrate(
            "ipsec.narr.fragmented",
            &[
                ("len", &packet.len()),
                ("mtu", &mtu),
                ("count", &frags.len()),
            ],
        );
        frags
            .into_iter()
            .map(|f| {
                let ff = describe::fragment(&f, &fields);
                self.put(hop, "ipsec.msg.fragment", protocol, f, ff)
            })
            .collect()
    }

    /// Receives what `send` delivered: checks each IPv4 header, reassembles fragments.
    fn receive(&mut self, me: ActorId, arrived: &[Vec<u8>]) -> Result<Vec<u8>, Stop> {
        for f in arrived {
            let parsed =
                ipv4::Packet::new_checked(f.as_slice()).and_then(|p| ipv4::Repr::parse(&p));
            match parsed {
                Ok(_) => {}
                Err(e) => {
                    self.check(
                        me,
                        "ipsec.check.ip_header",
                        Outcome::Failed(FailReason::Malformed),
                    );
                    return Err(self.alert(me, Discard::Ip(e)));
                }
            }
        }
        self.check(me, "ipsec.check.ip_header", Outcome::Passed);
        match arrived {
            [one] => Ok(one.clone()),
            _ => match ipv4::reassemble(arrived) {
                Ok(p) => {
                    self.narrate(
                        "ipsec.narr.reassembled",
                        &[("count", &arrived.len()), ("len", &p.len())],
                    );
                    Ok(p)
                }
                Err(e) => Err(self.alert(me, Discard::Ip(e))),
            },
        }
    }

    /// Creates one ESP SA (both ends' copies), records its keys and announces it.
    /// `seen_src`/`seen_dst` are the outer addresses on the exported link.
    fn esp_sa(
        &mut self,
        owners: [ActorId; 2],
        alg: Algorithm,
        seen_src: Ipv4Addr,
        seen_dst: Ipv4Addr,
    ) -> Result<(EspSa, EspSa), Stop> {
        let key = self.random(alg.key_len())?;
        let salt_v = self.random(4)?;
        let mut salt = [0u8; 4];
        salt.copy_from_slice(salt_v.get(..4).unwrap_or(&[0; 4]));
        // SPIs 0-255 are reserved (RFC 4303 §2.1).
        let spi = self.random_u32()?.max(0x100);
        self.narrate(
            "ipsec.narr.sa",
            &[
                ("spi", &format!("0x{spi:08x}")),
                ("algorithm", &alg.name()),
                ("src", &seen_src),
                ("dst", &seen_dst),
            ],
        );
        self.secret(&owners, "ipsec.secret.esp_key", &key);
        self.secret(&owners, "ipsec.secret.esp_salt", &salt);
        self.export.sas.push(SaExport {
            src: seen_src,
            dst: seen_dst,
            spi,
            algorithm: alg,
            key: key.clone(),
            salt,
        });
        let a = EspSa::new(spi, alg, &key, salt).map_err(|e| self.alert(owners[0], e))?;
        let b = EspSa::new(spi, alg, &key, salt).map_err(|e| self.alert(owners[1], e))?;
        Ok((a, b))
    }

    fn seal(
        &mut self,
        me: ActorId,
        sa: &mut EspSa,
        next: IpProtocol,
        payload: &[u8],
    ) -> Result<Sealed, Stop> {
        let iv = self.iv()?;
        sa.seal(next.into(), payload, iv)
            .map_err(|e| self.alert(me, e))
    }

    /// Opens an ESP packet and records the SAD's checks in the order RFC 4303 §3.4
    /// makes them: SA lookup, sequence number, ICV, trailer, window update.
    fn open(&mut self, me: ActorId, sad: &mut Sad, esp_bytes: &[u8]) -> Result<Opened, Stop> {
        let inbound = sad.inbound(esp_bytes);
        for check in &inbound.checks {
            self.record_check(me, check);
        }
        inbound.result.map_err(|e| self.alert(me, e))
    }

    fn record_check(&mut self, me: ActorId, check: &InboundCheck) {
        match *check {
            InboundCheck::Spi(Ok(())) => self.check(me, "ipsec.check.spi", Outcome::Passed),
            InboundCheck::Spi(Err(f)) => {
                let reason = if f.known {
                    FailReason::Malformed
                } else {
                    FailReason::Untrusted
                };
                self.check(me, "ipsec.check.spi", Outcome::Failed(reason));
                if !f.known {
                    self.narrate(
                        "ipsec.narr.unknown_spi",
                        &[("spi", &format!("0x{:08x}", f.spi))],
                    );
                }
            }
            InboundCheck::ReplayWindow { result: Ok(()), .. } => {
                self.check(me, "ipsec.check.replay", Outcome::Passed);
            }
            InboundCheck::ReplayWindow {
                sequence,
                window,
                result: Err(_),
            } => {
                self.check(
                    me,
                    "ipsec.check.replay",
                    Outcome::Failed(FailReason::Replay),
                );
                self.narrate(
                    "ipsec.narr.replay_rejected",
                    &[
                        ("seq", &sequence),
                        ("top", &window.top()),
                        ("window", &window_bits(&window)),
                    ],
                );
            }
            InboundCheck::Icv(Ok(())) => self.check(me, "ipsec.check.icv", Outcome::Passed),
            InboundCheck::Icv(Err(_)) => self.check(
                me,
                "ipsec.check.icv",
                Outcome::Failed(FailReason::TagMismatch),
            ),
            // A good trailer is not a check of its own on screen.
            InboundCheck::Trailer(Ok(())) => {}
            InboundCheck::Trailer(Err(_)) => self.check(
                me,
                "ipsec.check.trailer",
                Outcome::Failed(FailReason::Malformed),
            ),
            InboundCheck::WindowUpdate { sequence, window } => self.narrate(
                "ipsec.narr.window",
                &[
                    ("seq", &sequence),
                    ("top", &window.top()),
                    ("window", &window_bits(&window)),
                ],
            ),
        }
    }
}

/// The last 8 positions of the window, newest first (`1` = received).
fn window_bits(w: &crate::replay::ReplayWindow) -> String {
    (0..8)
        .map(|i| if w.bitmap() & (1 << i) != 0 { '1' } else { '0' })
        .collect()
}

/// What the inner packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inner {
    /// An HTTP request in a TCP segment (PSH ACK, mid-connection); the server answers.
    Http,
    /// A ping: ICMP echo request with the payload as its data; the reply echoes it.
    Ping,
}

impl Inner {
    /// Stable id (`http`, `ping`).
    pub fn as_str(self) -> &'static str {
        match self {
            Inner::Http => "http",
            Inner::Ping => "ping",
        }
    }
}

/// One conversation's packets: addresses, ports or ICMP identifier, running numbers.
struct Flow {
    inner: Inner,
    reply: bool,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
}

impl Flow {
    fn new(d: &mut Driver, inner: Inner, src: Ipv4Addr, dst: Ipv4Addr) -> Result<Flow, Stop> {
        Ok(Flow {
            inner,
            reply: false,
            src,
            dst,
            sport: 49152 + d.random_u16()? % 16384,
            dport: 80,
            seq: d.random_u32()?,
            ack: d.random_u32()?,
        })
    }

    fn reverse(&self) -> Flow {
        Flow {
            inner: self.inner,
            reply: !self.reply,
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
            seq: self.ack,
            ack: self.seq,
        }
    }

    /// What the answering side sends back for a request carrying `request`.
    fn answer(&self, request: &str) -> String {
        match self.inner {
            Inner::Http => REPLY.to_owned(),
            Inner::Ping => request.to_owned(),
        }
    }

    fn packet(&mut self, d: &mut Driver, data: &[u8]) -> Result<Vec<u8>, Stop> {
        let (protocol, body) = match self.inner {
            Inner::Http => {
                let seg = tcp::Repr {
                    src_port: self.sport,
                    dst_port: self.dport,
                    seq_number: self.seq,
                    ack_number: self.ack,
                    flags: tcp::FLAG_PSH | tcp::FLAG_ACK,
                    window_len: 502,
                    urgent_at: 0,
                    options: Vec::new(),
                }
                .emit(
                    data,
                    &PseudoHeader::V4 {
                        src: self.src,
                        dst: self.dst,
                    },
                );
                self.seq = self.seq.wrapping_add(data.len() as u32);
                (IpProtocol::Tcp, seg)
            }
            Inner::Ping => {
                // The echo identifier is the flow's port pair's low half, the same both ways.
                let ident = if self.reply { self.dport } else { self.sport };
                let msg = icmpv4::Repr {
                    request: !self.reply,
                    ident,
                    seq: 1,
                }
                .emit(data);
                (IpProtocol::Icmp, msg)
            }
        };
        let ident = d.random_u16()?;
        Ok(ipv4::Repr::new(self.src, self.dst, protocol, body.len(), ident).packet(&body))
    }
}

/// The application data of a transport segment or ICMP echo, as text.
fn l4_text(protocol: IpProtocol, segment: &[u8]) -> String {
    let data = match protocol {
        IpProtocol::Tcp => {
            let hl = tcp::Packet::new_unchecked(segment).header_len();
            segment.get(hl..).unwrap_or(&[])
        }
        IpProtocol::Icmp => segment.get(icmpv4::HEADER_LEN..).unwrap_or(&[]),
        _ => segment,
    };
    String::from_utf8_lossy(data).into_owned()
}

/// The application data of an IPv4 packet, as text.
fn ip_text(packet: &[u8]) -> String {
    let ip = ipv4::Packet::new_unchecked(packet);
    let end = usize::from(ip.total_len()).min(packet.len());
    l4_text(
        ip.protocol(),
        packet.get(ip.header_len()..end).unwrap_or(&[]),
    )
}

/// The application data of what ESP delivered (a segment, or a whole packet in tunnel mode).
fn opened_text(o: &Opened) -> String {
    match IpProtocol::from(o.trailer.next_header) {
        IpProtocol::Ipv4 => ip_text(&o.payload),
        p => l4_text(p, &o.payload),
    }
}

/// Transport mode: the packet's own header, protocol 50, then ESP around its payload.
fn transport_packet(
    d: &mut Driver,
    me: ActorId,
    sa: &mut EspSa,
    inner: &[u8],
) -> Result<(Vec<u8>, Vec<Field>), Stop> {
    let ip = ipv4::Packet::new_unchecked(inner);
    let repr = ipv4::Packet::new_checked(inner)
        .and_then(|p| ipv4::Repr::parse(&p))
        .map_err(|e| d.alert(me, Discard::Ip(e)))?;
    let sealed = d.seal(me, sa, repr.protocol, ip.payload())?;
    let outer = ipv4::Repr {
        protocol: IpProtocol::Esp,
        ..repr
    }
    .packet(&sealed.bytes);
    let fields = describe::esp_packet(&outer, ip.payload(), sealed.trailer);
    Ok((outer, fields))
}

/// Tunnel mode: a new outer header between `src` and `dst`, ESP around the whole packet.
fn tunnel_packet(
    d: &mut Driver,
    me: ActorId,
    sa: &mut EspSa,
    inner: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    udp_encap: bool,
) -> Result<(Vec<u8>, Vec<Field>), Stop> {
    let sealed = d.seal(me, sa, IpProtocol::Ipv4, inner)?;
    let ident = d.random_u16()?;
    let outer = if udp_encap {
        // RFC 3948 §2.1: source and destination port 4500, checksum 0.
        let u = udp::Repr {
            src_port: 4500,
            dst_port: 4500,
        }
        .emit(&sealed.bytes, udp::ChecksumMode::Zero);
        ipv4::Repr::new(src, dst, IpProtocol::Udp, u.len(), ident).packet(&u)
    } else {
        ipv4::Repr::new(src, dst, IpProtocol::Esp, sealed.bytes.len(), ident).packet(&sealed.bytes)
    };
    let fields = describe::esp_packet(&outer, inner, sealed.trailer);
    Ok((outer, fields))
}

/// The ESP part of a received outer packet (after UDP if encapsulated).
fn esp_part(packet: &[u8]) -> &[u8] {
    let ip = ipv4::Packet::new_unchecked(packet);
    let mut start = ip.header_len();
    if ip.protocol() == IpProtocol::Udp {
        start += udp::HEADER_LEN;
    }
    let end = usize::from(ip.total_len()).min(packet.len());
    packet.get(start..end).unwrap_or(&[])
}

/// A router's forwarding step: TTL down by one, header checksum recomputed.
fn forward(packet: &[u8]) -> Vec<u8> {
    let mut p = ipv4::Packet::new_unchecked(packet.to_vec());
    let ttl = p.ttl().saturating_sub(1);
    p.set_ttl(ttl);
    p.fill_checksum();
    p.into_inner()
}

/// ESP packet length for an inner packet of `inner_len` bytes (IPv4 header included).
fn esp_len(alg: Algorithm, mode: Mode, inner_len: usize, udp_encap: bool) -> usize {
    let protected = match mode {
        Mode::Transport => inner_len.saturating_sub(ipv4::HEADER_LEN),
        Mode::Tunnel => inner_len,
    };
    ipv4::HEADER_LEN
        + protected
        + alg.overhead(protected)
        + if udp_encap { udp::HEADER_LEN } else { 0 }
}

/// The largest TCP payload whose ESP packet still fits `mtu` unfragmented.
fn max_payload(alg: Algorithm, mode: Mode, mtu: usize, udp_encap: bool) -> usize {
    let headers = ipv4::HEADER_LEN + tcp::HEADER_LEN;
    (0..=mtu)
        .rev()
        .find(|n| esp_len(alg, mode, headers + n, udp_encap) <= mtu)
        .unwrap_or(0)
}

fn narrate_sizes(d: &mut Driver, p: &Params, inner_len: usize, udp_encap: bool) {
    let t = esp_len(p.algorithm, Mode::Transport, inner_len, udp_encap);
    let u = esp_len(p.algorithm, Mode::Tunnel, inner_len, udp_encap);
    d.narrate(
        if udp_encap {
            "ipsec.narr.overhead_udp"
        } else {
            "ipsec.narr.overhead"
        },
        &[
            ("inner", &inner_len),
            ("transport", &t),
            ("transport_added", &(t - inner_len)),
            ("tunnel", &u),
            ("tunnel_added", &(u - inner_len)),
        ],
    );
    let mtu = d.mtu;
    d.narrate(
        "ipsec.narr.mtu",
        &[
            ("mtu", &mtu),
            (
                "plain",
                &mtu.saturating_sub(ipv4::HEADER_LEN + tcp::HEADER_LEN),
            ),
            (
                "transport",
                &max_payload(p.algorithm, Mode::Transport, mtu, udp_encap),
            ),
            (
                "tunnel",
                &max_payload(p.algorithm, Mode::Tunnel, mtu, udp_encap),
            ),
        ],
    );
}

// Addresses from the documentation ranges (RFC 5737) and private networks (RFC 1918).
const HOST_A: [u8; 4] = [192, 0, 2, 10];
const HOST_B: [u8; 4] = [198, 51, 100, 20];
const LAN_A_CLIENT: [u8; 4] = [10, 1, 0, 10];
const GW_A_OUT: [u8; 4] = [203, 0, 113, 1];
const GW_B_OUT: [u8; 4] = [198, 51, 100, 1];
const LAN_B_SERVER: [u8; 4] = [10, 2, 0, 20];
const HOME_CLIENT: [u8; 4] = [192, 168, 1, 10];
const HOME_NAT_OUT: [u8; 4] = [203, 0, 113, 7];
const VPN_INNER: [u8; 4] = [10, 2, 100, 5];

/// Host-to-host ESP (transport mode, or host-to-host tunnel mode), with a reply.
fn transport(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    host_to_host(d, p, Mode::Transport, true)
}

/// Host A and host B on one link that Eve watches (the captured link).
struct Hosts {
    a: ActorId,
    b: ActorId,
    eve: ActorId,
    link: LinkId,
    ha: Ipv4Addr,
    hb: Ipv4Addr,
}

fn two_hosts(d: &mut Driver, p: &Params) -> Hosts {
    let a = d.actor(Role::Client, "ipsec.actor.host_a");
    let b = d.actor(Role::Server, "ipsec.actor.host_b");
    let eve = d.actor(Role::Eavesdropper, "ipsec.actor.eve");
    let link = d.link(a, b, &[eve]);
    d.export_link = link;
    Hosts {
        a,
        b,
        eve,
        link,
        ha: p.addr_a.unwrap_or(addr(HOST_A)),
        hb: p.addr_b.unwrap_or(addr(HOST_B)),
    }
}

fn host_to_host(d: &mut Driver, p: &Params, mode: Mode, reply: bool) -> Result<(), Stop> {
    let Hosts {
        a,
        b,
        eve: _,
        link,
        ha,
        hb,
    } = two_hosts(d, p);
    d.narrate(
        &format!("ipsec.narr.intro_{}", mode.as_str()),
        &[("a", &ha), ("b", &hb)],
    );
    let (mut out_a, in_b) = d.esp_sa([a, b], p.algorithm, ha, hb)?;
    let (mut out_b, in_a) = d.esp_sa([b, a], p.algorithm, hb, ha)?;
    d.narrate("ipsec.narr.two_sas", &[]);
    let mut sad_b = Sad::new();
    sad_b.insert(in_b);
    let mut sad_a = Sad::new();
    sad_a.insert(in_a);

    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    narrate_sizes(d, p, inner.len(), false);
    let (outer, fields) = match mode {
        Mode::Transport => transport_packet(d, a, &mut out_a, &inner)?,
        Mode::Tunnel => tunnel_packet(d, a, &mut out_a, &inner, ha, hb, false)?,
    };
    let label = format!("ipsec.msg.esp_{}", mode.as_str());
    let arrived = d.send(Hop(a, b, link), &label, "esp", outer, fields);
    d.narrate(
        &format!("ipsec.narr.eve_sees_{}", mode.as_str()),
        &[("src", &ha), ("dst", &hb)],
    );
    let got = d.receive(b, &arrived)?;
    let opened = d.open(b, &mut sad_b, esp_part(&got))?;
    let text = opened_text(&opened);
    d.narrate("ipsec.narr.delivered", &[("text", &text)]);
    if !reply {
        return Ok(());
    }
    let mut back = flow.reverse();
    let inner = back.packet(d, flow.answer(&p.payload).as_bytes())?;
    let (outer, fields) = match mode {
        Mode::Transport => transport_packet(d, b, &mut out_b, &inner)?,
        Mode::Tunnel => tunnel_packet(d, b, &mut out_b, &inner, hb, ha, false)?,
    };
    let arrived = d.send(Hop(b, a, link), &label, "esp", outer, fields);
    let got = d.receive(a, &arrived)?;
    let opened = d.open(a, &mut sad_a, esp_part(&got))?;
    let text = opened_text(&opened);
    d.narrate("ipsec.narr.delivered", &[("text", &text)]);
    d.narrate("ipsec.narr.done", &[]);
    Ok(())
}

/// The same inner packet in transport mode and in tunnel mode, one after the other.
fn compare(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let Hosts {
        a,
        b,
        eve: _,
        link,
        ha,
        hb,
    } = two_hosts(d, p);
    d.narrate("ipsec.narr.intro_compare", &[("a", &ha), ("b", &hb)]);
    // The mode is a property of the SA, so each mode gets its own.
    let (mut transport_sa, in_t) = d.esp_sa([a, b], p.algorithm, ha, hb)?;
    let (mut tunnel_sa, in_u) = d.esp_sa([a, b], p.algorithm, ha, hb)?;
    d.narrate("ipsec.narr.mode_per_sa", &[]);
    let mut sad_b = Sad::new();
    sad_b.insert(in_t);
    sad_b.insert(in_u);
    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    narrate_sizes(d, p, inner.len(), false);

    let (outer, fields) = transport_packet(d, a, &mut transport_sa, &inner)?;
    let t_len = outer.len();
    let arrived = d.send(
        Hop(a, b, link),
        "ipsec.msg.esp_transport",
        "esp",
        outer,
        fields,
    );
    d.narrate(
        "ipsec.narr.eve_sees_transport",
        &[("src", &ha), ("dst", &hb)],
    );
    let got = d.receive(b, &arrived)?;
    let opened = d.open(b, &mut sad_b, esp_part(&got))?;
    d.narrate("ipsec.narr.delivered", &[("text", &opened_text(&opened))]);

    let (outer, fields) = tunnel_packet(d, a, &mut tunnel_sa, &inner, ha, hb, false)?;
    let u_len = outer.len();
    let arrived = d.send(
        Hop(a, b, link),
        "ipsec.msg.esp_tunnel",
        "esp",
        outer,
        fields,
    );
    d.narrate("ipsec.narr.tunnel_between_hosts", &[]);
    let got = d.receive(b, &arrived)?;
    let opened = d.open(b, &mut sad_b, esp_part(&got))?;
    d.narrate("ipsec.narr.delivered", &[("text", &opened_text(&opened))]);
    d.narrate(
        "ipsec.narr.compare",
        &[
            ("inner", &inner.len()),
            ("transport", &t_len),
            ("tunnel", &u_len),
            ("diff", &u_len.saturating_sub(t_len)),
        ],
    );
    Ok(())
}

/// Gateway-to-gateway tunnel joining two private networks over the internet.
fn tunnel(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let client = d.actor(Role::Client, "ipsec.actor.client");
    let gw_a = d.actor(Role::Gateway, "ipsec.actor.gateway_a");
    let gw_b = d.actor(Role::Gateway, "ipsec.actor.gateway_b");
    let server = d.actor(Role::Server, "ipsec.actor.server");
    let eve = d.actor(Role::Eavesdropper, "ipsec.actor.eve");
    let lan_a = d.link(client, gw_a, &[]);
    let internet = d.link(gw_a, gw_b, &[eve]);
    let lan_b = d.link(gw_b, server, &[]);
    d.export_link = internet;
    let (ga, gb) = (addr(GW_A_OUT), addr(GW_B_OUT));
    let (c, s) = (
        p.addr_a.unwrap_or(addr(LAN_A_CLIENT)),
        p.addr_b.unwrap_or(addr(LAN_B_SERVER)),
    );
    d.narrate(
        "ipsec.narr.intro_site_to_site",
        &[("client", &c), ("server", &s), ("gw_a", &ga), ("gw_b", &gb)],
    );
    let (mut out_a, in_b) = d.esp_sa([gw_a, gw_b], p.algorithm, ga, gb)?;
    let (mut out_b, in_a) = d.esp_sa([gw_b, gw_a], p.algorithm, gb, ga)?;
    let mut sad_b = Sad::new();
    sad_b.insert(in_b);
    let mut sad_a = Sad::new();
    sad_a.insert(in_a);

    let mut flow = Flow::new(d, p.inner, c, s)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    narrate_sizes(d, p, inner.len(), false);
    let fields = describe::plain_packet(&inner);
    let arrived = d.send(
        Hop(client, gw_a, lan_a),
        "ipsec.msg.plain",
        "ip",
        inner,
        fields,
    );
    let got = d.receive(gw_a, &arrived)?;
    let fwd = forward(&got);
    d.narrate(
        "ipsec.narr.gateway_encapsulates",
        &[("gw", &ga), ("peer", &gb)],
    );
    let (outer, fields) = tunnel_packet(d, gw_a, &mut out_a, &fwd, ga, gb, false)?;
    let arrived = d.send(
        Hop(gw_a, gw_b, internet),
        "ipsec.msg.esp_tunnel",
        "esp",
        outer,
        fields,
    );
    d.narrate("ipsec.narr.eve_sees_tunnel", &[("src", &ga), ("dst", &gb)]);
    let got = d.receive(gw_b, &arrived)?;
    let opened = d.open(gw_b, &mut sad_b, esp_part(&got))?;
    d.narrate("ipsec.narr.gateway_decapsulates", &[("dst", &s)]);
    let fwd = forward(&opened.payload);
    let fields = describe::plain_packet(&fwd);
    let arrived = d.send(
        Hop(gw_b, server, lan_b),
        "ipsec.msg.plain",
        "ip",
        fwd,
        fields,
    );
    let got = d.receive(server, &arrived)?;
    d.narrate("ipsec.narr.delivered", &[("text", &ip_text(&got))]);

    let mut back = flow.reverse();
    let inner = back.packet(d, flow.answer(&p.payload).as_bytes())?;
    let fields = describe::plain_packet(&inner);
    let arrived = d.send(
        Hop(server, gw_b, lan_b),
        "ipsec.msg.plain",
        "ip",
        inner,
        fields,
    );
    let got = d.receive(gw_b, &arrived)?;
    let fwd = forward(&got);
    let (outer, fields) = tunnel_packet(d, gw_b, &mut out_b, &fwd, gb, ga, false)?;
    let arrived = d.send(
        Hop(gw_b, gw_a, internet),
        "ipsec.msg.esp_tunnel",
        "esp",
        outer,
        fields,
    );
    let got = d.receive(gw_a, &arrived)?;
    let opened = d.open(gw_a, &mut sad_a, esp_part(&got))?;
    let fwd = forward(&opened.payload);
    let fields = describe::plain_packet(&fwd);
    let arrived = d.send(
        Hop(gw_a, client, lan_a),
        "ipsec.msg.plain",
        "ip",
        fwd,
        fields,
    );
    let got = d.receive(client, &arrived)?;
    d.narrate("ipsec.narr.delivered", &[("text", &ip_text(&got))]);
    d.narrate("ipsec.narr.done_tunnel", &[]);
    Ok(())
}

/// Three packets accepted, then Eve sends the second one again.
fn replay(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let Hosts {
        a,
        b,
        eve,
        link,
        ha,
        hb,
    } = two_hosts(d, p);
    d.narrate("ipsec.narr.intro_replay", &[]);
    let (mut out_a, in_b) = d.esp_sa([a, b], p.algorithm, ha, hb)?;
    let mut sad_b = Sad::new();
    sad_b.insert(in_b);
    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let label = format!("ipsec.msg.esp_{}", p.mode.as_str());
    let mut captured = Vec::new();
    for _ in 0..3 {
        let inner = flow.packet(d, p.payload.as_bytes())?;
        let (outer, fields) = match p.mode {
            Mode::Transport => transport_packet(d, a, &mut out_a, &inner)?,
            Mode::Tunnel => tunnel_packet(d, a, &mut out_a, &inner, ha, hb, false)?,
        };
        let arrived = d.send(Hop(a, b, link), &label, "esp", outer, fields.clone());
        captured.push((arrived.clone(), fields));
        let got = d.receive(b, &arrived)?;
        d.open(b, &mut sad_b, esp_part(&got))?;
    }
    d.narrate("ipsec.narr.eve_replays", &[("seq", &"2")]);
    let (copy, fields) = captured.get(1).cloned().unwrap_or_default();
    let mut again = Vec::new();
    let whole = copy.len() == 1;
    for f in copy {
        let ff = if whole {
            fields.clone()
        } else {
            describe::fragment(&f, &fields)
        };
        again.push(d.put(Hop(eve, b, link), "ipsec.msg.replayed", "esp", f, ff));
    }
    let got = d.receive(b, &again)?;
    d.open(b, &mut sad_b, esp_part(&got))?;
    Ok(())
}

/// One packet; Eve flips one byte on the way.
fn tamper(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let Hosts {
        a,
        b,
        eve: _,
        link,
        ha,
        hb,
    } = two_hosts(d, p);
    d.narrate("ipsec.narr.intro_tamper", &[]);
    let (mut out_a, in_b) = d.esp_sa([a, b], p.algorithm, ha, hb)?;
    let mut sad_b = Sad::new();
    sad_b.insert(in_b);
    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    let (outer, fields) = match p.mode {
        Mode::Transport => transport_packet(d, a, &mut out_a, &inner)?,
        Mode::Tunnel => tunnel_packet(d, a, &mut out_a, &inner, ha, hb, false)?,
    };
    let label = format!("ipsec.msg.esp_{}", p.mode.as_str());
    let arrived = d.send(Hop(a, b, link), &label, "esp", outer, fields);
    let got = d.receive(b, &arrived)?;
    let opened = d.open(b, &mut sad_b, esp_part(&got))?;
    let text = opened_text(&opened);
    d.narrate("ipsec.narr.delivered", &[("text", &text)]);
    d.narrate("ipsec.narr.untouched", &[]);
    Ok(())
}

/// AH through a NAT (fails) or a router (passes): integrity without confidentiality.
fn ah_nat(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let a = d.actor(Role::Client, "ipsec.actor.host_a");
    let mid = if p.nat {
        d.actor(Role::Nat, "ipsec.actor.nat")
    } else {
        d.actor(Role::Gateway, "ipsec.actor.router")
    };
    let b = d.actor(Role::Server, "ipsec.actor.host_b");
    let eve = d.actor(Role::Eavesdropper, "ipsec.actor.eve");
    let lan = d.link(a, mid, &[]);
    let internet = d.link(mid, b, &[eve]);
    d.export_link = internet;
    let ha = p.addr_a.unwrap_or(addr(HOME_CLIENT));
    let (hb, public) = (p.addr_b.unwrap_or(addr(HOST_B)), addr(HOME_NAT_OUT));
    d.narrate("ipsec.narr.intro_ah", &[]);
    let key = d.random(ah::KEY_LEN)?;
    let spi = d.random_u32()?.max(0x100);
    d.narrate(
        "ipsec.narr.ah_sa",
        &[("spi", &format!("0x{spi:08x}")), ("src", &ha), ("dst", &hb)],
    );
    d.secret(&[a, b], "ipsec.secret.ah_key", &key);
    let mut out = AhSa::new(spi, &key).map_err(|e| d.alert(a, e))?;
    let mut inb = AhSa::new(spi, &key).map_err(|e| d.alert(b, e))?;

    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    let protected = out.protect(&inner).map_err(|e| d.alert(a, e))?;
    let esp_added = esp_len(p.algorithm, Mode::Transport, inner.len(), false) - inner.len();
    d.narrate(
        "ipsec.narr.ah_vs_esp",
        &[("ah", &ah::OVERHEAD), ("esp", &esp_added)],
    );
    let fields = describe::ah_packet(&protected.bytes);
    let arrived = d.send(
        Hop(a, mid, lan),
        "ipsec.msg.ah",
        "ah",
        protected.bytes,
        fields,
    );
    let got = d.receive(mid, &arrived)?;
    let mut fwd = forward(&got);
    if p.nat {
        let mut pk = ipv4::Packet::new_unchecked(fwd);
        pk.set_src_addr(public);
        pk.fill_checksum();
        fwd = pk.into_inner();
        d.narrate("ipsec.narr.nat_rewrites", &[("from", &ha), ("to", &public)]);
    } else {
        d.narrate("ipsec.narr.router_forwards", &[]);
    }
    let fields = describe::ah_packet(&fwd);
    let arrived = d.send(Hop(mid, b, internet), "ipsec.msg.ah", "ah", fwd, fields);
    d.narrate("ipsec.narr.eve_reads_ah", &[("text", &p.payload)]);
    let got = d.receive(b, &arrived)?;
    d.check(b, "ipsec.check.spi", Outcome::Passed);
    match inb.verify(&got) {
        Ok(plain) => {
            d.check(b, "ipsec.check.replay", Outcome::Passed);
            d.check(b, "ipsec.check.ah_icv", Outcome::Passed);
            d.narrate("ipsec.narr.ah_mutable_ok", &[]);
            d.narrate("ipsec.narr.delivered", &[("text", &ip_text(&plain))]);
            Ok(())
        }
        Err(e) => {
            d.check(b, "ipsec.check.replay", Outcome::Passed);
            d.check(
                b,
                "ipsec.check.ah_icv",
                Outcome::Failed(FailReason::TagMismatch),
            );
            d.narrate(
                "ipsec.narr.ah_nat_breaks",
                &[("from", &ha), ("to", &public)],
            );
            Err(d.alert(b, e))
        }
    }
}

/// Remote work: a client behind a home NAT reaches the office through ESP in UDP 4500.
fn nat_traversal(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let client = d.actor(Role::Client, "ipsec.actor.remote_client");
    let nat = d.actor(Role::Nat, "ipsec.actor.home_router");
    let gw = d.actor(Role::Gateway, "ipsec.actor.vpn_gateway");
    let server = d.actor(Role::Server, "ipsec.actor.server");
    let eve = d.actor(Role::Eavesdropper, "ipsec.actor.eve");
    let home = d.link(client, nat, &[]);
    let internet = d.link(nat, gw, &[eve]);
    let office = d.link(gw, server, &[]);
    d.export_link = internet;
    let (c, public, g) = (addr(HOME_CLIENT), addr(HOME_NAT_OUT), addr(GW_B_OUT));
    let (vin, s) = (addr(VPN_INNER), addr(LAN_B_SERVER));
    d.narrate(
        "ipsec.narr.intro_nat",
        &[
            ("client", &c),
            ("public", &public),
            ("gw", &g),
            ("inner", &vin),
        ],
    );
    // The SAs as the internet link sees them: from the NAT's public address.
    let (mut out_c, in_g) = d.esp_sa([client, gw], p.algorithm, public, g)?;
    let (mut out_g, in_c) = d.esp_sa([gw, client], p.algorithm, g, public)?;
    let mut sad_g = Sad::new();
    sad_g.insert(in_g);
    let mut sad_c = Sad::new();
    sad_c.insert(in_c);
    d.narrate("ipsec.narr.why_natt", &[]);

    let mut flow = Flow::new(d, p.inner, vin, s)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    narrate_sizes(d, p, inner.len(), true);
    let (outer, fields) = tunnel_packet(d, client, &mut out_c, &inner, c, g, true)?;
    let arrived = d.send(
        Hop(client, nat, home),
        "ipsec.msg.esp_in_udp",
        "esp",
        outer,
        fields.clone(),
    );
    let got = d.receive(nat, &arrived)?;
    let port = 1024 + d.random_u16()? % 60000;
    let rewritten = napt(&got, Some(public), None, Some(port), None);
    d.narrate(
        "ipsec.narr.napt_rewrites",
        &[
            ("from", &format!("{c}:4500")),
            ("to", &format!("{public}:{port}")),
        ],
    );
    let fields = relabel(&rewritten, &fields);
    let arrived = d.send(
        Hop(nat, gw, internet),
        "ipsec.msg.esp_in_udp",
        "esp",
        rewritten,
        fields,
    );
    d.narrate(
        "ipsec.narr.eve_sees_tunnel",
        &[("src", &public), ("dst", &g)],
    );
    let got = d.receive(gw, &arrived)?;
    let opened = d.open(gw, &mut sad_g, esp_part(&got))?;
    d.narrate("ipsec.narr.esp_survives_nat", &[]);
    let fwd = forward(&opened.payload);
    let fields = describe::plain_packet(&fwd);
    let arrived = d.send(
        Hop(gw, server, office),
        "ipsec.msg.plain",
        "ip",
        fwd,
        fields,
    );
    let got = d.receive(server, &arrived)?;
    d.narrate("ipsec.narr.delivered", &[("text", &ip_text(&got))]);

    let mut back = flow.reverse();
    let inner = back.packet(d, flow.answer(&p.payload).as_bytes())?;
    let fields = describe::plain_packet(&inner);
    let arrived = d.send(
        Hop(server, gw, office),
        "ipsec.msg.plain",
        "ip",
        inner,
        fields,
    );
    let got = d.receive(gw, &arrived)?;
    let fwd = forward(&got);
    let (outer, fields) = tunnel_packet(d, gw, &mut out_g, &fwd, g, public, true)?;
    let outer = napt(&outer, None, None, None, Some(port));
    let fields = relabel(&outer, &fields);
    let arrived = d.send(
        Hop(gw, nat, internet),
        "ipsec.msg.esp_in_udp",
        "esp",
        outer,
        fields.clone(),
    );
    let got = d.receive(nat, &arrived)?;
    let back_in = napt(&got, None, Some(c), None, Some(4500));
    d.narrate("ipsec.narr.napt_returns", &[("to", &format!("{c}:4500"))]);
    let fields = relabel(&back_in, &fields);
    let arrived = d.send(
        Hop(nat, client, home),
        "ipsec.msg.esp_in_udp",
        "esp",
        back_in,
        fields,
    );
    let got = d.receive(client, &arrived)?;
    let opened = d.open(client, &mut sad_c, esp_part(&got))?;
    d.narrate("ipsec.narr.delivered", &[("text", &opened_text(&opened))]);
    d.narrate("ipsec.narr.done_nat", &[]);
    Ok(())
}

/// A NAPT's rewrite of an IPv4/UDP packet: addresses and ports, IP checksum recomputed
/// (the UDP checksum is zero for ESP in UDP, so there is none to fix).
fn napt(
    packet: &[u8],
    src: Option<Ipv4Addr>,
    dst: Option<Ipv4Addr>,
    sport: Option<u16>,
    dport: Option<u16>,
) -> Vec<u8> {
    let mut p = ipv4::Packet::new_unchecked(packet.to_vec());
    if let Some(a) = src {
        p.set_src_addr(a);
    }
    if let Some(a) = dst {
        p.set_dst_addr(a);
    }
    let payload = p.payload_mut();
    if let Some(port) = sport {
        if let Some(b) = payload.get_mut(udp::field::SRC_PORT) {
            b.copy_from_slice(&port.to_be_bytes());
        }
    }
    if let Some(port) = dport {
        if let Some(b) = payload.get_mut(udp::field::DST_PORT) {
            b.copy_from_slice(&port.to_be_bytes());
        }
    }
    p.fill_checksum();
    p.into_inner()
}

/// The same description with the outer IPv4 and UDP headers re-read from `packet`
/// (after a NAT changed them); ESP is untouched.
fn relabel(packet: &[u8], fields: &[Field]) -> Vec<Field> {
    let fresh = {
        let mut b = cipherstage_transcript::FieldsBuilder::new(0);
        let hdr = packet
            .get(..ipv4::HEADER_LEN + udp::HEADER_LEN)
            .unwrap_or(&[]);
        cipherstage_packets::describe::ipv4_header(
            &mut b,
            hdr.get(..ipv4::HEADER_LEN).unwrap_or(&[]),
            cipherstage_transcript::Protection::Plaintext.into(),
        );
        b.group(
            "ipsec.field.udp_encap",
            "ipsec.explain.udp_encap",
            cipherstage_transcript::Protection::Plaintext,
            |b| {
                cipherstage_packets::describe::udp_header(
                    b,
                    hdr.get(ipv4::HEADER_LEN..).unwrap_or(&[]),
                    cipherstage_transcript::Protection::Plaintext,
                );
            },
        );
        b.finish()
    };
    fresh
        .into_iter()
        .chain(
            fields
                .iter()
                .filter(|f| f.start >= ipv4::HEADER_LEN + udp::HEADER_LEN)
                .cloned(),
        )
        .collect()
}
