//! IMAP4rev2 (RFC 9051), the part Bob's client needs to read his mail over TLS
//! from the first byte (port 993, RFC 8314 §3.2): the greeting, LOGIN, SELECT,
//! FETCH of one message's `BODY[]` (a literal, §4.3), LOGOUT.
//!
//! ```text
//! command  = tag SP verb [SP arguments] CRLF                (§2.2.1)
//! response = ("*" / tag) SP text CRLF, with literals "{n}" CRLF n octets inside
//! ```
//!
//! Bounded like the SMTP side: command lines at most [`line::MAX_LINE`] octets,
//! literals at most [`MAX_LITERAL`]; nothing here panics on peer input.

use cipherstage_tls::{self as tls, Connection, Outgoing};
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, Event, Field, FieldsBuilder, Protection, Value};

use crate::line::{self, Item, LineBuffer};
use crate::server::Credentials;
use crate::session::Stream;
use crate::Line;

/// The largest literal a client accepts (a whole mail).
pub const MAX_LITERAL: usize = 1 << 20;

const P: Protection = Protection::Plaintext;

fn text(b: &[u8]) -> Option<Value> {
    Some(Value::Text(String::from_utf8_lossy(b).into_owned()))
}

/// A message being written, its field tree recorded as it grows.
struct Writer {
    bytes: Vec<u8>,
    fields: FieldsBuilder,
}

impl Writer {
    fn new() -> Self {
        Writer {
            bytes: Vec::new(),
            fields: FieldsBuilder::new(0),
        }
    }

    /// A whole response line: `prefix SP rest CRLF` (prefix `*` or a tag).
    fn response(&mut self, prefix: &[u8], rest: &str, explain: &str) {
        let mut line = prefix.to_vec();
        line.push(b' ');
        line.extend_from_slice(rest.as_bytes());
        line.extend_from_slice(b"\r\n");
        self.bytes.extend_from_slice(&line);
        let tagged = prefix != b"*";
        self.fields.group("imap.field.response", explain, P, |b| {
            let (tag_name, tag_explain) = if tagged {
                ("imap.field.tag", "imap.explain.response_tag")
            } else {
                ("imap.field.untagged", "imap.explain.untagged")
            };
            b.leaf(tag_name, prefix.len(), text(prefix), tag_explain, P);
            b.leaf("imap.field.sp", 1, None, "imap.explain.sp", P);
            b.leaf(
                "imap.field.response_text",
                rest.len(),
                text(rest.as_bytes()),
                explain,
                P,
            );
            b.leaf("imap.field.crlf", 2, None, "imap.explain.crlf", P);
        });
    }

    fn finish(self, label: &'static str) -> Line {
        Line {
            label,
            bytes: self.bytes,
            fields: self.fields.finish(),
        }
    }
}

/// A command line split into tag, verb and arguments (§2.2.1, §9 `tag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The client's tag.
    pub tag: String,
    /// The verb, upper case.
    pub verb: String,
    /// The arguments: atoms and quoted strings, unquoted.
    pub args: Vec<String>,
}

/// Reads a command line; `None` when it has no tag and verb, or a literal.
pub fn parse_command(l: &[u8]) -> Option<Command> {
    let body = line::content(l).ok()?;
    let s = core::str::from_utf8(body).ok()?;
    let mut words = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(q) = rest.strip_prefix('"') {
            let mut w = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => w.push(chars.next()?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => w.push(c),
                }
            }
            words.push(w);
            rest = q.get(end?..)?.trim_start_matches(' ');
        } else {
            let (w, r) = rest.split_once(' ').unwrap_or((rest, ""));
            if w.starts_with('{') {
                return None;
            }
            words.push(w.to_owned());
            rest = r.trim_start_matches(' ');
        }
    }
    let mut it = words.into_iter();
    let tag = it.next()?;
    let ok_tag = !tag.is_empty()
        && tag
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"(){%*\"\\+]".contains(&b));
    let verb = it.next()?.to_ascii_uppercase();
    ok_tag.then_some(Command {
        tag,
        verb,
        args: it.collect(),
    })
}

