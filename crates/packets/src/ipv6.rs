//! IPv6 fixed header (RFC 8200 §3); extension headers are not parsed.
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Traffic Class |           Flow Label                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Payload Length        |  Next Header  |   Hop Limit   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Source Address (128 bits)             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Destination Address (128 bits)           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use crate::bytes::{array, get, put, put_u16, put_u32, put_u8, u16_at, u32_at, u8_at};
use crate::{Error, ErrorKind, IpProtocol, Ipv6Addr};

/// Byte ranges of the header.
pub mod field {
    use crate::Field;
    /// Version (4 bits), traffic class (8 bits), flow label (20 bits).
    pub const VER_TC_FLOW: Field = 0..4;
    /// Length of everything after this header.
    pub const LENGTH: Field = 4..6;
    /// Protocol of the next header.
    pub const NXT_HDR: usize = 6;
    /// Hop limit.
    pub const HOP_LIMIT: usize = 7;
    /// Source address.
    pub const SRC_ADDR: Field = 8..24;
    /// Destination address.
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// A view of an IPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// A view whose lengths have been checked.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// Checks that the header and the payload length fit.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < HEADER_LEN + usize::from(self.payload_len()) {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        Ok(())
    }
    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    /// Version (6).
    pub fn version(&self) -> u8 {
        u8_at(self.data(), 0) >> 4
    }
    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        ((u32_at(self.data(), field::VER_TC_FLOW) >> 20) & 0xff) as u8
    }
    /// Flow label.
    pub fn flow_label(&self) -> u32 {
        u32_at(self.data(), field::VER_TC_FLOW) & 0x000f_ffff
    }
    /// Payload length.
    pub fn payload_len(&self) -> u16 {
        u16_at(self.data(), field::LENGTH)
    }
    /// Next header.
    pub fn next_header(&self) -> IpProtocol {
        u8_at(self.data(), field::NXT_HDR).into()
    }
    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        u8_at(self.data(), field::HOP_LIMIT)
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.data(), field::SRC_ADDR))
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.data(), field::DST_ADDR))
    }
    /// The payload.
    pub fn payload(&self) -> &[u8] {
        get(
            self.data(),
            HEADER_LEN..HEADER_LEN + usize::from(self.payload_len()),
        )
    }
}

/// A high-level IPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next header.
    pub next_header: IpProtocol,
    /// Payload length.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
}

impl Repr {
    /// Reads a header of version 6.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self, Error> {
        p.check_len()?;
        if p.version() != 6 {
            return Err(Error::at(ErrorKind::Malformed, 0));
        }
        Ok(Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: usize::from(p.payload_len()),
            hop_limit: p.hop_limit(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
        })
    }
    /// Length of the emitted header.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// A whole packet: this header (`payload_len` set to `payload.len()`) and `payload`.
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let len = HEADER_LEN + payload.len();
        let mut buf = vec![0u8; len];
        let first =
            (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0x000f_ffff);
        put_u32(&mut buf, field::VER_TC_FLOW, first);
        put_u16(&mut buf, field::LENGTH, payload.len().min(0xffff) as u16);
        put_u8(&mut buf, field::NXT_HDR, self.next_header.into());
        put_u8(&mut buf, field::HOP_LIMIT, self.hop_limit);
        put(&mut buf, field::SRC_ADDR, &self.src_addr.octets());
        put(&mut buf, field::DST_ADDR, &self.dst_addr.octets());
        put(&mut buf, HEADER_LEN..len, payload);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An IPv6 header carrying 12 bytes of UDP, fe80::1 → ff02::1, as in smoltcp's tests.
    static PACKET_BYTES: [u8; 52] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00,
        0x0c, 0x02, 0x4e, 0xff, 0xff, 0xff, 0xff,
    ];

    fn repr() -> Repr {
        Repr {
            src_addr: "fe80::1".parse().unwrap(),
            dst_addr: "ff02::1".parse().unwrap(),
            next_header: IpProtocol::Udp,
            payload_len: 12,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0);
        assert_eq!(p.flow_label(), 0);
        assert_eq!(p.payload_len(), 12);
        assert_eq!(p.next_header(), IpProtocol::Udp);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr(), "fe80::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.payload(), &PACKET_BYTES[40..]);
        let ph = crate::checksum::PseudoHeader::V6 {
            src: p.src_addr(),
            dst: p.dst_addr(),
        };
        assert!(crate::udp::Packet::new_checked(p.payload())
            .unwrap()
            .verify_checksum(&ph));
    }

    #[test]
    fn construct() {
        assert_eq!(repr().packet(&PACKET_BYTES[40..]), PACKET_BYTES);
    }

    #[test]
    fn check_len() {
        for cut in 0..PACKET_BYTES.len() {
            assert_eq!(
                Packet::new_checked(&PACKET_BYTES[..cut]).unwrap_err().kind,
                ErrorKind::Truncated
            );
        }
    }

    #[test]
    fn parse() {
        assert_eq!(
            Repr::parse(&Packet::new_checked(&PACKET_BYTES[..]).unwrap()).unwrap(),
            repr()
        );
    }

    #[test]
    fn emit() {
        let r = Repr {
            traffic_class: 0xb8,
            flow_label: 0x12345,
            ..repr()
        };
        let b = r.packet(&PACKET_BYTES[40..]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.traffic_class(), p.flow_label()), (0xb8, 0x12345));
    }

    #[test]
    fn buffer_len() {
        assert_eq!(repr().buffer_len(), 40);
    }
}
