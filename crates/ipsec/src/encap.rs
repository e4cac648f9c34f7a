//! ESP encapsulation (RFC 4303 §3.1): transport mode, tunnel mode, UDP encapsulation
//! for NAT traversal (RFC 3948 §2.1), and the overhead arithmetic that follows.

use cipherstage_packets::{ipv4, tcp, udp, IpProtocol, Ipv4Addr};
use cipherstage_transcript::Field;

use crate::describe;
use crate::sa::{Algorithm, EspSa};
use crate::Discard;

/// ESP's two ways of carrying a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The original IP header stays; its payload is protected (host to host).
    Transport,
    /// The whole packet is protected inside a new outer IP header (gateway to gateway).
    Tunnel,
}

impl Mode {
    /// Stable id (`transport`, `tunnel`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Transport => "transport",
            Mode::Tunnel => "tunnel",
        }
    }
}

/// An outer packet carrying ESP, with its field tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encapsulated {
    /// The outer IPv4 packet.
    pub packet: Vec<u8>,
    /// Every byte of it explained.
    pub fields: Vec<Field>,
}

/// Transport mode (RFC 4303 §3.1.1): the packet's own header, protocol 50, then ESP
/// around its payload, sealed on `sa` with `iv`.
pub fn transport(sa: &mut EspSa, inner: &[u8], iv: [u8; 8]) -> Result<Encapsulated, Discard> {
    let ip = ipv4::Packet::new_unchecked(inner);
    let repr = ipv4::Packet::new_checked(inner)
        .and_then(|p| ipv4::Repr::parse(&p))
        .map_err(Discard::Ip)?;
    let sealed = sa.seal(repr.protocol.into(), ip.payload(), iv)?;
    let packet = ipv4::Repr {
        protocol: IpProtocol::Esp,
        ..repr
    }
    .packet(&sealed.bytes);
    let fields = describe::esp_packet(&packet, ip.payload(), sealed.trailer);
    Ok(Encapsulated { packet, fields })
}

/// Tunnel mode (RFC 4303 §3.1.2): a new outer header from `src` to `dst` (with IP
/// identification `ident`), ESP around the whole packet; inside UDP port 4500 when
/// `udp_encap` (RFC 3948 §2.1: both ports 4500, checksum 0).
pub fn tunnel(
    sa: &mut EspSa,
    inner: &[u8],
    iv: [u8; 8],
    (src, dst): (Ipv4Addr, Ipv4Addr),
    ident: u16,
    udp_encap: bool,
) -> Result<Encapsulated, Discard> {
    let sealed = sa.seal(IpProtocol::Ipv4.into(), inner, iv)?;
    let packet = if udp_encap {
        let u = udp::Repr {
            src_port: 4500,
            dst_port: 4500,
        }
        .emit(&sealed.bytes, udp::ChecksumMode::Zero);
        ipv4::Repr::new(src, dst, IpProtocol::Udp, u.len(), ident).packet(&u)
    } else {
        ipv4::Repr::new(src, dst, IpProtocol::Esp, sealed.bytes.len(), ident).packet(&sealed.bytes)
    };
    let fields = describe::esp_packet(&packet, inner, sealed.trailer);
    Ok(Encapsulated { packet, fields })
}

/// The ESP part of a received outer packet (after UDP if encapsulated).
pub fn esp_part(packet: &[u8]) -> &[u8] {
    let ip = ipv4::Packet::new_unchecked(packet);
    let mut start = ip.header_len();
    if ip.protocol() == IpProtocol::Udp {
        start += udp::HEADER_LEN;
    }
    let end = usize::from(ip.total_len()).min(packet.len());
    packet.get(start..end).unwrap_or(&[])
}

/// ESP packet length for an inner packet of `inner_len` bytes (IPv4 header included).
pub fn esp_len(alg: Algorithm, mode: Mode, inner_len: usize, udp_encap: bool) -> usize {
    let protected = match mode {
        Mode::Transport => inner_len.saturating_sub(ipv4::HEADER_LEN),
        Mode::Tunnel => inner_len,
    };
    ipv4::HEADER_LEN
        + protected
        + alg.overhead(protected)
        + if udp_encap { udp::HEADER_LEN } else { 0 }
}

/// The largest TCP payload whose ESP packet still fits `mtu` unfragmented.
pub fn max_payload(alg: Algorithm, mode: Mode, mtu: usize, udp_encap: bool) -> usize {
    let headers = ipv4::HEADER_LEN + tcp::HEADER_LEN;
    (0..=mtu)
        .rev()
        .find(|n| esp_len(alg, mode, headers + n, udp_encap) <= mtu)
        .unwrap_or(0)
}
