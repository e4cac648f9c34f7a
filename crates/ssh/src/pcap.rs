//! Export of a transcript as a pcapng capture (IPv4/TCP framing) and the SSH
//! key log Wireshark reads, so `tshark -o ssh.keylog_file:…` can decrypt it.
//!
//! The client is 192.0.2.1 (TEST-NET-1), the server 192.0.2.2 at `port`; a TCP
//! handshake precedes the data so Wireshark's stream reassembly starts cleanly.
//! Timestamps are the event index in milliseconds, so the file is deterministic.

use cipherstage_transcript::{hex_encode, Event, Transcript};

const CLIENT_IP: [u8; 4] = [192, 0, 2, 1];
const SERVER_IP: [u8; 4] = [192, 0, 2, 2];
const CLIENT_PORT: u16 = 50022;
const LINKTYPE_RAW: u16 = 101;

/// The Wireshark SSH key-log line of a transcript:
/// `<client KEXINIT cookie hex> <client X25519 private key hex>`.
pub fn keylog(t: &Transcript, client: usize) -> Option<String> {
    let kexinit = t
        .messages()
        .find(|m| m.from == client && m.label == "ssh.msg.kexinit")?;
    // packet_length (4) ‖ padding_length (1) ‖ type (1) ‖ cookie (16)
    let cookie = kexinit.bytes.get(6..22)?;
    let private = t.events.iter().find_map(|e| match e {
        Event::Secret(s) if s.owner == client && s.name == "ssh.secret.ephemeral_private" => {
            Some(s.bytes.as_slice())
        }
        _ => None,
    })?;
    Some(format!("{} {}\n", hex_encode(cookie), hex_encode(private)))
}

fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    for c in chunks {
        for pair in c.chunks(2) {
            let hi = u32::from(pair.first().copied().unwrap_or(0));
            let lo = u32::from(pair.get(1).copied().unwrap_or(0));
            sum += (hi << 8) | lo;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

struct Flow {
    seq: [u32; 2],
    id: u16,
}

impl Flow {
    /// One IPv4/TCP packet from side `from` (0 client, 1 server).
    fn segment(&mut self, from: usize, port: u16, flags: u8, data: &[u8]) -> Vec<u8> {
        let (src, dst, sport, dport) = if from == 0 {
            (CLIENT_IP, SERVER_IP, CLIENT_PORT, port)
        } else {
            (SERVER_IP, CLIENT_IP, port, CLIENT_PORT)
        };
        let seq = self.seq.get(from).copied().unwrap_or(0);
        let ack = if flags & 0x10 != 0 {
            self.seq.get(1 - from.min(1)).copied().unwrap_or(0)
        } else {
            0
        };
        let mut tcp = Vec::with_capacity(20 + data.len());
        tcp.extend_from_slice(&sport.to_be_bytes());
        tcp.extend_from_slice(&dport.to_be_bytes());
        tcp.extend_from_slice(&seq.to_be_bytes());
        tcp.extend_from_slice(&ack.to_be_bytes());
        tcp.push(5 << 4);
        tcp.push(flags);
        tcp.extend_from_slice(&65535u16.to_be_bytes());
        tcp.extend_from_slice(&[0, 0, 0, 0]);
        tcp.extend_from_slice(data);
        let mut pseudo = Vec::with_capacity(12);
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        let c = checksum(&[&pseudo, &tcp]).to_be_bytes();
        if let Some(slot) = tcp.get_mut(16..18) {
            slot.copy_from_slice(&c);
        }
        let advance = data.len() as u32 + u32::from(flags & 0x02 != 0);
        if let Some(s) = self.seq.get_mut(from) {
            *s = s.wrapping_add(advance);
        }
        let mut ip = Vec::with_capacity(20 + tcp.len());
        ip.push(0x45);
        ip.push(0);
        ip.extend_from_slice(&((20 + tcp.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&self.id.to_be_bytes());
        self.id = self.id.wrapping_add(1);
        ip.extend_from_slice(&[0x40, 0, 64, 6, 0, 0]);
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        let c = checksum(&[&ip]).to_be_bytes();
        if let Some(slot) = ip.get_mut(10..12) {
            slot.copy_from_slice(&c);
        }
        ip.extend_from_slice(&tcp);
        ip
    }
}

fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let pad = (4 - body.len() % 4) % 4;
    let total = (12 + body.len() + pad) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend(core::iter::repeat_n(0u8, pad));
    out.extend_from_slice(&total.to_le_bytes());
}

/// The transcript's messages as a pcapng file; `client` is the client's actor id.
pub fn to_pcapng(t: &Transcript, client: usize, port: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0A0D_0D0A, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    block(&mut out, 1, &idb);

    let mut flow = Flow {
        seq: [0x1000_0000, 0x2000_0000],
        id: 1,
    };
    let mut packets: Vec<Vec<u8>> = vec![
        flow.segment(0, port, 0x02, &[]),
        flow.segment(1, port, 0x12, &[]),
        flow.segment(0, port, 0x10, &[]),
    ];
    for m in t.messages() {
        let from = usize::from(m.from != client);
        packets.push(flow.segment(from, port, 0x18, &m.bytes));
    }
    for (i, p) in packets.iter().enumerate() {
        let micros = (i as u64) * 1000;
        let mut epb = Vec::with_capacity(20 + p.len());
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(micros as u32).to_le_bytes());
        epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
        epb.extend_from_slice(p);
        block(&mut out, 6, &epb);
    }
    out
}
