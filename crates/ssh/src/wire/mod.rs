//! SSH on the wire: data types, the version line, and messages.
//!
//! No-panic contract: every decoder here takes bytes from outside and returns a
//! typed [`DecodeError`] with the offset of the fault; none indexes or unwraps.
//! Emitting goes through [`Writer`], which records the field of every byte.

pub mod codec;
pub mod message;

use cipherstage_transcript::{Field, Protection, Value};

pub use codec::{DecodeError, DecodeErrorKind, Reader, Writer};
pub use message::{
    AuthMethod, ChannelRequestKind, DirectTcpip, KexInit, Msg, DIRECT_TCPIP, FORWARDED_TCPIP,
};

/// Longest version line accepted (RFC 4253 §4.2: 255 characters including CR LF).
pub const MAX_VERSION_LINE: usize = 255;

/// The identification string `SSH-protoversion-softwareversion SP comments CR LF`
/// (RFC 4253 §4.2), as bytes and field tree.
pub fn version_line(id: &str) -> (Vec<u8>, Vec<Field>) {
    let mut w = Writer::new();
    let (software, comment) = match id.strip_prefix("SSH-2.0-") {
        Some(rest) => match rest.split_once(' ') {
            Some((s, c)) => (s, Some(c)),
            None => (rest, None),
        },
        None => (id, None),
    };
    w.raw(
        "proto_version",
        b"SSH-2.0-",
        Some(Value::Text("SSH-2.0-".into())),
        Protection::Plaintext,
    );
    w.raw(
        "software_version",
        software.as_bytes(),
        Some(Value::Text(software.into())),
        Protection::Plaintext,
    );
    if let Some(c) = comment {
        let c = format!(" {c}");
        w.raw(
            "version_comment",
            c.as_bytes(),
            Some(Value::Text(c.clone())),
            Protection::Plaintext,
        );
    }
    w.raw("crlf", b"\r\n", None, Protection::Plaintext);
    w.finish()
}

/// Finds the peer's version line at the start of `buf`.
///
/// Returns the line without CR LF and the number of bytes consumed (lines before
/// it that do not start with `SSH-` are skipped, as RFC 4253 §4.2 allows a server
/// to send), or `None` if more bytes are needed.
pub fn parse_version(buf: &[u8]) -> Result<Option<(String, usize)>, DecodeError> {
    let mut at = 0usize;
    loop {
        let rest = buf.get(at..).unwrap_or_default();
        let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
            if rest.len() > MAX_VERSION_LINE || at > 16 * 1024 {
                return Err(DecodeError {
                    kind: DecodeErrorKind::BadValue,
                    offset: at,
                });
            }
            return Ok(None);
        };
        let line = rest.get(..nl).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"SSH-") {
            if !line.starts_with(b"SSH-2.0-") || line.len() + 2 > MAX_VERSION_LINE {
                return Err(DecodeError {
                    kind: DecodeErrorKind::BadValue,
                    offset: at,
                });
            }
            let text = String::from_utf8(line.to_vec()).map_err(|_| DecodeError {
                kind: DecodeErrorKind::NotText,
                offset: at,
            })?;
            return Ok(Some((text, at + nl + 1)));
        }
        at += nl + 1;
    }
}
