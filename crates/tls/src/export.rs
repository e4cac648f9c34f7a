//! Export of a TLS transcript for Wireshark: an NSS key log and a pcapng capture
//! with Ethernet/IPv4/TCP framing around the records.

use cipherstage_transcript::{Event, Transcript};

/// The NSS key log lines of a transcript (`LABEL <client random> <secret>`), which
/// `tshark -o tls.keylog_file:FILE` uses to decrypt the capture.
pub fn keylog(t: &Transcript) -> String {
    let Some(random) = t
        .messages()
        .find(|m| m.label == "tls.msg.client_hello")
        .and_then(|m| m.bytes.get(11..43))
    else {
        return String::new();
    };
    let random = hex(random);
    let mut out = String::new();
    let mut seen: Vec<String> = Vec::new();
    for e in &t.events {
        let Event::Secret(s) = e else { continue };
        let Some(label) = s.name.strip_prefix("tls.secret.") else {
            continue;
        };
        let nss = matches!(
            label,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
                | "SERVER_HANDSHAKE_TRAFFIC_SECRET"
                | "CLIENT_TRAFFIC_SECRET_0"
                | "SERVER_TRAFFIC_SECRET_0"
                | "EXPORTER_SECRET"
        );
        let line = format!("{label} {random} {}\n", hex(&s.bytes));
        if nss && !seen.contains(&line) {
            out.push_str(&line);
            seen.push(line);
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// Documentation addresses on the Internet (RFC 5737 TEST-NET-1 and TEST-NET-2), so a
// capture never collides with a private network a scenario has behind the server
// (the TLS VPN's office LAN is 10.0.0.0/24).
const CLIENT_IP: [u8; 4] = [192, 0, 2, 10];
const SERVER_IP: [u8; 4] = [198, 51, 100, 20];
const CLIENT_PORT: u16 = 50_000;
const SERVER_PORT: u16 = 443;
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

struct Tcp {
    seq: [u32; 2],
    packets: Vec<Vec<u8>>,
}

impl Tcp {
    /// One segment from side `from` (0 client, 1 server).
    fn segment(&mut self, from: usize, flags: u8, payload: &[u8]) {
        let (src, dst, sport, dport) = if from == 0 {
            (CLIENT_IP, SERVER_IP, CLIENT_PORT, SERVER_PORT)
        } else {
            (SERVER_IP, CLIENT_IP, SERVER_PORT, CLIENT_PORT)
        };
        let seq = self.seq.get(from).copied().unwrap_or(0);
        let ack = if flags & ACK != 0 {
            self.seq.get(1 - from).copied().unwrap_or(0)
        } else {
            0
        };
        let mut tcp = Vec::with_capacity(20 + payload.len());
        tcp.extend_from_slice(&sport.to_be_bytes());
        tcp.extend_from_slice(&dport.to_be_bytes());
        tcp.extend_from_slice(&seq.to_be_bytes());
        tcp.extend_from_slice(&ack.to_be_bytes());
        tcp.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        tcp.extend_from_slice(payload);
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        pseudo.extend_from_slice(&tcp);
        let sum = checksum(&pseudo);
        if let Some(c) = tcp.get_mut(16..18) {
            c.copy_from_slice(&sum.to_be_bytes());
        }
        let total = (20 + tcp.len()) as u16;
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        if let Some(l) = ip.get_mut(2..4) {
            l.copy_from_slice(&total.to_be_bytes());
        }
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        let sum = checksum(&ip);
        if let Some(c) = ip.get_mut(10..12) {
            c.copy_from_slice(&sum.to_be_bytes());
        }
        let mut frame = vec![0x02, 0, 0, 0, 0, if from == 0 { 2 } else { 1 }];
        frame.extend_from_slice(&[0x02, 0, 0, 0, 0, if from == 0 { 1 } else { 2 }]);
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&tcp);
        self.packets.push(frame);
        let advance = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        if let Some(s) = self.seq.get_mut(from) {
            *s = s.wrapping_add(advance);
        }
    }
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| {
            u32::from(u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]))
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A pcapng capture of the transcript's messages as one TCP connection
/// (client 192.0.2.10:50000 → server 198.51.100.20:443), one segment per record.
pub fn pcapng(t: &Transcript, start_secs: u64) -> Vec<u8> {
    let client = t
        .actors
        .iter()
        .position(|a| a.role == cipherstage_transcript::Role::Client)
        .unwrap_or(0);
    let mut tcp = Tcp {
        seq: [0x1000_0000, 0x2000_0000],
        packets: Vec::new(),
    };
    tcp.segment(0, SYN, &[]);
    tcp.segment(1, SYN | ACK, &[]);
    tcp.segment(0, ACK, &[]);
    for m in t.messages() {
        let side = usize::from(m.from != client);
        tcp.segment(side, PSH | ACK, &m.bytes);
    }
    tcp.segment(0, FIN | ACK, &[]);
    tcp.segment(1, FIN | ACK, &[]);
    tcp.segment(0, ACK, &[]);

    let mut out = Vec::new();
    // Section Header Block.
    block(&mut out, 0x0a0d_0d0a, |b| {
        b.extend_from_slice(&0x1a2b_3c4d_u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&u64::MAX.to_le_bytes());
    });
    // Interface Description Block: Ethernet, default microsecond timestamps.
    block(&mut out, 1, |b| {
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
    });
    for (i, p) in tcp.packets.iter().enumerate() {
        let ts = start_secs * 1_000_000 + i as u64 * 1000;
        block(&mut out, 6, |b| {
            b.extend_from_slice(&0u32.to_le_bytes());
            b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
            b.extend_from_slice(&(ts as u32).to_le_bytes());
            b.extend_from_slice(&(p.len() as u32).to_le_bytes());
            b.extend_from_slice(&(p.len() as u32).to_le_bytes());
            b.extend_from_slice(p);
            while b.len() % 4 != 0 {
                b.push(0);
            }
        });
    }
    out
}

fn block(out: &mut Vec<u8>, typ: u32, body: impl FnOnce(&mut Vec<u8>)) {
    let mut b = Vec::new();
    body(&mut b);
    let len = (12 + b.len()) as u32;
    out.extend_from_slice(&typ.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&b);
    out.extend_from_slice(&len.to_le_bytes());
}
