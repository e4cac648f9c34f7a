//! What every byte of a packet means, as transcript fields.
//!
//! Each function lays out leaves for one header from its bytes (which may have been
//! tampered with: nothing here panics, short input gives short fields). Keys are
//! `pkt.field.<proto>.<name>` for names and `pkt.explain.<proto>.<name>` for
//! explanations; the app translates them.

use cipherstage_transcript::{FieldsBuilder, Protection, Value};

use crate::bytes::get;
use crate::{icmpv4, ipv4, ipv6, tcp, udp, IpProtocol};

/// How the bytes of an IP header are protected: most fields, and the fields a router
/// may change in flight (AH leaves those out of its ICV, RFC 4302 §3.3.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderProtection {
    /// Fields that do not change on the way.
    pub fixed: Protection,
    /// TOS/DSCP, flags and fragment offset, TTL, header checksum.
    pub mutable: Protection,
}

impl From<Protection> for HeaderProtection {
    fn from(p: Protection) -> Self {
        HeaderProtection {
            fixed: p,
            mutable: p,
        }
    }
}

fn leaf(
    b: &mut FieldsBuilder,
    proto: &str,
    name: &str,
    len: usize,
    value: Option<Value>,
    p: Protection,
) {
    b.leaf(
        &format!("pkt.field.{proto}.{name}"),
        len,
        value,
        &format!("pkt.explain.{proto}.{name}"),
        p,
    );
}

fn uint(v: impl Into<u64>) -> Option<Value> {
    Some(Value::Uint(v.into()))
}

fn hex16(v: u16) -> Option<Value> {
    Some(Value::Text(format!("0x{v:04x}")))
}

fn text(s: String) -> Option<Value> {
    Some(Value::Text(s))
}

/// A field counted in `unit`-byte units: the value as sent and in bytes ("5 ×4 = 20 B").
fn in_units(raw: usize, unit: usize) -> String {
    format!("{raw} ×{unit} = {} B", raw * unit)
}

/// An IPv4 header (20 bytes) as a group `pkt.field.ipv4`.
pub fn ipv4_header(b: &mut FieldsBuilder, header: &[u8], prot: HeaderProtection) {
    let p = ipv4::Packet::new_unchecked(header);
    let (f, m) = (prot.fixed, prot.mutable);
    b.group("pkt.field.ipv4", "pkt.explain.ipv4", f, |b| {
        leaf(
            b,
            "ipv4",
            "version_ihl",
            1,
            text(format!(
                "{} / {}",
                p.version(),
                in_units(p.header_len() / 4, 4)
            )),
            f,
        );
        // One byte, two fields (RFC 2474 §3, RFC 3168 §5): the byte as sent, then its bits.
        let tos = p.dscp_ecn();
        let split = format!("0x{tos:02x}: DSCP {}, ECN {}", tos >> 2, tos & 0b11);
        leaf(b, "ipv4", "dscp_ecn", 1, text(split), m);
        leaf(b, "ipv4", "total_length", 2, uint(p.total_len()), f);
        leaf(b, "ipv4", "ident", 2, hex16(p.ident()), f);
        let mut flags = Vec::new();
        if p.dont_frag() {
            flags.push("DF");
        }
        if p.more_frags() {
            flags.push("MF");
        }
        let flags = if flags.is_empty() {
            "-".to_owned()
        } else {
            flags.join(" ")
        };
        leaf(
            b,
            "ipv4",
            "flags_fragment",
            2,
            text(format!("{flags}, {}", in_units(p.frag_offset() / 8, 8))),
            m,
        );
        leaf(b, "ipv4", "ttl", 1, uint(p.ttl()), m);
        leaf(
            b,
            "ipv4",
            "protocol",
            1,
            Some(Value::Key(p.protocol().key())),
            f,
        );
        leaf(b, "ipv4", "checksum", 2, hex16(p.checksum()), m);
        leaf(b, "ipv4", "src", 4, text(p.src_addr().to_string()), f);
        leaf(b, "ipv4", "dst", 4, text(p.dst_addr().to_string()), f);
    });
}

/// An IPv6 fixed header (40 bytes) as a group `pkt.field.ipv6`.
pub fn ipv6_header(b: &mut FieldsBuilder, header: &[u8], prot: HeaderProtection) {
    let p = ipv6::Packet::new_unchecked(header);
    let (f, m) = (prot.fixed, prot.mutable);
    b.group("pkt.field.ipv6", "pkt.explain.ipv6", f, |b| {
        let first = format!(
            "{} / {} / 0x{:05x}",
            p.version(),
            p.traffic_class(),
            p.flow_label()
        );
        leaf(b, "ipv6", "version_class_flow", 4, text(first), m);
        leaf(b, "ipv6", "payload_length", 2, uint(p.payload_len()), f);
        leaf(
            b,
            "ipv6",
            "next_header",
            1,
            Some(Value::Key(p.next_header().key())),
            f,
        );
        leaf(b, "ipv6", "hop_limit", 1, uint(p.hop_limit()), m);
        leaf(b, "ipv6", "src", 16, text(p.src_addr().to_string()), f);
        leaf(b, "ipv6", "dst", 16, text(p.dst_addr().to_string()), f);
    });
}

