//! Internet packets, enough to build real inner packets for IPsec: an HTTP request
//! in TCP, a ping in ICMP, a DNS query in UDP, over IPv4 or IPv6.
//!
//! Written in the smoltcp `wire` style: each protocol has a `Packet<T>` view with one
//! accessor per field, a `Repr` with `parse` / `buffer_len` / `emit`, and a `mod field`
//! of named byte ranges, which is exactly what the transcript needs to explain bytes.
//!
//! ## The no-panic contract
//! `Packet::new_checked` checks every length the accessors rely on; after it returns
//! `Ok`, no accessor panics. `Repr::emit` into a buffer of at least `buffer_len()` bytes
//! never panics (and, into a shorter one, writes what fits without panicking).
//! Accessors read through `get`, never by indexing, so even a `new_unchecked` view of
//! a short buffer returns zeros instead of panicking.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod checksum;
pub mod describe;
pub mod icmpv4;
pub mod ipv4;
pub mod ipv6;
pub mod pcapng;
pub mod tcp;
pub mod udp;

mod bytes;

pub use std::net::{Ipv4Addr, Ipv6Addr};

/// A range of bytes inside a header.
pub type Field = core::ops::Range<usize>;

/// Why bytes could not be read as a packet, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// What is wrong.
    pub kind: ErrorKind,
    /// The byte offset where it was noticed.
    pub offset: usize,
}

/// What is wrong with a packet's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fewer bytes than a header or length field requires.
    Truncated,
    /// A field holds a value this protocol forbids (a version, a length).
    Malformed,
    /// The checksum does not match the bytes.
    Checksum,
    /// Valid, but not supported here (IPv4 options, other ICMP types …).
    Unsupported,
}

impl Error {
    pub(crate) fn at(kind: ErrorKind, offset: usize) -> Self {
        Error { kind, offset }
    }
}

/// The IP protocol number / IPv6 next header (IANA "Assigned Internet Protocol Numbers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpProtocol {
    /// 0x01, ICMP.
    Icmp,
    /// 0x04, IPv4 in IP (an ESP tunnel's next header for an IPv4 inner packet).
    Ipv4,
    /// 0x06, TCP.
    Tcp,
    /// 0x11, UDP.
    Udp,
    /// 0x29, IPv6 in IP.
    Ipv6,
    /// 0x32, IPsec Encapsulating Security Payload.
    Esp,
    /// 0x33, IPsec Authentication Header.
    Ah,
    /// 0x3a, ICMPv6.
    Icmpv6,
    /// Any other number, kept as is.
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        match v {
            0x01 => IpProtocol::Icmp,
            0x04 => IpProtocol::Ipv4,
            0x06 => IpProtocol::Tcp,
            0x11 => IpProtocol::Udp,
            0x29 => IpProtocol::Ipv6,
            0x32 => IpProtocol::Esp,
            0x33 => IpProtocol::Ah,
            0x3a => IpProtocol::Icmpv6,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::Icmp => 0x01,
            IpProtocol::Ipv4 => 0x04,
            IpProtocol::Tcp => 0x06,
            IpProtocol::Udp => 0x11,
            IpProtocol::Ipv6 => 0x29,
            IpProtocol::Esp => 0x32,
            IpProtocol::Ah => 0x33,
            IpProtocol::Icmpv6 => 0x3a,
            IpProtocol::Unknown(v) => v,
        }
    }
}

impl IpProtocol {
    /// Stable short name (`tcp`, `esp`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            IpProtocol::Icmp => "icmp",
            IpProtocol::Ipv4 => "ipv4",
            IpProtocol::Tcp => "tcp",
            IpProtocol::Udp => "udp",
            IpProtocol::Ipv6 => "ipv6",
            IpProtocol::Esp => "esp",
            IpProtocol::Ah => "ah",
            IpProtocol::Icmpv6 => "icmpv6",
            IpProtocol::Unknown(_) => "unknown",
        }
    }

    /// Transcript key of this protocol as a field value (`pkt.proto.tcp`).
    pub fn key(self) -> String {
        format!("pkt.proto.{}", self.as_str())
    }
}
