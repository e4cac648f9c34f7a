//! Security associations for ESP: the keys, the SPI, the sender's sequence counter and
//! the receiver's anti-replay window (RFC 4301 §4.4.2, RFC 4303 §3).
//!
//! Sealing follows RFC 4106 §3–5 and RFC 7634 §2–3: nonce = salt (4) ‖ IV (8), AAD =
//! SPI ‖ sequence number (no extended sequence numbers), plaintext = payload ‖ padding
//! ‖ pad length ‖ next header, ICV = the 16-byte AEAD tag.

use ring::aead;

use crate::replay::ReplayWindow;
use crate::wire::esp::{self, Trailer, ICV_LEN};
use crate::{Discard, Error, ErrorKind};

/// An ESP transform with a 16-byte ICV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// AES-128-GCM, 16-byte ICV (RFC 4106, IKEv2 transform ENCR_AES_GCM_16, 128-bit key).
    Aes128Gcm,
    /// AES-256-GCM, 16-byte ICV (RFC 4106, 256-bit key).
    Aes256Gcm,
    /// ChaCha20-Poly1305 (RFC 7634).
    ChaCha20Poly1305,
}

impl Algorithm {
    /// Every algorithm, in the order the app lists them.
    pub const ALL: [Algorithm; 3] = [
        Algorithm::Aes128Gcm,
        Algorithm::Aes256Gcm,
        Algorithm::ChaCha20Poly1305,
    ];

    /// Stable id used in URLs (`aes128gcm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aes128Gcm => "aes128gcm",
            Algorithm::Aes256Gcm => "aes256gcm",
            Algorithm::ChaCha20Poly1305 => "chacha20poly1305",
        }
    }

    /// The name as the RFCs and IKEv2 write it (`AES-128-GCM`), the same in every language.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Aes128Gcm => "AES-128-GCM",
            Algorithm::Aes256Gcm => "AES-256-GCM",
            Algorithm::ChaCha20Poly1305 => "ChaCha20-Poly1305",
        }
    }

    /// The algorithm with this id.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == id)
    }

    /// Length of the cipher key (without the salt).
    pub fn key_len(self) -> usize {
        match self {
            Algorithm::Aes128Gcm => 16,
            Algorithm::Aes256Gcm | Algorithm::ChaCha20Poly1305 => 32,
        }
    }

    fn ring(self) -> &'static aead::Algorithm {
        match self {
            Algorithm::Aes128Gcm => &aead::AES_128_GCM,
            Algorithm::Aes256Gcm => &aead::AES_256_GCM,
            Algorithm::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    /// Bytes ESP adds around `payload_len` bytes of payload: SPI, sequence number, IV,
    /// padding, pad length, next header, ICV.
    pub fn overhead(self, payload_len: usize) -> usize {
        esp::HEADER_LEN + usize::from(Trailer::pad_for(payload_len)) + esp::TRAILER_LEN + ICV_LEN
    }
}

/// One sealed ESP packet and what went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// SPI ‖ sequence number ‖ IV ‖ ciphertext ‖ ICV.
    pub bytes: Vec<u8>,
    /// The sequence number used.
    pub sequence: u32,
    /// Length of the protected payload.
    pub payload_len: usize,
    /// Padding and trailer.
    pub trailer: Trailer,
}

/// What a receiver got out of an ESP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The SPI it arrived on.
    pub spi: u32,
    /// Its sequence number.
    pub sequence: u32,
    /// The decrypted payload (a transport segment, or a whole IP packet in tunnel mode).
    pub payload: Vec<u8>,
    /// Padding and trailer.
    pub trailer: Trailer,
}

/// One direction of ESP protection between two peers.
pub struct EspSa {
    spi: u32,
    algorithm: Algorithm,
    key: aead::LessSafeKey,
    salt: [u8; 4],
    sent: u32,
    window: ReplayWindow,
}

impl core::fmt::Debug for EspSa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EspSa")
            .field("spi", &format_args!("0x{:08x}", self.spi))
            .field("algorithm", &self.algorithm)
            .field("sent", &self.sent)
            .field("window", &self.window)
            .finish()
    }
}

