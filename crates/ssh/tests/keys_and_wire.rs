//! Published vectors, key lines as users paste them, and every message's round trip.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_ssh::keys::{
    base64_decode, check_known_host, Ed25519Key, HostKeyStatus, KeyErrorKind, KnownHost, PublicKey,
};
use cipherstage_ssh::scenario::demo_key;
use cipherstage_ssh::wire::{
    self, AuthMethod, ChannelRequestKind, DirectTcpip, KexInit, Msg, Writer,
};
use cipherstage_ssh::{kex, Error};
use cipherstage_transcript::rand::{RandomSource, Seeded};
use cipherstage_transcript::{check_coverage, hex_decode, Event, Layer, Message, Transcript};

fn hex(s: &str) -> Vec<u8> {
    hex_decode(s).unwrap()
}

#[test]
fn ed25519_matches_rfc8032_tests_1_to_3() {
    let text = include_str!("../testdata/rfc8032_ed25519.txt");
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 12);
    for v in lines.chunks(4) {
        let seed: [u8; 32] = hex(v[0]).try_into().unwrap();
        let key = Ed25519Key::from_seed(seed).unwrap();
        let PublicKey::Ed25519(pk) = key.public() else {
            panic!("not ed25519")
        };
        assert_eq!(pk.to_vec(), hex(v[1]));
        let msg = hex(v[2]);
        let sig = key.sign_raw(&msg);
        assert_eq!(sig, hex(v[3]));
        // The SSH signature blob wraps it and verifies; a changed message does not.
        let blob = key.sign(&msg);
        assert!(key.public().verify(&msg, &blob));
        assert!(!key.public().verify(b"other", &blob));
    }
}

#[test]
fn x25519_matches_rfc7748_and_rfc8731_rejects_zero() {
    // RFC 7748 §6.1: Alice's private key and public key.
    use ring::agreement;
    let private = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let k = agreement::EphemeralPrivateKey::generate(
        &agreement::X25519,
        &cipherstage_transcript::rand::fixed(&private),
    )
    .unwrap();
    assert_eq!(
        k.compute_public_key().unwrap().as_ref(),
        &hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")[..]
    );
}

#[test]
fn key_derivation_extends_past_one_hash() {
    // 64 bytes for chacha20-poly1305: K1 ‖ HASH(K ‖ H ‖ K1), per RFC 4253 §7.2.
    let k = [0x11u8; 32];
    let h = [0x22u8; 32];
    let out = kex::derive(&k, &h, b'C', &h, 64);
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    c.update(&wire::codec::mpint(&k));
    c.update(&h);
    c.update(b"C");
    c.update(&h);
    let k1 = c.finish();
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    c.update(&wire::codec::mpint(&k));
    c.update(&h);
    c.update(k1.as_ref());
    assert_eq!(&out[..32], k1.as_ref());
    assert_eq!(&out[32..], c.finish().as_ref());
}

