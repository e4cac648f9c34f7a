//! One way to run a scenario: endpoints stepped over links by a [`drive`] loop.
//!
//! Every protocol core is sans-IO: bytes in, bytes and events out, randomness and
//! time passed in. A scenario wraps each party (a browser, a gateway, a bastion …)
//! in an [`Endpoint`] — the protocol connection together with what its user does
//! with it — and hands them to [`drive`], which takes turns over the parties in a
//! fixed order until nobody has anything left to do or a round limit is reached,
//! and says why it stopped. Each message crosses a link through the [`Recorder`]
//! (so Eve may flip a byte of it) and a [`Path`], which can watch it, narrate what
//! an observer sees, or lose it (datagram links).
//!
//! The model is quinn-proto's test `Pair` (`quinn-proto/src/tests/util.rs`): the
//! driver owns no protocol state, so a snapshot of a run is a clone of its endpoints
//! and its recorder.

use crate::rand::RandomSource;
use crate::{ActorId, Delivered, Field, Recorder, Wire};

/// A message an endpoint hands to the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Who it is for.
    pub to: ActorId,
    /// The link it travels on, and its protocol and layer.
    pub wire: Wire<'static>,
    /// Key of its label (`tls.msg.client_hello`).
    pub label: String,
    /// The bytes as sent.
    pub bytes: Vec<u8>,
    /// The field tree covering every byte.
    pub fields: Vec<Field>,
}

/// One party of a run: a protocol endpoint and its application.
///
/// Endpoints push their events (secrets, checks, narration) into the recorder as
/// they happen, so the transcript keeps the order in which things took place.
pub trait Endpoint {
    /// The actor this endpoint speaks for.
    fn actor(&self) -> ActorId;

    /// The application's turn, before this endpoint transmits: act on what arrived
    /// (answer a request, close, start a transfer). `now` is the run's clock in
    /// milliseconds; `rng` the run's random source (endpoints that own their own
    /// generator ignore it). Returns whether it did anything.
    fn step(&mut self, rec: &mut Recorder, rng: &mut dyn RandomSource, now: u64) -> bool {
        let _ = (rec, rng, now);
        false
    }

    /// Everything this endpoint wants to send now, in order.
    fn transmit(&mut self, rec: &mut Recorder) -> Vec<Transmit>;

    /// Bytes that arrived from `from`, as delivered (with Eve's flip, if any).
    /// [`Flow::Halt`] ends the run (the endpoint has recorded why: its alert).
    fn receive(
        &mut self,
        from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow;
}

/// Whether the run goes on after a message arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// It does.
    Continue,
    /// The receiver gave up (a fatal error it has recorded): the run ends here.
    Halt,
}

/// What becomes of a message on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// It arrives.
    Deliver,
    /// It is lost (a datagram link dropped it): the receiver never sees it.
    Lost,
}

/// What lies between the endpoints: observers that watch (and narrate) each
/// message after it is put on its link, and links that may lose it.
pub trait Path {
    /// Called for every message after it is on its link and before it arrives.
    fn on_wire(
        &mut self,
        rec: &mut Recorder,
        from: ActorId,
        sent: &Transmit,
        delivered: &Delivered,
    ) -> Fate {
        let _ = (rec, from, sent, delivered);
        Fate::Deliver
    }
}

/// A path where every message arrives and nobody comments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Direct;

impl Path for Direct {}

/// An eavesdropper on the path who says, with narration `key`, when she flipped a
/// byte (the flip itself is the [`Recorder`]'s); every message arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NarrateFlips(pub &'static str);

impl Path for NarrateFlips {
    fn on_wire(
        &mut self,
        rec: &mut Recorder,
        _: ActorId,
        _: &Transmit,
        arrived: &Delivered,
    ) -> Fate {
        if arrived.tampered.is_some() {
            rec.narrate(self.0, &[]);
        }
        Fate::Deliver
    }
}

/// Why [`drive`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A whole round passed in which no endpoint sent or did anything.
    Quiet {
        /// Rounds run, the quiet one included.
        rounds: usize,
    },
    /// An endpoint gave up on a message ([`Flow::Halt`]).
    Halted {
        /// Who gave up.
        by: ActorId,
        /// Rounds run, the last one included.
        rounds: usize,
    },
    /// The round limit was reached while endpoints were still busy.
    RoundLimit {
        /// The limit.
        rounds: usize,
    },
}

