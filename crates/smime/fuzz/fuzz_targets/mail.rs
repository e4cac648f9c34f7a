//! Whole mails: Bob's client opening an encrypted one, verifying a signed one, and
//! both field trees (exact coverage of every byte).
#![no_main]
use std::sync::OnceLock;

use cipherstage_pki::{Pki, SCENARIO_NOW};
use cipherstage_smime::{encrypted, mime, scenario, scenario_encrypted, verify, verify_as};
use cipherstage_transcript::check_fields;
use cipherstage_transcript::rand::Seeded;
use libfuzzer_sys::fuzz_target;

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| Pki::build(&mut Seeded::new(1)).expect("the test PKI builds"))
}

fuzz_target!(|data: &[u8]| {
    let p = pki();
    let roots = [p.root.der.clone()];
    let u = encrypted::open_mail(data, &p.bob_mail.der, &p.bob_mail.key.pkcs8);
    if u.ok() {
        let _ = verify_as(u.content(), Some(&u.from), &roots, SCENARIO_NOW);
    }
    let _ = verify(data, &roots, SCENARIO_NOW);
    let _ = mime::b64_decode(data);
    check_fields(&scenario_encrypted::describe(data), 0, data.len()).unwrap();
    check_fields(&scenario::describe(data), 0, data.len()).unwrap();
});
