//! The SSH server state machine: key exchange signed with its host key, user
//! authentication against authorized keys or passwords, and a session channel
//! whose `exec` runs in a tiny built-in demo shell (no process is started).
//!
//! Port forwarding (RFC 4254 §7.2), sans-IO: once [`Server::allow_forwarding`] is
//! on, a "direct-tcpip" CHANNEL_OPEN becomes a [`ChannelEvent::ForwardRequest`];
//! the embedding decides, opens the TCP connection itself, and answers with
//! [`Server::accept_forward`] or [`Server::refuse_forward`]; bytes then travel
//! with [`Server::send_data`] / [`ChannelEvent::Data`], EOF and CLOSE likewise.

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, Event, FailReason};

use crate::client::signed_data;
use crate::keys::{HostKey, PublicKey};
pub use crate::session::Algorithms;
use crate::session::MAX_PACKET;
use crate::session::{check, Session, Side};
use crate::transport::Outgoing;
use crate::wire::message::open_failure;
use crate::wire::{AuthMethod, ChannelRequestKind, DirectTcpip, Msg};
use crate::Error;

/// Everything the server is configured with.
#[derive(Debug)]
pub struct ServerConfig {
    /// The identification string (without CR LF).
    pub version: String,
    /// The host key it presents.
    pub host_key: HostKey,
    /// When set, the exchange hash is signed with this key instead (a forged signature).
    pub forge_with: Option<HostKey>,
    /// Keys in authorized_keys.
    pub authorized_keys: Vec<PublicKey>,
    /// Accepted (user, password) pairs; empty means password authentication is off.
    pub passwords: Vec<(String, String)>,
    /// The name `hostname` prints in the demo shell.
    pub hostname: String,
    /// Algorithm preferences.
    pub algorithms: Algorithms,
}

enum State {
    ExpectVersion,
    ExpectKexInit,
    ExpectEcdhInit,
    ExpectNewKeys,
    ExpectServiceRequest,
    Auth,
    Connection { remote: Option<u32> },
    Closed,
}

/// Something on a forwarding channel the embedding has to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEvent {
    /// The client asks: "open TCP to `target` for channel `channel`". Answer with
    /// [`Server::accept_forward`] or [`Server::refuse_forward`].
    ForwardRequest {
        /// Our number for the channel.
        channel: u32,
        /// Where to connect, and who asked.
        target: DirectTcpip,
    },
    /// Bytes from the client, to write to the TCP connection.
    Data {
        /// Our channel number.
        channel: u32,
        /// The bytes.
        data: Vec<u8>,
    },
    /// The client will send no more on this channel (half-close the TCP connection).
    Eof {
        /// Our channel number.
        channel: u32,
    },
    /// The channel is closed both ways (close the TCP connection).
    Closed {
        /// Our channel number.
        channel: u32,
    },
}

/// Our receive window on a channel.
const WINDOW: u32 = 2 * 1024 * 1024;

/// One forwarding channel, from the request to both CLOSE messages.
#[derive(Debug)]
struct Forward {
    local: u32,
    remote: u32,
    /// Accepted (CHANNEL_OPEN_CONFIRMATION sent).
    open: bool,
    /// The peer's window and largest packet.
    window: u32,
    max_packet: u32,
    pending: Vec<u8>,
    eof_pending: bool,
    eof_sent: bool,
    close_pending: bool,
    close_sent: bool,
    /// Bytes received since our last window adjustment.
    consumed: u32,
}

/// The SSH server.
pub struct Server {
    cfg: ServerConfig,
    s: Session,
    state: State,
    failures: u32,
    forwarding: bool,
    forwards: Vec<Forward>,
    next_channel: u32,
    events: Vec<ChannelEvent>,
}

/// Failed authentication attempts allowed before disconnecting (OpenSSH's MaxAuthTries
/// default, counting every USERAUTH_FAILURE as OpenSSH does for "none" too).
pub const MAX_AUTH_FAILURES: u32 = 6;

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("state", &self.state_name())
            .finish()
    }
}

impl Server {
    /// A server recorded as actor `me`.
    pub fn new(cfg: ServerConfig, me: ActorId) -> Self {
        let s = Session::new(Side::Server, me, &cfg.version);
        Server {
            cfg,
            s,
            state: State::ExpectVersion,
            failures: 0,
            forwarding: false,
            forwards: Vec::new(),
            next_channel: 0,
            events: Vec::new(),
        }
    }

