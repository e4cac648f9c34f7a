//! A bounded reader for received bytes and a writer that records the field of every
//! byte range it emits, so a message's field tree is made while it is written.
//!
//! The no-panic contract: every `Reader` method checks its bounds and returns a
//! [`DecodeError`] naming the offset; nothing indexes into received bytes directly.

use cipherstage_transcript::{Field, Protection, Value};

/// Why received bytes could not be read, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// What is wrong.
    pub kind: DecodeErrorKind,
    /// Offset in the message where it was noticed.
    pub offset: usize,
}

/// What is wrong with the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Fewer bytes than a length or a fixed field needs.
    Truncated,
    /// Bytes left over after a structure that should end there.
    Trailing,
    /// A value RFC 7296 does not allow here (a reserved bit, a length below the minimum).
    Malformed,
    /// More structures than this implementation accepts (proposals, payloads …).
    TooMany,
    /// A payload marked critical that this implementation does not know (§2.5).
    UnsupportedCritical(u8),
}

/// Reads from a slice without ever reading past it.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Offset of `bytes[0]` in the whole message, for error offsets.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, which start at `base` in the message.
    pub fn new(bytes: &'a [u8], base: usize) -> Self {
        Reader { bytes, at: 0, base }
    }

    /// Offset of the next byte in the message.
    pub fn offset(&self) -> usize {
        self.base + self.at
    }

    /// The error `kind` at the current offset.
    pub fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            kind,
            offset: self.offset(),
        }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.at >= self.bytes.len()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(self.error(DecodeErrorKind::Truncated))?;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or(self.error(DecodeErrorKind::Truncated))?;
        self.at = end;
        Ok(out)
    }

    /// A reader over the next `n` bytes (a sub-structure with its own length).
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        let base = self.offset();
        let bytes = self.take(n)?;
        Ok(Reader::new(bytes, base))
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.bytes.get(self.at..).unwrap_or(&[]);
        self.at = self.bytes.len();
        out
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Fails unless every byte has been read.
    pub fn expect_empty(&self) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(DecodeErrorKind::Trailing))
        }
    }
}

/// The key of a field id's name (`ike.field.spi_i`).
pub fn name_key(id: &str) -> String {
    format!("ike.field.{id}")
}

/// The key of a field id's explanation (`ike.explain.spi_i`).
pub fn explain_key(id: &str) -> String {
    format!("ike.explain.{id}")
}

/// Emits bytes and the field of each range; offsets are relative to the writer's start
/// and shifted when one writer is placed inside another.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Writer {
    buf: Vec<u8>,
    fields: Vec<Field>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer::default()
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// How many bytes were written.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes and their fields.
    pub fn finish(self) -> (Vec<u8>, Vec<Field>) {
        (self.buf, self.fields)
    }

    /// Raw bytes as one leaf `ike.field.<id>`.
    pub fn raw(&mut self, id: &str, bytes: &[u8], value: Option<Value>, p: Protection) {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        self.fields.push(Field {
            name: name_key(id),
            start,
            end: self.buf.len(),
            value,
            explain: explain_key(id),
            protection: p,
            children: Vec::new(),
        });
    }

    /// One byte shown as a number.
    pub fn u8(&mut self, id: &str, v: u8, p: Protection) {
        self.raw(id, &[v], Some(Value::Uint(v.into())), p);
    }

    /// A u16 shown as a number.
    pub fn u16(&mut self, id: &str, v: u16, p: Protection) {
        self.raw(id, &v.to_be_bytes(), Some(Value::Uint(v.into())), p);
    }

    /// A u32 shown as a number.
    pub fn u32(&mut self, id: &str, v: u32, p: Protection) {
        self.raw(id, &v.to_be_bytes(), Some(Value::Uint(v.into())), p);
    }

    /// Bytes whose value is an enumerated name (`ike.value.encr_aes_gcm_16`).
    pub fn named(&mut self, id: &str, bytes: &[u8], key: &str, p: Protection) {
        self.raw(id, bytes, Some(Value::Key(key.to_owned())), p);
    }

    /// Bytes shown as hexadecimal text (SPIs).
    pub fn hex(&mut self, id: &str, bytes: &[u8], p: Protection) {
        let text = format!("0x{}", cipherstage_transcript::hex_encode(bytes));
        self.raw(id, bytes, Some(Value::Text(text)), p);
    }

    /// Places `inner` here as the children of one group field `ike.field.<id>`.
    pub fn group(&mut self, id: &str, p: Protection, inner: Writer) {
        self.group_valued(id, p, inner, None);
    }

    /// As [`Writer::group`], with a value shown on the group.
    pub fn group_valued(&mut self, id: &str, p: Protection, inner: Writer, value: Option<Value>) {
        let start = self.buf.len();
        let (bytes, mut children) = inner.finish();
        shift(&mut children, start);
        self.buf.extend_from_slice(&bytes);
        self.fields.push(Field {
            name: name_key(id),
            start,
            end: self.buf.len(),
            value,
            explain: explain_key(id),
            protection: p,
            children,
        });
    }

    /// Places `bytes` with an already-made field tree (relative to their start) here:
    /// the encrypted part of an SK payload, described by its plaintext.
    pub fn described(&mut self, bytes: &[u8], mut fields: Vec<Field>) {
        shift(&mut fields, self.buf.len());
        self.buf.extend_from_slice(bytes);
        self.fields.extend(fields);
    }
}

/// Moves every field of a tree `by` bytes to the right.
pub fn shift(fields: &mut [Field], by: usize) {
    for f in fields {
        f.start += by;
        f.end += by;
        shift(&mut f.children, by);
    }
}

/// Sets every field of a tree to protection `p` (the inner payloads of an SK payload).
pub fn protect(fields: &mut [Field], p: Protection) {
    for f in fields {
        f.protection = p;
        protect(&mut f.children, p);
    }
}
