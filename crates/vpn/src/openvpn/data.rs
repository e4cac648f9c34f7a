//! The data channel (openvpn 2.6 `crypto.c`, AEAD mode).
//!
//! Keys: with `key-derivation tls-ekm`, 256 bytes from the TLS exporter with label
//! `EXPORTER-OpenVPN-datakeys` and no context form `struct key2`: two `struct key`
//! of 64 cipher bytes then 64 HMAC bytes. The client encrypts with key 0 and the
//! server with key 1 (KEY_DIRECTION_NORMAL / INVERSE). An AEAD cipher uses the first
//! 32 bytes of the cipher part as its key and the first 8 bytes of the HMAC part as
//! the implicit IV; the 12-byte nonce is packet_id (4) ‖ implicit IV (8).
//!
//! ```text
//! P_DATA_V2: op|key_id (1) · peer_id (3) · packet_id (4) · tag (16) · ciphertext
//! AD = op|key_id · peer_id · packet_id     (P_DATA_V1: AD = packet_id)
//! ```

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};

/// The TLS exporter label openvpn 2.6 uses for data-channel keys.
pub const EKM_LABEL: &[u8] = b"EXPORTER-OpenVPN-datakeys";
/// Bytes exported: `sizeof(struct key2.keys)`.
pub const EKM_LEN: usize = 256;
/// The keepalive ping payload (`ping.c`).
pub const PING: [u8; 16] = [
    0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb, 0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48,
];
/// The OCC magic (`occ.c`); OCC_EXIT (6) after it is explicit-exit-notify.
pub const OCC_MAGIC: [u8; 16] = [
    0x28, 0x7f, 0x34, 0x6b, 0xd4, 0xef, 0x7a, 0x81, 0x2d, 0x56, 0xb8, 0xd3, 0xaf, 0xc5, 0x45, 0x9c,
];
/// OCC message type "exit".
pub const OCC_EXIT: u8 = 6;
/// Packets older than this many behind the newest are refused (replay window).
pub const REPLAY_WINDOW: u32 = 64;
const TAG: usize = 16;

/// A data-channel cipher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    /// AES-256-GCM.
    Aes256Gcm,
    /// CHACHA20-POLY1305.
    Chacha20Poly1305,
}

impl Cipher {
    /// The name openvpn uses.
    pub fn name(self) -> &'static str {
        match self {
            Cipher::Aes256Gcm => "AES-256-GCM",
            Cipher::Chacha20Poly1305 => "CHACHA20-POLY1305",
        }
    }

    /// From openvpn's name (case-insensitive, as openvpn compares).
    pub fn from_name(s: &str) -> Option<Cipher> {
        [Cipher::Aes256Gcm, Cipher::Chacha20Poly1305]
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
    }

    fn alg(self) -> &'static aead::Algorithm {
        match self {
            Cipher::Aes256Gcm => &aead::AES_256_GCM,
            Cipher::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// Why a data packet was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataError {
    /// Shorter than header, packet id and tag.
    Truncated,
    /// The tag did not verify.
    BadTag,
    /// A packet id already seen or older than the window.
    Replay(u32),
    /// Our packet id would wrap.
    Exhausted,
}

/// One direction's key: the AEAD key and the implicit IV.
pub struct DirectionKey {
    key: LessSafeKey,
    implicit_iv: [u8; 8],
}

impl core::fmt::Debug for DirectionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DirectionKey")
    }
}

impl DirectionKey {
    /// From one 128-byte `struct key` (cipher[64] ‖ hmac[64]).
    fn new(cipher: Cipher, k: &[u8]) -> Option<DirectionKey> {
        let key_len = cipher.alg().key_len();
        let key = UnboundKey::new(cipher.alg(), k.get(..key_len)?).ok()?;
        let mut implicit_iv = [0u8; 8];
        implicit_iv.copy_from_slice(k.get(64..72)?);
        Some(DirectionKey {
            key: LessSafeKey::new(key),
            implicit_iv,
        })
    }

    fn nonce(&self, packet_id: u32) -> Nonce {
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&packet_id.to_be_bytes());
        n[4..].copy_from_slice(&self.implicit_iv);
        Nonce::assume_unique_for_key(n)
    }
}

/// Which slice of the 256 exported bytes each side's keys are.
pub struct Keys {
    /// The cipher.
    pub cipher: Cipher,
    send: DirectionKey,
    recv: DirectionKey,
    next_id: u32,
    /// Highest packet id received and a bitmap of the 64 before it.
    highest: u32,
    seen: u64,
}

impl core::fmt::Debug for Keys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keys")
            .field("cipher", &self.cipher)
            .finish()
    }
}

impl Keys {
    /// The keys of the client (`client` true) or the server from the exported key2.
    pub fn new(cipher: Cipher, key2: &[u8], client: bool) -> Option<Keys> {
        let k0 = key2.get(..128)?;
        let k1 = key2.get(128..256)?;
        let (send, recv) = if client { (k0, k1) } else { (k1, k0) };
        Some(Keys {
            cipher,
            send: DirectionKey::new(cipher, send)?,
            recv: DirectionKey::new(cipher, recv)?,
            next_id: 1,
            highest: 0,
            seen: 0,
        })
    }