#[test]
fn openssh_lines_round_trip_and_known_hosts_decide() {
    let k = demo_key("cipherstage demo user key").unwrap().public();
    let line = k.to_openssh("alice@laptop");
    assert!(line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
    let (back, comment) = PublicKey::parse_openssh(&format!("  {line}\r\n")).unwrap();
    assert_eq!(back, k);
    assert_eq!(comment, "alice@laptop");
    let kh = KnownHost::parse(&format!("server.example,10.0.0.1 {}", k.to_openssh(""))).unwrap();
    assert_eq!(kh.hosts, vec!["server.example", "10.0.0.1"]);
    let entries = [kh];
    assert_eq!(
        check_known_host(&entries, "10.0.0.1", &k),
        HostKeyStatus::Known
    );
    assert_eq!(
        check_known_host(&entries, "other", &k),
        HostKeyStatus::Unknown
    );
    let other = demo_key("x").unwrap().public();
    assert_eq!(
        check_known_host(&entries, "server.example", &other),
        HostKeyStatus::Changed { expected: k }
    );
}

#[test]
fn malformed_pasted_keys_give_typed_errors_with_offsets() {
    let good = demo_key("cipherstage demo user key")
        .unwrap()
        .public()
        .to_openssh("c");
    let data = good.split(' ').nth(1).unwrap().to_owned();
    let cases: Vec<(String, KeyErrorKind, usize)> = vec![
        ("".into(), KeyErrorKind::Empty, 0),
        ("   ".into(), KeyErrorKind::Empty, 0),
        ("ssh-dss AAAA".into(), KeyErrorKind::UnknownKeyType, 0),
        ("ssh-ed25519".into(), KeyErrorKind::MissingKeyData, 11),
        (
            format!("ssh-ed25519 {}!{}", &data[..10], &data[10..]),
            KeyErrorKind::BadBase64,
            22,
        ),
        (
            format!("ssh-ed25519 {}", &data[..40]),
            KeyErrorKind::BadBlob(wire::DecodeErrorKind::Truncated),
            12,
        ),
        // A valid base64 of an RSA-typed blob under an ed25519 name.
        (
            "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB".into(),
            KeyErrorKind::TypeMismatch,
            12,
        ),
    ];
    for (line, kind, offset) in cases {
        let e = PublicKey::parse_openssh(&line).unwrap_err();
        assert_eq!((e.kind, e.offset), (kind, offset), "{line:?}");
        assert!(e.key().starts_with("ssh.keyerr."));
    }
    // Wrong key length inside an otherwise valid blob.
    let mut blob = Vec::new();
    blob.extend_from_slice(&11u32.to_be_bytes());
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&31u32.to_be_bytes());
    blob.extend_from_slice(&[7u8; 31]);
    assert_eq!(
        PublicKey::from_blob(&blob).unwrap_err().kind,
        KeyErrorKind::BadKeyLength
    );
    // Any byte soup: never a panic.
    let mut rng = Seeded::new(1);
    for _ in 0..20_000 {
        let mut b = [0u8; 48];
        rng.fill(&mut b).unwrap();
        let s = String::from_utf8_lossy(&b);
        let _ = PublicKey::parse_openssh(&format!("ssh-ed25519 {s}"));
        let _ = KnownHost::parse(&s);
        let _ = base64_decode(&s);
        let _ = PublicKey::from_blob(&b);
    }
}

