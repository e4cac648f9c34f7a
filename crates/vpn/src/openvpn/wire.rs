//! OpenVPN packets (TLS mode), as openvpn 2.6 puts them on the wire
//! (`ssl_pkt.h`, `reliable.c`, `ssl.c` of openvpn 2.6).
//!
//! ```text
//! control:  opcode<<3 | key_id (1) · session_id (8) · ack count n (1)
//!           · n × acked packet_id (4) · [remote session_id (8) if n > 0]
//!           · message packet_id (4, not in P_ACK_V1) · payload (TLS bytes)
//! data V2:  opcode<<3 | key_id (1) · peer_id (3) · packet_id (4) · tag (16) · ciphertext
//! data V1:  opcode<<3 | key_id (1) · packet_id (4) · tag (16) · ciphertext
//! TCP:      packet length (2, big endian) · packet
//! ```
//!
//! No panic: every read is bounds-checked, a wire length never sizes an allocation
//! beyond [`MAX_PACKET`].

/// P_CONTROL_HARD_RESET_CLIENT_V2: the client starts a session (key id 0).
pub const HARD_RESET_CLIENT_V2: u8 = 7;
/// P_CONTROL_HARD_RESET_SERVER_V2: the server's answer.
pub const HARD_RESET_SERVER_V2: u8 = 8;
/// P_CONTROL_SOFT_RESET_V1: a new key id (renegotiation).
pub const SOFT_RESET_V1: u8 = 3;
/// P_CONTROL_V1: reliable control channel, TLS bytes.
pub const CONTROL_V1: u8 = 4;
/// P_ACK_V1: acknowledgements only.
pub const ACK_V1: u8 = 5;
/// P_DATA_V1: data channel without peer id.
pub const DATA_V1: u8 = 6;
/// P_DATA_V2: data channel with a 24-bit peer id.
pub const DATA_V2: u8 = 9;
/// P_CONTROL_HARD_RESET_CLIENT_V3: the client's reset under tls-crypt-v2 (not spoken here).
pub const HARD_RESET_CLIENT_V3: u8 = 10;

/// At most this many packet ids in one ACK array (RELIABLE_ACK_SIZE).
pub const MAX_ACKS: usize = 8;
/// Largest packet accepted (tun MTU 1500 plus headers fit with room).
pub const MAX_PACKET: usize = 4096;

/// Why bytes are not an OpenVPN packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than the header needs.
    Truncated,
    /// An opcode openvpn 2.6 does not define.
    UnknownOpcode(u8),
    /// An ACK array longer than [`MAX_ACKS`].
    TooManyAcks(u8),
    /// A P_ACK_V1 with no ACK.
    EmptyAck,
    /// A TCP length prefix of 0 or past [`MAX_PACKET`].
    BadLength(u16),
}

/// One control packet (reset, P_CONTROL_V1, P_ACK_V1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// The opcode (upper five bits of the first byte).
    pub opcode: u8,
    /// The key id (lower three bits).
    pub key_id: u8,
    /// The sender's session id.
    pub session: [u8; 8],
    /// Packet ids the sender acknowledges.
    pub acks: Vec<u32>,
    /// Our session id as the sender echoes it (present iff `acks` is not empty).
    pub remote: Option<[u8; 8]>,
    /// This packet's own reliable id (none in P_ACK_V1).
    pub msg_id: Option<u32>,
    /// The payload (TLS bytes; empty for resets).
    pub payload: Vec<u8>,
}

/// A parsed packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Control channel.
    Control(Control),
    /// Data channel: `header` is opcode (and peer id for V2), `body` the rest.
    Data {
        /// The opcode (DATA_V1 or DATA_V2).
        opcode: u8,
        /// The key id.
        key_id: u8,
        /// The 24-bit peer id (V2).
        peer_id: Option<u32>,
        /// Header length: 1 (V1) or 4 (V2).
        header_len: usize,
    },
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