/// The field tree of a command line (every byte, parsed or not).
pub fn command_fields(b: &mut FieldsBuilder, l: &[u8]) {
    let Some(c) = parse_command(l) else {
        b.leaf(
            "imap.field.line",
            l.len(),
            text(l),
            "imap.explain.unreadable_line",
            P,
        );
        return;
    };
    let key = match c.verb.as_str() {
        "LOGIN" => "login",
        "SELECT" => "select",
        "FETCH" => "fetch",
        "LOGOUT" => "logout",
        "CAPABILITY" => "capability",
        "NOOP" => "noop",
        _ => "other",
    };
    b.group(
        "imap.field.command",
        &format!("imap.explain.cmd_{key}"),
        P,
        |b| {
            b.leaf(
                "imap.field.tag",
                c.tag.len(),
                text(c.tag.as_bytes()),
                "imap.explain.tag",
                P,
            );
            b.leaf("imap.field.sp", 1, None, "imap.explain.sp", P);
            b.leaf(
                "imap.field.verb",
                c.verb.len(),
                text(c.verb.as_bytes()),
                "imap.explain.verb",
                P,
            );
            let used = c.tag.len() + 1 + c.verb.len();
            let args_len = l.len().saturating_sub(used + 2);
            if args_len > 0 {
                let args = l.get(used..used + args_len).unwrap_or_default();
                let explain = if key == "login" {
                    "imap.explain.login_args"
                } else {
                    "imap.explain.args"
                };
                b.leaf("imap.field.args", args_len, text(args), explain, P);
            }
            b.leaf("imap.field.crlf", 2, None, "imap.explain.crlf", P);
        },
    );
}

/// Where the server's session is (RFC 9051 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapState {
    /// Greeted, no login yet.
    NotAuthenticated,
    /// Logged in.
    Authenticated,
    /// INBOX selected.
    Selected,
    /// LOGOUT answered.
    Logout,
}

/// The IMAP server: one user, one INBOX.
#[derive(Debug, Clone)]
pub struct ImapServer {
    hostname: String,
    user: Credentials,
    inbox: Vec<Vec<u8>>,
    describe: Option<line::Describe>,
    state: ImapState,
    input: LineBuffer,
    out: Vec<Line>,
}

impl ImapServer {
    /// A server for `user` whose INBOX holds `inbox`; the greeting is queued.
    pub fn new(
        hostname: &str,
        user: Credentials,
        inbox: Vec<Vec<u8>>,
        describe: Option<line::Describe>,
    ) -> Self {
        let mut s = ImapServer {
            hostname: hostname.to_owned(),
            user,
            inbox,
            describe,
            state: ImapState::NotAuthenticated,
            input: LineBuffer::new(),
            out: Vec::new(),
        };
        let mut w = Writer::new();
        let greeting = format!(
            "OK [CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN] {} ready",
            s.hostname
        );
        w.response(b"*", &greeting, "imap.explain.greeting");
        s.out.push(w.finish("imap.msg.greeting"));
        s
    }

    /// Where the session is.
    pub fn state(&self) -> ImapState {
        self.state
    }

    /// Responses to send, in order.
    pub fn take_output(&mut self) -> Vec<Line> {
        core::mem::take(&mut self.out)
    }

    /// Bytes from the client (inside TLS).
    pub fn receive(&mut self, data: &[u8]) {
        if self.state == ImapState::Logout {
            return;
        }
        for item in self.input.push(data) {
            match item {
                Item::TooLong => {
                    let mut w = Writer::new();
                    w.response(b"*", "BAD Line too long", "imap.explain.bad");
                    self.out.push(w.finish("imap.msg.bad"));
                }
                Item::Line(l) => self.command(&l),
            }
            if self.state == ImapState::Logout {
                return;
            }
        }
    }

    fn done(&mut self, label: &'static str, mut w: Writer, tag: &str, status: &str) {
        w.response(tag.as_bytes(), status, "imap.explain.tagged_status");
        self.out.push(w.finish(label));
    }

