//! SFTP version 3 packets (draft-ietf-secsh-filexfer-02, what OpenSSH speaks),
//! carried as the data of an SSH session channel whose subsystem is "sftp".
//!
//! ```text
//! uint32  length           of everything after it (§3)
//! byte    type             SSH_FXP_*  (§3)
//! uint32  request-id       every request and reply but INIT/VERSION (§3)
//! ...     type-specific fields
//! ```
//! ATTRS (§5): `uint32 flags`, then `uint64 size` (0x1), `uint32 uid, gid` (0x2),
//! `uint32 permissions` (0x4), `uint32 atime, mtime` (0x8), `uint32 count` and
//! that many string pairs (0x80000000), each present only when its flag is set.
//!
//! No-panic contract: [`Packet::parse`] and [`Framer`] take bytes from outside
//! and return a typed [`DecodeError`]; a length field larger than
//! [`MAX_PACKET`] is refused before any allocation. [`Packet::emit`] records a
//! field (`sftp.field.<id>`) for every byte it writes.

use cipherstage_transcript::{Field, Protection, Value};

use crate::wire::codec::{DecodeError, DecodeErrorKind, Reader, Writer};

/// The protocol version both sides speak.
pub const VERSION: u32 = 3;

/// Largest SFTP packet accepted (OpenSSH's sftp-server allows 256 KiB).
pub const MAX_PACKET: usize = 256 * 1024;

/// Packet types (§3).
pub mod kind {
    #![allow(missing_docs)]
    pub const INIT: u8 = 1;
    pub const VERSION: u8 = 2;
    pub const OPEN: u8 = 3;
    pub const CLOSE: u8 = 4;
    pub const READ: u8 = 5;
    pub const WRITE: u8 = 6;
    pub const LSTAT: u8 = 7;
    pub const FSTAT: u8 = 8;
    pub const SETSTAT: u8 = 9;
    pub const FSETSTAT: u8 = 10;
    pub const OPENDIR: u8 = 11;
    pub const READDIR: u8 = 12;
    pub const REMOVE: u8 = 13;
    pub const MKDIR: u8 = 14;
    pub const RMDIR: u8 = 15;
    pub const REALPATH: u8 = 16;
    pub const STAT: u8 = 17;
    pub const RENAME: u8 = 18;
    pub const READLINK: u8 = 19;
    pub const SYMLINK: u8 = 20;
    pub const STATUS: u8 = 101;
    pub const HANDLE: u8 = 102;
    pub const DATA: u8 = 103;
    pub const NAME: u8 = 104;
    pub const ATTRS: u8 = 105;
    pub const EXTENDED: u8 = 200;
    pub const EXTENDED_REPLY: u8 = 201;
}

/// Open flags (§6.3).
pub mod pflags {
    #![allow(missing_docs)]
    pub const READ: u32 = 0x01;
    pub const WRITE: u32 = 0x02;
    pub const APPEND: u32 = 0x04;
    pub const CREAT: u32 = 0x08;
    pub const TRUNC: u32 = 0x10;
    pub const EXCL: u32 = 0x20;
}

/// Status codes (§7).
pub mod status {
    #![allow(missing_docs)]
    pub const OK: u32 = 0;
    pub const EOF: u32 = 1;
    pub const NO_SUCH_FILE: u32 = 2;
    pub const PERMISSION_DENIED: u32 = 3;
    pub const FAILURE: u32 = 4;
    pub const BAD_MESSAGE: u32 = 5;
    pub const NO_CONNECTION: u32 = 6;
    pub const CONNECTION_LOST: u32 = 7;
    pub const OP_UNSUPPORTED: u32 = 8;

