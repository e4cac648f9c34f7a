//! The scenario driver: hosts, gateways, a NAT and an eavesdropper exchange real IPsec
//! packets over in-memory links; everything is recorded as a transcript (the shape of
//! quinn-proto's `Pair`). Randomness (keys, salts, SPIs, IVs, IP identifications, TCP
//! numbers) comes only from the seeded or live [`Source`].

use core::fmt::Display;

use cipherstage_packets::{ipv4, tcp, udp, Ipv4Addr};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, ActorId, FailReason, Field, Formula, Layer, Link, LinkId, Outcome, Recorder, Role,
    Transcript, Wire,
};

use crate::ah::{self, AhSa};
use crate::describe;
use crate::export::{Export, SaExport};
use crate::sa::{Algorithm, EspSa, InboundCheck, Opened, Sad};
use crate::Discard;

pub use crate::encap::Mode;
pub use cipherstage_transcript::TamperAt;
pub use flow::Inner;

mod ah_nat;
mod compare;
mod flow;
mod host;
mod nat;
mod replay;
mod tamper;
mod tunnel;

use crate::encap::{self, esp_len, esp_part, max_payload};
use flow::{ip_text, opened_text, Flow};
use host::{two_hosts, Hosts};

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

/// The IPsec stories, one per scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    /// `ipsec-transport`: host to host, transport mode, with a reply.
    Transport,
    /// `ipsec-tunnel`: gateway to gateway, tunnel mode.
    Tunnel,
    /// `ipsec-compare`: the same packet in both modes.
    Compare,
    /// `ipsec-replay`: a replayed packet meets the window.
    Replay,
    /// `ipsec-tamper`: a flipped byte meets the ICV.
    Tamper,
    /// `ipsec-ah`: AH, with or without a NAT in the way.
    Ah,
    /// `ipsec-nat`: ESP in UDP through a NAT.
    Nat,
}

impl Story {
    /// Every story, in the picker's order.
    pub const ALL: [Story; 7] = [
        Story::Transport,
        Story::Tunnel,
        Story::Compare,
        Story::Replay,
        Story::Tamper,
        Story::Ah,
        Story::Nat,
    ];

    /// The scenario id.
    pub fn id(self) -> &'static str {
        match self {
            Story::Transport => "ipsec-transport",
            Story::Tunnel => "ipsec-tunnel",
            Story::Compare => "ipsec-compare",
            Story::Replay => "ipsec-replay",
            Story::Tamper => "ipsec-tamper",
            Story::Ah => "ipsec-ah",
            Story::Nat => "ipsec-nat",
        }
    }

    /// The story with scenario id `id`, if there is one.
    pub fn from_id(id: &str) -> Option<Story> {
        Story::ALL.into_iter().find(|s| s.id() == id)
    }
}

impl core::fmt::Display for Story {
    /// The scenario id.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.id())
    }
}

/// Runs `story` and returns its transcript.
pub fn run(story: Story, params: &Params, seed: Option<u64>) -> Transcript {
    run_with_export(story, params, seed).0
}

/// Runs scenario `id`; also returns the packets of its internet link (or the only link)
/// with the SAs Wireshark needs to decrypt them.
pub fn run_with_export(story: Story, params: &Params, seed: Option<u64>) -> (Transcript, Export) {
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
    let _ = match story {
        Story::Transport => host::transport(&mut d, params),
        Story::Tunnel => tunnel::tunnel(&mut d, params),
        Story::Compare => compare::compare(&mut d, params),
        Story::Replay => replay::replay(&mut d, params),
        Story::Tamper => tamper::tamper(&mut d, params),
        Story::Ah => ah_nat::ah_nat(&mut d, params),
        Story::Nat => nat::nat_traversal(&mut d, params),
    };
    let t = Transcript {
        scenario: story.id().to_owned(),
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
        self.esp_sa_for(owners, alg, seen_src, seen_dst, "")
    }

    /// [`Self::esp_sa`] where a run has several SAs between the same two hosts:
    /// `which` names the SA in its key and salt secrets: `_fwd` / `_rev` for the two
    /// directions between a pair (RFC 4301 §4.1: an SA is simplex), `_transport` /
    /// `_tunnel` for two modes side by side.
    fn esp_sa_for(
        &mut self,
        owners: [ActorId; 2],
        alg: Algorithm,
        seen_src: Ipv4Addr,
        seen_dst: Ipv4Addr,
        which: &str,
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
        self.secret(&owners, &format!("ipsec.secret.esp_key{which}"), &key);
        self.secret(&owners, &format!("ipsec.secret.esp_salt{which}"), &salt);
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

/// Transport mode on `sa` for `me`: the IV drawn, the packet sealed (a failure is
/// `me`'s alert).
fn transport_packet(
    d: &mut Driver,
    me: ActorId,
    sa: &mut EspSa,
    inner: &[u8],
) -> Result<(Vec<u8>, Vec<Field>), Stop> {
    let iv = d.iv()?;
    let e = encap::transport(sa, inner, iv).map_err(|e| d.alert(me, e))?;
    Ok((e.packet, e.fields))
}

/// Tunnel mode on `sa` for `me` between `src` and `dst` (in UDP 4500 if `udp_encap`).
fn tunnel_packet(
    d: &mut Driver,
    me: ActorId,
    sa: &mut EspSa,
    inner: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    udp_encap: bool,
) -> Result<(Vec<u8>, Vec<Field>), Stop> {
    let iv = d.iv()?;
    let ident = d.random_u16()?;
    let e =
        encap::tunnel(sa, inner, iv, (src, dst), ident, udp_encap).map_err(|e| d.alert(me, e))?;
    Ok((e.packet, e.fields))
}

/// A router's forwarding step: TTL down by one, header checksum recomputed.
fn forward(packet: &[u8]) -> Vec<u8> {
    let mut p = ipv4::Packet::new_unchecked(packet.to_vec());
    let ttl = p.ttl().saturating_sub(1);
    p.set_ttl(ttl);
    p.fill_checksum();
    p.into_inner()
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