    fn command(&mut self, l: &[u8]) {
        let Some(c) = parse_command(l) else {
            let mut w = Writer::new();
            w.response(b"*", "BAD Syntax error", "imap.explain.bad");
            self.out.push(w.finish("imap.msg.bad"));
            return;
        };
        let mut w = Writer::new();
        match (c.verb.as_str(), self.state) {
            ("CAPABILITY", _) => {
                w.response(
                    b"*",
                    "CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN",
                    "imap.explain.capability",
                );
                self.done(
                    "imap.msg.capability_reply",
                    w,
                    &c.tag,
                    "OK CAPABILITY completed",
                );
            }
            ("NOOP", _) => self.done("imap.msg.noop_reply", w, &c.tag, "OK NOOP completed"),
            ("LOGOUT", _) => {
                w.response(b"*", "BYE Logging out", "imap.explain.bye");
                self.state = ImapState::Logout;
                self.done("imap.msg.logout_reply", w, &c.tag, "OK LOGOUT completed");
            }
            ("LOGIN", ImapState::NotAuthenticated) => {
                let ok = c.args.len() == 2
                    && c.args.first() == Some(&self.user.user)
                    && c.args.get(1) == Some(&self.user.password);
                if ok {
                    self.state = ImapState::Authenticated;
                    self.done(
                        "imap.msg.login_reply",
                        w,
                        &c.tag,
                        "OK [CAPABILITY IMAP4rev1 IMAP4rev2] Logged in",
                    );
                } else {
                    self.done(
                        "imap.msg.login_reply",
                        w,
                        &c.tag,
                        "NO [AUTHENTICATIONFAILED] Invalid credentials",
                    );
                }
            }
            ("SELECT", ImapState::Authenticated | ImapState::Selected) => {
                let inbox = c
                    .args
                    .first()
                    .is_some_and(|m| m.eq_ignore_ascii_case("INBOX"));
                if !inbox || c.args.len() != 1 {
                    self.done(
                        "imap.msg.select_reply",
                        w,
                        &c.tag,
                        "NO [NONEXISTENT] No such mailbox",
                    );
                    return;
                }
                let n = self.inbox.len();
                w.response(b"*", &format!("{n} EXISTS"), "imap.explain.exists");
                w.response(
                    b"*",
                    "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
                    "imap.explain.flags",
                );
                w.response(
                    b"*",
                    "OK [PERMANENTFLAGS ()] No permanent flags",
                    "imap.explain.permanentflags",
                );
                w.response(
                    b"*",
                    "OK [UIDVALIDITY 1] UIDs valid",
                    "imap.explain.uidvalidity",
                );
                w.response(
                    b"*",
                    &format!("OK [UIDNEXT {}] Predicted next UID", n + 1),
                    "imap.explain.uidnext",
                );
                w.response(b"*", "LIST () \"/\" INBOX", "imap.explain.list");
                self.state = ImapState::Selected;
                self.done(
                    "imap.msg.select_reply",
                    w,
                    &c.tag,
                    "OK [READ-WRITE] SELECT completed",
                );
            }
            ("FETCH", ImapState::Selected) => self.fetch(&c, w),
            ("LOGIN", _) => self.done("imap.msg.bad", w, &c.tag, "BAD Already logged in"),
            ("SELECT" | "FETCH", _) => self.done(
                "imap.msg.bad",
                w,
                &c.tag,
                "BAD Wrong state for this command",
            ),
            _ => self.done("imap.msg.bad", w, &c.tag, "BAD Unknown command"),
        }
    }

    /// `FETCH n BODY[]` (also `(BODY[])`, `BODY.PEEK[]`, `RFC822`): the message as
    /// a literal inside the untagged FETCH response (§7.5.2).
    fn fetch(&mut self, c: &Command, mut w: Writer) {
        let item = c.args.get(1..).map(|a| a.join(" ")).unwrap_or_default();
        let item = item
            .trim_start_matches('(')
            .trim_end_matches(')')
            .to_ascii_uppercase();
        let name = match item.as_str() {
            "BODY[]" | "BODY.PEEK[]" => "BODY[]",
            "RFC822" => "RFC822",
            _ => {
                self.done("imap.msg.bad", w, &c.tag, "BAD Only BODY[] is supported");
                return;
            }
        };
        let seq: Option<usize> = c.args.first().and_then(|s| s.parse().ok());
        let Some(msg) = seq
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.inbox.get(i))
            .cloned()
        else {
            self.done("imap.msg.bad", w, &c.tag, "BAD No such message");
            return;
        };
        let n = seq.unwrap_or(1);
        let describe = self.describe;
        let head = format!("* {n} FETCH ({name} ");
        let size = format!("{{{}}}", msg.len());
        w.bytes.extend_from_slice(head.as_bytes());
        w.bytes.extend_from_slice(size.as_bytes());
        w.bytes.extend_from_slice(b"\r\n");
        w.bytes.extend_from_slice(&msg);
        w.bytes.extend_from_slice(b")\r\n");
        w.fields.group(
            "imap.field.fetch_response",
            "imap.explain.fetch_response",
            P,
            |b| {
                b.leaf(
                    "imap.field.fetch_head",
                    head.len(),
                    text(head.as_bytes()),
                    "imap.explain.fetch_head",
                    P,
                );
                b.leaf(
                    "imap.field.literal_size",
                    size.len(),
                    Some(Value::Uint(msg.len() as u64)),
                    "imap.explain.literal_size",
                    P,
                );
                b.leaf("imap.field.crlf", 2, None, "imap.explain.crlf", P);
                b.group(
                    "imap.field.literal",
                    "imap.explain.literal",
                    P,
                    |b| match describe {
                        Some(d) => {
                            for f in d(&msg) {
                                push_field(b, f);
                            }
                        }
                        None => {
                            for l in line::split_lines(&msg) {
                                b.leaf(
                                    "smtp.field.text_line",
                                    l.len(),
                                    text(l),
                                    "smtp.explain.text_line",
                                    P,
                                );
                            }
                        }
                    },
                );
                b.leaf(
                    "imap.field.close_paren",
                    1,
                    None,
                    "imap.explain.close_paren",
                    P,
                );
                b.leaf("imap.field.crlf", 2, None, "imap.explain.crlf", P);
            },
        );
        self.done("imap.msg.fetch_reply", w, &c.tag, "OK FETCH completed");
    }
}