    /// Stable key of a status code's name.
    pub fn key(code: u32) -> &'static str {
        match code {
            OK => "sftp.status.ok",
            EOF => "sftp.status.eof",
            NO_SUCH_FILE => "sftp.status.no_such_file",
            PERMISSION_DENIED => "sftp.status.permission_denied",
            FAILURE => "sftp.status.failure",
            BAD_MESSAGE => "sftp.status.bad_message",
            NO_CONNECTION => "sftp.status.no_connection",
            CONNECTION_LOST => "sftp.status.connection_lost",
            OP_UNSUPPORTED => "sftp.status.op_unsupported",
            _ => "sftp.status.unknown",
        }
    }
}

const ATTR_SIZE: u32 = 0x01;
const ATTR_UIDGID: u32 = 0x02;
const ATTR_PERMISSIONS: u32 = 0x04;
const ATTR_ACMODTIME: u32 = 0x08;
const ATTR_EXTENDED: u32 = 0x8000_0000;

/// File attributes (§5); `None` fields are absent from the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// Size in bytes.
    pub size: Option<u64>,
    /// Owner and group ids.
    pub uid_gid: Option<(u32, u32)>,
    /// POSIX mode bits (type and permissions).
    pub permissions: Option<u32>,
    /// Access and modification times (seconds since 1970).
    pub times: Option<(u32, u32)>,
    /// Extended attributes.
    pub extended: Vec<(String, Vec<u8>)>,
}

/// One entry of an SSH_FXP_NAME reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The file name (a full path for REALPATH).
    pub filename: String,
    /// An `ls -l` line.
    pub longname: String,
    /// Its attributes.
    pub attrs: Attrs,
}

/// The requests that carry only a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathOp {
    /// SSH_FXP_LSTAT.
    Lstat,
    /// SSH_FXP_OPENDIR.
    Opendir,
    /// SSH_FXP_REMOVE.
    Remove,
    /// SSH_FXP_RMDIR.
    Rmdir,
    /// SSH_FXP_REALPATH.
    Realpath,
    /// SSH_FXP_STAT.
    Stat,
    /// SSH_FXP_READLINK.
    Readlink,
}

/// The requests that carry only a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleOp {
    /// SSH_FXP_CLOSE.
    Close,
    /// SSH_FXP_FSTAT.
    Fstat,
    /// SSH_FXP_READDIR.
    Readdir,
}

/// One SFTP packet (without its length).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Packet {
    Init {
        version: u32,
        extensions: Vec<(String, Vec<u8>)>,
    },
    Version {
        version: u32,
        extensions: Vec<(String, Vec<u8>)>,
    },
    Open {
        id: u32,
        path: String,
        pflags: u32,
        attrs: Attrs,
    },
    Read {
        id: u32,
        handle: Vec<u8>,
        offset: u64,
        len: u32,
    },
    Write {
        id: u32,
        handle: Vec<u8>,
        offset: u64,
        data: Vec<u8>,
    },
    Path {
        op: PathOp,
        id: u32,
        path: String,
    },
    Handle {
        op: HandleOp,
        id: u32,
        handle: Vec<u8>,
    },
    Setstat {
        id: u32,
        path: String,
        attrs: Attrs,
    },
    Fsetstat {
        id: u32,
        handle: Vec<u8>,
        attrs: Attrs,
    },
    Mkdir {
        id: u32,
        path: String,
        attrs: Attrs,
    },
    Rename {
        id: u32,
        from: String,
        to: String,
    },
    Symlink {
        id: u32,
        link: String,
        target: String,
    },
    Status {
        id: u32,
        code: u32,
        message: String,
        language: String,
    },
    HandleReply {
        id: u32,
        handle: Vec<u8>,
    },
    Data {
        id: u32,
        data: Vec<u8>,
    },
    Name {
        id: u32,
        names: Vec<Name>,
    },
    AttrsReply {
        id: u32,
        attrs: Attrs,
    },
    Extended {
        id: u32,
        request: String,
        rest: Vec<u8>,
    },
    ExtendedReply {
        id: u32,
        rest: Vec<u8>,
    },
    /// A type this codec does not know; the request id if it had four bytes.
    Unknown {
        kind: u8,
        id: Option<u32>,
    },
}

