//! Port forwarding through a bastion (踏み台サーバー): `ssh -L 8080:10.0.0.5:80 bastion`.
//!
//! The laptop logs in to the bastion with its Ed25519 key, opens a "direct-tcpip"
//! channel to a web server on the private network and sends an HTTP GET through
//! it. The bastion checks the target against its policy (only the private network),
//! opens a plain TCP connection there and relays the bytes both ways. Eve sits on
//! the Internet link and sees only SSH packets; the private link is not hers.

use std::net::Ipv4Addr;

use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Actor, Endpoint, Event, FailReason, Field, Flow, Layer, Link, Protection, Recorder,
    Role, Stop, TamperAt, Transcript, Transmit, Value, Wire,
};

use crate::client::Client;
use crate::scenario::{fail, peers, Params, Peer, ScenarioKind, EVE_WATCHES, MAX_ROUNDS};
use crate::server::{ChannelEvent, Server};
use crate::transport::Outgoing;
use crate::wire::message::open_failure;
use crate::wire::{DirectTcpip, Writer};
use crate::Error;

pub(crate) const LAPTOP: usize = 0;
pub(crate) const BASTION: usize = 1;
pub(crate) const WEB: usize = 2;
const EVE: usize = 3;
/// The Internet link between the laptop and the bastion (Eve is here).
const INTERNET: usize = 0;
/// The private network between the bastion and the internal web server.
pub(crate) const LAN: usize = 1;

/// The bastion's name.
pub const BASTION_HOST: &str = "bastion.example";
/// The internal web server's address on the private network.
pub const WEB_ADDR: &str = "10.0.0.5";
/// Its HTTP port.
pub const WEB_PORT: u32 = 80;
/// The private network the bastion lets forwarded connections reach.
pub const PRIVATE_NET: &str = "10.0.0.0/24";
/// The laptop's local port of `ssh -L`.
pub const LOCAL_PORT: u32 = 8080;
/// The browser's side of its connection to localhost:8080 (the originator).
const ORIGINATOR: &str = "127.0.0.1";
const ORIGINATOR_PORT: u32 = 53412;

/// The docker host's name (ssh-docker).
pub const DOCKER_HOST: &str = "docker-host.example";
/// The container's address on Docker's default bridge network.
pub const CONTAINER_ADDR: &str = "172.17.0.2";
/// Docker's default bridge network (docker0), reachable only from the host.
pub const BRIDGE_NET: &str = "172.17.0.0/16";
/// The host port of Docker's own alternative, `docker run -p 8080:80`.
pub const PUBLISHED_PORT: u32 = 8080;

/// Which picture the forwarding scene draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scene {
    /// A bastion in front of a private network (10.0.0.0/24) with an intranet web server.
    #[default]
    Bastion,
    /// A Docker host with a container on its private bridge network (172.17.0.0/16).
    Docker,
}

/// How the laptop reaches the target behind the bastion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hop {
    /// `ssh -L`: a direct-tcpip channel to the web server (one SSH connection).
    #[default]
    Direct,
    /// `ssh -J bastion target`: a second SSH connection to the target's sshd
    /// (port 22) carried inside the first one's direct-tcpip channel.
    ProxyJump,
}

/// How ssh-docker reaches the container's web server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Publish {
    /// `ssh -L 8080:172.17.0.2:80 docker-host`: through SSH to the host.
    #[default]
    SshTunnel,
    /// `docker run -p 8080:80`: Docker publishes the port on the host's address;
    /// the browser speaks plain HTTP across the Internet.
    DockerPort,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BastionParams {
    /// The cipher the laptop prefers (offered alone).
    pub cipher: String,
    /// The user name on the bastion.
    pub user: String,
    /// Where the forwarded connection should go (`-L 8080:HOST:PORT`).
    pub forward_host: String,
    /// Its port.
    pub forward_port: u32,
    /// Eve's change on the Internet link, if any (counting every message of the run).
    pub tamper: Option<TamperAt>,
    /// The bastion in front of an intranet, or a Docker host in front of a container.
    pub scene: Scene,
    /// One SSH connection with a forward, or ProxyJump's SSH inside SSH (bastion only).
    pub hop: Hop,
    /// SSH tunnel or Docker's published port (docker only).
    pub publish: Publish,
}

