//! Msg::parse on any payload: never panics, and whatever parses re-emits to the same bytes.
#![no_main]
use cipherstage_ssh::wire::Msg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Msg::parse(data) {
        assert_eq!(m.to_bytes(), data);
    }
});
