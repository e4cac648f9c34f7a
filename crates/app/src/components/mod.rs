//! One component per file, each with its own `Props`.

pub mod busy;
pub mod controls;
pub mod detail;
pub mod header;
pub mod help;
pub mod inspect;
pub mod inspector;
pub mod notice;
pub mod params;
pub mod picker;
pub mod schedule;
pub mod secrets;
pub mod sequence;
pub mod snippet;
pub mod stage;

use cipherstage_transcript::{Event, Transcript};

use crate::i18n::{tr, Lang};

/// Display name of actor `id`.
pub fn actor_name(t: &Transcript, lang: Lang, id: usize) -> String {
    t.actors
        .get(id)
        .map(|a| tr(lang, &a.name))
        .unwrap_or_else(|| format!("#{id}"))
}

/// How many messages come before event `index` (the message number used by tamper params).
pub fn message_number(t: &Transcript, index: usize) -> usize {
    t.events
        .iter()
        .take(index)
        .filter(|e| matches!(e, Event::Message(_)))
        .count()
}

/// Lower-case hex, with an ellipsis past `max` bytes.
pub fn short_hex(bytes: &[u8], max: usize) -> String {
    let shown = bytes.get(..max.min(bytes.len())).unwrap_or(bytes);
    let mut s = cipherstage_transcript::hex_encode(shown);
    if bytes.len() > max {
        s.push('…');
    }
    s
}