impl EspSa {
    /// An SA with `key` (of [`Algorithm::key_len`] bytes) and `salt`.
    pub fn new(spi: u32, algorithm: Algorithm, key: &[u8], salt: [u8; 4]) -> Result<Self, Discard> {
        if key.len() != algorithm.key_len() {
            return Err(Discard::KeyLength);
        }
        let unbound =
            aead::UnboundKey::new(algorithm.ring(), key).map_err(|_| Discard::KeyLength)?;
        Ok(EspSa {
            spi,
            algorithm,
            key: aead::LessSafeKey::new(unbound),
            salt,
            sent: 0,
            window: ReplayWindow::new(),
        })
    }

    /// Its SPI.
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// Its algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The receiver's window.
    pub fn window(&self) -> &ReplayWindow {
        &self.window
    }

    /// Seals `payload` with the next sequence number and the explicit `iv`, which must
    /// never repeat under this key (the caller draws it from its random source).
    pub fn seal(
        &mut self,
        next_header: u8,
        payload: &[u8],
        iv: [u8; 8],
    ) -> Result<Sealed, Discard> {
        let sequence = self.sent.checked_add(1).ok_or(Discard::SequenceExhausted)?;
        let sealed = self.seal_with_sequence(sequence, next_header, payload, iv)?;
        self.sent = sequence;
        Ok(sealed)
    }

    /// Seals with a given sequence number, leaving the counter alone (known-answer tests).
    pub fn seal_with_sequence(
        &self,
        sequence: u32,
        next_header: u8,
        payload: &[u8],
        iv: [u8; 8],
    ) -> Result<Sealed, Discard> {
        let trailer = Trailer {
            pad_len: Trailer::pad_for(payload.len()),
            next_header,
        };
        let header = esp::Repr {
            spi: self.spi,
            sequence,
            iv,
        };
        let mut bytes = vec![0u8; header.buffer_len()];
        header.emit(&mut bytes);
        let mut body = payload.to_vec();
        trailer.append_to(&mut body);
        let tag = self
            .key
            .seal_in_place_separate_tag(self.nonce(iv), aead::Aad::from(aad(&bytes)), &mut body)
            // ring refuses only inputs beyond the AEAD's length limit (far past 64 KiB).
            .map_err(|_| Discard::SequenceExhausted)?;
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(tag.as_ref());
        Ok(Sealed {
            bytes,
            sequence,
            payload_len: payload.len(),
            trailer,
        })
    }

    /// Opens an ESP packet on this SA: sequence number against the window, then the ICV,
    /// then the trailer; the window moves only when all of them pass.
    pub fn open(&mut self, esp_bytes: &[u8]) -> Result<Opened, Discard> {
        self.open_checked(esp_bytes, &mut Vec::new())
    }

    /// Opens an ESP packet addressed to this SA, appending each inbound check of
    /// RFC 4303 §3.4 to `checks` as it is made: the sequence number against the
    /// replay window (§3.4.3, before integrity), the ICV (§3.4.4), the trailer, and
    /// the window update (§3.4.3, only once the ICV verified).
    pub fn open_checked(
        &mut self,
        esp_bytes: &[u8],
        checks: &mut Vec<InboundCheck>,
    ) -> Result<Opened, Discard> {
        let p = esp::Packet::new_checked(esp_bytes).map_err(Discard::Decode)?;
        let header = esp::Repr::parse(&p).map_err(Discard::Decode)?;
        if header.spi != self.spi {
            return Err(Discard::UnknownSpi(header.spi));
        }
        let replay = self
            .window
            .check(header.sequence)
            .map_err(|_| Discard::Replay(header.sequence));
        checks.push(InboundCheck::ReplayWindow {
            sequence: header.sequence,
            window: self.window,
            result: replay,
        });
        replay?;
        let mut body = p.ciphertext_and_icv().to_vec();
        let plain = self
            .key
            .open_in_place(self.nonce(header.iv), aead::Aad::from(p.aad()), &mut body)
            .map_err(|_| Discard::IcvMismatch);
        checks.push(InboundCheck::Icv(
            plain.as_ref().map(|_| ()).map_err(|e| *e),
        ));
        let split = Trailer::split(plain?).map_err(|_| Discard::BadTrailer);
        checks.push(InboundCheck::Trailer(
            split.as_ref().map(|_| ()).map_err(|e| *e),
        ));
        let (payload, trailer) = split?;
        let payload = payload.to_vec();
        self.window.accept(header.sequence);
        checks.push(InboundCheck::WindowUpdate {
            sequence: header.sequence,
            window: self.window,
        });
        Ok(Opened {
            spi: header.spi,
            sequence: header.sequence,
            payload,
            trailer,
        })
    }

