//! The SMTP client side (RFC 5321 §3, §4.1): sends one message, reading each
//! reply before the next command (no pipelining). Bytes in ([`Client::receive`]),
//! commands out ([`Client::take_output`]); TLS under it is [`crate::session`]'s.

use cipherstage_transcript::{FieldsBuilder, Protection};

use crate::line::{self, Item, LineBuffer};
use crate::server::Credentials;
use crate::Line;

/// When the client uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPolicy {
    /// TLS from the first byte (port 465, RFC 8314 §3): the session starts secure.
    Implicit,
    /// STARTTLS or nothing: without it in the EHLO reply the client gives up
    /// (submission, RFC 8314 §3.3; what MTA-STS and DANE make a relay do).
    Require,
    /// STARTTLS when offered, clear otherwise (RFC 3207 §4: relays between
    /// servers, the default on the Internet).
    Opportunistic,
    /// Never.
    Never,
}

/// What to send, and how.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The name in EHLO.
    pub helo: String,
    /// When to use TLS.
    pub tls: TlsPolicy,
    /// AUTH PLAIN with these, if set (only inside TLS).
    pub auth: Option<Credentials>,
    /// The reverse path.
    pub from: String,
    /// The forward paths.
    pub to: Vec<String>,
    /// The message (CRLF line ends).
    pub message: Vec<u8>,
    /// The message's own field tree (as the mail core explains it).
    pub describe: Option<line::Describe>,
}

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientState {
    /// Waiting for the 220 greeting.
    ExpectGreeting,
    /// EHLO sent.
    ExpectEhlo,
    /// STARTTLS sent.
    ExpectStartTls,
    /// The 220 for STARTTLS arrived: the TLS handshake is due.
    Handshaking,
    /// AUTH PLAIN sent.
    ExpectAuth,
    /// MAIL sent.
    ExpectMail,
    /// RCPT number `n` sent.
    ExpectRcpt(usize),
    /// DATA sent, waiting for 354.
    ExpectDataGo,
    /// The text and "." sent.
    ExpectQueued,
    /// QUIT sent.
    ExpectBye,
    /// 221 received, or the connection given up.
    Done,
}

/// How the session ended (or `None` while it goes on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server took the message: its 250 text.
    Sent(String),
    /// A reply refused a step: the code and text.
    Refused(u16, String),
    /// TLS was required and the server did not offer STARTTLS.
    NoStartTls,
    /// The server's bytes were not SMTP.
    Malformed,
}

/// What happened, for the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The EHLO reply, and whether it listed STARTTLS.
    Ehlo {
        /// STARTTLS was offered.
        starttls: bool,
        /// The session is already in TLS.
        secure: bool,
    },
    /// Opportunistic TLS found no STARTTLS: the mail goes in clear.
    SendingInClear,
    /// AUTH succeeded.
    Authenticated,
    /// The session ended so.
    Finished(Outcome),
}

/// The SMTP client.
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    state: ClientState,
    input: LineBuffer,
    reply: Vec<u8>,
    out: Vec<Line>,
    events: Vec<ClientEvent>,
    secure: bool,
    outcome: Option<Outcome>,
}

impl Client {
    /// A client waiting for the greeting.
    pub fn new(config: ClientConfig) -> Client {
        let secure = config.tls == TlsPolicy::Implicit;
        Client {
            config,
            state: ClientState::ExpectGreeting,
            input: LineBuffer::new(),
            reply: Vec::new(),
            out: Vec::new(),
            events: Vec::new(),
            secure,
            outcome: None,
        }
    }

    /// Where the session is.
    pub fn state(&self) -> &ClientState {
        &self.state
    }

    /// How it ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Whether the session is inside TLS.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Whether the TLS handshake is due (after STARTTLS's 220).
    pub fn wants_tls(&self) -> bool {
        self.state == ClientState::Handshaking
    }

