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
        let p = esp::Packet::new_checked(esp_bytes).map_err(Discard::Decode)?;
        let header = esp::Repr::parse(&p).map_err(Discard::Decode)?;
        if header.spi != self.spi {
            return Err(Discard::UnknownSpi(header.spi));
        }
        self.window
            .check(header.sequence)
            .map_err(|_| Discard::Replay(header.sequence))?;
        let mut body = p.ciphertext_and_icv().to_vec();
        let plain = self
            .key
            .open_in_place(self.nonce(header.iv), aead::Aad::from(p.aad()), &mut body)
            .map_err(|_| Discard::IcvMismatch)?;
        let (payload, trailer) = Trailer::split(plain).map_err(|_| Discard::BadTrailer)?;
        let payload = payload.to_vec();
        self.window.accept(header.sequence);
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
        let p = esp::Packet::new_checked(esp_bytes).map_err(Discard::Decode)?;
        let spi = p.spi();
        if spi < 256 {
            return Err(Discard::Decode(Error::at(
                ErrorKind::Malformed,
                esp::field::SPI.start,
            )));
        }
        let sa = self
            .sas
            .iter_mut()
            .find(|s| s.spi == spi)
            .ok_or(Discard::UnknownSpi(spi))?;
        sa.open(esp_bytes)
    }
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
