//! The scenario driver: steps Alice and Bob through an in-memory link watched by
//! Eve and records everything as a transcript (the shape of quinn-proto's `Pair`).

use cipherstage_transcript::rand::Source;
use cipherstage_transcript::{Actor, Event, Layer, Link, Recorder, Role, Transcript, Wire};

use crate::peer::{Error, Outgoing, Peer, Side};

pub use cipherstage_transcript::TamperAt;

// Lanes are drawn in actor order: Eve sits on the wire between Alice and Bob.
const ALICE: usize = 0;
const EVE: usize = 1;
const BOB: usize = 2;
const LINK: usize = 0;

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// What Alice sends.
    pub text: String,
    /// What Bob answers.
    pub reply: String,
    /// Eve's change, if any (message 0 = Alice's key share, 1 = Bob's, 2 = Alice's
    /// sealed message, 3 = Bob's reply).
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

const WIRE: Wire = Wire {
    link: LINK,
    protocol: "hybrid",
    layer: Layer::Application,
};

/// Puts a message on the link; returns the bytes as they arrive.
fn send(d: &mut Recorder, from: usize, to: usize, out: Outgoing) -> Vec<u8> {
    let arrived = d.send(WIRE, from, to, out.label, out.bytes, out.fields);
    if arrived.tampered.is_some() {
        d.narrate("hybrid.narr.eve_tampers", &[]);
    }
    arrived.bytes
}

fn fail(d: &mut Recorder, who: usize, err: Error) {
    d.alert(who, err.alert_key(), true);
    d.narrate("hybrid.narr.rejected", &[]);
}

fn secret_of<'a>(d: &'a Recorder, owner: usize, name: &str) -> Option<&'a [u8]> {
    d.events.iter().find_map(|e| match e {
        Event::Secret(s) if s.owner == owner && s.name == name => Some(s.bytes.as_slice()),
        _ => None,
    })
}

/// Runs the scenario with `seed` (`None`: live randomness) and returns its transcript.
pub fn run(scenario: &str, params: &Params, seed: Option<u64>) -> Transcript {
    let mut rng = Source::from_seed(seed);
    let mut d = Recorder::new(params.tamper, Some(EVE));
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
                fail($d, $who, e);
                return Err(());
            }
        }
    };
}

fn exchange(d: &mut Recorder, rng: &mut Source, params: &Params) -> Result<(), ()> {
    let mut alice = Peer::new(Side::Alice, ALICE);
    let mut bob = Peer::new(Side::Bob, BOB);

    d.narrate("hybrid.narr.intro", &[]);
    let r = alice.key_share(rng, &mut d.events);
    let share = step!(d, ALICE, r);
    let at_bob = send(d, ALICE, BOB, share);
    d.narrate("hybrid.narr.eve_sees_share", &[]);

    let r = bob.key_share(rng, &mut d.events);
    let share = step!(d, BOB, r);
    let r = bob.receive_share(&at_bob, &mut d.events);
    step!(d, BOB, r);
    let at_alice = send(d, BOB, ALICE, share);
    let r = alice.receive_share(&at_alice, &mut d.events);
    step!(d, ALICE, r);

    let same =
        secret_of(d, ALICE, "hybrid.secret.a2b_key") == secret_of(d, BOB, "hybrid.secret.a2b_key");
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
    let at_bob = send(d, ALICE, BOB, sealed);
    d.narrate("hybrid.narr.eve_sees_ciphertext", &[]);
    let r = bob.open(&at_bob, &mut d.events);
    let text = step!(d, BOB, r);
    d.narrate("hybrid.narr.bob_reads", &[("text", &text)]);

    let r = bob.seal(&params.reply);
    let sealed = step!(d, BOB, r);
    let at_alice = send(d, BOB, ALICE, sealed);
    let r = alice.open(&at_alice, &mut d.events);
    let text = step!(d, ALICE, r);
    d.narrate("hybrid.narr.alice_reads", &[("text", &text)]);
    d.narrate("hybrid.narr.done", &[]);
    Ok(())
}
