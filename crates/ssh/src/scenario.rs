//! The scenario driver: steps our client and our server over an in-memory link
//! watched by Eve and records everything as a transcript.

use std::collections::VecDeque;

use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Actor, Endpoint, Event, Flow, Layer, Link, NarrateFlips, Narration, Recorder, Role,
    Stop, Transcript, Transmit, Wire,
};
use ring::digest;

use crate::client::{Client, ClientConfig, Credential};
use crate::keys::{EcdsaP256Key, Ed25519Key, HostKey, KnownHost, ECDSA_P256};
use crate::server::{Server, ServerConfig};
use crate::session::Algorithms;
use crate::transport::Outgoing;
use crate::Error;

pub use cipherstage_transcript::TamperAt;

const CLIENT: usize = 0;
const SERVER: usize = 1;
const EVE: usize = 2;
const LINK: usize = 0;
/// The server's host name in known_hosts.
pub const HOST: &str = "server.example";
/// The password the demo server accepts.
pub const SERVER_PASSWORD: &str = "correct horse battery staple";
/// Client identification string.
pub const CLIENT_VERSION: &str = "SSH-2.0-cipherstage_0.1";
/// Server identification string.
pub const SERVER_VERSION: &str = "SSH-2.0-cipherstage_0.1";

/// Which story to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKind {
    /// Key authentication succeeds and the command runs.
    PublicKey,
    /// The client's key is not in authorized_keys.
    KeyRejected,
    /// Password authentication.
    Password,
    /// The host key is unknown: trust on first use.
    FirstConnect,
    /// Someone else answers with a different host key.
    HostKeyChanged,
    /// Eve flips one byte in flight.
    Tamper,
    /// The server's signature over H is made with the wrong key.
    BadSignature,
    /// The client starts a second key exchange on the running connection.
    Rekey,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Which story.
    pub kind: ScenarioKind,
    /// The key exchange method the client offers (alone).
    pub kex: String,
    /// The host key algorithm: the server's key type, and what the client offers.
    pub host_key: String,
    /// The cipher the client prefers (offered alone).
    pub cipher: String,
    /// The user name.
    pub user: String,
    /// The command to run.
    pub command: String,
    /// The password the client types (password scenario).
    pub password: String,
    /// Eve's change, if any (message 0 = the client's version line, 1 = the server's, …).
    pub tamper: Option<TamperAt>,
    /// Offer strict key exchange.
    pub strict: bool,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            kind: ScenarioKind::PublicKey,
            kex: crate::kex::KEX_CURVE25519.into(),
            host_key: crate::keys::ED25519.into(),
            cipher: crate::kex::CHACHA.into(),
            user: "alice".into(),
            command: "echo hello".into(),
            password: SERVER_PASSWORD.into(),
            tamper: None,
            strict: true,
        }
    }
}

/// A demo key: the Ed25519 seed is SHA-256 of a fixed label, so fingerprints stay
/// the same from run to run and a learner can recognise them.
pub fn demo_key(label: &str) -> Option<Ed25519Key> {
    let d = digest::digest(&digest::SHA256, label.as_bytes());
    let mut seed = [0u8; 32];
    seed.copy_from_slice(d.as_ref());
    Ed25519Key::from_seed(seed)
}

/// A demo ECDSA P-256 key: the private scalar is SHA-256 of a fixed label.
pub fn demo_ecdsa_key(label: &str) -> Option<EcdsaP256Key> {
    let d = digest::digest(&digest::SHA256, label.as_bytes());
    let mut scalar = [0u8; 32];
    scalar.copy_from_slice(d.as_ref());
    EcdsaP256Key::from_scalar(scalar)
}

/// The demo host key of `algorithm` for `label`.
pub fn demo_host_key(algorithm: &str, label: &str) -> Option<HostKey> {
    if algorithm == ECDSA_P256 {
        demo_ecdsa_key(label).map(HostKey::EcdsaP256)
    } else {
        demo_key(label).map(HostKey::Ed25519)
    }
}

