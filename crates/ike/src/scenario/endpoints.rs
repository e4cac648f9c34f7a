//! The parties of the IKEv2 stories as the driver's endpoints: the initiating side
//! (IKE, then one packet through the tunnel), the gateway (IKE responder, ESP receiver,
//! router), the office server, and Eve on the Internet link; and the IPv4/UDP framing
//! every IKE message travels in.

use cipherstage_ipsec::{encap, EspSa};
use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::describe as pkt;
use cipherstage_packets::{ipv4, tcp, udp, IpProtocol, Ipv4Addr};
use cipherstage_transcript::driver::{Endpoint, Fate, Flow, Path, Transmit};
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{
    ActorId, Delivered, FailReason, Field, FieldsBuilder, Protection, Recorder,
};

use super::{wire, GATEWAY, INITIATOR, INTERNET, LAN, SERVER};
use crate::codec::shift;
use crate::{Addr, Initiator, InitiatorState, Note, Outgoing, Responder};

/// Addresses of one story.
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    pub(super) initiator: Addr,
    pub(super) gateway: Addr,
    pub(super) gateway_lan: Ipv4Addr,
    pub(super) server: Ipv4Addr,
    /// The inner packet's source when no address is assigned (site-to-site).
    pub(super) fixed_src: Option<Ipv4Addr>,
}

