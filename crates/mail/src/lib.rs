//! Mail crossing the network: SMTP (RFC 5321) between a mail client and its
//! submission server, and between servers, with TLS — STARTTLS (RFC 3207) or
//! implicit TLS on port 465 (RFC 8314) — from the cipherstage TLS 1.3 core, and
//! AUTH PLAIN (RFC 4616) inside it.
//!
//! Sans-IO like every cipherstage core: [`server::Server`] and [`client::Client`]
//! read and write the clear SMTP stream; [`session`] puts TLS under them when it
//! starts; [`imap`] is the IMAP4rev2 subset Bob's client reads his mail with.
//! Every line is a wire message with a field tree over all its bytes
//! ([`line`]); the scenarios ([`scenario`]) run them through the shared driver.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod client;
pub mod export;
pub mod imap;
pub mod line;
pub mod scenario;
mod scenario_imap;
pub use scenario_imap::{BOB_PASSWORD, BOB_USER, IMAP_HOST};
pub mod server;
pub mod session;

pub use client::{Client, ClientConfig, ClientEvent, ClientState, Outcome, TlsPolicy};
pub use server::{Credentials, Received, Server, ServerConfig, ServerState};
pub use session::{ClientSession, ServerSession};

use cipherstage_transcript::Field;

/// One SMTP line (or a whole reply, or DATA's text) as one side writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Key of its label (`smtp.msg.ehlo`).
    pub label: &'static str,
    /// The bytes, CRLF included.
    pub bytes: Vec<u8>,
    /// Its field tree, from offset 0, in clear.
    pub fields: Vec<Field>,
}
