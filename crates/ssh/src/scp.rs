//! SCP, the classic protocol (`scp -O` since OpenSSH 9, which otherwise uses
//! SFTP): the client runs `scp -t PATH` (upload: the remote side is the sink)
//! or `scp -f PATH` (download: the remote side is the source) as an exec
//! request, and the two ends talk over the channel:
//!
//! ```text
//! sink → source   \0                          ready / OK
//! source → sink   C0644 <size> <name>\n       a file follows (T<mtime> 0 <atime> 0\n before it with -p,
//!                                             D0755 0 <name>\n … E\n around a directory with -r)
//! sink → source   \0                          OK, send it
//! source → sink   <size bytes> \0             the file, then "no error"
//! sink → source   \0                          stored
//! either way      \x01 message\n              warning: this file failed, go on
//!                 \x02 message\n              fatal: stop
//! ```
//! There is no specification but the OpenSSH source (scp.c); this follows
//! what `scp -O` 9.2 sends and accepts. Sans-IO: bytes in, bytes with their
//! fields out. Lengths come from a text line capped at [`MAX_LINE`]; file sizes
//! are checked against the in-memory file system's limit before any data is
//! buffered.

use cipherstage_transcript::{Field, Protection, Value};

use crate::sftp::fs::{MemFs, MAX_TOTAL};
use crate::wire::Writer;

/// Longest control line accepted (OpenSSH's own buffer is 2048 bytes).
pub const MAX_LINE: usize = 2048;

/// Bytes to send with their label and fields (`scp.field.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Stable key of the label (`scp.msg.file_header`).
    pub label: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// What each byte means.
    pub fields: Vec<Field>,
}

/// The OK byte (`\0`).
pub fn ack() -> Piece {
    let mut w = Writer::with_prefix("scp");
    w.raw(
        "ack",
        &[0],
        Some(Value::Key("scp.value.ok".into())),
        Protection::Plaintext,
    );
    let (bytes, fields) = w.finish();
    Piece {
        label: "scp.msg.ok",
        bytes,
        fields,
    }
}

/// A warning (`\x01`) or fatal error (`\x02`) with its message line.
pub fn error(fatal: bool, message: &str) -> Piece {
    let mut w = Writer::with_prefix("scp");
    let (code, key) = if fatal {
        (2u8, "scp.value.fatal")
    } else {
        (1u8, "scp.value.warning")
    };
    w.raw(
        "ack",
        &[code],
        Some(Value::Key(key.into())),
        Protection::Plaintext,
    );
    let line = format!("{}\n", message.replace('\n', " "));
    w.raw(
        "error_message",
        line.as_bytes(),
        Some(Value::Text(message.to_owned())),
        Protection::Plaintext,
    );
    let (bytes, fields) = w.finish();
    Piece {
        label: if fatal {
            "scp.msg.fatal"
        } else {
            "scp.msg.warning"
        },
        bytes,
        fields,
    }
}

/// `C<mode> <size> <name>\n`: a file follows.
pub fn file_header(mode: u32, size: u64, name: &str) -> Piece {
    let mut w = Writer::with_prefix("scp");
    let t = |w: &mut Writer, id: &str, s: &str, v: Option<Value>| {
        w.raw(id, s.as_bytes(), v, Protection::Plaintext)
    };
    t(
        &mut w,
        "line_type",
        "C",
        Some(Value::Key("scp.value.file".into())),
    );
    let m = format!("{:04o}", mode & 0o7777);
    t(&mut w, "mode", &m, Some(Value::Text(m.clone())));
    t(&mut w, "space", " ", None);
    t(&mut w, "size", &size.to_string(), Some(Value::Uint(size)));
    t(&mut w, "space", " ", None);
    t(
        &mut w,
        "file_name",
        name,
        Some(Value::Text(name.to_owned())),
    );
    t(&mut w, "newline", "\n", None);
    let (bytes, fields) = w.finish();
    Piece {
        label: "scp.msg.file_header",
        bytes,
        fields,
    }
}

/// The file's bytes and the `\0` after them.
pub fn file_data(data: &[u8]) -> Piece {
    let mut w = Writer::with_prefix("scp");
    let value = core::str::from_utf8(data)
        .ok()
        .map(|s| Value::Text(s.into()));
    w.raw("file_data", data, value, Protection::Plaintext);
    w.raw(
        "ack",
        &[0],
        Some(Value::Key("scp.value.ok".into())),
        Protection::Plaintext,
    );
    let (bytes, fields) = w.finish();
    Piece {
        label: "scp.msg.file_data",
        bytes,
        fields,
    }
}

