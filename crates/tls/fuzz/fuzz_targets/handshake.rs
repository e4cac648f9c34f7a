//! Handshake message decoding and annotation: no panic; what decodes re-encodes exactly.
#![no_main]
use cipherstage_tls::annotate;
use cipherstage_tls::msgs::Handshake;
use cipherstage_transcript::{FieldsBuilder, Protection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Handshake::decode(data) {
        let again = Handshake::decode(&m.encode()).ok();
        assert_eq!(again.as_ref(), Some(&m));
    }
    let mut b = FieldsBuilder::new(0);
    annotate::handshakes(&mut b, data, Protection::Plaintext);
    let fields = b.finish();
    assert_eq!(fields.last().map_or(0, |f| f.end), data.len());
    let _ = annotate::plaintext_record(data);
    let _ = annotate::encrypted_record(
        data,
        data.get(5..data.len().saturating_sub(16).max(5))
            .unwrap_or_default(),
    );
});