pub(crate) const WIRE: Wire<'static> = Wire {
    link: LINK,
    protocol: "ssh",
    layer: Layer::Application,
};

/// Eve on the link says when she flipped a byte.
pub(crate) const EVE_WATCHES: NarrateFlips = NarrateFlips("ssh.narr.eve_tampers");

pub(crate) fn fail(d: &mut Recorder, who: usize, err: &Error) {
    d.alert(who, err.alert_key(), true);
    d.narrate("ssh.narr.disconnected", &[]);
}

/// One end of the connection as the driver steps it: its state machine and the
/// packets it still has to send, one per turn (so the two directions interleave
/// as they do on a real connection).
pub(crate) struct Peer<M> {
    pub(crate) machine: M,
    actor: usize,
    peer: usize,
    queue: VecDeque<Outgoing>,
}

impl<M: crate::session::Machine> Peer<M> {
    /// `machine` speaking for `actor` to `peer`, with `first` to send.
    pub(crate) fn new(machine: M, (actor, peer): (usize, usize), first: Vec<Outgoing>) -> Self {
        Peer {
            machine,
            actor,
            peer,
            queue: first.into(),
        }
    }

    /// Queues more packets to send.
    pub(crate) fn queue(&mut self, more: Vec<Outgoing>) {
        self.queue.extend(more);
    }

    /// Takes received bytes into the machine; on an error records it (the run ends).
    pub(crate) fn take(
        &mut self,
        bytes: &[u8],
        d: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        match crate::session::receive(&mut self.machine, bytes, rng, &mut d.events) {
            Ok(out) => {
                self.queue.extend(out);
                Flow::Continue
            }
            Err(e) => {
                fail(d, self.actor, &e);
                Flow::Halt
            }
        }
    }
}

impl<M: crate::session::Machine> Endpoint for Peer<M> {
    fn actor(&self) -> usize {
        self.actor
    }

    fn transmit(&mut self, _d: &mut Recorder) -> Vec<Transmit> {
        self.queue
            .pop_front()
            .map(|o| Transmit {
                to: self.peer,
                wire: WIRE,
                label: o.label.to_owned(),
                bytes: o.bytes,
                fields: o.fields,
            })
            .into_iter()
            .collect()
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        self.take(bytes, d, rng)
    }
}

/// Upper bound on driver rounds (one packet each way per round).
pub(crate) const MAX_ROUNDS: usize = 500;

/// Runs the scenario with `seed` (`None`: live randomness) and returns its transcript.
pub fn run(scenario: &str, params: &Params, seed: Option<u64>) -> Transcript {
    let mut rng = Source::from_seed(seed);
    let mut d = Recorder::new(params.tamper, Some(EVE));
    // Runs until a peer stops; the error is already recorded then.
    let _ = exchange(&mut d, &mut rng, params);
    let tampered = d
        .events
        .iter()
        .any(|e| matches!(e, Event::Message(m) if m.tampered.is_some()));
    let alerted = d.events.iter().any(|e| matches!(e, Event::Alert(_)));
    if tampered && !alerted {
        d.narrate("ssh.narr.tamper_unnoticed", &[]);
    }
    let server_name = if params.kind == ScenarioKind::HostKeyChanged {
        "ssh.actor.impostor"
    } else {
        "ssh.actor.server"
    };
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            Actor {
                role: Role::Client,
                name: "ssh.actor.client".into(),
            },
            Actor {
                role: Role::Server,
                name: server_name.into(),
            },
            Actor {
                role: Role::Eavesdropper,
                name: "ssh.actor.eve".into(),
            },
        ],
        links: vec![Link {
            a: CLIENT,
            b: SERVER,
            observers: vec![EVE],
        }],
        events: d.events,
    }
}

