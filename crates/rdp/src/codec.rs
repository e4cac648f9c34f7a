//! The one way RDP bytes get their field tree: a [`Writer`] records each field as
//! it writes it, a [`Reader`] records each field as it reads it. Field names are
//! short keys (`length`); the tree holds `rdp.field.<key>` and `rdp.explain.<key>`.
//!
//! No-panic contract: every read is bounded by what is left; a length from the
//! wire is checked against what is left before anything is allocated for it.

use cipherstage_transcript::{Field, Protection, Value};

use crate::{Error, ErrorKind};

fn field(key: &str, start: usize, end: usize, value: Option<Value>) -> Field {
    Field {
        name: format!("rdp.field.{key}"),
        start,
        end,
        value,
        explain: format!("rdp.explain.{key}"),
        protection: Protection::Plaintext,
        children: Vec::new(),
    }
}

/// An open group: its key, start, and the fields laid out before it.
#[derive(Debug, Clone)]
struct Open {
    key: String,
    start: usize,
    value: Option<Value>,
    before: Vec<Field>,
}

/// Tree bookkeeping shared by the writer and the reader.
#[derive(Debug, Clone, Default)]
struct Tree {
    fields: Vec<Field>,
    stack: Vec<Open>,
}

impl Tree {
    fn push(&mut self, f: Field) {
        self.fields.push(f);
    }
    fn begin(&mut self, key: &str, at: usize, value: Option<Value>) {
        self.stack.push(Open {
            key: key.to_owned(),
            start: at,
            value,
            before: core::mem::take(&mut self.fields),
        });
    }
    fn end(&mut self, at: usize) {
        if let Some(open) = self.stack.pop() {
            let children = core::mem::replace(&mut self.fields, open.before);
            let mut g = field(&open.key, open.start, at, open.value);
            g.children = children;
            self.fields.push(g);
        }
    }
    fn finish(mut self, at: usize) -> Vec<Field> {
        while !self.stack.is_empty() {
            self.end(at);
        }
        self.fields
    }
}

/// Writes bytes and the field tree over them at once.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
    tree: Tree,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// A leaf over `bytes`.
    pub fn bytes(&mut self, key: &str, bytes: &[u8], value: Option<Value>) -> &mut Self {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        self.tree.push(field(key, start, self.buf.len(), value));
        self
    }

    /// One byte.
    pub fn u8(&mut self, key: &str, v: u8) -> &mut Self {
        self.bytes(key, &[v], Some(Value::Uint(v.into())))
    }

    /// A little-endian u16.
    pub fn u16le(&mut self, key: &str, v: u16) -> &mut Self {
        self.bytes(key, &v.to_le_bytes(), Some(Value::Uint(v.into())))
    }

    /// A big-endian u16.
    pub fn u16be(&mut self, key: &str, v: u16) -> &mut Self {
        self.bytes(key, &v.to_be_bytes(), Some(Value::Uint(v.into())))
    }

    /// A little-endian u32.
    pub fn u32le(&mut self, key: &str, v: u32) -> &mut Self {
        self.bytes(key, &v.to_le_bytes(), Some(Value::Uint(v.into())))
    }

    /// A little-endian u16 shown as a named value.
    pub fn u16_key(&mut self, key: &str, v: u16, name: &str) -> &mut Self {
        self.bytes(key, &v.to_le_bytes(), Some(Value::Key(name.to_owned())))
    }

    /// Text in a fixed-size (or exact) UTF-16LE field, zero-padded to `size` bytes.
    pub fn utf16(&mut self, key: &str, text: &str, size: usize) -> &mut Self {
        let mut b: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        b.resize(size, 0);
        self.bytes(key, &b, Some(Value::Text(text.to_owned())))
    }

    /// Opens a group at the current offset.
    pub fn begin(&mut self, key: &str) -> &mut Self {
        self.tree.begin(key, self.buf.len(), None);
        self
    }

    /// Opens a group showing a named value.
    pub fn begin_key(&mut self, key: &str, name: &str) -> &mut Self {
        self.tree
            .begin(key, self.buf.len(), Some(Value::Key(name.to_owned())));
        self
    }

    /// Closes the innermost group.
    pub fn end(&mut self) -> &mut Self {
        self.tree.end(self.buf.len());
        self
    }

    /// Appends another writer's bytes and fields (moved to where they land).
    pub fn append(&mut self, other: Writer) -> &mut Self {
        let at = self.buf.len();
        let (bytes, fields) = other.finish();
        self.buf.extend_from_slice(&bytes);
        for mut f in fields {
            shift(&mut f, at);
            self.tree.push(f);
        }
        self
    }

    /// The bytes and their tree.
    pub fn finish(self) -> (Vec<u8>, Vec<Field>) {
        let n = self.buf.len();
        (self.buf, self.tree.finish(n))
    }
}

/// Moves a field (and its children) by `by` bytes.
pub fn shift(f: &mut Field, by: usize) {
    f.start += by;
    f.end += by;
    for c in &mut f.children {
        shift(c, by);
    }
}