fn push_field(b: &mut FieldsBuilder, f: Field) {
    if f.children.is_empty() {
        b.leaf(
            &f.name,
            f.end.saturating_sub(f.start),
            f.value,
            &f.explain,
            f.protection,
        );
        return;
    }
    let children = f.children;
    b.group(&f.name, &f.explain, f.protection, |inner| {
        for c in children {
            push_field(inner, c);
        }
    });
    if let Some(last) = b.last_mut() {
        last.value = f.value;
    }
}

/// An IMAP server inside TLS from the first byte (port 993).
pub struct ImapServerSession {
    /// The IMAP side.
    pub imap: ImapServer,
    stream: Stream<tls::Server>,
}

impl ImapServerSession {
    /// The session for `actor`; the greeting waits for the handshake.
    pub fn new(
        imap: ImapServer,
        tls: tls::ServerConfig,
        rng: Box<dyn RandomSource>,
        actor: ActorId,
    ) -> Self {
        let mut stream = Stream::new();
        stream.tls = Some(tls::Server::new(tls, rng, actor));
        ImapServerSession { imap, stream }
    }

    /// Bytes from the client.
    pub fn receive(&mut self, data: &[u8]) {
        let clear = self.stream.receive(data);
        if !clear.is_empty() {
            self.imap.receive(&clear);
        }
    }

    /// Wire messages to send, in order.
    pub fn take_output(&mut self) -> Vec<Outgoing> {
        for l in self.imap.take_output() {
            self.stream.send(l);
        }
        let mut out = self.stream.take_output();
        if let Some(c) = self.stream.tls.as_mut() {
            if self.imap.state() == ImapState::Logout && c.is_connected() {
                c.close();
            }
            c.answer_close();
        }
        out.extend(self.stream.take_output());
        out
    }

    /// TLS events since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.stream.take_events()
    }

    /// Whether there is nothing more to do.
    pub fn is_done(&self) -> bool {
        self.imap.state() == ImapState::Logout || self.stream.failed
    }
}

/// Splits the server's byte stream into responses, each with its literals.
#[derive(Debug, Clone, Default)]
struct Responses {
    buf: Vec<u8>,
    /// Octets of a literal still to come, and where the current response began.
    literal: usize,
    scanned: usize,
}

impl Responses {
    /// Whole responses completed by `data`, or `Err` when one breaks the bounds.
    fn push(&mut self, data: &[u8]) -> Result<Vec<Vec<u8>>, ()> {
        let mut out = Vec::new();
        for &b in data {
            self.buf.push(b);
            if self.literal > 0 {
                self.literal -= 1;
                self.scanned = self.buf.len();
                continue;
            }
            if b != b'\n' || !self.buf.ends_with(b"\r\n") {
                if self.buf.len() - self.scanned > line::MAX_LINE {
                    return Err(());
                }
                continue;
            }
            // A line ending: with "{n}" before the CRLF a literal follows (§4.3).
            let line = self.buf.get(self.scanned..).unwrap_or_default();
            let body = line.strip_suffix(b"\r\n").unwrap_or(line);
            let n = body
                .strip_suffix(b"}")
                .and_then(|t| t.iter().rposition(|&c| c == b'{').map(|i| t.get(i + 1..)))
                .flatten()
                .and_then(|d| core::str::from_utf8(d).ok()?.parse::<usize>().ok());
            match n {
                Some(n) if n > MAX_LITERAL => return Err(()),
                Some(n) => {
                    self.literal = n;
                    self.scanned = self.buf.len();
                }
                None => {
                    out.push(core::mem::take(&mut self.buf));
                    self.scanned = 0;
                }
            }
        }
        Ok(out)
    }
}