fn samples() -> Vec<Msg> {
    let blob = demo_key("k").unwrap().public().blob();
    let sig = demo_key("k").unwrap().sign(b"m");
    vec![
        Msg::Disconnect {
            reason: 2,
            description: "bye".into(),
            language: String::new(),
        },
        Msg::Ignore {
            data: vec![1, 2, 3],
        },
        Msg::Unimplemented { sequence: 9 },
        Msg::ServiceRequest {
            service: "ssh-userauth".into(),
        },
        Msg::ServiceAccept {
            service: "ssh-userauth".into(),
        },
        Msg::KexInit(Box::new(KexInit {
            cookie: [9; 16],
            kex: vec![kex::KEX_CURVE25519.into(), kex::STRICT_CLIENT.into()],
            host_key: vec!["ssh-ed25519".into()],
            cipher_c2s: vec![kex::CHACHA.into()],
            cipher_s2c: vec![kex::AES256_GCM.into()],
            mac_c2s: vec![kex::HMAC_SHA256.into()],
            mac_s2c: vec![kex::HMAC_SHA256.into()],
            comp_c2s: vec!["none".into()],
            comp_s2c: vec!["none".into()],
            lang_c2s: vec![],
            lang_s2c: vec![],
            first_kex_follows: false,
            reserved: 0,
        })),
        Msg::NewKeys,
        Msg::KexEcdhInit {
            client_public: vec![5; 32],
        },
        Msg::KexEcdhReply {
            host_key: blob.clone(),
            server_public: vec![6; 32],
            signature: sig.clone(),
        },
        Msg::UserauthRequest {
            user: "alice".into(),
            service: "ssh-connection".into(),
            method: AuthMethod::None,
        },
        Msg::UserauthRequest {
            user: "alice".into(),
            service: "ssh-connection".into(),
            method: AuthMethod::PublicKey {
                algorithm: "ssh-ed25519".into(),
                key: blob.clone(),
                signature: None,
            },
        },
        Msg::UserauthRequest {
            user: "alice".into(),
            service: "ssh-connection".into(),
            method: AuthMethod::PublicKey {
                algorithm: "ssh-ed25519".into(),
                key: blob.clone(),
                signature: Some(sig),
            },
        },
        Msg::UserauthRequest {
            user: "alice".into(),
            service: "ssh-connection".into(),
            method: AuthMethod::Password {
                password: "pw".into(),
            },
        },
        Msg::UserauthRequest {
            user: "alice".into(),
            service: "ssh-connection".into(),
            method: AuthMethod::Other {
                name: "keyboard-interactive".into(),
                rest: vec![0, 0, 0, 0, 0, 0, 0, 0],
            },
        },
        Msg::UserauthFailure {
            methods: vec!["publickey".into(), "password".into()],
            partial: false,
        },
        Msg::UserauthSuccess,
        Msg::UserauthBanner {
            message: "hi".into(),
            language: String::new(),
        },
        Msg::UserauthPkOk {
            algorithm: "ssh-ed25519".into(),
            key: blob,
        },
        Msg::GlobalRequest {
            name: "hostkeys-00@openssh.com".into(),
            want_reply: false,
            rest: vec![1],
        },
        Msg::RequestFailure,
        Msg::RequestSuccess {
            rest: vec![0, 0, 0x1f, 0x90],
        },
        Msg::ExtInfo {
            extensions: vec![
                (
                    "server-sig-algs".into(),
                    b"ssh-ed25519,ecdsa-sha2-nistp256".to_vec(),
                ),
                ("ping@openssh.com".into(), b"0".to_vec()),
            ],
        },
        Msg::ChannelOpen {
            kind: "session".into(),
            sender: 0,
            window: 2097152,
            max_packet: 32768,
            rest: Vec::new(),
        },
        Msg::ChannelOpen {
            kind: "x11".into(),
            sender: 3,
            window: 2097152,
            max_packet: 32768,
            rest: vec![
                0, 0, 0, 9, b'1', b'2', b'7', b'.', b'0', b'.', b'0', b'.', b'1', 0, 0, 0x17, 0x70,
            ],
        },
        Msg::ChannelOpenForwardedTcpip {
            sender: 4,
            window: 2097152,
            max_packet: 32768,
            target: DirectTcpip {
                host: "localhost".into(),
                port: 8080,
                originator: "203.0.113.9".into(),
                originator_port: 51234,
            },
        },
        Msg::ChannelOpenDirectTcpip {
            sender: 0,
            window: 2097152,
            max_packet: 32768,
            target: DirectTcpip {
                host: "10.0.0.5".into(),
                port: 80,
                originator: "127.0.0.1".into(),
                originator_port: 53412,
            },
        },
        Msg::ChannelOpenConfirmation {
            recipient: 0,
            sender: 1,
            window: 2,
            max_packet: 3,
        },
        Msg::ChannelOpenFailure {
            recipient: 0,
            reason: 1,
            description: "no".into(),
            language: String::new(),
        },
        Msg::ChannelWindowAdjust {
            recipient: 0,
            bytes: 100,
        },
        Msg::ChannelData {
            recipient: 0,
            data: b"hello\n".to_vec(),
        },
        Msg::ChannelData {
            recipient: 0,
            data: vec![0xff, 0xfe],
        },
        Msg::ChannelExtendedData {
            recipient: 0,
            code: 1,
            data: b"err".to_vec(),
        },
        Msg::ChannelEof { recipient: 0 },
        Msg::ChannelClose { recipient: 0 },
        Msg::ChannelRequest {
            recipient: 0,
            want_reply: true,
            kind: ChannelRequestKind::Exec {
                command: "echo hello".into(),
            },
        },
        Msg::ChannelRequest {
            recipient: 0,
            want_reply: false,
            kind: ChannelRequestKind::ExitStatus { status: 0 },
        },
        Msg::ChannelRequest {
            recipient: 0,
            want_reply: true,
            kind: ChannelRequestKind::Subsystem {
                name: "sftp".into(),
            },
        },
        Msg::ChannelRequest {
            recipient: 0,
            want_reply: false,
            kind: ChannelRequestKind::Other {
                name: "eow@openssh.com".into(),
                rest: vec![],
            },
        },
        Msg::ChannelSuccess { recipient: 0 },
        Msg::ChannelFailure { recipient: 0 },
        Msg::Unknown {
            number: 0xc0,
            body: vec![1, 2],
        },
    ]
}

