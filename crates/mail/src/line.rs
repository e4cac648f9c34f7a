//! SMTP lines on the wire (RFC 5321 §2.3.8, §4.1, §4.2).
//!
//! ```text
//! command = verb [SP argument] CRLF                  (§4.1.1)
//! reply   = *( code "-" text CRLF ) code [SP text] CRLF   (§4.2)
//! ```
//!
//! Lines end with CRLF and nothing else: a bare CR or LF inside a line is refused
//! (§2.3.8), which is also what keeps "SMTP smuggling" out of a message. A line may
//! not be longer than [`MAX_LINE`] octets (§4.5.3.1.4–6 give 512 for commands and
//! replies and 1000 for text; we allow 1000 everywhere, as common servers do): the
//! [`LineBuffer`] never holds more than that, however many bytes arrive without a
//! CRLF, and says so once.
//!
//! No function here panics on any input; errors are values with the offset in the
//! line where reading stopped.

use cipherstage_transcript::{FieldsBuilder, Protection, Value};

/// The longest line accepted, CRLF included (RFC 5321 §4.5.3.1.6).
pub const MAX_LINE: usize = 1000;

/// What is wrong with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// More than [`MAX_LINE`] octets before a CRLF.
    TooLong,
    /// A CR or LF that is not part of the final CRLF.
    BareNewline,
    /// The line does not end with CRLF.
    NoCrlf,
    /// A reply line that does not start with three digits and a separator.
    BadReply,
    /// A command that is empty or has a verb that is not letters.
    BadCommand,
}

/// A line that could not be read: what, and where in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// What.
    pub kind: ErrorKind,
    /// Offset in the line.
    pub offset: usize,
}

fn err<T>(kind: ErrorKind, offset: usize) -> Result<T, Error> {
    Err(Error { kind, offset })
}

/// What a [`LineBuffer`] hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A whole line, CRLF included.
    Line(Vec<u8>),
    /// A line grew past [`MAX_LINE`]: its bytes are dropped up to the next CRLF.
    TooLong,
}

/// Splits a byte stream into CRLF lines, holding at most [`MAX_LINE`] octets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Dropping the rest of an over-long line.
    discarding: bool,
}

impl LineBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        LineBuffer::default()
    }

    /// Bytes received and not yet part of a whole line.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Forgets what is buffered (after STARTTLS: RFC 3207 §4.2, nothing sent
    /// before the handshake may be read as if it came after it).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.discarding = false;
    }

    /// Takes `data` and returns the lines it completes, in order.
    pub fn push(&mut self, data: &[u8]) -> Vec<Item> {
        let mut out = Vec::new();
        for &b in data {
            if self.discarding {
                // Only the LF of a CRLF ends the dropped line.
                if b == b'\n' && self.buf.last() == Some(&b'\r') {
                    self.discarding = false;
                    self.buf.clear();
                } else {
                    self.buf.clear();
                    if b == b'\r' {
                        self.buf.push(b);
                    }
                }
                continue;
            }
            self.buf.push(b);
            if b == b'\n' && self.buf.len() >= 2 && self.buf.get(self.buf.len() - 2) == Some(&b'\r')
            {
                out.push(Item::Line(core::mem::take(&mut self.buf)));
            } else if self.buf.len() >= MAX_LINE {
                self.buf.clear();
                self.discarding = true;
                out.push(Item::TooLong);
            }
        }
        out
    }
}

/// The content of a line without its CRLF, refusing bare CR and LF.
pub fn content(line: &[u8]) -> Result<&[u8], Error> {
    let Some(body) = line.strip_suffix(b"\r\n") else {
        return err(ErrorKind::NoCrlf, line.len());
    };
    if let Some(at) = body.iter().position(|&b| b == b'\r' || b == b'\n') {
        return err(ErrorKind::BareNewline, at);
    }
    if line.len() > MAX_LINE {
        return err(ErrorKind::TooLong, MAX_LINE);
    }
    Ok(body)
}

