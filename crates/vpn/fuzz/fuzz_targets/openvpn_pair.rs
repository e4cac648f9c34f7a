//! Our OpenVPN client and server talking (TLS 1.3 handshake, key method 2,
//! PUSH_REQUEST/REPLY, data keys), with one packet on the way changed: the input is
//! flags (bit 0: TCP), which packet, how (xor with the rest, replaced by it, cut to
//! the rest's first byte; high bit: a stray packet of the rest's bytes before it),
//! and the bytes. If the tunnel still comes up, the rest is sent as an IP packet both
//! ways. Never a panic; every byte either side sends is explained.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    common::pair(flags, rest);
});