/// The two configured ends of a scenario.
pub fn peers(params: &Params) -> Result<(Client, Server), Error> {
    let hk = params.host_key.as_str();
    let host = demo_host_key(hk, "cipherstage demo host key").ok_or(Error::Internal)?;
    let user_key = demo_key("cipherstage demo user key").ok_or(Error::Internal)?;
    let other = demo_key("cipherstage demo other key").ok_or(Error::Internal)?;
    let forger = demo_host_key(hk, "cipherstage demo other key").ok_or(Error::Internal)?;
    let genuine = host.public();
    let k = params.kind;
    let server_host = if k == ScenarioKind::HostKeyChanged {
        demo_host_key(hk, "cipherstage demo impostor host key").ok_or(Error::Internal)?
    } else {
        host
    };
    let authorized = if k == ScenarioKind::KeyRejected {
        vec![other.public()]
    } else {
        vec![user_key.public()]
    };
    let known_hosts = if k == ScenarioKind::FirstConnect {
        Vec::new()
    } else {
        vec![KnownHost {
            hosts: vec![HOST.into()],
            key: genuine,
        }]
    };
    let credential = if k == ScenarioKind::Password {
        Credential::Password(params.password.clone())
    } else {
        Credential::Key(user_key)
    };
    let algorithms = Algorithms {
        kex: vec![params.kex.clone()],
        host_keys: vec![params.host_key.clone()],
        ciphers: vec![params.cipher.clone()],
        strict: params.strict,
    };
    let server_algorithms = Algorithms {
        host_keys: vec![server_host.public().algorithm().into()],
        ..Algorithms::default()
    };
    let mut client = Client::new(
        ClientConfig {
            version: CLIENT_VERSION.into(),
            host: HOST.into(),
            known_hosts,
            trust_on_first_use: k == ScenarioKind::FirstConnect,
            user: params.user.clone(),
            credential,
            command: params.command.clone(),
            algorithms: algorithms.clone(),
        },
        CLIENT,
    );
    if k == ScenarioKind::Rekey {
        client.rekey_once();
    }
    let server = Server::new(
        ServerConfig {
            version: SERVER_VERSION.into(),
            host_key: server_host,
            forge_with: (k == ScenarioKind::BadSignature).then_some(forger),
            authorized_keys: authorized,
            // key-rejected also allows passwords, so the failure lists "publickey,password".
            passwords: if matches!(k, ScenarioKind::Password | ScenarioKind::KeyRejected) {
                vec![(params.user.clone(), SERVER_PASSWORD.into())]
            } else {
                Vec::new()
            },
            hostname: HOST.into(),
            algorithms: server_algorithms,
        },
        SERVER,
    );
    Ok((client, server))
}

fn exchange(d: &mut Recorder, rng: &mut Source, params: &Params) -> Result<(), ()> {
    let (mut client, mut server) = match peers(params) {
        Ok(p) => p,
        Err(e) => {
            fail(d, CLIENT, &e);
            return Err(());
        }
    };
    d.narrate("ssh.narr.intro", &[("user", &params.user), ("host", &HOST)]);
    let first = match client.start(rng) {
        Ok(v) => v,
        Err(e) => {
            fail(d, CLIENT, &e);
            return Err(());
        }
    };
    let mut client = Peer::new(client, (CLIENT, SERVER), first);
    let first = match server.start(rng) {
        Ok(v) => v,
        Err(e) => {
            fail(d, SERVER, &e);
            return Err(());
        }
    };
    let mut server = Peer::new(server, (SERVER, CLIENT), first);
    if let Stop::Halted { .. } = drive(
        &mut [&mut client, &mut server],
        &mut { EVE_WATCHES },
        d,
        rng,
        MAX_ROUNDS,
    ) {
        return Err(());
    }
    if let Some(status) = client.machine.exit_status() {
        d.narrate("ssh.narr.done", &[("status", &status)]);
    }
    Ok(())
}

/// Narration helper for tests: the keys of every narration in a transcript.
pub fn narrations(t: &Transcript) -> Vec<&Narration> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Narration(n) => Some(n),
            _ => None,
        })
        .collect()
}