    fn nonce(&self, iv: [u8; 8]) -> aead::Nonce {
        let mut n = [0u8; 12];
        for (d, s) in n.iter_mut().zip(self.salt.iter().chain(iv.iter())) {
            *d = *s;
        }
        aead::Nonce::assume_unique_for_key(n)
    }
}

fn aad(header: &[u8]) -> &[u8] {
    header.get(0..esp::field::IV.start).unwrap_or(&[])
}

/// A receiver's inbound security association database: SAs found by SPI.
#[derive(Debug, Default)]
pub struct Sad {
    sas: Vec<EspSa>,
}

impl Sad {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an inbound SA.
    pub fn insert(&mut self, sa: EspSa) {
        self.sas.push(sa);
    }

    /// The SA with this SPI.
    pub fn get(&self, spi: u32) -> Option<&EspSa> {
        self.sas.iter().find(|s| s.spi == spi)
    }

    /// Finds the SA by the packet's SPI and opens the packet on it.
    pub fn open(&mut self, esp_bytes: &[u8]) -> Result<Opened, Discard> {
        self.inbound(esp_bytes).result
    }

    /// Processes an inbound ESP packet as RFC 4303 §3.4 orders it, and says which
    /// checks were made, in order, with their outcomes: the SA lookup by SPI
    /// (§3.4.2; a header that does not parse fails here), then the SA's own checks
    /// ([`EspSa::open_checked`]). The first failed check is the last one listed.
    pub fn inbound(&mut self, esp_bytes: &[u8]) -> Inbound {
        let mut checks = Vec::new();
        let result = self.inbound_into(esp_bytes, &mut checks);
        Inbound { checks, result }
    }

    fn inbound_into(
        &mut self,
        esp_bytes: &[u8],
        checks: &mut Vec<InboundCheck>,
    ) -> Result<Opened, Discard> {
        let lookup = self.lookup(esp_bytes);
        checks.push(InboundCheck::Spi(match &lookup {
            Ok(_) => Ok(()),
            Err(e) => Err(*e),
        }));
        let sa = lookup.map_err(Discard::from)?;
        sa.open_checked(esp_bytes, checks)
    }

    fn lookup(&mut self, esp_bytes: &[u8]) -> Result<&mut EspSa, SpiFailure> {
        // The SPI as far as the bytes go (a short header reads as zero-filled).
        let spi = esp::Packet::new_unchecked(esp_bytes).spi();
        let known = self.get(spi).is_some();
        let fail = |discard| SpiFailure {
            discard,
            spi,
            known,
        };
        let p = esp::Packet::new_checked(esp_bytes).map_err(|e| fail(Discard::Decode(e)))?;
        if p.spi() < 256 {
            return Err(fail(Discard::Decode(Error::at(
                ErrorKind::Malformed,
                esp::field::SPI.start,
            ))));
        }
        self.sas
            .iter_mut()
            .find(|s| s.spi == spi)
            .ok_or(fail(Discard::UnknownSpi(spi)))
    }
}

/// Why the SA lookup of an inbound packet failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpiFailure {
    /// The discard.
    pub discard: Discard,
    /// The SPI the packet names.
    pub spi: u32,
    /// Whether an SA with the packet's SPI exists (the header is malformed
    /// rather than addressed to nobody).
    pub known: bool,
}

impl From<SpiFailure> for Discard {
    fn from(f: SpiFailure) -> Self {
        f.discard
    }
}

/// One inbound check (RFC 4303 §3.4), as the SAD made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundCheck {
    /// §3.4.2: the SA lookup by SPI.
    Spi(Result<(), SpiFailure>),
    /// §3.4.3: the sequence number against the replay window (as it was then).
    ReplayWindow {
        /// The packet's sequence number.
        sequence: u32,
        /// The window at the check.
        window: ReplayWindow,
        /// Its outcome.
        result: Result<(), Discard>,
    },
    /// §3.4.4: the ICV (integrity and decryption, one AEAD operation).
    Icv(Result<(), Discard>),
    /// The decrypted trailer: padding and pad length (§2.4).
    Trailer(Result<(), Discard>),
    /// §3.4.3: the window moves to take the sequence number, after the ICV.
    WindowUpdate {
        /// The packet's sequence number.
        sequence: u32,
        /// The window after the update.
        window: ReplayWindow,
    },
}

