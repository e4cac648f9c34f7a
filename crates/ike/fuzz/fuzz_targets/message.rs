//! Any datagram, to the message decoder and to an initiator and a responder at every
//! stage of an exchange: never a panic; whatever parses re-emits with every byte explained.
#![no_main]

use std::sync::OnceLock;

use cipherstage_ike::wire::{self, Header};
use cipherstage_ike::{Initiator, Responder};
use cipherstage_transcript::check_fields;
use cipherstage_transcript::rand::Seeded;
use libfuzzer_sys::fuzz_target;

mod common;

static STAGES: OnceLock<(Initiator, Initiator, Responder)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (i_init, i_auth, r_auth) = STAGES.get_or_init(common::stages);
    let mut rng = Seeded::new(2);
    if let Ok(p) = wire::parse(data, None) {
        let h = Header { ..p.header };
        let (bytes, fields) = wire::emit_plain(h, &p.payloads);
        check_fields(&fields, 0, bytes.len()).expect("a re-emitted message is explained");
        assert_eq!(wire::parse(&bytes, None).map(|q| q.payloads), Ok(p.payloads));
    }
    let _ = common::responder().receive(data, common::HOME, &mut rng);
    let _ = r_auth.clone().receive(data, common::HOME, &mut rng);
    let _ = i_init.clone().receive(data, &mut rng);
    let _ = i_auth.clone().receive(data, &mut rng);
});
