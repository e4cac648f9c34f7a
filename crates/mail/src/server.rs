//! The SMTP server side (RFC 5321 §4.1, §4.3): a state machine over the clear
//! byte stream of one session. Bytes in ([`Server::receive`]), replies out
//! ([`Server::take_output`]); whether TLS is under it is the transport's business
//! ([`crate::session`]), told here with [`Server::tls_started`].

use cipherstage_transcript::{FieldsBuilder, Protection};

use crate::line::{self, Command, Item, LineBuffer};
use crate::Line;

/// A user who may submit mail (AUTH PLAIN, RFC 4616).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The authentication identity.
    pub user: String,
    /// The password.
    pub password: String,
}

/// How the server behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Its host name, in the greeting and the EHLO reply.
    pub hostname: String,
    /// Offer STARTTLS (RFC 3207) while the session is in clear.
    pub starttls: bool,
    /// Accept AUTH PLAIN for this user, inside TLS only.
    pub auth: Option<Credentials>,
    /// Refuse MAIL before AUTH (a submission server, RFC 6409 §4.3).
    pub require_auth: bool,
    /// The largest message accepted (RFC 1870 SIZE), in octets.
    pub max_message: usize,
}

impl ServerConfig {
    /// A server named `hostname` offering STARTTLS, no AUTH.
    pub fn new(hostname: &str) -> Self {
        ServerConfig {
            hostname: hostname.to_owned(),
            starttls: true,
            auth: None,
            require_auth: false,
            max_message: 1 << 20,
        }
    }
}

/// A message the server accepted (RFC 5321 §4.1.1.4: the text after
/// un-stuffing, CRLF line ends, without the final ".").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The reverse path (MAIL FROM).
    pub from: String,
    /// The forward paths (RCPT TO).
    pub to: Vec<String>,
    /// The message.
    pub data: Vec<u8>,
    /// Whether it arrived inside TLS.
    pub secure: bool,
    /// Who authenticated for it, if anybody.
    pub user: Option<String>,
}

/// Where the session is; each state carries what the next step needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerState {
    /// Before EHLO/HELO.
    ExpectHello,
    /// Greeted; waiting for MAIL (or AUTH, STARTTLS …).
    ExpectMail,
    /// AUTH PLAIN without an initial response: the 334 is out, the response is due.
    ExpectAuthResponse,
    /// MAIL accepted; collecting RCPT.
    ExpectRcpt {
        /// The reverse path.
        from: String,
        /// Recipients so far.
        to: Vec<String>,
    },
    /// Inside DATA, until the "." line.
    Data {
        /// The reverse path.
        from: String,
        /// The recipients.
        to: Vec<String>,
        /// The text so far, un-stuffed.
        text: Vec<u8>,
        /// The text grew past the size limit: it is dropped and refused at the end.
        too_big: bool,
    },
    /// 220 sent for STARTTLS: the next bytes are a TLS handshake.
    StartingTls,
    /// QUIT answered (or the session given up).
    Closed,
}

/// The SMTP server.
#[derive(Debug, Clone)]
pub struct Server {
    config: ServerConfig,
    state: ServerState,
    input: LineBuffer,
    out: Vec<Line>,
    received: Vec<Received>,
    secure: bool,
    user: Option<String>,
    /// The label of the reply being written (what it answers).
    answering: &'static str,
}

impl Server {
    /// A session whose greeting is queued; `secure` when TLS is already under it
    /// (implicit TLS, RFC 8314 §3.3).
    pub fn new(config: ServerConfig, secure: bool) -> Server {
        let mut s = Server {
            config,
            state: ServerState::ExpectHello,
            input: LineBuffer::new(),
            out: Vec::new(),
            received: Vec::new(),
            secure,
            user: None,
            answering: "smtp.msg.greeting",
        };
        let greeting = format!("{} ESMTP cipherstage", s.config.hostname);
        s.reply(220, &[greeting.as_str()]);
        s
    }

    /// Where the session is.
    pub fn state(&self) -> &ServerState {
        &self.state
    }

    /// Whether the session runs inside TLS.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Whether QUIT was answered.
    pub fn is_closed(&self) -> bool {
        self.state == ServerState::Closed
    }

    /// Whether the 220 for STARTTLS is out and the handshake is due.
    pub fn wants_tls(&self) -> bool {
        self.state == ServerState::StartingTls
    }

