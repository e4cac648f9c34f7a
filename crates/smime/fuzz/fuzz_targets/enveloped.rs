//! EnvelopedData / AuthEnvelopedData DER: the reader, Bob's whole decryption, and the
//! field tree (exact coverage of every byte).
#![no_main]
use std::sync::OnceLock;

use cipherstage_pki::Pki;
use cipherstage_smime::{annotate_env, envelope};
use cipherstage_transcript::rand::Seeded;
use cipherstage_transcript::{check_fields, FieldsBuilder};
use libfuzzer_sys::fuzz_target;

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::build(&mut Seeded::new(1)).expect("the test PKI builds"))
}

fuzz_target!(|data: &[u8]| {
    let _ = envelope::parse(data);
    let bob = &pki().bob_mail;
    let _ = envelope::open(data, &bob.der, &bob.key.pkcs8);
    let mut b = FieldsBuilder::new(5);
    annotate_env::annotate_enveloped(&mut b, data);
    check_fields(&b.finish(), 5, 5 + data.len()).unwrap();
});
