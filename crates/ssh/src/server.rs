//! The SSH server state machine: key exchange signed with its host key, user
//! authentication against authorized keys or passwords, and a session channel
//! whose `exec` runs in a tiny built-in demo shell (no process is started).

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, Event, FailReason};

use crate::client::signed_data;
use crate::keys::{HostKey, PublicKey};
pub use crate::session::Algorithms;
use crate::session::{check, Session, Side};
use crate::transport::Outgoing;
use crate::wire::{AuthMethod, ChannelRequestKind, Msg};
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

/// The SSH server.
pub struct Server {
    cfg: ServerConfig,
    s: Session,
    state: State,
    failures: u32,
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
        }
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
        self.s.t.feed(bytes);
        let r = self.process(rng, events);
        let out = core::mem::take(&mut self.s.out);
        r.map(|()| out)
    }

    fn process(
        &mut self,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        if matches!(self.state, State::ExpectVersion) {
            if !self.s.read_version()? {
                return Ok(());
            }
            self.state = State::ExpectKexInit;
        }
        while let Some(msg) = self.s.next_msg(events)? {
            if matches!(self.state, State::Closed) {
                break;
            }
            self.handle(msg, rng, events)?;
        }
        Ok(())
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
            (State::Connection { remote }, msg) => self.connection(remote, msg, rng)?,
            (_, msg) => return Err(Error::Unexpected(msg.number())),
        };
        Ok(())
    }

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
                            reason: 3,
                            description: "unknown channel type".into(),
                            language: String::new(),
                        },
                        rng,
                    )?;
                    return Ok(State::Connection { remote: None });
                }
                self.s.send(
                    &Msg::ChannelOpenConfirmation {
                        recipient: sender,
                        sender: 0,
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
