//! Quiz questions computed from a run, never written by hand.
//!
//! Before a step that sends something — a message, or an alert (TLS alert, SSH
//! disconnect, IKE notify …) — the page can ask what comes next. The right option
//! is the key of that very event of the run; the wrong ones are other messages of
//! the same run (for a message) or other values of the same protocol enum (for an
//! alert, from the catalogue keys the caller passes). Stepping on shows the answer:
//! the event itself.

use crate::model::{Event, Transcript};

/// What a question asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuizKind {
    /// Which message is sent next (options: message label keys).
    NextMessage,
    /// Which alert is sent next (options: alert keys of the protocol).
    NextAlert,
}

/// A question about event `about` of a run, asked at the step before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// What it asks.
    pub kind: QuizKind,
    /// The event the answer is (the step after the one it is asked at).
    pub about: usize,
    /// The options, as catalogue keys, in the order shown (A, B, C, D).
    pub options: Vec<String>,
    /// Index of the right option.
    pub right: usize,
}

/// The most options a question has (A–D).
pub const MAX_OPTIONS: usize = 4;

/// A small, stable mix of `n` (FNV-1a over its bytes): the same run gives the same
/// questions with the same order of options.
fn mix(n: usize, salt: u8) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in (n as u64).to_le_bytes().iter().chain([salt].iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as usize
}

/// The question asked at `step` about the event after it, if that event sends
/// something and there are at least two wrong options. `enum_keys(prefix)` gives
/// the catalogue keys starting with `prefix` (e.g. `tls.alert.`), the protocol's
/// own values an alert could have had.
pub fn question(
    t: &Transcript,
    step: usize,
    enum_keys: &dyn Fn(&str) -> Vec<String>,
) -> Option<Question> {
    let about = step.checked_add(1)?;
    let (kind, answer, mut wrong): (QuizKind, String, Vec<String>) = match t.events.get(about)? {
        Event::Message(m) => {
            // The other messages of the run, nearest first, each label once.
            let mut others: Vec<(usize, &str)> = t
                .events
                .iter()
                .enumerate()
                .filter_map(|(i, e)| match e {
                    Event::Message(o) if o.label != m.label => {
                        Some((i.abs_diff(about), o.label.as_str()))
                    }
                    _ => None,
                })
                .collect();
            others.sort();
            let mut labels: Vec<String> = Vec::new();
            for (_, l) in others {
                if !labels.iter().any(|x| x == l) {
                    labels.push(l.to_owned());
                }
            }
            (QuizKind::NextMessage, m.label.clone(), labels)
        }
        Event::Alert(a) => {
            let prefix = match a.key.rfind('.') {
                Some(i) => a.key.get(..=i)?,
                None => return None,
            };
            let mut keys: Vec<String> = enum_keys(prefix)
                .into_iter()
                .filter(|k| *k != a.key && !k.get(prefix.len()..).unwrap_or("").contains('.'))
                .collect();
            keys.sort();
            keys.dedup();
            // A stable pick spread over the enum, not always its first values.
            keys.sort_by_key(|k| {
                mix(about, k.len() as u8)
                    ^ k.bytes()
                        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()))
            });
            (QuizKind::NextAlert, a.key.clone(), keys)
        }
        _ => return None,
    };
    wrong.truncate(MAX_OPTIONS - 1);
    if wrong.len() < 2 {
        return None;
    }
    let right = mix(about, 0) % (wrong.len() + 1);
    wrong.insert(right, answer);
    Some(Question {
        kind,
        about,
        options: wrong,
        right,
    })
}

/// The key of what event `index` sends (a message's label, an alert's key).
pub fn sent_key(t: &Transcript, index: usize) -> Option<&str> {
    match t.events.get(index)? {
        Event::Message(m) => Some(&m.label),
        Event::Alert(a) => Some(&a.key),
        _ => None,
    }
}
