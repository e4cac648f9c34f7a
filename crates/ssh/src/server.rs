//! The SSH server state machine: key exchange signed with its host key (with
//! EXT_INFO server-sig-algs for clients that ask, RFC 8308), user authentication
//! against authorized keys or passwords, and the connection protocol (RFC 4254)
//! on any number of channels at once (up to [`crate::channel`]'s limit), each
//! with its own window: session channels whose `exec` runs in a tiny built-in
//! demo shell (no process is started), pty-req granted, env and other requests
//! refused with CHANNEL_FAILURE, unknown channel types refused with
//! CHANNEL_OPEN_FAILURE, global requests (keepalive@openssh.com) answered with
//! REQUEST_FAILURE; the connection goes on after each.
//!
//! Port forwarding (RFC 4254 §7.2), sans-IO: once [`Server::allow_forwarding`] is
//! on, a "direct-tcpip" CHANNEL_OPEN becomes a [`ChannelEvent::ForwardRequest`];
//! the embedding decides, opens the TCP connection itself, and answers with
//! [`Server::accept_forward`] or [`Server::refuse_forward`]; bytes then travel
//! with [`Server::send_data`] / [`ChannelEvent::Data`], EOF and CLOSE likewise.

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, Event, FailReason};

use crate::channel::{Channel, Note, MAX_CHANNELS, WINDOW};
use crate::client::signed_data;
use crate::keys::{HostKey, PublicKey};
use crate::scp::{self, Piece, ScpSink, ScpSource};
pub use crate::session::Algorithms;
use crate::session::MAX_PACKET;
use crate::session::{check, Session, Side};
use crate::sftp::{MemFs, SftpServer};
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
    Connection,
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
    /// The client asks us to listen on `address:port` for it (`ssh -R`,
    /// "tcpip-forward"); answer with [`Server::answer_listen`].
    ListenRequest {
        /// Address to bind ("" or "0.0.0.0" for all, "localhost" …).
        address: String,
        /// Port (0: any).
        port: u32,
    },
    /// The client no longer wants `address:port` ("cancel-tcpip-forward"; answered).
    ListenCancel {
        /// Address.
        address: String,
        /// Port.
        port: u32,
    },
    /// The client accepted our "forwarded-tcpip" channel: relay the connection.
    RemoteOpened {
        /// Our channel number.
        channel: u32,
    },
    /// The client refused it (CHANNEL_OPEN_FAILURE): close the connection.
    RemoteRefused {
        /// Our channel number.
        channel: u32,
        /// The reason code.
        reason: u32,
    },
}

/// What a session channel is doing.
#[derive(Debug)]
enum Service {
    /// Opened; no exec, shell or subsystem yet.
    Idle,
    /// Its command ran (the demo shell answered at once).
    Done,
    /// `cat`: every byte that arrives goes back, until EOF.
    Cat,
    /// The "sftp" subsystem on the server's in-memory file system.
    Sftp(Box<SftpServer>),
    /// `scp -t` receiving into the file system.
    ScpSink(Box<ScpSink>),
    /// `scp -f` sending from it.
    ScpSource(Box<ScpSource>),
}

/// What a channel is for.
#[derive(Debug)]
enum Kind {
    Session(Service),
    /// "direct-tcpip": the embedding relays it (see [`ChannelEvent`]).
    Forward,
    /// "forwarded-tcpip", opened by us for a connection to a remote-forwarded port.
    Remote,
}

#[derive(Debug)]
struct Chan {
    c: Channel,
    kind: Kind,
}

/// The SSH server.
pub struct Server {
    cfg: ServerConfig,
    s: Session,
    state: State,
    failures: u32,
    forwarding: bool,
    channels: Vec<Chan>,
    next_channel: u32,
    events: Vec<ChannelEvent>,
    /// The file system the "sftp" subsystem serves (none: the subsystem is refused).
    files: Option<MemFs>,
    /// Where a re-exchange of keys stands (RFC 4253 §9).
    rekey: Rekey,
    /// "tcpip-forward" requests waiting for [`Server::answer_listen`]: want_reply, port asked.
    listen_replies: std::collections::VecDeque<(bool, u32)>,
    /// Start a re-exchange after this many bytes each way together.
    rekey_after: Option<u64>,
}