/// A parsed control line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `C`: a file of `size` bytes named `name`.
    File {
        /// Permission bits.
        mode: u32,
        /// Bytes that follow.
        size: u64,
        /// Its name (no `/`).
        name: String,
    },
    /// `D`: a directory starts.
    Dir {
        /// Permission bits.
        mode: u32,
        /// Its name.
        name: String,
    },
    /// `E`: the directory ends.
    End,
    /// `T`: times for the next file.
    Times,
}

/// Why a control line is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    /// Not one of C, D, E, T with their fields.
    Malformed,
    /// A name that is empty, `.`, `..`, has a `/` or a control character.
    BadName,
}

/// Parses one control line (without its `\n`), as scp.c's sink checks it.
pub fn parse_line(line: &[u8]) -> Result<Line, LineError> {
    let text = core::str::from_utf8(line).map_err(|_| LineError::Malformed)?;
    let (kind, rest) = text.split_at_checked(1).ok_or(LineError::Malformed)?;
    match kind {
        "E" if rest.is_empty() => Ok(Line::End),
        "T" => {
            let n: Vec<&str> = rest.split(' ').collect();
            if n.len() == 4
                && n.iter()
                    .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
            {
                Ok(Line::Times)
            } else {
                Err(LineError::Malformed)
            }
        }
        "C" | "D" => {
            let mut parts = rest.splitn(3, ' ');
            let (Some(m), Some(s), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(LineError::Malformed);
            };
            if m.len() != 4 || !m.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Err(LineError::Malformed);
            }
            let mode = u32::from_str_radix(m, 8).map_err(|_| LineError::Malformed)?;
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(LineError::Malformed);
            }
            let size: u64 = s.parse().map_err(|_| LineError::Malformed)?;
            if name.is_empty()
                || name == "."
                || name == ".."
                || name.contains('/')
                || name.chars().any(char::is_control)
            {
                return Err(LineError::BadName);
            }
            Ok(if kind == "C" {
                Line::File {
                    mode,
                    size,
                    name: name.to_owned(),
                }
            } else {
                Line::Dir {
                    mode,
                    name: name.to_owned(),
                }
            })
        }
        _ => Err(LineError::Malformed),
    }
}

/// What `scp` was asked to do, from the exec command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `scp -t PATH`: receive into PATH.
    Sink {
        /// Target path.
        target: String,
        /// `-r`: directories allowed.
        recursive: bool,
    },
    /// `scp -f PATH`: send PATH.
    Source {
        /// The file to send.
        path: String,
    },
}

/// Reads an exec command such as `scp -v -t -- upload/`; `None` if it is not scp.
pub fn parse_command(command: &str) -> Option<Mode> {
    let mut words = command.split_whitespace();
    if words.next()? != "scp" {
        return None;
    }
    let (mut to, mut from, mut recursive) = (false, false, false);
    let mut rest: Vec<&str> = Vec::new();
    let mut options = true;
    for w in words {
        match w {
            "--" if options => options = false,
            _ if options && w.starts_with('-') && w.len() > 1 => {
                for c in w.chars().skip(1) {
                    match c {
                        't' => to = true,
                        'f' => from = true,
                        'r' => recursive = true,
                        // -v, -p, -d and OpenSSH's other sink/source flags change nothing here.
                        _ => {}
                    }
                }
            }
            _ => {
                options = false;
                rest.push(w);
            }
        }
    }
    let path = rest.join(" ");
    match (to, from) {
        (true, false) => Some(Mode::Sink {
            target: if path.is_empty() { ".".into() } else { path },
            recursive,
        }),
        (false, true) if !path.is_empty() => Some(Mode::Source { path }),
        _ => None,
    }
}

#[derive(Debug)]
enum SinkState {
    /// Waiting for a control line.
    Line,
    /// Receiving a file's bytes.
    Data {
        path: String,
        left: u64,
    },
    /// The `\0` after the data.
    DataEnd {
        path: String,
    },
    Done,
}

