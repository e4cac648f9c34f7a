//! The Internet checksum (RFC 1071): the ones' complement of the ones' complement
//! sum of 16-bit words, and the pseudo headers of UDP and TCP (RFC 768, RFC 793,
//! RFC 8200 §8.1).

use crate::{IpProtocol, Ipv4Addr, Ipv6Addr};

/// The ones' complement sum of `data` as 16-bit big-endian words (odd byte padded with 0),
/// not yet folded or complemented.
pub fn sum(data: &[u8]) -> u32 {
    let mut acc: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        let w = u16::from_be_bytes([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ]);
        acc = acc.wrapping_add(u32::from(w));
    }
    if let Some(&last) = chunks.remainder().first() {
        acc = acc.wrapping_add(u32::from(last) << 8);
    }
    acc
}

/// Folds a sum to 16 bits and complements it.
pub fn finish(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The checksum of `data` alone (IPv4 header, ICMPv4).
pub fn checksum(data: &[u8]) -> u16 {
    finish(sum(data))
}

/// The addresses a transport checksum covers besides its own bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PseudoHeader {
    /// RFC 768 / RFC 793: source, destination, zero, protocol, length.
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
    },
    /// RFC 8200 §8.1: source, destination, 32-bit length, three zeros, next header.
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
    },
}

impl PseudoHeader {
    /// The sum of the pseudo header for a transport segment of `len` bytes.
    pub fn sum(&self, protocol: IpProtocol, len: usize) -> u32 {
        let proto = u32::from(u8::from(protocol));
        match self {
            PseudoHeader::V4 { src, dst } => sum(&src.octets())
                .wrapping_add(sum(&dst.octets()))
                .wrapping_add(proto)
                .wrapping_add(len as u32),
            PseudoHeader::V6 { src, dst } => sum(&src.octets())
                .wrapping_add(sum(&dst.octets()))
                .wrapping_add((len as u32) >> 16)
                .wrapping_add((len as u32) & 0xffff)
                .wrapping_add(proto),
        }
    }

    /// The checksum of `segment` (its checksum field zeroed) under this pseudo header.
    pub fn checksum(&self, protocol: IpProtocol, segment: &[u8]) -> u16 {
        finish(self.sum(protocol, segment.len()).wrapping_add(sum(segment)))
    }

    /// Whether `segment`, checksum field included, sums to all ones.
    pub fn verify(&self, protocol: IpProtocol, segment: &[u8]) -> bool {
        self.checksum(protocol, segment) == 0
    }
}