impl Default for BastionParams {
    fn default() -> Self {
        BastionParams {
            cipher: crate::kex::CHACHA.into(),
            user: "alice".into(),
            forward_host: WEB_ADDR.into(),
            forward_port: WEB_PORT,
            tamper: None,
            scene: Scene::Bastion,
            hop: Hop::Direct,
            publish: Publish::SshTunnel,
        }
    }
}

impl Scene {
    /// The SSH server's name.
    pub fn host(self) -> &'static str {
        match self {
            Scene::Bastion => BASTION_HOST,
            Scene::Docker => DOCKER_HOST,
        }
    }

    /// The network behind it.
    pub fn net(self) -> &'static str {
        match self {
            Scene::Bastion => PRIVATE_NET,
            Scene::Docker => BRIDGE_NET,
        }
    }

    /// Where its web server listens.
    pub fn web_addr(self) -> &'static str {
        match self {
            Scene::Bastion => WEB_ADDR,
            Scene::Docker => CONTAINER_ADDR,
        }
    }

    /// The narration key `ssh.narr.<bastion|docker>.<what>`.
    fn narr(self, what: &str) -> String {
        match self {
            Scene::Bastion => format!("ssh.narr.bastion.{what}"),
            Scene::Docker => format!("ssh.narr.docker.{what}"),
        }
    }

    /// Whether the server's policy lets a forwarded connection reach `host`: the
    /// bastion allows only its private network; the docker host's sshd keeps
    /// OpenSSH's default (AllowTcpForwarding yes, no PermitOpen), so anything.
    fn allows(self, host: &str) -> bool {
        match self {
            Scene::Bastion => allowed(host),
            Scene::Docker => true,
        }
    }
}

/// The private link's plain HTTP.
const HTTP_WIRE: Wire = Wire {
    link: LAN,
    protocol: "http",
    layer: Layer::Application,
};

/// Whether the bastion's policy lets a forwarded connection reach `host`: an IPv4
/// address inside 10.0.0.0/24 (names are not resolved, so they are refused).
pub fn allowed(host: &str) -> bool {
    host.parse::<Ipv4Addr>()
        .is_ok_and(|a| matches!(a.octets(), [10, 0, 0, _]))
}

