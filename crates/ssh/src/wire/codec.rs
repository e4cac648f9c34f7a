//! The SSH data types of RFC 4251 §5: byte, boolean, uint32, string, mpint, name-list.
//!
//! [`Reader`] is bounded: every read checks the remaining length first, so no
//! decode panics on any input. [`Writer`] emits bytes and, at the same time,
//! records a field for each range it writes, so a message's field tree is
//! produced by the same code that produces its bytes and cannot drift from it.

use cipherstage_transcript::{Field, Protection, Value};

/// What is wrong with received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Fewer bytes than the field needs.
    Truncated,
    /// Bytes left over after the last field.
    TrailingBytes,
    /// A string that must be UTF-8/ASCII is not.
    NotText,
    /// A boolean or enumerated value out of range, or a length too large.
    BadValue,
    /// A message type that cannot appear here.
    UnexpectedMessage,
}

/// A decode fault and the offset (within the decoded buffer) where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// What is wrong.
    pub kind: DecodeErrorKind,
    /// Byte offset of the fault.
    pub offset: usize,
}

/// A bounded cursor over received bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, at: 0 }
    }

    /// The current offset.
    pub fn offset(&self) -> usize {
        self.at
    }

    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            kind,
            offset: self.at,
        }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .ok_or(self.err(DecodeErrorKind::Truncated))?;
        let out = self
            .buf
            .get(self.at..end)
            .ok_or(self.err(DecodeErrorKind::Truncated))?;
        self.at = end;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// A boolean: RFC 4251 §5 says every non-zero value MUST be read as TRUE (only
    /// 0 and 1 may be sent, which [`Writer::bool`] does).
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        Ok(self.u8()? != 0)
    }

    /// A big-endian uint32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// A big-endian uint64 (SFTP offsets and sizes).
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A string: uint32 length, then that many bytes.
    pub fn string(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A string that must be UTF-8.
    pub fn text(&mut self) -> Result<String, DecodeError> {
        let at = self.at;
        let s = self.string()?;
        String::from_utf8(s.to_vec()).map_err(|_| DecodeError {
            kind: DecodeErrorKind::NotText,
            offset: at,
        })
    }

    /// A name-list: a string of comma-separated ASCII names.
    pub fn name_list(&mut self) -> Result<Vec<String>, DecodeError> {
        let at = self.at;
        let s = self.string()?;
        if !s.iter().all(|b| b.is_ascii_graphic()) {
            return Err(DecodeError {
                kind: DecodeErrorKind::NotText,
                offset: at,
            });
        }
        let s = String::from_utf8_lossy(s);
        if s.is_empty() {
            return Ok(Vec::new());
        }
        Ok(s.split(',').map(str::to_owned).collect())
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.at..).unwrap_or_default();
        self.at = self.buf.len();
        out
    }

    /// Fails if bytes are left.
    pub fn expect_empty(&self) -> Result<(), DecodeError> {
        if self.at == self.buf.len() {
            Ok(())
        } else {
            Err(self.err(DecodeErrorKind::TrailingBytes))
        }
    }
}

/// Encodes `bytes` (an unsigned big-endian integer) as an mpint (RFC 4251 §5).
pub fn mpint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => bytes.get(i..).unwrap_or_default(),
        None => &[],
    };
    let mut body = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(trimmed);
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// Emits bytes and the field of each range (offsets relative to the writer's start).
///
/// Field ids are short (`cookie`); the keys are `ssh.field.<id>` and
/// `ssh.explain.<id>`.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
    fields: Vec<Field>,
    /// Key prefix of the fields (`ssh` when unset; `sftp` for SFTP packets).
    prefix: Option<&'static str>,
}

/// The key of a field id's name.
pub fn name_key(id: &str) -> String {
    format!("ssh.field.{id}")
}