    /// The TLS handshake finished: RFC 3207 §4.2, forget everything said before it
    /// and wait for a new EHLO.
    pub fn tls_started(&mut self) {
        self.secure = true;
        self.user = None;
        self.input.clear();
        self.state = ServerState::ExpectHello;
    }

    /// Replies to send, in order.
    pub fn take_output(&mut self) -> Vec<Line> {
        core::mem::take(&mut self.out)
    }

    /// Messages accepted since the last call.
    pub fn take_received(&mut self) -> Vec<Received> {
        core::mem::take(&mut self.received)
    }

    /// Bytes from the client (the clear stream: inside TLS, what TLS decrypted).
    pub fn receive(&mut self, data: &[u8]) {
        if matches!(self.state, ServerState::Closed | ServerState::StartingTls) {
            // After QUIT nothing is read; after STARTTLS's 220 the bytes belong to the
            // TLS handshake, and plaintext pipelined behind STARTTLS is dropped
            // (RFC 3207 §4.2 — the 2011 command-injection flaw read it).
            return;
        }
        for item in self.input.push(data) {
            match item {
                Item::TooLong => {
                    self.answering = "smtp.msg.error_reply";
                    self.reply(500, &["5.5.2 Line too long"]);
                }
                Item::Line(l) => self.line(&l),
            }
            if matches!(self.state, ServerState::Closed | ServerState::StartingTls) {
                self.input.clear();
                return;
            }
        }
    }

    fn reply(&mut self, code: u16, lines: &[&str]) {
        let mut bytes = Vec::new();
        let n = lines.len();
        for (i, l) in lines.iter().enumerate() {
            let sep = if i + 1 == n { ' ' } else { '-' };
            bytes.extend_from_slice(format!("{code}{sep}{l}\r\n").as_bytes());
        }
        let mut b = FieldsBuilder::new(0);
        let ehlo = self.answering == "smtp.msg.ehlo_reply";
        line::reply_fields(&mut b, &bytes, ehlo, Protection::Plaintext);
        self.out.push(Line {
            label: self.answering,
            bytes,
            fields: b.finish(),
        });
    }

    fn line(&mut self, l: &[u8]) {
        if let ServerState::Data { .. } = self.state {
            self.data_line(l);
            return;
        }
        if self.state == ServerState::ExpectAuthResponse {
            self.answering = "smtp.msg.auth_reply";
            let resp = line::content(l).unwrap_or_default().to_vec();
            self.state = ServerState::ExpectMail;
            self.check_plain(&resp);
            return;
        }
        let cmd = match line::parse_command(l) {
            Ok(c) => c,
            Err(e) => {
                self.answering = "smtp.msg.error_reply";
                let text = match e.kind {
                    line::ErrorKind::BareNewline => "5.5.2 Bare CR or LF not allowed",
                    _ => "5.5.2 Syntax error",
                };
                self.reply(500, &[text]);
                return;
            }
        };
        self.command(cmd);
    }

    fn command(&mut self, cmd: Command<'_>) {
        let arg = cmd
            .arg
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default();
        let verb = line::verb_key(cmd.verb);
        self.answering = match verb {
            "ehlo" => "smtp.msg.ehlo_reply",
            "helo" => "smtp.msg.helo_reply",
            "starttls" => "smtp.msg.starttls_reply",
            "auth" => "smtp.msg.auth_reply",
            "mail" => "smtp.msg.mail_reply",
            "rcpt" => "smtp.msg.rcpt_reply",
            "data" => "smtp.msg.data_reply",
            "quit" => "smtp.msg.quit_reply",
            _ => "smtp.msg.other_reply",
        };
        match verb {
            "ehlo" => self.ehlo(&arg),
            "helo" => {
                let host = self.config.hostname.clone();
                self.state = ServerState::ExpectMail;
                self.reply(250, &[host.as_str()]);
            }
            "starttls" => {
                if self.secure || !self.config.starttls {
                    self.reply(503, &["5.5.1 TLS not available now"]);
                } else if cmd.arg.is_some() {
                    self.reply(501, &["5.5.4 No parameters allowed"]);
                } else {
                    self.reply(220, &["2.0.0 Ready to start TLS"]);
                    self.state = ServerState::StartingTls;
                }
            }
            "auth" => self.auth(&arg),
            "mail" => self.mail(&arg),
            "rcpt" => self.rcpt(&arg),
            "data" => self.data(),
            "rset" => {
                if self.state != ServerState::ExpectHello {
                    self.state = ServerState::ExpectMail;
                }
                self.reply(250, &["2.0.0 Ok"]);
            }
            "noop" => self.reply(250, &["2.0.0 Ok"]),
            "quit" => {
                self.reply(221, &["2.0.0 Bye"]);
                self.state = ServerState::Closed;
            }
            _ => self.reply(502, &["5.5.2 Command not recognized"]),
        }
    }

