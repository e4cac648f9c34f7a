//! The ESP packet (RFC 4303 §2) with an 8-byte explicit IV (RFC 4106 §3, RFC 7634 §3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
//! |               Security Parameters Index (SPI)                 | ^Int.
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
//! |                      Sequence Number                          | |ered
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
//! |                    Payload Data* (variable)                   | |   ^
//! ~                                                               ~ |   |
//! |                                                               | |Conf.
//! +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
//! |               |     Padding (0-255 bytes)                     | |ered*
//! +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
//! |                               |  Pad Length   | Next Header   | v   v
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
//! |         Integrity Check Value-ICV   (variable)                |
//! ~                                                               ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! With the AEADs here, Payload Data begins with the 8-byte IV and the ICV is 16 bytes.

use super::u32_at;
use crate::{Error, ErrorKind};

/// Byte ranges of the header.
pub mod field {
    /// A range of bytes.
    pub type Field = core::ops::Range<usize>;
    /// Security Parameters Index: which SA the receiver must use.
    pub const SPI: Field = 0..4;
    /// Sequence number (low 32 bits; no extended sequence numbers here).
    pub const SEQUENCE: Field = 4..8;
    /// Explicit IV of RFC 4106 / RFC 7634.
    pub const IV: Field = 8..16;
    /// Where the ciphertext starts.
    pub const CIPHERTEXT: usize = 16;
}

/// Length of SPI, sequence number and IV.
pub const HEADER_LEN: usize = field::CIPHERTEXT;
/// Length of the ICV (a 16-byte AEAD tag).
pub const ICV_LEN: usize = 16;
/// Length of pad length and next header.
pub const TRAILER_LEN: usize = 2;

/// A view of an ESP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// A view checked to hold a header, a trailer's worth of ciphertext and an ICV.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// Checks the minimum length: header, at least 2 bytes of ciphertext, ICV.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN + TRAILER_LEN + ICV_LEN {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        Ok(())
    }
    /// SPI.
    pub fn spi(&self) -> u32 {
        u32_at(self.buffer.as_ref(), field::SPI)
    }
    /// Sequence number.
    pub fn sequence(&self) -> u32 {
        u32_at(self.buffer.as_ref(), field::SEQUENCE)
    }
    /// Explicit IV.
    pub fn iv(&self) -> [u8; 8] {
        let mut iv = [0u8; 8];
        iv.copy_from_slice(self.buffer.as_ref().get(field::IV).unwrap_or(&[0; 8]));
        iv
    }
    /// SPI and sequence number: the AEAD's additional data (RFC 4106 §5).
    pub fn aad(&self) -> &[u8] {
        self.buffer.as_ref().get(0..field::IV.start).unwrap_or(&[])
    }
    /// Ciphertext followed by the ICV.
    pub fn ciphertext_and_icv(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        b.get(field::CIPHERTEXT..).unwrap_or(&[])
    }
}

/// The high-level ESP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// SPI.
    pub spi: u32,
    /// Sequence number.
    pub sequence: u32,
    /// Explicit IV.
    pub iv: [u8; 8],
}

impl Repr {
    /// Reads the header; SPI values 1–255 are reserved (RFC 4303 §2.1) and rejected.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self, Error> {
        p.check_len()?;
        if p.spi() < 256 {
            return Err(Error::at(ErrorKind::Malformed, field::SPI.start));
        }
        Ok(Repr {
            spi: p.spi(),
            sequence: p.sequence(),
            iv: p.iv(),
        })
    }
    /// Length of the emitted header.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Writes SPI, sequence number and IV into the first 16 bytes of `buf` (what fits).
    pub fn emit(&self, buf: &mut [u8]) {
        let mut h = [0u8; HEADER_LEN];
        h[field::SPI].copy_from_slice(&self.spi.to_be_bytes());
        h[field::SEQUENCE].copy_from_slice(&self.sequence.to_be_bytes());
        h[field::IV].copy_from_slice(&self.iv);
        for (d, s) in buf.iter_mut().zip(h) {
            *d = s;
        }
    }
}

/// Padding, pad length and next header, read from the end of a decrypted payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Number of padding bytes.
    pub pad_len: u8,
    /// Protocol of the payload (4 = a whole IPv4 packet, tunnel mode).
    pub next_header: u8,
}

