//! Recording a scenario as it runs: the event list, and the attacker's flipped byte.
//!
//! Every scenario driver pushes narration, checks, alerts and secrets in order, and
//! puts messages on links where an attacker may flip one byte of the N-th message.
//! [`Recorder`] does that once for all of them; the drivers keep their protocols.

use core::fmt::Display;

use crate::{
    ActorId, Alert, Check, Event, FailReason, Field, Formula, Layer, LinkId, Message, Narration,
    Outcome, Secret, Tamper,
};

/// Where an attacker flips a byte in flight (tamper scenarios).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TamperAt {
    /// Which message of the run, counting every message sent (0 = the first).
    pub message: usize,
    /// Which byte of it; past the end means the last byte.
    pub offset: usize,
}

/// What the messages a driver puts on one link have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire<'a> {
    /// The link they travel on.
    pub link: LinkId,
    /// Protocol id (`hybrid`, `tls`, `esp` …).
    pub protocol: &'a str,
    /// Where the protocol sits in the seed's layer map.
    pub layer: Layer,
}

/// A message as it arrived at its receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The bytes as they arrive (with the flipped byte, if the attacker changed one).
    pub bytes: Vec<u8>,
    /// What the attacker changed, if anything; the driver tells it in its own words.
    pub tampered: Option<Tamper>,
}

/// The events of a run, in order, and the attacker's one change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorder {
    /// What happened so far; becomes [`crate::Transcript::events`].
    pub events: Vec<Event>,
    /// How many messages were sent so far.
    sent: usize,
    /// The byte to flip.
    tamper: Option<TamperAt>,
    /// Who flips it; nothing is flipped while there is nobody.
    attacker: Option<ActorId>,
    /// The links the attacker is on (`None`: every link). A message on another link
    /// is counted but never changed.
    watched: Option<Vec<LinkId>>,
}

impl Recorder {
    /// An empty recording; `attacker` carries out `tamper`.
    pub fn new(tamper: Option<TamperAt>, attacker: Option<ActorId>) -> Self {
        Recorder {
            events: Vec::new(),
            sent: 0,
            tamper,
            attacker,
            watched: None,
        }
    }

    /// Restricts the attacker to the links named with [`Recorder::watch`] (for
    /// drivers with several links, only some of them watched).
    pub fn watch_only_named_links(&mut self) {
        self.watched.get_or_insert_with(Vec::new);
    }

    /// Puts the attacker on `link` too.
    pub fn watch(&mut self, link: LinkId) {
        self.watched.get_or_insert_with(Vec::new).push(link);
    }

    /// Names the actor who carries out the tamper (for drivers that add actors as
    /// they go).
    pub fn set_attacker(&mut self, attacker: ActorId) {
        self.attacker = Some(attacker);
    }

    /// Records a sentence of the story: `key`, with named arguments.
    pub fn narrate(&mut self, key: &str, args: &[(&str, &dyn Display)]) {
        self.events.push(Event::Narration(Narration {
            key: key.to_owned(),
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.to_string()))
                .collect(),
        }));
    }

    /// Records a check by `actor`; `outcome` is an [`Outcome`], or an
    /// `Option<FailReason>` (`None`: passed). Returns whether it passed.
    pub fn check(&mut self, actor: ActorId, what: &str, outcome: impl Into<Outcome>) -> bool {
        let outcome = outcome.into();
        let passed = outcome == Outcome::Passed;
        self.events.push(Event::Check(Check {
            actor,
            what: what.to_owned(),
            outcome,
        }));
        passed
    }

    /// Records an alert raised by `from`.
    pub fn alert(&mut self, from: ActorId, key: impl Into<String>, fatal: bool) {
        self.events.push(Event::Alert(Alert {
            from,
            key: key.into(),
            fatal,
        }));
    }

    /// Records a secret `owner` holds.
    pub fn secret(&mut self, owner: ActorId, name: &str, bytes: Vec<u8>, formula: Formula) {
        self.events.push(Event::Secret(Secret {
            owner,
            name: name.to_owned(),
            bytes,
            formula,
        }));
    }

    /// Puts a message from `from` to `to` on `wire`, and returns it as it arrives.
    ///
    /// If this is the message the tamper names and there is an attacker on its link,
    /// the attacker flips the lowest bit of the named byte (of the last byte when the
    /// offset is past the end; an empty message is left alone) and the message
    /// records the change.
    pub fn send(
        &mut self,
        wire: Wire<'_>,
        from: ActorId,
        to: ActorId,
        label: impl Into<String>,
        mut bytes: Vec<u8>,
        fields: Vec<Field>,
    ) -> Delivered {
        let mut tampered = None;
        let reachable = self.watched.as_ref().is_none_or(|w| w.contains(&wire.link));
        let target = self.tamper.filter(|t| t.message == self.sent && reachable);
        if let (Some(t), Some(by)) = (target, self.attacker) {
            let offset = t.offset.min(bytes.len().saturating_sub(1));
            if let Some(b) = bytes.get_mut(offset) {
                tampered = Some(Tamper {
                    by,
                    offset,
                    original: *b,
                });
                *b ^= 0x01;
            }
        }
        self.sent += 1;
        self.events.push(Event::Message(Message {
            from,
            to,
            link: wire.link,
            protocol: wire.protocol.to_owned(),
            layer: wire.layer,
            label: label.into(),
            bytes: bytes.clone(),
            fields,
            tampered,
        }));
        Delivered { bytes, tampered }
    }
}

impl From<Option<FailReason>> for Outcome {
    /// `None` passed; `Some(reason)` failed for that reason.
    fn from(failed: Option<FailReason>) -> Self {
        match failed {
            None => Outcome::Passed,
            Some(r) => Outcome::Failed(r),
        }
    }
}
