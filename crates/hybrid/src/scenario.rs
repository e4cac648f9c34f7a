//! The scenario driver: steps Alice and Bob through an in-memory link watched by
//! Eve and records everything as a transcript (the shape of quinn-proto's `Pair`).

use cipherstage_transcript::rand::Source;
use cipherstage_transcript::{
    Actor, Alert, Event, Layer, Link, Message, Narration, Role, Tamper, Transcript,
};

use crate::peer::{Error, Outgoing, Peer, Side};

// Lanes are drawn in actor order: Eve sits on the wire between Alice and Bob.
const ALICE: usize = 0;
const EVE: usize = 1;
const BOB: usize = 2;
const LINK: usize = 0;

/// Where Eve flips a byte in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TamperAt {
    /// Which message on the link (0 = Alice's key share, 1 = Bob's, 2 = Alice's sealed
    /// message, 3 = Bob's reply).
    pub message: usize,
    /// Which byte of it; past the end means the last byte.
    pub offset: usize,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// What Alice sends.
    pub text: String,
    /// What Bob answers.
    pub reply: String,
    /// Eve's change, if any.
    pub tamper: Option<TamperAt>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            text: "GET /grades HTTP/1.1".into(),
            reply: "200 OK: A+".into(),
            tamper: None,
        }
    }
}

struct Driver {
    events: Vec<Event>,
    sent: usize,
    tamper: Option<TamperAt>,
}

impl Driver {
    fn narrate(&mut self, key: &str, args: &[(&str, &str)]) {
        self.events.push(Event::Narration(Narration {
            key: key.to_owned(),
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }));
    }

    /// Puts a message on the link; returns the bytes as they arrive.
    fn send(&mut self, from: usize, to: usize, out: Outgoing) -> Vec<u8> {
        let mut bytes = out.bytes;
        let mut tampered = None;
        if let Some(t) = self.tamper.filter(|t| t.message == self.sent) {
            let offset = t.offset.min(bytes.len().saturating_sub(1));
            if let Some(b) = bytes.get_mut(offset) {
                tampered = Some(Tamper {
                    by: EVE,
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
            link: LINK,
            protocol: "hybrid".into(),
            layer: Layer::Application,
            label: out.label.into(),
            bytes: bytes.clone(),
            fields: out.fields,
            tampered,
        }));
        if tampered.is_some() {
            self.narrate("hybrid.narr.eve_tampers", &[]);
        }
        bytes
    }

    fn fail(&mut self, who: usize, err: Error) {
        self.events.push(Event::Alert(Alert {
            from: who,
            key: err.alert_key().into(),
            fatal: true,
        }));
        self.narrate("hybrid.narr.rejected", &[]);
    }

    fn secret_of(&self, owner: usize, name: &str) -> Option<&[u8]> {
        self.events.iter().find_map(|e| match e {
            Event::Secret(s) if s.owner == owner && s.name == name => Some(s.bytes.as_slice()),
            _ => None,
        })
    }
}

/// Runs the scenario with `seed` (`None`: live randomness) and returns its transcript.
pub fn run(scenario: &str, params: &Params, seed: Option<u64>) -> Transcript {
    let mut rng = Source::from_seed(seed);
    let mut d = Driver {
        events: Vec::new(),
        sent: 0,
        tamper: params.tamper,
    };
    // Runs until a peer stops; the error is already recorded then.
    let _ = exchange(&mut d, &mut rng, params);
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            Actor {
                role: Role::Client,
                name: "actor.alice".into(),
            },
            Actor {
                role: Role::Eavesdropper,
                name: "actor.eve".into(),
            },
            Actor {
                role: Role::Server,
                name: "actor.bob".into(),
            },
        ],
        links: vec![Link {
            a: ALICE,
            b: BOB,
            observers: vec![EVE],
        }],
        events: d.events,
    }
}

/// Unwraps a peer's result, or records its alert and stops the exchange.
macro_rules! step {
    ($d:expr, $who:expr, $r:expr) => {
        match $r {
            Ok(v) => v,
            Err(e) => {
                $d.fail($who, e);
                return Err(());
            }
        }
    };
}

fn exchange(d: &mut Driver, rng: &mut Source, params: &Params) -> Result<(), ()> {
    let mut alice = Peer::new(Side::Alice, ALICE);
    let mut bob = Peer::new(Side::Bob, BOB);

    d.narrate("hybrid.narr.intro", &[]);
    let r = alice.key_share(rng, &mut d.events);
    let share = step!(d, ALICE, r);
    let at_bob = d.send(ALICE, BOB, share);
    d.narrate("hybrid.narr.eve_sees_share", &[]);

    let r = bob.key_share(rng, &mut d.events);
    let share = step!(d, BOB, r);
    let r = bob.receive_share(&at_bob, &mut d.events);
    step!(d, BOB, r);
    let at_alice = d.send(BOB, ALICE, share);
    let r = alice.receive_share(&at_alice, &mut d.events);
    step!(d, ALICE, r);

    let same =
        d.secret_of(ALICE, "hybrid.secret.a2b_key") == d.secret_of(BOB, "hybrid.secret.a2b_key");
    d.narrate(
        if same {
            "hybrid.narr.keys_match"
        } else {
            "hybrid.narr.keys_differ"
        },
        &[],
    );

    let r = alice.seal(&params.text);
    let sealed = step!(d, ALICE, r);
    let at_bob = d.send(ALICE, BOB, sealed);
    d.narrate("hybrid.narr.eve_sees_ciphertext", &[]);
    let r = bob.open(&at_bob, &mut d.events);
    let text = step!(d, BOB, r);
    d.narrate("hybrid.narr.bob_reads", &[("text", &text)]);

    let r = bob.seal(&params.reply);
    let sealed = step!(d, BOB, r);
    let at_alice = d.send(BOB, ALICE, sealed);
    let r = alice.open(&at_alice, &mut d.events);
    let text = step!(d, ALICE, r);
    d.narrate("hybrid.narr.alice_reads", &[("text", &text)]);
    d.narrate("hybrid.narr.done", &[]);
    Ok(())
}