impl Trailer {
    /// The padding needed for `payload_len` bytes so payload, padding and trailer end on a
    /// 4-byte boundary (RFC 4303 §2.4; the AEADs here have a block size of 1).
    pub fn pad_for(payload_len: usize) -> u8 {
        ((4 - (payload_len + TRAILER_LEN) % 4) % 4) as u8
    }

    /// Splits a decrypted plaintext into payload and trailer, checking the default
    /// padding 1, 2, 3 … (RFC 4303 §2.4).
    pub fn split(plaintext: &[u8]) -> Result<(&[u8], Trailer), Error> {
        let n = plaintext.len();
        let (&pad_len, &next_header) = match plaintext.get(n.saturating_sub(2)..) {
            Some([p, h]) => (p, h),
            _ => return Err(Error::at(ErrorKind::Truncated, n)),
        };
        let pad_start = n
            .checked_sub(TRAILER_LEN + usize::from(pad_len))
            .ok_or(Error::at(ErrorKind::Malformed, n.saturating_sub(2)))?;
        let padding = plaintext.get(pad_start..n - TRAILER_LEN).unwrap_or(&[]);
        for (i, b) in padding.iter().enumerate() {
            if usize::from(*b) != i + 1 {
                return Err(Error::at(ErrorKind::Malformed, pad_start + i));
            }
        }
        let payload = plaintext.get(..pad_start).unwrap_or(&[]);
        Ok((
            payload,
            Trailer {
                pad_len,
                next_header,
            },
        ))
    }

    /// Appends padding and this trailer to `payload`.
    pub fn append_to(&self, payload: &mut Vec<u8>) {
        payload.extend(1..=self.pad_len);
        payload.push(self.pad_len);
        payload.push(self.next_header);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header of RFC 7634 Appendix A's ESP packet (SPI 0x01020304, SN 5) and
    /// enough ciphertext and ICV to be well formed.
    static PACKET_BYTES: [u8; 34] = [
        0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x05, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
        0x17, 0x24, 0x03, 0x94, 0x28, 0xb9, 0x7f, 0x41, 0x7e, 0x3c, 0x13, 0x75, 0x3a, 0x4f, 0x05,
        0x08, 0x7b, 0x67, 0xc3,
    ];
    const REPR: Repr = Repr {
        spi: 0x01020304,
        sequence: 5,
        iv: [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17],
    };

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.spi(), 0x01020304);
        assert_eq!(p.sequence(), 5);
        assert_eq!(p.iv(), REPR.iv);
        assert_eq!(p.aad(), &PACKET_BYTES[..8]);
        assert_eq!(p.ciphertext_and_icv(), &PACKET_BYTES[16..]);
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 16];
        REPR.emit(&mut buf);
        assert_eq!(buf, PACKET_BYTES[..16]);
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
        let mut reserved = PACKET_BYTES;
        reserved[..4].copy_from_slice(&[0, 0, 0, 0xff]);
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&reserved[..]))
                .unwrap_err()
                .kind,
            ErrorKind::Malformed
        );
    }

    #[test]
    fn emit() {
        let mut short = [0u8; 5];
        REPR.emit(&mut short); // writes what fits, no panic
        assert_eq!(short, PACKET_BYTES[..5]);
    }

    #[test]
    fn buffer_len() {
        assert_eq!(REPR.buffer_len(), 16);
    }

    #[test]
    fn trailer_round_trips_and_rejects_bad_padding() {
        // RFC 7634 Appendix A: 84-byte inner packet, padding 01 02, pad length 2, next header 4.
        assert_eq!(Trailer::pad_for(84), 2);
        assert_eq!(Trailer::pad_for(62), 0);
        let t = Trailer {
            pad_len: 2,
            next_header: 4,
        };
        let mut v = vec![0xaa; 84];
        t.append_to(&mut v);
        assert_eq!(&v[84..], &[1, 2, 2, 4]);
        assert_eq!(Trailer::split(&v).unwrap(), (&[0xaa; 84][..], t));
        v[84] = 9;
        assert_eq!(Trailer::split(&v).unwrap_err().kind, ErrorKind::Malformed);
        assert_eq!(
            Trailer::split(&[5, 4]).unwrap_err().kind,
            ErrorKind::Malformed
        );
        assert_eq!(Trailer::split(&[4]).unwrap_err().kind, ErrorKind::Truncated);
    }
}