    /// The handshake finished: EHLO again (RFC 3207 §4.2).
    pub fn tls_started(&mut self) {
        self.secure = true;
        self.input.clear();
        self.reply.clear();
        self.ehlo();
    }

    /// Commands to send, in order.
    pub fn take_output(&mut self) -> Vec<Line> {
        core::mem::take(&mut self.out)
    }

    /// What happened since the last call.
    pub fn take_events(&mut self) -> Vec<ClientEvent> {
        core::mem::take(&mut self.events)
    }

    /// Bytes from the server (the clear stream).
    pub fn receive(&mut self, data: &[u8]) {
        if matches!(self.state, ClientState::Done | ClientState::Handshaking) {
            return;
        }
        for item in self.input.push(data) {
            let Item::Line(l) = item else {
                self.finish(Outcome::Malformed);
                return;
            };
            let Ok(r) = line::parse_reply_line(&l) else {
                self.finish(Outcome::Malformed);
                return;
            };
            // A whole reply is at most 100 lines here; more is not a server we talk to.
            if self.reply.len() + l.len() > 100 * line::MAX_LINE {
                self.finish(Outcome::Malformed);
                return;
            }
            self.reply.extend_from_slice(&l);
            if r.last {
                let reply = core::mem::take(&mut self.reply);
                self.on_reply(r.code, &reply);
                if matches!(self.state, ClientState::Done | ClientState::Handshaking) {
                    return;
                }
            }
        }
    }

    fn send(&mut self, label: &'static str, bytes: Vec<u8>) {
        let mut b = FieldsBuilder::new(0);
        line::command_fields(&mut b, &bytes, Protection::Plaintext);
        self.out.push(Line {
            label,
            bytes,
            fields: b.finish(),
        });
    }

    fn ehlo(&mut self) {
        let l = format!("EHLO {}\r\n", self.config.helo).into_bytes();
        self.send("smtp.msg.ehlo", l);
        self.state = ClientState::ExpectEhlo;
    }

    fn quit(&mut self) {
        self.send("smtp.msg.quit", b"QUIT\r\n".to_vec());
        self.state = ClientState::ExpectBye;
    }

    fn finish(&mut self, o: Outcome) {
        if self.outcome.is_none() {
            self.events.push(ClientEvent::Finished(o.clone()));
            self.outcome = Some(o);
        }
        self.state = ClientState::Done;
    }

    fn refuse(&mut self, code: u16, reply: &[u8]) {
        let text = last_text(reply);
        self.events
            .push(ClientEvent::Finished(Outcome::Refused(code, text.clone())));
        self.outcome = Some(Outcome::Refused(code, text));
        self.quit();
    }

    fn on_reply(&mut self, code: u16, reply: &[u8]) {
        match self.state.clone() {
            ClientState::ExpectGreeting if code == 220 => self.ehlo(),
            ClientState::ExpectEhlo if code == 250 => self.after_ehlo(reply),
            ClientState::ExpectStartTls if code == 220 => self.state = ClientState::Handshaking,
            ClientState::ExpectAuth if code == 235 => {
                self.events.push(ClientEvent::Authenticated);
                self.mail();
            }
            ClientState::ExpectMail if code == 250 => self.rcpt(0),
            ClientState::ExpectRcpt(n) if code == 250 => {
                if n + 1 < self.config.to.len() {
                    self.rcpt(n + 1);
                } else {
                    self.send("smtp.msg.data", b"DATA\r\n".to_vec());
                    self.state = ClientState::ExpectDataGo;
                }
            }
            ClientState::ExpectDataGo if code == 354 => {
                let stuffed = line::dot_stuff(&self.config.message);
                let mut b = FieldsBuilder::new(0);
                let describe = self.config.describe;
                line::content_fields(
                    &mut b,
                    &self.config.message,
                    &stuffed,
                    describe,
                    Protection::Plaintext,
                );
                self.out.push(Line {
                    label: "smtp.msg.content",
                    bytes: stuffed,
                    fields: b.finish(),
                });
                self.state = ClientState::ExpectQueued;
            }
            ClientState::ExpectQueued if code == 250 => {
                let o = Outcome::Sent(last_text(reply));
                self.events.push(ClientEvent::Finished(o.clone()));
                self.outcome = Some(o);
                self.quit();
            }
            ClientState::ExpectBye => {
                if self.outcome.is_none() {
                    self.outcome = Some(Outcome::Refused(code, last_text(reply)));
                }
                self.state = ClientState::Done;
            }
            ClientState::ExpectGreeting => self.finish(Outcome::Refused(code, last_text(reply))),
            _ => self.refuse(code, reply),
        }
    }