/// An inbound packet's processing: the checks made, in order, and the result.
#[derive(Debug)]
pub struct Inbound {
    /// The checks, in the order made; a failure is the last one.
    pub checks: Vec<InboundCheck>,
    /// The opened packet, or why it was discarded.
    pub result: Result<Opened, Discard>,
}

/// Seals and opens `packets` ESP packets of `payload_len` bytes on one SA pair
/// (a fixed key: this measures speed, it protects nothing); returns the payload
/// bytes that made the round trip. Used by the native and WASM benchmarks.
pub fn seal_open_round(
    algorithm: Algorithm,
    payload_len: usize,
    packets: u32,
) -> Result<usize, Discard> {
    let key = vec![0x42u8; algorithm.key_len()];
    let salt = [1, 2, 3, 4];
    let mut out = EspSa::new(0x1001, algorithm, &key, salt)?;
    let mut inbound = EspSa::new(0x1001, algorithm, &key, salt)?;
    let payload = vec![0xa5u8; payload_len];
    let mut total = 0;
    for i in 0..packets {
        let iv = u64::from(i).to_be_bytes();
        let sealed = out.seal(4, &payload, iv)?;
        let opened = inbound.open(&sealed.bytes)?;
        total += opened.payload.len();
    }
    Ok(total)
}

#[cfg(test)]
mod inbound_tests {
    use super::*;

    fn pair() -> (EspSa, Sad) {
        let key = [7u8; 16];
        let out = EspSa::new(0x1000, Algorithm::Aes128Gcm, &key, [1, 2, 3, 4]).unwrap();
        let mut sad = Sad::new();
        sad.insert(EspSa::new(0x1000, Algorithm::Aes128Gcm, &key, [1, 2, 3, 4]).unwrap());
        (out, sad)
    }

    fn kinds(i: &Inbound) -> Vec<&'static str> {
        i.checks
            .iter()
            .map(|c| match c {
                InboundCheck::Spi(Ok(())) => "spi",
                InboundCheck::Spi(Err(_)) => "spi!",
                InboundCheck::ReplayWindow { result: Ok(()), .. } => "replay",
                InboundCheck::ReplayWindow { .. } => "replay!",
                InboundCheck::Icv(Ok(())) => "icv",
                InboundCheck::Icv(Err(_)) => "icv!",
                InboundCheck::Trailer(Ok(())) => "trailer",
                InboundCheck::Trailer(Err(_)) => "trailer!",
                InboundCheck::WindowUpdate { .. } => "update",
            })
            .collect()
    }

    #[test]
    fn checks_come_in_rfc_4303_order_and_stop_at_the_first_failure() {
        let (mut out, mut sad) = pair();
        let p = out.seal(6, b"hello", [0; 8]).unwrap().bytes;
        let good = sad.inbound(&p);
        assert_eq!(kinds(&good), ["spi", "replay", "icv", "trailer", "update"]);
        assert_eq!(good.result.unwrap().payload, b"hello");
        // The same packet again: refused by the window, before the ICV is computed.
        let again = sad.inbound(&p);
        assert_eq!(kinds(&again), ["spi", "replay!"]);
        assert_eq!(again.result.unwrap_err(), Discard::Replay(1));
        // A flipped ciphertext byte: the ICV fails and the window does not move.
        let mut q = out.seal(6, b"hello", [1; 8]).unwrap().bytes;
        let last = q.len() - 1;
        q[last] ^= 1;
        let bad = sad.inbound(&q);
        assert_eq!(kinds(&bad), ["spi", "replay", "icv!"]);
        assert_eq!(sad.get(0x1000).unwrap().window().top(), 1);
        // An SPI nobody has.
        let mut r = p.clone();
        r[0] ^= 0x80;
        let unknown = sad.inbound(&r);
        assert_eq!(kinds(&unknown), ["spi!"]);
        assert!(matches!(
            unknown.checks[0],
            InboundCheck::Spi(Err(SpiFailure { known: false, .. }))
        ));
        // A header too short to parse, for a known SPI.
        let short = sad.inbound(&p[..10]);
        assert!(matches!(
            short.checks[..],
            [InboundCheck::Spi(Err(SpiFailure { known: true, .. }))]
        ));
    }
}