/// The HTTP request the browser sends to localhost:8080, as it enters the tunnel.
pub fn http_request(host: &str, port: u32) -> Vec<u8> {
    let authority = if port == 80 {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    };
    format!(
        "GET / HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: cipherstage-browser\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// The internal web server's answer to `request` (a page for GET, 400 otherwise).
pub fn http_response(request: &[u8]) -> Vec<u8> {
    scene_response(Scene::Bastion, request)
}

/// The web server's answer in `scene`: the intranet's page, or the container's.
pub fn scene_response(scene: Scene, request: &[u8]) -> Vec<u8> {
    let page = match scene {
        Scene::Bastion => "<h1>Intranet</h1><p>Only reachable inside 10.0.0.0/24.</p>\n",
        Scene::Docker => "<h1>Container</h1><p>Served from 172.17.0.2 on the docker0 bridge.</p>\n",
    };
    let (status, body) = if request.starts_with(b"GET ") {
        ("200 OK", page)
    } else {
        ("400 Bad Request", "bad request\n")
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A field tree for HTTP/1.1 text: the first line, each header line, the empty
/// line, then the body. Every byte is in exactly one field.
pub fn http_fields(bytes: &[u8], first_line: &str) -> Vec<Field> {
    let mut w = Writer::new();
    let mut rest = bytes;
    let mut first = true;
    while let Some(nl) = rest.windows(2).position(|p| p == b"\r\n") {
        let Some((line, after)) = rest.split_at_checked(nl + 2) else {
            break;
        };
        let text = String::from_utf8_lossy(line.get(..nl).unwrap_or_default()).into_owned();
        let id = if first {
            first_line
        } else if nl == 0 {
            "http_end_of_headers"
        } else {
            "http_header"
        };
        let value = (nl > 0).then_some(Value::Text(text));
        w.raw(id, line, value, Protection::Plaintext);
        first = false;
        rest = after;
        if nl == 0 {
            break;
        }
    }
    if !rest.is_empty() {
        w.raw(
            "http_body",
            rest,
            Some(Value::Text(String::from_utf8_lossy(rest).into_owned())),
            Protection::Plaintext,
        );
    }
    w.finish().1
}

/// OpenSSH's words for a CHANNEL_OPEN_FAILURE reason code.
fn reason_text(code: u32) -> &'static str {
    match code {
        open_failure::ADMINISTRATIVELY_PROHIBITED => "administratively prohibited",
        open_failure::CONNECT_FAILED => "connect failed",
        open_failure::UNKNOWN_CHANNEL_TYPE => "unknown channel type",
        open_failure::RESOURCE_SHORTAGE => "resource shortage",
        _ => "unknown reason",
    }
}

/// Runs the bastion scenario with `seed` (`None`: live randomness).
pub fn run(scenario: &str, params: &BastionParams, seed: Option<u64>) -> Transcript {
    let mut rng = Source::from_seed(seed);
    let mut d = Recorder::new(params.tamper, Some(EVE));
    d.watch_only_named_links();
    d.watch(INTERNET);
    let _ = match (params.scene, params.hop, params.publish) {
        (Scene::Docker, _, Publish::DockerPort) => {
            published_port(&mut d, params);
            Ok(())
        }
        (Scene::Bastion, Hop::ProxyJump, _) => crate::jump::exchange(&mut d, &mut rng, params),
        _ => exchange(&mut d, &mut rng, params),
    };
    let tampered = d
        .events
        .iter()
        .any(|e| matches!(e, Event::Message(m) if m.tampered.is_some()));
    let alerted = d.events.iter().any(|e| matches!(e, Event::Alert(_)));
    if tampered && !alerted {
        d.narrate("ssh.narr.tamper_unnoticed", &[]);
    }
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: actors(params),
        links: vec![
            Link {
                a: LAPTOP,
                b: BASTION,
                observers: vec![EVE],
            },
            Link {
                a: BASTION,
                b: WEB,
                observers: Vec::new(),
            },
        ],
        events: d.events,
    }
}

/// The four actors: the laptop, the SSH server, what is behind it, Eve.
fn actors(params: &BastionParams) -> Vec<Actor> {
    let (laptop, server, target) = match (params.scene, params.hop) {
        (Scene::Docker, _) => (
            "ssh.actor.laptop_docker",
            "ssh.actor.docker_host",
            "ssh.actor.container",
        ),
        (Scene::Bastion, Hop::ProxyJump) => (
            "ssh.actor.laptop_jump",
            "ssh.actor.bastion",
            "ssh.actor.jump_target",
        ),
        (Scene::Bastion, Hop::Direct) => (
            "ssh.actor.laptop",
            "ssh.actor.bastion",
            "ssh.actor.intranet_web",
        ),
    };
    vec![
        Actor {
            role: Role::Client,
            name: laptop.into(),
        },
        Actor {
            role: Role::Bastion,
            name: server.into(),
        },
        Actor {
            role: Role::Server,
            name: target.into(),
        },
        Actor {
            role: Role::Eavesdropper,
            name: "ssh.actor.eve_internet".into(),
        },
    ]
}

/// Plain HTTP on the Internet link, as Eve reads it.
const PUBLIC_HTTP: Wire = Wire {
    link: INTERNET,
    protocol: "http",
    layer: Layer::Application,
};

/// Docker's own way, `docker run -p 8080:80`: no SSH at all. The browser sends
/// plain HTTP to the host's published port across the Internet (Eve reads it),
/// and Docker's port forwarding (iptables DNAT or docker-proxy) hands it to the
/// container on the bridge, the answer back the same way.
fn published_port(d: &mut Recorder, params: &BastionParams) {
    let scene = params.scene;
    d.narrate(
        "ssh.narr.docker.published_intro",
        &[
            ("host", &scene.host()),
            ("port", &PUBLISHED_PORT),
            ("container", &CONTAINER_ADDR),
            ("net", &BRIDGE_NET),
        ],
    );
    let request = http_request(scene.host(), PUBLISHED_PORT);
    let fields = http_fields(&request, "http_request_line");
    let arrived = d.send(
        PUBLIC_HTTP,
        LAPTOP,
        BASTION,
        "ssh.msg.http_request_published",
        request,
        fields,
    );
    d.narrate(
        "ssh.narr.docker.published_eve",
        &[("host", &scene.host()), ("port", &PUBLISHED_PORT)],
    );
    let fields = http_fields(&arrived.bytes, "http_request_line");
    let inside = d.send(
        HTTP_WIRE,
        BASTION,
        WEB,
        "ssh.msg.http_request",
        arrived.bytes,
        fields,
    );
    let response = scene_response(scene, &inside.bytes);
    let fields = http_fields(&response, "http_status_line");
    let back = d.send(
        HTTP_WIRE,
        WEB,
        BASTION,
        "ssh.msg.http_response",
        response,
        fields,
    );
    let fields = http_fields(&back.bytes, "http_status_line");
    let answer = d.send(
        PUBLIC_HTTP,
        BASTION,
        LAPTOP,
        "ssh.msg.http_response_published",
        back.bytes,
        fields,
    );
    let status = String::from_utf8_lossy(&answer.bytes)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    d.narrate(
        "ssh.narr.docker.published_done",
        &[("status", &status), ("port", &PUBLISHED_PORT)],
    );
}

/// The bastion's side of the private link: one TCP connection to the web server.
#[derive(Default)]
struct Relay {
    /// The forwarding channel it serves.
    channel: Option<u32>,
    /// Request bytes received so far (the web server answers a whole request).
    request: Vec<u8>,
    answered: bool,
}

fn exchange(d: &mut Recorder, rng: &mut Source, params: &BastionParams) -> Result<(), ()> {
    let base = Params {
        kind: ScenarioKind::PublicKey,
        cipher: params.cipher.clone(),
        user: params.user.clone(),
        ..Params::default()
    };
    let (mut client, mut server) = match peers(&base) {
        Ok(p) => p,
        Err(e) => {
            fail(d, LAPTOP, &e);
            return Err(());
        }
    };
    let target = DirectTcpip {
        host: params.forward_host.clone(),
        port: params.forward_port,
        originator: ORIGINATOR.into(),
        originator_port: ORIGINATOR_PORT,
    };
    let scene = params.scene;
    d.narrate(
        &scene.narr("intro"),
        &[
            ("user", &params.user),
            ("bastion", &scene.host()),
            ("local_port", &LOCAL_PORT),
            ("host", &params.forward_host),
            ("port", &params.forward_port),
            ("net", &scene.net()),
        ],
    );
    client.forward_to(target);
    server.allow_forwarding(true);
    let request = http_request(&params.forward_host, params.forward_port);
    let start = client.start(rng).and_then(|mut v| {
        client.send_data(&request, rng).map(|q| {
            v.extend(q);
            v
        })
    });
    let first = match start {
        Ok(v) => v,
        Err(e) => {
            fail(d, LAPTOP, &e);
            return Err(());
        }
    };
    let mut laptop = Laptop {
        peer: Peer::new(client, (LAPTOP, BASTION), first),
        was_open: false,
    };
    let first = match server.start(rng) {
        Ok(v) => v,
        Err(e) => {
            fail(d, BASTION, &e);
            return Err(());
        }
    };
    let mut bastion = Bastion {
        peer: Peer::new(server, (BASTION, LAPTOP), first),
        relay: Relay::default(),
        params,
    };
    let stop = drive(
        &mut [&mut laptop, &mut bastion],
        &mut { EVE_WATCHES },
        d,
        rng,
        MAX_ROUNDS,
    );
    if let Stop::Halted { .. } = stop {
        return Err(());
    }
    let client = &laptop.peer.machine;
    if let Some((code, description)) = client.forward_refused() {
        d.narrate(
            "ssh.narr.bastion.client_refused",
            &[
                ("reason", &reason_text(code)),
                ("description", &description),
            ],
        );
    } else if client.is_closed() {
        let answer = String::from_utf8_lossy(client.output()).into_owned();
        let status = answer.lines().next().unwrap_or_default().to_owned();
        d.narrate(
            &scene.narr("done"),
            &[("status", &status), ("local_port", &LOCAL_PORT)],
        );
        if scene == Scene::Docker {
            d.narrate(
                "ssh.narr.docker.contrast",
                &[
                    ("port", &PUBLISHED_PORT),
                    ("host", &scene.host()),
                    ("container", &CONTAINER_ADDR),
                ],
            );
        }
    }
    Ok(())
}

/// The laptop's ssh client: says when its forwarding channel opens.
struct Laptop {
    peer: Peer<Client>,
    was_open: bool,
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
        let flow = self.peer.take(bytes, d, rng);
        if flow == Flow::Continue && self.peer.machine.forward_open() && !self.was_open {
            self.was_open = true;
            d.narrate("ssh.narr.bastion.channel_open", &[]);
        }
        flow
    }
}

/// The bastion's sshd and its side of the private network.
struct Bastion<'a> {
    peer: Peer<Server>,
    relay: Relay,
    params: &'a BastionParams,
}

