//! A bounded reader and length-prefixed writers (the shape of rustls `msgs/codec.rs`).
//!
//! No-panic contract: every read is bounds-checked and returns a [`DecodeError`]
//! with the absolute offset where the bytes ran out or went wrong.

/// What went wrong while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The bytes end before the structure does.
    Truncated,
    /// Bytes are left over after the structure.
    TrailingBytes,
    /// A value the protocol forbids here (a zero-length list, an odd length …).
    Invalid,
}

/// A decode fault and where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// Byte offset from the start of the decoded buffer.
    pub offset: usize,
}

/// Reads from a byte slice, remembering its absolute offset.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, whose first byte is at absolute offset 0.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not read yet.
    pub fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            kind,
            offset: self.offset(),
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let out = self
            .buf
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or(self.err(DecodeErrorKind::Truncated))?;
        self.pos += n;
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ]))
    }

    /// A big-endian u24.
    pub fn u24(&mut self) -> Result<usize, DecodeError> {
        let b = self.take(3)?;
        Ok(b.iter().fold(0usize, |a, x| (a << 8) | *x as usize))
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(b.iter().fold(0u32, |a, x| (a << 8) | u32::from(*x)))
    }

    /// A sub-reader over the next `n` bytes.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        let base = self.offset();
        let buf = self.take(n)?;
        Ok(Reader { buf, pos: 0, base })
    }

    /// A sub-reader over a vector with a 1-byte length prefix.
    pub fn sub8(&mut self) -> Result<Reader<'a>, DecodeError> {
        let n = self.u8()? as usize;
        self.sub(n)
    }

    /// A sub-reader over a vector with a 2-byte length prefix.
    pub fn sub16(&mut self) -> Result<Reader<'a>, DecodeError> {
        let n = self.u16()? as usize;
        self.sub(n)
    }

    /// A sub-reader over a vector with a 3-byte length prefix.
    pub fn sub24(&mut self) -> Result<Reader<'a>, DecodeError> {
        let n = self.u24()?;
        self.sub(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        out
    }

    /// Fails if bytes are left.
    pub fn expect_empty(&self) -> Result<(), DecodeError> {
        if self.left() == 0 {
            Ok(())
        } else {
            Err(self.err(DecodeErrorKind::TrailingBytes))
        }
    }

    /// An error at the current position.
    pub fn invalid(&self) -> DecodeError {
        self.err(DecodeErrorKind::Invalid)
    }
}

/// Appends a big-endian u16.
pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Appends a big-endian u24.
pub fn put_u24(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
}

/// Appends `body(out)` preceded by its length in `width` bytes (1, 2 or 3).
pub fn put_prefixed(out: &mut Vec<u8>, width: usize, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend(core::iter::repeat_n(0u8, width));
    body(out);
    let len = out.len() - at - width;
    for i in 0..width {
        if let Some(b) = out.get_mut(at + i) {
            *b = (len >> (8 * (width - 1 - i))) as u8;
        }
    }
}
