//! A sans-IO TLS 1.3 client and server (RFC 9846) on ring, recording every byte.
//!
//! Bytes in, records and transcript events out; randomness and time are passed
//! in, so the same seed gives the same handshake byte for byte. The scenario
//! driver steps a client and a server over an in-memory link watched by an
//! eavesdropper and records a [`cipherstage_transcript::Transcript`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod annotate;
mod client;
pub mod codec;
mod common;
mod config;
mod connection;
pub mod enums;
pub mod export;
pub mod issuance;
pub mod keys;
pub mod msgs;
pub mod record;
pub mod scenario;
mod schedule;
mod server;

pub use client::{Client, ClientState};
pub use common::{
    agree_from_seed, verify_content, Error, Outgoing, Share, CLIENT_CV_CONTEXT, SERVER_CV_CONTEXT,
};
pub use config::{
    alert_for, ClientAuth, ClientConfig, Identity, ServerConfig, ServerVerifier, Signer,
    TicketConfig, VirtualHost,
};
pub use connection::Connection;
pub use scenario::{run, ClientCert, Kind, Params, TamperAt};
pub use server::{Server, ServerState};
