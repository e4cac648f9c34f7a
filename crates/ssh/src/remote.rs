//! Remote forwarding (`ssh -R 8080:localhost:3000 server.example`): a web app
//! running on the laptop is published through a server on the Internet.
//!
//! The laptop logs in and asks the server to listen on port 8080 for it
//! ("tcpip-forward", RFC 4254 §7.1). A visitor on the Internet opens
//! http://server.example:8080/; the server hands that connection to the laptop
//! in a "forwarded-tcpip" channel (§7.2), and the laptop's ssh relays it to the
//! app on localhost:3000. Eve watches the SSH link; the visitor's own HTTP to the
//! server is a second link, in the clear.

use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Actor, Endpoint, Event, Flow, Layer, Link, Recorder, Role, Stop, TamperAt, Transcript,
    Transmit, Wire,
};

use crate::bastion::http_fields;
use crate::client::Client;
use crate::scenario::{fail, peers, Params, Peer, ScenarioKind, EVE_WATCHES, MAX_ROUNDS};
use crate::server::{ChannelEvent, Server};
use crate::transport::Outgoing;
use crate::Error;

const LAPTOP: usize = 0;
const SERVER: usize = 1;
const VISITOR: usize = 2;
const EVE: usize = 3;
/// The SSH connection between the laptop and the server (Eve is here).
const SSH_LINK: usize = 0;
/// The visitor's HTTP connection to the server's port 8080.
const WEB_LINK: usize = 1;

/// The port the server listens on for the laptop.
pub const REMOTE_PORT: u32 = 8080;
/// The laptop's app.
pub const LOCAL_PORT: u32 = 3000;
/// The visitor's address and port (the originator of the forwarded connection).
const VISITOR_ADDR: &str = "198.51.100.23";
const VISITOR_PORT: u32 = 50212;

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteParams {
    /// The cipher the laptop offers (alone).
    pub cipher: String,
    /// The user name on the server.
    pub user: String,
    /// Eve's change on the SSH link, if any.
    pub tamper: Option<TamperAt>,
}

const HTTP_WIRE: Wire = Wire {
    link: WEB_LINK,
    protocol: "http",
    layer: Layer::Application,
};

