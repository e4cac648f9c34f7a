//! Packet opening on any bytes, plaintext and under both AEAD ciphers.
#![no_main]
use cipherstage_ssh::kex::Cipher;
use cipherstage_ssh::transport::{DirectionKeys, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mode, rest) = match data.split_first() {
        Some((m, r)) => (*m % 3, r),
        None => return,
    };
    let mut t = Transport::default();
    let cipher = match mode {
        1 => Some(Cipher::ChaCha20Poly1305),
        2 => Some(Cipher::Aes256Gcm),
        _ => None,
    };
    if let Some(cipher) = cipher {
        let keys = DirectionKeys {
            cipher,
            key: vec![7; cipher.key_len()],
            iv: vec![9; cipher.iv_len()],
        };
        if t.rekey_recv(&keys, false).is_err() {
            return;
        }
    }
    t.feed(rest);
    for _ in 0..64 {
        match t.open() {
            Ok(Some(_)) => {}
            _ => break,
        }
    }
});
