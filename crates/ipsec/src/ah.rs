//! AH security associations for IPv4 (RFC 4302 §3.3.3): HMAC-SHA-256-128 (RFC 4868) over
//! the IP header with its mutable fields zeroed, the AH header with a zero ICV, and the
//! payload. Addresses are immutable and covered, which is why a NAT breaks AH.

use cipherstage_packets::ipv4;
use ring::hmac;

use crate::replay::ReplayWindow;
use crate::wire::ah::{self, HEADER_LEN};
use crate::Discard;

/// Length of an HMAC-SHA-256 key.
pub const KEY_LEN: usize = 32;

/// One direction of AH protection.
pub struct AhSa {
    spi: u32,
    key: hmac::Key,
    sent: u32,
    window: ReplayWindow,
}

impl core::fmt::Debug for AhSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AhSa")
            .field("spi", &self.spi)
            .field("sent", &self.sent)
            .finish()
    }
}

/// An AH-protected packet and where the AH header sits in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// IPv4 header (protocol 51) ‖ AH ‖ original payload.
    pub bytes: Vec<u8>,
    /// The sequence number used.
    pub sequence: u32,
}

impl AhSa {
    /// An SA with a 32-byte key.
    pub fn new(spi: u32, key: &[u8]) -> Result<Self, Discard> {
        if key.len() != KEY_LEN {
            return Err(Discard::KeyLength);
        }
        Ok(AhSa {
            spi,
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
            sent: 0,
            window: ReplayWindow::new(),
        })
    }

    /// Its SPI.
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// Inserts AH after the IPv4 header of `packet` (transport mode).
    pub fn protect(&mut self, packet: &[u8]) -> Result<Protected, Discard> {
        let p = ipv4::Packet::new_checked(packet).map_err(Discard::Ip)?;
        let repr = ipv4::Repr::parse(&p).map_err(Discard::Ip)?;
        let sequence = self.sent.checked_add(1).ok_or(Discard::SequenceExhausted)?;
        let header = ah::Repr {
            next_header: repr.protocol.into(),
            spi: self.spi,
            sequence,
            icv: [0; 16],
        };
        let mut body = header.emit().to_vec();
        body.extend_from_slice(p.payload());
        let outer = ipv4::Repr {
            protocol: cipherstage_packets::IpProtocol::Ah,
            ..repr
        };
        let mut bytes = outer.packet(&body);
        let icv = self.icv(&bytes);
        let at = ipv4::HEADER_LEN + ah::field::ICV.start;
        if let Some(dst) = bytes.get_mut(at..at + 16) {
            dst.copy_from_slice(&icv);
        }
        self.sent = sequence;
        Ok(Protected { bytes, sequence })
    }

    /// Checks an AH packet: IP header, SPI, window, ICV. Returns the packet without AH.
    pub fn verify(&mut self, packet: &[u8]) -> Result<Vec<u8>, Discard> {
        let p = ipv4::Packet::new_checked(packet).map_err(Discard::Ip)?;
        let repr = ipv4::Repr::parse(&p).map_err(Discard::Ip)?;
        let a = ah::Packet::new_checked(p.payload()).map_err(Discard::Decode)?;
        let header = ah::Repr::parse(&a).map_err(Discard::Decode)?;
        if header.spi != self.spi {
            return Err(Discard::UnknownSpi(header.spi));
        }
        self.window
            .check(header.sequence)
            .map_err(|_| Discard::Replay(header.sequence))?;
        let expected = self.icv(packet.get(..usize::from(p.total_len())).unwrap_or(packet));
        // Constant-time comparison: a timing difference would tell a forger how many bytes match.
        let diff = expected
            .iter()
            .zip(header.icv.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y));
        if diff != 0 {
            return Err(Discard::IcvMismatch);
        }
        self.window.accept(header.sequence);
        let inner = ipv4::Repr {
            protocol: header.next_header.into(),
            ..repr
        };
        Ok(inner.packet(a.payload()))
    }

    /// The ICV of an IPv4 packet carrying AH: mutable header fields and the ICV zeroed.
    pub fn icv(&self, packet: &[u8]) -> [u8; 16] {
        let mut copy = packet.to_vec();
        for f in [
            ipv4::field::DSCP_ECN..ipv4::field::DSCP_ECN + 1,
            ipv4::field::FLG_OFF,
            ipv4::field::TTL..ipv4::field::TTL + 1,
            ipv4::field::CHECKSUM,
            ipv4::HEADER_LEN + ah::field::ICV.start..ipv4::HEADER_LEN + ah::field::ICV.end,
        ] {
            if let Some(b) = copy.get_mut(f) {
                b.fill(0);
            }
        }
        let tag = hmac::sign(&self.key, &copy);
        let mut icv = [0u8; 16];
        for (d, s) in icv.iter_mut().zip(tag.as_ref()) {
            *d = *s;
        }
        icv
    }
}

/// Bytes AH adds to a packet.
pub const OVERHEAD: usize = HEADER_LEN;