    fn ehlo(&mut self, arg: &str) {
        if arg.is_empty() {
            self.reply(501, &["5.5.4 EHLO needs a domain"]);
            return;
        }
        let mut lines = vec![self.config.hostname.clone()];
        lines.push(format!("SIZE {}", self.config.max_message));
        lines.push("8BITMIME".into());
        if self.config.starttls && !self.secure {
            lines.push("STARTTLS".into());
        }
        // RFC 4616 §1 and RFC 8314 §5.1: a password only inside TLS.
        if self.config.auth.is_some() && self.secure {
            lines.push("AUTH PLAIN".into());
        }
        lines.push("ENHANCEDSTATUSCODES".into());
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        self.state = ServerState::ExpectMail;
        self.user = None;
        self.reply(250, &refs);
    }

    fn auth(&mut self, arg: &str) {
        if self.state != ServerState::ExpectMail || self.user.is_some() {
            self.reply(503, &["5.5.1 AUTH not allowed now"]);
            return;
        }
        let (mech, initial) = match arg.split_once(' ') {
            Some((m, r)) => (m, Some(r)),
            None => (arg, None),
        };
        if !mech.eq_ignore_ascii_case("PLAIN") || self.config.auth.is_none() {
            self.reply(504, &["5.5.4 Unrecognized authentication type"]);
            return;
        }
        if !self.secure {
            self.reply(
                538,
                &["5.7.11 Encryption required for requested authentication mechanism"],
            );
            return;
        }
        match initial {
            Some(r) => self.check_plain(r.as_bytes()),
            None => {
                self.state = ServerState::ExpectAuthResponse;
                self.reply(334, &[""]);
            }
        }
    }

    /// RFC 4616 §2: `[authzid] NUL authcid NUL passwd`, base64 (RFC 4954 §4).
    fn check_plain(&mut self, b64: &[u8]) {
        let decoded = cipherstage_smime::mime::b64_decode(b64);
        let Some(raw) = decoded else {
            self.reply(501, &["5.5.2 Cannot decode response"]);
            return;
        };
        let mut parts = raw.split(|&b| b == 0);
        let (Some(_authzid), Some(user), Some(pass), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            self.reply(501, &["5.5.2 Malformed PLAIN response"]);
            return;
        };
        let ok = self
            .config
            .auth
            .as_ref()
            .is_some_and(|c| c.user.as_bytes() == user && c.password.as_bytes() == pass);
        if ok {
            self.user = Some(String::from_utf8_lossy(user).into_owned());
            self.reply(235, &["2.7.0 Authentication successful"]);
        } else {
            self.reply(535, &["5.7.8 Authentication credentials invalid"]);
        }
    }

    fn mail(&mut self, arg: &str) {
        if self.state != ServerState::ExpectMail {
            self.reply(503, &["5.5.1 Bad sequence of commands"]);
            return;
        }
        if self.config.require_auth && self.user.is_none() {
            self.reply(530, &["5.7.0 Authentication required"]);
            return;
        }
        let Some(path) = path_of(arg, "FROM:") else {
            self.reply(501, &["5.5.4 Syntax: MAIL FROM:<address>"]);
            return;
        };
        self.state = ServerState::ExpectRcpt {
            from: path,
            to: Vec::new(),
        };
        self.reply(250, &["2.1.0 Ok"]);
    }

    fn rcpt(&mut self, arg: &str) {
        let ServerState::ExpectRcpt { to, .. } = &mut self.state else {
            self.reply(503, &["5.5.1 Need MAIL before RCPT"]);
            return;
        };
        let Some(path) = path_of(arg, "TO:") else {
            self.reply(501, &["5.5.4 Syntax: RCPT TO:<address>"]);
            return;
        };
        // RFC 5321 §4.5.3.1.8: at least 100 recipients must be accepted; more are not.
        if to.len() >= 100 {
            self.reply(452, &["4.5.3 Too many recipients"]);
            return;
        }
        to.push(path);
        self.reply(250, &["2.1.5 Ok"]);
    }

