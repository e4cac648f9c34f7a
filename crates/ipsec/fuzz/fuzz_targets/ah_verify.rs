//! Any bytes into AH verification and the AH header decoder: no panic, no forgery, and
//! any valid IPv4 packet protected then verified comes back with the same payload.
#![no_main]

use cipherstage_ipsec::ah::AhSa;
use cipherstage_ipsec::wire::ah;
use cipherstage_packets::ipv4;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = ah::Packet::new_checked(data) {
        let _ = ah::Repr::parse(&p);
    }
    // The SA the bytes name (AH's SPI sits at 24..28 behind a 20-byte IPv4 header).
    let spi = data
        .get(24..28)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0)
        .max(0x100);
    if let Ok(mut sa) = AhSa::new(spi, &[7; 32]) {
        assert!(sa.verify(data).is_err(), "a random ICV verified");
        let _ = sa.icv(data);
    }
    if let (Ok(mut tx), Ok(mut rx)) = (AhSa::new(0x100, &[7; 32]), AhSa::new(0x100, &[7; 32])) {
        if let Ok(p) = tx.protect(data) {
            let back = rx.verify(&p.bytes).expect("verify what was protected");
            let original = ipv4::Packet::new_unchecked(data);
            assert_eq!(ipv4::Packet::new_unchecked(&back[..]).payload(), original.payload());
        }
    }
});
