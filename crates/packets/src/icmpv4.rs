//! ICMPv4 echo request and reply (RFC 792), the bytes of a ping.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Identifier          |        Sequence Number        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Data ...
//! ```

use crate::bytes::{get, put, put_u16, put_u8, u16_at, u8_at};
use crate::{checksum, Error, ErrorKind};

/// Byte ranges of the header.
pub mod field {
    use crate::Field;
    /// Message type.
    pub const TYPE: usize = 0;
    /// Code.
    pub const CODE: usize = 1;
    /// Checksum over the whole message.
    pub const CHECKSUM: Field = 2..4;
    /// Echo identifier.
    pub const IDENT: Field = 4..6;
    /// Echo sequence number.
    pub const SEQ: Field = 6..8;
}

/// Length of an echo header.
pub const HEADER_LEN: usize = field::SEQ.end;
/// Type of an echo reply.
pub const TYPE_ECHO_REPLY: u8 = 0x00;
/// Type of an echo request.
pub const TYPE_ECHO_REQUEST: u8 = 0x08;

/// A view of an ICMPv4 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }
    /// A view whose length has been checked.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// Checks that the echo header fits.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        Ok(())
    }
    /// Message type.
    pub fn msg_type(&self) -> u8 {
        u8_at(self.buffer.as_ref(), field::TYPE)
    }
    /// Code.
    pub fn code(&self) -> u8 {
        u8_at(self.buffer.as_ref(), field::CODE)
    }
    /// Checksum.
    pub fn checksum(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// Echo identifier.
    pub fn ident(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::IDENT)
    }
    /// Echo sequence number.
    pub fn seq(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::SEQ)
    }
    /// Whether the checksum is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.buffer.as_ref()) == 0
    }
    /// Echo data.
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        get(b, HEADER_LEN..b.len())
    }
}

/// A high-level echo message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Request (`true`) or reply.
    pub request: bool,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
}

impl Repr {
    /// Reads an echo request or reply, checking the checksum.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self, Error> {
        p.check_len()?;
        let request = match p.msg_type() {
            TYPE_ECHO_REQUEST => true,
            TYPE_ECHO_REPLY => false,
            _ => return Err(Error::at(ErrorKind::Unsupported, field::TYPE)),
        };
        if p.code() != 0 {
            return Err(Error::at(ErrorKind::Malformed, field::CODE));
        }
        if !p.verify_checksum() {
            return Err(Error::at(ErrorKind::Checksum, field::CHECKSUM.start));
        }
        Ok(Repr {
            request,
            ident: p.ident(),
            seq: p.seq(),
        })
    }
    /// Length of the emitted header.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// The whole message with `data`, checksum computed.
    pub fn emit(&self, data: &[u8]) -> Vec<u8> {
        let len = HEADER_LEN + data.len();
        let mut buf = vec![0u8; len];
        put_u8(
            &mut buf,
            field::TYPE,
            if self.request {
                TYPE_ECHO_REQUEST
            } else {
                TYPE_ECHO_REPLY
            },
        );
        put_u16(&mut buf, field::IDENT, self.ident);
        put_u16(&mut buf, field::SEQ, self.seq);
        put(&mut buf, HEADER_LEN..len, data);
        let c = checksum::checksum(&buf);
        put_u16(&mut buf, field::CHECKSUM, c);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ping inside RFC 7634 Appendix A's ESP packet (echo request, id 0x3a08, seq 0).
    static PACKET_BYTES: [u8; 64] = [
        0x08, 0x00, 0x5b, 0x7a, 0x3a, 0x08, 0x00, 0x00, 0x55, 0x3b, 0xec, 0x10, 0x00, 0x07, 0x36,
        0x27, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
        0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37,
    ];
    const REPR: Repr = Repr {
        request: true,
        ident: 0x3a08,
        seq: 0,
    };

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.msg_type(), TYPE_ECHO_REQUEST);
        assert_eq!(p.code(), 0);
        assert_eq!(p.checksum(), 0x5b7a);
        assert_eq!(p.ident(), 0x3a08);
        assert_eq!(p.seq(), 0);
        assert!(p.verify_checksum());
        assert_eq!(p.data().len(), 56);
    }

    #[test]
    fn construct() {
        assert_eq!(REPR.emit(&PACKET_BYTES[8..]), PACKET_BYTES);
    }

    #[test]
    fn check_len() {
        for cut in 0..HEADER_LEN {
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
        bad[40] ^= 0x80;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&bad[..]))
                .unwrap_err()
                .kind,
            ErrorKind::Checksum
        );
    }

    #[test]
    fn emit() {
        let reply = Repr {
            request: false,
            ..REPR
        }
        .emit(&PACKET_BYTES[8..]);
        assert_eq!(reply[0], TYPE_ECHO_REPLY);
        assert!(Packet::new_checked(&reply[..]).unwrap().verify_checksum());
    }

    #[test]
    fn buffer_len() {
        assert_eq!(REPR.buffer_len(), 8);
    }
}