/// A command line: `VERB [SP argument] CRLF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    /// The verb as sent (case kept; compare with [`Command::is`]).
    pub verb: &'a [u8],
    /// What follows the first space, if there is one.
    pub arg: Option<&'a [u8]>,
}

impl Command<'_> {
    /// Whether the verb is `name` (verbs are case-insensitive, RFC 5321 §2.4).
    pub fn is(&self, name: &str) -> bool {
        self.verb.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The verb in upper case.
    pub fn verb_upper(&self) -> String {
        String::from_utf8_lossy(self.verb).to_ascii_uppercase()
    }
}

/// Reads a command line.
pub fn parse_command(line: &[u8]) -> Result<Command<'_>, Error> {
    let body = content(line)?;
    let (verb, arg) = match body.iter().position(|&b| b == b' ') {
        Some(sp) => (
            body.get(..sp).unwrap_or_default(),
            Some(body.get(sp + 1..).unwrap_or_default()),
        ),
        None => (body, None),
    };
    if verb.is_empty() {
        return err(ErrorKind::BadCommand, 0);
    }
    if let Some(at) = verb.iter().position(|b| !b.is_ascii_alphabetic()) {
        return err(ErrorKind::BadCommand, at);
    }
    Ok(Command { verb, arg })
}

/// One line of a reply: `code ("-" / SP) text CRLF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLine<'a> {
    /// The three-digit code.
    pub code: u16,
    /// Whether this is the reply's last line (separator SP, or none).
    pub last: bool,
    /// The text after the separator.
    pub text: &'a [u8],
}

/// Reads a reply line.
pub fn parse_reply_line(line: &[u8]) -> Result<ReplyLine<'_>, Error> {
    let body = content(line)?;
    let Some(digits) = body.get(..3) else {
        return err(ErrorKind::BadReply, body.len());
    };
    let mut code = 0u16;
    for (i, d) in digits.iter().enumerate() {
        if !d.is_ascii_digit() {
            return err(ErrorKind::BadReply, i);
        }
        code = code * 10 + u16::from(d - b'0');
    }
    // §4.2.1: the first digit is 2 to 5.
    if !(200..600).contains(&code) {
        return err(ErrorKind::BadReply, 0);
    }
    let (last, text) = match body.get(3) {
        None => (true, &[][..]),
        Some(b' ') => (true, body.get(4..).unwrap_or_default()),
        Some(b'-') => (false, body.get(4..).unwrap_or_default()),
        Some(_) => return err(ErrorKind::BadReply, 3),
    };
    Ok(ReplyLine { code, last, text })
}

/// The verbs with their own explanation key (`smtp.explain.verb_ehlo`).
const VERBS: &[&str] = &[
    "ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data", "quit", "rset", "noop",
];

/// The reply codes with their own explanation key (`smtp.explain.code_250`).
const CODES: &[u16] = &[
    220, 221, 235, 250, 334, 354, 421, 452, 500, 501, 502, 503, 504, 530, 535, 538, 550, 552, 554,
];

fn text(b: &[u8]) -> Option<Value> {
    Some(Value::Text(String::from_utf8_lossy(b).into_owned()))
}

/// The key fragment naming a verb (`ehlo`), or `other`.
pub fn verb_key(verb: &[u8]) -> &'static str {
    VERBS
        .iter()
        .find(|v| verb.eq_ignore_ascii_case(v.as_bytes()))
        .copied()
        .unwrap_or("other")
}

/// The key fragment naming a reply code (`code_250`), or `code_other`.
fn code_key(code: u16) -> String {
    if CODES.contains(&code) {
        format!("smtp.explain.code_{code}")
    } else {
        "smtp.explain.code_other".into()
    }
}

