//! The SSH client state machine: key exchange, host key check, user
//! authentication (none → publickey query → PK_OK → signed request, or
//! password), and one channel: a session running one command, or (after
//! [`Client::forward_to`]) a "direct-tcpip" channel carrying a TCP connection
//! through the server (port forwarding, RFC 4254 §7.2).
//!
//! Sans-IO: [`Client::receive`] takes bytes as they arrive and returns the
//! packets to send; the caller moves the bytes.

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, Event, FailReason};
use ring::agreement;

use crate::channel::{Channel, Note, WINDOW};
use crate::keys::{check_known_host, Ed25519Key, HostKeyStatus, KnownHost, PublicKey, ED25519};
pub use crate::session::Algorithms;
use crate::session::MAX_PACKET;
use crate::session::{check, narrate, Session, Side};
use crate::transport::Outgoing;
use crate::wire::message::num;
use crate::wire::{AuthMethod, ChannelRequestKind, DirectTcpip, Msg};
use crate::Error;

/// How the client proves who it is.
#[derive(Debug)]
pub enum Credential {
    /// An Ed25519 key pair.
    Key(Ed25519Key),
    /// A password.
    Password(String),
}

/// Everything the client is configured with.
#[derive(Debug)]
pub struct ClientConfig {
    /// The identification string (without CR LF).
    pub version: String,
    /// The host name looked up in known_hosts.
    pub host: String,
    /// known_hosts entries.
    pub known_hosts: Vec<KnownHost>,
    /// Accept (and record) an unknown host key, as answering "yes" to OpenSSH's question.
    pub trust_on_first_use: bool,
    /// User name.
    pub user: String,
    /// How to authenticate.
    pub credential: Credential,
    /// The command to run.
    pub command: String,
    /// Algorithm preferences.
    pub algorithms: Algorithms,
}

enum State {
    ExpectVersion,
    ExpectKexInit,
    ExpectEcdhReply {
        private: agreement::EphemeralPrivateKey,
        private_bytes: [u8; 32],
        q_c: Vec<u8>,
    },
    ExpectNewKeys,
    ExpectServiceAccept,
    ExpectNoneFailure,
    ExpectPkOk,
    ExpectAuthResult,
    ExpectChannelConfirmation,
    /// "tcpip-forward" is sent; REQUEST_SUCCESS or REQUEST_FAILURE comes next.
    ExpectListenReply,
    /// The server listens for us; a "forwarded-tcpip" CHANNEL_OPEN comes next.
    Listening,
    /// The subsystem request is sent; CHANNEL_SUCCESS or CHANNEL_FAILURE comes next.
    ExpectSubsystem {
        remote: u32,
    },
    Session {
        remote: u32,
    },
    /// The direct-tcpip channel is open.
    Forward {
        remote: u32,
    },
    Closed,
}

/// The byte-stream channel of the client (direct-tcpip, or a session running a
/// subsystem such as sftp): target, flow control, what is queued.
#[derive(Debug)]
struct ForwardChannel {
    target: Option<DirectTcpip>,
    /// The subsystem (or streaming command) to start on a session channel.
    subsystem: Option<ChannelRequestKind>,
    /// Numbers, the peer's window, and what waits for the channel to open or for window.
    chan: Channel,
    /// The peer sent EOF.
    peer_eof: bool,
    /// The server's CHANNEL_OPEN_FAILURE (reason code, description).
    refused: Option<(u32, String)>,
    /// The server answered the subsystem request with CHANNEL_FAILURE.
    subsystem_refused: bool,
    /// `ssh -R`: the address and port to ask the server to listen on.
    listen: Option<(String, u32)>,
    /// The server listens for us (REQUEST_SUCCESS), on this port.
    listening: Option<u32>,
}

impl Default for ForwardChannel {
    fn default() -> Self {
        ForwardChannel {
            target: None,
            subsystem: None,
            chan: Channel::new(0, 0, 0, 0),
            peer_eof: false,
            refused: None,
            subsystem_refused: false,
            listen: None,
            listening: None,
        }
    }
}

/// The SSH client.
pub struct Client {
    cfg: ClientConfig,
    s: Session,
    state: State,
    output: Vec<u8>,
    stderr: Vec<u8>,
    exit_status: Option<u32>,
    accepted_host_key: Option<PublicKey>,
    fwd: ForwardChannel,
    rekey: Rekey,
    rekey_after: Option<u64>,
    rekey_repeat: bool,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.state_name())
            .finish()
    }
}

