//! The VPN stories built on IKEv2, run with the transcript's one driver
//! (`cipherstage_transcript::drive`): the initiator (a home PC, or office A's gateway)
//! and the responder (the company's VPN gateway) exchange IKE_SA_INIT and IKE_AUTH in
//! UDP port 500 over the Internet, where Eve watches; once the CHILD_SA is up, the
//! initiator sends a TCP SYN to an office server inside ESP tunnel mode, sealed with the
//! keys IKE negotiated; the gateway opens it and forwards the inner packet onto the
//! office LAN — as it is (the server sees the address the company assigned) or with its
//! own LAN address as the source (NAT mode).

use cipherstage_ipsec::{encap, EspSa};
use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::describe as pkt;
use cipherstage_packets::{ipv4, tcp, udp, IpProtocol, Ipv4Addr};
use cipherstage_transcript::driver::{drive, Endpoint, Fate, Flow, Path, Transmit};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, ActorId, Delivered, FailReason, Field, FieldsBuilder, Layer, Link, LinkId, Protection,
    Recorder, Role, TamperAt, Transcript, Wire,
};

use crate::auth::{CertAuth, Trust};
use crate::codec::shift;

mod export;
use crate::consts::notify;
use crate::{
    Addr, Encr, Group, Identity, Initiator, InitiatorConfig, InitiatorState, Note, Outgoing,
    Responder, ResponderConfig, Selector,
};
pub use export::{Export, IkeSaKeys};

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
}