fn sid_at(b: &[u8], at: usize) -> Option<[u8; 8]> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut out = [0u8; 8];
    out.copy_from_slice(s);
    Some(out)
}

/// Parses one packet (without the TCP length).
pub fn parse(b: &[u8]) -> Result<Packet, WireError> {
    let first = *b.first().ok_or(WireError::Truncated)?;
    let (opcode, key_id) = (first >> 3, first & 7);
    match opcode {
        DATA_V1 => Ok(Packet::Data {
            opcode,
            key_id,
            peer_id: None,
            header_len: 1,
        }),
        DATA_V2 => {
            let [p0, p1, p2]: [u8; 3] = b
                .get(1..4)
                .and_then(|p| p.try_into().ok())
                .ok_or(WireError::Truncated)?;
            Ok(Packet::Data {
                opcode,
                key_id,
                peer_id: Some(u32::from_be_bytes([0, p0, p1, p2])),
                header_len: 4,
            })
        }
        HARD_RESET_CLIENT_V2 | HARD_RESET_SERVER_V2 | SOFT_RESET_V1 | CONTROL_V1 | ACK_V1 => {
            let session = sid_at(b, 1).ok_or(WireError::Truncated)?;
            let n = *b.get(9).ok_or(WireError::Truncated)?;
            if usize::from(n) > MAX_ACKS {
                return Err(WireError::TooManyAcks(n));
            }
            if opcode == ACK_V1 && n == 0 {
                return Err(WireError::EmptyAck);
            }
            let mut at = 10;
            let mut acks = Vec::with_capacity(usize::from(n));
            for _ in 0..n {
                acks.push(u32_at(b, at).ok_or(WireError::Truncated)?);
                at += 4;
            }
            let remote = if n > 0 {
                let r = sid_at(b, at).ok_or(WireError::Truncated)?;
                at += 8;
                Some(r)
            } else {
                None
            };
            let msg_id = if opcode == ACK_V1 {
                None
            } else {
                let id = u32_at(b, at).ok_or(WireError::Truncated)?;
                at += 4;
                Some(id)
            };
            Ok(Packet::Control(Control {
                opcode,
                key_id,
                session,
                acks,
                remote,
                msg_id,
                payload: b.get(at..).unwrap_or_default().to_vec(),
            }))
        }
        other => Err(WireError::UnknownOpcode(other)),
    }
}

impl Control {
    /// The packet's bytes (the caller keeps `acks` within [`MAX_ACKS`]; more are cut).
    pub fn emit(&self) -> Vec<u8> {
        let acks = self
            .acks
            .get(..self.acks.len().min(MAX_ACKS))
            .unwrap_or_default();
        let mut out = Vec::with_capacity(26 + 4 * acks.len() + self.payload.len());
        out.push(self.opcode << 3 | (self.key_id & 7));
        out.extend_from_slice(&self.session);
        out.push(acks.len() as u8);
        for a in acks {
            out.extend_from_slice(&a.to_be_bytes());
        }
        if !acks.is_empty() {
            out.extend_from_slice(&self.remote.unwrap_or_default());
        }
        if let Some(id) = self.msg_id {
            out.extend_from_slice(&id.to_be_bytes());
        }
        out.extend_from_slice(&self.payload);
        out
    }
}

/// The opcode's name as openvpn writes it.
pub fn opcode_name(op: u8) -> &'static str {
    match op {
        HARD_RESET_CLIENT_V2 => "P_CONTROL_HARD_RESET_CLIENT_V2",
        HARD_RESET_SERVER_V2 => "P_CONTROL_HARD_RESET_SERVER_V2",
        SOFT_RESET_V1 => "P_CONTROL_SOFT_RESET_V1",
        CONTROL_V1 => "P_CONTROL_V1",
        ACK_V1 => "P_ACK_V1",
        DATA_V1 => "P_DATA_V1",
        DATA_V2 => "P_DATA_V2",
        HARD_RESET_CLIENT_V3 => "P_CONTROL_HARD_RESET_CLIENT_V3",
        _ => "unknown",
    }
}

