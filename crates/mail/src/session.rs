//! SMTP over its transport: in clear, after STARTTLS (RFC 3207), or inside TLS
//! from the first byte (RFC 8314). A session is the SMTP state machine of one
//! side with the cipherstage TLS 1.3 connection under it once TLS has started;
//! bytes in, wire messages out, each with its field tree. Inside TLS, a record's
//! application data is the SMTP line it carries, explained as such.

use std::collections::VecDeque;

use cipherstage_tls::{self as tls, Connection, Outgoing};
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, Event, Field, Protection};

use crate::client::{Client, ClientConfig, ClientState};
use crate::server::{Server, ServerConfig};
use crate::Line;

/// The byte stream under SMTP: clear, or a TLS connection.
pub(crate) struct Stream<C: Connection> {
    pub(crate) tls: Option<C>,
    /// Lines written before the handshake finished.
    waiting: Vec<Line>,
    /// Lines handed to TLS, with how many of their bytes are still to be seen in
    /// records (a line longer than a record spans several).
    in_tls: VecDeque<(Line, usize)>,
    clear_out: Vec<Outgoing>,
    pub(crate) failed: bool,
}

impl<C: Connection> Stream<C> {
    pub(crate) fn new() -> Self {
        Stream {
            tls: None,
            waiting: Vec::new(),
            in_tls: VecDeque::new(),
            clear_out: Vec::new(),
            failed: false,
        }
    }

    pub(crate) fn send(&mut self, line: Line) {
        if self.tls.is_some() {
            self.waiting.push(line);
            self.flush();
        } else {
            self.clear_out.push(Outgoing {
                label: line.label.to_owned(),
                bytes: line.bytes,
                fields: line.fields,
            });
        }
    }

    fn flush(&mut self) {
        let Some(conn) = self.tls.as_mut() else {
            return;
        };
        if !conn.is_connected() || conn.is_closed() {
            return;
        }
        for line in core::mem::take(&mut self.waiting) {
            if conn.send(&line.bytes).is_ok() {
                let n = line.bytes.len();
                self.in_tls.push_back((line, n));
            }
        }
    }

    pub(crate) fn receive(&mut self, data: &[u8]) -> Vec<u8> {
        match self.tls.as_mut() {
            None => data.to_vec(),
            Some(conn) => {
                if conn.receive(data).is_err() {
                    self.failed = true;
                }
                let clear = conn.take_app_data();
                self.flush();
                clear
            }
        }
    }

