//! IPv4 (RFC 791), without options.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |Type of Service|          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |Flags|      Fragment Offset    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use crate::bytes::{array, get, put, put_u16, put_u8, u16_at, u8_at};
use crate::{checksum, Error, ErrorKind, IpProtocol, Ipv4Addr};

/// Byte ranges of the header.
pub mod field {
    use crate::Field;
    /// Version (4 bits) and header length in 32-bit words (4 bits).
    pub const VER_IHL: usize = 0;
    /// DSCP (6 bits) and ECN (2 bits), the old type of service.
    pub const DSCP_ECN: usize = 1;
    /// Total length of header and payload.
    pub const LENGTH: Field = 2..4;
    /// Identification, shared by the fragments of one packet.
    pub const IDENT: Field = 4..6;
    /// Flags (reserved, DF, MF) and fragment offset in 8-byte units.
    pub const FLG_OFF: Field = 6..8;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Protocol of the payload.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: Field = 10..12;
    /// Source address.
    pub const SRC_ADDR: Field = 12..16;
    /// Destination address.
    pub const DST_ADDR: Field = 16..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// A view of an IPv4 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without checks.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// A view whose lengths have been checked ([`Packet::check_len`]).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the header and the total length fit the buffer.
    pub fn check_len(&self) -> Result<(), Error> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        if self.header_len() < HEADER_LEN {
            return Err(Error::at(ErrorKind::Malformed, field::VER_IHL));
        }
        let total = usize::from(self.total_len());
        if total < self.header_len() {
            return Err(Error::at(ErrorKind::Malformed, field::LENGTH.start));
        }
        if len < total {
            return Err(Error::at(ErrorKind::Truncated, len));
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Version field (4 for IPv4).
    pub fn version(&self) -> u8 {
        u8_at(self.data(), field::VER_IHL) >> 4
    }
    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(u8_at(self.data(), field::VER_IHL) & 0x0f) * 4
    }
    /// DSCP and ECN byte.
    pub fn dscp_ecn(&self) -> u8 {
        u8_at(self.data(), field::DSCP_ECN)
    }
    /// Total length.
    pub fn total_len(&self) -> u16 {
        u16_at(self.data(), field::LENGTH)
    }
    /// Identification.
    pub fn ident(&self) -> u16 {
        u16_at(self.data(), field::IDENT)
    }
    /// Don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        u16_at(self.data(), field::FLG_OFF) & FLAG_DF != 0
    }
    /// More-fragments flag.
    pub fn more_frags(&self) -> bool {
        u16_at(self.data(), field::FLG_OFF) & FLAG_MF != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> usize {
        usize::from(u16_at(self.data(), field::FLG_OFF) & OFFSET_MASK) * 8
    }
    /// Time to live.
    pub fn ttl(&self) -> u8 {
        u8_at(self.data(), field::TTL)
    }
    /// Protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        u8_at(self.data(), field::PROTOCOL).into()
    }
    /// Header checksum as sent.
    pub fn checksum(&self) -> u16 {
        u16_at(self.data(), field::CHECKSUM)
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.data(), field::SRC_ADDR))
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.data(), field::DST_ADDR))
    }
    /// Whether the header checksum is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(get(self.data(), 0..self.header_len())) == 0
    }
    /// The payload, up to the total length.
    pub fn payload(&self) -> &[u8] {
        get(
            self.data(),
            self.header_len()..usize::from(self.total_len()),
        )
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Recomputes the header checksum (after a NAT or a router changed the header).
    pub fn fill_checksum(&mut self) {
        let hl = self.header_len();
        let data = self.buffer.as_mut();
        put_u16(data, field::CHECKSUM, 0);
        let c = checksum::checksum(get(data, 0..hl));
        put_u16(data, field::CHECKSUM, c);
    }
    /// Sets the source address (checksum not updated).
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        put(self.buffer.as_mut(), field::SRC_ADDR, &a.octets());
    }
    /// Sets the destination address (checksum not updated).
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        put(self.buffer.as_mut(), field::DST_ADDR, &a.octets());
    }
    /// Sets the time to live (checksum not updated).
    pub fn set_ttl(&mut self, ttl: u8) {
        put_u8(self.buffer.as_mut(), field::TTL, ttl);
    }
    /// The payload, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.header_len()..usize::from(self.total_len());
        self.buffer.as_mut().get_mut(range).unwrap_or(&mut [])
    }
}

