//! What both targets share: a configured initiator and responder, and the states of
//! a real exchange to feed bytes to.
#![allow(dead_code)]

use cipherstage_ike::{
    Addr, Encr, Group, Identity, Initiator, InitiatorConfig, Responder, ResponderConfig,
    Selector,
};
use cipherstage_transcript::rand::Seeded;

pub const HOME: Addr = Addr { ip: [198, 51, 100, 7], port: 500 };
pub const GATEWAY: Addr = Addr { ip: [203, 0, 113, 1], port: 500 };

pub fn initiator() -> Initiator {
    Initiator::new(InitiatorConfig {
        encrs: vec![Encr::AesGcm256, Encr::AesGcm128, Encr::ChaCha20Poly1305],
        groups: vec![Group::Curve25519, Group::Ecp256],
        child_encrs: vec![Encr::AesGcm256],
        id: Identity::fqdn("home.example.com"),
        peer_id: Some(Identity::fqdn("vpn.example.com")),
        psk: b"psk".to_vec(),
        cert: None,
        trust: None,
        request_address: true,
        tsi: Selector::ANY,
        tsr: Selector::ANY,
        local: HOME,
        remote: GATEWAY,
    })
}

pub fn responder() -> Responder {
    Responder::new(ResponderConfig {
        encrs: Encr::ALL.to_vec(),
        groups: Group::ALL.to_vec(),
        child_encrs: Encr::ALL.to_vec(),
        id: Identity::fqdn("vpn.example.com"),
        peer_id: None,
        psk: b"psk".to_vec(),
        cert: None,
        trust: None,
        pool: Some(([10, 10, 0, 2], None)),
        local_ts: Selector::subnet([10, 0, 0, 0], 24),
        remote_ts: Selector::ANY,
        local: GATEWAY,
    })
}

/// (initiator waiting for IKE_SA_INIT's answer, initiator waiting for IKE_AUTH's,
/// responder waiting for IKE_AUTH), from one real exchange.
pub fn stages() -> (Initiator, Initiator, Responder) {
    let mut rng = Seeded::new(1);
    let mut i = initiator();
    let mut r = responder();
    i.start(&mut rng).unwrap();
    let init = i.take_outgoing().remove(0);
    let i_init = i.clone();
    r.receive(&init.bytes, HOME, &mut rng).unwrap();
    let resp = r.take_outgoing().remove(0);
    let r_auth = r.clone();
    i.receive(&resp.bytes, &mut rng).unwrap();
    (i_init, i, r_auth)
}
