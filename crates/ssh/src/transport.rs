//! The binary packet protocol (RFC 4253 §6) and its AEAD protection.
//!
//! ```text
//! uint32    packet_length
//! byte      padding_length
//! byte[n1]  payload; n1 = packet_length - padding_length - 1
//! byte[n2]  random padding; n2 = padding_length (≥ 4)
//! byte[m]   mac / AEAD tag
//! ```
//! chacha20-poly1305@openssh.com encrypts `packet_length` with its own key
//! (K_1) and the rest with K_2; aes256-gcm@openssh.com (RFC 5647) leaves
//! `packet_length` readable but authenticated as additional data. With either,
//! padding aligns everything after `packet_length` to the cipher's block size.

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{Field, Protection, Value};
use ring::aead::{self, chacha20_poly1305_openssh as chapoly};

use crate::kex::Cipher;
use crate::wire::codec::{protect, Writer};
use crate::wire::Msg;
use crate::Error;

/// Largest packet_length accepted (RFC 4253 §6.1 asks for at least 35000).
pub const MAX_PACKET: usize = 256 * 1024;
const TAG_LEN: usize = 16;

/// Bytes to send, with the description of every byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Key of the message's label.
    pub label: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// What each byte means.
    pub fields: Vec<Field>,
}

/// Keys of one direction, as derived (RFC 4253 §7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectionKeys {
    /// The cipher.
    pub cipher: Cipher,
    /// Encryption key (C or D).
    pub key: Vec<u8>,
    /// Initial IV (A or B); empty for chacha20-poly1305.
    pub iv: Vec<u8>,
}

enum Protect {
    None,
    ChaCha {
        seal: Box<chapoly::SealingKey>,
        open: Box<chapoly::OpeningKey>,
    },
    Gcm(Box<Gcm>),
}

struct Gcm {
    key: aead::LessSafeKey,
    iv: [u8; 12],
}

impl Protect {
    fn new(k: &DirectionKeys) -> Result<Protect, Error> {
        match k.cipher {
            Cipher::ChaCha20Poly1305 => {
                let key: &[u8; 64] = k.key.as_slice().try_into().map_err(|_| Error::Internal)?;
                Ok(Protect::ChaCha {
                    seal: Box::new(chapoly::SealingKey::new(key)),
                    open: Box::new(chapoly::OpeningKey::new(key)),
                })
            }
            Cipher::Aes256Gcm => {
                let unbound = aead::UnboundKey::new(&aead::AES_256_GCM, &k.key)
                    .map_err(|_| Error::Internal)?;
                let iv: [u8; 12] = k.iv.as_slice().try_into().map_err(|_| Error::Internal)?;
                Ok(Protect::Gcm(Box::new(Gcm {
                    key: aead::LessSafeKey::new(unbound),
                    iv,
                })))
            }
        }
    }

    fn block(&self) -> usize {
        match self {
            Protect::Gcm(_) => 16,
            _ => 8,
        }
    }
}

/// The invocation counter of RFC 5647 §7.1: the low 64 bits of the IV count packets.
fn next_iv(iv: &mut [u8; 12]) {
    let mut c = [0u8; 8];
    c.copy_from_slice(iv.get(4..).unwrap_or(&[0; 8]));
    let n = u64::from_be_bytes(c).wrapping_add(1);
    for (d, s) in iv.iter_mut().skip(4).zip(n.to_be_bytes()) {
        *d = s;
    }
}

/// One side's packet layer: sequence numbers, keys, and the receive buffer.
pub struct Transport {
    send: Protect,
    recv: Protect,
    /// Sequence number of the next packet sent.
    pub send_seq: u32,
    /// Sequence number of the next packet received.
    pub recv_seq: u32,
    inbuf: Vec<u8>,
}

