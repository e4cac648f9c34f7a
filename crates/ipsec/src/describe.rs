//! What every byte of an ESP, AH or ESP-in-UDP packet means, as transcript fields.
//!
//! The sender describes what it sent, so the encrypted part is explained by its
//! plaintext meaning (inner IP header, TCP, data, padding …) while marked
//! [`Protection::Encrypted`]: the eavesdropper sees only the ciphertext of those bytes.

use cipherstage_packets::describe::{self as pkt, HeaderProtection};
use cipherstage_packets::{ipv4, udp, IpProtocol};
use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

use crate::wire::{ah, esp};

fn leaf(b: &mut FieldsBuilder, name: &str, len: usize, value: Option<Value>, p: Protection) {
    b.leaf(
        &format!("ipsec.field.{name}"),
        len,
        value,
        &format!("ipsec.explain.{name}"),
        p,
    );
}

fn get(bytes: &[u8], r: core::ops::Range<usize>) -> &[u8] {
    bytes.get(r).unwrap_or(&[])
}

/// The ESP part of a packet: header, encrypted payload and trailer, ICV.
/// `payload` and `trailer` are what the sender encrypted.
pub fn esp(b: &mut FieldsBuilder, esp_bytes: &[u8], payload: &[u8], trailer: esp::Trailer) {
    let p = esp::Packet::new_unchecked(esp_bytes);
    let next = IpProtocol::from(trailer.next_header);
    let tunnel = matches!(next, IpProtocol::Ipv4 | IpProtocol::Ipv6);
    b.group(
        "ipsec.field.esp",
        "ipsec.explain.esp",
        Protection::IntegrityOnly,
        |b| {
            leaf(
                b,
                "spi",
                4,
                Some(Value::Text(format!("0x{:08x}", p.spi()))),
                Protection::IntegrityOnly,
            );
            leaf(
                b,
                "sequence",
                4,
                Some(Value::Uint(p.sequence().into())),
                Protection::IntegrityOnly,
            );
            leaf(b, "iv", 8, None, Protection::IntegrityOnly);
            let explain = if tunnel {
                "ipsec.explain.encrypted_tunnel"
            } else {
                "ipsec.explain.encrypted_transport"
            };
            b.group(
                "ipsec.field.encrypted",
                explain,
                Protection::Encrypted,
                |b| {
                    if tunnel {
                        pkt::ip_packet(
                            b,
                            payload,
                            Protection::Encrypted.into(),
                            Protection::Encrypted,
                        );
                    } else {
                        pkt::transport(b, next, payload, Protection::Encrypted);
                    }
                    if trailer.pad_len > 0 {
                        leaf(
                            b,
                            "padding",
                            usize::from(trailer.pad_len),
                            None,
                            Protection::Encrypted,
                        );
                    }
                    leaf(
                        b,
                        "pad_length",
                        1,
                        Some(Value::Uint(trailer.pad_len.into())),
                        Protection::Encrypted,
                    );
                    leaf(
                        b,
                        "next_header",
                        1,
                        Some(Value::Key(next.key())),
                        Protection::Encrypted,
                    );
                },
            );
            leaf(b, "icv", esp::ICV_LEN, None, Protection::Signature);
        },
    );
}

/// A whole IPv4 packet carrying ESP, directly or in UDP (RFC 3948).
pub fn esp_packet(packet: &[u8], payload: &[u8], trailer: esp::Trailer) -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    let ip = ipv4::Packet::new_unchecked(packet);
    pkt::ipv4_header(
        &mut b,
        get(packet, 0..ipv4::HEADER_LEN),
        Protection::Plaintext.into(),
    );
    let mut at = ipv4::HEADER_LEN;
    if ip.protocol() == IpProtocol::Udp {
        b.group(
            "ipsec.field.udp_encap",
            "ipsec.explain.udp_encap",
            Protection::Plaintext,
            |b| {
                pkt::udp_header(
                    b,
                    get(packet, at..at + udp::HEADER_LEN),
                    Protection::Plaintext,
                );
            },
        );
        at += udp::HEADER_LEN;
    }
    esp(&mut b, get(packet, at..packet.len()), payload, trailer);
    b.finish()
}

/// A whole IPv4 packet carrying AH in transport mode.
pub fn ah_packet(packet: &[u8]) -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    let covered = HeaderProtection {
        fixed: Protection::IntegrityOnly,
        mutable: Protection::Plaintext,
    };
    pkt::ipv4_header(&mut b, get(packet, 0..ipv4::HEADER_LEN), covered);
    let rest = get(packet, ipv4::HEADER_LEN..packet.len());
    let a = ah::Packet::new_unchecked(rest);
    let io = Protection::IntegrityOnly;
    b.group("ipsec.field.ah", "ipsec.explain.ah", io, |b| {
        let next = IpProtocol::from(a.next_header());
        leaf(b, "ah_next_header", 1, Some(Value::Key(next.key())), io);
        // Sent in 32-bit words minus 2 (RFC 4302 §2.2): shown as sent and in bytes.
        let words = usize::from(a.payload_len());
        leaf(
            b,
            "ah_length",
            1,
            Some(Value::Text(format!(
                "{words} → ({words} + 2) ×4 = {} B",
                (words + 2) * 4
            ))),
            io,
        );
        leaf(b, "ah_reserved", 2, None, io);
        leaf(
            b,
            "spi",
            4,
            Some(Value::Text(format!("0x{:08x}", a.spi()))),
            io,
        );
        leaf(b, "sequence", 4, Some(Value::Uint(a.sequence().into())), io);
        leaf(b, "ah_icv", 16, None, Protection::Signature);
    });
    pkt::transport(&mut b, IpProtocol::from(a.next_header()), a.payload(), io);
    b.finish()
}

/// A plain IP packet (inside a private network, before or after the tunnel).
pub fn plain_packet(packet: &[u8]) -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    pkt::ip_packet_parts(
        &mut b,
        packet,
        Protection::Plaintext.into(),
        Protection::Plaintext,
    );
    b.finish()
}

/// The fields of `fields` that fall in `start..end`, cut to it and moved to begin at `to`:
/// the description of one IPv4 fragment's share of the whole packet.
pub fn clip(fields: &[Field], start: usize, end: usize, to: usize) -> Vec<Field> {
    fields
        .iter()
        .filter(|f| f.start < end && f.end > start)
        .map(|f| {
            let s = f.start.max(start);
            let e = f.end.min(end);
            Field {
                start: s - start + to,
                end: e - start + to,
                children: clip(&f.children, s, e, s - start + to),
                ..f.clone()
            }
        })
        .collect()
}

/// A fragment of a packet described by `whole`: its own IPv4 header, then its share of
/// the original payload's fields.
pub fn fragment(fragment: &[u8], whole: &[Field]) -> Vec<Field> {
    let p = ipv4::Packet::new_unchecked(fragment);
    let mut b = FieldsBuilder::new(0);
    pkt::ipv4_header(
        &mut b,
        get(fragment, 0..ipv4::HEADER_LEN),
        Protection::Plaintext.into(),
    );
    let mut fields = b.finish();
    let start = ipv4::HEADER_LEN + p.frag_offset();
    let end = start + p.payload().len();
    // Everything after the original header: skip the whole packet's IPv4 header field.
    let body: Vec<Field> = whole
        .iter()
        .filter(|f| f.start >= ipv4::HEADER_LEN)
        .cloned()
        .collect();
    fields.extend(clip(&body, start, end, ipv4::HEADER_LEN));
    fields
}
