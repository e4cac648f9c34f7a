//! The data types of a transcript.

use serde::{Deserialize, Serialize};

use crate::hexser;

/// Everything one run of a scenario produced, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// Stable id of the scenario that produced it (`hybrid`, `hybrid-tamper` …).
    pub scenario: String,
    /// The seed of a deterministic run; `None` for a live (browser-random) run.
    pub seed: Option<u64>,
    /// Who takes part.
    pub actors: Vec<Actor>,
    /// Which actors can exchange messages.
    pub links: Vec<Link>,
    /// What happened, in order. One event is one step in the app.
    pub events: Vec<Event>,
}

/// Index of an actor in [`Transcript::actors`].
pub type ActorId = usize;
/// Index of a link in [`Transcript::links`].
pub type LinkId = usize;

/// A party in a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// What part it plays.
    pub role: Role,
    /// Key of its display name (`actor.alice`).
    pub name: String,
}

/// The part an actor plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Starts the exchange.
    Client,
    /// Answers it.
    Server,
    /// Certificate authority.
    Ca,
    /// SSH jump host (踏み台サーバー).
    Bastion,
    /// VPN or RDP gateway.
    Gateway,
    /// Address translator.
    Nat,
    /// Passive observer on a link; can also tamper in tamper scenarios.
    Eavesdropper,
}

/// A path messages travel on, between two actors, seen by its observers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// One end.
    pub a: ActorId,
    /// The other end.
    pub b: ActorId,
    /// Actors that see every byte on this link (eavesdroppers).
    pub observers: Vec<ActorId>,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Bytes sent on a link.
    Message(Message),
    /// A secret an actor derived.
    Secret(Secret),
    /// A verification an actor made.
    Check(Check),
    /// An alert or abort.
    Alert(Alert),
    /// A sentence of the story, as a key with arguments.
    Narration(Narration),
}

/// Bytes sent from one actor to another, with what each byte means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Sender.
    pub from: ActorId,
    /// Receiver.
    pub to: ActorId,
    /// The link it travels on.
    pub link: LinkId,
    /// Protocol id (`hybrid`, `tls`, `ssh`, `esp` …).
    pub protocol: String,
    /// The layer of the seed's map.
    pub layer: Layer,
    /// Key of its short label (`hybrid.msg.key_share`).
    pub label: String,
    /// The exact bytes as sent.
    #[serde(with = "hexser")]
    pub bytes: Vec<u8>,
    /// A field tree covering every byte; see [`crate::check_coverage`].
    pub fields: Vec<Field>,
    /// Set when these bytes were changed in flight by an attacker (tamper scenarios).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tampered: Option<Tamper>,
}

/// A change made to a message in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tamper {
    /// Who changed it.
    pub by: ActorId,
    /// Offset of the changed byte.
    pub offset: usize,
    /// The byte as the sender wrote it.
    pub original: u8,
}

/// Where a protocol sits in the seed's layer map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// S/MIME, SSH, remote desktop, and the hybrid-encryption demo.
    Application,
    /// TLS.
    Transport,
    /// IPsec and VPN.
    Network,
}

/// A named byte range of a message; leaves explain bytes, parents group them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Key of the field's name (`hybrid.field.tag`).
    pub name: String,
    /// First byte, inclusive.
    pub start: usize,
    /// Last byte, exclusive.
    pub end: usize,
    /// The decoded value, if it has one worth showing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Key of the explanation (`hybrid.explain.tag`).
    pub explain: String,
    /// How these bytes are protected on the wire.
    pub protection: Protection,
    /// Nested fields for encapsulation; empty for a leaf.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Field>,
}

/// A decoded field value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "v", rename_all = "snake_case")]
pub enum Value {
    /// An unsigned number.
    Uint(u64),
    /// Text that appeared in the bytes (UTF-8, lossily decoded).
    Text(String),
    /// A stable key naming an enumerated value (`hybrid.type.key_share`).
    Key(String),
}

