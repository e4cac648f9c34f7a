//! UDP (RFC 768).
//!
//! ```text
//!  0      7 8     15 16    23 24    31
//! +--------+--------+--------+--------+
//! |     Source      |   Destination   |
//! |      Port       |      Port       |
//! +--------+--------+--------+--------+
//! |     Length      |    Checksum     |
//! +--------+--------+--------+--------+
//! |          data octets ...
//! ```

use crate::bytes::{get, put, put_u16, u16_at};
use crate::checksum::PseudoHeader;
use crate::{Error, ErrorKind, IpProtocol};

/// Byte ranges of the header.
pub mod field {
    use crate::Field;
    /// Source port.
    pub const SRC_PORT: Field = 0..2;
    /// Destination port.
    pub const DST_PORT: Field = 2..4;
    /// Length of header and data.
    pub const LENGTH: Field = 4..6;
    /// Checksum over pseudo header, header and data; 0 means "not computed" (IPv4 only).
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// A view of a UDP datagram.
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
    /// Checks that the header fits and the length field fits the buffer.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        let l = usize::from(self.len());
        if l < HEADER_LEN {
            return Err(Error::at(ErrorKind::Malformed, field::LENGTH.start));
        }
        if l > len {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        Ok(())
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::DST_PORT)
    }
    /// Length field.
    pub fn len(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::LENGTH)
    }
    /// Whether the length field says there is no data.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// Whether the checksum is right (or absent: 0 over IPv4).
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> bool {
        if self.checksum() == 0 && matches!(ph, PseudoHeader::V4 { .. }) {
            return true;
        }
        ph.verify(
            IpProtocol::Udp,
            get(self.buffer.as_ref(), 0..usize::from(self.len())),
        )
    }
    /// The data.
    pub fn payload(&self) -> &[u8] {
        get(self.buffer.as_ref(), HEADER_LEN..usize::from(self.len()))
    }
}

/// How the checksum is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumMode {
    /// Computed over this pseudo header.
    Compute(PseudoHeader),
    /// Zero, "not computed" (allowed over IPv4; RFC 3948 §2.1 for ESP in UDP).
    Zero,
}

/// A high-level UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl Repr {
    /// Reads a header, checking the checksum under `ph`.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>, ph: &PseudoHeader) -> Result<Self, Error> {
        p.check_len()?;
        if !p.verify_checksum(ph) {
            return Err(Error::at(ErrorKind::Checksum, field::CHECKSUM.start));
        }
        Ok(Repr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
        })
    }
    /// Length of the emitted header.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// The whole datagram: header and `payload`, checksum per `mode`.
    pub fn emit(&self, payload: &[u8], mode: ChecksumMode) -> Vec<u8> {
        let len = HEADER_LEN + payload.len();
        let mut buf = vec![0u8; len];
        put_u16(&mut buf, field::SRC_PORT, self.src_port);
        put_u16(&mut buf, field::DST_PORT, self.dst_port);
        put_u16(&mut buf, field::LENGTH, len.min(0xffff) as u16);
        put(&mut buf, HEADER_LEN..len, payload);
        if let ChecksumMode::Compute(ph) = mode {
            let c = match ph.checksum(IpProtocol::Udp, &buf) {
                0 => 0xffff, // RFC 768: a computed zero is sent as all ones
                c => c,
            };
            put_u16(&mut buf, field::CHECKSUM, c);
        }
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ipv4Addr;

    /// The UDP datagram of draft-mcgrew-gcm-test-01 case 2 (DNS query 192.168.1.2 → .1).
    static PACKET_BYTES: [u8; 42] = [
        0x0a, 0x98, 0x00, 0x35, 0x00, 0x2a, 0x23, 0x43, 0xb2, 0xd0, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x73, 0x69, 0x70, 0x09, 0x63, 0x79, 0x62, 0x65, 0x72,
        0x63, 0x69, 0x74, 0x79, 0x02, 0x64, 0x6b, 0x00, 0x00, 0x01, 0x00, 0x01,
    ];

    fn ph() -> PseudoHeader {
        PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 168, 1, 2),
            dst: Ipv4Addr::new(192, 168, 1, 1),
        }
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.src_port(), 0x0a98);
        assert_eq!(p.dst_port(), 53);
        assert_eq!(p.len(), 42);
        assert_eq!(p.checksum(), 0x2343);
        assert!(p.verify_checksum(&ph()));
        assert_eq!(p.payload(), &PACKET_BYTES[8..]);
    }

    #[test]
    fn construct() {
        let r = Repr {
            src_port: 0x0a98,
            dst_port: 53,
        };
        assert_eq!(
            r.emit(&PACKET_BYTES[8..], ChecksumMode::Compute(ph())),
            PACKET_BYTES
        );
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
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(
            Repr::parse(&p, &ph()).unwrap(),
            Repr {
                src_port: 0x0a98,
                dst_port: 53
            }
        );
        let mut bad = PACKET_BYTES;
        bad[20] ^= 1;
        let e = Repr::parse(&Packet::new_unchecked(&bad[..]), &ph()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Checksum);
    }

    #[test]
    fn emit() {
        let r = Repr {
            src_port: 4500,
            dst_port: 4500,
        };
        let d = r.emit(b"x", ChecksumMode::Zero);
        assert_eq!(d, [0x11, 0x94, 0x11, 0x94, 0x00, 0x09, 0x00, 0x00, b'x']);
        assert!(Packet::new_checked(&d[..]).unwrap().verify_checksum(&ph()));
    }

    #[test]
    fn buffer_len() {
        assert_eq!(
            Repr {
                src_port: 1,
                dst_port: 2
            }
            .buffer_len(),
            8
        );
    }
}
