//! Control-channel protection: `--tls-auth` and `--tls-crypt` (v1), as openvpn 2.6
//! wraps control packets (`ssl_pkt.c` `tls_wrap_control`, `read_control_auth`,
//! `crypto.c` `openvpn_encrypt_v1`, `tls_crypt.c`). Data packets are not wrapped.
//!
//! ```text
//! plain:      op|key_id (1) · session_id (8) · rest (ACKs, packet id, TLS bytes)
//! tls-auth:   op|key_id · session_id · HMAC (20 SHA1 / 32 SHA256)
//!             · replay packet id (4) · time (4) · rest
//!             HMAC = HMAC(key, packet id · time · op|key_id · session_id · rest)
//! tls-crypt:  op|key_id · session_id · replay packet id (4) · time (4)
//!             · tag (32) · AES-256-CTR(rest)
//!             tag = HMAC-SHA256(key, op|key_id · session_id · packet id · time · rest)
//!             CTR IV = tag[0..16]  (a synthetic IV: the tag is the IV)
//! ```
//!
//! The key is an OpenVPN static key file (`openvpn --genkey secret` or `--genkey
//! tls-crypt`): 256 bytes as two `struct key` of 64 cipher bytes then 64 HMAC bytes.
//! A direction picks which one each side sends with (`crypto.c`
//! `key_direction_state_init`): 0 (NORMAL) sends with key 0 and receives with key 1,
//! 1 (INVERSE) the other way round, none uses key 0 both ways. tls-crypt fixes it:
//! the server is 0, the client 1. An HMAC uses the first bytes of the HMAC part (its
//! output length), AES-256-CTR the first 32 of the cipher part.
//!
//! The replay packet id counts wrapped packets from 1 in each direction; a
//! retransmission is wrapped again with a new id. The time is the sender's clock
//! (Unix seconds) at its first wrapped packet. The receiver refuses an id it has
//! seen at the same time or a time that goes back (`packet_id.c`, backtrack mode).

use aes::cipher::{KeyIvInit, StreamCipher};
use ring::hmac;

/// Bytes of an OpenVPN static key (2048 bits).
pub const STATIC_KEY_LEN: usize = 256;
/// tls-crypt's tag (HMAC-SHA256).
pub const CRYPT_TAG: usize = 32;
/// Replay packet id and time.
pub const PID_LEN: usize = 8;
/// How far behind the newest id a late packet may still come (openvpn's
/// `--replay-window` default).
pub const REPLAY_WINDOW: u32 = 64;

const BEGIN: &str = "-----BEGIN OpenVPN Static key V1-----";
const END: &str = "-----END OpenVPN Static key V1-----";

/// An OpenVPN static key.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKey(pub [u8; STATIC_KEY_LEN]);

impl core::fmt::Debug for StaticKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StaticKey(..)")
    }
}

impl StaticKey {
    /// Reads the file format `openvpn --genkey` writes: comment lines, then the hex
    /// between the BEGIN and END lines. `None` if it is not 256 bytes of hex.
    pub fn parse(text: &str) -> Option<StaticKey> {
        let start = text.find(BEGIN)? + BEGIN.len();
        let end = start + text.get(start..)?.find(END)?;
        let hex: Vec<u8> = text
            .get(start..end)?
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if hex.len() != 2 * STATIC_KEY_LEN {
            return None;
        }
        let mut out = [0u8; STATIC_KEY_LEN];
        for (o, pair) in out.iter_mut().zip(hex.chunks(2)) {
            let s = core::str::from_utf8(pair).ok()?;
            *o = u8::from_str_radix(s, 16).ok()?;
        }
        Some(StaticKey(out))
    }

    /// The file as `openvpn --genkey secret` writes it (16 lines of 32 hex digits).
    pub fn to_file(&self) -> String {
        let mut s = String::from("#\n# 2048 bit OpenVPN static key\n#\n");
        s.push_str(BEGIN);
        s.push('\n');
        for line in self.0.chunks(16) {
            for b in line {
                s.push_str(&format!("{b:02x}"));
            }
            s.push('\n');
        }
        s.push_str(END);
        s.push('\n');
        s
    }

    /// Key `k`'s (0 or 1) cipher part, 64 bytes.
    fn cipher(&self, k: usize) -> &[u8] {
        self.0.get(128 * k..128 * k + 64).unwrap_or_default()
    }

    /// Key `k`'s HMAC part, 64 bytes.
    fn hmac(&self, k: usize) -> &[u8] {
        self.0.get(128 * k + 64..128 * k + 128).unwrap_or_default()
    }
}

/// tls-auth's digest (`--auth`; openvpn's default is SHA1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// HMAC-SHA1, 20 bytes.
    Sha1,
    /// HMAC-SHA256, 32 bytes.
    Sha256,
}