/// The key of a field id's explanation.
pub fn explain_key(id: &str) -> String {
    format!("ssh.explain.{id}")
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer::default()
    }

    /// An empty writer whose field keys are `<prefix>.field.<id>` and
    /// `<prefix>.explain.<id>` (a protocol carried inside SSH, such as SFTP).
    pub fn with_prefix(prefix: &'static str) -> Self {
        Writer {
            prefix: Some(prefix),
            ..Writer::default()
        }
    }

    fn keys(&self, id: &str) -> (String, String) {
        match self.prefix {
            None => (name_key(id), explain_key(id)),
            Some(p) => (format!("{p}.field.{id}"), format!("{p}.explain.{id}")),
        }
    }

    /// The bytes written.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes and fields.
    pub fn finish(self) -> (Vec<u8>, Vec<Field>) {
        (self.buf, self.fields)
    }

    /// Raw bytes as one leaf.
    pub fn raw(&mut self, id: &str, bytes: &[u8], value: Option<Value>, p: Protection) {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        let (name, explain) = self.keys(id);
        self.fields.push(Field {
            name,
            start,
            end: self.buf.len(),
            value,
            explain,
            protection: p,
            children: Vec::new(),
        });
    }

    /// A byte shown as a number.
    pub fn u8(&mut self, id: &str, v: u8) {
        self.raw(id, &[v], Some(Value::Uint(v.into())), Protection::Plaintext);
    }

    /// A message-type byte, shown as the message's key.
    pub fn msg_type(&mut self, v: u8, key: &str) {
        self.raw(
            "msg_type",
            &[v],
            Some(Value::Key(key.to_owned())),
            Protection::Plaintext,
        );
    }

    /// A boolean.
    pub fn bool(&mut self, id: &str, v: bool) {
        let key = if v {
            "ssh.value.true"
        } else {
            "ssh.value.false"
        };
        self.raw(
            id,
            &[u8::from(v)],
            Some(Value::Key(key.into())),
            Protection::Plaintext,
        );
    }

    /// A uint32.
    pub fn u32(&mut self, id: &str, v: u32) {
        self.raw(
            id,
            &v.to_be_bytes(),
            Some(Value::Uint(v.into())),
            Protection::Plaintext,
        );
    }

    /// A uint64.
    pub fn u64(&mut self, id: &str, v: u64) {
        self.raw(
            id,
            &v.to_be_bytes(),
            Some(Value::Uint(v)),
            Protection::Plaintext,
        );
    }

    /// Appends bytes with their fields (offsets relative to the bytes' start).
    pub fn extend(&mut self, bytes: &[u8], fields: Vec<Field>) {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        self.fields.extend(shift(fields, start));
    }

    fn len_prefix(&mut self, n: usize) {
        self.raw(
            "length",
            &(n as u32).to_be_bytes(),
            Some(Value::Uint(n as u64)),
            Protection::Plaintext,
        );
    }

    /// A string shown as text.
    pub fn text(&mut self, id: &str, s: &str) {
        self.len_prefix(s.len());
        self.raw(
            id,
            s.as_bytes(),
            Some(Value::Text(s.to_owned())),
            Protection::Plaintext,
        );
    }

    /// A string of opaque bytes (no value shown) with protection `p`.
    pub fn string(&mut self, id: &str, b: &[u8], p: Protection) {
        self.len_prefix(b.len());
        self.raw(id, b, None, p);
    }

    /// A name-list.
    pub fn name_list(&mut self, id: &str, names: &[String]) {
        self.text(id, &names.join(","));
    }

    /// An mpint built from unsigned big-endian bytes.
    pub fn mpint(&mut self, id: &str, unsigned: &[u8], p: Protection) {
        let enc = mpint(unsigned);
        let (len, body) = enc.split_at(4);
        self.raw(
            "length",
            len,
            Some(Value::Uint(body.len() as u64)),
            Protection::Plaintext,
        );
        self.raw(id, body, None, p);
    }

    /// An mpint whose body is given as received (length prefix, then the body as is).
    pub fn mpint_raw(&mut self, id: &str, body: &[u8], p: Protection) {
        self.len_prefix(body.len());
        self.raw(id, body, None, p);
    }

    /// A string whose contents are themselves structured (a key or signature blob).
    pub fn nested(&mut self, id: &str, build: impl FnOnce(&mut Writer)) {
        let mut inner = Writer {
            prefix: self.prefix,
            ..Writer::default()
        };
        build(&mut inner);
        let (bytes, fields) = inner.finish();
        self.len_prefix(bytes.len());
        self.group(id, &bytes, fields);
    }

    /// A string whose contents come with their own fields (offsets relative to its
    /// start): an SFTP packet inside CHANNEL_DATA.
    pub fn string_group(&mut self, id: &str, bytes: &[u8], fields: Vec<Field>) {
        self.len_prefix(bytes.len());
        self.group(id, bytes, fields);
    }

    /// A group of already-built fields (offsets relative to the group's start).
    pub fn group(&mut self, id: &str, bytes: &[u8], fields: Vec<Field>) {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        let (name, explain) = self.keys(id);
        self.fields.push(Field {
            name,
            start,
            end: self.buf.len(),
            value: None,
            explain,
            protection: Protection::Plaintext,
            children: shift(fields, start),
        });
    }
}

/// Moves fields by `by` bytes.
pub fn shift(fields: Vec<Field>, by: usize) -> Vec<Field> {
    fields
        .into_iter()
        .map(|mut f| {
            f.start += by;
            f.end += by;
            f.children = shift(f.children, by);
            f
        })
        .collect()
}

/// Sets the protection of fields marked plaintext (recursively) to `p`.
pub fn protect(fields: Vec<Field>, p: Protection) -> Vec<Field> {
    fields
        .into_iter()
        .map(|mut f| {
            if f.protection == Protection::Plaintext || p == Protection::Encrypted {
                f.protection = p;
            }
            f.children = protect(f.children, p);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn any_non_zero_boolean_is_true_as_rfc_4251_section_5_says() {
        let mut r = Reader::new(&[0, 1, 2, 0xff]);
        let got: Vec<bool> = (0..4).map(|_| r.bool().unwrap()).collect();
        assert_eq!(got, [false, true, true, true]);
        assert!(r.bool().is_err(), "a missing byte is a decode error");
    }

    use super::*;

    #[test]
    fn mpint_matches_rfc4251_examples() {
        assert_eq!(mpint(&[0]), vec![0, 0, 0, 0]);
        assert_eq!(
            mpint(&[0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7]),
            vec![0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7]
        );
        assert_eq!(mpint(&[0x80]), vec![0, 0, 0, 2, 0, 0x80]);
    }

    #[test]
    fn reader_rejects_truncation_with_offset() {
        let mut r = Reader::new(&[0, 0, 0, 9, 1, 2]);
        let e = r.string().unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::Truncated);
        assert_eq!(e.offset, 4);
        let mut r = Reader::new(&[0, 0, 0, 0]);
        assert_eq!(r.name_list().unwrap(), Vec::<String>::new());
        assert!(r.expect_empty().is_ok());
    }
}