    /// Seals `plain` into a data packet with `header` (1 byte for V1, 4 for V2).
    pub fn seal(&mut self, header: &[u8], plain: &[u8]) -> Result<Vec<u8>, DataError> {
        let id = self.next_id;
        self.next_id = id.checked_add(1).ok_or(DataError::Exhausted)?;
        let mut ad = if header.len() == 4 {
            header.to_vec()
        } else {
            Vec::new()
        };
        ad.extend_from_slice(&id.to_be_bytes());
        let mut body = plain.to_vec();
        let tag = self
            .send
            .key
            .seal_in_place_separate_tag(self.send.nonce(id), Aad::from(&ad), &mut body)
            .map_err(|_| DataError::Exhausted)?;
        let mut out = Vec::with_capacity(header.len() + 4 + TAG + body.len());
        out.extend_from_slice(header);
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(tag.as_ref());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens a data packet whose header is `header_len` bytes; returns (packet id,
    /// plaintext). The replay window is updated only for packets whose tag verified.
    pub fn open(&mut self, packet: &[u8], header_len: usize) -> Result<(u32, Vec<u8>), DataError> {
        let header = packet.get(..header_len).ok_or(DataError::Truncated)?;
        let idb: [u8; 4] = packet
            .get(header_len..header_len + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or(DataError::Truncated)?;
        let id = u32::from_be_bytes(idb);
        let tag = packet
            .get(header_len + 4..header_len + 4 + TAG)
            .ok_or(DataError::Truncated)?;
        let ct = packet.get(header_len + 4 + TAG..).unwrap_or_default();
        self.check_replay(id)?;
        let mut ad = if header_len == 4 {
            header.to_vec()
        } else {
            Vec::new()
        };
        ad.extend_from_slice(&idb);
        let mut buf = ct.to_vec();
        buf.extend_from_slice(tag);
        let plain = self
            .recv
            .key
            .open_in_place(self.recv.nonce(id), Aad::from(&ad), &mut buf)
            .map_err(|_| DataError::BadTag)?
            .to_vec();
        self.mark(id);
        Ok((id, plain))
    }

    fn check_replay(&self, id: u32) -> Result<(), DataError> {
        if id == 0 {
            return Err(DataError::Replay(id));
        }
        if id > self.highest {
            return Ok(());
        }
        let back = self.highest - id;
        if back >= REPLAY_WINDOW || self.seen & (1u64 << back) != 0 {
            return Err(DataError::Replay(id));
        }
        Ok(())
    }

    fn mark(&mut self, id: u32) {
        if id > self.highest {
            let shift = id - self.highest;
            self.seen = if shift >= 64 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.highest = id;
        } else {
            self.seen |= 1u64 << (self.highest - id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key2() -> Vec<u8> {
        (0..=255u8).collect()
    }

    #[test]
    fn both_ciphers_round_trip_and_refuse_replay_and_tamper() {
        for cipher in [Cipher::Aes256Gcm, Cipher::Chacha20Poly1305] {
            let mut c = Keys::new(cipher, &key2(), true).unwrap();
            let mut s = Keys::new(cipher, &key2(), false).unwrap();
            let hdr = [DATA_V2_BYTE, 0, 0, 1];
            let p1 = c.seal(&hdr, &PING).unwrap();
            let p2 = c.seal(&hdr, b"second").unwrap();
            assert_eq!(p1.len(), 4 + 4 + 16 + 16);
            assert_eq!(&p1[4..8], &[0, 0, 0, 1]);
            assert_eq!(s.open(&p2, 4).unwrap(), (2, b"second".to_vec()));
            assert_eq!(s.open(&p1, 4).unwrap(), (1, PING.to_vec()));
            assert_eq!(s.open(&p1, 4), Err(DataError::Replay(1)));
            let mut bad = c.seal(&hdr, b"x").unwrap();
            bad[3] ^= 1; // the peer id is authenticated
            assert_eq!(s.open(&bad, 4), Err(DataError::BadTag));
            // The client cannot open its own packets: the directions differ.
            let mut c2 = Keys::new(cipher, &key2(), true).unwrap();
            assert_eq!(
                c2.open(&c.seal(&hdr, b"y").unwrap(), 4),
                Err(DataError::BadTag)
            );
            assert_eq!(s.open(&p1[..20], 4), Err(DataError::Truncated));
            // A packet id far ahead moves the window; old ones fall out of it.
            let mut far = Keys::new(cipher, &key2(), true).unwrap();
            far.next_id = 1000;
            s.open(&far.seal(&hdr, b"z").unwrap(), 4).unwrap();
            let mut old = Keys::new(cipher, &key2(), true).unwrap();
            old.next_id = 900;
            assert_eq!(
                s.open(&old.seal(&hdr, b"o").unwrap(), 4),
                Err(DataError::Replay(900))
            );
        }
    }

    const DATA_V2_BYTE: u8 = 9 << 3;
}
