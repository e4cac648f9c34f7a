//! Raw IP packets as a pcapng file Wireshark and tshark open.
//!
//! pcapng (draft-ietf-opsawg-pcapng): a Section Header Block, one Interface
//! Description Block with link type 101 (LINKTYPE_RAW: each packet starts with its IP
//! header), and one Enhanced Packet Block per packet; little-endian. Timestamps are
//! 0, 1000, 2000 … microseconds: deterministic, no clock.

/// LINKTYPE_RAW: raw IPv4 or IPv6, no link-layer header.
pub const LINKTYPE_RAW: u16 = 101;

fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(out.len() + padded - body.len(), 0);
    out.extend_from_slice(&total.to_le_bytes());
}

/// The packets, one millisecond apart from time zero.
pub fn raw_ip(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    // Section Header Block: byte-order magic, version 1.0, section length unknown.
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&u64::MAX.to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    // Interface Description Block: link type, reserved, snap length 0 (no limit).
    let mut idb = Vec::new();
    idb.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    block(&mut out, 0x0000_0001, &idb);
    for (i, p) in packets.iter().enumerate() {
        let ts = (i as u64) * 1000;
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes()); // interface 0
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
        epb.extend_from_slice(p);
        block(&mut out, 0x0000_0006, &epb);
    }
    out
}