    /// Surfaces "direct-tcpip" channel requests as [`ChannelEvent::ForwardRequest`]
    /// (off by default: they are refused as administratively prohibited).
    pub fn allow_forwarding(&mut self, on: bool) {
        self.forwarding = on;
    }

    /// What happened on forwarding channels since the last call.
    pub fn take_channel_events(&mut self) -> Vec<ChannelEvent> {
        core::mem::take(&mut self.events)
    }

    fn requested(&mut self, channel: u32) -> Result<&mut Forward, Error> {
        self.forwards
            .iter_mut()
            .find(|f| f.local == channel)
            .ok_or(Error::NoChannel)
    }

    /// Confirms the forwarding channel `channel` (the TCP connection is up).
    pub fn accept_forward(
        &mut self,
        channel: u32,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let f = self.requested(channel)?;
        if f.open {
            return Err(Error::NoChannel);
        }
        f.open = true;
        let msg = Msg::ChannelOpenConfirmation {
            recipient: f.remote,
            sender: f.local,
            window: WINDOW,
            max_packet: MAX_PACKET,
        };
        self.s.send(&msg, rng)?;
        self.flush(channel, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Refuses the forwarding channel `channel` with CHANNEL_OPEN_FAILURE: `reason`
    /// from [`open_failure`] (1 administratively prohibited, 2 connect failed …).
    pub fn refuse_forward(
        &mut self,
        channel: u32,
        reason: u32,
        description: &str,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let f = self.requested(channel)?;
        if f.open {
            return Err(Error::NoChannel);
        }
        let remote = f.remote;
        self.forwards.retain(|f| f.local != channel);
        self.s.send(
            &Msg::ChannelOpenFailure {
                recipient: remote,
                reason,
                description: description.into(),
                language: String::new(),
            },
            rng,
        )?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Sends bytes from the TCP connection to the client on `channel` (queued while
    /// the client's window is full).
    pub fn send_data(
        &mut self,
        channel: u32,
        data: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let f = self.requested(channel)?;
        if f.eof_pending || f.eof_sent || f.close_pending || f.close_sent {
            return Err(Error::NoChannel);
        }
        f.pending.extend_from_slice(data);
        self.flush(channel, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Sends EOF on `channel` after queued data (the target closed its side).
    pub fn send_eof(
        &mut self,
        channel: u32,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let f = self.requested(channel)?;
        f.eof_pending = !f.eof_sent;
        self.flush(channel, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Closes `channel` after queued data; [`ChannelEvent::Closed`] follows when
    /// the client's CLOSE arrives.
    pub fn close_channel(
        &mut self,
        channel: u32,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let f = self.requested(channel)?;
        f.close_pending = !f.close_sent;
        self.flush(channel, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Sends what the window allows on `channel`, then a queued EOF and CLOSE.
    fn flush(&mut self, channel: u32, rng: &mut dyn RandomSource) -> Result<(), Error> {
        let f = self.requested(channel)?;
        if !f.open {
            return Ok(());
        }
        let mut packets =
            crate::session::window_chunks(&mut f.pending, &mut f.window, f.max_packet, f.remote);
        if f.pending.is_empty() {
            if f.eof_pending {
                f.eof_pending = false;
                f.eof_sent = true;
                packets.push(Msg::ChannelEof {
                    recipient: f.remote,
                });
            }
            if f.close_pending {
                f.close_pending = false;
                f.close_sent = true;
                packets.push(Msg::ChannelClose {
                    recipient: f.remote,
                });
            }
        }
        for m in &packets {
            self.s.send(m, rng)?;
        }
        Ok(())
    }

    /// Handles a message for a forwarding channel; gives back any other message.
    fn forward_msg(&mut self, msg: Msg, rng: &mut dyn RandomSource) -> Result<Option<Msg>, Error> {
        if let Msg::ChannelOpenDirectTcpip {
            sender,
            window,
            max_packet,
            target,
        } = msg
        {
            let local = self.next_channel;
            self.next_channel = self.next_channel.wrapping_add(1);
            self.forwards.push(Forward {
                local,
                remote: sender,
                open: false,
                window,
                max_packet,
                pending: Vec::new(),
                eof_pending: false,
                eof_sent: false,
                close_pending: false,
                close_sent: false,
                consumed: 0,
            });
            if self.forwarding {
                self.events.push(ChannelEvent::ForwardRequest {
                    channel: local,
                    target,
                });
            } else {
                let out = self.refuse_forward(
                    local,
                    open_failure::ADMINISTRATIVELY_PROHIBITED,
                    "port forwarding is disabled",
                    rng,
                )?;
                self.s.out = out;
            }
            return Ok(None);
        }
        let recipient = match &msg {
            Msg::ChannelData { recipient, .. }
            | Msg::ChannelExtendedData { recipient, .. }
            | Msg::ChannelWindowAdjust { recipient, .. }
            | Msg::ChannelEof { recipient }
            | Msg::ChannelClose { recipient }
            | Msg::ChannelRequest { recipient, .. } => *recipient,
            _ => return Ok(Some(msg)),
        };
        let Some(f) = self
            .forwards
            .iter_mut()
            .find(|f| f.local == recipient && f.open)
        else {
            return Ok(Some(msg));
        };
        let remote = f.remote;
        match msg {
            Msg::ChannelData { data, .. } => {
                f.consumed = f.consumed.saturating_add(data.len() as u32);
                let adjust = (f.consumed >= WINDOW / 2).then(|| core::mem::take(&mut f.consumed));
                self.events.push(ChannelEvent::Data {
                    channel: recipient,
                    data,
                });
                if let Some(bytes) = adjust {
                    self.s.send(
                        &Msg::ChannelWindowAdjust {
                            recipient: remote,
                            bytes,
                        },
                        rng,
                    )?;
                }
            }
            Msg::ChannelWindowAdjust { bytes, .. } => {
                f.window = f.window.saturating_add(bytes);
                self.flush(recipient, rng)?;
            }
            Msg::ChannelEof { .. } => self.events.push(ChannelEvent::Eof { channel: recipient }),
            Msg::ChannelClose { .. } => {
                let close_sent = f.close_sent;
                self.forwards.retain(|f| f.local != recipient);
                if !close_sent {
                    self.s.send(&Msg::ChannelClose { recipient: remote }, rng)?;
                }
                self.events
                    .push(ChannelEvent::Closed { channel: recipient });
            }
            Msg::ChannelRequest {
                want_reply: true, ..
            } => self
                .s
                .send(&Msg::ChannelFailure { recipient: remote }, rng)?,
            _ => {}
        }
        Ok(None)
    }

    /// Stable key of the state, for the UI.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::ExpectVersion => "ssh.state.expect_version",
            State::ExpectKexInit => "ssh.state.expect_kexinit",
            State::ExpectEcdhInit => "ssh.state.expect_ecdh_init",
            State::ExpectNewKeys => "ssh.state.expect_newkeys",
            State::ExpectServiceRequest => "ssh.state.expect_service_request",
            State::Auth => "ssh.state.auth",
            State::Connection { .. } => "ssh.state.session",
            State::Closed => "ssh.state.closed",
        }
    }

    /// Whether the session is over.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Sends the version line and KEXINIT.
    pub fn start(&mut self, rng: &mut dyn RandomSource) -> Result<Vec<Outgoing>, Error> {
        self.s.start(&self.cfg.algorithms, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Takes received bytes; returns what to send.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<Vec<Outgoing>, Error> {
        crate::session::receive(self, bytes, rng, events)
    }
}

impl crate::session::Machine for Server {
    fn session(&mut self) -> &mut Session {
        &mut self.s
    }

    fn awaiting_version(&self) -> bool {
        matches!(self.state, State::ExpectVersion)
    }

    fn version_read(&mut self) {
        self.state = State::ExpectKexInit;
    }

    fn closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    fn handle(
        &mut self,
        msg: Msg,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        match &msg {
            Msg::Disconnect { reason, .. } => return Err(Error::Disconnected(*reason)),
            // Strict KEX already refused these during the first key exchange (session.rs).
            Msg::Ignore { .. } | Msg::Unimplemented { .. } => return Ok(()),
            Msg::Unknown { number, .. } if *number == crate::wire::message::num::DEBUG => {
                return Ok(())
            }
            Msg::GlobalRequest { want_reply, .. } if self.s.kex_done => {
                if *want_reply {
                    self.s.send(&Msg::RequestFailure, rng)?;
                }
                return Ok(());
            }
            _ => {}
        }
        let state = core::mem::replace(&mut self.state, State::Closed);
        self.state = match (state, msg) {
            (State::ExpectKexInit, msg @ Msg::KexInit(_)) => {
                self.s.peer_kexinit(&msg, events)?;
                State::ExpectEcdhInit
            }
            (State::ExpectEcdhInit, Msg::KexEcdhInit { client_public }) => {
                let (private, private_bytes, q_s) = self.s.ephemeral(rng, events)?;
                let k_s = self.cfg.host_key.public().blob();
                let h = self.s.finish_kex(
                    private,
                    &private_bytes,
                    &client_public,
                    &k_s,
                    &client_public,
                    &q_s,
                    events,
                )?;
                let signer = self.cfg.forge_with.as_ref().unwrap_or(&self.cfg.host_key);
                let signature = signer.sign(&h, rng).ok_or(Error::Random)?;
                self.s.send(
                    &Msg::KexEcdhReply {
                        host_key: k_s,
                        server_public: q_s,
                        signature,
                    },
                    rng,
                )?;
                self.s.send(&Msg::NewKeys, rng)?;
                self.s.activate_send()?;
                State::ExpectNewKeys
            }
            (State::ExpectNewKeys, Msg::NewKeys) => {
                self.s.activate_recv()?;
                State::ExpectServiceRequest
            }
            (State::ExpectServiceRequest, Msg::ServiceRequest { service })
                if service == "ssh-userauth" =>
            {
                self.s.send(&Msg::ServiceAccept { service }, rng)?;
                State::Auth
            }
            (
                State::Auth,
                Msg::UserauthRequest {
                    user,
                    service,
                    method,
                },
            ) => {
                if self.authenticate(&user, &service, method, rng, events)? {
                    State::Connection { remote: None }
                } else if self.failures > MAX_AUTH_FAILURES {
                    State::Closed
                } else {
                    State::Auth
                }
            }
            (State::Connection { remote }, msg) => match self.forward_msg(msg, rng)? {
                Some(msg) => self.connection(remote, msg, rng)?,
                None => State::Connection { remote },
            },
            (_, msg) => return Err(Error::Unexpected(msg.number())),
        };
        Ok(())
    }
}

impl Server {
    fn methods(&self) -> Vec<String> {
        let mut m = vec!["publickey".to_owned()];
        if !self.cfg.passwords.is_empty() {
            m.push("password".into());
        }
        m
    }

    fn fail(&mut self, rng: &mut dyn RandomSource) -> Result<bool, Error> {
        self.failures += 1;
        let methods = self.methods();
        if self.failures > MAX_AUTH_FAILURES {
            // SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE; handle() then closes.
            self.s.send(
                &Msg::Disconnect {
                    reason: 14,
                    description: "Too many authentication failures".into(),
                    language: String::new(),
                },
                rng,
            )?;
            return Ok(false);
        }
        self.s.send(
            &Msg::UserauthFailure {
                methods,
                partial: false,
            },
            rng,
        )?;
        Ok(false)
    }

    /// Handles one USERAUTH_REQUEST; true once the user is in.
    fn authenticate(
        &mut self,
        user: &str,
        service: &str,
        method: AuthMethod,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<bool, Error> {
        let me = self.s.me;
        match method {
            AuthMethod::PublicKey {
                algorithm,
                key,
                signature,
            } => {
                let parsed = PublicKey::from_blob(&key).ok();
                let authorized = parsed.as_ref().is_some_and(|k| {
                    k.algorithm() == algorithm && self.cfg.authorized_keys.contains(k)
                });
                check(
                    events,
                    me,
                    "ssh.check.authorized_keys",
                    (!authorized).then_some(FailReason::Untrusted),
                );
                let (Some(k), true) = (parsed, authorized) else {
                    return self.fail(rng);
                };
                match signature {
                    None => {
                        self.s.send(&Msg::UserauthPkOk { algorithm, key }, rng)?;
                        Ok(false)
                    }
                    Some(sig) => {
                        let sid = self.s.session_id.ok_or(Error::Internal)?;
                        let data = signed_data(&sid, user, service, &algorithm, &key);
                        if k.verify(&data, &sig) {
                            check(events, me, "ssh.check.user_signature", None);
                            self.s.send(&Msg::UserauthSuccess, rng)?;
                            Ok(true)
                        } else {
                            check(
                                events,
                                me,
                                "ssh.check.user_signature",
                                Some(FailReason::BadSignature),
                            );
                            self.fail(rng)
                        }
                    }
                }
            }
            AuthMethod::Password { password } if !self.cfg.passwords.is_empty() => {
                let ok = self
                    .cfg
                    .passwords
                    .iter()
                    .any(|(u, p)| u == user && *p == password);
                check(
                    events,
                    me,
                    "ssh.check.password",
                    (!ok).then_some(FailReason::Untrusted),
                );
                if ok {
                    self.s.send(&Msg::UserauthSuccess, rng)?;
                    Ok(true)
                } else {
                    self.fail(rng)
                }
            }
            _ => self.fail(rng),
        }
    }

    fn connection(
        &mut self,
        remote: Option<u32>,
        msg: Msg,
        rng: &mut dyn RandomSource,
    ) -> Result<State, Error> {
        match (remote, msg) {
            (None, Msg::ChannelOpen { kind, sender, .. }) => {
                if kind != "session" {
                    self.s.send(
                        &Msg::ChannelOpenFailure {
                            recipient: sender,
                            reason: open_failure::UNKNOWN_CHANNEL_TYPE,
                            description: "unknown channel type".into(),
                            language: String::new(),
                        },
                        rng,
                    )?;
                    return Ok(State::Connection { remote: None });
                }
                let local = self.next_channel;
                self.next_channel = self.next_channel.wrapping_add(1);
                self.s.send(
                    &Msg::ChannelOpenConfirmation {
                        recipient: sender,
                        sender: local,
                        window: 2 * 1024 * 1024,
                        max_packet: 32768,
                    },
                    rng,
                )?;
                Ok(State::Connection {
                    remote: Some(sender),
                })
            }
            (
                Some(r),
                Msg::ChannelRequest {
                    want_reply,
                    kind: ChannelRequestKind::Exec { command },
                    ..
                },
            ) => {
                if want_reply {
                    self.s.send(&Msg::ChannelSuccess { recipient: r }, rng)?;
                }
                let (out, err, status) = demo_shell(&command, &self.cfg.hostname);
                if !out.is_empty() {
                    self.s.send(
                        &Msg::ChannelData {
                            recipient: r,
                            data: out,
                        },
                        rng,
                    )?;
                }
                if !err.is_empty() {
                    self.s.send(
                        &Msg::ChannelExtendedData {
                            recipient: r,
                            code: 1,
                            data: err,
                        },
                        rng,
                    )?;
                }
                self.s.send(
                    &Msg::ChannelRequest {
                        recipient: r,
                        want_reply: false,
                        kind: ChannelRequestKind::ExitStatus { status },
                    },
                    rng,
                )?;
                self.s.send(&Msg::ChannelEof { recipient: r }, rng)?;
                self.s.send(&Msg::ChannelClose { recipient: r }, rng)?;
                Ok(State::Connection { remote: Some(r) })
            }
            (Some(r), Msg::ChannelRequest { want_reply, .. }) => {
                if want_reply {
                    self.s.send(&Msg::ChannelFailure { recipient: r }, rng)?;
                }
                Ok(State::Connection { remote: Some(r) })
            }
            (Some(_), Msg::ChannelClose { .. }) => Ok(State::Closed),
            (
                remote,
                Msg::ChannelEof { .. } | Msg::ChannelWindowAdjust { .. } | Msg::ChannelData { .. },
            ) => Ok(State::Connection { remote }),
            (_, msg) => Err(Error::Unexpected(msg.number())),
        }
    }
}

/// A few commands answered without starting a process: `echo`, `whoami`-free
/// `hostname`, `true`, `false`; anything else is "not found" (status 127).
pub fn demo_shell(command: &str, hostname: &str) -> (Vec<u8>, Vec<u8>, u32) {
    let command = command.trim();
    let (name, args) = command.split_once(' ').unwrap_or((command, ""));
    match name {
        "echo" => (format!("{}\n", args.trim()).into_bytes(), Vec::new(), 0),
        "hostname" => (format!("{hostname}\n").into_bytes(), Vec::new(), 0),
        "true" | "" => (Vec::new(), Vec::new(), 0),
        "false" => (Vec::new(), Vec::new(), 1),
        other => (
            Vec::new(),
            format!("sh: 1: {other}: not found\n").into_bytes(),
            127,
        ),
    }
}