impl Story {
    /// Every story, in picker order.
    pub const ALL: [Story; 6] = [
        Story::RemoteAccess,
        Story::SiteToSite,
        Story::NoProposal,
        Story::InvalidKe,
        Story::AuthFailed,
        Story::Tamper,
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

/// Addresses of one story.
#[derive(Debug, Clone, Copy)]
struct Plan {
    initiator: Addr,
    gateway: Addr,
    gateway_lan: Ipv4Addr,
    server: Ipv4Addr,
    /// The inner packet's source when no address is assigned (site-to-site).
    fixed_src: Option<Ipv4Addr>,
}

/// An IKE message inside UDP port 500 inside IPv4, with every byte explained.
fn ike_packet(src: Addr, dst: Addr, ident: u16, out: Outgoing) -> (Vec<u8>, Vec<Field>) {
    let (s, d) = (Ipv4Addr::from(src.ip), Ipv4Addr::from(dst.ip));
    let datagram = udp::Repr {
        src_port: src.port,
        dst_port: dst.port,
    }
    .emit(
        &out.bytes,
        udp::ChecksumMode::Compute(PseudoHeader::V4 { src: s, dst: d }),
    );
    let packet = ipv4::Repr::new(s, d, IpProtocol::Udp, datagram.len(), ident).packet(&datagram);
    let mut b = FieldsBuilder::new(0);
    pkt::ipv4_header(
        &mut b,
        packet.get(..ipv4::HEADER_LEN).unwrap_or(&[]),
        Protection::Plaintext.into(),
    );
    pkt::udp_header(
        &mut b,
        packet.get(ipv4::HEADER_LEN..).unwrap_or(&[]),
        Protection::Plaintext,
    );
    let mut fields = b.finish();
    let start = ipv4::HEADER_LEN + udp::HEADER_LEN;
    let mut ike = out.fields;
    shift(&mut ike, start);
    let protection = if out.label.starts_with("ike.msg.ike_auth") {
        Protection::IntegrityOnly
    } else {
        Protection::Plaintext
    };
    fields.push(Field {
        name: "ike.field.message".into(),
        start,
        end: packet.len(),
        value: None,
        explain: "ike.explain.message".into(),
        protection,
        children: ike,
    });
    (packet, fields)
}

/// The UDP payload and source of an IPv4/UDP packet, if it is one.
fn udp_payload(packet: &[u8]) -> Option<(&[u8], Addr)> {
    let ip = ipv4::Packet::new_checked(packet).ok()?;
    let repr = ipv4::Repr::parse(&ip).ok()?;
    if repr.protocol != IpProtocol::Udp {
        return None;
    }
    let seg = packet.get(ipv4::HEADER_LEN..ipv4::HEADER_LEN + repr.payload_len)?;
    let u = udp::Packet::new_checked(seg).ok()?;
    let ph = PseudoHeader::V4 {
        src: repr.src_addr,
        dst: repr.dst_addr,
    };
    udp::Repr::parse(&u, &ph).ok()?;
    let from = Addr {
        ip: repr.src_addr.octets(),
        port: u.src_port(),
    };
    Some((seg.get(udp::HEADER_LEN..)?, from))
}

/// Writes a core's notes into the transcript as `owner`'s.
fn record(rec: &mut Recorder, owner: ActorId, notes: Vec<Note>) {
    for n in notes {
        match n {
            Note::Secret {
                name,
                bytes,
                formula,
            } => rec.secret(owner, &name, bytes, formula),
            Note::Check { what, failed } => {
                rec.check(owner, what, failed);
            }
            Note::Say { key, args } => {
                let args: Vec<(&str, &dyn core::fmt::Display)> = args
                    .iter()
                    .map(|(k, v)| (*k, v as &dyn core::fmt::Display))
                    .collect();
                rec.narrate(key, &args);
            }
            Note::Failed { notify } => {
                let id = crate::consts::notify_key(notify)
                    .strip_prefix("ike.value.")
                    .unwrap_or("unknown");
                rec.alert(owner, format!("ike.alert.{id}"), true);
            }
        }
    }
}

/// A TCP SYN from `src` to the office server's HTTPS port.
fn syn(src: Ipv4Addr, dst: Ipv4Addr, rng: &mut dyn RandomSource) -> Option<Vec<u8>> {
    let mut r = [0u8; 6];
    rng.fill(&mut r).ok()?;
    let [a, b, c, d, e, f] = r;
    let seg = tcp::Repr {
        src_port: 49152 | u16::from_be_bytes([a, b]) & 0x3fff,
        dst_port: 443,
        seq_number: u32::from_be_bytes([c, d, e, f]),
        ack_number: 0,
        flags: tcp::FLAG_SYN,
        window_len: 64240,
        urgent_at: 0,
        // MSS 1360: what fits in the tunnel after ESP's overhead.
        options: vec![2, 4, 0x05, 0x50],
    }
    .emit(&[], &PseudoHeader::V4 { src, dst });
    Some(
        ipv4::Repr::new(
            src,
            dst,
            IpProtocol::Tcp,
            seg.len(),
            u16::from_be_bytes([a ^ e, b ^ f]),
        )
        .packet(&seg),
    )
}

/// The initiating side: IKE, then one packet through the tunnel.
struct Client {
    ike: Initiator,
    plan: Plan,
    started: bool,
    sent_inner: bool,
    /// Rounds waited for an answer, and retransmissions made.
    waited: u8,
    retries: u8,
    idents: u16,
    out: Vec<Transmit>,
}

impl Client {
    fn flush(&mut self, rec: &mut Recorder) {
        record(rec, INITIATOR, self.ike.take_notes());
        for o in self.ike.take_outgoing() {
            self.idents = self.idents.wrapping_add(1);
            let label = o.label;
            let (bytes, fields) =
                ike_packet(self.plan.initiator, self.plan.gateway, self.idents, o);
            self.out.push(Transmit {
                to: GATEWAY,
                wire: wire(INTERNET, "ike"),
                label: label.into(),
                bytes,
                fields,
            });
        }
    }

    fn waiting(&self) -> bool {
        matches!(
            self.ike.state(),
            InitiatorState::ExpectSaInitResponse(_) | InitiatorState::ExpectAuthResponse(_)
        )
    }

    fn send_inner(&mut self, rec: &mut Recorder, rng: &mut dyn RandomSource) -> Option<()> {
        let est = self.ike.established()?;
        let src = match (est.assigned, self.plan.fixed_src) {
            (Some((a, _)), _) => Ipv4Addr::from(a),
            (None, Some(s)) => s,
            (None, None) => return None,
        };
        let inner = syn(src, self.plan.server, rng)?;
        let mut sa: EspSa = est.child.esp_i_to_r().ok()?;
        let mut iv = [0u8; 8];
        rng.fill(&mut iv).ok()?;
        self.idents = self.idents.wrapping_add(1);
        let e = encap::tunnel(
            &mut sa,
            &inner,
            iv,
            (
                Ipv4Addr::from(self.plan.initiator.ip),
                Ipv4Addr::from(self.plan.gateway.ip),
            ),
            self.idents,
            false,
        )
        .ok()?;
        rec.narrate(
            "ike.narr.syn_sent",
            &[
                ("src", &src),
                ("dst", &self.plan.server),
                ("spi", &format!("0x{:08x}", est.child.spi_r)),
            ],
        );
        self.out.push(Transmit {
            to: GATEWAY,
            wire: wire(INTERNET, "esp"),
            label: "ike.msg.esp_tunnel".into(),
            bytes: e.packet,
            fields: e.fields,
        });
        Some(())
    }
}

impl Endpoint for Client {
    fn actor(&self) -> ActorId {
        INITIATOR
    }

    fn step(&mut self, rec: &mut Recorder, rng: &mut dyn RandomSource, _now: u64) -> bool {
        if !self.started {
            self.started = true;
            if self.ike.start(rng).is_err() {
                rec.alert(INITIATOR, "ike.alert.internal", true);
            }
            self.flush(rec);
            return true;
        }
        if self.ike.established().is_some() && !self.sent_inner {
            self.sent_inner = true;
            if self.send_inner(rec, rng).is_none() {
                rec.alert(INITIATOR, "ike.alert.internal", true);
            }
            return true;
        }
        if self.waiting() && self.retries < 2 {
            // The retransmission timer: after three quiet rounds, send the request again.
            self.waited += 1;
            if self.waited >= 3 {
                self.waited = 0;
                self.retries += 1;
                self.ike.retransmit();
                self.flush(rec);
            }
            return true;
        }
        false
    }

    fn transmit(&mut self, _rec: &mut Recorder) -> Vec<Transmit> {
        core::mem::take(&mut self.out)
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        let Some((ike, _)) = udp_payload(bytes) else {
            rec.check(INITIATOR, "ike.check.ip_udp", Some(FailReason::Malformed));
            rec.narrate("ike.narr.udp_dropped", &[]);
            return Flow::Continue;
        };
        if self.ike.receive(ike, rng).is_ok() {
            self.waited = 0;
        }
        self.flush(rec);
        match self.ike.state() {
            InitiatorState::Failed { .. } => Flow::Halt,
            _ => Flow::Continue,
        }
    }
}

/// The company's VPN gateway (or office B's): IKE responder, ESP receiver, router.
struct Gateway {
    ike: Responder,
    plan: Plan,
    nat: bool,
    inbound: Option<EspSa>,
    idents: u16,
    out: Vec<Transmit>,
}

impl Gateway {
    fn flush(&mut self, rec: &mut Recorder) {
        record(rec, GATEWAY, self.ike.take_notes());
        for o in self.ike.take_outgoing() {
            self.idents = self.idents.wrapping_add(1);
            let label = o.label;
            let (bytes, fields) =
                ike_packet(self.plan.gateway, self.plan.initiator, self.idents, o);
            self.out.push(Transmit {
                to: INITIATOR,
                wire: wire(INTERNET, "ike"),
                label: label.into(),
                bytes,
                fields,
            });
        }
    }

    /// Opens an ESP packet from the tunnel and forwards the inner packet to the LAN.
    fn esp(&mut self, bytes: &[u8], rec: &mut Recorder) {
        if self.inbound.is_none() {
            self.inbound = self
                .ike
                .established()
                .and_then(|e| e.child.esp_i_to_r().ok());
        }
        let Some(sa) = self.inbound.as_mut() else {
            rec.alert(GATEWAY, "ipsec.alert.unknown_spi", false);
            return;
        };
        let opened = match sa.open(encap::esp_part(bytes)) {
            Ok(o) => o,
            Err(d) => {
                rec.check(GATEWAY, "ike.check.esp_icv", Some(FailReason::TagMismatch));
                rec.alert(GATEWAY, d.alert_key(), false);
                return;
            }
        };
        rec.check(GATEWAY, "ike.check.esp_icv", None);
        let Some(forwarded) = forward(&opened.payload, self.nat.then_some(self.plan.gateway_lan))
        else {
            rec.check(
                GATEWAY,
                "ike.check.inner_packet",
                Some(FailReason::Malformed),
            );
            return;
        };
        let src = ipv4::Packet::new_unchecked(&forwarded).src_addr();
        rec.narrate(
            if self.nat {
                "ike.narr.gateway_nat"
            } else {
                "ike.narr.gateway_forwards"
            },
            &[("src", &src)],
        );
        let mut b = FieldsBuilder::new(0);
        pkt::ip_packet(
            &mut b,
            &forwarded,
            Protection::Plaintext.into(),
            Protection::Plaintext,
        );
        self.out.push(Transmit {
            to: SERVER,
            wire: wire(LAN, "ip"),
            label: "ike.msg.lan_packet".into(),
            bytes: forwarded,
            fields: b.finish(),
        });
    }
}

/// A router's step on a decapsulated packet: TTL down by one; in NAT mode the source
/// becomes `nat_src` (and the TCP checksum follows it).
fn forward(inner: &[u8], nat_src: Option<Ipv4Addr>) -> Option<Vec<u8>> {
    let ip = ipv4::Packet::new_checked(inner).ok()?;
    let repr = ipv4::Repr::parse(&ip).ok()?;
    let seg = inner.get(ipv4::HEADER_LEN..ipv4::HEADER_LEN + repr.payload_len)?;
    let ttl = repr.ttl.checked_sub(1)?;
    let Some(new_src) = nat_src else {
        let mut p = ipv4::Packet::new_unchecked(inner.to_vec());
        p.set_ttl(ttl);
        p.fill_checksum();
        return Some(p.into_inner());
    };
    if repr.protocol != IpProtocol::Tcp {
        return None;
    }
    let t = tcp::Packet::new_checked(seg).ok()?;
    let old = PseudoHeader::V4 {
        src: repr.src_addr,
        dst: repr.dst_addr,
    };
    let tr = tcp::Repr::parse(&t, &old).ok()?;
    let payload = seg.get(t.header_len()..)?;
    let new_seg = tr.emit(
        payload,
        &PseudoHeader::V4 {
            src: new_src,
            dst: repr.dst_addr,
        },
    );
    Some(
        ipv4::Repr {
            src_addr: new_src,
            ttl,
            ..repr
        }
        .packet(&new_seg),
    )
}

impl Endpoint for Gateway {
    fn actor(&self) -> ActorId {
        GATEWAY
    }

    fn transmit(&mut self, _rec: &mut Recorder) -> Vec<Transmit> {
        core::mem::take(&mut self.out)
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        let is_esp =
            ipv4::Packet::new_checked(bytes).is_ok_and(|p| p.protocol() == IpProtocol::Esp);
        if is_esp {
            self.esp(bytes, rec);
            return Flow::Continue;
        }
        match udp_payload(bytes) {
            Some((ike, from)) => {
                // A dropped message (tampered, unexpected) is in the notes; no answer.
                let _ = self.ike.receive(ike, from, rng);
                self.flush(rec);
            }
            None => {
                rec.check(GATEWAY, "ike.check.ip_udp", Some(FailReason::Malformed));
                rec.narrate("ike.narr.udp_dropped", &[]);
            }
        }
        Flow::Continue
    }
}

/// The office server: says what source address it sees.
struct Server;

impl Endpoint for Server {
    fn actor(&self) -> ActorId {
        SERVER
    }

    fn transmit(&mut self, _rec: &mut Recorder) -> Vec<Transmit> {
        Vec::new()
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        let src = ipv4::Packet::new_checked(bytes).map(|p| p.src_addr());
        if let Ok(src) = src {
            rec.narrate("ike.narr.server_sees", &[("src", &src)]);
        }
        Flow::Continue
    }
}

/// Eve on the Internet link: what each kind of message shows her, and her flip.
struct Eve;

impl Path for Eve {
    fn on_wire(
        &mut self,
        rec: &mut Recorder,
        _from: ActorId,
        sent: &Transmit,
        delivered: &Delivered,
    ) -> Fate {
        if delivered.tampered.is_some() {
            rec.narrate("ike.narr.eve_flipped", &[]);
        }
        if sent.wire.link == INTERNET {
            let key = match sent.label.as_str() {
                "ike.msg.ike_sa_init_request" => Some("ike.narr.eve_sees_sa_init"),
                "ike.msg.ike_auth_request" => Some("ike.narr.eve_sees_auth"),
                "ike.msg.esp_tunnel" => Some("ike.narr.eve_sees_esp"),
                _ => None,
            };
            if let Some(k) = key {
                rec.narrate(k, &[]);
            }
        }
        Fate::Deliver
    }
}

/// The company's test PKI, and a certificate (ECDSA P-256, issued by its intermediate
/// CA) for each identity: (the initiator's, the responder's, what both trust).
fn certificates(
    rng: &mut dyn RandomSource,
    initiator: &Identity,
    responder: &Identity,
) -> Option<(CertAuth, CertAuth, Trust)> {
    let pki = cipherstage_pki::Pki::build(rng).ok()?;
    let mut issue = |id: &Identity| {
        let key = cipherstage_pki::Key::generate_ecdsa_p256(rng).ok()?;
        let name = String::from_utf8_lossy(&id.data).into_owned();
        let leaf = cipherstage_pki::issue::issue_server(&key, &name, &pki.intermediate).ok()?;
        Some(CertAuth {
            chain: vec![leaf, pki.intermediate.der.clone()],
            key,
        })
    };
    let mine = issue(initiator)?;
    let theirs = issue(responder)?;
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
    if params.auth == AuthMode::Cert {
        match certificates(&mut rng, &ic.id, &rc.id) {
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
        idents: 0x7000,
        out: Vec::new(),
    };
    let mut server = Server;
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
