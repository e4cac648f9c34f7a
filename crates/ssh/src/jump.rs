//! ProxyJump through the bastion: `ssh -J alice@bastion.example alice@10.0.0.5`.
//!
//! The laptop logs in to the bastion (the outer connection) and opens a
//! "direct-tcpip" channel to the target's sshd on port 22, as `ssh -W 10.0.0.5:22`
//! does. Through that channel it runs a second, complete SSH connection (the inner
//! one) with the target: its own version lines, KEXINIT, key exchange, keys,
//! authentication and a command. Every inner packet travels as CHANNEL_DATA of the
//! outer connection, so on the Internet link it is encrypted twice; the bastion
//! removes only the outer layer and writes the inner packets unchanged onto the
//! private network, where they are still encrypted with keys the bastion never has.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Endpoint, FailReason, Field, Flow, Layer, Recorder, Stop, Transmit, Wire,
};

use crate::bastion::{BastionParams, BASTION, BASTION_HOST, LAN, LAPTOP, PRIVATE_NET, WEB};
use crate::client::{Client, ClientConfig, Credential};
use crate::keys::{KnownHost, ED25519};
use crate::scenario::{
    demo_host_key, demo_key, fail, peers, Params, Peer, ScenarioKind, CLIENT_VERSION, EVE_WATCHES,
    MAX_ROUNDS, SERVER_VERSION,
};
use crate::server::{ChannelEvent, Server, ServerConfig};
use crate::session::Algorithms;
use crate::transport::Outgoing;
use crate::wire::message::open_failure;
use crate::wire::{DirectTcpip, Writer};
use crate::Error;

/// The target's sshd port.
pub const SSH_PORT: u32 = 22;
/// The command the laptop runs on the target.
pub const TARGET_COMMAND: &str = "hostname";
/// The target's host name (what `hostname` prints there).
pub const TARGET_HOSTNAME: &str = "intranet-db";
/// What `ssh -W` (and so `-J`) puts as the originator of its direct-tcpip
/// channel: OpenSSH's `channel_connect_stdio_fwd` sends "127.0.0.1", port 65535.
const STDIO_ORIGINATOR: &str = "127.0.0.1";
const STDIO_ORIGINATOR_PORT: u32 = 65535;

/// The inner connection's packets on the private link: SSH, as the target sees it.
const INNER_WIRE: Wire = Wire {
    link: LAN,
    protocol: "ssh",
    layer: Layer::Application,
};