/// AUTH PLAIN's message (RFC 4616 §2: `[authzid] NUL authcid NUL passwd`), shown
/// with the NULs visible: base64 hides nothing.
fn plain_value(b64: &[u8]) -> Option<Value> {
    let raw = cipherstage_smime::mime::b64_decode(b64)?;
    let shown: String = String::from_utf8_lossy(&raw).replace('\0', "\\0");
    Some(Value::Text(shown))
}

/// Lays out a command line's fields (every byte of `line`, which need not parse).
pub fn command_fields(b: &mut FieldsBuilder, line: &[u8], p: Protection) {
    let Ok(cmd) = parse_command(line) else {
        b.leaf(
            "smtp.field.line",
            line.len(),
            text(line),
            "smtp.explain.unreadable_line",
            p,
        );
        return;
    };
    let key = verb_key(cmd.verb);
    b.group(
        "smtp.field.command",
        &format!("smtp.explain.cmd_{key}"),
        p,
        |b| {
            b.leaf(
                "smtp.field.verb",
                cmd.verb.len(),
                text(cmd.verb),
                &format!("smtp.explain.verb_{key}"),
                p,
            );
            if let Some(arg) = cmd.arg {
                b.leaf("smtp.field.sp", 1, None, "smtp.explain.sp", p);
                argument_fields(b, key, arg, p);
            }
            b.leaf("smtp.field.crlf", 2, None, "smtp.explain.crlf", p);
        },
    );
}

fn argument_fields(b: &mut FieldsBuilder, key: &str, arg: &[u8], p: Protection) {
    if key == "auth" {
        if let Some(sp) = arg.iter().position(|&c| c == b' ') {
            let (mech, rest) = (
                arg.get(..sp).unwrap_or_default(),
                arg.get(sp + 1..).unwrap_or_default(),
            );
            b.leaf(
                "smtp.field.auth_mechanism",
                mech.len(),
                text(mech),
                "smtp.explain.auth_mechanism",
                p,
            );
            b.leaf("smtp.field.sp", 1, None, "smtp.explain.sp", p);
            b.leaf(
                "smtp.field.auth_plain_response",
                rest.len(),
                plain_value(rest).or_else(|| text(rest)),
                "smtp.explain.auth_plain_response",
                p,
            );
            return;
        }
    }
    let explain = match key {
        "ehlo" | "helo" => "smtp.explain.arg_domain",
        "mail" => "smtp.explain.arg_mail_from",
        "rcpt" => "smtp.explain.arg_rcpt_to",
        "auth" => "smtp.explain.auth_mechanism",
        _ => "smtp.explain.arg_other",
    };
    b.leaf("smtp.field.argument", arg.len(), text(arg), explain, p);
}

/// Lays out one reply line; `keyword` explains the text (an EHLO keyword).
pub fn reply_line_fields(b: &mut FieldsBuilder, line: &[u8], in_ehlo: bool, p: Protection) {
    let Ok(r) = parse_reply_line(line) else {
        b.leaf(
            "smtp.field.line",
            line.len(),
            text(line),
            "smtp.explain.unreadable_line",
            p,
        );
        return;
    };
    b.group("smtp.field.reply_line", "smtp.explain.reply_line", p, |b| {
        b.leaf(
            "smtp.field.reply_code",
            3,
            Some(Value::Uint(u64::from(r.code))),
            &code_key(r.code),
            p,
        );
        // Code, then (if anything follows it before the CRLF) the separator and text.
        if line.len() > 5 {
            let sep = if r.last {
                "smtp.sep.last"
            } else {
                "smtp.sep.more"
            };
            b.leaf(
                "smtp.field.separator",
                1,
                Some(Value::Key(sep.into())),
                "smtp.explain.separator",
                p,
            );
            let explain = if in_ehlo {
                ehlo_keyword_key(r.text)
            } else {
                "smtp.explain.reply_text"
            };
            if !r.text.is_empty() {
                b.leaf(
                    "smtp.field.reply_text",
                    r.text.len(),
                    text(r.text),
                    explain,
                    p,
                );
            }
        }
        b.leaf("smtp.field.crlf", 2, None, "smtp.explain.crlf", p);
    });
}

