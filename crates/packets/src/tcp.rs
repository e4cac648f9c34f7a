//! TCP segments (RFC 9293 §3.1); options are carried as opaque bytes.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Source Port          |       Destination Port        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Sequence Number                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Acknowledgment Number                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Data |       |C|E|U|A|P|R|S|F|                               |
//! | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |         Urgent Pointer        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options (if Data Offset > 5)               |
//! ```

use crate::bytes::{get, put, put_u16, put_u32, u16_at, u32_at};
use crate::checksum::PseudoHeader;
use crate::{Error, ErrorKind, IpProtocol};

/// Byte ranges of the header.
pub mod field {
    use crate::Field;
    /// Source port.
    pub const SRC_PORT: Field = 0..2;
    /// Destination port.
    pub const DST_PORT: Field = 2..4;
    /// Sequence number of the first data byte.
    pub const SEQ_NUM: Field = 4..8;
    /// Next sequence number expected from the other side.
    pub const ACK_NUM: Field = 8..12;
    /// Data offset (4 bits), reserved bits and flags.
    pub const FLAGS: Field = 12..14;
    /// Receive window.
    pub const WIN_SIZE: Field = 14..16;
    /// Checksum over pseudo header, header and data.
    pub const CHECKSUM: Field = 16..18;
    /// Urgent pointer.
    pub const URGENT: Field = 18..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

/// FIN flag.
pub const FLAG_FIN: u16 = 0x001;
/// SYN flag.
pub const FLAG_SYN: u16 = 0x002;
/// RST flag.
pub const FLAG_RST: u16 = 0x004;
/// PSH flag.
pub const FLAG_PSH: u16 = 0x008;
/// ACK flag.
pub const FLAG_ACK: u16 = 0x010;
/// URG flag.
pub const FLAG_URG: u16 = 0x020;

/// A view of a TCP segment.
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
    /// Checks that the header, options included, fits.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(Error::at(ErrorKind::Malformed, field::FLAGS.start));
        }
        if hl > len {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        Ok(())
    }
    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        u16_at(self.data(), field::SRC_PORT)
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        u16_at(self.data(), field::DST_PORT)
    }
    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        u32_at(self.data(), field::SEQ_NUM)
    }
    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        u32_at(self.data(), field::ACK_NUM)
    }
    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(u16_at(self.data(), field::FLAGS) >> 12) * 4
    }
    /// The nine flag bits.
    pub fn flags(&self) -> u16 {
        u16_at(self.data(), field::FLAGS) & 0x01ff
    }
    /// Window.
    pub fn window_len(&self) -> u16 {
        u16_at(self.data(), field::WIN_SIZE)
    }
    /// Checksum.
    pub fn checksum(&self) -> u16 {
        u16_at(self.data(), field::CHECKSUM)
    }
    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        u16_at(self.data(), field::URGENT)
    }
    /// Option bytes.
    pub fn options(&self) -> &[u8] {
        get(self.data(), HEADER_LEN..self.header_len())
    }
    /// Whether the checksum is right under `ph`.
    pub fn verify_checksum(&self, ph: &PseudoHeader) -> bool {
        ph.verify(IpProtocol::Tcp, self.data())
    }
    /// Data after the header.
    pub fn payload(&self) -> &[u8] {
        get(self.data(), self.header_len()..self.data().len())
    }
}

