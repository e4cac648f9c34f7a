//! Certificate DER and PEM: annotation, validity, chain verification, PEM decoding.
#![no_main]
use cipherstage_pki::{der, pem, verify_chain, Usage, SCENARIO_NOW};
use cipherstage_transcript::{FieldsBuilder, Protection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut b = FieldsBuilder::new(3);
    der::annotate_certificate(&mut b, data, Protection::Plaintext);
    let f = b.finish();
    assert_eq!(f.last().map_or(3, |f| f.end), 3 + data.len());
    let _ = der::validity(data);
    let _ = verify_chain(
        &[data.to_vec()],
        &[data.to_vec()],
        SCENARIO_NOW,
        Usage::Server,
        Some("a.example"),
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pem::decode(text);
    }
});