/// The explanation of an EHLO reply line's keyword (RFC 5321 §4.1.1.1).
fn ehlo_keyword_key(t: &[u8]) -> &'static str {
    let word = t.split(|&c| c == b' ').next().unwrap_or_default();
    let known: &[(&str, &'static str)] = &[
        ("STARTTLS", "smtp.explain.ehlo_starttls"),
        ("AUTH", "smtp.explain.ehlo_auth"),
        ("SIZE", "smtp.explain.ehlo_size"),
        ("8BITMIME", "smtp.explain.ehlo_8bitmime"),
        ("ENHANCEDSTATUSCODES", "smtp.explain.ehlo_enhanced"),
        ("PIPELINING", "smtp.explain.ehlo_pipelining"),
        ("SMTPUTF8", "smtp.explain.ehlo_smtputf8"),
    ];
    known
        .iter()
        .find(|(k, _)| word.eq_ignore_ascii_case(k.as_bytes()))
        .map(|(_, e)| *e)
        .unwrap_or("smtp.explain.ehlo_greeting")
}

/// Lays out a whole reply (one or more lines, each CRLF-terminated).
pub fn reply_fields(b: &mut FieldsBuilder, reply: &[u8], in_ehlo: bool, p: Protection) {
    for line in split_lines(reply) {
        reply_line_fields(b, line, in_ehlo, p);
    }
}

/// `data` cut after each CRLF (the last piece may lack one).
pub fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        if data.get(i..i + 2) == Some(b"\r\n") {
            out.push(data.get(start..i + 2).unwrap_or_default());
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    if start < data.len() {
        out.push(data.get(start..).unwrap_or_default());
    }
    out
}