impl Endpoint for Bastion<'_> {
    fn actor(&self) -> usize {
        BASTION
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
        let server = &mut self.peer.machine;
        match bastion_events(d, server, &mut self.relay, rng, self.params) {
            Ok(out) => {
                self.peer.queue(out);
                Flow::Continue
            }
            Err(e) => {
                fail(d, BASTION, &e);
                Flow::Halt
            }
        }
    }
}

/// The bastion's decisions and its private-network side, for what the server surfaced.
fn bastion_events(
    d: &mut Recorder,
    server: &mut Server,
    relay: &mut Relay,
    rng: &mut dyn RandomSource,
    params: &BastionParams,
) -> Result<Vec<Outgoing>, Error> {
    let mut out = Vec::new();
    for ev in server.take_channel_events() {
        match ev {
            ChannelEvent::ForwardRequest { channel, target } => {
                let (host, port) = (target.host.clone(), target.port);
                let scene = params.scene;
                d.narrate(
                    &scene.narr("request"),
                    &[("host", &host), ("port", &port), ("channel", &channel)],
                );
                let ok = scene.allows(&host);
                if scene == Scene::Bastion {
                    d.check(
                        BASTION,
                        "ssh.check.forward_policy",
                        (!ok).then_some(FailReason::Untrusted),
                    );
                }
                if !ok {
                    d.narrate(
                        "ssh.narr.bastion.prohibited",
                        &[("host", &host), ("port", &port), ("net", &PRIVATE_NET)],
                    );
                    out.extend(server.refuse_forward(
                        channel,
                        open_failure::ADMINISTRATIVELY_PROHIBITED,
                        "open failed",
                        rng,
                    )?);
                } else if host == scene.web_addr() && port == WEB_PORT && relay.channel.is_none() {
                    d.narrate(
                        &scene.narr("connected"),
                        &[("host", &host), ("port", &port)],
                    );
                    relay.channel = Some(channel);
                    out.extend(server.accept_forward(channel, rng)?);
                } else {
                    d.narrate(
                        &scene.narr("connect_failed"),
                        &[("host", &host), ("port", &port)],
                    );
                    out.extend(server.refuse_forward(
                        channel,
                        open_failure::CONNECT_FAILED,
                        "Connection refused",
                        rng,
                    )?);
                }
            }
            ChannelEvent::Data { channel, data } if relay.channel == Some(channel) => {
                let fields = http_fields(&data, "http_request_line");
                let arrived = d.send(
                    HTTP_WIRE,
                    BASTION,
                    WEB,
                    "ssh.msg.http_request",
                    data,
                    fields,
                );
                relay.request.extend_from_slice(&arrived.bytes);
                let complete = relay.request.windows(4).any(|w| w == b"\r\n\r\n");
                if complete && !relay.answered {
                    relay.answered = true;
                    let response = scene_response(params.scene, &relay.request);
                    let fields = http_fields(&response, "http_status_line");
                    let arrived = d.send(
                        HTTP_WIRE,
                        WEB,
                        BASTION,
                        "ssh.msg.http_response",
                        response,
                        fields,
                    );
                    d.narrate(
                        &params.scene.narr("relay_back"),
                        &[("host", &params.forward_host)],
                    );
                    // The web server closes its connection after the answer
                    // (Connection: close): the bastion sends EOF and CLOSE.
                    out.extend(server.send_data(channel, &arrived.bytes, rng)?);
                    out.extend(server.send_eof(channel, rng)?);
                    out.extend(server.close_channel(channel, rng)?);
                }
            }
            ChannelEvent::Closed { channel } if relay.channel == Some(channel) => {
                relay.channel = None;
                d.narrate("ssh.narr.bastion.closed", &[]);
            }
            ChannelEvent::Data { .. } | ChannelEvent::Eof { .. } | ChannelEvent::Closed { .. } => {}
            // The laptop asks for no remote forwarding in this story.
            ChannelEvent::ListenRequest { .. } => out.extend(server.answer_listen(None, rng)?),
            ChannelEvent::ListenCancel { .. }
            | ChannelEvent::RemoteOpened { .. }
            | ChannelEvent::RemoteRefused { .. } => {}
        }
    }
    Ok(out)
}
