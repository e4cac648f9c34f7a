//! The scenario driver: steps Alice and Bob through an in-memory link watched by
//! Eve and records everything as a transcript (the shape of quinn-proto's `Pair`).

use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Actor, Delivered, Endpoint, Event, Fate, Flow, Layer, Link, NarrateFlips, Path,
    Recorder, Role, Stop, Transcript, Transmit, Wire,
};

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

const WIRE: Wire<'static> = Wire {
    link: LINK,
    protocol: "hybrid",
    layer: Layer::Application,
};

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

/// Upper bound on driver rounds (the story needs three).
const MAX_ROUNDS: usize = 8;

fn exchange(d: &mut Recorder, rng: &mut Source, params: &Params) -> Result<(), ()> {
    let mut alice = Alice {
        peer: Peer::new(Side::Alice, ALICE),
        text: params.text.clone(),
        out: None,
    };
    let mut bob = Bob {
        peer: Peer::new(Side::Bob, BOB),
        reply: params.reply.clone(),
        out: None,
    };
    d.narrate("hybrid.narr.intro", &[]);
    match alice.peer.key_share(rng, &mut d.events) {
        Ok(share) => alice.out = Some(share),
        Err(e) => {
            fail(d, ALICE, e);
            return Err(());
        }
    }
    let stop = drive(
        &mut [&mut alice, &mut bob],
        &mut Eve { from_alice: 0 },
        d,
        rng,
        MAX_ROUNDS,
    );
    match stop {
        Stop::Halted { .. } => Err(()),
        _ => Ok(()),
    }
}

fn transmit(to: usize, out: Option<Outgoing>) -> Vec<Transmit> {
    out.map(|o| Transmit {
        to,
        wire: WIRE,
        label: o.label.to_owned(),
        bytes: o.bytes,
        fields: o.fields,
    })
    .into_iter()
    .collect()
}

/// Alice: sends her key share, then her message once Bob's share is in; reads
/// Bob's reply.
struct Alice {
    peer: Peer,
    text: String,
    out: Option<Outgoing>,
}

impl Endpoint for Alice {
    fn actor(&self) -> usize {
        ALICE
    }

    fn transmit(&mut self, _d: &mut Recorder) -> Vec<Transmit> {
        transmit(BOB, self.out.take())
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        let r = if self.peer.has_keys() {
            self.peer.open(bytes, &mut d.events).map(|text| {
                d.narrate("hybrid.narr.alice_reads", &[("text", &text)]);
                d.narrate("hybrid.narr.done", &[]);
            })
        } else {
            self.peer
                .receive_share(bytes, &mut d.events)
                .and_then(|()| {
                    let same = secret_of(d, ALICE, "hybrid.secret.a2b_key")
                        == secret_of(d, BOB, "hybrid.secret.a2b_key");
                    d.narrate(
                        if same {
                            "hybrid.narr.keys_match"
                        } else {
                            "hybrid.narr.keys_differ"
                        },
                        &[],
                    );
                    self.out = Some(self.peer.seal(&self.text)?);
                    Ok(())
                })
        };
        halt_on(d, ALICE, r)
    }
}

/// Bob: answers Alice's key share with his, then her message with his reply.
struct Bob {
    peer: Peer,
    reply: String,
    out: Option<Outgoing>,
}

impl Endpoint for Bob {
    fn actor(&self) -> usize {
        BOB
    }

    fn transmit(&mut self, _d: &mut Recorder) -> Vec<Transmit> {
        transmit(ALICE, self.out.take())
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        let r = if self.peer.has_keys() {
            self.peer.open(bytes, &mut d.events).and_then(|text| {
                d.narrate("hybrid.narr.bob_reads", &[("text", &text)]);
                self.out = Some(self.peer.seal(&self.reply)?);
                Ok(())
            })
        } else {
            self.peer.key_share(rng, &mut d.events).and_then(|share| {
                self.peer.receive_share(bytes, &mut d.events)?;
                self.out = Some(share);
                Ok(())
            })
        };
        halt_on(d, BOB, r)
    }
}

/// Records `who`'s error, if any, and ends the run.
fn halt_on(d: &mut Recorder, who: usize, r: Result<(), Error>) -> Flow {
    match r {
        Ok(()) => Flow::Continue,
        Err(e) => {
            fail(d, who, e);
            Flow::Halt
        }
    }
}

/// Eve on the link: says when she flipped a byte, and what she sees of Alice's
/// key share and her sealed message.
struct Eve {
    from_alice: usize,
}

impl Path for Eve {
    fn on_wire(
        &mut self,
        d: &mut Recorder,
        from: usize,
        sent: &Transmit,
        arrived: &Delivered,
    ) -> Fate {
        NarrateFlips("hybrid.narr.eve_tampers").on_wire(d, from, sent, arrived);
        if from == ALICE {
            self.from_alice += 1;
            match self.from_alice {
                1 => d.narrate("hybrid.narr.eve_sees_share", &[]),
                2 => d.narrate("hybrid.narr.eve_sees_ciphertext", &[]),
                _ => {}
            }
        }
        Fate::Deliver
    }
}