/// The mail as DATA sends it (RFC 5321 §4.5.2): a line starting with "." gets
/// another "." in front; the text ends with CRLF, then ".", CRLF.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 5);
    for line in split_lines(message) {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A mail core's field tree of a whole message (offsets from 0).
pub type Describe = fn(&[u8]) -> Vec<cipherstage_transcript::Field>;

/// Lays out DATA's content as sent (`stuffed`, from [`dot_stuff`]); `describe` is
/// the field tree of the mail itself, used when no line needed stuffing.
pub fn content_fields(
    b: &mut FieldsBuilder,
    original: &[u8],
    stuffed: &[u8],
    describe: Option<Describe>,
    p: Protection,
) {
    let body = stuffed.strip_suffix(b".\r\n").unwrap_or(stuffed);
    b.group(
        "smtp.field.mail",
        "smtp.explain.mail",
        p,
        |b| match describe {
            Some(d) if body == original => {
                for f in d(original) {
                    push_field(b, f);
                }
            }
            _ => {
                for line in split_lines(body) {
                    if line.first() == Some(&b'.') {
                        b.leaf(
                            "smtp.field.dot_stuffing",
                            1,
                            None,
                            "smtp.explain.dot_stuffing",
                            p,
                        );
                        let rest = line.get(1..).unwrap_or_default();
                        b.leaf(
                            "smtp.field.text_line",
                            rest.len(),
                            text(rest),
                            "smtp.explain.text_line",
                            p,
                        );
                    } else {
                        b.leaf(
                            "smtp.field.text_line",
                            line.len(),
                            text(line),
                            "smtp.explain.text_line",
                            p,
                        );
                    }
                }
            }
        },
    );
    b.leaf(
        "smtp.field.end_of_data",
        3,
        None,
        "smtp.explain.end_of_data",
        p,
    );
}

/// Appends a ready-made field tree at the builder's offset (its children tile it).
fn push_field(b: &mut FieldsBuilder, f: cipherstage_transcript::Field) {
    if f.children.is_empty() {
        let len = f.end.saturating_sub(f.start);
        b.leaf(&f.name, len, f.value, &f.explain, f.protection);
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

#[cfg(test)]
mod tests {
    use super::*;

    static EHLO_REPLY: &[u8] = b"250-mail.example.com\r\n250-STARTTLS\r\n250 8BITMIME\r\n";

    #[test]
    fn a_command_splits_into_verb_and_argument() {
        let c = parse_command(b"MAIL FROM:<alice@example.com>\r\n").unwrap();
        assert!(c.is("mail"));
        assert_eq!(c.arg, Some(&b"FROM:<alice@example.com>"[..]));
        assert_eq!(parse_command(b"QUIT\r\n").unwrap().arg, None);
        assert_eq!(
            parse_command(b"QUIT\n").unwrap_err().kind,
            ErrorKind::NoCrlf
        );
        assert_eq!(
            parse_command(b"DATA\nX\r\n").unwrap_err().kind,
            ErrorKind::BareNewline
        );
        assert_eq!(
            parse_command(b"\r\n").unwrap_err().kind,
            ErrorKind::BadCommand
        );
    }

    #[test]
    fn reply_lines_say_whether_more_follow() {
        let lines = split_lines(EHLO_REPLY);
        assert_eq!(lines.len(), 3);
        let r: Vec<_> = lines.iter().map(|l| parse_reply_line(l).unwrap()).collect();
        assert!(!r[0].last && !r[1].last && r[2].last);
        assert_eq!(r[1].text, b"STARTTLS");
        assert_eq!(parse_reply_line(b"221\r\n").unwrap().code, 221);
        assert!(parse_reply_line(b"25x ok\r\n").is_err());
        assert!(parse_reply_line(b"650 ok\r\n").is_err());
        assert!(parse_reply_line(b"250_ok\r\n").is_err());
    }

    #[test]
    fn a_megabyte_without_crlf_is_refused_once_and_never_held() {
        let mut lb = LineBuffer::new();
        let mut items = Vec::new();
        for _ in 0..1024 {
            items.extend(lb.push(&[b'a'; 1024]));
            assert!(lb.pending() < MAX_LINE);
        }
        assert_eq!(items, vec![Item::TooLong]);
        let rest = lb.push(b"tail\r\nQUIT\r\n");
        assert_eq!(rest, vec![Item::Line(b"QUIT\r\n".to_vec())]);
    }

    #[test]
    fn dot_stuffing_doubles_leading_dots_and_ends_with_a_dot_line() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n".to_vec());
        assert_eq!(dot_stuff(b"a"), b"a\r\n.\r\n".to_vec());
    }

    #[test]
    fn short_replies_are_explained_to_the_last_byte() {
        // Found by the fuzzer: a two-letter text once left a gap.
        for l in [&b"250 ok\r\n"[..], b"221\r\n", b"250 \r\n", b"250-\r\n"] {
            let mut b = FieldsBuilder::new(0);
            reply_line_fields(&mut b, l, false, Protection::Plaintext);
            cipherstage_transcript::check_fields(&b.finish(), 0, l.len()).unwrap();
        }
    }

    #[test]
    fn every_byte_of_a_reply_and_a_command_is_explained() {
        let mut b = FieldsBuilder::new(0);
        reply_fields(&mut b, EHLO_REPLY, true, Protection::Plaintext);
        let f = b.finish();
        cipherstage_transcript::check_fields(&f, 0, EHLO_REPLY.len()).unwrap();
        let line = b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n";
        let mut b = FieldsBuilder::new(0);
        command_fields(&mut b, line, Protection::Encrypted);
        let f = b.finish();
        cipherstage_transcript::check_fields(&f, 0, line.len()).unwrap();
        let resp = &f[0].children[4];
        assert_eq!(resp.value, Some(Value::Text("\\0alice\\0secret".into())));
    }
}
