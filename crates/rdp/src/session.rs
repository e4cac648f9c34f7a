//! RDP over its transport: the X.224 negotiation in clear, then TLS (Enhanced
//! RDP Security, MS-RDPBCGR §5.4.5.1) from the cipherstage TLS 1.3 core for
//! everything after it. Inside TLS, a record's application data is the RDP PDU
//! it carries, explained as such (and protected as the record is).

use std::collections::VecDeque;

use cipherstage_tls::{self as tls, Connection, Outgoing};
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, Event, Field, Protection, Value};

use crate::client::{Client, ClientConfig};
use crate::server::{Server, ServerConfig};
use crate::Msg;

/// The byte stream under RDP: clear until the negotiation selected TLS, then a
/// TLS connection whose records carry the PDUs.
struct Stream<C: Connection> {
    tls: Option<C>,
    /// PDUs handed to TLS, with how many of their bytes are still to be seen in records.
    in_tls: VecDeque<(Msg, usize)>,
    waiting: Vec<Msg>,
    failed: bool,
}

impl<C: Connection> Stream<C> {
    fn new() -> Self {
        Stream {
            tls: None,
            in_tls: VecDeque::new(),
            waiting: Vec::new(),
            failed: false,
        }
    }

    /// Feeds TLS; returns the clear bytes and whether the handshake just finished.
    fn receive(&mut self, conn: &mut C, data: &[u8]) -> (Vec<u8>, bool) {
        let before = conn.is_connected();
        if conn.receive(data).is_err() {
            self.failed = true;
        }
        (conn.take_app_data(), !before && conn.is_connected())
    }

    fn output(&mut self, msgs: Vec<Msg>) -> Vec<Outgoing> {
        let mut out = Vec::new();
        for m in msgs {
            if self.tls.is_some() {
                self.waiting.push(m);
            } else {
                out.push(Outgoing {
                    label: m.label.to_owned(),
                    bytes: m.bytes,
                    fields: m.fields,
                });
            }
        }
        let Some(conn) = self.tls.as_mut() else {
            return out;
        };
        if conn.is_connected() && !conn.is_closed() {
            for m in core::mem::take(&mut self.waiting) {
                if conn.send(&m.bytes).is_ok() {
                    let n = m.bytes.len();
                    self.in_tls.push_back((m, n));
                }
            }
        }
        for mut o in conn.take_output() {
            if o.label == "tls.msg.application_data" {
                if let Some((m, left)) = self.in_tls.front_mut() {
                    o.label = m.label.to_owned();
                    let whole = *left == m.bytes.len();
                    let len = app_data_len(&o.fields);
                    if whole && len == Some(m.bytes.len()) {
                        carry(&mut o.fields, &m.fields, m.label);
                    }
                    *left = left.saturating_sub(len.unwrap_or(*left));
                    if *left == 0 {
                        self.in_tls.pop_front();
                    }
                }
            }
            out.push(o);
        }
        out
    }

    fn events(&mut self) -> Vec<Event> {
        self.tls
            .as_mut()
            .map(|c| c.take_events())
            .unwrap_or_default()
    }

    fn connected(&self) -> bool {
        self.tls.as_ref().is_some_and(|c| c.is_connected())
    }
}

/// An RDP client with TLS under it once the server selected it.
pub struct ClientSession {
    /// The RDP side.
    pub rdp: Client,
    stream: Stream<tls::Client>,
    pending: Option<(tls::ClientConfig, Box<dyn RandomSource>)>,
    actor: ActorId,
}

impl ClientSession {
    /// A session for `actor` whose TLS client (started after the Connection
    /// Confirm) is configured by `tls`.
    pub fn new(
        config: ClientConfig,
        tls: tls::ClientConfig,
        rng: Box<dyn RandomSource>,
        actor: ActorId,
    ) -> ClientSession {
        ClientSession {
            rdp: Client::new(config),
            stream: Stream::new(),
            pending: Some((tls, rng)),
            actor,
        }
    }

    /// Bytes from the server.
    pub fn receive(&mut self, data: &[u8]) {
        let Some(mut conn) = self.stream.tls.take() else {
            self.rdp.receive(data);
            self.start_tls();
            return;
        };
        let (clear, done) = self.stream.receive(&mut conn, data);
        self.stream.tls = Some(conn);
        if done {
            self.rdp.tls_started();
        }
        if !clear.is_empty() {
            self.rdp.receive(&clear);
        }
    }