/// The run's clock advances this much per round (milliseconds).
pub const ROUND_MS: u64 = 10;

/// Takes turns over `parties` (in their order: each steps, then transmits; each
/// message is recorded, passes `path`, and is received at once by the party it is
/// for) until a round passes with no progress, a receiver halts, or `max_rounds`.
///
/// A message for an actor that is not among the parties is recorded and goes no
/// further (a sink, such as a host that only listens).
pub fn drive(
    parties: &mut [&mut dyn Endpoint],
    path: &mut dyn Path,
    rec: &mut Recorder,
    rng: &mut dyn RandomSource,
    max_rounds: usize,
) -> Stop {
    for round in 0..max_rounds {
        let now = round as u64 * ROUND_MS;
        let mut progress = false;
        for i in 0..parties.len() {
            let Some(party) = parties.get_mut(i) else {
                continue;
            };
            progress |= party.step(rec, rng, now);
            let from = party.actor();
            let out = party.transmit(rec);
            for t in out {
                progress = true;
                let delivered = rec.send(
                    t.wire,
                    from,
                    t.to,
                    t.label.clone(),
                    t.bytes.clone(),
                    t.fields.clone(),
                );
                if path.on_wire(rec, from, &t, &delivered) == Fate::Lost {
                    continue;
                }
                if let Some(peer) = parties.iter_mut().find(|p| p.actor() == t.to) {
                    if peer.receive(from, &delivered.bytes, rec, rng) == Flow::Halt {
                        return Stop::Halted {
                            by: t.to,
                            rounds: round + 1,
                        };
                    }
                }
            }
        }
        if !progress {
            return Stop::Quiet { rounds: round + 1 };
        }
    }
    Stop::RoundLimit { rounds: max_rounds }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::Seeded;
    use crate::{Layer, TamperAt};

    const WIRE: Wire<'static> = Wire {
        link: 0,
        protocol: "test",
        layer: Layer::Application,
    };

    /// Sends `to_send` pings to its peer; answers each ping with a pong.
    #[derive(Clone)]
    struct Pinger {
        me: ActorId,
        peer: ActorId,
        to_send: usize,
        got: Vec<Vec<u8>>,
        answer: usize,
    }

    impl Endpoint for Pinger {
        fn actor(&self) -> ActorId {
            self.me
        }
        fn transmit(&mut self, _rec: &mut Recorder) -> Vec<Transmit> {
            let mut out = Vec::new();
            if self.to_send > 0 {
                self.to_send -= 1;
                out.push(self.msg(b"ping".to_vec()));
            }
            for _ in 0..core::mem::take(&mut self.answer) {
                out.push(self.msg(b"pong".to_vec()));
            }
            out
        }
        fn receive(
            &mut self,
            _from: ActorId,
            bytes: &[u8],
            _rec: &mut Recorder,
            _rng: &mut dyn RandomSource,
        ) -> Flow {
            self.got.push(bytes.to_vec());
            match bytes {
                b"ping" => self.answer += 1,
                b"pong" => {}
                _ => return Flow::Halt,
            }
            Flow::Continue
        }
    }

    impl Pinger {
        fn new(me: ActorId, peer: ActorId, to_send: usize) -> Self {
            Pinger {
                me,
                peer,
                to_send,
                got: Vec::new(),
                answer: 0,
            }
        }
        fn msg(&self, bytes: Vec<u8>) -> Transmit {
            Transmit {
                to: self.peer,
                wire: WIRE,
                label: "test.msg".into(),
                bytes,
                fields: Vec::new(),
            }
        }
    }

    #[test]
    fn runs_until_quiet_and_says_so() {
        let (mut a, mut b) = (Pinger::new(0, 1, 2), Pinger::new(1, 0, 0));
        let mut rec = Recorder::new(None, None);
        let stop = drive(
            &mut [&mut a, &mut b],
            &mut Direct,
            &mut rec,
            &mut Seeded::new(1),
            50,
        );
        // Round 1: ping, pong; round 2: ping, pong; round 3: quiet.
        assert_eq!(stop, Stop::Quiet { rounds: 3 });
        assert_eq!(b.got, vec![b"ping".to_vec(), b"ping".to_vec()]);
        assert_eq!(a.got, vec![b"pong".to_vec(), b"pong".to_vec()]);
        assert_eq!(rec.events.len(), 4);
    }

    #[test]
    fn stops_at_the_round_limit() {
        let (mut a, mut b) = (Pinger::new(0, 1, 100), Pinger::new(1, 0, 0));
        let mut rec = Recorder::new(None, None);
        let stop = drive(
            &mut [&mut a, &mut b],
            &mut Direct,
            &mut rec,
            &mut Seeded::new(1),
            5,
        );
        assert_eq!(stop, Stop::RoundLimit { rounds: 5 });
        assert_eq!(b.got.len(), 5);
    }

    /// Loses every message from actor 0 on its first try.
    struct LoseFirst(bool);
    impl Path for LoseFirst {
        fn on_wire(
            &mut self,
            _: &mut Recorder,
            from: ActorId,
            _: &Transmit,
            _: &Delivered,
        ) -> Fate {
            if from == 0 && !self.0 {
                self.0 = true;
                Fate::Lost
            } else {
                Fate::Deliver
            }
        }
    }

    #[test]
    fn a_lost_message_is_recorded_but_never_arrives() {
        let (mut a, mut b) = (Pinger::new(0, 1, 2), Pinger::new(1, 0, 0));
        let mut rec = Recorder::new(None, None);
        drive(
            &mut [&mut a, &mut b],
            &mut LoseFirst(false),
            &mut rec,
            &mut Seeded::new(1),
            50,
        );
        assert_eq!(b.got.len(), 1);
        assert_eq!(a.got.len(), 1);
        assert_eq!(rec.events.len(), 3, "the lost ping is still on the wire");
    }

    #[test]
    fn a_halt_ends_the_run_and_a_third_party_is_reached() {
        // 0 pings 1 and 2 pings 0; Eve (3) flips byte 1 of the first message.
        let flip = Some(TamperAt {
            message: 0,
            offset: 1,
        });
        let mut a = Pinger::new(0, 1, 1);
        let mut b = Pinger::new(1, 0, 0);
        let mut c = Pinger::new(2, 0, 1);
        let mut rec = Recorder::new(flip, Some(3));
        let mut rng = Seeded::new(1);
        let stop = drive(
            &mut [&mut a, &mut b, &mut c],
            &mut Direct,
            &mut rec,
            &mut rng,
            50,
        );
        // b cannot read the flipped ping and halts the run at once.
        assert_eq!(b.got, vec![b"phng".to_vec()], "the flip arrives");
        assert_eq!(stop, Stop::Halted { by: 1, rounds: 1 });
        assert!(
            c.got.is_empty() && a.got.is_empty(),
            "nothing moves after a halt"
        );
        // Without the flip, the third party's ping reaches a, who answers b.
        let mut a = Pinger::new(0, 1, 1);
        let mut b = Pinger::new(1, 0, 0);
        let mut c = Pinger::new(2, 0, 1);
        let mut rec = Recorder::new(None, None);
        let stop = drive(
            &mut [&mut a, &mut b, &mut c],
            &mut Direct,
            &mut rec,
            &mut rng,
            50,
        );
        assert_eq!(stop, Stop::Quiet { rounds: 3 });
        assert_eq!(a.got, vec![b"pong".to_vec(), b"ping".to_vec()]);
        assert_eq!(b.got, vec![b"ping".to_vec(), b"pong".to_vec()]);
    }

    #[test]
    fn a_snapshot_resumes_identically() {
        let (mut a, mut b) = (Pinger::new(0, 1, 3), Pinger::new(1, 0, 0));
        let mut rec = Recorder::new(None, None);
        drive(
            &mut [&mut a, &mut b],
            &mut Direct,
            &mut rec,
            &mut Seeded::new(1),
            1,
        );
        let (mut a2, mut b2, mut rec2) = (a.clone(), b.clone(), rec.clone());
        drive(
            &mut [&mut a, &mut b],
            &mut Direct,
            &mut rec,
            &mut Seeded::new(1),
            50,
        );
        drive(
            &mut [&mut a2, &mut b2],
            &mut Direct,
            &mut rec2,
            &mut Seeded::new(1),
            50,
        );
        assert_eq!(rec.events.len(), 6);
        assert_eq!(rec, rec2);
        assert_eq!(a.got, a2.got);
    }
}