impl Digest {
    /// The HMAC's length.
    pub fn output_len(self) -> usize {
        match self {
            Digest::Sha1 => 20,
            Digest::Sha256 => 32,
        }
    }

    /// The name `--auth` takes.
    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha1 => "SHA1",
            Digest::Sha256 => "SHA256",
        }
    }

    fn alg(self) -> hmac::Algorithm {
        match self {
            Digest::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => hmac::HMAC_SHA256,
        }
    }
}

/// How control packets are protected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ControlProtection {
    /// Plain control packets (TLS protects only what is inside TLS).
    #[default]
    None,
    /// `--tls-auth key [direction]` with `--auth digest`.
    TlsAuth {
        /// The static key.
        key: StaticKey,
        /// 0, 1 or none (bidirectional).
        direction: Option<u8>,
        /// The HMAC's digest.
        digest: Digest,
    },
    /// `--tls-crypt key`.
    TlsCrypt {
        /// The static key.
        key: StaticKey,
    },
}

/// Why a wrapped control packet was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapError {
    /// Shorter than the wrapping.
    Truncated,
    /// The HMAC (tls-auth) or tag (tls-crypt) did not verify.
    BadAuth,
    /// A replay packet id already seen, zero, or from an earlier time.
    Replay(u32),
}

/// Which wrapping, for field trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// tls-auth with this HMAC length.
    Auth(usize),
    /// tls-crypt.
    Crypt,
}

/// A packet as wrapped: what its fields are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wrapped {
    /// tls-auth or tls-crypt.
    pub kind: Kind,
    /// The replay packet id.
    pub pid: u32,
    /// The time field.
    pub time: u32,
}

enum Mode {
    None,
    Auth {
        out: hmac::Key,
        inp: hmac::Key,
        len: usize,
    },
    Crypt {
        out: hmac::Key,
        inp: hmac::Key,
        out_aes: [u8; 32],
        in_aes: [u8; 32],
    },
}

#[derive(Default)]
struct Replay {
    time: u32,
    highest: u32,
    /// Bit i: id `highest - i` seen.
    seen: u64,
}

impl Replay {
    fn check(&self, id: u32, time: u32) -> bool {
        if id == 0 || time < self.time {
            return false;
        }
        if time > self.time || id > self.highest {
            return true;
        }
        let back = self.highest - id;
        back < REPLAY_WINDOW && self.seen & (1u64 << back) == 0
    }

    fn note(&mut self, id: u32, time: u32) {
        if time > self.time {
            *self = Replay {
                time,
                highest: id,
                seen: 1,
            };
        } else if id > self.highest {
            let shift = id - self.highest;
            self.seen = if shift >= 64 { 0 } else { self.seen << shift } | 1;
            self.highest = id;
        } else {
            self.seen |= 1u64 << (self.highest - id);
        }
    }
}

/// One side's control-channel wrapping state.
pub struct Wrap {
    mode: Mode,
    send_id: u32,
    send_time: Option<u32>,
    replay: Replay,
}

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

fn ctr(key: &[u8; 32], iv: &[u8], data: &mut [u8]) {
    let mut iv16 = [0u8; 16];
    iv16.copy_from_slice(iv.get(..16).unwrap_or(&[0u8; 16]));
    let mut c = Aes256Ctr::new(key.into(), &iv16.into());
    c.apply_keystream(data);
}

fn key32(b: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 32];
    k.copy_from_slice(b.get(..32).unwrap_or(&[0u8; 32]));
    k
}

impl Wrap {
    /// The wrapping for `p` on the server (`server`) or the client side.
    pub fn new(p: &ControlProtection, server: bool) -> Wrap {
        let mode = match p {
            ControlProtection::None => Mode::None,
            ControlProtection::TlsAuth {
                key,
                direction,
                digest,
            } => {
                let (o, i) = match direction {
                    Some(0) => (0, 1),
                    Some(_) => (1, 0),
                    None => (0, 0),
                };
                let len = digest.output_len();
                let k = |n: usize| {
                    hmac::Key::new(digest.alg(), key.hmac(n).get(..len).unwrap_or_default())
                };
                Mode::Auth {
                    out: k(o),
                    inp: k(i),
                    len,
                }
            }
            ControlProtection::TlsCrypt { key } => {
                let (o, i) = if server { (0, 1) } else { (1, 0) };
                let k = |n: usize| {
                    hmac::Key::new(hmac::HMAC_SHA256, key.hmac(n).get(..32).unwrap_or_default())
                };
                Mode::Crypt {
                    out: k(o),
                    inp: k(i),
                    out_aes: key32(key.cipher(o)),
                    in_aes: key32(key.cipher(i)),
                }
            }
        };
        Wrap {
            mode,
            send_id: 0,
            send_time: None,
            replay: Replay::default(),
        }
    }

