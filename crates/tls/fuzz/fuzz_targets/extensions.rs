//! Extension blocks in every context, wrapped in the message that carries them.
#![no_main]
use cipherstage_tls::msgs::Handshake;
use libfuzzer_sys::fuzz_target;

fn wrap(typ: u8, prefix: &[u8], exts: &[u8]) -> Vec<u8> {
    let mut body = prefix.to_vec();
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(exts);
    let mut m = vec![
        typ,
        (body.len() >> 16) as u8,
        (body.len() >> 8) as u8,
        body.len() as u8,
    ];
    m.extend_from_slice(&body);
    m
}

fuzz_target!(|data: &[u8]| {
    let mut ch = vec![3, 3];
    ch.extend_from_slice(&[0; 32]);
    ch.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    let mut sh = vec![3, 3];
    sh.extend_from_slice(&[1; 32]);
    sh.extend_from_slice(&[0, 0x13, 0x01, 0]);
    let mut hrr = vec![3, 3];
    hrr.extend_from_slice(&cipherstage_tls::msgs::HRR_RANDOM);
    hrr.extend_from_slice(&[0, 0x13, 0x01, 0]);
    for (typ, prefix) in [
        (1u8, ch),
        (2, sh.clone()),
        (2, hrr),
        (8, vec![]),
        (13, vec![0]),
        (4, vec![0; 9]),
    ] {
        let msg = wrap(typ, &prefix, data);
        if let Ok(m) = Handshake::decode(&msg) {
            assert_eq!(m.encode(), msg);
        }
    }
});