impl Packet {
    /// The type byte.
    pub fn kind(&self) -> u8 {
        use kind::*;
        match self {
            Packet::Init { .. } => INIT,
            Packet::Version { .. } => VERSION,
            Packet::Open { .. } => OPEN,
            Packet::Read { .. } => READ,
            Packet::Write { .. } => WRITE,
            Packet::Path { op, .. } => match op {
                PathOp::Lstat => LSTAT,
                PathOp::Opendir => OPENDIR,
                PathOp::Remove => REMOVE,
                PathOp::Rmdir => RMDIR,
                PathOp::Realpath => REALPATH,
                PathOp::Stat => STAT,
                PathOp::Readlink => READLINK,
            },
            Packet::Handle { op, .. } => match op {
                HandleOp::Close => CLOSE,
                HandleOp::Fstat => FSTAT,
                HandleOp::Readdir => READDIR,
            },
            Packet::Setstat { .. } => SETSTAT,
            Packet::Fsetstat { .. } => FSETSTAT,
            Packet::Mkdir { .. } => MKDIR,
            Packet::Rename { .. } => RENAME,
            Packet::Symlink { .. } => SYMLINK,
            Packet::Status { .. } => STATUS,
            Packet::HandleReply { .. } => HANDLE,
            Packet::Data { .. } => DATA,
            Packet::Name { .. } => NAME,
            Packet::AttrsReply { .. } => ATTRS,
            Packet::Extended { .. } => EXTENDED,
            Packet::ExtendedReply { .. } => EXTENDED_REPLY,
            Packet::Unknown { kind, .. } => *kind,
        }
    }

