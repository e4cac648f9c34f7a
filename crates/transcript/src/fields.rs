//! Building a field tree in wire order, so offsets are never written by hand.

use crate::{Field, Protection, Value};

/// Lays out fields one after another from a start offset.
///
/// ```
/// use cipherstage_transcript::{FieldsBuilder, Protection, Value};
/// let mut b = FieldsBuilder::new(0);
/// b.leaf("f.type", 1, Some(Value::Uint(1)), "x.type", Protection::Plaintext);
/// b.group("f.body", "x.body", Protection::Encrypted, |b| {
///     b.leaf("f.data", 4, None, "x.data", Protection::Encrypted);
/// });
/// let fields = b.finish();
/// assert_eq!(fields[1].end, 5);
/// ```
#[derive(Debug)]
pub struct FieldsBuilder {
    offset: usize,
    fields: Vec<Field>,
}

impl FieldsBuilder {
    /// A builder whose first field starts at `offset`.
    pub fn new(offset: usize) -> Self {
        FieldsBuilder {
            offset,
            fields: Vec::new(),
        }
    }

    /// The offset the next field will start at.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Appends a leaf of `len` bytes.
    pub fn leaf(
        &mut self,
        name: &str,
        len: usize,
        value: Option<Value>,
        explain: &str,
        protection: Protection,
    ) -> &mut Self {
        let start = self.offset;
        self.offset += len;
        self.fields.push(Field {
            name: name.to_owned(),
            start,
            end: self.offset,
            value,
            explain: explain.to_owned(),
            protection,
            children: Vec::new(),
        });
        self
    }

    /// Appends a parent field whose range is exactly what `build` lays out inside it.
    pub fn group(
        &mut self,
        name: &str,
        explain: &str,
        protection: Protection,
        build: impl FnOnce(&mut FieldsBuilder),
    ) -> &mut Self {
        let mut inner = FieldsBuilder::new(self.offset);
        build(&mut inner);
        let start = self.offset;
        self.offset = inner.offset;
        self.fields.push(Field {
            name: name.to_owned(),
            start,
            end: self.offset,
            value: None,
            explain: explain.to_owned(),
            protection,
            children: inner.fields,
        });
        self
    }

    /// The field laid out last, to give a group a value computed from its children
    /// (an X.509 Name shows its common name).
    pub fn last_mut(&mut self) -> Option<&mut Field> {
        self.fields.last_mut()
    }

    /// The fields laid out so far.
    pub fn finish(self) -> Vec<Field> {
        self.fields
    }
}