    /// Whether control packets are wrapped at all.
    pub fn active(&self) -> bool {
        !matches!(self.mode, Mode::None)
    }

    /// Wraps a plain control packet (`op · session_id · rest`) at `unix_s`; `None`
    /// without a wrapping, when the packet is shorter than its header, or when the
    /// replay id would wrap.
    pub fn wrap(&mut self, packet: &[u8], unix_s: u64) -> Option<(Vec<u8>, Wrapped)> {
        if matches!(self.mode, Mode::None) || packet.len() < 9 {
            return None;
        }
        let head = packet.get(..9)?;
        let rest = packet.get(9..)?;
        self.send_id = self.send_id.checked_add(1)?;
        let time = *self
            .send_time
            .get_or_insert(u32::try_from(unix_s).unwrap_or(u32::MAX));
        let mut pid = [0u8; PID_LEN];
        pid[..4].copy_from_slice(&self.send_id.to_be_bytes());
        pid[4..].copy_from_slice(&time.to_be_bytes());
        let (bytes, kind) = match &self.mode {
            Mode::None => return None,
            Mode::Auth { out, len, .. } => {
                let mut ctx = hmac::Context::with_key(out);
                ctx.update(&pid);
                ctx.update(head);
                ctx.update(rest);
                let tag = ctx.sign();
                let mut b = Vec::with_capacity(packet.len() + len + PID_LEN);
                b.extend_from_slice(head);
                b.extend_from_slice(tag.as_ref());
                b.extend_from_slice(&pid);
                b.extend_from_slice(rest);
                (b, Kind::Auth(*len))
            }
            Mode::Crypt { out, out_aes, .. } => {
                let mut ctx = hmac::Context::with_key(out);
                ctx.update(head);
                ctx.update(&pid);
                ctx.update(rest);
                let tag = ctx.sign();
                let mut ct = rest.to_vec();
                ctr(out_aes, tag.as_ref(), &mut ct);
                let mut b = Vec::with_capacity(packet.len() + PID_LEN + CRYPT_TAG);
                b.extend_from_slice(head);
                b.extend_from_slice(&pid);
                b.extend_from_slice(tag.as_ref());
                b.extend_from_slice(&ct);
                (b, Kind::Crypt)
            }
        };
        Some((
            bytes,
            Wrapped {
                kind,
                pid: self.send_id,
                time,
            },
        ))
    }