/// The remote `scp -t`: stores what the source sends on the file system.
#[derive(Debug)]
pub struct ScpSink {
    target: String,
    recursive: bool,
    /// Directories entered with D lines.
    dirs: Vec<String>,
    state: SinkState,
    buf: Vec<u8>,
    /// Files stored.
    pub stored: Vec<String>,
    /// An error was reported; the exit status is 1.
    pub had_error: bool,
}

/// What a step of the sink or source produced.
#[derive(Debug, Default)]
pub struct Step {
    /// Bytes to send.
    pub out: Vec<Piece>,
    /// The program is done: exit with this status.
    pub exit: Option<u32>,
}

impl ScpSink {
    /// The sink for `target`; its first `\0` is [`ScpSink::start`].
    pub fn new(target: &str, recursive: bool) -> Self {
        ScpSink {
            target: target.to_owned(),
            recursive,
            dirs: Vec::new(),
            state: SinkState::Line,
            buf: Vec::new(),
            stored: Vec::new(),
            had_error: false,
        }
    }

    /// The first `\0`: ready to receive.
    pub fn start(&self) -> Piece {
        ack()
    }

    /// Where a file named `name` goes.
    fn place(&self, fs: &MemFs, name: &str) -> String {
        match self.dirs.last() {
            Some(d) => format!("{d}/{name}"),
            None if fs.is_dir(&fs.resolve(&self.target)) => {
                format!("{}/{name}", fs.resolve(&self.target))
            }
            None => fs.resolve(&self.target),
        }
    }

    fn fatal(&mut self, step: &mut Step, msg: &str) {
        step.out.push(error(true, msg));
        step.exit = Some(1);
        self.state = SinkState::Done;
    }

    /// Takes bytes from the source.
    pub fn receive(&mut self, fs: &mut MemFs, bytes: &[u8]) -> Step {
        let mut step = Step::default();
        let mut input = bytes;
        while !input.is_empty() {
            match &mut self.state {
                SinkState::Done => break,
                SinkState::Line => {
                    let nl = input.iter().position(|b| *b == b'\n');
                    let take = nl.map_or(input.len(), |i| i + 1);
                    let (head, tail) = input.split_at(take);
                    input = tail;
                    self.buf.extend_from_slice(head);
                    if nl.is_none() {
                        if self.buf.len() > MAX_LINE {
                            self.fatal(&mut step, "scp: protocol error: line too long");
                        }
                        continue;
                    }
                    let line = core::mem::take(&mut self.buf);
                    let line = line.strip_suffix(b"\n").unwrap_or(&line);
                    // A warning or error from the source: note it and wait for the next line.
                    if matches!(line.first(), Some(1 | 2)) {
                        self.had_error = true;
                        if line.first() == Some(&2) {
                            step.exit = Some(1);
                            self.state = SinkState::Done;
                        }
                        continue;
                    }
                    match parse_line(line) {
                        Ok(Line::Times) => step.out.push(ack()),
                        Ok(Line::End) => {
                            self.dirs.pop();
                            step.out.push(ack());
                        }
                        Ok(Line::Dir { name, .. }) => {
                            if !self.recursive {
                                self.fatal(&mut step, "scp: received directory without -r");
                                continue;
                            }
                            let path = self.place(fs, &name);
                            if !fs.is_dir(&path) {
                                if let Err((_, m)) = fs.mkdir(&path) {
                                    self.fatal(&mut step, &format!("scp: {path}: {m}"));
                                    continue;
                                }
                            }
                            self.dirs.push(path);
                            step.out.push(ack());
                        }
                        Ok(Line::File { size, name, .. }) => {
                            let path = self.place(fs, &name);
                            if size > MAX_TOTAL as u64 {
                                self.fatal(
                                    &mut step,
                                    &format!("scp: {path}: No space left on device"),
                                );
                                continue;
                            }
                            match fs.open(&path, false, true, true, false, true) {
                                Ok(p) if size == 0 => {
                                    step.out.push(ack());
                                    self.state = SinkState::DataEnd { path: p };
                                }
                                Ok(p) => {
                                    step.out.push(ack());
                                    self.state = SinkState::Data {
                                        path: p,
                                        left: size,
                                    };
                                }
                                Err((_, m)) => {
                                    // As scp.c: a warning for this file, then the source stops.
                                    self.had_error = true;
                                    step.out.push(error(true, &format!("scp: {path}: {m}")));
                                    step.exit = Some(1);
                                    self.state = SinkState::Done;
                                }
                            }
                        }
                        Err(LineError::BadName) => {
                            self.fatal(&mut step, "scp: error: unexpected filename");
                        }
                        Err(LineError::Malformed) => {
                            self.fatal(&mut step, "scp: protocol error: bad control line");
                        }
                    }
                }
                SinkState::Data { path, left } => {
                    let n = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let (chunk, tail) = input.split_at(n);
                    input = tail;
                    let size = fs.file(path).map_or(0, <[u8]>::len) as u64;
                    if let Err((_, m)) = fs.write(path, size, chunk, false) {
                        let msg = format!("scp: {path}: {m}");
                        self.fatal(&mut step, &msg);
                        continue;
                    }
                    *left -= n as u64;
                    if *left == 0 {
                        let path = core::mem::take(path);
                        self.state = SinkState::DataEnd { path };
                    }
                }
                SinkState::DataEnd { path } => {
                    let (first, tail) = input.split_at(1);
                    input = tail;
                    let path = core::mem::take(path);
                    if first == [0] {
                        self.stored.push(path);
                        step.out.push(ack());
                        self.state = SinkState::Line;
                    } else {
                        self.fatal(
                            &mut step,
                            "scp: protocol error: expected the end of the file",
                        );
                    }
                }
            }
        }
        step
    }

