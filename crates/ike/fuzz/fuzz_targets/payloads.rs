//! Any bytes as the decrypted content of an SK payload: sealed under a known key, the
//! inner payload chain's decoders get them (the ICV verifies, so every inner byte is
//! reached); never a panic, and whatever parses re-emits with every byte explained.
#![no_main]

use cipherstage_ike::consts::{exchange, flags, HEADER_LEN, PAYLOAD_HEADER_LEN};
use cipherstage_ike::crypto::Encr;
use cipherstage_ike::wire::{self, Header};
use cipherstage_transcript::check_fields;
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 36] = [7; 36];

fuzz_target!(|data: &[u8]| {
    let Some((&first, plain)) = data.split_first() else {
        return;
    };
    if plain.len() > 4000 {
        return;
    }
    // Header ‖ SK generic header (next = `first`) ‖ IV ‖ seal(plain) ‖ ICV.
    let sk_len = PAYLOAD_HEADER_LEN + 8 + plain.len() + 16;
    let mut msg = Vec::new();
    msg.extend_from_slice(&[1; 8]);
    msg.extend_from_slice(&[2; 8]);
    msg.extend_from_slice(&[46, 0x20, exchange::IKE_AUTH, flags::INITIATOR]);
    msg.extend_from_slice(&1u32.to_be_bytes());
    msg.extend_from_slice(&((HEADER_LEN + sk_len) as u32).to_be_bytes());
    msg.extend_from_slice(&[first, 0]);
    msg.extend_from_slice(&(sk_len as u16).to_be_bytes());
    let aad = msg.clone();
    msg.extend_from_slice(&[3; 8]);
    let mut body = plain.to_vec();
    let icv = Encr::AesGcm256.seal(&KEY, [3; 8], &aad, &mut body).unwrap();
    msg.extend_from_slice(&body);
    msg.extend_from_slice(&icv);
    if let Ok(p) = wire::parse(&msg, Some((Encr::AesGcm256, &KEY))) {
        let h = Header { ..p.header };
        let (bytes, fields) = wire::emit_encrypted(h, &p.payloads, Encr::AesGcm256, &KEY, [3; 8]).unwrap();
        check_fields(&fields, 0, bytes.len()).expect("a re-emitted message is explained");
        let again = wire::parse(&bytes, Some((Encr::AesGcm256, &KEY))).unwrap();
        assert_eq!(again.payloads, p.payloads);
    }
});
