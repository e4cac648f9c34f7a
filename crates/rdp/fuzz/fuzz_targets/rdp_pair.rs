//! Our RDP client and server through the whole connection sequence (X.224, MCS with
//! GCC, channel joins, Client Info, licensing, capabilities, finalization, bitmap
//! updates), the TLS step skipped, with one PDU on the way changed: the input is
//! which PDU, how (xor with the rest, replaced by it, cut to the rest's first byte;
//! high bit: a stray PDU of the rest's bytes first), and the bytes; then, if the
//! session is active, fast-path input made from the rest. Never a panic; every PDU
//! either side sends, and every one the client reads, is explained byte for byte.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::pair(data);
});