/// How bytes are protected on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// Readable and changeable by anyone on the path.
    Plaintext,
    /// Confidential (and, with an AEAD, integrity-protected).
    Encrypted,
    /// Readable, but any change is detected (AEAD additional data, AH, MACs).
    IntegrityOnly,
    /// A signature or authentication tag.
    Signature,
    /// Public key material, readable by design.
    KeyMaterial,
}

/// A secret an actor derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// Who holds it.
    pub owner: ActorId,
    /// Key of its name (`hybrid.secret.shared`).
    pub name: String,
    /// Its bytes.
    #[serde(with = "hexser")]
    pub bytes: Vec<u8>,
    /// How it was computed.
    pub formula: Formula,
}

/// How a secret was computed: a key naming the function, and its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formula {
    /// Key of the formula (`hybrid.formula.hkdf_extract`), shown with the inputs.
    pub key: String,
    /// The inputs, in order.
    pub inputs: Vec<FormulaInput>,
}

/// One input of a formula.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormulaInput {
    /// Key of the input's name.
    pub name: String,
    /// Its bytes (a label, a public key, an earlier secret …).
    #[serde(with = "hexser")]
    pub bytes: Vec<u8>,
}

/// A verification an actor made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Who checked.
    pub actor: ActorId,
    /// Key of what was checked (`hybrid.check.tag`).
    pub what: String,
    /// Passed, or why not.
    pub outcome: Outcome,
}

/// The result of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// It held.
    Passed,
    /// It did not; the typed reason.
    Failed(FailReason),
}

/// Why a check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// An AEAD tag or MAC did not verify.
    TagMismatch,
    /// A signature did not verify.
    BadSignature,
    /// A message could not be decoded.
    Malformed,
    /// A certificate or host key is not trusted.
    Untrusted,
    /// A sequence number was seen before.
    Replay,
}

impl FailReason {
    /// Stable key of the reason (`fail.tag_mismatch`).
    pub fn key(self) -> &'static str {
        match self {
            FailReason::TagMismatch => "fail.tag_mismatch",
            FailReason::BadSignature => "fail.bad_signature",
            FailReason::Malformed => "fail.malformed",
            FailReason::Untrusted => "fail.untrusted",
            FailReason::Replay => "fail.replay",
        }
    }
}

/// An alert or abort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Who raised it.
    pub from: ActorId,
    /// Key of the alert (`hybrid.alert.decrypt_failed`).
    pub key: String,
    /// Whether the connection ends here.
    pub fatal: bool,
}

/// A sentence of the story, as a key with arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narration {
    /// Key of the sentence (`hybrid.narr.start`).
    pub key: String,
    /// Named arguments substituted into `{name}` placeholders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<(String, String)>,
}

impl Transcript {
    /// Every message, in order.
    pub fn messages(&self) -> impl Iterator<Item = &Message> {
        self.events.iter().filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
    }

    /// Every key the transcript asks the app to translate, in order of appearance.
    pub fn text_keys(&self) -> Vec<&str> {
        fn walk<'a>(fields: &'a [Field], out: &mut Vec<&'a str>) {
            for f in fields {
                out.push(&f.name);
                out.push(&f.explain);
                if let Some(Value::Key(k)) = &f.value {
                    out.push(k);
                }
                walk(&f.children, out);
            }
        }
        let mut out: Vec<&str> = self.actors.iter().map(|a| a.name.as_str()).collect();
        for e in &self.events {
            match e {
                Event::Message(m) => {
                    out.push(&m.label);
                    walk(&m.fields, &mut out);
                }
                Event::Secret(s) => {
                    out.push(&s.name);
                    out.push(&s.formula.key);
                    out.extend(s.formula.inputs.iter().map(|i| i.name.as_str()));
                }
                Event::Check(c) => {
                    out.push(&c.what);
                    if let Outcome::Failed(r) = c.outcome {
                        out.push(r.key());
                    }
                }
                Event::Alert(a) => out.push(&a.key),
                Event::Narration(n) => out.push(&n.key),
            }
        }
        out
    }
}