impl core::fmt::Debug for Transport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transport")
            .field("send_seq", &self.send_seq)
            .field("recv_seq", &self.recv_seq)
            .finish()
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            send: Protect::None,
            recv: Protect::None,
            send_seq: 0,
            recv_seq: 0,
            inbuf: Vec::new(),
        }
    }
}

impl Transport {
    /// Whether outgoing packets are encrypted.
    pub fn send_encrypted(&self) -> bool {
        !matches!(self.send, Protect::None)
    }

    /// Starts protecting outgoing packets (after sending NEWKEYS); `strict` resets the sequence number.
    pub fn rekey_send(&mut self, k: &DirectionKeys, strict: bool) -> Result<(), Error> {
        self.send = Protect::new(k)?;
        if strict {
            self.send_seq = 0;
        }
        Ok(())
    }

    /// Starts opening incoming packets (after receiving NEWKEYS).
    pub fn rekey_recv(&mut self, k: &DirectionKeys, strict: bool) -> Result<(), Error> {
        self.recv = Protect::new(k)?;
        if strict {
            self.recv_seq = 0;
        }
        Ok(())
    }

    /// Adds received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.inbuf.extend_from_slice(bytes);
    }

    /// Takes bytes from the front of the buffer (the version line).
    pub fn take_front(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.inbuf.len());
        self.inbuf.drain(..n).collect()
    }

    /// The unread bytes.
    pub fn buffered(&self) -> &[u8] {
        &self.inbuf
    }

    /// Frames and protects one message.
    pub fn seal(&mut self, msg: &Msg, rng: &mut dyn RandomSource) -> Result<Outgoing, Error> {
        let mut w = Writer::new();
        msg.emit(&mut w);
        let (payload, payload_fields) = w.finish();
        self.seal_payload(msg.label(), &payload, payload_fields, rng)
    }

    /// Frames and protects one payload already emitted with its fields (a message
    /// whose channel data carries a protocol of its own, such as SFTP).
    pub fn seal_payload(
        &mut self,
        label: &'static str,
        payload: &[u8],
        payload_fields: Vec<Field>,
        rng: &mut dyn RandomSource,
    ) -> Result<Outgoing, Error> {
        let block = self.send.block();
        let aead = self.send_encrypted();
        let unpadded = 1 + payload.len() + if aead { 0 } else { 4 };
        let mut pad_len = block - unpadded % block;
        if pad_len < 4 {
            pad_len += block;
        }
        let mut padding = vec![0u8; pad_len];
        rng.fill(&mut padding).map_err(|_| Error::Random)?;
        let packet_len = 1 + payload.len() + pad_len;
        if packet_len > MAX_PACKET {
            return Err(Error::BadPacketLength);
        }

        // The inner part: padding_length, payload, padding.
        let mut inner = Writer::new();
        inner.u8("padding_length", pad_len as u8);
        inner.group("payload", payload, payload_fields);
        inner.raw("padding", &padding, None, Protection::Plaintext);
        let (inner_bytes, inner_fields) = inner.finish();

        let seq = self.send_seq;
        self.send_seq = self.send_seq.wrapping_add(1);
        let len_bytes = (packet_len as u32).to_be_bytes();
        let len_value = Some(Value::Uint(packet_len as u64));
        let mut out = Writer::new();
        match &mut self.send {
            Protect::None => {
                out.raw(
                    "packet_length",
                    &len_bytes,
                    len_value,
                    Protection::Plaintext,
                );
                let (mut bytes, mut all) = out.finish();
                let base = bytes.len();
                bytes.extend_from_slice(&inner_bytes);
                all.extend(crate::wire::codec::shift(inner_fields, base));
                return Ok(Outgoing {
                    label,
                    bytes,
                    fields: all,
                });
            }
            Protect::ChaCha { seal, .. } => {
                let mut buf = len_bytes.to_vec();
                buf.extend_from_slice(&inner_bytes);
                let mut tag = [0u8; TAG_LEN];
                seal.seal_in_place(seq, &mut buf, &mut tag);
                let (enc_len, body) = buf.split_at(4);
                out.raw(
                    "packet_length_encrypted",
                    enc_len,
                    len_value,
                    Protection::Encrypted,
                );
                out.group("encrypted_region", body, inner_fields);
                out.raw("poly1305_tag", &tag, None, Protection::Signature);
            }
            Protect::Gcm(g) => {
                let Gcm { key, iv } = &mut **g;
                let nonce = aead::Nonce::assume_unique_for_key(*iv);
                let mut body = inner_bytes.clone();
                let tag = key
                    .seal_in_place_separate_tag(nonce, aead::Aad::from(len_bytes), &mut body)
                    .map_err(|_| Error::Internal)?;
                next_iv(iv);
                out.raw(
                    "packet_length_aad",
                    &len_bytes,
                    len_value,
                    Protection::IntegrityOnly,
                );
                out.group("encrypted_region", &body, inner_fields);
                out.raw("gcm_tag", tag.as_ref(), None, Protection::Signature);
            }
        }
        let (bytes, fields) = out.finish();
        let fields = fields
            .into_iter()
            .map(|mut f| {
                if f.name == "ssh.field.encrypted_region" {
                    f.protection = Protection::Encrypted;
                    f.children = protect(f.children, Protection::Encrypted);
                }
                f
            })
            .collect();
        Ok(Outgoing {
            label,
            bytes,
            fields,
        })
    }

    /// The next complete packet's payload, if the buffer holds one.
    pub fn open(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let Some(first) = self.inbuf.get(..4) else {
            return Ok(None);
        };
        let mut len4 = [0u8; 4];
        len4.copy_from_slice(first);
        let seq = self.recv_seq;
        let len = match &self.recv {
            Protect::ChaCha { open, .. } => {
                u32::from_be_bytes(open.decrypt_packet_length(seq, len4))
            }
            _ => u32::from_be_bytes(len4),
        } as usize;
        if !(5..=MAX_PACKET).contains(&len) {
            return Err(Error::BadPacketLength);
        }
        let tag_len = if matches!(self.recv, Protect::None) {
            0
        } else {
            TAG_LEN
        };
        // As OpenSSH does, reject a misaligned length before waiting for the
        // body or checking the tag.
        let block = self.recv.block();
        let aligned = if tag_len == 0 { 4 + len } else { len };
        if !aligned.is_multiple_of(block) {
            return Err(Error::BadPacketLength);
        }
        let total = 4 + len + tag_len;
        if self.inbuf.len() < total {
            return Ok(None);
        }
        let mut packet: Vec<u8> = self.inbuf.drain(..total).collect();
        let inner: Vec<u8> = match &mut self.recv {
            Protect::None => packet.get(4..).unwrap_or_default().to_vec(),
            Protect::ChaCha { open, .. } => {
                let tag_bytes = packet.split_off(4 + len);
                let tag: [u8; TAG_LEN] = tag_bytes.as_slice().try_into().map_err(|_| Error::Mac)?;
                let plain = open
                    .open_in_place(seq, &mut packet, &tag)
                    .map_err(|_| Error::Mac)?;
                plain.to_vec()
            }
            Protect::Gcm(g) => {
                let Gcm { key, iv } = &mut **g;
                let nonce = aead::Nonce::assume_unique_for_key(*iv);
                let mut body = packet.split_off(4);
                let plain = key
                    .open_in_place(nonce, aead::Aad::from(len4), &mut body)
                    .map_err(|_| Error::Mac)?;
                let plain = plain.to_vec();
                next_iv(iv);
                plain
            }
        };
        self.recv_seq = self.recv_seq.wrapping_add(1);
        let pad = usize::from(*inner.first().ok_or(Error::BadPacketLength)?);
        if pad < 4 || pad + 1 > inner.len() {
            return Err(Error::BadPadding);
        }
        Ok(inner.get(1..inner.len() - pad).map(<[u8]>::to_vec))
    }
}