/// The visitor's request.
pub fn visitor_request() -> Vec<u8> {
    format!(
        "GET / HTTP/1.1\r\nHost: server.example:{REMOTE_PORT}\r\nUser-Agent: visitor-browser\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// The laptop app's answer.
pub fn app_response() -> Vec<u8> {
    let body = "<h1>Demo</h1><p>Served from a laptop on localhost:3000, through ssh -R.</p>\n";
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Runs the remote forwarding scenario with `seed`.
pub fn run(scenario: &str, p: &RemoteParams, seed: Option<u64>) -> Transcript {
    let mut rng = Source::from_seed(seed);
    let mut d = Recorder::new(p.tamper, Some(EVE));
    d.watch_only_named_links();
    d.watch(SSH_LINK);
    let _ = exchange(&mut d, &mut rng, p);
    let tampered = d
        .events
        .iter()
        .any(|e| matches!(e, Event::Message(m) if m.tampered.is_some()));
    if tampered && !d.events.iter().any(|e| matches!(e, Event::Alert(_))) {
        d.narrate("ssh.narr.tamper_unnoticed", &[]);
    }
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            Actor {
                role: Role::Client,
                name: "ssh.actor.laptop".into(),
            },
            Actor {
                role: Role::Server,
                name: "ssh.actor.public_server".into(),
            },
            Actor {
                role: Role::Client,
                name: "ssh.actor.visitor".into(),
            },
            Actor {
                role: Role::Eavesdropper,
                name: "ssh.actor.eve".into(),
            },
        ],
        links: vec![
            Link {
                a: LAPTOP,
                b: SERVER,
                observers: vec![EVE],
            },
            Link {
                a: VISITOR,
                b: SERVER,
                observers: Vec::new(),
            },
        ],
        events: d.events,
    }
}

fn exchange(d: &mut Recorder, rng: &mut Source, p: &RemoteParams) -> Result<(), ()> {
    let base = Params {
        kind: ScenarioKind::PublicKey,
        cipher: p.cipher.clone(),
        user: p.user.clone(),
        ..Params::default()
    };
    let (mut client, mut server) = peers(&base).map_err(|e| fail(d, LAPTOP, &e))?;
    d.narrate(
        "ssh.narr.remote.intro",
        &[
            ("user", &p.user),
            ("remote_port", &REMOTE_PORT),
            ("local_port", &LOCAL_PORT),
        ],
    );
    client.remote_forward("localhost", REMOTE_PORT);
    server.allow_forwarding(true);
    let first = client.start(rng).map_err(|e| fail(d, LAPTOP, &e))?;
    let mut laptop = Laptop {
        peer: Peer::new(client, (LAPTOP, SERVER), first),
        answered: false,
        listening: false,
    };
    let first = server.start(rng).map_err(|e| fail(d, SERVER, &e))?;
    let mut public = Public {
        peer: Peer::new(server, (SERVER, LAPTOP), first),
        channel: None,
        response: Vec::new(),
        done: false,
    };
    let stop = drive(
        &mut [&mut laptop, &mut public],
        &mut { EVE_WATCHES },
        d,
        rng,
        MAX_ROUNDS,
    );
    if let Stop::Halted { .. } = stop {
        return Err(());
    }
    if laptop.peer.machine.forward_refused().is_some() {
        d.narrate("ssh.narr.remote.refused", &[]);
    }
    Ok(())
}

/// The laptop: ssh -R, and the app on localhost:3000 it relays to.
struct Laptop {
    peer: Peer<Client>,
    answered: bool,
    listening: bool,
}

impl Endpoint for Laptop {
    fn actor(&self) -> usize {
        LAPTOP
    }

    fn transmit(&mut self, d: &mut Recorder) -> Vec<Transmit> {
        self.peer.transmit(d)
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        if self.peer.take(bytes, d, rng) == Flow::Halt {
            return Flow::Halt;
        }
        let c = &mut self.peer.machine;
        if let (Some(port), false) = (c.remote_listening(), self.listening) {
            self.listening = true;
            d.narrate("ssh.narr.remote.listening", &[("remote_port", &port)]);
        }
        // A whole request came out of the tunnel: the app on localhost:3000 answers.
        let complete = c.output().windows(4).any(|w| w == b"\r\n\r\n");
        if complete && !self.answered && c.forward_open() {
            self.answered = true;
            d.narrate(
                "ssh.narr.remote.app_answers",
                &[("local_port", &LOCAL_PORT)],
            );
            let out = c.send_data(&app_response(), rng).and_then(|mut v| {
                v.extend(c.send_eof(rng)?);
                Ok(v)
            });
            match out {
                Ok(v) => self.peer.queue(v),
                Err(e) => {
                    fail(d, LAPTOP, &e);
                    return Flow::Halt;
                }
            }
        }
        Flow::Continue
    }
}

/// The server on the Internet: sshd, its listener on 8080, and the visitor's
/// connection to it (recorded on the second link).
struct Public {
    peer: Peer<Server>,
    channel: Option<u32>,
    response: Vec<u8>,
    done: bool,
}

impl Endpoint for Public {
    fn actor(&self) -> usize {
        SERVER
    }

    fn transmit(&mut self, d: &mut Recorder) -> Vec<Transmit> {
        self.peer.transmit(d)
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        if self.peer.take(bytes, d, rng) == Flow::Halt {
            return Flow::Halt;
        }
        match self.events(d, rng) {
            Ok(out) => {
                self.peer.queue(out);
                Flow::Continue
            }
            Err(e) => {
                fail(d, SERVER, &e);
                Flow::Halt
            }
        }
    }
}

impl Public {
    fn events(
        &mut self,
        d: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let mut out = Vec::new();
        let server = &mut self.peer.machine;
        for ev in server.take_channel_events() {
            match ev {
                ChannelEvent::ListenRequest { address, port } => {
                    d.narrate(
                        "ssh.narr.remote.listen_request",
                        &[("address", &address), ("remote_port", &port)],
                    );
                    out.extend(server.answer_listen(Some(port), rng)?);
                    // A visitor opens http://server.example:8080/ (a second TCP connection).
                    let request = visitor_request();
                    let fields = http_fields(&request, "http_request_line");
                    d.send(
                        HTTP_WIRE,
                        VISITOR,
                        SERVER,
                        "ssh.msg.http_request",
                        request,
                        fields,
                    );
                    d.narrate("ssh.narr.remote.visitor", &[("remote_port", &port)]);
                    let (channel, o) =
                        server.open_forwarded(&address, port, VISITOR_ADDR, VISITOR_PORT, rng)?;
                    self.channel = Some(channel);
                    out.extend(o);
                }
                ChannelEvent::RemoteOpened { channel } if self.channel == Some(channel) => {
                    out.extend(server.send_data(channel, &visitor_request(), rng)?);
                    out.extend(server.send_eof(channel, rng)?);
                }
                ChannelEvent::RemoteRefused { .. } => {
                    d.narrate("ssh.narr.remote.refused", &[]);
                }
                ChannelEvent::Data { channel, data } if self.channel == Some(channel) => {
                    self.response.extend_from_slice(&data);
                }
                ChannelEvent::Eof { channel } if self.channel == Some(channel) => {
                    out.extend(server.close_channel(channel, rng)?);
                }
                ChannelEvent::Closed { channel } if self.channel == Some(channel) && !self.done => {
                    self.done = true;
                    let response = core::mem::take(&mut self.response);
                    let status = String::from_utf8_lossy(&response)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let fields = http_fields(&response, "http_status_line");
                    d.send(
                        HTTP_WIRE,
                        SERVER,
                        VISITOR,
                        "ssh.msg.http_response",
                        response,
                        fields,
                    );
                    d.narrate("ssh.narr.remote.done", &[("status", &status)]);
                }
                ChannelEvent::ForwardRequest { channel, .. } => {
                    out.extend(server.refuse_forward(
                        channel,
                        crate::wire::message::open_failure::ADMINISTRATIVELY_PROHIBITED,
                        "not in this story",
                        rng,
                    )?);
                }
                _ => {}
            }
        }
        Ok(out)
    }
}