/// A UDP header (8 bytes) as a group `pkt.field.udp`.
pub fn udp_header(b: &mut FieldsBuilder, segment: &[u8], prot: Protection) {
    let p = udp::Packet::new_unchecked(segment);
    b.group("pkt.field.udp", "pkt.explain.udp", prot, |b| {
        leaf(b, "udp", "src_port", 2, uint(p.src_port()), prot);
        leaf(b, "udp", "dst_port", 2, uint(p.dst_port()), prot);
        leaf(b, "udp", "length", 2, uint(p.len()), prot);
        let name = if p.checksum() == 0 {
            "checksum_zero"
        } else {
            "checksum"
        };
        leaf(b, "udp", name, 2, hex16(p.checksum()), prot);
    });
}

/// Names of the set TCP flags, in the order tcpdump prints them.
pub fn tcp_flag_names(flags: u16) -> String {
    let names = [
        (tcp::FLAG_SYN, "SYN"),
        (tcp::FLAG_FIN, "FIN"),
        (tcp::FLAG_RST, "RST"),
        (tcp::FLAG_PSH, "PSH"),
        (tcp::FLAG_ACK, "ACK"),
        (tcp::FLAG_URG, "URG"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
    set.join(" ")
}

/// A TCP header (options included) as a group `pkt.field.tcp`.
pub fn tcp_header(b: &mut FieldsBuilder, segment: &[u8], prot: Protection) {
    let p = tcp::Packet::new_unchecked(segment);
    let hl = p
        .header_len()
        .clamp(tcp::HEADER_LEN, segment.len().max(tcp::HEADER_LEN));
    b.group("pkt.field.tcp", "pkt.explain.tcp", prot, |b| {
        leaf(b, "tcp", "src_port", 2, uint(p.src_port()), prot);
        leaf(b, "tcp", "dst_port", 2, uint(p.dst_port()), prot);
        leaf(b, "tcp", "seq", 4, uint(p.seq_number()), prot);
        leaf(b, "tcp", "ack", 4, uint(p.ack_number()), prot);
        leaf(
            b,
            "tcp",
            "offset_flags",
            2,
            text(format!(
                "{} / {}",
                in_units(p.header_len() / 4, 4),
                tcp_flag_names(p.flags())
            )),
            prot,
        );
        leaf(b, "tcp", "window", 2, uint(p.window_len()), prot);
        leaf(b, "tcp", "checksum", 2, hex16(p.checksum()), prot);
        leaf(b, "tcp", "urgent", 2, uint(p.urgent_at()), prot);
        if hl > tcp::HEADER_LEN {
            leaf(b, "tcp", "options", hl - tcp::HEADER_LEN, None, prot);
        }
    });
}

/// An ICMPv4 echo header (8 bytes) as a group `pkt.field.icmp`.
pub fn icmpv4_header(b: &mut FieldsBuilder, message: &[u8], prot: Protection) {
    let p = icmpv4::Packet::new_unchecked(message);
    b.group("pkt.field.icmp", "pkt.explain.icmp", prot, |b| {
        let kind = match p.msg_type() {
            icmpv4::TYPE_ECHO_REQUEST => "pkt.icmp.echo_request",
            icmpv4::TYPE_ECHO_REPLY => "pkt.icmp.echo_reply",
            _ => "pkt.icmp.other",
        };
        leaf(b, "icmp", "type", 1, Some(Value::Key(kind.into())), prot);
        leaf(b, "icmp", "code", 1, uint(p.code()), prot);
        leaf(b, "icmp", "checksum", 2, hex16(p.checksum()), prot);
        leaf(b, "icmp", "ident", 2, hex16(p.ident()), prot);
        leaf(b, "icmp", "seq", 2, uint(p.seq()), prot);
    });
}

/// Application data as a leaf `pkt.field.payload`, shown as text when it reads as text.
pub fn payload(b: &mut FieldsBuilder, data: &[u8], prot: Protection) {
    if data.is_empty() {
        return;
    }
    let readable = core::str::from_utf8(data).ok().map(|s| s.to_owned());
    leaf(
        b,
        "data",
        "payload",
        data.len(),
        readable.map(Value::Text),
        prot,
    );
}

/// The transport part of an IP packet (`segment` is the IP payload): its header and data.
pub fn transport(b: &mut FieldsBuilder, protocol: IpProtocol, segment: &[u8], prot: Protection) {
    let header_len = match protocol {
        IpProtocol::Tcp if segment.len() >= tcp::HEADER_LEN => {
            let hl = tcp::Packet::new_unchecked(segment).header_len();
            if hl >= tcp::HEADER_LEN && hl <= segment.len() {
                tcp_header(b, segment, prot);
                hl
            } else {
                0
            }
        }
        IpProtocol::Udp if segment.len() >= udp::HEADER_LEN => {
            udp_header(b, segment, prot);
            udp::HEADER_LEN
        }
        IpProtocol::Icmp if segment.len() >= icmpv4::HEADER_LEN => {
            icmpv4_header(b, segment, prot);
            icmpv4::HEADER_LEN
        }
        _ => 0,
    };
    payload(b, get(segment, header_len..segment.len()), prot);
}

/// A whole IPv4 or IPv6 packet (header, transport header, data) as a group
/// `pkt.field.ip_packet`; bytes that do not parse become one payload leaf.
pub fn ip_packet(b: &mut FieldsBuilder, packet: &[u8], prot: HeaderProtection, inner: Protection) {
    b.group(
        "pkt.field.ip_packet",
        "pkt.explain.ip_packet",
        prot.fixed,
        |b| {
            ip_packet_parts(b, packet, prot, inner);
        },
    );
}

/// The parts of [`ip_packet`] without the enclosing group.
pub fn ip_packet_parts(
    b: &mut FieldsBuilder,
    packet: &[u8],
    prot: HeaderProtection,
    inner: Protection,
) {
    match packet.first().map(|v| v >> 4) {
        Some(4) if packet.len() >= ipv4::HEADER_LEN => {
            let p = ipv4::Packet::new_unchecked(packet);
            ipv4_header(b, get(packet, 0..ipv4::HEADER_LEN), prot);
            let rest = get(packet, ipv4::HEADER_LEN..packet.len());
            if p.frag_offset() == 0 {
                transport(b, p.protocol(), rest, inner);
            } else {
                payload(b, rest, inner);
            }
        }
        Some(6) if packet.len() >= ipv6::HEADER_LEN => {
            let p = ipv6::Packet::new_unchecked(packet);
            ipv6_header(b, get(packet, 0..ipv6::HEADER_LEN), prot);
            transport(
                b,
                p.next_header(),
                get(packet, ipv6::HEADER_LEN..packet.len()),
                inner,
            );
        }
        _ => payload(b, packet, inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(fields: &[cipherstage_transcript::Field]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for f in fields {
            if let Some(Value::Text(t)) = &f.value {
                out.push((f.name.clone(), t.clone()));
            }
            out.extend(values(&f.children));
        }
        out
    }

    fn value_of(fields: &[cipherstage_transcript::Field], name: &str) -> String {
        values(fields)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    #[test]
    fn fields_in_other_units_show_the_value_as_sent_and_in_bytes() {
        // IPv4, IHL 5, MF set, fragment offset 185 (× 8 = 1480 bytes).
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[6..8].copy_from_slice(&(0x2000u16 | 185).to_be_bytes());
        let mut b = FieldsBuilder::new(0);
        ipv4_header(&mut b, &ip, Protection::Plaintext.into());
        let f = b.finish();
        assert_eq!(
            value_of(&f, "pkt.field.ipv4.version_ihl"),
            "4 / 5 ×4 = 20 B"
        );
        assert_eq!(
            value_of(&f, "pkt.field.ipv4.flags_fragment"),
            "MF, 185 ×8 = 1480 B"
        );
        ip[1] = 0xb9; // DSCP 46 (EF), ECN 1
        let mut b = FieldsBuilder::new(0);
        ipv4_header(&mut b, &ip, Protection::Plaintext.into());
        let f = b.finish();
        assert_eq!(
            value_of(&f, "pkt.field.ipv4.dscp_ecn"),
            "0xb9: DSCP 46, ECN 1"
        );

        // TCP, Data Offset 8 words (32 bytes: 12 of options), PSH ACK.
        let mut tcp = [0u8; 32];
        tcp[12..14].copy_from_slice(&(0x8000u16 | 0x18).to_be_bytes());
        let mut b = FieldsBuilder::new(0);
        tcp_header(&mut b, &tcp, Protection::Plaintext);
        let f = b.finish();
        assert_eq!(
            value_of(&f, "pkt.field.tcp.offset_flags"),
            "8 ×4 = 32 B / PSH ACK"
        );
    }
}
