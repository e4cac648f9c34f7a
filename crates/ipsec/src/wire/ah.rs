//! The Authentication Header (RFC 4302 §2) with a 16-byte ICV (HMAC-SHA-256-128, RFC 4868).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Header   |  Payload Len  |          RESERVED             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Security Parameters Index (SPI)               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Sequence Number Field                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                Integrity Check Value-ICV (variable)           |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Payload Len is the AH length in 32-bit words minus 2: (12 + 16) / 4 − 2 = 5.

use super::u32_at;
use crate::{Error, ErrorKind};

/// Byte ranges of the header.
pub mod field {
    /// A range of bytes.
    pub type Field = core::ops::Range<usize>;
    /// Protocol of what follows AH.
    pub const NEXT_HEADER: usize = 0;
    /// AH length in 32-bit words, minus 2.
    pub const PAYLOAD_LEN: usize = 1;
    /// Reserved, zero.
    pub const RESERVED: Field = 2..4;
    /// Security Parameters Index.
    pub const SPI: Field = 4..8;
    /// Sequence number.
    pub const SEQUENCE: Field = 8..12;
    /// Integrity check value.
    pub const ICV: Field = 12..28;
}

/// Length of the header with a 16-byte ICV.
pub const HEADER_LEN: usize = field::ICV.end;
/// Payload Len of such a header.
pub const PAYLOAD_LEN: u8 = (HEADER_LEN / 4 - 2) as u8;

/// A view of an AH header (and what follows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// A view checked to hold a whole header of the length it states.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// Checks the header fits.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        Ok(())
    }
    /// Next header.
    pub fn next_header(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(field::NEXT_HEADER)
            .copied()
            .unwrap_or(0)
    }
    /// Payload Len field.
    pub fn payload_len(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(field::PAYLOAD_LEN)
            .copied()
            .unwrap_or(0)
    }
    /// SPI.
    pub fn spi(&self) -> u32 {
        u32_at(self.buffer.as_ref(), field::SPI)
    }
    /// Sequence number.
    pub fn sequence(&self) -> u32 {
        u32_at(self.buffer.as_ref(), field::SEQUENCE)
    }
    /// ICV.
    pub fn icv(&self) -> &[u8] {
        self.buffer.as_ref().get(field::ICV).unwrap_or(&[])
    }
    /// What AH protects after itself.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

/// The high-level AH header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Next header.
    pub next_header: u8,
    /// SPI.
    pub spi: u32,
    /// Sequence number.
    pub sequence: u32,
    /// ICV.
    pub icv: [u8; 16],
}

impl Repr {
    /// Reads a header with a 16-byte ICV.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self, Error> {
        p.check_len()?;
        if p.payload_len() != PAYLOAD_LEN {
            return Err(Error::at(ErrorKind::Malformed, field::PAYLOAD_LEN));
        }
        if p.spi() < 256 {
            return Err(Error::at(ErrorKind::Malformed, field::SPI.start));
        }
        let mut icv = [0u8; 16];
        icv.copy_from_slice(p.icv());
        Ok(Repr {
            next_header: p.next_header(),
            spi: p.spi(),
            sequence: p.sequence(),
            icv,
        })
    }
    /// Length of the emitted header.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// The header's bytes.
    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[field::NEXT_HEADER] = self.next_header;
        h[field::PAYLOAD_LEN] = PAYLOAD_LEN;
        h[field::SPI].copy_from_slice(&self.spi.to_be_bytes());
        h[field::SEQUENCE].copy_from_slice(&self.sequence.to_be_bytes());
        h[field::ICV].copy_from_slice(&self.icv);
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static PACKET_BYTES: [u8; 28] = [
        0x06, 0x05, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x02,
        0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    ];
    const REPR: Repr = Repr {
        next_header: 6,
        spi: 0x1001,
        sequence: 1,
        icv: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    };

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.next_header(), 6);
        assert_eq!(p.payload_len(), 5);
        assert_eq!(p.spi(), 0x1001);
        assert_eq!(p.sequence(), 1);
        assert_eq!(p.icv(), &REPR.icv);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn construct() {
        assert_eq!(REPR.emit(), PACKET_BYTES);
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
            REPR
        );
        let mut bad = PACKET_BYTES;
        bad[1] = 4;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&bad[..]))
                .unwrap_err()
                .kind,
            ErrorKind::Malformed
        );
    }

    #[test]
    fn emit() {
        assert_eq!(REPR.emit().len(), REPR.buffer_len());
    }

    #[test]
    fn buffer_len() {
        assert_eq!(REPR.buffer_len(), 28);
        assert_eq!(PAYLOAD_LEN, 5);
    }
}