/// A high-level TCP header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number (sent as is; meaningful when ACK is set).
    pub ack_number: u32,
    /// The nine flag bits.
    pub flags: u16,
    /// Window.
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
    /// Options, padded by the caller to a multiple of 4 bytes.
    pub options: Vec<u8>,
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
            seq_number: p.seq_number(),
            ack_number: p.ack_number(),
            flags: p.flags(),
            window_len: p.window_len(),
            urgent_at: p.urgent_at(),
            options: p.options().to_vec(),
        })
    }
    /// Length of the emitted header, options included.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.options.len().div_ceil(4) * 4
    }
    /// The whole segment with `payload`, checksum computed under `ph`.
    pub fn emit(&self, payload: &[u8], ph: &PseudoHeader) -> Vec<u8> {
        let hl = self.buffer_len();
        let mut buf = vec![0u8; hl + payload.len()];
        put_u16(&mut buf, field::SRC_PORT, self.src_port);
        put_u16(&mut buf, field::DST_PORT, self.dst_port);
        put_u32(&mut buf, field::SEQ_NUM, self.seq_number);
        put_u32(&mut buf, field::ACK_NUM, self.ack_number);
        put_u16(
            &mut buf,
            field::FLAGS,
            (((hl / 4) as u16) << 12) | (self.flags & 0x01ff),
        );
        put_u16(&mut buf, field::WIN_SIZE, self.window_len);
        put_u16(&mut buf, field::URGENT, self.urgent_at);
        put(&mut buf, HEADER_LEN..hl, &self.options);
        let len = buf.len();
        put(&mut buf, hl..len, payload);
        let c = ph.checksum(IpProtocol::Tcp, &buf);
        put_u16(&mut buf, field::CHECKSUM, c);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Ipv4Addr;

    // The segment of smoltcp's `wire::tcp` tests (192.168.1.1 → 192.168.1.2):
    // FIN|RST|ACK|URG, 4 bytes of data.
    static PACKET_BYTES: [u8; 24] = [
        0xbf, 0x00, 0x00, 0x50, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x50, 0x35, 0x01,
        0x23, 0x20, 0xbe, 0x02, 0x01, 0xaa, 0x00, 0x00, 0xff,
    ];

    fn ph() -> PseudoHeader {
        PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 168, 1, 1),
            dst: Ipv4Addr::new(192, 168, 1, 2),
        }
    }

    fn repr() -> Repr {
        Repr {
            src_port: 48896,
            dst_port: 80,
            seq_number: 0x01234567,
            ack_number: 0x89abcdef,
            flags: FLAG_FIN | FLAG_RST | FLAG_ACK | FLAG_URG,
            window_len: 0x0123,
            urgent_at: 0x0201,
            options: Vec::new(),
        }
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.src_port(), 48896);
        assert_eq!(p.dst_port(), 80);
        assert_eq!(p.seq_number(), 0x01234567);
        assert_eq!(p.ack_number(), 0x89abcdef);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.flags(), FLAG_FIN | FLAG_RST | FLAG_ACK | FLAG_URG);
        assert_eq!(p.window_len(), 0x0123);
        assert_eq!(p.checksum(), 0x20be);
        assert_eq!(p.urgent_at(), 0x0201);
        assert_eq!(p.payload(), &[0xaa, 0x00, 0x00, 0xff]);
        assert!(p.verify_checksum(&ph()));
    }

    #[test]
    fn construct() {
        assert_eq!(repr().emit(&PACKET_BYTES[20..], &ph()), PACKET_BYTES);
    }

    #[test]
    fn check_len() {
        for cut in 0..HEADER_LEN {
            assert_eq!(
                Packet::new_checked(&PACKET_BYTES[..cut]).unwrap_err().kind,
                ErrorKind::Truncated
            );
        }
        let mut bad = PACKET_BYTES;
        bad[12] = 0x70; // 28-byte header in a 24-byte buffer
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err().kind,
            ErrorKind::Truncated
        );
    }

    #[test]
    fn parse() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(Repr::parse(&p, &ph()).unwrap(), repr());
        let other = PseudoHeader::V4 {
            src: Ipv4Addr::new(192, 168, 1, 9),
            dst: Ipv4Addr::new(192, 168, 1, 2),
        };
        assert_eq!(
            Repr::parse(&p, &other).unwrap_err().kind,
            ErrorKind::Checksum
        );
    }

    #[test]
    fn emit() {
        let r = Repr {
            options: vec![0x02, 0x04, 0x05, 0xb4],
            ..repr()
        };
        let s = r.emit(b"GET", &ph());
        let p = Packet::new_checked(&s[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.options(), &[0x02, 0x04, 0x05, 0xb4]);
        assert_eq!(p.payload(), b"GET");
        assert!(p.verify_checksum(&ph()));
    }

    #[test]
    fn buffer_len() {
        assert_eq!(repr().buffer_len(), 20);
        assert_eq!(
            Repr {
                options: vec![1],
                ..repr()
            }
            .buffer_len(),
            24
        );
    }
}
