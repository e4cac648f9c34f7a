//! A run as Wireshark sees it: one TCP connection per SMTP session, as a pcapng
//! of IPv4 packets (client 10.0.0.1, server 10.0.0.2, the SMTP port), and the TLS
//! key log that decrypts it.

use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::{ipv4, tcp, IpProtocol, Ipv4Addr};
use cipherstage_transcript::{Event, Transcript};

const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const CLIENT_PORT: u16 = 50_000;

struct Conn {
    port: u16,
    seq: [u32; 2],
    packets: Vec<Vec<u8>>,
}

impl Conn {
    fn segment(&mut self, from_server: bool, flags: u16, payload: &[u8]) {
        let i = usize::from(from_server);
        let (src, dst, sport, dport) = if from_server {
            (SERVER, CLIENT, self.port, CLIENT_PORT)
        } else {
            (CLIENT, SERVER, CLIENT_PORT, self.port)
        };
        let seq = self.seq.get(i).copied().unwrap_or(0);
        let ack = if flags & tcp::FLAG_ACK != 0 {
            self.seq.get(1 - i).copied().unwrap_or(0)
        } else {
            0
        };
        let seg = tcp::Repr {
            src_port: sport,
            dst_port: dport,
            seq_number: seq,
            ack_number: ack,
            flags,
            window_len: 65_535,
            urgent_at: 0,
            options: Vec::new(),
        }
        .emit(payload, &PseudoHeader::V4 { src, dst });
        let ident = self.packets.len() as u16;
        let ip = ipv4::Repr::new(src, dst, IpProtocol::Tcp, seg.len(), ident).packet(&seg);
        self.packets.push(ip);
        let advance =
            payload.len() as u32 + u32::from(flags & (tcp::FLAG_SYN | tcp::FLAG_FIN) != 0);
        if let Some(s) = self.seq.get_mut(i) {
            *s = s.wrapping_add(advance);
        }
    }
}

/// The messages of `link` in `t` as one TCP connection to `port`; `client` is the
/// actor that opened it.
pub fn pcapng(t: &Transcript, link: usize, client: usize, port: u16) -> Vec<u8> {
    let mut c = Conn {
        port,
        seq: [0x1000_0000, 0x2000_0000],
        packets: Vec::new(),
    };
    c.segment(false, tcp::FLAG_SYN, &[]);
    c.segment(true, tcp::FLAG_SYN | tcp::FLAG_ACK, &[]);
    c.segment(false, tcp::FLAG_ACK, &[]);
    // The capture is taken at the client: a message Eve intercepted (to her) is
    // not in it; what she passed on instead is.
    for m in t
        .messages()
        .filter(|m| m.link == link && (m.from == client || m.to == client))
    {
        let from_server = m.from != client;
        c.segment(from_server, tcp::FLAG_PSH | tcp::FLAG_ACK, &m.bytes);
    }
    c.segment(false, tcp::FLAG_FIN | tcp::FLAG_ACK, &[]);
    c.segment(true, tcp::FLAG_FIN | tcp::FLAG_ACK, &[]);
    c.segment(false, tcp::FLAG_ACK, &[]);
    cipherstage_packets::pcapng::raw_ip(&c.packets)
}

/// The NSS key log of the run's TLS connection (empty when it had none).
pub fn keylog(t: &Transcript) -> String {
    let has_tls = t
        .events
        .iter()
        .any(|e| matches!(e, Event::Secret(s) if s.name.starts_with("tls.secret.")));
    if has_tls {
        cipherstage_tls::export::keylog(t)
    } else {
        String::new()
    }
}