/// A high-level IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub ident: u16,
    /// DSCP and ECN byte.
    pub dscp_ecn: u8,
    /// Don't-fragment flag.
    pub dont_frag: bool,
    /// More-fragments flag.
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: usize,
}

impl Repr {
    /// An unfragmented packet header with TTL 64.
    pub fn new(
        src_addr: Ipv4Addr,
        dst_addr: Ipv4Addr,
        protocol: IpProtocol,
        payload_len: usize,
        ident: u16,
    ) -> Self {
        Repr {
            src_addr,
            dst_addr,
            protocol,
            payload_len,
            ttl: 64,
            ident,
            dscp_ecn: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        }
    }

    /// Reads a header: version 4, no options, checksum right.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Self, Error> {
        p.check_len()?;
        if p.version() != 4 {
            return Err(Error::at(ErrorKind::Malformed, field::VER_IHL));
        }
        if p.header_len() != HEADER_LEN {
            return Err(Error::at(ErrorKind::Unsupported, field::VER_IHL));
        }
        if !p.verify_checksum() {
            return Err(Error::at(ErrorKind::Checksum, field::CHECKSUM.start));
        }
        Ok(Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: usize::from(p.total_len()).saturating_sub(HEADER_LEN),
            ttl: p.ttl(),
            ident: p.ident(),
            dscp_ecn: p.dscp_ecn(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
        })
    }

    /// Length of the emitted header.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header, checksum included, into the start of `p`'s buffer.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        let data = p.buffer.as_mut();
        put_u8(data, field::VER_IHL, 0x45);
        put_u8(data, field::DSCP_ECN, self.dscp_ecn);
        put_u16(
            data,
            field::LENGTH,
            (HEADER_LEN + self.payload_len).min(0xffff) as u16,
        );
        put_u16(data, field::IDENT, self.ident);
        let mut flg = ((self.frag_offset / 8) as u16) & OFFSET_MASK;
        if self.dont_frag {
            flg |= FLAG_DF;
        }
        if self.more_frags {
            flg |= FLAG_MF;
        }
        put_u16(data, field::FLG_OFF, flg);
        put_u8(data, field::TTL, self.ttl);
        put_u8(data, field::PROTOCOL, self.protocol.into());
        put(data, field::SRC_ADDR, &self.src_addr.octets());
        put(data, field::DST_ADDR, &self.dst_addr.octets());
        p.fill_checksum();
    }

    /// A whole packet: this header (its `payload_len` set to `payload.len()`) and `payload`.
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let repr = Repr {
            payload_len: payload.len(),
            ..*self
        };
        let mut buf = vec![0u8; HEADER_LEN + payload.len()];
        put(&mut buf, HEADER_LEN..HEADER_LEN + payload.len(), payload);
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        buf
    }
}

/// Splits an IPv4 packet into fragments of at most `mtu` bytes (RFC 791 §3.2):
/// every fragment but the last carries a multiple of 8 payload bytes and MF set.
/// A packet that fits is returned whole. `Unsupported` if DF is set and it does not fit,
/// `Malformed` if `mtu` leaves fewer than 8 payload bytes per fragment.
pub fn fragment(packet: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, Error> {
    let p = Packet::new_checked(packet)?;
    let repr = Repr::parse(&p)?;
    let total = usize::from(p.total_len());
    if total <= mtu {
        return Ok(vec![get(packet, 0..total).to_vec()]);
    }
    if repr.dont_frag {
        return Err(Error::at(ErrorKind::Unsupported, field::FLG_OFF.start));
    }
    let per = (mtu.saturating_sub(HEADER_LEN) / 8) * 8;
    if per == 0 {
        return Err(Error::at(ErrorKind::Malformed, 0));
    }
    let payload = p.payload();
    let mut out = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let end = (at + per).min(payload.len());
        let piece = get(payload, at..end);
        let r = Repr {
            frag_offset: repr.frag_offset + at,
            more_frags: end < payload.len() || repr.more_frags,
            ..repr
        };
        out.push(r.packet(piece));
        at = end;
    }
    Ok(out)
}