    /// Stable key of the packet's label.
    pub fn label(&self) -> &'static str {
        use kind::*;
        match self.kind() {
            INIT => "sftp.msg.init",
            VERSION => "sftp.msg.version",
            OPEN => "sftp.msg.open",
            CLOSE => "sftp.msg.close",
            READ => "sftp.msg.read",
            WRITE => "sftp.msg.write",
            LSTAT => "sftp.msg.lstat",
            FSTAT => "sftp.msg.fstat",
            SETSTAT => "sftp.msg.setstat",
            FSETSTAT => "sftp.msg.fsetstat",
            OPENDIR => "sftp.msg.opendir",
            READDIR => "sftp.msg.readdir",
            REMOVE => "sftp.msg.remove",
            MKDIR => "sftp.msg.mkdir",
            RMDIR => "sftp.msg.rmdir",
            REALPATH => "sftp.msg.realpath",
            STAT => "sftp.msg.stat",
            RENAME => "sftp.msg.rename",
            READLINK => "sftp.msg.readlink",
            SYMLINK => "sftp.msg.symlink",
            STATUS => "sftp.msg.status",
            HANDLE => "sftp.msg.handle",
            DATA => "sftp.msg.data",
            NAME => "sftp.msg.name",
            ATTRS => "sftp.msg.attrs",
            EXTENDED => "sftp.msg.extended",
            EXTENDED_REPLY => "sftp.msg.extended_reply",
            _ => "sftp.msg.unknown",
        }
    }

    /// The request id, for every packet but INIT and VERSION.
    pub fn id(&self) -> Option<u32> {
        match self {
            Packet::Init { .. } | Packet::Version { .. } => None,
            Packet::Unknown { id, .. } => *id,
            Packet::Open { id, .. }
            | Packet::Read { id, .. }
            | Packet::Write { id, .. }
            | Packet::Path { id, .. }
            | Packet::Handle { id, .. }
            | Packet::Setstat { id, .. }
            | Packet::Fsetstat { id, .. }
            | Packet::Mkdir { id, .. }
            | Packet::Rename { id, .. }
            | Packet::Symlink { id, .. }
            | Packet::Status { id, .. }
            | Packet::HandleReply { id, .. }
            | Packet::Data { id, .. }
            | Packet::Name { id, .. }
            | Packet::AttrsReply { id, .. }
            | Packet::Extended { id, .. }
            | Packet::ExtendedReply { id, .. } => Some(*id),
        }
    }

    /// The whole packet, `length` included, and the field of every byte.
    pub fn emit(&self) -> (Vec<u8>, Vec<Field>) {
        let mut body = Writer::with_prefix("sftp");
        body.raw(
            "type",
            &[self.kind()],
            Some(Value::Key(self.label().to_owned())),
            Protection::Plaintext,
        );
        if let Some(id) = self.id() {
            body.u32("request_id", id);
        }
        self.emit_fields(&mut body);
        let (bytes, fields) = body.finish();
        let mut w = Writer::with_prefix("sftp");
        w.u32("packet_length", bytes.len() as u32);
        w.extend(&bytes, fields);
        w.finish()
    }

    fn emit_fields(&self, w: &mut Writer) {
        match self {
            Packet::Init {
                version,
                extensions,
            }
            | Packet::Version {
                version,
                extensions,
            } => {
                w.u32("version", *version);
                for (name, data) in extensions {
                    w.text("extension_name", name);
                    text_or_bytes(w, "extension_data", data);
                }
            }
            Packet::Open {
                path,
                pflags,
                attrs,
                ..
            } => {
                w.text("filename", path);
                w.u32("pflags", *pflags);
                emit_attrs(w, attrs);
            }
            Packet::Read {
                handle,
                offset,
                len,
                ..
            } => {
                w.string("handle", handle, Protection::Plaintext);
                w.u64("offset", *offset);
                w.u32("read_length", *len);
            }
            Packet::Write {
                handle,
                offset,
                data,
                ..
            } => {
                w.string("handle", handle, Protection::Plaintext);
                w.u64("offset", *offset);
                text_or_bytes(w, "file_data", data);
            }
            Packet::Path { path, .. } => w.text("path", path),
            Packet::Handle { handle, .. } | Packet::HandleReply { handle, .. } => {
                w.string("handle", handle, Protection::Plaintext)
            }
            Packet::Setstat { path, attrs, .. } | Packet::Mkdir { path, attrs, .. } => {
                w.text("path", path);
                emit_attrs(w, attrs);
            }
            Packet::Fsetstat { handle, attrs, .. } => {
                w.string("handle", handle, Protection::Plaintext);
                emit_attrs(w, attrs);
            }
            Packet::Rename { from, to, .. } => {
                w.text("old_path", from);
                w.text("new_path", to);
            }
            Packet::Symlink { link, target, .. } => {
                w.text("link_path", link);
                w.text("target_path", target);
            }
            Packet::Status {
                code,
                message,
                language,
                ..
            } => {
                w.raw(
                    "status_code",
                    &code.to_be_bytes(),
                    Some(Value::Key(status::key(*code).to_owned())),
                    Protection::Plaintext,
                );
                w.text("error_message", message);
                w.text("language_tag", language);
            }
            Packet::Data { data, .. } => text_or_bytes(w, "file_data", data),
            Packet::Name { names, .. } => {
                w.u32("count", names.len() as u32);
                for n in names {
                    let mut e = Writer::with_prefix("sftp");
                    e.text("filename", &n.filename);
                    e.text("longname", &n.longname);
                    emit_attrs(&mut e, &n.attrs);
                    let (b, f) = e.finish();
                    w.group("name_entry", &b, f);
                }
            }
            Packet::AttrsReply { attrs, .. } => emit_attrs(w, attrs),
            Packet::Extended { request, rest, .. } => {
                w.text("extended_request", request);
                if !rest.is_empty() {
                    w.raw("extended_data", rest, None, Protection::Plaintext);
                }
            }
            Packet::ExtendedReply { rest, .. } => {
                if !rest.is_empty() {
                    w.raw("extended_data", rest, None, Protection::Plaintext);
                }
            }
            Packet::Unknown { .. } => {}
        }
    }

    /// Decodes one packet body (type byte onwards, without `length`); rejects
    /// trailing bytes. An unknown type keeps only its request id.
    pub fn parse(body: &[u8]) -> Result<Packet, DecodeError> {
        use kind::*;
        let mut r = Reader::new(body);
        let t = r.u8()?;
        let p = match t {
            INIT | VERSION => {
                let version = r.u32()?;
                let mut extensions = Vec::new();
                while r.offset() < body.len() {
                    extensions.push((r.text()?, r.string()?.to_vec()));
                }
                if t == INIT {
                    Packet::Init {
                        version,
                        extensions,
                    }
                } else {
                    Packet::Version {
                        version,
                        extensions,
                    }
                }
            }
            OPEN => Packet::Open {
                id: r.u32()?,
                path: r.text()?,
                pflags: r.u32()?,
                attrs: parse_attrs(&mut r)?,
            },
            READ => Packet::Read {
                id: r.u32()?,
                handle: r.string()?.to_vec(),
                offset: r.u64()?,
                len: r.u32()?,
            },
            WRITE => Packet::Write {
                id: r.u32()?,
                handle: r.string()?.to_vec(),
                offset: r.u64()?,
                data: r.string()?.to_vec(),
            },
            LSTAT | OPENDIR | REMOVE | RMDIR | REALPATH | STAT | READLINK => Packet::Path {
                op: match t {
                    LSTAT => PathOp::Lstat,
                    OPENDIR => PathOp::Opendir,
                    REMOVE => PathOp::Remove,
                    RMDIR => PathOp::Rmdir,
                    REALPATH => PathOp::Realpath,
                    STAT => PathOp::Stat,
                    _ => PathOp::Readlink,
                },
                id: r.u32()?,
                path: r.text()?,
            },
            CLOSE | FSTAT | READDIR => Packet::Handle {
                op: match t {
                    CLOSE => HandleOp::Close,
                    FSTAT => HandleOp::Fstat,
                    _ => HandleOp::Readdir,
                },
                id: r.u32()?,
                handle: r.string()?.to_vec(),
            },
            SETSTAT => Packet::Setstat {
                id: r.u32()?,
                path: r.text()?,
                attrs: parse_attrs(&mut r)?,
            },
            FSETSTAT => Packet::Fsetstat {
                id: r.u32()?,
                handle: r.string()?.to_vec(),
                attrs: parse_attrs(&mut r)?,
            },
            MKDIR => Packet::Mkdir {
                id: r.u32()?,
                path: r.text()?,
                attrs: parse_attrs(&mut r)?,
            },
            RENAME => Packet::Rename {
                id: r.u32()?,
                from: r.text()?,
                to: r.text()?,
            },
            SYMLINK => Packet::Symlink {
                id: r.u32()?,
                link: r.text()?,
                target: r.text()?,
            },
            STATUS => {
                let id = r.u32()?;
                let code = r.u32()?;
                // Version 3 servers may omit the message and language (§7).
                let (message, language) = if r.offset() < body.len() {
                    (r.text()?, r.text()?)
                } else {
                    (String::new(), String::new())
                };
                Packet::Status {
                    id,
                    code,
                    message,
                    language,
                }
            }
            HANDLE => Packet::HandleReply {
                id: r.u32()?,
                handle: r.string()?.to_vec(),
            },
            DATA => Packet::Data {
                id: r.u32()?,
                data: r.string()?.to_vec(),
            },
            NAME => {
                let id = r.u32()?;
                let count = r.u32()?;
                let mut names = Vec::new();
                // Each entry reads at least 12 bytes, so the input bounds the loop.
                for _ in 0..count {
                    names.push(Name {
                        filename: r.text()?,
                        longname: r.text()?,
                        attrs: parse_attrs(&mut r)?,
                    });
                }
                Packet::Name { id, names }
            }
            ATTRS => Packet::AttrsReply {
                id: r.u32()?,
                attrs: parse_attrs(&mut r)?,
            },
            EXTENDED => Packet::Extended {
                id: r.u32()?,
                request: r.text()?,
                rest: r.rest().to_vec(),
            },
            EXTENDED_REPLY => Packet::ExtendedReply {
                id: r.u32()?,
                rest: r.rest().to_vec(),
            },
            kind => {
                let id = r.u32().ok();
                r.rest();
                Packet::Unknown { kind, id }
            }
        };
        r.expect_empty()?;
        Ok(p)
    }
}