    /// The source sent EOF: the sink exits (0 unless something failed).
    pub fn finish(&mut self) -> u32 {
        self.state = SinkState::Done;
        u32::from(self.had_error)
    }
}

#[derive(Debug)]
enum SourceState {
    /// Waiting for the sink's first `\0`.
    Ready,
    /// Header sent; waiting for `\0`.
    Header {
        data: Vec<u8>,
    },
    /// Data sent; waiting for `\0`.
    Data,
    Done,
}

/// The remote `scp -f`: sends one file to the sink.
#[derive(Debug)]
pub struct ScpSource {
    path: String,
    state: SourceState,
}

impl ScpSource {
    /// The source for `path`.
    pub fn new(path: &str) -> Self {
        ScpSource {
            path: path.to_owned(),
            state: SourceState::Ready,
        }
    }

    /// Takes bytes from the sink.
    pub fn receive(&mut self, fs: &MemFs, bytes: &[u8]) -> Step {
        let mut step = Step::default();
        for b in bytes {
            let state = core::mem::replace(&mut self.state, SourceState::Done);
            self.state = match (state, *b) {
                (SourceState::Ready, 0) => {
                    let p = fs.resolve(&self.path);
                    let denied = fs
                        .stat(&p)
                        .ok()
                        .and_then(|a| a.permissions)
                        .is_some_and(|m| m & 0o400 == 0);
                    match (fs.file(&p), fs.is_dir(&p)) {
                        (_, true) => {
                            step.out.push(error(
                                false,
                                &format!("scp: {}: not a regular file", self.path),
                            ));
                            step.exit = Some(1);
                            SourceState::Done
                        }
                        (Some(_), false) if denied => {
                            step.out.push(error(
                                false,
                                &format!("scp: {}: Permission denied", self.path),
                            ));
                            step.exit = Some(1);
                            SourceState::Done
                        }
                        (Some(data), false) => {
                            let mode = fs
                                .stat(&p)
                                .ok()
                                .and_then(|a| a.permissions)
                                .unwrap_or(0o644);
                            let name = p.rsplit('/').next().unwrap_or_default().to_owned();
                            step.out.push(file_header(mode, data.len() as u64, &name));
                            SourceState::Header {
                                data: data.to_vec(),
                            }
                        }
                        (None, false) => {
                            step.out.push(error(
                                false,
                                &format!("scp: {}: No such file or directory", self.path),
                            ));
                            step.exit = Some(1);
                            SourceState::Done
                        }
                    }
                }
                (SourceState::Header { data }, 0) => {
                    step.out.push(file_data(&data));
                    SourceState::Data
                }
                (SourceState::Data, 0) => {
                    step.exit = Some(0);
                    SourceState::Done
                }
                (SourceState::Done, _) => SourceState::Done,
                // The sink refused (\x01/\x02 …): stop.
                (_, _) => {
                    step.exit = Some(1);
                    SourceState::Done
                }
            };
            if matches!(self.state, SourceState::Done) {
                break;
            }
        }
        step
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ClientState {
    /// Upload: waiting for the sink's first `\0`; download: sent `\0`, waiting for a line.
    Start,
    /// Upload: header sent, waiting for `\0`.
    HeaderSent,
    /// Upload: data sent, waiting for `\0`.
    DataSent,
    /// Download: receiving `left` bytes, then `\0`.
    Receiving {
        left: u64,
    },
    /// Download: the `\0` after the data.
    DataEnd,
    Done,
}

/// The local end of `scp -O`: uploads one file to a sink or downloads one from a source.
#[derive(Debug)]
pub struct ScpClient {
    upload: Option<(String, Vec<u8>)>,
    state: ClientState,
    line: Vec<u8>,
    /// The downloaded file, once complete.
    pub received: Vec<u8>,
    /// The name the source gave.
    pub received_name: Option<String>,
    /// An error message from the other end.
    pub error: Option<String>,
}

impl ScpClient {
    /// Uploads `data` as `name` (the remote runs `scp -t`).
    pub fn upload(name: &str, data: Vec<u8>) -> Self {
        ScpClient {
            upload: Some((name.to_owned(), data)),
            state: ClientState::Start,
            line: Vec::new(),
            received: Vec::new(),
            received_name: None,
            error: None,
        }
    }

    /// Downloads (the remote runs `scp -f`); the first `\0` is [`ScpClient::start`].
    pub fn download() -> Self {
        ScpClient {
            upload: None,
            state: ClientState::Start,
            line: Vec::new(),
            received: Vec::new(),
            received_name: None,
            error: None,
        }
    }

    /// What to send first: nothing for an upload (the sink speaks first), `\0` for a download.
    pub fn start(&self) -> Vec<Piece> {
        if self.upload.is_some() {
            Vec::new()
        } else {
            vec![ack()]
        }
    }

    /// Whether the transfer has ended (well or not).
    pub fn done(&self) -> bool {
        self.state == ClientState::Done
    }

    /// Takes bytes from the remote scp.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<Piece> {
        let mut out = Vec::new();
        let mut input = bytes;
        while let Some((&b, tail)) = input.split_first() {
            match (self.state.clone(), &self.upload) {
                (ClientState::Done, _) => break,
                // An error line: \x01 or \x02, then text to \n.
                (ClientState::Start | ClientState::HeaderSent | ClientState::DataSent, _)
                    if b != 0 || !self.line.is_empty() =>
                {
                    if b == b'\n' {
                        let msg = String::from_utf8_lossy(self.line.get(1..).unwrap_or_default())
                            .into_owned();
                        if self.upload.is_some() || self.line.first().is_some_and(|c| *c <= 2) {
                            self.error = Some(msg);
                            self.state = ClientState::Done;
                        } else {
                            // A download's control line.
                            let line = core::mem::take(&mut self.line);
                            match parse_line(&line) {
                                Ok(Line::File { size, name, .. }) => {
                                    self.received_name = Some(name);
                                    self.state = if size == 0 {
                                        ClientState::DataEnd
                                    } else {
                                        ClientState::Receiving { left: size }
                                    };
                                    out.push(ack());
                                }
                                Ok(Line::Times) => out.push(ack()),
                                _ => {
                                    self.error = Some("protocol error".into());
                                    self.state = ClientState::Done;
                                }
                            }
                        }
                        self.line.clear();
                    } else if self.line.len() < MAX_LINE {
                        self.line.push(b);
                    } else {
                        self.error = Some("line too long".into());
                        self.state = ClientState::Done;
                    }
                    input = tail;
                }
                (ClientState::Start, Some((name, data))) => {
                    out.push(file_header(0o644, data.len() as u64, name));
                    self.state = ClientState::HeaderSent;
                    input = tail;
                }
                (ClientState::HeaderSent, Some((_, data))) => {
                    out.push(file_data(data));
                    self.state = ClientState::DataSent;
                    input = tail;
                }
                (ClientState::DataSent, _) => {
                    self.state = ClientState::Done;
                    input = tail;
                }
                (ClientState::Receiving { left }, _) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    let (chunk, rest) = input.split_at(n);
                    self.received.extend_from_slice(chunk);
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        ClientState::DataEnd
                    } else {
                        ClientState::Receiving { left }
                    };
                    input = rest;
                }
                (ClientState::DataEnd, _) => {
                    if b == 0 {
                        out.push(ack());
                    } else {
                        self.error = Some("protocol error".into());
                    }
                    self.state = ClientState::Done;
                    input = tail;
                }
                (ClientState::Start | ClientState::HeaderSent, None) => {
                    input = tail;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn control_lines_parse_as_scp_c_checks_them() {
        assert_eq!(
            parse_line(b"C0644 12 notes.txt").unwrap(),
            Line::File {
                mode: 0o644,
                size: 12,
                name: "notes.txt".into()
            }
        );
        assert_eq!(
            parse_line(b"C0644 12 a b").unwrap(),
            Line::File {
                mode: 0o644,
                size: 12,
                name: "a b".into()
            }
        );
        assert_eq!(parse_line(b"T1 0 2 0").unwrap(), Line::Times);
        assert_eq!(parse_line(b"E").unwrap(), Line::End);
        for bad in [
            &b"C644 1 x"[..],
            b"C0644 -1 x",
            b"C0648 1 x",
            b"X",
            b"",
            b"C0644 99999999999999999999999 x",
        ] {
            assert_eq!(parse_line(bad), Err(LineError::Malformed), "{bad:?}");
        }
        for bad in [
            &b"C0644 1 ../x"[..],
            b"C0644 1 ..",
            b"C0644 1 a/b",
            b"C0644 1 a\x1bb",
        ] {
            assert_eq!(parse_line(bad), Err(LineError::BadName), "{bad:?}");
        }
        assert_eq!(
            parse_command("scp -v -t -- upload/"),
            Some(Mode::Sink {
                target: "upload/".into(),
                recursive: false
            })
        );
        assert_eq!(
            parse_command("scp -f report.csv"),
            Some(Mode::Source {
                path: "report.csv".into()
            })
        );
        assert_eq!(parse_command("scp -t -f x"), None);
        assert_eq!(parse_command("echo scp"), None);
    }

    #[test]
    fn client_and_sink_and_source_agree() {
        let mut fs = MemFs::demo("alice", 0);
        let mut sink = ScpSink::new("upload", false);
        let mut c = ScpClient::upload("a.txt", b"hello scp\n".to_vec());
        let mut to_sink: Vec<u8> = Vec::new();
        for p in c.receive(&sink.start().bytes) {
            to_sink.extend(p.bytes);
        }
        for _ in 0..5 {
            let step = sink.receive(&mut fs, &core::mem::take(&mut to_sink));
            for p in step.out {
                for q in c.receive(&p.bytes) {
                    to_sink.extend(q.bytes);
                }
            }
        }
        assert!(c.done() && c.error.is_none());
        assert_eq!(fs.file("upload/a.txt").unwrap(), b"hello scp\n");

        let mut src = ScpSource::new("notes.txt");
        let mut c = ScpClient::download();
        let mut to_src: Vec<u8> = c.start().into_iter().flat_map(|p| p.bytes).collect();
        let mut exit = None;
        for _ in 0..5 {
            let step = src.receive(&fs, &core::mem::take(&mut to_src));
            exit = exit.or(step.exit);
            for p in step.out {
                to_src.extend(c.receive(&p.bytes).into_iter().flat_map(|q| q.bytes));
            }
        }
        assert_eq!(exit, Some(0));
        assert_eq!(c.received, fs.file("notes.txt").unwrap());

        let mut src = ScpSource::new("secret.txt");
        let step = src.receive(&fs, &[0]);
        let mut c = ScpClient::download();
        c.receive(&step.out[0].bytes);
        assert_eq!(
            c.error.as_deref(),
            Some("scp: secret.txt: Permission denied")
        );
        assert_eq!(step.exit, Some(1));
    }

    #[test]
    fn a_huge_size_is_refused_before_any_data() {
        let mut fs = MemFs::demo("alice", 0);
        let mut sink = ScpSink::new("upload", false);
        let step = sink.receive(&mut fs, b"C0644 18446744073709551615 big\n");
        assert_eq!(step.exit, Some(1));
        assert_eq!(step.out[0].bytes[0], 2);
        let mut sink = ScpSink::new("upload", false);
        let step = sink.receive(&mut fs, &[b'C'; 5000]);
        assert_eq!(step.exit, Some(1));
    }
}