/// An inner packet as its sender wrote it: label, bytes and fields.
type Inner = (&'static str, Vec<u8>, Vec<Field>);

/// The laptop's inner packets in the order it put them into the channel: the
/// bastion relays the same bytes and the transcript shows them with these fields.
type Sent = Rc<RefCell<VecDeque<Inner>>>;

/// The inner packet's fields nested as one group, so the outer CHANNEL_DATA reads
/// "channel data › inner SSH packet › …".
fn wrapped(bytes: &[u8], fields: Vec<Field>) -> Vec<Field> {
    let mut w = Writer::new();
    w.group("inner_ssh_packet", bytes, fields);
    w.finish().1
}

/// The inner connection's two ends: the laptop's second ssh client and the
/// target's sshd, with the target's own host key, known to the laptop.
fn inner_peers(params: &BastionParams) -> Result<(Client, Server), Error> {
    let host_key =
        demo_host_key(ED25519, "cipherstage demo target host key").ok_or(Error::Internal)?;
    let user_key = demo_key("cipherstage demo user key").ok_or(Error::Internal)?;
    let authorized = vec![user_key.public()];
    let algorithms = Algorithms {
        ciphers: vec![params.cipher.clone()],
        ..Algorithms::default()
    };
    let client = Client::new(
        ClientConfig {
            version: CLIENT_VERSION.into(),
            host: params.forward_host.clone(),
            known_hosts: vec![KnownHost {
                hosts: vec![params.forward_host.clone()],
                key: host_key.public(),
            }],
            trust_on_first_use: false,
            user: params.user.clone(),
            credential: Credential::Key(user_key),
            command: TARGET_COMMAND.into(),
            algorithms,
        },
        LAPTOP,
    );
    let server = Server::new(
        ServerConfig {
            version: SERVER_VERSION.into(),
            host_key,
            forge_with: None,
            authorized_keys: authorized,
            passwords: Vec::new(),
            hostname: TARGET_HOSTNAME.into(),
            algorithms: Algorithms {
                host_keys: vec![ED25519.into()],
                ..Algorithms::default()
            },
        },
        WEB,
    );
    Ok((client, server))
}

/// Runs the ProxyJump story into `d`.
pub(crate) fn exchange(
    d: &mut Recorder,
    rng: &mut Source,
    params: &BastionParams,
) -> Result<(), ()> {
    let base = Params {
        kind: ScenarioKind::PublicKey,
        cipher: params.cipher.clone(),
        user: params.user.clone(),
        ..Params::default()
    };
    let peers = peers(&base).and_then(|(c, s)| inner_peers(params).map(|i| (c, s, i)));
    let (mut client, mut server, (inner_client, target)) = match peers {
        Ok(p) => p,
        Err(e) => {
            fail(d, LAPTOP, &e);
            return Err(());
        }
    };
    d.narrate(
        "ssh.narr.jump.intro",
        &[
            ("user", &params.user),
            ("bastion", &BASTION_HOST),
            ("host", &params.forward_host),
            ("port", &SSH_PORT),
            ("net", &PRIVATE_NET),
        ],
    );
    client.forward_to(DirectTcpip {
        host: params.forward_host.clone(),
        port: SSH_PORT,
        originator: STDIO_ORIGINATOR.into(),
        originator_port: STDIO_ORIGINATOR_PORT,
    });
    server.allow_forwarding(true);
    let first = match client.start(rng) {
        Ok(v) => v,
        Err(e) => {
            fail(d, LAPTOP, &e);
            return Err(());
        }
    };
    let sent = Sent::default();
    let mut laptop = Laptop {
        peer: Peer::new(client, (LAPTOP, BASTION), first),
        tunnel: Tunnel::new(inner_client),
        sent: Rc::clone(&sent),
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
        target,
        channel: None,
        had_session: false,
        target_gone: false,
        pending: Vec::new(),
        sent,
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
    let outer = &laptop.peer.machine;
    if let Some((code, description)) = outer.forward_refused() {
        let reason = match code {
            open_failure::ADMINISTRATIVELY_PROHIBITED => "administratively prohibited",
            open_failure::CONNECT_FAILED => "connect failed",
            _ => "unknown reason",
        };
        d.narrate(
            "ssh.narr.jump.refused",
            &[("reason", &reason), ("description", &description)],
        );
    } else if let Some(status) = laptop.tunnel.inner().exit_status() {
        let output = String::from_utf8_lossy(laptop.tunnel.inner().output())
            .trim_end()
            .to_owned();
        d.narrate(
            "ssh.narr.jump.done",
            &[
                ("output", &output),
                ("status", &status),
                ("host", &params.forward_host),
            ],
        );
    }
    Ok(())
}

/// The laptop's side of ProxyJump, apart from the outer connection: the inner ssh
/// client, whose packets go into the outer client's direct-tcpip channel and which
/// is fed what comes out of it. The scenario and the OpenSSH interop test drive it
/// the same way: after the outer client took bytes, call [`Tunnel::step`].
#[derive(Debug)]
pub struct Tunnel {
    inner: Client,
    started: bool,
    eof_sent: bool,
}

/// What one [`Tunnel::step`] produced.
#[derive(Debug, Default)]
pub struct Stepped {
    /// Outer packets to send (CHANNEL_DATA carrying inner packets, then EOF).
    pub outer: Vec<Outgoing>,
    /// The inner packets those carry, as the inner client wrote them.
    pub inner: Vec<Outgoing>,
    /// The channel opened in this step (the inner connection started).
    pub opened: bool,
}

impl Tunnel {
    /// The inner client, to run once the outer client's forward channel opens.
    pub fn new(inner: Client) -> Self {
        Tunnel {
            inner,
            started: false,
            eof_sent: false,
        }
    }

    /// The inner client (its output, exit status, host key).
    pub fn inner(&self) -> &Client {
        &self.inner
    }

    /// Starts the inner connection when `outer`'s channel is open, feeds it what
    /// arrived on the channel, and puts what it answers into the channel; once the
    /// inner connection is over, sends EOF on the channel (as `ssh -W` does when its
    /// standard input ends).
    pub fn step(
        &mut self,
        outer: &mut Client,
        rng: &mut dyn RandomSource,
        events: &mut Vec<cipherstage_transcript::Event>,
    ) -> Result<Stepped, Error> {
        let mut st = Stepped::default();
        if !self.started && outer.forward_open() {
            self.started = true;
            st.opened = true;
            st.inner.extend(self.inner.start(rng)?);
        }
        let bytes = outer.take_output();
        if !bytes.is_empty() {
            if !self.started {
                return Err(Error::NoChannel);
            }
            st.inner.extend(self.inner.receive(&bytes, rng, events)?);
        }
        for o in &st.inner {
            let fields = wrapped(&o.bytes, o.fields.clone());
            st.outer
                .extend(outer.send_noted(&o.bytes, o.label, fields, rng)?);
        }
        if self.inner.is_closed() && self.started && !self.eof_sent {
            self.eof_sent = true;
            st.outer.extend(outer.send_eof(rng)?);
        }
        Ok(st)
    }
}

/// The laptop: the outer ssh (`-W` to the target) and the inner ssh to the target.
struct Laptop {
    peer: Peer<Client>,
    tunnel: Tunnel,
    /// Inner packets sent into the channel, for the bastion to relay with their fields.
    sent: Sent,
}

impl Laptop {
    fn step(&mut self, d: &mut Recorder, rng: &mut dyn RandomSource) -> Result<(), Error> {
        let st = self
            .tunnel
            .step(&mut self.peer.machine, rng, &mut d.events)?;
        if st.opened {
            d.narrate("ssh.narr.jump.channel_open", &[]);
        }
        self.peer.queue(st.outer);
        let mut sent = self.sent.borrow_mut();
        sent.extend(st.inner.into_iter().map(|o| (o.label, o.bytes, o.fields)));
        Ok(())
    }
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
        match self.step(d, rng) {
            Ok(()) => Flow::Continue,
            Err(e) => {
                fail(d, LAPTOP, &e);
                Flow::Halt
            }
        }
    }
}

/// The bastion's sshd, relaying the channel to the target's sshd on the private link.
struct Bastion {
    peer: Peer<Server>,
    target: Server,
    channel: Option<u32>,
    had_session: bool,
    target_gone: bool,
    /// Channel bytes from the laptop not yet written to the private link.
    pending: Vec<u8>,
    sent: Sent,
}

/// Who failed: the bastion's sshd or the target's.
type Failed = (usize, Error);

impl Endpoint for Bastion {
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
        match self.events(d, rng) {
            Ok(out) => {
                self.peer.queue(out);
                Flow::Continue
            }
            Err((who, e)) => {
                fail(d, who, &e);
                Flow::Halt
            }
        }
    }
}

