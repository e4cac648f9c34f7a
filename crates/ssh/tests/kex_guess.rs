//! RFC 4253 §7: a client may send its first key-exchange packet right after its
//! KEXINIT, guessing the algorithm (`first_kex_packet_follows`). A wrong guess is
//! ignored; a right one is used. Driven by hand against our server, packet by
//! packet, with a real X25519 key.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_ssh::kex;
use cipherstage_ssh::scenario::{demo_host_key, demo_key};
use cipherstage_ssh::server::{Algorithms, Server, ServerConfig};
use cipherstage_ssh::transport::Transport;
use cipherstage_ssh::wire::{parse_version, KexInit, Msg};
use cipherstage_transcript::rand::{fixed, Seeded};
use ring::agreement;

fn server() -> Server {
    Server::new(
        ServerConfig {
            version: "SSH-2.0-cipherstage_0.1".into(),
            host_key: demo_host_key("ssh-ed25519", "cipherstage demo host key").unwrap(),
            forge_with: None,
            authorized_keys: vec![demo_key("cipherstage demo user key").unwrap().public()],
            passwords: Vec::new(),
            hostname: "server.example".into(),
            algorithms: Algorithms::default(),
        },
        1,
    )
}

fn kexinit(kex_algs: &[&str], follows: bool) -> Msg {
    let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Msg::KexInit(Box::new(KexInit {
        cookie: [7; 16],
        kex: names(kex_algs),
        host_key: names(&["ssh-ed25519"]),
        cipher_c2s: names(&[kex::CHACHA]),
        cipher_s2c: names(&[kex::CHACHA]),
        mac_c2s: names(&["hmac-sha2-256"]),
        mac_s2c: names(&["hmac-sha2-256"]),
        comp_c2s: names(&["none"]),
        comp_s2c: names(&["none"]),
        lang_c2s: Vec::new(),
        lang_s2c: Vec::new(),
        first_kex_follows: follows,
        reserved: 0,
    }))
}

/// Sends `packets` (after our version line) to a fresh server and returns the
/// messages it answers with in the clear (until its NEWKEYS).
fn answers(packets: &[Msg]) -> Result<Vec<Msg>, cipherstage_ssh::Error> {
    let mut s = server();
    let mut rng = Seeded::new(5);
    let mut events = Vec::new();
    let mut from_server = Vec::new();
    for o in s.start(&mut rng).unwrap() {
        from_server.extend_from_slice(&o.bytes);
    }
    let mut t = Transport::default();
    let mut bytes = b"SSH-2.0-guesser_1.0\r\n".to_vec();
    for m in packets {
        bytes.extend(t.seal(m, &mut rng).unwrap().bytes);
    }
    for o in s.receive(&bytes, &mut rng, &mut events)? {
        from_server.extend_from_slice(&o.bytes);
    }
    let (_, used) = parse_version(&from_server).unwrap().unwrap();
    let mut r = Transport::default();
    r.feed(&from_server[used..]);
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.open() {
        let m = Msg::parse(&p).unwrap();
        let done = m == Msg::NewKeys;
        out.push(m);
        if done {
            break;
        }
    }
    Ok(out)
}

fn x25519_public(seed: u8) -> Vec<u8> {
    let k =
        agreement::EphemeralPrivateKey::generate(&agreement::X25519, &fixed(&[seed; 32])).unwrap();
    k.compute_public_key().unwrap().as_ref().to_vec()
}

fn labels(v: &[Msg]) -> Vec<&'static str> {
    v.iter().map(Msg::label).collect()
}

#[test]
fn a_wrong_guess_is_ignored_and_the_real_packet_answered() {
    // The client prefers a method we lack, guesses its packet, then sends the
    // real ECDH_INIT for the method both support.
    let real = x25519_public(1);
    let got = answers(&[
        kexinit(
            &["sntrup761x25519-sha512@openssh.com", kex::KEX_CURVE25519],
            true,
        ),
        Msg::KexEcdhInit {
            client_public: vec![0xaa; 1190],
        },
        Msg::KexEcdhInit {
            client_public: real.clone(),
        },
    ])
    .unwrap();
    assert_eq!(
        labels(&got),
        [
            "ssh.msg.kexinit",
            "ssh.msg.kex_ecdh_reply",
            "ssh.msg.newkeys"
        ]
    );
    // Exactly one reply: to the real packet (the guess would have failed X25519).
    let replies = got
        .iter()
        .filter(|m| matches!(m, Msg::KexEcdhReply { .. }))
        .count();
    assert_eq!(replies, 1);
}

#[test]
fn without_the_rule_the_wrong_guess_would_be_taken() {
    // The same guessed packet without first_kex_packet_follows is taken as the
    // real one: a 1190-byte X25519 value fails the key agreement.
    let got = answers(&[
        kexinit(
            &["sntrup761x25519-sha512@openssh.com", kex::KEX_CURVE25519],
            false,
        ),
        Msg::KexEcdhInit {
            client_public: vec![0xaa; 1190],
        },
    ]);
    assert_eq!(got.unwrap_err(), cipherstage_ssh::Error::KeyAgreement);
}

#[test]
fn a_right_guess_is_used() {
    // Both sides' first choices match: the guessed packet is the real one.
    let got = answers(&[
        kexinit(&[kex::KEX_CURVE25519], true),
        Msg::KexEcdhInit {
            client_public: x25519_public(2),
        },
    ])
    .unwrap();
    assert_eq!(
        labels(&got),
        [
            "ssh.msg.kexinit",
            "ssh.msg.kex_ecdh_reply",
            "ssh.msg.newkeys"
        ]
    );
}