    /// Checks and removes the wrapping of a received control packet: the plain
    /// packet (`op · session_id · rest`), or why it is dropped (openvpn drops it
    /// without an answer). Without a wrapping the packet is returned as it is.
    pub fn unwrap(&mut self, packet: &[u8]) -> Result<Vec<u8>, WrapError> {
        let head = packet.get(..9).ok_or(WrapError::Truncated)?;
        let (plain, pid) = match &self.mode {
            Mode::None => return Ok(packet.to_vec()),
            Mode::Auth { inp, len, .. } => {
                let tag = packet.get(9..9 + len).ok_or(WrapError::Truncated)?;
                let pid = packet
                    .get(9 + len..9 + len + PID_LEN)
                    .ok_or(WrapError::Truncated)?;
                let rest = packet.get(9 + len + PID_LEN..).unwrap_or_default();
                let mut msg = Vec::with_capacity(packet.len());
                msg.extend_from_slice(pid);
                msg.extend_from_slice(head);
                msg.extend_from_slice(rest);
                hmac::verify(inp, &msg, tag).map_err(|_| WrapError::BadAuth)?;
                let mut plain = head.to_vec();
                plain.extend_from_slice(rest);
                (plain, pid)
            }
            Mode::Crypt { inp, in_aes, .. } => {
                let pid = packet.get(9..9 + PID_LEN).ok_or(WrapError::Truncated)?;
                let tag = packet
                    .get(9 + PID_LEN..9 + PID_LEN + CRYPT_TAG)
                    .ok_or(WrapError::Truncated)?;
                let mut rest = packet
                    .get(9 + PID_LEN + CRYPT_TAG..)
                    .unwrap_or_default()
                    .to_vec();
                ctr(in_aes, tag, &mut rest);
                let mut msg = Vec::with_capacity(packet.len());
                msg.extend_from_slice(head);
                msg.extend_from_slice(pid);
                msg.extend_from_slice(&rest);
                hmac::verify(inp, &msg, tag).map_err(|_| WrapError::BadAuth)?;
                let mut plain = head.to_vec();
                plain.extend_from_slice(&rest);
                (plain, pid)
            }
        };
        let id = u32::from_be_bytes(
            pid.get(..4)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; 4]),
        );
        let time = u32::from_be_bytes(
            pid.get(4..8)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; 4]),
        );
        if !self.replay.check(id, time) {
            return Err(WrapError::Replay(id));
        }
        self.replay.note(id, time);
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> StaticKey {
        let mut k = [0u8; STATIC_KEY_LEN];
        for (i, b) in k.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(7).wrapping_add(seed);
        }
        StaticKey(k)
    }

    const PLAIN: &[u8] = &[0x20, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 1, 0x16, 3, 3];

    #[test]
    fn key_file_round_trip() {
        let k = key(3);
        let f = k.to_file();
        assert_eq!(f.lines().count(), 3 + 1 + 16 + 1);
        assert_eq!(StaticKey::parse(&f), Some(k));
        assert_eq!(StaticKey::parse(&f.replace("0", "")), None);
        assert_eq!(StaticKey::parse("nothing"), None);
        let hex_at = f.find("-----\n").unwrap() + 6;
        let mut bad = f.clone();
        bad.replace_range(hex_at..hex_at + 1, "g");
        assert_eq!(StaticKey::parse(&bad), None);
    }

    fn pair(p: &ControlProtection) -> (Wrap, Wrap) {
        let server = match p {
            ControlProtection::TlsAuth {
                key,
                direction: Some(_),
                digest,
            } => ControlProtection::TlsAuth {
                key: key.clone(),
                direction: Some(0),
                digest: *digest,
            },
            other => other.clone(),
        };
        (Wrap::new(p, false), Wrap::new(&server, true))
    }

    #[test]
    fn both_wrappings_open_on_the_other_side_once() {
        for p in [
            ControlProtection::TlsAuth {
                key: key(1),
                direction: Some(1),
                digest: Digest::Sha256,
            },
            ControlProtection::TlsAuth {
                key: key(1),
                direction: None,
                digest: Digest::Sha1,
            },
            ControlProtection::TlsCrypt { key: key(2) },
        ] {
            let (mut c, mut s) = pair(&p);
            let (w, info) = c.wrap(PLAIN, 1_700_000_000).unwrap();
            assert_eq!(info.pid, 1);
            assert_eq!(&w[..9], &PLAIN[..9]);
            let extra = match info.kind {
                Kind::Auth(n) => n + 8,
                Kind::Crypt => 40,
            };
            assert_eq!(w.len(), PLAIN.len() + extra);
            if info.kind == Kind::Crypt {
                assert_ne!(&w[49..], &PLAIN[9..], "encrypted");
            } else {
                assert_eq!(&w[9 + extra..], &PLAIN[9..], "readable");
            }
            assert_eq!(s.unwrap(&w).as_deref(), Ok(PLAIN));
            assert_eq!(s.unwrap(&w), Err(WrapError::Replay(1)));
            // Every flipped byte is refused, none panics.
            for i in 0..w.len() {
                let mut t = w.clone();
                t[i] ^= 1;
                assert!(s.unwrap(&t).is_err(), "{p:?} byte {i}");
            }
            for n in 0..w.len() {
                let _ = s.unwrap(&w[..n]);
            }
            // Our own packet does not open with our receive key (directions differ).
            if !matches!(
                p,
                ControlProtection::TlsAuth {
                    direction: None,
                    ..
                }
            ) {
                let (w2, _) = c.wrap(PLAIN, 1_700_000_000).unwrap();
                assert_eq!(c.unwrap(&w2), Err(WrapError::BadAuth));
            }
        }
    }

    #[test]
    fn another_key_is_refused() {
        let mut c = Wrap::new(&ControlProtection::TlsCrypt { key: key(1) }, false);
        let mut s = Wrap::new(&ControlProtection::TlsCrypt { key: key(9) }, true);
        let (w, _) = c.wrap(PLAIN, 5).unwrap();
        assert_eq!(s.unwrap(&w), Err(WrapError::BadAuth));
    }

    /// Any bytes into either unwrapping: refused or opened, never a panic (a
    /// bounded stand-in for the fuzz targets: 200,000 inputs from a fixed xorshift).
    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut ws = [
            Wrap::new(
                &ControlProtection::TlsAuth {
                    key: key(4),
                    direction: None,
                    digest: Digest::Sha1,
                },
                true,
            ),
            Wrap::new(&ControlProtection::TlsCrypt { key: key(4) }, true),
        ];
        let mut opened = 0;
        for i in 0..200_000u32 {
            let len = (next() % 120) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            opened += usize::from(ws[(i % 2) as usize].unwrap(&bytes).is_ok());
        }
        assert_eq!(opened, 0, "a random packet opened");
    }

    #[test]
    fn replay_window() {
        let mut r = Replay::default();
        assert!(!r.check(0, 1));
        r.note(5, 10);
        assert!(r.check(4, 10) && r.check(6, 10) && !r.check(5, 10));
        assert!(!r.check(9, 9), "time went back");
        assert!(r.check(1, 11), "time moved on");
        r.note(100, 10);
        assert!(!r.check(36, 10) && r.check(37, 10) && !r.check(100, 10));
    }
}
