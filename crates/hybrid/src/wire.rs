//! The two message types, in the smoltcp style: named field ranges, a parse that
//! checks every length before reading, an emit that cannot fail, and a
//! description of every byte for the transcript.
//!
//! No accessor here indexes a slice without a bounds check: bytes from the link
//! may have been tampered with.

use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

/// Message type of Alice's key share.
pub const TYPE_CLIENT_SHARE: u8 = 0x01;
/// Message type of Bob's key share.
pub const TYPE_SERVER_SHARE: u8 = 0x02;
/// Message type of a sealed (encrypted) message, as TLS's application_data.
pub const TYPE_SEALED: u8 = 0x17;
/// Length of an X25519 public key.
pub const SHARE_LEN: usize = 32;
/// Length of the AES-GCM tag.
pub const TAG_LEN: usize = 16;

/// Byte ranges of the fixed parts.
pub mod field {
    /// A range of bytes.
    pub type Field = core::ops::Range<usize>;
    /// Message type, in both messages.
    pub const TYPE: Field = 0..1;
    /// KeyShare: length of the public key.
    pub const SHARE_LENGTH: Field = 1..3;
    /// KeyShare: the public key.
    pub const SHARE_KEY: Field = 3..35;
    /// Sealed: sequence number.
    pub const SEQUENCE: Field = 1..9;
    /// Sealed: length of ciphertext and tag.
    pub const SEALED_LENGTH: Field = 9..11;
    /// Sealed: the header, which is also the AEAD's additional data.
    pub const SEALED_HEADER: Field = 0..11;
}

/// Why bytes could not be read as a message, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// What is wrong.
    pub kind: DecodeErrorKind,
    /// The byte offset where it was noticed.
    pub offset: usize,
}

/// What is wrong with a message's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Fewer bytes than the header or length field requires.
    Truncated,
    /// A message type this protocol does not have, or not the one expected here.
    UnexpectedType(u8),
    /// A length field that does not fit the message.
    BadLength(u16),
    /// Bytes after the end of the message.
    TrailingBytes,
}

fn slice(bytes: &[u8], range: field::Field) -> Result<&[u8], DecodeError> {
    let start = range.start;
    bytes.get(range).ok_or(DecodeError {
        kind: DecodeErrorKind::Truncated,
        offset: start.min(bytes.len()),
    })
}

fn u16_at(bytes: &[u8], range: field::Field) -> Result<u16, DecodeError> {
    let b = slice(bytes, range)?;
    Ok(u16::from_be_bytes([
        *b.first().unwrap_or(&0),
        *b.get(1).unwrap_or(&0),
    ]))
}

/// A key share: `type (1) | length (2) = 32 | X25519 public key (32)`.
///
/// ```text
/// struct {
///     uint8  type;              // 0x01 from Alice, 0x02 from Bob
///     uint16 length;            // 32
///     opaque public_key[32];    // X25519 u-coordinate, RFC 7748 §5
/// } KeyShare;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyShare {
    /// [`TYPE_CLIENT_SHARE`] or [`TYPE_SERVER_SHARE`].
    pub msg_type: u8,
    /// The public key.
    pub public_key: [u8; SHARE_LEN],
}

impl KeyShare {
    /// Reads a key share of type `expected`.
    pub fn parse(bytes: &[u8], expected: u8) -> Result<Self, DecodeError> {
        let msg_type = *slice(bytes, field::TYPE)?.first().unwrap_or(&0);
        if msg_type != expected {
            return Err(DecodeError {
                kind: DecodeErrorKind::UnexpectedType(msg_type),
                offset: 0,
            });
        }
        let len = u16_at(bytes, field::SHARE_LENGTH)?;
        if usize::from(len) != SHARE_LEN {
            return Err(DecodeError {
                kind: DecodeErrorKind::BadLength(len),
                offset: field::SHARE_LENGTH.start,
            });
        }
        let mut public_key = [0u8; SHARE_LEN];
        public_key.copy_from_slice(slice(bytes, field::SHARE_KEY)?);
        if bytes.len() > field::SHARE_KEY.end {
            return Err(DecodeError {
                kind: DecodeErrorKind::TrailingBytes,
                offset: field::SHARE_KEY.end,
            });
        }
        Ok(KeyShare {
            msg_type,
            public_key,
        })
    }