    fn data(&mut self) {
        match core::mem::replace(&mut self.state, ServerState::ExpectMail) {
            ServerState::ExpectRcpt { from, to } if !to.is_empty() => {
                self.state = ServerState::Data {
                    from,
                    to,
                    text: Vec::new(),
                    too_big: false,
                };
                self.reply(354, &["End data with <CR><LF>.<CR><LF>"]);
            }
            ServerState::ExpectRcpt { from, to } => {
                self.state = ServerState::ExpectRcpt { from, to };
                self.reply(554, &["5.5.1 No valid recipients"]);
            }
            other => {
                self.state = other;
                self.reply(503, &["5.5.1 Bad sequence of commands"]);
            }
        }
    }

    fn data_line(&mut self, l: &[u8]) {
        let max = self.config.max_message;
        let ServerState::Data { text, too_big, .. } = &mut self.state else {
            return;
        };
        if l == b".\r\n" {
            let ServerState::Data {
                from,
                to,
                text,
                too_big,
            } = core::mem::replace(&mut self.state, ServerState::ExpectMail)
            else {
                return;
            };
            self.answering = "smtp.msg.content_reply";
            if too_big {
                self.reply(552, &["5.3.4 Message too big"]);
            } else if line::content(l).is_err() {
                self.reply(550, &["5.6.0 Bad line ending"]);
            } else {
                self.received.push(Received {
                    from,
                    to,
                    data: text,
                    secure: self.secure,
                    user: self.user.clone(),
                });
                self.reply(250, &["2.0.0 Ok: queued"]);
            }
            return;
        }
        // §4.5.2: a leading "." was doubled by the client; take one away.
        let l = match l.first() {
            Some(b'.') => l.get(1..).unwrap_or_default(),
            _ => l,
        };
        if text.len() + l.len() > max {
            *too_big = true;
            text.clear();
        }
        if !*too_big {
            text.extend_from_slice(l);
        }
    }
}

/// The address in `FROM:<a@b>` / `TO:<a@b>` (parameters after it ignored); the
/// null reverse path `<>` is an empty address.
fn path_of(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg.get(prefix.len()..)?.trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner.get(..end)?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(s: &mut Server) -> Vec<String> {
        s.take_output()
            .into_iter()
            .map(|l| String::from_utf8(l.bytes).unwrap())
            .collect()
    }

    #[test]
    fn a_clear_session_offers_starttls_and_refuses_auth_and_mail_before_it() {
        let mut c = ServerConfig::new("mail.example.com");
        c.auth = Some(Credentials {
            user: "alice".into(),
            password: "secret".into(),
        });
        c.require_auth = true;
        let mut s = Server::new(c, false);
        s.receive(b"EHLO client.example.com\r\n");
        let r = replies(&mut s);
        assert!(r[0].starts_with("220 mail.example.com"));
        assert!(r[1].contains("250-STARTTLS\r\n") && !r[1].contains("AUTH"));
        s.receive(b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<a@b>\r\n");
        let r = replies(&mut s);
        assert!(
            r[0].starts_with("538 ") && r[1].starts_with("530 "),
            "{r:?}"
        );
        s.receive(b"STARTTLS\r\nMAIL FROM:<injected@x>\r\n");
        assert!(replies(&mut s)[0].starts_with("220 "));
        assert!(s.wants_tls());
        s.tls_started();
        s.receive(b"EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n");
        let r = replies(&mut s);
        assert!(r[0].contains("250-AUTH PLAIN") && !r[0].contains("STARTTLS"));
        assert_eq!(
            &r[1..],
            [
                "235 2.7.0 Authentication successful\r\n",
                "250 2.1.0 Ok\r\n",
                "250 2.1.5 Ok\r\n",
                "354 End data with <CR><LF>.<CR><LF>\r\n"
            ]
        );
        s.receive(b"Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
        let got = s.take_received();
        assert_eq!(got[0].data, b"Subject: x\r\n\r\n.dot\r\n");
        assert_eq!(got[0].user.as_deref(), Some("alice"));
        assert!(s.is_closed());
    }

    #[test]
    fn a_long_line_gets_500_and_memory_stays_bounded() {
        let mut s = Server::new(ServerConfig::new("m"), false);
        s.take_output();
        for _ in 0..1024 {
            s.receive(&[b'x'; 1024]);
        }
        s.receive(b"\r\nNOOP\r\n");
        let r = replies(&mut s);
        assert_eq!(r, ["500 5.5.2 Line too long\r\n", "250 2.0.0 Ok\r\n"]);
    }
}