/// An IKE message inside UDP port 500 inside IPv4, with every byte explained.
pub(super) fn ike_packet(src: Addr, dst: Addr, ident: u16, out: Outgoing) -> (Vec<u8>, Vec<Field>) {
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
pub(super) fn udp_payload(packet: &[u8]) -> Option<(&[u8], Addr)> {
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
pub(super) fn record(rec: &mut Recorder, owner: ActorId, notes: Vec<Note>) {
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
pub(super) fn syn(src: Ipv4Addr, dst: Ipv4Addr, rng: &mut dyn RandomSource) -> Option<Vec<u8>> {
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
pub(super) struct Client {
    pub(super) ike: Initiator,
    pub(super) plan: Plan,
    pub(super) started: bool,
    pub(super) sent_inner: bool,
    /// Rounds waited for an answer, and retransmissions made.
    pub(super) waited: u8,
    pub(super) retries: u8,
    pub(super) idents: u16,
    pub(super) out: Vec<Transmit>,
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

impl Client {
    /// The answer through the tunnel: opened with the responder-to-initiator key.
    fn esp_back(&mut self, bytes: &[u8], rec: &mut Recorder) {
        let Some(mut sa) = self
            .ike
            .established()
            .and_then(|e| e.child.esp_r_to_i().ok())
        else {
            return;
        };
        match sa.open(encap::esp_part(bytes)) {
            Ok(o) => {
                rec.check(INITIATOR, "ike.check.esp_icv", None);
                let src = ipv4::Packet::new_checked(&o.payload[..]).map(|p| p.src_addr());
                if let Ok(src) = src {
                    rec.narrate("ike.narr.syn_ack", &[("src", &src)]);
                }
            }
            Err(d) => {
                rec.check(
                    INITIATOR,
                    "ike.check.esp_icv",
                    Some(FailReason::TagMismatch),
                );
                rec.alert(INITIATOR, d.alert_key(), false);
            }
        }
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
        if ipv4::Packet::new_checked(bytes).is_ok_and(|p| p.protocol() == IpProtocol::Esp) {
            self.esp_back(bytes, rec);
            return Flow::Continue;
        }
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
pub(super) struct Gateway {
    pub(super) ike: Responder,
    pub(super) plan: Plan,
    pub(super) nat: bool,
    pub(super) inbound: Option<EspSa>,
    /// The SA carrying the answers back to the initiator.
    pub(super) outbound: Option<EspSa>,
    /// The inner source of the tunnelled connection (NAT mode rewrites answers to it).
    pub(super) nat_peer: Option<Ipv4Addr>,
    pub(super) idents: u16,
    pub(super) out: Vec<Transmit>,
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
        let inner_src = ipv4::Packet::new_unchecked(&opened.payload[..]).src_addr();
        let Some(forwarded) = forward(
            &opened.payload,
            self.nat.then_some(self.plan.gateway_lan),
            None,
        ) else {
            rec.check(
                GATEWAY,
                "ike.check.inner_packet",
                Some(FailReason::Malformed),
            );
            return;
        };
        // In NAT mode, remember whose connection this is, to send the answer back to.
        self.nat_peer = Some(inner_src);
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

impl Gateway {
    /// An answer from the office LAN: back through the tunnel, sealed with the
    /// responder-to-initiator key of the CHILD_SA.
    fn back(&mut self, bytes: &[u8], rec: &mut Recorder, rng: &mut dyn RandomSource) {
        if self.outbound.is_none() {
            self.outbound = self
                .ike
                .established()
                .and_then(|e| e.child.esp_r_to_i().ok());
        }
        let new_dst = if self.nat { self.nat_peer } else { None };
        let (Some(sa), Some(inner)) = (self.outbound.as_mut(), forward(bytes, None, new_dst))
        else {
            rec.check(
                GATEWAY,
                "ike.check.inner_packet",
                Some(FailReason::Malformed),
            );
            return;
        };
        let mut iv = [0u8; 8];
        if rng.fill(&mut iv).is_err() {
            return;
        }
        self.idents = self.idents.wrapping_add(1);
        let outer = (
            Ipv4Addr::from(self.plan.gateway.ip),
            Ipv4Addr::from(self.plan.initiator.ip),
        );
        let Ok(e) = encap::tunnel(sa, &inner, iv, outer, self.idents, false) else {
            return;
        };
        rec.narrate(
            "ike.narr.gateway_tunnels_back",
            &[("spi", &format!("0x{:08x}", sa.spi()))],
        );
        self.out.push(Transmit {
            to: INITIATOR,
            wire: wire(INTERNET, "esp"),
            label: "ike.msg.esp_tunnel_back".into(),
            bytes: e.packet,
            fields: e.fields,
        });
    }
}

/// A router's step: TTL down by one; with NAT the source (outbound) or destination
/// (the answer coming back) is rewritten, and the TCP checksum follows it.
pub(super) fn forward(
    inner: &[u8],
    new_src: Option<Ipv4Addr>,
    new_dst: Option<Ipv4Addr>,
) -> Option<Vec<u8>> {
    let ip = ipv4::Packet::new_checked(inner).ok()?;
    let repr = ipv4::Repr::parse(&ip).ok()?;
    let seg = inner.get(ipv4::HEADER_LEN..ipv4::HEADER_LEN + repr.payload_len)?;
    let ttl = repr.ttl.checked_sub(1)?;
    if new_src.is_none() && new_dst.is_none() {
        let mut p = ipv4::Packet::new_unchecked(inner.to_vec());
        p.set_ttl(ttl);
        p.fill_checksum();
        return Some(p.into_inner());
    }
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
    let (src, dst) = (
        new_src.unwrap_or(repr.src_addr),
        new_dst.unwrap_or(repr.dst_addr),
    );
    let new_seg = tr.emit(payload, &PseudoHeader::V4 { src, dst });
    Some(
        ipv4::Repr {
            src_addr: src,
            dst_addr: dst,
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
        from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        if from == SERVER {
            self.back(bytes, rec, rng);
            return Flow::Continue;
        }
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

/// The office server: says what source address it sees, and answers the SYN.
pub(super) struct Server {
    pub(super) out: Vec<Transmit>,
}

impl Endpoint for Server {
    fn actor(&self) -> ActorId {
        SERVER
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
        let Ok(ip) = ipv4::Packet::new_checked(bytes) else {
            return Flow::Continue;
        };
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        rec.narrate("ike.narr.server_sees", &[("src", &src)]);
        let ph = PseudoHeader::V4 { src, dst };
        let syn = tcp::Packet::new_checked(ip.payload())
            .ok()
            .and_then(|t| tcp::Repr::parse(&t, &ph).ok())
            .filter(|t| t.flags == tcp::FLAG_SYN);
        let mut r = [0u8; 6];
        if let (Some(syn), Ok(())) = (syn, rng.fill(&mut r)) {
            let [a, b, c, d, e, f] = r;
            // SYN-ACK to whoever the server saw: the assigned address, or the gateway.
            let seg = tcp::Repr {
                src_port: syn.dst_port,
                dst_port: syn.src_port,
                seq_number: u32::from_be_bytes([a, b, c, d]),
                ack_number: syn.seq_number.wrapping_add(1),
                flags: tcp::FLAG_SYN | tcp::FLAG_ACK,
                window_len: 65160,
                urgent_at: 0,
                options: vec![2, 4, 0x05, 0x50],
            }
            .emit(&[], &PseudoHeader::V4 { src: dst, dst: src });
            let packet = ipv4::Repr::new(
                dst,
                src,
                IpProtocol::Tcp,
                seg.len(),
                u16::from_be_bytes([e, f]),
            )
            .packet(&seg);
            let mut fb = FieldsBuilder::new(0);
            pkt::ip_packet(
                &mut fb,
                &packet,
                Protection::Plaintext.into(),
                Protection::Plaintext,
            );
            self.out.push(Transmit {
                to: GATEWAY,
                wire: wire(LAN, "ip"),
                label: "ike.msg.lan_reply".into(),
                bytes: packet,
                fields: fb.finish(),
            });
        }
        Flow::Continue
    }
}

/// Eve on the Internet link: what each kind of message shows her, and her flip.
pub(super) struct Eve;

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