    /// Length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        field::SHARE_KEY.end
    }

    /// The message's bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer_len());
        out.push(self.msg_type);
        out.extend_from_slice(&(SHARE_LEN as u16).to_be_bytes());
        out.extend_from_slice(&self.public_key);
        out
    }

    /// What every byte means.
    pub fn fields(&self) -> Vec<Field> {
        let type_key = if self.msg_type == TYPE_CLIENT_SHARE {
            "hybrid.type.client_share"
        } else {
            "hybrid.type.server_share"
        };
        let mut b = FieldsBuilder::new(0);
        b.leaf(
            "hybrid.field.type",
            1,
            Some(Value::Key(type_key.into())),
            "hybrid.explain.type",
            Protection::Plaintext,
        );
        b.leaf(
            "hybrid.field.length",
            2,
            Some(Value::Uint(SHARE_LEN as u64)),
            "hybrid.explain.share_length",
            Protection::Plaintext,
        );
        b.leaf(
            "hybrid.field.public_key",
            SHARE_LEN,
            None,
            "hybrid.explain.public_key",
            Protection::KeyMaterial,
        );
        b.finish()
    }
}

/// A sealed message, laid out like a TLS record.
///
/// ```text
/// struct {
///     uint8  type = 0x17;
///     uint64 sequence;               // per direction, from 0; part of the nonce
///     uint16 length;                 // ciphertext + tag
///     opaque ciphertext[length-16];  // AES-128-GCM(key, iv XOR sequence, header, text)
///     opaque tag[16];                // covers header and ciphertext
/// } Sealed;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed<'a> {
    /// Sequence number.
    pub sequence: u64,
    /// Ciphertext followed by the tag.
    pub payload: &'a [u8],
}

impl<'a> Sealed<'a> {
    /// Reads a sealed message; the payload is not decrypted here.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let msg_type = *slice(bytes, field::TYPE)?.first().unwrap_or(&0);
        if msg_type != TYPE_SEALED {
            return Err(DecodeError {
                kind: DecodeErrorKind::UnexpectedType(msg_type),
                offset: 0,
            });
        }
        let seq = slice(bytes, field::SEQUENCE)?;
        let mut seq_bytes = [0u8; 8];
        seq_bytes.copy_from_slice(seq);
        let len = u16_at(bytes, field::SEALED_LENGTH)?;
        let body = bytes.get(field::SEALED_HEADER.end..).unwrap_or(&[]);
        if usize::from(len) < TAG_LEN || usize::from(len) > body.len() {
            return Err(DecodeError {
                kind: DecodeErrorKind::BadLength(len),
                offset: field::SEALED_LENGTH.start,
            });
        }
        if usize::from(len) < body.len() {
            return Err(DecodeError {
                kind: DecodeErrorKind::TrailingBytes,
                offset: field::SEALED_HEADER.end + usize::from(len),
            });
        }
        Ok(Sealed {
            sequence: u64::from_be_bytes(seq_bytes),
            payload: body,
        })
    }

    /// The header (the AEAD's additional data) for a payload of `payload_len` bytes.
    pub fn header(sequence: u64, payload_len: usize) -> Vec<u8> {
        let mut h = Vec::with_capacity(field::SEALED_HEADER.end);
        h.push(TYPE_SEALED);
        h.extend_from_slice(&sequence.to_be_bytes());
        h.extend_from_slice(&(payload_len as u16).to_be_bytes());
        h
    }

    /// What every byte means; `text` is the plaintext the sender sealed.
    pub fn fields(sequence: u64, text: &str, text_len: usize) -> Vec<Field> {
        let mut b = FieldsBuilder::new(0);
        b.group(
            "hybrid.field.header",
            "hybrid.explain.header",
            Protection::IntegrityOnly,
            |b| {
                b.leaf(
                    "hybrid.field.type",
                    1,
                    Some(Value::Key("hybrid.type.sealed".into())),
                    "hybrid.explain.type",
                    Protection::IntegrityOnly,
                );
                b.leaf(
                    "hybrid.field.sequence",
                    8,
                    Some(Value::Uint(sequence)),
                    "hybrid.explain.sequence",
                    Protection::IntegrityOnly,
                );
                b.leaf(
                    "hybrid.field.length",
                    2,
                    Some(Value::Uint((text_len + TAG_LEN) as u64)),
                    "hybrid.explain.sealed_length",
                    Protection::IntegrityOnly,
                );
            },
        );
        b.leaf(
            "hybrid.field.ciphertext",
            text_len,
            Some(Value::Text(text.to_owned())),
            "hybrid.explain.ciphertext",
            Protection::Encrypted,
        );
        b.leaf(
            "hybrid.field.tag",
            TAG_LEN,
            None,
            "hybrid.explain.tag",
            Protection::Signature,
        );
        b.finish()
    }
}