    fn after_ehlo(&mut self, reply: &[u8]) {
        let keywords: Vec<String> = line::split_lines(reply)
            .iter()
            .skip(1)
            .filter_map(|l| line::parse_reply_line(l).ok())
            .map(|r| String::from_utf8_lossy(r.text).to_ascii_uppercase())
            .collect();
        let starttls = keywords.iter().any(|k| k == "STARTTLS");
        let plain = keywords
            .iter()
            .any(|k| k.starts_with("AUTH ") && k.split(' ').any(|m| m == "PLAIN"));
        self.events.push(ClientEvent::Ehlo {
            starttls,
            secure: self.secure,
        });
        if !self.secure {
            match (self.config.tls, starttls) {
                (TlsPolicy::Require | TlsPolicy::Opportunistic, true) => {
                    self.send("smtp.msg.starttls", b"STARTTLS\r\n".to_vec());
                    self.state = ClientState::ExpectStartTls;
                    return;
                }
                (TlsPolicy::Require, false) | (TlsPolicy::Implicit, _) => {
                    self.outcome = Some(Outcome::NoStartTls);
                    self.events.push(ClientEvent::Finished(Outcome::NoStartTls));
                    self.quit();
                    return;
                }
                (TlsPolicy::Opportunistic, false) => self.events.push(ClientEvent::SendingInClear),
                (TlsPolicy::Never, _) => {}
            }
        }
        match &self.config.auth {
            // Never a password in clear (RFC 8314 §5.1).
            Some(c) if self.secure && plain => {
                let mut raw = vec![0u8];
                raw.extend_from_slice(c.user.as_bytes());
                raw.push(0);
                raw.extend_from_slice(c.password.as_bytes());
                let b64 = cipherstage_smime::mime::b64_encode(&raw);
                self.send(
                    "smtp.msg.auth",
                    format!("AUTH PLAIN {b64}\r\n").into_bytes(),
                );
                self.state = ClientState::ExpectAuth;
            }
            Some(_) => {
                self.outcome = Some(Outcome::Refused(0, "AUTH PLAIN not offered".into()));
                self.events.push(ClientEvent::Finished(Outcome::Refused(
                    0,
                    "AUTH PLAIN not offered".into(),
                )));
                self.quit();
            }
            None => self.mail(),
        }
    }

    fn mail(&mut self) {
        let l = format!("MAIL FROM:<{}>\r\n", self.config.from).into_bytes();
        self.send("smtp.msg.mail", l);
        self.state = ClientState::ExpectMail;
    }

    fn rcpt(&mut self, n: usize) {
        let to = self.config.to.get(n).cloned().unwrap_or_default();
        self.send("smtp.msg.rcpt", format!("RCPT TO:<{to}>\r\n").into_bytes());
        self.state = ClientState::ExpectRcpt(n);
    }
}

/// The text of a reply's last line.
fn last_text(reply: &[u8]) -> String {
    line::split_lines(reply)
        .last()
        .and_then(|l| line::parse_reply_line(l).ok())
        .map(|r| String::from_utf8_lossy(r.text).into_owned())
        .unwrap_or_default()
}
