//! The inner packets: one conversation's TCP segments or ICMP echoes in IPv4, and
//! their application data as text.

use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::{icmpv4, ipv4, tcp, IpProtocol, Ipv4Addr};

use super::{Driver, Stop, REPLY};
use crate::sa::Opened;

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
pub(super) struct Flow {
    pub(super) inner: Inner,
    pub(super) reply: bool,
    pub(super) src: Ipv4Addr,
    pub(super) dst: Ipv4Addr,
    pub(super) sport: u16,
    pub(super) dport: u16,
    pub(super) seq: u32,
    pub(super) ack: u32,
}

impl Flow {
    pub(super) fn new(
        d: &mut Driver,
        inner: Inner,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<Flow, Stop> {
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

    pub(super) fn reverse(&self) -> Flow {
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
    pub(super) fn answer(&self, request: &str) -> String {
        match self.inner {
            Inner::Http => REPLY.to_owned(),
            Inner::Ping => request.to_owned(),
        }
    }

    pub(super) fn packet(&mut self, d: &mut Driver, data: &[u8]) -> Result<Vec<u8>, Stop> {
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
pub(super) fn l4_text(protocol: IpProtocol, segment: &[u8]) -> String {
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
pub(super) fn ip_text(packet: &[u8]) -> String {
    let ip = ipv4::Packet::new_unchecked(packet);
    let end = usize::from(ip.total_len()).min(packet.len());
    l4_text(
        ip.protocol(),
        packet.get(ip.header_len()..end).unwrap_or(&[]),
    )
}

/// The application data of what ESP delivered (a segment, or a whole packet in tunnel mode).
pub(super) fn opened_text(o: &Opened) -> String {
    match IpProtocol::from(o.trailer.next_header) {
        IpProtocol::Ipv4 => ip_text(&o.payload),
        p => l4_text(p, &o.payload),
    }
}
