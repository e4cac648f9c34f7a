//! Remote desktop: a sans-IO RDP client (MS-RDPBCGR) with TLS security
//! ("Enhanced RDP Security", §5.4) from the cipherstage TLS 1.3 core.
//!
//! The connection sequence of MS-RDPBCGR §1.3.1.1, every byte explained: the
//! X.224 Connection Request with RDP_NEG_REQ and the server's Connection Confirm
//! ([`x224`]), TLS inside the TCP stream ([`session`]), MCS Connect Initial and
//! Response in BER carrying GCC Conference Create Request and Response in PER,
//! Erect Domain, Attach User and Channel Joins ([`mcs`]), then the share layer
//! ([`pdu`]): Client Info, licensing, Demand/Confirm Active with capability sets,
//! Synchronize, Control, Font List/Map, bitmap updates ([`bitmap`] decodes them to
//! pixels) and fast-path input ([`fastpath`]). [`client::Client`] is the state
//! machine; [`session::ClientSession`] puts TLS under it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod bitmap;
pub mod client;
pub mod codec;
pub mod fastpath;
pub mod mcs;
pub mod pdu;
pub mod scenario;
pub mod server;
pub mod session;
pub mod x224;

pub use client::{Client, ClientConfig, ClientEvent, ClientState};
pub use server::{Server, ServerConfig, ServerEvent, ServerState};
pub use session::{ClientSession, ServerSession};

use cipherstage_transcript::Field;

/// One RDP message as it is on the wire (before TLS, or the clear bytes inside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// Key of its label (`rdp.msg.connection_request`).
    pub label: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Its field tree, from offset 0.
    pub fields: Vec<Field>,
}

/// What was wrong with bytes from the peer, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// What.
    pub kind: ErrorKind,
    /// Offset in the PDU where it was found.
    pub offset: usize,
}

/// Kinds of decode fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The PDU ended before a field did.
    Truncated,
    /// Bytes after the end of a structure.
    Trailing,
    /// A length field that does not fit what holds it (a nested length that lies).
    BadLength,
    /// A BER or PER encoding we do not accept (an unexpected tag, an indefinite length).
    BadEncoding,
    /// A PDU other than the one this state expects.
    Unexpected,
    /// The server refused the negotiation (RDP_NEG_FAILURE's code).
    NegotiationFailure(u32),
    /// An MCS result other than rt-successful.
    McsRefused(u8),
    /// A bitmap whose data does not match its dimensions, or outside the desktop.
    BitmapSize,
    /// Compressed bitmap data that does not decode to its dimensions.
    BadRle,
    /// A licensing message other than the valid-client one.
    Licensing,
    /// The negotiation was changed on the way: the server's echo of the
    /// requested protocols (or the client's of the selected one) differs.
    Downgrade,
}

impl ErrorKind {
    /// A stable key naming the fault (`rdp.error.truncated`).
    pub fn key(&self) -> &'static str {
        match self {
            ErrorKind::Truncated => "rdp.error.truncated",
            ErrorKind::Trailing => "rdp.error.trailing",
            ErrorKind::BadLength => "rdp.error.bad_length",
            ErrorKind::BadEncoding => "rdp.error.bad_encoding",
            ErrorKind::Unexpected => "rdp.error.unexpected",
            ErrorKind::NegotiationFailure(_) => "rdp.error.negotiation_failure",
            ErrorKind::McsRefused(_) => "rdp.error.mcs_refused",
            ErrorKind::BitmapSize => "rdp.error.bitmap_size",
            ErrorKind::BadRle => "rdp.error.bad_rle",
            ErrorKind::Licensing => "rdp.error.licensing",
            ErrorKind::Downgrade => "rdp.error.downgrade",
        }
    }
}

/// Checks that `fields` explain bytes `0..len` exactly once: leaves in order
/// without gaps or overlaps, every parent exactly covered by its children.
/// Returns the first offset that is not.
pub fn explained(len: usize, fields: &[Field]) -> Result<(), usize> {
    fn walk(start: usize, end: usize, fields: &[Field]) -> Result<(), usize> {
        let mut at = start;
        for f in fields {
            if f.start != at || f.end < f.start || f.end > end {
                return Err(at);
            }
            if !f.children.is_empty() {
                walk(f.start, f.end, &f.children)?;
            }
            at = f.end;
        }
        if at == end {
            Ok(())
        } else {
            Err(at)
        }
    }
    walk(0, len, fields)
}

#[cfg(test)]
pub(crate) fn coverage_ok(bytes: &[u8], fields: &[Field]) -> bool {
    explained(bytes.len(), fields).is_ok()
}
