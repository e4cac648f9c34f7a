//! Any bytes into the ESP decoders and an inbound SAD: no panic, nothing forged opens,
//! and any payload sealed then opened comes back unchanged.
#![no_main]

use cipherstage_ipsec::wire::esp::{self, Trailer};
use cipherstage_ipsec::{Algorithm, EspSa, Sad};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let spi = esp::Packet::new_unchecked(data).spi();
    if let Ok(p) = esp::Packet::new_checked(data) {
        let _ = esp::Repr::parse(&p);
        let _ = (p.spi(), p.sequence(), p.iv(), p.aad(), p.ciphertext_and_icv());
    }
    let _ = Trailer::split(data);
    // Every algorithm, under the SPI the bytes name, so the AEAD open always runs.
    let alg = Algorithm::ALL[usize::from(data.first().copied().unwrap_or(0) % 3)];
    let key = vec![0x42; alg.key_len()];
    let mut sad = Sad::new();
    if let Ok(sa) = EspSa::new(spi.max(0x100), alg, &key, [1, 2, 3, 4]) {
        sad.insert(sa);
    }
    // A random ICV verifying would be a forgery (probability 2^-128): treat it as a crash.
    assert!(sad.open(data).is_err());
    // Round trip: seal the bytes as a payload, open them again.
    if let (Ok(mut tx), Ok(mut rx)) = (
        EspSa::new(0x100, alg, &key, [1, 2, 3, 4]),
        EspSa::new(0x100, alg, &key, [1, 2, 3, 4]),
    ) {
        let next = data.last().copied().unwrap_or(4);
        let sealed = tx.seal(next, data, [9; 8]).expect("seal");
        let opened = rx.open(&sealed.bytes).expect("open what was sealed");
        assert_eq!(opened.payload, data);
        assert_eq!(opened.trailer.next_header, next);
        assert!(rx.open(&sealed.bytes).is_err(), "a replay must be refused");
    }
});