/// Bob's IMAP client: LOGIN, SELECT INBOX, FETCH 1 BODY[], LOGOUT.
#[derive(Debug, Clone)]
pub struct ImapClient {
    user: Credentials,
    step: usize,
    input: Responses,
    out: Vec<Line>,
    /// The message fetched.
    pub fetched: Option<Vec<u8>>,
    /// A refusal or broken response, if any.
    pub failed: Option<String>,
    greeted: bool,
    done: bool,
}

/// The commands, in order, with their labels.
const STEPS: &[(&str, &str)] = &[
    ("a1", "imap.msg.login"),
    ("a2", "imap.msg.select"),
    ("a3", "imap.msg.fetch"),
    ("a4", "imap.msg.logout"),
];

impl ImapClient {
    /// A client waiting for the greeting.
    pub fn new(user: Credentials) -> Self {
        ImapClient {
            user,
            step: 0,
            input: Responses::default(),
            out: Vec::new(),
            fetched: None,
            failed: None,
            greeted: false,
            done: false,
        }
    }

    /// Whether LOGOUT was answered (or the session given up).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Commands to send, in order.
    pub fn take_output(&mut self) -> Vec<Line> {
        core::mem::take(&mut self.out)
    }

    fn send(&mut self, i: usize) {
        let Some((tag, label)) = STEPS.get(i) else {
            return;
        };
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let rest = match i {
            0 => format!(
                "LOGIN {} {}",
                quote(&self.user.user),
                quote(&self.user.password)
            ),
            1 => "SELECT INBOX".into(),
            2 => "FETCH 1 (BODY[])".into(),
            _ => "LOGOUT".into(),
        };
        let bytes = format!("{tag} {rest}\r\n").into_bytes();
        let mut b = FieldsBuilder::new(0);
        command_fields(&mut b, &bytes);
        self.out.push(Line {
            label,
            bytes,
            fields: b.finish(),
        });
        self.step = i;
    }

    /// Bytes from the server (inside TLS).
    pub fn receive(&mut self, data: &[u8]) {
        if self.done {
            return;
        }
        let Ok(responses) = self.input.push(data) else {
            self.failed = Some("response too long".into());
            self.done = true;
            return;
        };
        for r in responses {
            self.response(&r);
            if self.done {
                return;
            }
        }
    }

    fn response(&mut self, r: &[u8]) {
        if !self.greeted {
            // The greeting (§7.1.1): OK, or BYE when the server will not talk.
            self.greeted = true;
            if r.starts_with(b"* OK") {
                self.send(0);
            } else {
                self.failed = Some(String::from_utf8_lossy(r).trim_end().to_owned());
                self.done = true;
            }
            return;
        }
        if r.starts_with(b"* ") {
            if let Some(lit) = literal_of(r) {
                self.fetched = Some(lit.to_vec());
            }
            return;
        }
        let Some((tag, _)) = STEPS.get(self.step) else {
            return;
        };
        let Some(status) = r.strip_prefix(format!("{tag} ").as_bytes()) else {
            return;
        };
        if status.starts_with(b"OK") {
            if self.step + 1 < STEPS.len() {
                self.send(self.step + 1);
            } else {
                self.done = true;
            }
        } else {
            self.failed = Some(String::from_utf8_lossy(status).trim_end().to_owned());
            if self.step + 1 < STEPS.len() {
                self.send(STEPS.len() - 1);
            } else {
                self.done = true;
            }
        }
    }
}

/// The bytes of the (first) literal in a response.
fn literal_of(r: &[u8]) -> Option<&[u8]> {
    let open = r.iter().position(|&c| c == b'{')?;
    let close = open + r.get(open..)?.iter().position(|&c| c == b'}')?;
    let n: usize = core::str::from_utf8(r.get(open + 1..close)?)
        .ok()?
        .parse()
        .ok()?;
    r.get(close + 3..close + 3 + n)
}

/// Bob's IMAP client inside TLS from the first byte (port 993).
pub struct ImapClientSession {
    /// The IMAP side.
    pub imap: ImapClient,
    stream: Stream<tls::Client>,
}