    fn start_tls(&mut self) {
        if !self.rdp.wants_tls() || self.stream.tls.is_some() {
            return;
        }
        let Some((c, rng)) = self.pending.take() else {
            return;
        };
        match tls::Client::new(c, rng, self.actor) {
            Ok(mut conn) => {
                let early = self.rdp.take_leftover();
                if !early.is_empty() && conn.receive(&early).is_err() {
                    self.stream.failed = true;
                }
                self.stream.tls = Some(conn);
            }
            Err(_) => self.stream.failed = true,
        }
    }

    /// Wire messages to send, in order.
    pub fn take_output(&mut self) -> Vec<Outgoing> {
        let msgs = self.rdp.take_output();
        let mut out = self.stream.output(msgs);
        // The Connection Confirm may have just selected TLS: the ClientHello.
        self.start_tls();
        out.extend(self.stream.output(Vec::new()));
        out
    }

    /// TLS events (secrets, checks, alerts) since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.stream.events()
    }

    /// Whether the TLS handshake is done.
    pub fn tls_connected(&self) -> bool {
        self.stream.connected()
    }

    /// Whether TLS failed (an alert was sent or received).
    pub fn tls_failed(&self) -> bool {
        self.stream.failed
    }
}

/// An RDP server with TLS under it once it selected TLS.
pub struct ServerSession {
    /// The RDP side.
    pub rdp: Server,
    stream: Stream<tls::Server>,
    pending: Option<(tls::ServerConfig, Box<dyn RandomSource>)>,
    actor: ActorId,
}

impl ServerSession {
    /// A session for `actor` whose TLS server is configured by `tls`.
    pub fn new(
        config: ServerConfig,
        tls: tls::ServerConfig,
        rng: Box<dyn RandomSource>,
        actor: ActorId,
    ) -> ServerSession {
        ServerSession {
            rdp: Server::new(config),
            stream: Stream::new(),
            pending: Some((tls, rng)),
            actor,
        }
    }

    /// Bytes from the client.
    pub fn receive(&mut self, data: &[u8]) {
        let Some(mut conn) = self.stream.tls.take() else {
            self.rdp.receive(data);
            return;
        };
        let (clear, done) = self.stream.receive(&mut conn, data);
        self.stream.tls = Some(conn);
        if done {
            self.rdp.tls_started();
        }
        if !clear.is_empty() {
            self.rdp.receive(&clear);
        }
    }

    /// Wire messages to send, in order.
    pub fn take_output(&mut self) -> Vec<Outgoing> {
        let msgs = self.rdp.take_output();
        // The Connection Confirm goes out in clear, then TLS starts.
        let mut out = self.stream.output(msgs);
        if self.rdp.wants_tls() && self.stream.tls.is_none() {
            if let Some((c, rng)) = self.pending.take() {
                let mut conn = tls::Server::new(c, rng, self.actor);
                let early = self.rdp.take_leftover();
                if !early.is_empty() && conn.receive(&early).is_err() {
                    self.stream.failed = true;
                }
                self.stream.tls = Some(conn);
            }
        }
        out.extend(self.stream.output(Vec::new()));
        out
    }

    /// TLS events since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.stream.events()
    }

    /// Whether TLS failed.
    pub fn tls_failed(&self) -> bool {
        self.stream.failed
    }
}

fn app_data_len(fields: &[Field]) -> Option<usize> {
    for f in fields {
        if f.name == "tls.field.application_data" {
            return Some(f.end - f.start);
        }
        if let Some(n) = app_data_len(&f.children) {
            return Some(n);
        }
    }
    None
}

/// Replaces the application-data leaf of a record's tree with the RDP PDU it
/// carries (same bytes; all of it as protected as the record's payload).
fn carry(fields: &mut [Field], pdu: &[Field], label: &str) {
    for f in fields {
        if f.name == "tls.field.application_data" {
            let mut children = pdu.to_vec();
            for c in &mut children {
                relocate(c, f.start, f.protection);
            }
            f.name = "rdp.field.in_tls".into();
            f.explain = "rdp.explain.in_tls".into();
            f.value = Some(Value::Key(label.to_owned()));
            f.children = children;
            return;
        }
        carry(&mut f.children, pdu, label);
    }
}

fn relocate(f: &mut Field, by: usize, p: Protection) {
    f.start += by;
    f.end += by;
    if f.protection == Protection::Plaintext {
        f.protection = p;
    }
    for c in &mut f.children {
        relocate(c, by, p);
    }
}
