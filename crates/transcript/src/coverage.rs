//! The every-byte-explained check.

use crate::{Event, Field, Transcript};

/// Where and why a message's field tree does not explain its bytes exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageError {
    /// Index of the event (the message) in the transcript.
    pub event: usize,
    /// First byte offset concerned.
    pub offset: usize,
    /// What is wrong there.
    pub kind: CoverageErrorKind,
}

/// What is wrong with a field tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoverageErrorKind {
    /// Bytes from `offset` up to this end belong to no leaf.
    Gap {
        /// End of the unexplained run (exclusive).
        end: usize,
    },
    /// A field starts before the previous one ended, so bytes belong to two leaves.
    Overlap,
    /// A field ends past the end of its parent or of the message.
    Overrun,
    /// A field whose end is before its start.
    Inverted,
    /// A field without an explanation key.
    NoExplanation,
}

impl core::fmt::Display for CoverageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "event {} byte {}: {:?}",
            self.event, self.offset, self.kind
        )
    }
}

/// Checks that every byte of every message belongs to exactly one leaf field
/// with an explanation key, and that every parent is exactly covered by its children.
pub fn check_coverage(t: &Transcript) -> Result<(), CoverageError> {
    for (event, e) in t.events.iter().enumerate() {
        if let Event::Message(m) = e {
            let err = |offset, kind| CoverageError {
                event,
                offset,
                kind,
            };
            cover(&m.fields, 0, m.bytes.len()).map_err(|(o, k)| err(o, k))?;
        }
    }
    Ok(())
}

/// Checks one field tree against the bytes `start..end` it must explain, as
/// [`check_coverage`] does for each message (for bytes outside a transcript: a pasted
/// certificate, a packet sent to a real peer). Errors name event 0.
pub fn check_fields(fields: &[Field], start: usize, end: usize) -> Result<(), CoverageError> {
    cover(fields, start, end).map_err(|(offset, kind)| CoverageError {
        event: 0,
        offset,
        kind,
    })
}

/// Checks that `fields` tile `start..end` exactly, recursively.
fn cover(fields: &[Field], start: usize, end: usize) -> Result<(), (usize, CoverageErrorKind)> {
    let mut at = start;
    for f in fields {
        if f.explain.is_empty() || f.name.is_empty() {
            return Err((f.start, CoverageErrorKind::NoExplanation));
        }
        if f.end < f.start {
            return Err((f.start, CoverageErrorKind::Inverted));
        }
        if f.start < at {
            return Err((f.start, CoverageErrorKind::Overlap));
        }
        if f.start > at {
            return Err((at, CoverageErrorKind::Gap { end: f.start }));
        }
        if f.end > end {
            return Err((f.start, CoverageErrorKind::Overrun));
        }
        if !f.children.is_empty() {
            cover(&f.children, f.start, f.end)?;
        }
        at = f.end;
    }
    if at < end {
        return Err((at, CoverageErrorKind::Gap { end }));
    }
    Ok(())
}
