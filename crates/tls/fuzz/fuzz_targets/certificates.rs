//! Certificate and CSR DER and PEM: annotation (exact coverage), validity, chain
//! verification, CSR proof of possession, signature links, PEM decoding.
#![no_main]
use cipherstage_pki::{der, issue, pem, verify_chain, Usage, SCENARIO_NOW};
use cipherstage_transcript::{check_fields, FieldsBuilder, Protection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kind in 0..3 {
        let mut b = FieldsBuilder::new(3);
        match kind {
            0 => der::annotate_certificate(&mut b, data, Protection::Plaintext),
            1 => der::annotate_csr(&mut b, data, Protection::Plaintext),
            _ => der::annotate_ecdsa_signature(&mut b, data, Protection::Signature),
        }
        check_fields(&b.finish(), 3, 3 + data.len()).unwrap();
    }
    let _ = der::validity(data);
    let _ = issue::read_csr(data);
    let _ = issue::verify_signed_by(data, data);
    let _ = issue::certificate_spki(data).and_then(issue::spki_key);
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