impl ImapClientSession {
    /// The session for `actor`; the ClientHello is queued at once.
    pub fn new(
        imap: ImapClient,
        tls: tls::ClientConfig,
        rng: Box<dyn RandomSource>,
        actor: ActorId,
    ) -> Result<Self, tls::Error> {
        let mut stream = Stream::new();
        stream.tls = Some(tls::Client::new(tls, rng, actor)?);
        Ok(ImapClientSession { imap, stream })
    }

    /// Bytes from the server.
    pub fn receive(&mut self, data: &[u8]) {
        let clear = self.stream.receive(data);
        if !clear.is_empty() {
            self.imap.receive(&clear);
        }
    }

    /// Wire messages to send, in order.
    pub fn take_output(&mut self) -> Vec<Outgoing> {
        for l in self.imap.take_output() {
            self.stream.send(l);
        }
        let mut out = self.stream.take_output();
        if let Some(c) = self.stream.tls.as_mut() {
            if self.imap.is_done() && c.is_connected() {
                c.close();
            }
        }
        out.extend(self.stream.take_output());
        out
    }

    /// TLS events since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.stream.take_events()
    }

    /// Whether there is nothing more to do.
    pub fn is_done(&self) -> bool {
        self.imap.is_done() || self.stream.failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cipherstage_transcript::check_fields;

    fn bob() -> Credentials {
        Credentials {
            user: "bob@example.com".into(),
            password: "pw \\ \"q\"".into(),
        }
    }

    #[test]
    fn commands_parse_with_quoted_strings_and_refuse_literals() {
        let c = parse_command(b"a1 LOGIN \"bob@example.com\" \"p\\\"w\"\r\n").unwrap();
        assert_eq!((c.tag.as_str(), c.verb.as_str()), ("a1", "LOGIN"));
        assert_eq!(c.args, ["bob@example.com", "p\"w"]);
        assert!(parse_command(b"a1 LOGIN {3}\r\n").is_none());
        assert!(parse_command(b"*\r\n").is_none());
        for l in [
            &b"a1 LOGIN \"x\" \"y\"\r\n"[..],
            b"garbage\r\n",
            b"a2 SELECT INBOX\r\n",
        ] {
            let mut b = FieldsBuilder::new(0);
            command_fields(&mut b, l);
            check_fields(&b.finish(), 0, l.len()).unwrap();
        }
    }

    #[test]
    fn the_client_logs_in_selects_and_fetches_the_message_byte_for_byte() {
        let msg = b"From: a@b\r\nSubject: x\r\n\r\n{5}\r\nbody ) \"\r\n".to_vec();
        let mut s = ImapServer::new("imap.example.com", bob(), vec![msg.clone()], None);
        let mut c = ImapClient::new(bob());
        for _ in 0..20 {
            for l in s.take_output() {
                check_fields(&l.fields, 0, l.bytes.len()).unwrap();
                // Byte by byte: literals and lines split anywhere.
                for b in &l.bytes {
                    c.receive(std::slice::from_ref(b));
                }
            }
            for l in c.take_output() {
                check_fields(&l.fields, 0, l.bytes.len()).unwrap();
                s.receive(&l.bytes);
            }
        }
        assert!(c.is_done() && c.failed.is_none(), "{:?}", c.failed);
        assert_eq!(c.fetched.as_deref(), Some(&msg[..]));
        assert_eq!(s.state(), ImapState::Logout);
        let mut wrong = ImapClient::new(Credentials {
            user: "bob@example.com".into(),
            password: "guess".into(),
        });
        let mut s = ImapServer::new("imap.example.com", bob(), vec![msg], None);
        for _ in 0..10 {
            for l in s.take_output() {
                wrong.receive(&l.bytes);
            }
            for l in wrong.take_output() {
                s.receive(&l.bytes);
            }
        }
        assert!(wrong.fetched.is_none());
        assert!(wrong
            .failed
            .unwrap()
            .starts_with("NO [AUTHENTICATIONFAILED]"));
    }

    #[test]
    fn a_literal_past_the_limit_is_refused_without_holding_it() {
        let mut c = ImapClient::new(bob());
        c.receive(b"* OK hi\r\n");
        c.receive(format!("* 1 FETCH (BODY[] {{{}}}\r\n", MAX_LITERAL + 1).as_bytes());
        assert!(c.is_done() && c.failed.is_some());
    }
}