/// A key re-exchange after the first (RFC 4253 §9), initiated by either side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rekey {
    Idle,
    /// Our KEXINIT is out; the client's is next.
    Sent,
    /// Both KEXINITs are out; the client's ECDH_INIT is next.
    ExpectEcdhInit,
    /// Our NEWKEYS is out; the client's is next.
    ExpectNewKeys,
}

/// The user signature algorithms this server verifies, as its EXT_INFO lists them.
pub const SERVER_SIG_ALGS: &[&str] = &[
    crate::keys::ED25519,
    crate::keys::ECDSA_P256,
    crate::keys::RSA_SHA256,
    crate::keys::RSA_SHA512,
];

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
            channels: Vec::new(),
            next_channel: 0,
            events: Vec::new(),
            files: None,
            rekey: Rekey::Idle,
            rekey_after: None,
            listen_replies: std::collections::VecDeque::new(),
        }
    }

    /// Starts a key re-exchange itself once `bytes` have been sent and received
    /// together since the last one (as OpenSSH's RekeyLimit).
    pub fn rekey_after_bytes(&mut self, bytes: u64) {
        self.rekey_after = Some(bytes.max(1024));
    }

    /// Key exchanges finished on this connection (1 after the first, more after re-keying).
    pub fn key_exchanges(&self) -> u32 {
        self.s.exchanges
    }

    /// Starts a re-exchange when the limit is reached.
    fn maybe_rekey(
        &mut self,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let due = self.rekey_after.is_some_and(|n| self.s.since_kex >= n);
        if due && self.rekey == Rekey::Idle && matches!(self.state, State::Connection) {
            self.s
                .start_rekey(&self.cfg.algorithms, true, rng, events)?;
            self.rekey = Rekey::Sent;
        }
        Ok(())
    }

    /// The ECDH reply of a key exchange: ephemeral key, K, H, keys, the host key's
    /// signature over H, then NEWKEYS and the new keys for what we send.
    fn kex_reply(
        &mut self,
        client_public: &[u8],
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let (private, private_bytes, q_s) = self.s.ephemeral(rng, events)?;
        let k_s = self.cfg.host_key.public().blob();
        let h = self.s.finish_kex(
            private,
            &private_bytes,
            client_public,
            &k_s,
            client_public,
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
        self.s.activate_send()
    }

    /// A message of a re-exchange; gives back any other message.
    fn rekey_msg(
        &mut self,
        msg: Msg,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<Option<Msg>, Error> {
        match (self.rekey, msg) {
            (Rekey::Idle | Rekey::Sent, msg @ Msg::KexInit(_)) => {
                if self.rekey == Rekey::Idle {
                    self.s
                        .start_rekey(&self.cfg.algorithms, false, rng, events)?;
                }
                self.s.peer_kexinit(&msg, events)?;
                self.rekey = Rekey::ExpectEcdhInit;
            }
            (Rekey::ExpectEcdhInit, Msg::KexEcdhInit { client_public }) => {
                self.kex_reply(&client_public, rng, events)?;
                self.s.release_held(rng)?;
                for local in self.channels.iter().map(|c| c.c.local).collect::<Vec<_>>() {
                    self.flush(local, rng)?;
                }
                self.rekey = Rekey::ExpectNewKeys;
            }
            (Rekey::ExpectNewKeys, Msg::NewKeys) => {
                self.s.activate_recv()?;
                self.rekey = Rekey::Idle;
            }
            // After its KEXINIT the client sends only key-exchange messages until NEWKEYS.
            (Rekey::ExpectEcdhInit | Rekey::ExpectNewKeys, msg) => {
                return Err(Error::Unexpected(msg.number()))
            }
            (_, msg @ (Msg::KexEcdhInit { .. } | Msg::NewKeys)) => {
                return Err(Error::Unexpected(msg.number()))
            }
            (_, msg) => return Ok(Some(msg)),
        }
        Ok(None)
    }

    /// Serves the "sftp" subsystem on `fs` (shared by every channel).
    pub fn serve_sftp(&mut self, fs: MemFs) {
        self.files = Some(fs);
    }

    /// The file system the sftp subsystem serves, as it is now.
    pub fn files(&self) -> Option<&MemFs> {
        self.files.as_ref()
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

    /// Channels open now (sessions and forwards, until both CLOSE messages).
    pub fn open_channels(&self) -> usize {
        self.channels.len()
    }

    fn requested(&mut self, channel: u32) -> Result<&mut Channel, Error> {
        self.channels
            .iter_mut()
            .find(|c| c.c.local == channel && matches!(c.kind, Kind::Forward | Kind::Remote))
            .map(|c| &mut c.c)
            .ok_or(Error::NoChannel)
    }

    /// Confirms the forwarding channel `channel` (the TCP connection is up).
    pub fn accept_forward(
        &mut self,
        channel: u32,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        self.client_opened(channel)?;
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
        self.client_opened(channel)?;
        let f = self.requested(channel)?;
        if f.open {
            return Err(Error::NoChannel);
        }
        let remote = f.remote;
        self.channels.retain(|c| c.c.local != channel);
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

    /// Fails unless `channel` is a direct-tcpip channel the client asked for.
    fn client_opened(&self, channel: u32) -> Result<(), Error> {
        self.channels
            .iter()
            .any(|c| c.c.local == channel && matches!(c.kind, Kind::Forward))
            .then_some(())
            .ok_or(Error::NoChannel)
    }

    /// Answers the oldest "tcpip-forward" request ([`ChannelEvent::ListenRequest`]):
    /// `Some(port)` when the embedding listens (the port it bound, sent back when
    /// the client asked for port 0), `None` to refuse (REQUEST_FAILURE).
    pub fn answer_listen(
        &mut self,
        bound: Option<u32>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let Some((want_reply, asked)) = self.listen_replies.pop_front() else {
            return Err(Error::NoChannel);
        };
        if want_reply {
            let msg = match bound {
                Some(port) => Msg::RequestSuccess {
                    rest: if asked == 0 {
                        port.to_be_bytes().to_vec()
                    } else {
                        Vec::new()
                    },
                },
                None => Msg::RequestFailure,
            };
            self.s.send(&msg, rng)?;
        }
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Opens a "forwarded-tcpip" channel to the client for a connection that
    /// arrived at a remote-forwarded port (`ssh -R`): `address`/`port` as the
    /// client asked to listen, `originator` who connected. Returns our channel
    /// number; [`ChannelEvent::RemoteOpened`] or [`ChannelEvent::RemoteRefused`]
    /// follows.
    pub fn open_forwarded(
        &mut self,
        address: &str,
        port: u32,
        originator: &str,
        originator_port: u32,
        rng: &mut dyn RandomSource,
    ) -> Result<(u32, Vec<Outgoing>), Error> {
        if !matches!(self.state, State::Connection) || self.channels.len() >= MAX_CHANNELS {
            return Err(Error::NoChannel);
        }
        let local = self.take_number();
        self.channels.push(Chan {
            c: Channel::new(local, 0, 0, 0),
            kind: Kind::Remote,
        });
        self.s.send(
            &Msg::ChannelOpenForwardedTcpip {
                sender: local,
                window: WINDOW,
                max_packet: MAX_PACKET,
                target: DirectTcpip {
                    host: address.into(),
                    port,
                    originator: originator.into(),
                    originator_port,
                },
            },
            rng,
        )?;
        Ok((local, core::mem::take(&mut self.s.out)))
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
        if f.done_sending() {
            return Err(Error::NoChannel);
        }
        f.push_data(None, data, None);
        self.flush(channel, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Like [`Server::send_data`] for bytes of a protocol of their own (a jump
    /// host relaying the target's SSH packets): `label` and `fields` describe them
    /// inside the CHANNEL_DATA.
    pub fn send_noted(
        &mut self,
        channel: u32,
        data: &[u8],
        label: &'static str,
        fields: Vec<cipherstage_transcript::Field>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let f = self.requested(channel)?;
        if f.done_sending() {
            return Err(Error::NoChannel);
        }
        f.push_data(None, data, Some(Note { label, fields }));
        self.flush(channel, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Sends EOF on `channel` after queued data (the target closed its side).
    pub fn send_eof(
        &mut self,
        channel: u32,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        self.requested(channel)?.push_eof();
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
        self.requested(channel)?.push_close();
        self.flush(channel, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Sends what the window allows on channel `local`, then what is queued after it.
    fn flush(&mut self, local: u32, rng: &mut dyn RandomSource) -> Result<(), Error> {
        let Some(c) = self.channels.iter_mut().find(|c| c.c.local == local) else {
            return Ok(());
        };
        let packets = c.c.flush();
        self.s.send_packets(packets, rng)
    }

    fn take_number(&mut self) -> u32 {
        let n = self.next_channel;
        self.next_channel = self.next_channel.wrapping_add(1);
        n
    }

    /// Handles one connection-protocol message (RFC 4254): opens, requests, data,
    /// EOF and CLOSE on any number of channels.
    fn channel_msg(&mut self, msg: Msg, rng: &mut dyn RandomSource) -> Result<(), Error> {
        match msg {
            Msg::ChannelOpenDirectTcpip {
                sender,
                window,
                max_packet,
                target,
            } => {
                if self.channels.len() >= MAX_CHANNELS {
                    return self.open_failure(sender, open_failure::RESOURCE_SHORTAGE, rng);
                }
                let local = self.take_number();
                self.channels.push(Chan {
                    c: Channel::new(local, sender, window, max_packet),
                    kind: Kind::Forward,
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
                Ok(())
            }
            Msg::ChannelOpen {
                kind,
                sender,
                window,
                max_packet,
                rest,
            } => {
                if kind != "session" || !rest.is_empty() {
                    return self.open_failure(sender, open_failure::UNKNOWN_CHANNEL_TYPE, rng);
                }
                if self.channels.len() >= MAX_CHANNELS {
                    return self.open_failure(sender, open_failure::RESOURCE_SHORTAGE, rng);
                }
                let local = self.take_number();
                let mut c = Channel::new(local, sender, window, max_packet);
                c.open = true;
                self.channels.push(Chan {
                    c,
                    kind: Kind::Session(Service::Idle),
                });
                self.s.send(
                    &Msg::ChannelOpenConfirmation {
                        recipient: sender,
                        sender: local,
                        window: WINDOW,
                        max_packet: MAX_PACKET,
                    },
                    rng,
                )
            }
            Msg::ChannelData {
                recipient,
                ref data,
            }
            | Msg::ChannelExtendedData {
                recipient,
                ref data,
                ..
            } => {
                let Some(ch) = self
                    .channels
                    .iter_mut()
                    .find(|c| c.c.local == recipient && c.c.open)
                else {
                    return Ok(());
                };
                let adjust = ch.c.received(data.len());
                if let (Kind::Session(Service::Sftp(sftp)), Some(fs)) =
                    (&mut ch.kind, self.files.as_mut())
                {
                    match sftp.receive(fs, data) {
                        Ok(replies) => {
                            for r in replies {
                                let (bytes, fields) = r.emit();
                                let note = Note {
                                    label: r.label(),
                                    fields,
                                };
                                ch.c.push_data(None, &bytes, Some(note));
                            }
                        }
                        // An impossible SFTP length: the subsystem ends, as sftp-server exits.
                        Err(_) => {
                            ch.kind = Kind::Session(Service::Done);
                            ch.c.push_exit(1);
                            ch.c.push_eof();
                            ch.c.push_close();
                        }
                    }
                    if let Some(a) = adjust {
                        self.s.send(&a, rng)?;
                    }
                    return self.flush(recipient, rng);
                }
                let scp = match (&mut ch.kind, self.files.as_mut()) {
                    (Kind::Session(Service::ScpSink(sink)), Some(fs)) => {
                        Some(sink.receive(fs, data))
                    }
                    (Kind::Session(Service::ScpSource(src)), Some(fs)) => {
                        Some(src.receive(fs, data))
                    }
                    _ => None,
                };
                if let Some(step) = scp {
                    scp_step(ch, step);
                    if let Some(a) = adjust {
                        self.s.send(&a, rng)?;
                    }
                    return self.flush(recipient, rng);
                }
                if matches!(ch.kind, Kind::Session(Service::Cat)) {
                    let code = match msg {
                        Msg::ChannelExtendedData { code, .. } => Some(code),
                        _ => None,
                    };
                    ch.c.push_data(code, data, None);
                    if let Some(a) = adjust {
                        self.s.send(&a, rng)?;
                    }
                    return self.flush(recipient, rng);
                }
                if matches!(ch.kind, Kind::Forward | Kind::Remote)
                    && matches!(msg, Msg::ChannelData { .. })
                {
                    let Msg::ChannelData { data, .. } = msg else {
                        return Ok(());
                    };
                    self.events.push(ChannelEvent::Data {
                        channel: recipient,
                        data,
                    });
                }
                if let Some(a) = adjust {
                    self.s.send(&a, rng)?;
                }
                Ok(())
            }
            Msg::ChannelWindowAdjust { recipient, bytes } => {
                if let Some(ch) = self.opened(recipient) {
                    ch.c.add_window(bytes);
                    self.flush(recipient, rng)?;
                }
                Ok(())
            }
            Msg::ChannelEof { recipient } => {
                if let Some(ch) = self.opened(recipient) {
                    ch.c.peer_eof = true;
                    match &mut ch.kind {
                        Kind::Forward | Kind::Remote => {
                            self.events.push(ChannelEvent::Eof { channel: recipient })
                        }
                        Kind::Session(Service::ScpSink(sink)) => {
                            let status = sink.finish();
                            ch.kind = Kind::Session(Service::Done);
                            ch.c.push_exit(status);
                            ch.c.push_eof();
                            ch.c.push_close();
                            return self.flush(recipient, rng);
                        }
                        Kind::Session(Service::ScpSource(_)) => {
                            ch.kind = Kind::Session(Service::Done);
                            ch.c.push_exit(1);
                            ch.c.push_eof();
                            ch.c.push_close();
                            return self.flush(recipient, rng);
                        }
                        Kind::Session(Service::Cat | Service::Sftp(_)) => {
                            // Standard input ended: `cat` (or sftp-server) exits 0.
                            ch.kind = Kind::Session(Service::Done);
                            ch.c.push_exit(0);
                            ch.c.push_eof();
                            ch.c.push_close();
                            return self.flush(recipient, rng);
                        }
                        Kind::Session(_) => {}
                    }
                }
                Ok(())
            }
            Msg::ChannelClose { recipient } => {
                let Some(i) = self
                    .channels
                    .iter()
                    .position(|c| c.c.local == recipient && c.c.open)
                else {
                    return Ok(());
                };
                let ch = self.channels.remove(i);
                if !ch.c.close_sent {
                    self.s.send(
                        &Msg::ChannelClose {
                            recipient: ch.c.remote,
                        },
                        rng,
                    )?;
                }
                if matches!(ch.kind, Kind::Forward | Kind::Remote) {
                    self.events
                        .push(ChannelEvent::Closed { channel: recipient });
                }
                Ok(())
            }
            Msg::ChannelRequest {
                recipient,
                want_reply,
                kind,
            } => self.channel_request(recipient, want_reply, kind, rng),
            // Answers to requests we did not make with want_reply: nothing to do. A
            // USERAUTH_REQUEST after success is silently ignored (RFC 4252 §5.1).
            Msg::ChannelSuccess { .. }
            | Msg::ChannelFailure { .. }
            | Msg::RequestSuccess { .. }
            | Msg::RequestFailure
            | Msg::UserauthRequest { .. } => Ok(()),
            Msg::ChannelOpenConfirmation {
                recipient,
                sender,
                window,
                max_packet,
            } => {
                if let Some(ch) = self
                    .channels
                    .iter_mut()
                    .find(|c| c.c.local == recipient && !c.c.open && matches!(c.kind, Kind::Remote))
                {
                    ch.c.confirm(sender, window, max_packet);
                    self.events
                        .push(ChannelEvent::RemoteOpened { channel: recipient });
                    self.flush(recipient, rng)?;
                }
                Ok(())
            }
            Msg::ChannelOpenFailure {
                recipient, reason, ..
            } => {
                let before = self.channels.len();
                self.channels.retain(|c| {
                    !(c.c.local == recipient && !c.c.open && matches!(c.kind, Kind::Remote))
                });
                if self.channels.len() < before {
                    self.events.push(ChannelEvent::RemoteRefused {
                        channel: recipient,
                        reason,
                    });
                }
                Ok(())
            }
            Msg::Unknown { .. } => self.s.send(
                &Msg::Unimplemented {
                    sequence: self.s.t.recv_seq.wrapping_sub(1),
                },
                rng,
            ),
            msg => Err(Error::Unexpected(msg.number())),
        }
    }

    /// The open channel we number `local`.
    fn opened(&mut self, local: u32) -> Option<&mut Chan> {
        self.channels
            .iter_mut()
            .find(|c| c.c.local == local && c.c.open)
    }

    fn open_failure(
        &mut self,
        recipient: u32,
        reason: u32,
        rng: &mut dyn RandomSource,
    ) -> Result<(), Error> {
        let description = match reason {
            open_failure::RESOURCE_SHORTAGE => "too many channels",
            _ => "unknown channel type",
        };
        self.s.send(
            &Msg::ChannelOpenFailure {
                recipient,
                reason,
                description: description.into(),
                language: String::new(),
            },
            rng,
        )
    }

    /// A CHANNEL_REQUEST (RFC 4254 §6): exec runs in the demo shell; pty-req is
    /// granted (the demo shell draws no screen, so there is nothing to size); env,
    /// shell, x11, agent forwarding and anything unknown are refused with
    /// CHANNEL_FAILURE (when a reply is wanted) and the channel stays usable.
    fn channel_request(
        &mut self,
        recipient: u32,
        want_reply: bool,
        kind: ChannelRequestKind,
        rng: &mut dyn RandomSource,
    ) -> Result<(), Error> {
        let hostname = self.cfg.hostname.clone();
        let sftp = self.files.is_some();
        let Some(ch) = self.opened(recipient) else {
            return Ok(());
        };
        let remote = ch.c.remote;
        let ok = match (&mut ch.kind, kind) {
            (Kind::Session(service @ Service::Idle), ChannelRequestKind::Exec { command })
                if sftp && scp::parse_command(&command).is_some() =>
            {
                if want_reply {
                    self.s
                        .send(&Msg::ChannelSuccess { recipient: remote }, rng)?;
                }
                let Some(ch) = self.opened(recipient) else {
                    return Ok(());
                };
                if let Kind::Session(service) = &mut ch.kind {
                    match scp::parse_command(&command) {
                        Some(scp::Mode::Sink { target, recursive }) => {
                            let sink = ScpSink::new(&target, recursive);
                            let first = sink.start();
                            let bytes = first.bytes.clone();
                            ch.c.push_data(None, &bytes, Some(note(first)));
                            *service = Service::ScpSink(Box::new(sink));
                        }
                        Some(scp::Mode::Source { path }) => {
                            *service = Service::ScpSource(Box::new(ScpSource::new(&path)));
                        }
                        None => {}
                    }
                }
                return self.flush(recipient, rng);
            }
            (Kind::Session(service @ Service::Idle), ChannelRequestKind::Exec { command })
                if command.trim() == "cat" =>
            {
                *service = Service::Cat;
                true
            }
            (Kind::Session(service @ Service::Idle), ChannelRequestKind::Exec { command }) => {
                *service = Service::Done;
                let (out, err, status) = demo_shell(&command, &hostname);
                if want_reply {
                    self.s
                        .send(&Msg::ChannelSuccess { recipient: remote }, rng)?;
                }
                let Some(ch) = self.opened(recipient) else {
                    return Ok(());
                };
                ch.c.push_data(None, &out, None);
                ch.c.push_data(Some(1), &err, None);
                ch.c.push_exit(status);
                ch.c.push_eof();
                ch.c.push_close();
                return self.flush(recipient, rng);
            }
            (Kind::Session(service @ Service::Idle), ChannelRequestKind::Subsystem { name })
                if name == "sftp" && sftp =>
            {
                *service = Service::Sftp(Box::default());
                true
            }
            (Kind::Session(Service::Idle), ChannelRequestKind::Other { name, .. }) => {
                name == "pty-req"
            }
            _ => false,
        };
        if want_reply {
            let reply = if ok {
                Msg::ChannelSuccess { recipient: remote }
            } else {
                Msg::ChannelFailure { recipient: remote }
            };
            self.s.send(&reply, rng)?;
        }
        Ok(())
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
            State::Connection => "ssh.state.session",
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
            Msg::Ignore { .. } | Msg::Unimplemented { .. } | Msg::ExtInfo { .. } => return Ok(()),
            Msg::Unknown { number, .. } if *number == crate::wire::message::num::DEBUG => {
                return Ok(())
            }
            Msg::GlobalRequest {
                name,
                want_reply,
                rest,
            } if self.s.kex_done => {
                let mut r = crate::wire::Reader::new(rest);
                let target = match (r.text(), r.u32(), r.expect_empty()) {
                    (Ok(a), Ok(p), Ok(())) => Some((a, p)),
                    _ => None,
                };
                let connected = matches!(self.state, State::Connection);
                match (name.as_str(), target) {
                    ("tcpip-forward", Some((address, port))) if self.forwarding && connected => {
                        self.listen_replies.push_back((*want_reply, port));
                        self.events
                            .push(ChannelEvent::ListenRequest { address, port });
                    }
                    ("cancel-tcpip-forward", Some((address, port))) if self.forwarding => {
                        self.events
                            .push(ChannelEvent::ListenCancel { address, port });
                        if *want_reply {
                            self.s
                                .send(&Msg::RequestSuccess { rest: Vec::new() }, rng)?;
                        }
                    }
                    // keepalive@openssh.com and anything else: a failure is an answer.
                    _ if *want_reply => self.s.send(&Msg::RequestFailure, rng)?,
                    _ => {}
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
                self.kex_reply(&client_public, rng, events)?;
                if self.s.peer_wants_ext_info {
                    // RFC 8308 §2.4: right after our NEWKEYS; tells the client which
                    // signature algorithms it may use for user authentication.
                    self.s.send(
                        &Msg::ExtInfo {
                            extensions: vec![(
                                "server-sig-algs".into(),
                                SERVER_SIG_ALGS.join(",").into_bytes(),
                            )],
                        },
                        rng,
                    )?;
                }
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
                    State::Connection
                } else if self.failures > MAX_AUTH_FAILURES {
                    State::Closed
                } else {
                    State::Auth
                }
            }
            (State::Connection, msg) => {
                self.state = State::Connection;
                if let Some(msg) = self.rekey_msg(msg, rng, events)? {
                    self.channel_msg(msg, rng)?;
                }
                self.maybe_rekey(rng, events)?;
                State::Connection
            }
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
                // An RSA key signs with rsa-sha2-256/512; "ssh-rsa" (SHA-1) is refused.
                let authorized = parsed.as_ref().is_some_and(|k| {
                    k.accepts_signature_algorithm(&algorithm)
                        && self.cfg.authorized_keys.contains(k)
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
                        if k.verify_as(&algorithm, &data, &sig) {
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
}

/// Channel data that is an SCP message.
fn note(p: Piece) -> Note {
    Note {
        label: p.label,
        fields: p.fields,
    }
}

/// Queues what an scp step produced; ends the channel when scp exits.
fn scp_step(ch: &mut Chan, step: scp::Step) {
    for p in step.out {
        let bytes = p.bytes.clone();
        ch.c.push_data(None, &bytes, Some(note(p)));
    }
    if let Some(status) = step.exit {
        ch.kind = Kind::Session(Service::Done);
        ch.c.push_exit(status);
        ch.c.push_eof();
        ch.c.push_close();
    }
}

/// A few commands answered without starting a process: `echo`, `whoami`-free
/// `hostname`, `true`, `false`; anything else is "not found" (status 127).
/// (`cat`, which echoes the channel's input until EOF, is handled by the server.)
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
