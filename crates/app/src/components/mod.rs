//! One component per file, each with its own `Props`.

pub mod busy;
pub mod compare;
pub mod controls;
pub mod detail;
pub mod handout;
pub mod header;
pub mod help;
pub mod inspect;
pub mod inspector;
pub mod lesson;
pub mod notice;
pub mod params;
pub mod picker;
pub mod picture;
pub mod qr;
pub mod quiz;
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

/// Which secrets among the first `upto + 1` events the eavesdropper knows, by event
/// index, decided from her own view of the run: a secret she saw in clear on a link
/// she watches (a TLS random, an IKE nonce), or one computed only from what she saw
/// and from public constants (labels, context strings; the hybrid demo's hash of
/// the two key shares). Everything else — private keys, shared secrets, traffic
/// keys — she does not know.
pub fn eve_knows(t: &Transcript, upto: usize) -> std::collections::BTreeSet<usize> {
    use cipherstage_transcript::{Field, Protection};
    fn clear_runs<'a>(bytes: &'a [u8], fields: &[Field], out: &mut Vec<&'a [u8]>) {
        for f in fields {
            if f.children.is_empty() {
                if f.protection != Protection::Encrypted {
                    if let Some(b) = bytes.get(f.start..f.end) {
                        out.push(b);
                    }
                }
            } else {
                clear_runs(bytes, &f.children, out);
            }
        }
    }
    let watched = |link: usize| t.links.get(link).is_some_and(|l| !l.observers.is_empty());
    // The readable bytes of every watched message so far, with adjacent leaves joined.
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for e in t.events.iter().take(upto + 1) {
        if let Event::Message(m) = e {
            if watched(m.link) {
                let mut runs = Vec::new();
                clear_runs(&m.bytes, &m.fields, &mut runs);
                let mut joined = Vec::new();
                for r in runs {
                    joined.extend_from_slice(r);
                }
                seen.push(joined);
            }
        }
    }
    let on_wire =
        |b: &[u8]| b.len() >= 4 && seen.iter().any(|s| s.windows(b.len()).any(|w| w == b));
    let constant = |b: &[u8]| b.len() <= 48 && b.iter().all(|c| (b' '..=b'~').contains(c));
    let mut known = std::collections::BTreeSet::new();
    let mut known_bytes: Vec<&[u8]> = Vec::new();
    for (i, e) in t.events.iter().enumerate().take(upto + 1) {
        let Event::Secret(s) = e else { continue };
        let owned = t
            .actors
            .get(s.owner)
            .is_some_and(|a| a.role == cipherstage_transcript::Role::Eavesdropper);
        let inputs = &s.formula.inputs;
        let derived = !inputs.is_empty()
            && inputs.iter().all(|x| {
                x.bytes.is_empty()
                    || constant(&x.bytes)
                    || on_wire(&x.bytes)
                    || known_bytes.contains(&x.bytes.as_slice())
            });
        if owned || on_wire(&s.bytes) || derived {
            known.insert(i);
            known_bytes.push(&s.bytes);
        }
    }
    known
}