fn emit_attrs(w: &mut Writer, a: &Attrs) {
    let mut flags = 0;
    if a.size.is_some() {
        flags |= ATTR_SIZE;
    }
    if a.uid_gid.is_some() {
        flags |= ATTR_UIDGID;
    }
    if a.permissions.is_some() {
        flags |= ATTR_PERMISSIONS;
    }
    if a.times.is_some() {
        flags |= ATTR_ACMODTIME;
    }
    if !a.extended.is_empty() {
        flags |= ATTR_EXTENDED;
    }
    let mut e = Writer::with_prefix("sftp");
    e.u32("attr_flags", flags);
    if let Some(s) = a.size {
        e.u64("size", s);
    }
    if let Some((u, g)) = a.uid_gid {
        e.u32("uid", u);
        e.u32("gid", g);
    }
    if let Some(p) = a.permissions {
        e.raw(
            "permissions",
            &p.to_be_bytes(),
            Some(Value::Text(format!("{:o}", p))),
            Protection::Plaintext,
        );
    }
    if let Some((at, mt)) = a.times {
        e.u32("atime", at);
        e.u32("mtime", mt);
    }
    if !a.extended.is_empty() {
        e.u32("extended_count", a.extended.len() as u32);
        for (n, d) in &a.extended {
            e.text("extended_type", n);
            e.string("extended_data", d, Protection::Plaintext);
        }
    }
    let (b, f) = e.finish();
    w.group("attrs", &b, f);
}

