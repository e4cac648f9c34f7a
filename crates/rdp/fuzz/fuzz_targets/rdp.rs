//! RDP from anyone (the clear layer; TLS is the TLS core's own fuzz target). The
//! first byte picks what the rest feeds:
//! - 0: each decoder on its own: TPKT and X.224 (Connection Confirm, data header),
//!   MCS Connect Initial / Response with GCC in PER, MCS domain PDUs, licensing,
//!   share PDUs (fast-path and slow-path bitmap updates among them), virtual channel
//!   PDUs, bitmap data to pixels and onto a framebuffer;
//! - 1: our client, 2: our server, fed the bytes in chunks of the second byte's size
//!   (the TLS step skipped: when either wants TLS it is told TLS is up), so fast-path
//!   updates and input reach their decoders in every state.
//! Never a panic; every PDU either side sends, and every one the client reads, is
//! explained byte for byte.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => common::decoders(rest),
        1 => common::fresh(false, rest),
        _ => common::fresh(true, rest),
    }
});
