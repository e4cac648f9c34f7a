//! The SFTP server of one "sftp" subsystem channel: it reads requests from the
//! channel's bytes and answers each with the reply the draft gives it, on a
//! [`MemFs`] the SSH server shares between its channels. Sans-IO: bytes in,
//! packets out.

use super::fs::{MemFs, FAILURE, NO_SUCH_FILE};
use super::wire::{pflags, status, Framer, HandleOp, Name, Packet, PathOp, MAX_PACKET, VERSION};
use crate::wire::DecodeError;

/// Open handles at most per session.
pub const MAX_HANDLES: usize = 32;
/// The largest READ answered (longer requests get this much).
pub const MAX_READ: u32 = 32 * 1024;
/// The extensions listed in VERSION, each with its version string.
pub const EXTENSIONS: &[(&str, &str)] = &[
    ("posix-rename@openssh.com", "1"),
    ("limits@openssh.com", "1"),
];

#[derive(Debug)]
enum Open {
    File {
        path: String,
        read: bool,
        write: bool,
        append: bool,
    },
    Dir {
        path: String,
        listed: bool,
    },
}

/// One SFTP session.
#[derive(Debug, Default)]
pub struct SftpServer {
    framer: Framer,
    handles: Vec<(u32, Open)>,
    next_handle: u32,
    /// Requests answered.
    pub answered: u32,
}

fn status_of(id: u32, (code, message): (u32, &str)) -> Packet {
    Packet::Status {
        id,
        code,
        message: message.to_owned(),
        language: String::new(),
    }
}

fn ok(id: u32) -> Packet {
    status_of(id, (status::OK, "Success"))
}

impl SftpServer {
    /// A fresh session (INIT not yet seen).
    pub fn new() -> Self {
        SftpServer::default()
    }

    /// Takes channel bytes; returns the replies to send. An impossible packet
    /// length is an error that ends the session (the stream cannot be re-read).
    pub fn receive(&mut self, fs: &mut MemFs, bytes: &[u8]) -> Result<Vec<Packet>, DecodeError> {
        self.framer.feed(bytes);
        let mut out = Vec::new();
        while let Some(body) = self.framer.next_body()? {
            let reply = match Packet::parse(&body) {
                Ok(p) => self.handle(fs, p),
                // A malformed request with a readable id gets BAD_MESSAGE.
                Err(_) => body.get(1..5).map(|b| {
                    let mut id = [0u8; 4];
                    id.copy_from_slice(b);
                    status_of(u32::from_be_bytes(id), (status::BAD_MESSAGE, "Bad message"))
                }),
            };
            if let Some(r) = reply {
                self.answered = self.answered.wrapping_add(1);
                out.push(r);
            }
        }
        Ok(out)
    }

    fn handle_of(&mut self, h: &[u8]) -> Option<&mut Open> {
        let n = u32::from_be_bytes(h.try_into().ok()?);
        self.handles
            .iter_mut()
            .find(|(k, _)| *k == n)
            .map(|(_, o)| o)
    }