impl Client {
    /// A client recorded as actor `me`.
    pub fn new(cfg: ClientConfig, me: ActorId) -> Self {
        let s = Session::new(Side::Client, me, &cfg.version);
        Client {
            cfg,
            s,
            state: State::ExpectVersion,
            output: Vec::new(),
            stderr: Vec::new(),
            exit_status: None,
            accepted_host_key: None,
            fwd: ForwardChannel::default(),
            rekey: Rekey::Idle,
            rekey_after: None,
            rekey_repeat: true,
        }
    }

    /// Stable key of the state, for the UI.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::ExpectVersion => "ssh.state.expect_version",
            State::ExpectKexInit => "ssh.state.expect_kexinit",
            State::ExpectEcdhReply { .. } => "ssh.state.expect_ecdh_reply",
            State::ExpectNewKeys => "ssh.state.expect_newkeys",
            State::ExpectServiceAccept => "ssh.state.expect_service_accept",
            State::ExpectNoneFailure => "ssh.state.expect_auth_methods",
            State::ExpectPkOk => "ssh.state.expect_pk_ok",
            State::ExpectAuthResult => "ssh.state.expect_auth_result",
            State::ExpectChannelConfirmation => "ssh.state.expect_channel_confirmation",
            State::ExpectSubsystem { .. } => "ssh.state.expect_subsystem",
            State::ExpectListenReply => "ssh.state.expect_listen_reply",
            State::Listening => "ssh.state.listening",
            State::Session { .. } => "ssh.state.session",
            State::Forward { .. } => "ssh.state.forwarding",
            State::Closed => "ssh.state.closed",
        }
    }

    /// Asks for a "direct-tcpip" channel to `target` (port forwarding, `ssh -L` /
    /// `ssh -W`) instead of a session once authenticated. Call before the
    /// channel opens; bytes received on it collect in [`Client::output`].
    pub fn forward_to(&mut self, target: DirectTcpip) {
        self.fwd.target = Some(target);
    }

    /// Starts subsystem `name` (such as "sftp") on the session channel instead of
    /// running the command; its bytes then travel with [`Client::send_data`] /
    /// [`Client::send_noted`] and [`Client::take_output`].
    pub fn subsystem(&mut self, name: &str) {
        self.fwd.subsystem = Some(ChannelRequestKind::Subsystem {
            name: name.to_owned(),
        });
    }

    /// Runs `command` on the session channel and carries its input and output as a
    /// stream (as [`Client::subsystem`] does): `scp -t` / `scp -f`.
    pub fn exec_stream(&mut self, command: &str) {
        self.fwd.subsystem = Some(ChannelRequestKind::Exec {
            command: command.to_owned(),
        });
    }

    /// Asks the server to listen on `address:port` for us once authenticated
    /// (`ssh -R`, "tcpip-forward", RFC 4254 §7.1) instead of opening a session; the
    /// first "forwarded-tcpip" channel it opens is accepted and carries a
    /// connection like [`Client::forward_to`]'s ([`Client::send_data`], output).
    pub fn remote_forward(&mut self, address: &str, port: u32) {
        self.fwd.listen = Some((address.to_owned(), port));
    }

    /// The port the server listens on for us, once it said yes.
    pub fn remote_listening(&self) -> Option<u32> {
        self.fwd.listening
    }

    /// Whether the server refused the subsystem (CHANNEL_FAILURE).
    pub fn subsystem_refused(&self) -> bool {
        self.fwd.subsystem_refused
    }

    /// Sends any message as it is, sealed with the current keys: for tests and
    /// fuzzing of a peer, never used by the client's own state machine.
    #[doc(hidden)]
    pub fn send_raw(
        &mut self,
        msg: &Msg,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        self.s.send(msg, rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Takes the bytes received so far on the channel.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.output)
    }

    /// Whether the direct-tcpip channel (or the subsystem's stream) is open.
    pub fn forward_open(&self) -> bool {
        matches!(self.state, State::Forward { .. })
    }

    /// The server's refusal of the direct-tcpip channel: reason code (RFC 4254 §5.1,
    /// see [`crate::wire::message::open_failure`]) and description.
    pub fn forward_refused(&self) -> Option<(u32, &str)> {
        self.fwd.refused.as_ref().map(|(r, d)| (*r, d.as_str()))
    }

    /// Whether the server sent EOF on the direct-tcpip channel (the target closed
    /// its side of the TCP connection).
    pub fn forward_peer_eof(&self) -> bool {
        self.fwd.peer_eof
    }

    /// Sends `data` on the direct-tcpip channel: at once when the channel is open
    /// and the peer's window allows, otherwise queued (until the channel opens or
    /// a window adjustment arrives). Returns the packets to send now.
    pub fn send_data(
        &mut self,
        data: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        self.send(data, None, rng)
    }

    /// Like [`Client::send_data`] for bytes of a protocol of their own (an SFTP
    /// packet): `label` and `fields` describe them inside the CHANNEL_DATA.
    pub fn send_noted(
        &mut self,
        data: &[u8],
        label: &'static str,
        fields: Vec<cipherstage_transcript::Field>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        self.send(data, Some(Note { label, fields }), rng)
    }

    fn send(
        &mut self,
        data: &[u8],
        note: Option<Note>,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<Outgoing>, Error> {
        let stream =
            self.fwd.target.is_some() || self.fwd.subsystem.is_some() || self.fwd.listen.is_some();
        if !stream || self.fwd.chan.done_sending() {
            return Err(Error::NoChannel);
        }
        self.fwd.chan.push_data(None, data, note);
        self.flush_forward(rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Sends EOF on the direct-tcpip channel after any queued data (our side of
    /// the TCP connection is done sending).
    pub fn send_eof(&mut self, rng: &mut dyn RandomSource) -> Result<Vec<Outgoing>, Error> {
        if self.fwd.target.is_none() && self.fwd.subsystem.is_none() {
            return Err(Error::NoChannel);
        }
        self.fwd.chan.push_eof();
        self.flush_forward(rng)?;
        Ok(core::mem::take(&mut self.s.out))
    }

    /// Sends what the window allows of the queued forward data, then a queued EOF.
    fn flush_forward(&mut self, rng: &mut dyn RandomSource) -> Result<(), Error> {
        if !matches!(self.state, State::Forward { .. }) {
            return Ok(());
        }
        let packets = self.fwd.chan.flush();
        self.s.send_packets(packets, rng)
    }

    /// The command's standard output (or the forwarded connection's bytes) so far.
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// The command's standard error so far.
    pub fn stderr(&self) -> &[u8] {
        &self.stderr
    }

    /// The command's exit status, once received.
    pub fn exit_status(&self) -> Option<u32> {
        self.exit_status
    }

    /// Whether the channel is closed (the session is over).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// The known_hosts entries, including one added by trust on first use.
    pub fn known_hosts(&self) -> &[KnownHost] {
        &self.cfg.known_hosts
    }

    /// The host key accepted in this connection.
    pub fn host_key(&self) -> Option<&PublicKey> {
        self.accepted_host_key.as_ref()
    }

    /// The SSH key-log line Wireshark reads: `<client cookie hex> <client X25519 private key hex>`.
    pub fn keylog_line(&self) -> Option<String> {
        self.s.keylog.map(|(c, k)| {
            format!(
                "{} {}",
                cipherstage_transcript::hex_encode(&c),
                cipherstage_transcript::hex_encode(&k)
            )
        })
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

impl crate::session::Machine for Client {
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
        // A re-exchange under way finishes even after the channel closed.
        matches!(self.state, State::Closed) && matches!(self.rekey, Rekey::Idle)
    }

    fn handle(
        &mut self,
        msg: Msg,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        // Messages that may come at any time once encrypted.
        match &msg {
            Msg::Disconnect { reason, .. } => return Err(Error::Disconnected(*reason)),
            // Strict KEX already refused these during the first key exchange (session.rs).
            Msg::Ignore { .. }
            | Msg::Unimplemented { .. }
            | Msg::UserauthBanner { .. }
            | Msg::ExtInfo { .. } => return Ok(()),
            Msg::Unknown { number, .. } if *number == num::EXT_INFO || *number == num::DEBUG => {
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
        let msg = if self.s.kex_done {
            match self.rekey_msg(msg, rng, events)? {
                Some(msg) => msg,
                None => return Ok(()),
            }
        } else {
            msg
        };
        let state = core::mem::replace(&mut self.state, State::Closed);
        self.state = match (state, msg) {
            (State::ExpectKexInit, msg @ Msg::KexInit(_)) => {
                self.s.peer_kexinit(&msg, events)?;
                let (private, private_bytes, q_c) = self.s.ephemeral(rng, events)?;
                self.s.send(
                    &Msg::KexEcdhInit {
                        client_public: q_c.clone(),
                    },
                    rng,
                )?;
                State::ExpectEcdhReply {
                    private,
                    private_bytes,
                    q_c,
                }
            }
            (
                State::ExpectEcdhReply {
                    private,
                    private_bytes,
                    q_c,
                },
                Msg::KexEcdhReply {
                    host_key,
                    server_public,
                    signature,
                },
            ) => {
                let reply = EcdhReply {
                    host_key,
                    server_public,
                    signature,
                };
                let key = self.ecdh_reply(private, &private_bytes, &q_c, reply, events)?;
                self.check_host_key(&key, events)?;
                self.accepted_host_key = Some(key);
                self.s.send(&Msg::NewKeys, rng)?;
                self.s.activate_send()?;
                State::ExpectNewKeys
            }
            (State::ExpectNewKeys, Msg::NewKeys) => {
                self.s.activate_recv()?;
                narrate(events, "ssh.narr.encrypted_from_here", &[]);
                self.s.send(
                    &Msg::ServiceRequest {
                        service: "ssh-userauth".into(),
                    },
                    rng,
                )?;
                State::ExpectServiceAccept
            }
            (State::ExpectServiceAccept, Msg::ServiceAccept { .. }) => {
                self.s.send(&self.auth_request(AuthStep::None), rng)?;
                State::ExpectNoneFailure
            }
            (State::ExpectNoneFailure, Msg::UserauthFailure { methods, .. }) => {
                narrate(
                    events,
                    "ssh.narr.methods",
                    &[("methods", methods.join(","))],
                );
                self.try_method(&methods, rng)?
            }
            (State::ExpectNoneFailure | State::ExpectAuthResult, Msg::UserauthSuccess)
                if self.fwd.listen.is_some() =>
            {
                narrate(events, "ssh.narr.auth_success_remote", &[]);
                let (address, port) = self.fwd.listen.clone().unwrap_or_default();
                let mut rest = Vec::new();
                rest.extend_from_slice(&(address.len() as u32).to_be_bytes());
                rest.extend_from_slice(address.as_bytes());
                rest.extend_from_slice(&port.to_be_bytes());
                self.s.send(
                    &Msg::GlobalRequest {
                        name: "tcpip-forward".into(),
                        want_reply: true,
                        rest,
                    },
                    rng,
                )?;
                State::ExpectListenReply
            }
            (State::ExpectListenReply, Msg::RequestSuccess { rest }) => {
                let port = self.fwd.listen.as_ref().map_or(0, |l| l.1);
                let bound = match rest.as_slice() {
                    [a, b, c, d] => u32::from_be_bytes([*a, *b, *c, *d]),
                    _ => port,
                };
                self.fwd.listening = Some(bound);
                State::Listening
            }
            (State::ExpectListenReply, Msg::RequestFailure) => {
                self.fwd.refused = Some((0, "tcpip-forward refused".into()));
                State::Closed
            }
            (
                State::Listening,
                Msg::ChannelOpenForwardedTcpip {
                    sender,
                    window,
                    max_packet,
                    target,
                },
            ) => {
                self.s.send(
                    &Msg::ChannelOpenConfirmation {
                        recipient: sender,
                        sender: 0,
                        window: WINDOW,
                        max_packet: MAX_PACKET,
                    },
                    rng,
                )?;
                self.fwd.target = Some(target);
                self.fwd.chan.confirm(sender, window, max_packet);
                self.state = State::Forward { remote: sender };
                self.flush_forward(rng)?;
                State::Forward { remote: sender }
            }
            (State::ExpectNoneFailure | State::ExpectAuthResult, Msg::UserauthSuccess) => {
                if let Some(target) = self.fwd.target.clone() {
                    narrate(events, "ssh.narr.auth_success_forward", &[]);
                    self.s.send(
                        &Msg::ChannelOpenDirectTcpip {
                            sender: 0,
                            window: WINDOW,
                            max_packet: MAX_PACKET,
                            target,
                        },
                        rng,
                    )?;
                    State::ExpectChannelConfirmation
                } else {
                    narrate(events, "ssh.narr.auth_success", &[]);
                    self.open_channel(rng)?
                }
            }
            (State::ExpectPkOk, Msg::UserauthPkOk { .. }) => {
                narrate(events, "ssh.narr.pk_ok", &[]);
                self.s.send(&self.auth_request(AuthStep::Signed), rng)?;
                State::ExpectAuthResult
            }
            (State::ExpectPkOk | State::ExpectAuthResult, Msg::UserauthFailure { methods, .. }) => {
                narrate(
                    events,
                    "ssh.narr.permission_denied",
                    &[("methods", methods.join(","))],
                );
                return Err(Error::AuthFailed { methods });
            }
            (
                State::ExpectChannelConfirmation,
                Msg::ChannelOpenConfirmation {
                    sender,
                    window,
                    max_packet,
                    ..
                },
            ) if self.fwd.target.is_some() => {
                self.fwd.chan.confirm(sender, window, max_packet);
                self.state = State::Forward { remote: sender };
                self.flush_forward(rng)?;
                State::Forward { remote: sender }
            }
            (
                State::ExpectChannelConfirmation,
                Msg::ChannelOpenFailure {
                    reason,
                    description,
                    ..
                },
            ) if self.fwd.target.is_some() => {
                self.fwd.refused = Some((reason, description));
                State::Closed
            }
            (
                State::ExpectChannelConfirmation,
                Msg::ChannelOpenConfirmation {
                    sender,
                    window,
                    max_packet,
                    ..
                },
            ) if self.fwd.subsystem.is_some() => {
                self.fwd.chan.confirm(sender, window, max_packet);
                let kind = self.fwd.subsystem.clone().ok_or(Error::Internal)?;
                self.s.send(
                    &Msg::ChannelRequest {
                        recipient: sender,
                        want_reply: true,
                        kind,
                    },
                    rng,
                )?;
                State::ExpectSubsystem { remote: sender }
            }
            (State::ExpectSubsystem { remote }, Msg::ChannelSuccess { .. }) => {
                let key = match self.fwd.subsystem {
                    Some(ChannelRequestKind::Exec { .. }) => "ssh.narr.exec_started",
                    _ => "ssh.narr.subsystem_started",
                };
                narrate(events, key, &[]);
                self.state = State::Forward { remote };
                self.flush_forward(rng)?;
                State::Forward { remote }
            }
            (State::ExpectSubsystem { remote }, Msg::ChannelFailure { .. }) => {
                self.fwd.subsystem_refused = true;
                self.s.send(&Msg::ChannelClose { recipient: remote }, rng)?;
                State::Closed
            }
            (State::ExpectSubsystem { remote }, Msg::ChannelWindowAdjust { bytes, .. }) => {
                self.fwd.chan.add_window(bytes);
                State::ExpectSubsystem { remote }
            }
            (State::ExpectChannelConfirmation, Msg::ChannelOpenConfirmation { sender, .. }) => {
                self.s.send(
                    &Msg::ChannelRequest {
                        recipient: sender,
                        want_reply: true,
                        kind: ChannelRequestKind::Exec {
                            command: self.cfg.command.clone(),
                        },
                    },
                    rng,
                )?;
                State::Session { remote: sender }
            }
            (State::Session { remote }, msg) => self.session_msg(remote, msg, rng, events)?,
            (State::Forward { remote }, msg) => self.forward_msg(remote, msg, rng)?,
            (_, msg) => return Err(Error::Unexpected(msg.number())),
        };
        self.maybe_rekey(rng, events)
    }
}

/// The three fields of KEX_ECDH_REPLY.
struct EcdhReply {
    host_key: Vec<u8>,
    server_public: Vec<u8>,
    signature: Vec<u8>,
}

/// A key re-exchange after the first (RFC 4253 §9), initiated by either side.
enum Rekey {
    Idle,
    /// Our KEXINIT is out; the server's is next.
    Sent,
    /// Our ECDH_INIT is out.
    ExpectEcdhReply {
        private: agreement::EphemeralPrivateKey,
        private_bytes: [u8; 32],
        q_c: Vec<u8>,
    },
    /// Our NEWKEYS is out; the server's is next.
    ExpectNewKeys,
}

impl Client {
    /// Starts a key re-exchange itself once `bytes` have been sent and received
    /// together since the last one (as OpenSSH's RekeyLimit).
    pub fn rekey_after_bytes(&mut self, bytes: u64) {
        self.rekey_after = Some(bytes.max(1024));
        self.rekey_repeat = true;
    }

    /// Starts one key re-exchange as soon as the session channel is in use (the
    /// re-key story shows it).
    pub fn rekey_once(&mut self) {
        self.rekey_after = Some(0);
        self.rekey_repeat = false;
    }

    /// Key exchanges finished on this connection (1 after the first).
    pub fn key_exchanges(&self) -> u32 {
        self.s.exchanges
    }

    /// K, H and the keys from the server's ECDH reply, after checking the host
    /// key's type and its signature over H; returns the host key.
    fn ecdh_reply(
        &mut self,
        private: agreement::EphemeralPrivateKey,
        private_bytes: &[u8; 32],
        q_c: &[u8],
        r: EcdhReply,
        events: &mut Vec<Event>,
    ) -> Result<PublicKey, Error> {
        let me = self.s.me;
        let key = PublicKey::from_blob(&r.host_key).map_err(|_| Error::BadHostSignature)?;
        // The negotiated host key algorithm names the signature (rsa-sha2-512 for
        // an ssh-rsa key, RFC 8332 §3).
        let negotiated = self
            .s
            .negotiated
            .as_ref()
            .map(|n| n.host_key.name.clone())
            .unwrap_or_default();
        if !key.accepts_signature_algorithm(&negotiated) {
            return Err(Error::BadHostSignature);
        }
        let h = self.s.finish_kex(
            private,
            private_bytes,
            &r.server_public,
            &r.host_key,
            q_c,
            &r.server_public,
            events,
        )?;
        if !key.verify_as(&negotiated, &h, &r.signature) {
            check(
                events,
                me,
                "ssh.check.host_signature",
                Some(FailReason::BadSignature),
            );
            return Err(Error::BadHostSignature);
        }
        check(events, me, "ssh.check.host_signature", None);
        Ok(key)
    }

    /// A message of a re-exchange; gives back any other message.
    fn rekey_msg(
        &mut self,
        msg: Msg,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<Option<Msg>, Error> {
        let rekey = core::mem::replace(&mut self.rekey, Rekey::Idle);
        self.rekey = match (rekey, msg) {
            (r @ (Rekey::Idle | Rekey::Sent), msg @ Msg::KexInit(_)) => {
                if matches!(r, Rekey::Idle) {
                    self.s
                        .start_rekey(&self.cfg.algorithms.clone(), false, rng, events)?;
                }
                self.s.peer_kexinit(&msg, events)?;
                let (private, private_bytes, q_c) = self.s.ephemeral(rng, events)?;
                self.s.send(
                    &Msg::KexEcdhInit {
                        client_public: q_c.clone(),
                    },
                    rng,
                )?;
                Rekey::ExpectEcdhReply {
                    private,
                    private_bytes,
                    q_c,
                }
            }
            (
                Rekey::ExpectEcdhReply {
                    private,
                    private_bytes,
                    q_c,
                },
                Msg::KexEcdhReply {
                    host_key,
                    server_public,
                    signature,
                },
            ) => {
                let reply = EcdhReply {
                    host_key,
                    server_public,
                    signature,
                };
                let key = self.ecdh_reply(private, &private_bytes, &q_c, reply, events)?;
                // The same host key as at the first exchange, or the connection ends.
                if self.accepted_host_key.as_ref() != Some(&key) {
                    return Err(Error::HostKeyChanged);
                }
                self.s.send(&Msg::NewKeys, rng)?;
                self.s.activate_send()?;
                self.s.release_held(rng)?;
                self.flush_forward(rng)?;
                Rekey::ExpectNewKeys
            }
            (Rekey::ExpectNewKeys, Msg::NewKeys) => {
                self.s.activate_recv()?;
                narrate(events, "ssh.narr.rekey_done", &[]);
                Rekey::Idle
            }
            (Rekey::ExpectEcdhReply { .. } | Rekey::ExpectNewKeys, msg) => {
                return Err(Error::Unexpected(msg.number()))
            }
            (_, msg @ (Msg::KexEcdhReply { .. } | Msg::NewKeys)) => {
                return Err(Error::Unexpected(msg.number()))
            }
            (r, msg) => {
                self.rekey = r;
                return Ok(Some(msg));
            }
        };
        Ok(None)
    }

    /// Starts a re-exchange when the limit is reached (once logged in).
    fn maybe_rekey(
        &mut self,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let due = self.rekey_after.is_some_and(|n| self.s.since_kex >= n);
        let connected = matches!(self.state, State::Session { .. } | State::Forward { .. });
        if due && connected && matches!(self.rekey, Rekey::Idle) {
            self.s
                .start_rekey(&self.cfg.algorithms.clone(), true, rng, events)?;
            self.rekey = Rekey::Sent;
            if !self.rekey_repeat {
                self.rekey_after = None;
            }
        }
        Ok(())
    }

    fn session_msg(
        &mut self,
        remote: u32,
        msg: Msg,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<State, Error> {
        match msg {
            Msg::ChannelData { data, .. } => self.output.extend_from_slice(&data),
            Msg::ChannelExtendedData { data, .. } => self.stderr.extend_from_slice(&data),
            Msg::ChannelRequest {
                kind: ChannelRequestKind::ExitStatus { status },
                ..
            } => self.exit_status = Some(status),
            Msg::ChannelRequest {
                want_reply: true, ..
            } => self
                .s
                .send(&Msg::ChannelFailure { recipient: remote }, rng)?,
            Msg::ChannelClose { .. } => {
                self.s.send(&Msg::ChannelClose { recipient: remote }, rng)?;
                narrate(
                    events,
                    "ssh.narr.output",
                    &[("output", String::from_utf8_lossy(&self.output).into_owned())],
                );
                if !self.stderr.is_empty() {
                    narrate(
                        events,
                        "ssh.narr.stderr",
                        &[("stderr", String::from_utf8_lossy(&self.stderr).into_owned())],
                    );
                }
                return Ok(State::Closed);
            }
            Msg::ChannelOpenFailure { .. } | Msg::ChannelFailure { .. } => {
                return Err(Error::Unexpected(msg.number()))
            }
            _ => {}
        }
        Ok(State::Session { remote })
    }

    fn forward_msg(
        &mut self,
        remote: u32,
        msg: Msg,
        rng: &mut dyn RandomSource,
    ) -> Result<State, Error> {
        match msg {
            Msg::ChannelData { data, .. } => {
                self.output.extend_from_slice(&data);
                if let Some(adjust) = self.fwd.chan.received(data.len()) {
                    self.s.send(&adjust, rng)?;
                }
            }
            Msg::ChannelRequest {
                kind: ChannelRequestKind::ExitStatus { status },
                ..
            } => self.exit_status = Some(status),
            Msg::ChannelWindowAdjust { bytes, .. } => {
                self.fwd.chan.add_window(bytes);
                self.state = State::Forward { remote };
                self.flush_forward(rng)?;
            }
            Msg::ChannelEof { .. } => self.fwd.peer_eof = true,
            Msg::ChannelRequest {
                want_reply: true, ..
            } => self
                .s
                .send(&Msg::ChannelFailure { recipient: remote }, rng)?,
            Msg::ChannelClose { .. } => {
                self.s.send(&Msg::ChannelClose { recipient: remote }, rng)?;
                return Ok(State::Closed);
            }
            Msg::ChannelOpenFailure { .. } | Msg::ChannelFailure { .. } => {
                return Err(Error::Unexpected(msg.number()))
            }
            _ => {}
        }
        Ok(State::Forward { remote })
    }

    fn check_host_key(&mut self, key: &PublicKey, events: &mut Vec<Event>) -> Result<(), Error> {
        let me = self.s.me;
        let fp = key.fingerprint();
        let key_type = match key {
            PublicKey::Ed25519(_) => "ED25519",
            PublicKey::EcdsaP256(_) => "ECDSA",
            PublicKey::Rsa { .. } => "RSA",
        };
        match check_known_host(&self.cfg.known_hosts, &self.cfg.host, key) {
            HostKeyStatus::Known => {
                check(events, me, "ssh.check.known_hosts", None);
                Ok(())
            }
            HostKeyStatus::Unknown => {
                narrate(
                    events,
                    "ssh.narr.tofu_prompt",
                    &[
                        ("host", self.cfg.host.clone()),
                        ("key_type", key_type.into()),
                        ("fingerprint", fp),
                    ],
                );
                if !self.cfg.trust_on_first_use {
                    check(
                        events,
                        me,
                        "ssh.check.known_hosts",
                        Some(FailReason::Untrusted),
                    );
                    return Err(Error::HostKeyUnknown);
                }
                let entry = KnownHost {
                    hosts: vec![self.cfg.host.clone()],
                    key: key.clone(),
                };
                narrate(
                    events,
                    "ssh.narr.tofu_accepted",
                    &[("host", self.cfg.host.clone()), ("line", entry.to_line())],
                );
                self.cfg.known_hosts.push(entry);
                Ok(())
            }
            HostKeyStatus::Changed { expected } => {
                check(
                    events,
                    me,
                    "ssh.check.known_hosts",
                    Some(FailReason::Untrusted),
                );
                narrate(
                    events,
                    "ssh.narr.host_key_changed",
                    &[
                        ("host", self.cfg.host.clone()),
                        ("fingerprint", fp),
                        ("expected", expected.fingerprint()),
                    ],
                );
                Err(Error::HostKeyChanged)
            }
        }
    }

    fn try_method(
        &mut self,
        methods: &[String],
        rng: &mut dyn RandomSource,
    ) -> Result<State, Error> {
        let (want, step, next) = match &self.cfg.credential {
            Credential::Key(_) => ("publickey", AuthStep::Query, State::ExpectPkOk),
            Credential::Password(_) => ("password", AuthStep::Password, State::ExpectAuthResult),
        };
        if !methods.iter().any(|m| m == want) {
            return Err(Error::AuthFailed {
                methods: methods.to_vec(),
            });
        }
        self.s.send(&self.auth_request(step), rng)?;
        Ok(next)
    }

    fn open_channel(&mut self, rng: &mut dyn RandomSource) -> Result<State, Error> {
        self.s.send(
            &Msg::ChannelOpen {
                kind: "session".into(),
                sender: 0,
                window: WINDOW,
                max_packet: MAX_PACKET,
                rest: Vec::new(),
            },
            rng,
        )?;
        Ok(State::ExpectChannelConfirmation)
    }

    fn auth_request(&self, step: AuthStep) -> Msg {
        let user = self.cfg.user.clone();
        let service = "ssh-connection".to_owned();
        let method = match (&self.cfg.credential, step) {
            (Credential::Key(k), AuthStep::Query) => AuthMethod::PublicKey {
                algorithm: ED25519.into(),
                key: k.public().blob(),
                signature: None,
            },
            (Credential::Key(k), AuthStep::Signed) => {
                let blob = k.public().blob();
                let data = signed_data(
                    self.s.session_id.as_ref().map_or(&[][..], |s| &s[..]),
                    &user,
                    &service,
                    ED25519,
                    &blob,
                );
                AuthMethod::PublicKey {
                    algorithm: ED25519.into(),
                    key: blob,
                    signature: Some(k.sign(&data)),
                }
            }
            (Credential::Password(p), AuthStep::Password) => AuthMethod::Password {
                password: p.clone(),
            },
            _ => AuthMethod::None,
        };
        Msg::UserauthRequest {
            user,
            service,
            method,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthStep {
    None,
    Query,
    Signed,
    Password,
}

/// What a publickey signature covers (RFC 4252 §7).
pub fn signed_data(
    session_id: &[u8],
    user: &str,
    service: &str,
    algorithm: &str,
    key_blob: &[u8],
) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s);
    }
    let mut d = Vec::new();
    put(&mut d, session_id);
    d.push(num::USERAUTH_REQUEST);
    put(&mut d, user.as_bytes());
    put(&mut d, service.as_bytes());
    put(&mut d, b"publickey");
    d.push(1);
    put(&mut d, algorithm.as_bytes());
    put(&mut d, key_blob);
    d
}