fn parse_attrs(r: &mut Reader) -> Result<Attrs, DecodeError> {
    let flags = r.u32()?;
    let mut a = Attrs::default();
    if flags & ATTR_SIZE != 0 {
        a.size = Some(r.u64()?);
    }
    if flags & ATTR_UIDGID != 0 {
        a.uid_gid = Some((r.u32()?, r.u32()?));
    }
    if flags & ATTR_PERMISSIONS != 0 {
        a.permissions = Some(r.u32()?);
    }
    if flags & ATTR_ACMODTIME != 0 {
        a.times = Some((r.u32()?, r.u32()?));
    }
    if flags & ATTR_EXTENDED != 0 {
        let n = r.u32()?;
        for _ in 0..n {
            a.extended.push((r.text()?, r.string()?.to_vec()));
        }
    }
    Ok(a)
}

/// File contents as text when they are UTF-8, else as opaque bytes.
fn text_or_bytes(w: &mut Writer, id: &str, data: &[u8]) {
    match core::str::from_utf8(data) {
        Ok(s) => w.text(id, s),
        Err(_) => w.string(id, data, Protection::Plaintext),
    }
}

/// Cuts a byte stream (the channel's data, in whatever pieces it arrives) into
/// SFTP packets.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    /// Adds received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole packet's body (type byte onwards), if buffered. A length
    /// over [`MAX_PACKET`] (or under one byte) is an error: the stream cannot be
    /// resynchronised after it.
    pub fn next_body(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let Some(len) = self.buf.get(..4) else {
            return Ok(None);
        };
        let mut l = [0u8; 4];
        l.copy_from_slice(len);
        let n = u32::from_be_bytes(l) as usize;
        if n == 0 || n > MAX_PACKET {
            return Err(DecodeError {
                kind: DecodeErrorKind::BadValue,
                offset: 0,
            });
        }
        if self.buf.len() < 4 + n {
            return Ok(None);
        }
        let body = self.buf.get(4..4 + n).unwrap_or_default().to_vec();
        self.buf.drain(..4 + n);
        Ok(Some(body))
    }

    /// Bytes buffered but not yet a whole packet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}