    fn new_handle(&mut self, id: u32, open: Open) -> Packet {
        if self.handles.len() >= MAX_HANDLES {
            return status_of(id, (status::FAILURE, "Too many open handles"));
        }
        let n = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1);
        self.handles.push((n, open));
        Packet::HandleReply {
            id,
            handle: n.to_be_bytes().to_vec(),
        }
    }

    fn handle(&mut self, fs: &mut MemFs, p: Packet) -> Option<Packet> {
        let bad = |id| status_of(id, (status::BAD_MESSAGE, "Bad message"));
        let unsupported = |id| status_of(id, (status::OP_UNSUPPORTED, "Operation unsupported"));
        let r = match p {
            Packet::Init { .. } => Packet::Version {
                version: VERSION,
                extensions: EXTENSIONS
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
                    .collect(),
            },
            Packet::Open {
                id,
                path,
                pflags: f,
                ..
            } => {
                let (read, write) = (f & pflags::READ != 0, f & pflags::WRITE != 0);
                match fs.open(
                    &path,
                    read,
                    write,
                    f & pflags::CREAT != 0,
                    f & pflags::EXCL != 0,
                    f & pflags::TRUNC != 0,
                ) {
                    Ok(path) => self.new_handle(
                        id,
                        Open::File {
                            path,
                            read,
                            write,
                            append: f & pflags::APPEND != 0,
                        },
                    ),
                    Err(e) => status_of(id, e),
                }
            }
            Packet::Read {
                id,
                handle,
                offset,
                len,
            } => match self.handle_of(&handle) {
                Some(Open::File {
                    path, read: true, ..
                }) => match fs.read(path, offset, len.min(MAX_READ) as usize) {
                    Ok(data) => Packet::Data { id, data },
                    Err(e) => status_of(id, e),
                },
                Some(_) => status_of(id, super::fs::DENIED),
                None => status_of(id, FAILURE),
            },
            Packet::Write {
                id,
                handle,
                offset,
                data,
            } => match self.handle_of(&handle) {
                Some(Open::File {
                    path,
                    write: true,
                    append,
                    ..
                }) => match fs.write(path, offset, &data, *append) {
                    Ok(()) => ok(id),
                    Err(e) => status_of(id, e),
                },
                Some(_) => status_of(id, super::fs::DENIED),
                None => status_of(id, FAILURE),
            },
            Packet::Handle { op, id, handle } => match op {
                HandleOp::Close => {
                    let n = handle.as_slice().try_into().ok().map(u32::from_be_bytes);
                    let before = self.handles.len();
                    self.handles.retain(|(k, _)| Some(*k) != n);
                    if self.handles.len() < before {
                        ok(id)
                    } else {
                        status_of(id, FAILURE)
                    }
                }
                HandleOp::Fstat => match self.handle_of(&handle) {
                    Some(Open::File { path, .. } | Open::Dir { path, .. }) => {
                        match fs.stat(&path.clone()) {
                            Ok(attrs) => Packet::AttrsReply { id, attrs },
                            Err(e) => status_of(id, e),
                        }
                    }
                    None => status_of(id, FAILURE),
                },
                HandleOp::Readdir => match self.handle_of(&handle) {
                    Some(Open::Dir { listed: true, .. }) => {
                        status_of(id, (status::EOF, "End of file"))
                    }
                    Some(Open::Dir { path, listed }) => {
                        *listed = true;
                        match fs.list(&path.clone()) {
                            Ok(names) => Packet::Name { id, names },
                            Err(e) => status_of(id, e),
                        }
                    }
                    _ => status_of(id, FAILURE),
                },
            },
            Packet::Path { op, id, path } => match op {
                PathOp::Stat | PathOp::Lstat => match fs.stat(&path) {
                    Ok(attrs) => Packet::AttrsReply { id, attrs },
                    Err(e) => status_of(id, e),
                },
                PathOp::Realpath => {
                    let p = fs.resolve(&path);
                    let attrs = fs.stat(&p).unwrap_or_default();
                    Packet::Name {
                        id,
                        names: vec![Name {
                            longname: fs.longname(&p, &attrs),
                            filename: p,
                            attrs: Default::default(),
                        }],
                    }
                }
                PathOp::Opendir => match fs.list(&path) {
                    Ok(_) => self.new_handle(
                        id,
                        Open::Dir {
                            path: fs.resolve(&path),
                            listed: false,
                        },
                    ),
                    Err(e) => status_of(id, e),
                },
                PathOp::Remove => fs
                    .remove(&path)
                    .map_or_else(|e| status_of(id, e), |()| ok(id)),
                PathOp::Rmdir => fs
                    .rmdir(&path)
                    .map_or_else(|e| status_of(id, e), |()| ok(id)),
                PathOp::Readlink => {
                    if fs.stat(&path).is_err() {
                        status_of(id, NO_SUCH_FILE)
                    } else {
                        status_of(id, (status::FAILURE, "Not a symbolic link"))
                    }
                }
            },
            Packet::Setstat { id, path, attrs } => fs
                .setstat(&path, &attrs)
                .map_or_else(|e| status_of(id, e), |()| ok(id)),
            Packet::Fsetstat { id, handle, attrs } => match self.handle_of(&handle) {
                Some(Open::File { path, .. } | Open::Dir { path, .. }) => fs
                    .setstat(&path.clone(), &attrs)
                    .map_or_else(|e| status_of(id, e), |()| ok(id)),
                None => status_of(id, FAILURE),
            },
            Packet::Mkdir { id, path, .. } => fs
                .mkdir(&path)
                .map_or_else(|e| status_of(id, e), |()| ok(id)),
            Packet::Rename { id, from, to } => fs
                .rename(&from, &to, false)
                .map_or_else(|e| status_of(id, e), |()| ok(id)),
            Packet::Symlink { id, .. } => unsupported(id),
            Packet::Extended { id, request, rest } => self.extended(fs, id, &request, &rest),
            // Replies are the server's to send, never a client's.
            Packet::Version { .. } => return None,
            Packet::Status { id, .. }
            | Packet::HandleReply { id, .. }
            | Packet::Data { id, .. }
            | Packet::Name { id, .. }
            | Packet::AttrsReply { id, .. }
            | Packet::ExtendedReply { id, .. } => bad(id),
            Packet::Unknown { id, .. } => unsupported(id?),
        };
        Some(r)
    }

    fn extended(&mut self, fs: &mut MemFs, id: u32, request: &str, rest: &[u8]) -> Packet {
        match request {
            "limits@openssh.com" => {
                let mut v = Vec::new();
                for n in [
                    MAX_PACKET as u64,
                    u64::from(MAX_READ),
                    u64::from(MAX_READ),
                    MAX_HANDLES as u64,
                ] {
                    v.extend_from_slice(&n.to_be_bytes());
                }
                Packet::ExtendedReply { id, rest: v }
            }
            "posix-rename@openssh.com" => {
                let mut r = crate::wire::Reader::new(rest);
                match (r.text(), r.text(), r.expect_empty()) {
                    (Ok(from), Ok(to), Ok(())) => fs
                        .rename(&from, &to, true)
                        .map_or_else(|e| status_of(id, e), |()| ok(id)),
                    _ => status_of(id, (status::BAD_MESSAGE, "Bad message")),
                }
            }
            _ => status_of(id, (status::OP_UNSUPPORTED, "Operation unsupported")),
        }
    }
}