    pub(crate) fn take_output(&mut self) -> Vec<Outgoing> {
        self.flush();
        let mut out = core::mem::take(&mut self.clear_out);
        let Some(conn) = self.tls.as_mut() else {
            return out;
        };
        for mut o in conn.take_output() {
            if o.label == "tls.msg.application_data" {
                if let Some((line, left)) = self.in_tls.front_mut() {
                    o.label = line.label.to_owned();
                    let whole = *left == line.bytes.len();
                    let len = app_data_len(&o.fields);
                    if whole && len == Some(line.bytes.len()) {
                        carry(&mut o.fields, &line.fields, line.label);
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

    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        self.tls
            .as_mut()
            .map(|c| c.take_events())
            .unwrap_or_default()
    }

    pub(crate) fn connected(&self) -> bool {
        self.tls.as_ref().is_some_and(|c| c.is_connected())
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

/// Replaces the application-data leaf of a record's tree with the SMTP line it
/// carries (same bytes; everything in it encrypted on the wire).
fn carry(fields: &mut [Field], line: &[Field], label: &str) {
    for f in fields {
        if f.name == "tls.field.application_data" {
            let mut children = line.to_vec();
            for c in &mut children {
                relocate(c, f.start, f.protection);
            }
            f.name = "smtp.field.in_tls".into();
            f.explain = "smtp.explain.in_tls".into();
            f.value = Some(cipherstage_transcript::Value::Key(label.to_owned()));
            f.children = children;
            return;
        }
        carry(&mut f.children, line, label);
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

/// An SMTP server session over its transport.
pub struct ServerSession {
    /// The SMTP side.
    pub smtp: Server,
    stream: Stream<tls::Server>,
    starttls: Option<(tls::ServerConfig, Box<dyn RandomSource>)>,
    actor: ActorId,
}

impl ServerSession {
    /// A session for `actor`: `tls` is the TLS server's configuration (none: no
    /// TLS at all); `implicit` starts TLS before the greeting (port 465).
    pub fn new(
        config: ServerConfig,
        tls: Option<tls::ServerConfig>,
        implicit: bool,
        rng: Box<dyn RandomSource>,
        actor: ActorId,
    ) -> Self {
        let mut config = config;
        config.starttls &= tls.is_some() && !implicit;
        let mut stream = Stream::new();
        let mut starttls = None;
        match tls {
            Some(c) if implicit => stream.tls = Some(tls::Server::new(c, rng, actor)),
            Some(c) => starttls = Some((c, rng)),
            None => {}
        }
        ServerSession {
            smtp: Server::new(config, implicit),
            stream,
            starttls,
            actor,
        }
    }

    /// Bytes from the client.
    pub fn receive(&mut self, data: &[u8]) {
        let clear = self.stream.receive(data);
        if !clear.is_empty() {
            self.smtp.receive(&clear);
        }
    }

    /// Wire messages to send, in order.
    pub fn take_output(&mut self) -> Vec<Outgoing> {
        for l in self.smtp.take_output() {
            self.stream.send(l);
        }
        let mut out = self.stream.take_output();
        if self.smtp.wants_tls() && self.stream.tls.is_none() {
            if let Some((c, rng)) = self.starttls.take() {
                self.stream.tls = Some(tls::Server::new(c, rng, self.actor));
                self.smtp.tls_started();
            }
        }
        if let Some(c) = self.stream.tls.as_mut() {
            // After 221 the server closes the connection (RFC 5321 §4.1.1.10), and
            // TLS first says so with close_notify (RFC 9846 §6.1).
            if self.smtp.is_closed() && c.is_connected() {
                c.close();
            }
            c.answer_close();
        }
        out.extend(self.stream.take_output());
        out
    }

    /// TLS events (secrets, checks, alerts) since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.stream.take_events()
    }

    /// Whether the TLS handshake is done.
    pub fn tls_connected(&self) -> bool {
        self.stream.connected()
    }

    /// Whether TLS failed (an alert was sent or received).
    pub fn tls_failed(&self) -> bool {
        self.stream.failed
    }

    /// Whether there is nothing more to do: QUIT answered, or TLS failed.
    pub fn is_done(&self) -> bool {
        self.smtp.is_closed() || self.stream.failed
    }
}

/// An SMTP client session over its transport.
pub struct ClientSession {
    /// The SMTP side.
    pub smtp: Client,
    stream: Stream<tls::Client>,
    starttls: Option<(tls::ClientConfig, Box<dyn RandomSource>)>,
    actor: ActorId,
}

impl ClientSession {
    /// A session for `actor`; `tls` is the TLS client's configuration (none: no
    /// TLS). With [`crate::TlsPolicy::Implicit`] the ClientHello is queued at once.
    pub fn new(
        config: ClientConfig,
        tls: Option<tls::ClientConfig>,
        rng: Box<dyn RandomSource>,
        actor: ActorId,
    ) -> Result<Self, tls::Error> {
        let implicit = config.tls == crate::TlsPolicy::Implicit;
        let mut config = config;
        if tls.is_none() && !implicit {
            config.tls = crate::TlsPolicy::Never;
        }
        let mut stream = Stream::new();
        let mut starttls = None;
        match tls {
            Some(c) if implicit => stream.tls = Some(tls::Client::new(c, rng, actor)?),
            Some(c) => starttls = Some((c, rng)),
            None => {}
        }
        Ok(ClientSession {
            smtp: Client::new(config),
            stream,
            starttls,
            actor,
        })
    }

    /// Bytes from the server.
    pub fn receive(&mut self, data: &[u8]) {
        let before = self.stream.connected();
        let clear = self.stream.receive(data);
        if !before && self.stream.connected() && self.smtp.wants_tls() {
            self.smtp.tls_started();
        }
        if !clear.is_empty() {
            self.smtp.receive(&clear);
        }
    }

    /// Wire messages to send, in order.
    pub fn take_output(&mut self) -> Vec<Outgoing> {
        for l in self.smtp.take_output() {
            self.stream.send(l);
        }
        let mut out = self.stream.take_output();
        if self.smtp.wants_tls() && self.stream.tls.is_none() {
            if let Some((c, rng)) = self.starttls.take() {
                match tls::Client::new(c, rng, self.actor) {
                    Ok(conn) => self.stream.tls = Some(conn),
                    Err(_) => self.stream.failed = true,
                }
            }
        }
        if *self.smtp.state() == ClientState::Done {
            if let Some(c) = self.stream.tls.as_mut() {
                if c.is_connected() {
                    c.close();
                }
            }
        }
        out.extend(self.stream.take_output());
        out
    }

    /// TLS events (secrets, checks, alerts) since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.stream.take_events()
    }

    /// Whether the TLS handshake is done.
    pub fn tls_connected(&self) -> bool {
        self.stream.connected()
    }

    /// Whether TLS failed (an alert was sent or received).
    pub fn tls_failed(&self) -> bool {
        self.stream.failed
    }

    /// Whether there is nothing more to do: the session ended, or TLS failed.
    pub fn is_done(&self) -> bool {
        *self.smtp.state() == ClientState::Done || self.stream.failed
    }
}