fn as_transcript(
    bytes: Vec<u8>,
    fields: Vec<cipherstage_transcript::Field>,
    label: &str,
) -> Transcript {
    Transcript {
        scenario: "wire".into(),
        seed: None,
        actors: vec![],
        links: vec![],
        events: vec![Event::Message(Message {
            from: 0,
            to: 1,
            link: 0,
            protocol: "ssh".into(),
            layer: Layer::Application,
            label: label.into(),
            bytes,
            fields,
            tampered: None,
        })],
    }
}

#[test]
fn every_message_round_trips_and_is_fully_explained() {
    for m in samples() {
        let mut w = Writer::new();
        m.emit(&mut w);
        let (bytes, fields) = w.finish();
        assert_eq!(Msg::parse(&bytes).unwrap(), m);
        check_coverage(&as_transcript(bytes.clone(), fields, m.label())).unwrap();
        // Trailing bytes are rejected; every truncation is a typed error, never a panic.
        let mut long = bytes.clone();
        long.push(0);
        if !matches!(
            m,
            Msg::Unknown { .. }
                | Msg::GlobalRequest { .. }
                | Msg::RequestSuccess { .. }
                | Msg::ChannelOpen { .. }
        ) && !matches!(
            &m,
            Msg::UserauthRequest {
                method: AuthMethod::Other { .. },
                ..
            }
        ) && !matches!(
            &m,
            Msg::ChannelRequest {
                kind: ChannelRequestKind::Other { .. },
                ..
            }
        ) {
            let e = Msg::parse(&long).unwrap_err();
            assert_eq!(e.kind, wire::DecodeErrorKind::TrailingBytes, "{m:?}");
            assert_eq!(e.offset, bytes.len());
        }
        for cut in 0..bytes.len() {
            let _ = Msg::parse(&bytes[..cut]);
        }
    }
}

#[test]
fn sealed_packets_are_fully_explained_and_open_again() {
    use cipherstage_ssh::transport::{DirectionKeys, Transport};
    for cipher in [kex::Cipher::ChaCha20Poly1305, kex::Cipher::Aes256Gcm] {
        let keys = DirectionKeys {
            cipher,
            key: vec![3; cipher.key_len()],
            iv: vec![4; cipher.iv_len()],
        };
        let (mut a, mut b) = (Transport::default(), Transport::default());
        let mut rng = Seeded::new(2);
        for plain in [false, true] {
            if plain {
                a.rekey_send(&keys, true).unwrap();
                b.rekey_recv(&keys, true).unwrap();
            }
            for m in samples() {
                let o = a.seal(&m, &mut rng).unwrap();
                check_coverage(&as_transcript(o.bytes.clone(), o.fields.clone(), o.label)).unwrap();
                b.feed(&o.bytes);
                assert_eq!(Msg::parse(&b.open().unwrap().unwrap()).unwrap(), m);
                if plain {
                    // One flipped bit near the end (ciphertext or tag): the tag check fails.
                    let mut s2 = Transport::default();
                    s2.rekey_send(&keys, true).unwrap();
                    let mut bad = s2.seal(&m, &mut rng).unwrap().bytes;
                    let i = bad.len() - 3;
                    bad[i] ^= 0x80;
                    let mut c = Transport::default();
                    c.rekey_recv(&keys, true).unwrap();
                    c.feed(&bad);
                    assert_eq!(c.open(), Err(Error::Mac));
                }
            }
        }
        // Random bytes into an encrypted receiver: errors or waits, never panics.
        for _ in 0..2000 {
            let mut t = Transport::default();
            t.rekey_recv(&keys, false).unwrap();
            let mut junk = [0u8; 64];
            rng.fill(&mut junk).unwrap();
            t.feed(&junk);
            let _ = t.open();
        }
    }
}