/// Prefixes a packet with its TCP length.
pub fn tcp_frame(packet: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(packet.len() + 2);
    out.extend_from_slice(&(packet.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(packet);
    out
}

/// Splits a TCP byte stream into packets.
#[derive(Debug, Default, Clone)]
pub struct TcpFramer {
    buf: Vec<u8>,
}

impl TcpFramer {
    /// Adds received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole packet; `Err` on a length openvpn refuses (the stream is then
    /// unusable: the caller closes it).
    pub fn next_packet(&mut self) -> Result<Option<Vec<u8>>, WireError> {
        let Some(l) = self.buf.get(..2).and_then(|l| <[u8; 2]>::try_from(l).ok()) else {
            return Ok(None);
        };
        let len = u16::from_be_bytes(l);
        if len == 0 || usize::from(len) > MAX_PACKET {
            self.buf.clear();
            return Err(WireError::BadLength(len));
        }
        let end = 2 + usize::from(len);
        if self.buf.len() < end {
            return Ok(None);
        }
        let p = self.buf.get(2..end).unwrap_or_default().to_vec();
        self.buf.drain(..end);
        Ok(Some(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctl(op: u8, acks: Vec<u32>, msg_id: Option<u32>, payload: &[u8]) -> Control {
        Control {
            opcode: op,
            key_id: 0,
            session: [1, 2, 3, 4, 5, 6, 7, 8],
            remote: (!acks.is_empty()).then_some([9; 8]),
            acks,
            msg_id,
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn control_round_trip() {
        for c in [
            ctl(HARD_RESET_CLIENT_V2, vec![], Some(0), b""),
            ctl(CONTROL_V1, vec![0, 1, 2], Some(5), b"\x16\x03\x01"),
            ctl(ACK_V1, vec![7], None, b""),
        ] {
            let bytes = c.emit();
            assert_eq!(parse(&bytes), Ok(Packet::Control(c)));
        }
    }

    #[test]
    fn hard_reset_layout() {
        let b = ctl(HARD_RESET_CLIENT_V2, vec![], Some(0), b"").emit();
        assert_eq!(b, [0x38, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn truncations_and_bad_headers_are_refused() {
        let full = ctl(CONTROL_V1, vec![0, 1], Some(5), b"").emit();
        for n in 0..full.len() {
            assert_eq!(parse(&full[..n]), Err(WireError::Truncated), "{n}");
        }
        let mut many = full.clone();
        many[9] = 9;
        assert_eq!(parse(&many), Err(WireError::TooManyAcks(9)));
        assert_eq!(
            parse(&[0x28, 1, 2, 3, 4, 5, 6, 7, 8, 0]),
            Err(WireError::EmptyAck)
        );
        assert_eq!(parse(&[0xf8]), Err(WireError::UnknownOpcode(31)));
        assert_eq!(parse(&[0x48, 0]), Err(WireError::Truncated));
        assert!(matches!(
            parse(&[0x48, 0, 0, 7, 1]),
            Ok(Packet::Data {
                peer_id: Some(7),
                header_len: 4,
                ..
            })
        ));
    }

    #[test]
    fn tcp_lengths() {
        let mut f = TcpFramer::default();
        f.push(&[0, 3, 1, 2]);
        assert_eq!(f.next_packet(), Ok(None));
        f.push(&[3, 0, 1, 9]);
        assert_eq!(f.next_packet(), Ok(Some(vec![1, 2, 3])));
        assert_eq!(f.next_packet(), Ok(Some(vec![9])));
        f.push(&[0xff, 0xff, 1]);
        assert_eq!(f.next_packet(), Err(WireError::BadLength(0xffff)));
        f.push(&[0, 0]);
        assert_eq!(f.next_packet(), Err(WireError::BadLength(0)));
        assert_eq!(tcp_frame(&[5]), vec![0, 1, 5]);
    }
}
