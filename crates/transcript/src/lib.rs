//! The transcript model: the contract between protocol cores and the app.
//!
//! A protocol core runs a scenario and records what happened as a [`Transcript`]:
//! actors, the links between them, and an ordered list of [`Event`]s — messages
//! with the exact bytes sent and a field tree covering every byte, secrets with
//! the formula they came from, checks with typed outcomes, alerts and narration.
//!
//! Everything here is plain, serde-serialisable data. There is no UI text: the
//! cores emit stable keys (`hybrid.field.tag`) and values; the app owns the
//! Japanese and English sentences.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod coverage;
pub mod driver;
mod fields;
pub mod hexser;
mod model;
pub mod quiz;
pub mod rand;
mod recorder;

pub use coverage::{check_coverage, check_fields, CoverageError, CoverageErrorKind};
pub use driver::{drive, Direct, Endpoint, Fate, Flow, NarrateFlips, Path, Stop, Transmit};
pub use fields::FieldsBuilder;
pub use hexser::{decode as hex_decode, encode as hex_encode};
pub use model::*;
pub use recorder::{Delivered, Recorder, TamperAt, Wire};

/// Why a transcript could not be read from JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// Line of the JSON text where reading stopped (1-based).
    pub line: usize,
    /// Column of the JSON text where reading stopped (1-based).
    pub column: usize,
    /// The parser's own description (English, for logs; the app shows its own text).
    pub detail: String,
}

impl Transcript {
    /// The transcript as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a transcript from JSON, checking that every message is fully explained.
    pub fn from_json(text: &str) -> Result<Transcript, ImportError> {
        let t: Transcript = serde_json::from_str(text).map_err(|e| ImportError {
            line: e.line(),
            column: e.column(),
            detail: e.to_string(),
        })?;
        t.check_references().map_err(|detail| ImportError {
            line: 0,
            column: 0,
            detail,
        })?;
        Ok(t)
    }

    /// Checks that every actor and link an event or link names exists, and that a
    /// tamper record points inside its message.
    pub fn check_references(&self) -> Result<(), String> {
        let actors = self.actors.len();
        let actor = |i: ActorId, what: &str| {
            if i < actors {
                Ok(())
            } else {
                Err(format!("{what} names actor {i}, but there are {actors}"))
            }
        };
        for l in &self.links {
            actor(l.a, "a link")?;
            actor(l.b, "a link")?;
            for &o in &l.observers {
                actor(o, "a link observer")?;
            }
        }
        for (n, e) in self.events.iter().enumerate() {
            let what = format!("event {n}");
            match e {
                Event::Message(m) => {
                    actor(m.from, &what)?;
                    actor(m.to, &what)?;
                    if m.link >= self.links.len() {
                        return Err(format!("{what} names link {}", m.link));
                    }
                    if let Some(t) = m.tampered {
                        actor(t.by, &what)?;
                        if t.offset >= m.bytes.len() {
                            return Err(format!("{what}: tampered byte outside the message"));
                        }
                    }
                }
                Event::Secret(s) => actor(s.owner, &what)?,
                Event::Check(c) => actor(c.actor, &what)?,
                Event::Alert(a) => actor(a.from, &what)?,
                Event::Narration(_) => {}
            }
        }
        Ok(())
    }
}
