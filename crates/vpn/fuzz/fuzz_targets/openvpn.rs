//! OpenVPN from anyone, fast. The first byte picks what the rest feeds:
//! - even: the decoders: `wire::parse` (a control packet re-emits to the same bytes
//!   and its field tree covers them exactly, with and without the TCP length), the TCP
//!   framer in chunks, key method 2 both ways, PUSH_REPLY (what parses re-emits to a
//!   reply that parses to the same settings);
//! - odd: a fresh session (client or server, TCP or UDP, from the next bits) fed any
//!   packets, each after a length byte, with time passing (retransmissions).
//! Never a panic; everything a session sends is explained byte for byte.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        common::decoders(rest);
    } else {
        common::fresh(mode >> 1, rest);
    }
});