#[test]
fn random_payloads_never_panic_the_decoders() {
    let mut rng = Seeded::new(3);
    for i in 0..100_000u32 {
        let mut b = vec![0u8; (i % 97) as usize];
        rng.fill(&mut b).unwrap();
        // Bias the first byte to real message numbers so field decoders are reached.
        if let Some(first) = b.first_mut() {
            *first = [
                1u8, 2, 5, 6, 20, 21, 30, 31, 50, 51, 52, 60, 80, 90, 91, 94, 98, 99,
            ][(i % 18) as usize];
        }
        let _ = Msg::parse(&b);
        let _ = wire::parse_version(&b);
    }
}

fn catalogue_keys(lang: &str) -> std::collections::BTreeSet<String> {
    let dir = format!("{}/../app/i18n/{lang}", env!("CARGO_MANIFEST_DIR"));
    let mut out = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                if let Some((k, _)) = line.split_once(" = ") {
                    out.insert(k.trim().to_owned());
                }
            }
        }
    }
    out
}

#[test]
fn every_message_field_key_has_english_and_japanese_text() {
    let (en, ja) = (catalogue_keys("en"), catalogue_keys("ja"));
    let keys = cipherstage_ssh::transport::DirectionKeys {
        cipher: kex::Cipher::Aes256Gcm,
        key: vec![1; 32],
        iv: vec![2; 12],
    };
    let chacha = cipherstage_ssh::transport::DirectionKeys {
        cipher: kex::Cipher::ChaCha20Poly1305,
        key: vec![1; 64],
        iv: vec![],
    };
    let mut rng = Seeded::new(1);
    let mut plain = cipherstage_ssh::transport::Transport::default();
    let mut gcm = cipherstage_ssh::transport::Transport::default();
    gcm.rekey_send(&keys, false).unwrap();
    let mut cc = cipherstage_ssh::transport::Transport::default();
    cc.rekey_send(&chacha, false).unwrap();
    let mut transcripts = Vec::new();
    for m in samples() {
        for t in [&mut plain, &mut gcm, &mut cc] {
            let o = t.seal(&m, &mut rng).unwrap();
            transcripts.push(as_transcript(o.bytes, o.fields, o.label));
        }
    }
    let (bytes, fields) = wire::version_line("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10");
    transcripts.push(as_transcript(bytes, fields, "ssh.msg.version"));
    let mut missing = Vec::new();
    for t in &transcripts {
        check_coverage(t).unwrap();
        for k in t.text_keys() {
            if !en.contains(k) || !ja.contains(k) {
                missing.push(k.to_owned());
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "{missing:?}");
}

/// OpenSSH 9.2p1's version line and KEXINIT packet, as sshd sent them.
fn openssh_hello() -> (Vec<u8>, Vec<u8>) {
    let text = include_str!("../testdata/openssh_9.2p1_server_hello.hex");
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    (hex(lines.next().unwrap()), hex(lines.next().unwrap()))
}

#[test]
fn openssh_version_line_parses_and_is_explained() {
    let (version, _) = openssh_hello();
    let (line, used) = wire::parse_version(&version).unwrap().unwrap();
    assert_eq!(line, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10");
    assert_eq!(used, version.len());
    let (bytes, fields) = wire::version_line(&line);
    assert_eq!(bytes, version);
    check_coverage(&as_transcript(bytes, fields, "ssh.msg.version")).unwrap();
    // Incomplete: wait for more; not SSH-2.0: refused with the line's offset.
    assert_eq!(wire::parse_version(&version[..10]).unwrap(), None);
    let e = wire::parse_version(b"hello\r\nSSH-1.5-old\r\n").unwrap_err();
    assert_eq!(e.offset, 7);
}

#[test]
fn openssh_kexinit_packet_parses_and_re_emits_byte_for_byte() {
    let (_, packet) = openssh_hello();
    let mut t = cipherstage_ssh::transport::Transport::default();
    t.feed(&packet[..packet.len() - 1]);
    assert_eq!(t.open().unwrap(), None, "a partial packet waits");
    t.feed(&packet[packet.len() - 1..]);
    let payload = t.open().unwrap().unwrap();
    let Msg::KexInit(k) = Msg::parse(&payload).unwrap() else {
        panic!("not KEXINIT")
    };
    assert!(k.kex.iter().any(|n| n == kex::KEX_CURVE25519));
    assert!(k.kex.iter().any(|n| n == kex::STRICT_SERVER));
    assert!(k.host_key.iter().any(|n| n == "ssh-ed25519"));
    // The capture's sshd_config said `Ciphers chacha20-poly1305@openssh.com`.
    assert_eq!(k.cipher_c2s, vec![kex::CHACHA.to_owned()]);
    assert_eq!(k.cipher_s2c, vec![kex::CHACHA.to_owned()]);
    assert!(!k.first_kex_follows);
    assert_eq!(Msg::KexInit(k.clone()).to_bytes(), payload);
    // Negotiating against our client's offer picks what the scenario narrates.
    let ours = KexInit {
        cookie: [0; 16],
        kex: vec![kex::KEX_CURVE25519.into(), kex::STRICT_CLIENT.into()],
        host_key: vec!["ssh-ed25519".into()],
        cipher_c2s: vec![kex::AES256_GCM.into(), kex::CHACHA.into()],
        cipher_s2c: vec![kex::CHACHA.into()],
        mac_c2s: vec![],
        mac_s2c: vec![],
        comp_c2s: vec!["none".into()],
        comp_s2c: vec!["none".into()],
        lang_c2s: vec![],
        lang_s2c: vec![],
        first_kex_follows: false,
        reserved: 0,
    };
    let n = kex::negotiate(&ours, &k).unwrap();
    assert!(n.strict);
    assert_eq!(n.kex.name, kex::KEX_CURVE25519);
    assert_eq!(n.kex.why, kex::Why::ClientFirstChoice);
    // The server lacks our first cipher choice: the first common one wins.
    assert_eq!(n.cipher_c2s.name, kex::CHACHA);
    assert_eq!(n.cipher_c2s.why, kex::Why::FirstCommon { skipped: 1 });
    assert_eq!(n.cipher_s2c.why, kex::Why::ClientFirstChoice);
    // Nothing in common: a typed error naming the category.
    let mut none = ours.clone();
    none.cipher_c2s = vec![kex::AES256_GCM.into()];
    assert_eq!(kex::negotiate(&none, &k), Err(kex::NoCommon("cipher_c2s")));
    // Every truncation of the payload is a typed error.
    for cut in 0..payload.len() {
        assert!(Msg::parse(&payload[..cut]).is_err());
    }
}

#[test]
fn ecdsa_p256_keys_sign_verify_and_round_trip() {
    use cipherstage_ssh::keys::{HostKey, ECDSA_P256};
    use cipherstage_ssh::scenario::demo_host_key;
    let k = demo_host_key(ECDSA_P256, "cipherstage demo host key").unwrap();
    let public = k.public();
    let PublicKey::EcdsaP256(q) = &public else {
        panic!("not ecdsa")
    };
    assert_eq!((q.len(), q[0]), (65, 0x04));
    assert_eq!(PublicKey::from_blob(&public.blob()).unwrap(), public);
    let line = public.to_openssh("h");
    assert!(line
        .starts_with("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABB"));
    assert_eq!(PublicKey::parse_openssh(&line).unwrap().0, public);
    let mut rng = Seeded::new(4);
    let sig = k.sign(b"exchange hash", &mut rng).unwrap();
    assert!(public.verify(b"exchange hash", &sig));
    assert!(!public.verify(b"other", &sig));
    // An Ed25519 signature never verifies under an ECDSA key, nor the reverse.
    let ed = demo_key("k").unwrap();
    assert!(!public.verify(b"m", &ed.sign(b"m")));
    assert!(!ed.public().verify(b"exchange hash", &sig));
    // A type name that disagrees with the blob inside.
    let wrong = format!("ssh-ed25519 {}", line.split(' ').nth(1).unwrap());
    assert_eq!(
        PublicKey::parse_openssh(&wrong).unwrap_err().kind,
        KeyErrorKind::TypeMismatch
    );
    // The KEX_ECDH_REPLY carrying them is fully explained, down to r and s.
    let m = Msg::KexEcdhReply {
        host_key: public.blob(),
        server_public: q.clone(),
        signature: sig,
    };
    let mut w = Writer::new();
    m.emit(&mut w);
    let (bytes, fields) = w.finish();
    let t = as_transcript(bytes, fields, m.label());
    check_coverage(&t).unwrap();
    let keys = t.text_keys();
    assert!(keys.contains(&"ssh.field.ec_point") && keys.contains(&"ssh.field.ecdsa_s"));
    let _ = HostKey::Ed25519(demo_key("k").unwrap()).public();
}

#[test]
fn direct_tcpip_open_is_rfc4254_7_2_byte_for_byte() {
    let m = Msg::ChannelOpenDirectTcpip {
        sender: 7,
        window: 0x0020_0000,
        max_packet: 0x8000,
        target: DirectTcpip {
            host: "10.0.0.5".into(),
            port: 80,
            originator: "127.0.0.1".into(),
            originator_port: 53412,
        },
    };
    let mut want = vec![90u8];
    want.extend_from_slice(&12u32.to_be_bytes());
    want.extend_from_slice(b"direct-tcpip");
    want.extend_from_slice(&7u32.to_be_bytes());
    want.extend_from_slice(&0x0020_0000u32.to_be_bytes());
    want.extend_from_slice(&0x8000u32.to_be_bytes());
    want.extend_from_slice(&8u32.to_be_bytes());
    want.extend_from_slice(b"10.0.0.5");
    want.extend_from_slice(&80u32.to_be_bytes());
    want.extend_from_slice(&9u32.to_be_bytes());
    want.extend_from_slice(b"127.0.0.1");
    want.extend_from_slice(&53412u32.to_be_bytes());
    assert_eq!(m.to_bytes(), want);
    assert_eq!(m.label(), "ssh.msg.channel_open_direct_tcpip");
    let mut w = Writer::new();
    m.emit(&mut w);
    let (_, fields) = w.finish();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    for n in [
        "ssh.field.host_to_connect",
        "ssh.field.port_to_connect",
        "ssh.field.originator_address",
        "ssh.field.originator_port",
    ] {
        assert!(names.contains(&n), "{names:?}");
    }
    // A session open stays a plain CHANNEL_OPEN; a direct-tcpip open without its
    // four fields is a typed error.
    let session = Msg::ChannelOpen {
        kind: "session".into(),
        sender: 0,
        window: 1,
        max_packet: 2,
        rest: Vec::new(),
    };
    assert_eq!(Msg::parse(&session.to_bytes()).unwrap(), session);
    let mut short = want[..want.len() - 4].to_vec();
    assert!(Msg::parse(&short).is_err());
    short.truncate(1 + 4 + 12 + 12);
    assert!(Msg::parse(&short).is_err());
}