/// Reads bounded bytes and records the field tree over them.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data[0]` in the whole message (for error offsets and fields).
    base: usize,
    tree: Tree,
}

impl<'a> Reader<'a> {
    /// A reader over `data`, whose first byte is at `base` in the message.
    pub fn new(data: &'a [u8], base: usize) -> Reader<'a> {
        Reader {
            data,
            pos: 0,
            base,
            tree: Tree::default(),
        }
    }

    /// Where the next byte is, in the message.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left.
    pub fn left(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// An error of `kind` at the current offset.
    pub fn err(&self, kind: ErrorKind) -> Error {
        Error {
            kind,
            offset: self.offset(),
        }
    }

    /// The next `n` bytes, without a field.
    pub fn raw(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(self.err(ErrorKind::Truncated))?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or(self.err(ErrorKind::Truncated))?;
        self.pos = end;
        Ok(s)
    }

    /// The next `n` bytes as one leaf.
    pub fn bytes(&mut self, key: &str, n: usize) -> Result<&'a [u8], Error> {
        let start = self.offset();
        let s = self.raw(n)?;
        self.tree.push(field(key, start, self.offset(), None));
        Ok(s)
    }

    /// The next `n` bytes as one leaf with a value.
    pub fn bytes_value(&mut self, key: &str, n: usize, v: Value) -> Result<&'a [u8], Error> {
        let start = self.offset();
        let s = self.raw(n)?;
        self.tree.push(field(key, start, self.offset(), Some(v)));
        Ok(s)
    }

    /// Everything left as one leaf (nothing if nothing is left).
    pub fn rest(&mut self, key: &str) -> &'a [u8] {
        let n = self.left();
        if n == 0 {
            return &[];
        }
        self.bytes(key, n).unwrap_or(&[])
    }

    fn num(&mut self, key: &str, n: usize, be: bool) -> Result<u32, Error> {
        let start = self.offset();
        let s = self.raw(n)?;
        let mut v: u32 = 0;
        for i in 0..n {
            let b = if be { s.get(i) } else { s.get(n - 1 - i) };
            v = (v << 8) | u32::from(b.copied().unwrap_or(0));
        }
        self.tree.push(field(
            key,
            start,
            self.offset(),
            Some(Value::Uint(v.into())),
        ));
        Ok(v)
    }

    /// One byte.
    pub fn u8(&mut self, key: &str) -> Result<u8, Error> {
        self.num(key, 1, false).map(|v| v as u8)
    }

    /// A little-endian u16.
    pub fn u16le(&mut self, key: &str) -> Result<u16, Error> {
        self.num(key, 2, false).map(|v| v as u16)
    }

    /// A big-endian u16.
    pub fn u16be(&mut self, key: &str) -> Result<u16, Error> {
        self.num(key, 2, true).map(|v| v as u16)
    }

    /// A little-endian u32.
    pub fn u32le(&mut self, key: &str) -> Result<u32, Error> {
        self.num(key, 4, false)
    }

    /// Replaces the value of the field read last (a code shown by its name).
    pub fn name_last(&mut self, name: &str) {
        if let Some(f) = self.tree.fields.last_mut() {
            f.value = Some(Value::Key(name.to_owned()));
        }
    }

    /// Sets the value of the field read last.
    pub fn value_last(&mut self, v: Value) {
        if let Some(f) = self.tree.fields.last_mut() {
            f.value = Some(v);
        }
    }

    /// A sub-reader over the next `n` bytes; its fields are appended with [`Reader::join`].
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, Error> {
        let base = self.offset();
        let s = self.raw(n)?;
        Ok(Reader::new(s, base))
    }

    /// Takes a sub-reader's fields into this tree.
    pub fn join(&mut self, sub: Reader<'a>) {
        let at = sub.offset();
        for f in sub.tree.finish(at) {
            self.tree.push(f);
        }
    }

    /// Appends fields made elsewhere (already at their message offsets).
    pub fn push_fields(&mut self, fields: Vec<Field>) {
        for f in fields {
            self.tree.push(f);
        }
    }

    /// Opens a group.
    pub fn begin(&mut self, key: &str) {
        self.tree.begin(key, self.offset(), None);
    }

    /// Opens a group showing a named value.
    pub fn begin_key(&mut self, key: &str, name: &str) {
        self.tree
            .begin(key, self.offset(), Some(Value::Key(name.to_owned())));
    }

    /// Closes the innermost group.
    pub fn end(&mut self) {
        self.tree.end(self.offset());
    }

    /// Fails unless everything was read.
    pub fn expect_empty(&self) -> Result<(), Error> {
        if self.left() == 0 {
            Ok(())
        } else {
            Err(self.err(ErrorKind::Trailing))
        }
    }

    /// The fields read.
    pub fn finish(self) -> Vec<Field> {
        let at = self.offset();
        self.tree.finish(at)
    }
}