impl Bastion {
    /// Relays what the target's sshd sends back into the outer channel.
    fn back(
        &mut self,
        d: &mut Recorder,
        channel: u32,
        out: Vec<Outgoing>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let mut q = Vec::new();
        for o in out {
            let arrived = d.send(INNER_WIRE, WEB, BASTION, o.label, o.bytes, o.fields.clone());
            let fields = wrapped(&arrived.bytes, o.fields);
            q.extend(self.peer.machine.send_noted(
                channel,
                &arrived.bytes,
                o.label,
                fields,
                rng,
            )?);
        }
        if self.target.open_channels() > 0 {
            self.had_session = true;
        }
        if self.had_session && self.target.open_channels() == 0 && !self.target_gone {
            // The session is over: the target's sshd exits and closes its TCP
            // connection, so the bastion ends the channel.
            self.target_gone = true;
            d.narrate("ssh.narr.jump.target_closed", &[]);
            q.extend(self.peer.machine.send_eof(channel, rng)?);
            q.extend(self.peer.machine.close_channel(channel, rng)?);
        }
        Ok(q)
    }

    fn events(
        &mut self,
        d: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Failed> {
        let bastion = |e| (BASTION, e);
        let mut q = Vec::new();
        for ev in self.peer.machine.take_channel_events() {
            match ev {
                ChannelEvent::ForwardRequest { channel, target } => {
                    let (host, port) = (target.host, target.port);
                    d.narrate(
                        "ssh.narr.jump.request",
                        &[("host", &host), ("port", &port), ("channel", &channel)],
                    );
                    let ok = crate::bastion::allowed(&host);
                    d.check(
                        BASTION,
                        "ssh.check.forward_policy",
                        (!ok).then_some(FailReason::Untrusted),
                    );
                    if !ok {
                        q.extend(
                            self.peer
                                .machine
                                .refuse_forward(
                                    channel,
                                    open_failure::ADMINISTRATIVELY_PROHIBITED,
                                    "open failed",
                                    rng,
                                )
                                .map_err(bastion)?,
                        );
                    } else if host == crate::bastion::WEB_ADDR
                        && port == SSH_PORT
                        && self.channel.is_none()
                    {
                        d.narrate("ssh.narr.jump.connected", &[("host", &host)]);
                        self.channel = Some(channel);
                        q.extend(
                            self.peer
                                .machine
                                .accept_forward(channel, rng)
                                .map_err(bastion)?,
                        );
                        // The target's sshd speaks first once the TCP connection is up.
                        let out = self.target.start(rng).map_err(|e| (WEB, e))?;
                        q.extend(self.back(d, channel, out, rng).map_err(bastion)?);
                    } else {
                        q.extend(
                            self.peer
                                .machine
                                .refuse_forward(
                                    channel,
                                    open_failure::CONNECT_FAILED,
                                    "Connection refused",
                                    rng,
                                )
                                .map_err(bastion)?,
                        );
                    }
                }
                ChannelEvent::Data { channel, data } if self.channel == Some(channel) => {
                    self.pending.extend_from_slice(&data);
                    let sent = Rc::clone(&self.sent);
                    let mut sent = sent.borrow_mut();
                    while let Some((label, bytes, fields)) = sent.front() {
                        if !self.pending.starts_with(bytes) {
                            break;
                        }
                        let (label, bytes, fields) = (*label, bytes.clone(), fields.clone());
                        sent.pop_front();
                        self.pending.drain(..bytes.len());
                        let arrived = d.send(INNER_WIRE, BASTION, WEB, label, bytes, fields);
                        if self.target_gone {
                            continue;
                        }
                        let out = self
                            .target
                            .receive(&arrived.bytes, rng, &mut d.events)
                            .map_err(|e| (WEB, e))?;
                        q.extend(self.back(d, channel, out, rng).map_err(bastion)?);
                    }
                }
                ChannelEvent::Closed { channel } if self.channel == Some(channel) => {
                    self.channel = None;
                }
                ChannelEvent::Data { .. }
                | ChannelEvent::Eof { .. }
                | ChannelEvent::Closed { .. } => {}
                ChannelEvent::ListenRequest { .. } => {
                    q.extend(
                        self.peer
                            .machine
                            .answer_listen(None, rng)
                            .map_err(bastion)?,
                    );
                }
                ChannelEvent::ListenCancel { .. }
                | ChannelEvent::RemoteOpened { .. }
                | ChannelEvent::RemoteRefused { .. } => {}
            }
        }
        Ok(q)
    }
}
