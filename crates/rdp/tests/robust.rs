//! Our client and server over an in-memory clear stream (TLS left out: both are
//! told it started), then every PDU each side receives cut short at every
//! length and with single bytes flipped, fed to a snapshot of the receiver taken
//! just before it: never a panic; a bad PDU is a typed error or is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use cipherstage_rdp::scenario::desktop;
use cipherstage_rdp::server::{Security, ServerConfig};
use cipherstage_rdp::{Client, ClientConfig, ClientEvent, Server};

/// The PDUs of one clear connection, in order, and who received each (true: the client).
fn conversation() -> Vec<(bool, Vec<u8>)> {
    let mut config = ClientConfig::new("alice", "pw");
    config.width = 256;
    config.height = 160;
    let mut c = Client::new(config);
    let mut s = Server::new(ServerConfig {
        security: Security::Tls,
        desktop: desktop(),
        bpp: 16,
        tile: 64,
    });
    let mut log = Vec::new();
    for _ in 0..32 {
        let mut quiet = true;
        for m in c.take_output() {
            quiet = false;
            s.receive(&m.bytes);
            log.push((false, m.bytes));
        }
        if s.wants_tls() {
            s.tls_started();
        }
        for m in s.take_output() {
            quiet = false;
            c.receive(&m.bytes);
            log.push((true, m.bytes));
        }
        if c.wants_tls() {
            c.tls_started();
        }
        if quiet {
            break;
        }
    }
    assert!(c.is_active(), "{:?}", c.take_events());
    assert!(c
        .take_events()
        .iter()
        .any(|e| matches!(e, ClientEvent::Bitmap(_))));
    log
}

fn mutations(pdu: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // Every length and every byte of the headers, then a sample of the rest.
    let step = if pdu.len() > 512 { pdu.len() / 97 } else { 1 };
    for n in (0..pdu.len().min(96)).chain((96..pdu.len()).step_by(step.max(1))) {
        out.push(pdu[..n].to_vec());
    }
    for i in (0..pdu.len().min(96)).chain((96..pdu.len()).step_by(step.max(1))) {
        for x in [0x01, 0x80, 0xFF] {
            let mut m = pdu.to_vec();
            m[i] ^= x;
            out.push(m);
        }
    }
    out
}

#[test]
fn cut_and_flipped_pdus_never_panic_either_side() {
    let log = conversation();
    let mut config = ClientConfig::new("alice", "pw");
    config.width = 256;
    config.height = 160;
    let mut c = Client::new(config);
    let mut s = Server::new(ServerConfig {
        security: Security::Tls,
        desktop: desktop(),
        bpp: 16,
        tile: 64,
    });
    let _ = c.take_output();
    let mut tried = 0;
    for (to_client, pdu) in &log {
        for m in mutations(pdu) {
            tried += 1;
            if *to_client {
                let mut snap = c.clone();
                snap.receive(&m);
                let _ = (snap.take_events(), snap.take_output(), snap.take_received());
            } else {
                let mut snap = s.clone();
                snap.receive(&m);
                let _ = (snap.take_events(), snap.take_output());
            }
        }
        if *to_client {
            c.receive(pdu);
            if c.wants_tls() {
                c.tls_started();
            }
        } else {
            s.receive(pdu);
            if s.wants_tls() {
                s.tls_started();
            }
        }
    }
    assert!(tried > 5_000, "{tried}");
    eprintln!("{tried} cut or flipped PDUs, no panic");
}