/// Joins fragments of one packet (same identification, any order) back into it.
pub fn reassemble(fragments: &[Vec<u8>]) -> Result<Vec<u8>, Error> {
    let mut parts = Vec::new();
    for f in fragments {
        let p = Packet::new_checked(f.as_slice())?;
        let r = Repr::parse(&p)?;
        parts.push((r, p.payload().to_vec()));
    }
    parts.sort_by_key(|(r, _)| r.frag_offset);
    let first = parts
        .first()
        .map(|(r, _)| *r)
        .ok_or(Error::at(ErrorKind::Truncated, 0))?;
    let mut payload = Vec::new();
    let mut last_more = true;
    for (r, data) in &parts {
        if r.frag_offset != payload.len() || r.ident != first.ident || r.src_addr != first.src_addr
        {
            return Err(Error::at(ErrorKind::Malformed, field::FLG_OFF.start));
        }
        payload.extend_from_slice(data);
        last_more = r.more_frags;
    }
    if last_more || payload.len() + HEADER_LEN > 0xffff {
        return Err(Error::at(ErrorKind::Truncated, field::FLG_OFF.start));
    }
    Ok(Repr {
        more_frags: false,
        frag_offset: 0,
        ..first
    }
    .packet(&payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inner packet of draft-mcgrew-gcm-test-01 case 2: IPv4/UDP DNS query,
    /// 192.168.1.2 → 192.168.1.1.
    static PACKET_BYTES: [u8; 62] = [
        0x45, 0x00, 0x00, 0x3e, 0x69, 0x8f, 0x00, 0x00, 0x80, 0x11, 0x4d, 0xcc, 0xc0, 0xa8, 0x01,
        0x02, 0xc0, 0xa8, 0x01, 0x01, 0x0a, 0x98, 0x00, 0x35, 0x00, 0x2a, 0x23, 0x43, 0xb2, 0xd0,
        0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x73, 0x69, 0x70, 0x09,
        0x63, 0x79, 0x62, 0x65, 0x72, 0x63, 0x69, 0x74, 0x79, 0x02, 0x64, 0x6b, 0x00, 0x00, 0x01,
        0x00, 0x01,
    ];

    fn repr() -> Repr {
        Repr {
            ttl: 128,
            ..Repr::new(
                Ipv4Addr::new(192, 168, 1, 2),
                Ipv4Addr::new(192, 168, 1, 1),
                IpProtocol::Udp,
                42,
                0x698f,
            )
        }
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 62);
        assert_eq!(p.ident(), 0x698f);
        assert!(!p.dont_frag() && !p.more_frags());
        assert_eq!(p.ttl(), 128);
        assert_eq!(p.protocol(), IpProtocol::Udp);
        assert_eq!(p.checksum(), 0x4dcc);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 1, 2));
        assert!(p.verify_checksum());
        assert_eq!(p.payload().len(), 42);
    }

    #[test]
    fn construct() {
        let mut buf = PACKET_BYTES;
        buf[..20].fill(0);
        repr().emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, PACKET_BYTES);
    }

    #[test]
    fn check_len() {
        for cut in 0..PACKET_BYTES.len() {
            assert_eq!(
                Packet::new_checked(&PACKET_BYTES[..cut]).unwrap_err().kind,
                ErrorKind::Truncated
            );
        }
        let mut bad = PACKET_BYTES;
        bad[0] = 0x44;
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err().kind,
            ErrorKind::Malformed
        );
    }

    #[test]
    fn parse() {
        let p = Packet::new_checked(&PACKET_BYTES[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap(), repr());
        let mut bad = PACKET_BYTES;
        bad[15] ^= 1;
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&bad[..]))
                .unwrap_err()
                .kind,
            ErrorKind::Checksum
        );
    }

    #[test]
    fn emit() {
        assert_eq!(repr().packet(&PACKET_BYTES[20..]), PACKET_BYTES);
    }

    #[test]
    fn buffer_len() {
        assert_eq!(repr().buffer_len(), 20);
    }

    #[test]
    fn fragments_are_aligned_and_reassemble() {
        let payload: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let whole = repr().packet(&payload);
        let frags = fragment(&whole, 300).unwrap();
        assert_eq!(frags.len(), 4);
        for f in &frags {
            assert!(f.len() <= 300);
            let p = Packet::new_checked(&f[..]).unwrap();
            assert!(p.verify_checksum());
            assert_eq!(p.frag_offset() % 8, 0);
        }
        let mut reversed = frags.clone();
        reversed.reverse();
        assert_eq!(reassemble(&reversed).unwrap(), whole);
        assert!(reassemble(&frags[..3]).is_err());
        assert_eq!(fragment(&whole, 2000).unwrap(), vec![whole]);
    }
}
