//! Our client against our server, through every scenario (natively and in the browser).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_ssh::scenario::{narrations, Params, ScenarioKind, TamperAt};
use cipherstage_ssh::{kex, run};
use cipherstage_transcript::*;

// These tests need no peer, so they also run in the browser (wasm-bindgen-test).
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn checks(t: &Transcript) -> Vec<(usize, String, Outcome)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) => Some((c.actor, c.what.clone(), c.outcome.clone())),
            _ => None,
        })
        .collect()
}

fn alerts(t: &Transcript) -> Vec<(usize, String)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Alert(a) => Some((a.from, a.key.clone())),
            _ => None,
        })
        .collect()
}

fn labels(t: &Transcript) -> Vec<&str> {
    t.messages().map(|m| m.label.as_str()).collect()
}

fn params(kind: ScenarioKind) -> Params {
    Params {
        kind,
        ..Params::default()
    }
}

fn output_of(t: &Transcript) -> Option<String> {
    narrations(t)
        .into_iter()
        .find(|n| n.key == "ssh.narr.output")
        .map(|n| n.args[0].1.clone())
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn pubkey_login_runs_the_command_for_each_cipher() {
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let p = Params {
            cipher: cipher.into(),
            ..params(ScenarioKind::PublicKey)
        };
        let t = run("ssh-pubkey", &p, Some(7));
        check_coverage(&t).unwrap();
        assert!(alerts(&t).is_empty(), "{:?}", alerts(&t));
        assert_eq!(output_of(&t).as_deref(), Some("hello\n"));
        let l = labels(&t);
        for want in [
            "ssh.msg.version",
            "ssh.msg.kexinit",
            "ssh.msg.kex_ecdh_init",
            "ssh.msg.kex_ecdh_reply",
            "ssh.msg.newkeys",
            "ssh.msg.service_request",
            "ssh.msg.service_accept",
            "ssh.msg.userauth_request_none",
            "ssh.msg.userauth_failure",
            "ssh.msg.userauth_request_pk_query",
            "ssh.msg.userauth_pk_ok",
            "ssh.msg.userauth_request_pk_signed",
            "ssh.msg.userauth_success",
            "ssh.msg.channel_open",
            "ssh.msg.channel_open_confirmation",
            "ssh.msg.channel_request_exec",
            "ssh.msg.channel_success",
            "ssh.msg.channel_data",
            "ssh.msg.channel_request_exit_status",
            "ssh.msg.channel_eof",
            "ssh.msg.channel_close",
        ] {
            assert!(l.contains(&want), "{cipher}: missing {want} in {l:?}");
        }
        // Client and server derived the same H.
        let hs: Vec<&[u8]> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Secret(s) if s.name == "ssh.secret.exchange_hash" => Some(&s.bytes[..]),
                _ => None,
            })
            .collect();
        assert_eq!(hs.len(), 2);
        assert_eq!(hs[0], hs[1]);
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn same_seed_gives_identical_transcripts() {
    for kind in [ScenarioKind::PublicKey, ScenarioKind::Password] {
        let a = run("x", &params(kind), Some(42));
        let b = run("x", &params(kind), Some(42));
        assert_eq!(a, b);
        let c = run("x", &params(kind), Some(43));
        assert_ne!(a, c);
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn key_not_in_authorized_keys_gets_failure_listing_methods() {
    let t = run(
        "ssh-key-rejected",
        &params(ScenarioKind::KeyRejected),
        Some(1),
    );
    check_coverage(&t).unwrap();
    assert!(checks(&t).iter().any(|(a, w, o)| *a == 1
        && w == "ssh.check.authorized_keys"
        && *o == Outcome::Failed(FailReason::Untrusted)));
    assert_eq!(
        alerts(&t),
        vec![(0, "ssh.alert.no_more_auth_methods".to_owned())]
    );
    assert!(!labels(&t).contains(&"ssh.msg.userauth_pk_ok"));
    let denied = narrations(&t)
        .into_iter()
        .find(|n| n.key == "ssh.narr.permission_denied")
        .unwrap();
    assert_eq!(
        denied.args,
        vec![("methods".to_owned(), "publickey,password".to_owned())]
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn password_login_succeeds_and_wrong_password_fails() {
    let t = run("ssh-password", &params(ScenarioKind::Password), Some(1));
    check_coverage(&t).unwrap();
    assert_eq!(output_of(&t).as_deref(), Some("hello\n"));
    assert!(labels(&t).contains(&"ssh.msg.userauth_request_password"));
    let p = Params {
        password: "wrong".into(),
        ..params(ScenarioKind::Password)
    };
    let t = run("ssh-password", &p, Some(1));
    assert!(
        checks(&t)
            .iter()
            .any(|(_, w, o)| w == "ssh.check.password"
                && *o == Outcome::Failed(FailReason::Untrusted))
    );
    assert_eq!(
        alerts(&t),
        vec![(0, "ssh.alert.no_more_auth_methods".to_owned())]
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn first_connect_shows_fingerprint_and_trusts() {
    let t = run(
        "ssh-first-connect",
        &params(ScenarioKind::FirstConnect),
        Some(1),
    );
    check_coverage(&t).unwrap();
    let n = narrations(&t);
    let prompt = n.iter().find(|n| n.key == "ssh.narr.tofu_prompt").unwrap();
    let host = cipherstage_ssh::scenario::demo_key("cipherstage demo host key").unwrap();
    assert!(prompt
        .args
        .contains(&("fingerprint".into(), host.public().fingerprint())));
    assert_eq!(output_of(&t).as_deref(), Some("hello\n"));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn changed_host_key_stops_before_authentication() {
    let t = run(
        "ssh-hostkey-changed",
        &params(ScenarioKind::HostKeyChanged),
        Some(1),
    );
    check_coverage(&t).unwrap();
    assert!(checks(&t).iter().any(|(a, w, o)| *a == 0
        && w == "ssh.check.known_hosts"
        && *o == Outcome::Failed(FailReason::Untrusted)));
    assert_eq!(
        alerts(&t),
        vec![(0, "ssh.alert.host_key_changed".to_owned())]
    );
    assert!(!labels(&t).iter().any(|l| l.starts_with("ssh.msg.userauth")));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn tampered_packet_fails_the_tag_for_each_cipher() {
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let p = Params {
            cipher: cipher.into(),
            tamper: Some(TamperAt {
                message: 12,
                offset: 20,
            }),
            ..params(ScenarioKind::Tamper)
        };
        let t = run("ssh-tamper", &p, Some(1));
        check_coverage(&t).unwrap();
        let m: Vec<_> = t.messages().collect();
        assert!(m[12].tampered.is_some());
        assert!(checks(&t).iter().any(|(a, w, o)| *a == 1
            && w == "ssh.check.packet_tag"
            && *o == Outcome::Failed(FailReason::TagMismatch)));
        assert_eq!(alerts(&t), vec![(1, "ssh.alert.mac_error".to_owned())]);
    }
    // Every byte of an encrypted packet is caught; the plaintext phase relies on H.
    for message in 0..16 {
        for offset in [0usize, 5, 9, 30, 10_000] {
            let p = Params {
                tamper: Some(TamperAt { message, offset }),
                ..params(ScenarioKind::Tamper)
            };
            let t = run("ssh-tamper", &p, Some(3));
            check_coverage(&t).unwrap();
            let a = alerts(&t);
            if message >= 8 {
                // Encrypted: the receiver's tag check catches every byte.
                assert_eq!(a.len(), 1, "message {message} offset {offset}");
                if offset >= 4 {
                    assert_eq!(a[0].1, "ssh.alert.mac_error");
                }
            } else {
                // Plaintext key exchange: caught through H unless the byte is padding
                // or a version line byte that makes the line unreadable.
                assert!(a.len() <= 1);
                if a.is_empty() {
                    assert!(narrations(&t)
                        .iter()
                        .any(|n| n.key == "ssh.narr.tamper_unnoticed"));
                }
            }
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn forged_host_signature_is_rejected() {
    let t = run(
        "ssh-bad-signature",
        &params(ScenarioKind::BadSignature),
        Some(1),
    );
    check_coverage(&t).unwrap();
    assert!(checks(&t).iter().any(|(a, w, o)| *a == 0
        && w == "ssh.check.host_signature"
        && *o == Outcome::Failed(FailReason::BadSignature)));
    assert_eq!(
        alerts(&t),
        vec![(0, "ssh.alert.bad_host_signature".to_owned())]
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ecdh_nistp256_and_ecdsa_host_keys_work_in_every_host_key_story() {
    let ecdsa = |kind| Params {
        kex: kex::KEX_ECDH_P256.into(),
        host_key: cipherstage_ssh::keys::ECDSA_P256.into(),
        ..params(kind)
    };
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let p = Params {
            cipher: cipher.into(),
            ..ecdsa(ScenarioKind::PublicKey)
        };
        let t = run("ssh-pubkey", &p, Some(9));
        check_coverage(&t).unwrap();
        assert!(alerts(&t).is_empty(), "{:?}", alerts(&t));
        assert_eq!(output_of(&t).as_deref(), Some("hello\n"));
        assert_eq!(
            t,
            run("ssh-pubkey", &p, Some(9)),
            "deterministic with ECDSA nonces"
        );
        assert!(t.events.iter().any(|e| matches!(e, Event::Secret(s)
            if s.name == "ssh.secret.shared_k" && s.formula.key == "ssh.formula.ecdh_p256")));
    }
    let t = run("x", &ecdsa(ScenarioKind::BadSignature), Some(1));
    assert_eq!(
        alerts(&t),
        vec![(0, "ssh.alert.bad_host_signature".to_owned())]
    );
    let t = run("x", &ecdsa(ScenarioKind::HostKeyChanged), Some(1));
    assert_eq!(
        alerts(&t),
        vec![(0, "ssh.alert.host_key_changed".to_owned())]
    );
    let t = run("x", &ecdsa(ScenarioKind::FirstConnect), Some(1));
    assert_eq!(output_of(&t).as_deref(), Some("hello\n"));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn live_randomness_runs_the_same_story_with_different_bytes() {
    let a = run("ssh-pubkey", &params(ScenarioKind::PublicKey), None);
    let b = run("ssh-pubkey", &params(ScenarioKind::PublicKey), None);
    check_coverage(&a).unwrap();
    assert_eq!(output_of(&a).as_deref(), Some("hello\n"));
    assert_eq!(labels(&a), labels(&b));
    assert_ne!(a, b);
}

fn bastion(cipher: &str, host: &str, port: u32, seed: Option<u64>) -> Transcript {
    let p = cipherstage_ssh::bastion::BastionParams {
        cipher: cipher.into(),
        forward_host: host.into(),
        forward_port: port,
        ..Default::default()
    };
    cipherstage_ssh::bastion::run("ssh-bastion", &p, seed)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bastion_forwards_http_for_each_cipher_and_refuses_outside_targets() {
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let t = bastion(cipher, "10.0.0.5", 80, Some(4));
        check_coverage(&t).unwrap();
        assert_eq!(t, bastion(cipher, "10.0.0.5", 80, Some(4)));
        assert!(alerts(&t).is_empty(), "{:?}", alerts(&t));
        let l = labels(&t);
        let open = l
            .iter()
            .position(|x| *x == "ssh.msg.channel_open_direct_tcpip")
            .unwrap();
        assert_eq!(
            &l[open..],
            [
                "ssh.msg.channel_open_direct_tcpip",
                "ssh.msg.channel_open_confirmation",
                "ssh.msg.channel_data",
                "ssh.msg.http_request",
                "ssh.msg.http_response",
                "ssh.msg.channel_data",
                "ssh.msg.channel_eof",
                "ssh.msg.channel_close",
                "ssh.msg.channel_close",
            ]
        );
        // The answer the laptop decrypted is the web server's response, byte for byte.
        let response = t
            .messages()
            .find(|m| m.label == "ssh.msg.http_response")
            .unwrap();
        assert!(response.bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(checks(&t).contains(&(1, "ssh.check.forward_policy".into(), Outcome::Passed)));
        for (host, port, code) in [("8.8.8.8", 80, 1u32), ("10.0.0.9", 80, 2)] {
            let t = bastion(cipher, host, port, Some(4));
            check_coverage(&t).unwrap();
            let n: Vec<_> = narrations(&t).iter().map(|n| n.key.clone()).collect();
            assert!(
                n.contains(&"ssh.narr.bastion.client_refused".to_owned()),
                "{n:?}"
            );
            assert_eq!(labels(&t).last(), Some(&"ssh.msg.channel_open_failure"));
            let want = if code == 1 {
                Outcome::Failed(FailReason::Untrusted)
            } else {
                Outcome::Passed
            };
            assert!(checks(&t).contains(&(1, "ssh.check.forward_policy".into(), want)));
        }
    }
    // Live randomness: the same story with other bytes.
    let a = bastion(kex::CHACHA, "10.0.0.5", 80, None);
    assert_eq!(
        labels(&a),
        labels(&bastion(kex::CHACHA, "10.0.0.5", 80, Some(1)))
    );
}

/// Drives our client and server directly: a forwarded transfer larger than the
/// initial window goes through in max-packet chunks with window adjustments, and
/// a server without forwarding refuses as administratively prohibited.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn direct_tcpip_relays_more_than_a_window_and_can_be_disabled() {
    use cipherstage_ssh::server::ChannelEvent;
    use cipherstage_ssh::wire::DirectTcpip;
    use cipherstage_transcript::rand::Seeded;
    let target = DirectTcpip {
        host: "127.0.0.1".into(),
        port: 7,
        originator: "127.0.0.1".into(),
        originator_port: 40000,
    };
    for allow in [true, false] {
        let (mut client, mut server) =
            cipherstage_ssh::scenario::peers(&params(ScenarioKind::PublicKey)).unwrap();
        client.forward_to(target.clone());
        server.allow_forwarding(allow);
        let big: Vec<u8> = (0..2_500_000u32).map(|i| (i % 251) as u8).collect();
        let mut rng = Seeded::new(8);
        let mut events = Vec::new();
        let mut to_s: Vec<Vec<u8>> = client
            .start(&mut rng)
            .unwrap()
            .into_iter()
            .map(|o| o.bytes)
            .collect();
        to_s.extend(
            client
                .send_data(&big, &mut rng)
                .unwrap()
                .into_iter()
                .map(|o| o.bytes),
        );
        to_s.extend(
            client
                .send_eof(&mut rng)
                .unwrap()
                .into_iter()
                .map(|o| o.bytes),
        );
        let mut to_c: Vec<Vec<u8>> = server
            .start(&mut rng)
            .unwrap()
            .into_iter()
            .map(|o| o.bytes)
            .collect();
        let (mut got, mut eof, mut closed, mut data_packets) = (Vec::new(), false, false, 0);
        for _ in 0..10_000 {
            if to_s.is_empty() && to_c.is_empty() {
                break;
            }
            for b in std::mem::take(&mut to_s) {
                to_c.extend(
                    server
                        .receive(&b, &mut rng, &mut events)
                        .unwrap()
                        .into_iter()
                        .map(|o| o.bytes),
                );
                for ev in server.take_channel_events() {
                    let out = match ev {
                        ChannelEvent::ForwardRequest { channel, target: t } => {
                            assert_eq!(t, target);
                            server.accept_forward(channel, &mut rng).unwrap()
                        }
                        ChannelEvent::Data { data, .. } => {
                            data_packets += 1;
                            assert!(data.len() <= 32768);
                            got.extend(data);
                            Vec::new()
                        }
                        ChannelEvent::Eof { channel } => {
                            eof = true;
                            let mut out = server.send_data(channel, b"done", &mut rng).unwrap();
                            out.extend(server.close_channel(channel, &mut rng).unwrap());
                            out
                        }
                        ChannelEvent::Closed { .. } => {
                            closed = true;
                            Vec::new()
                        }
                        ChannelEvent::ListenRequest { .. }
                        | ChannelEvent::ListenCancel { .. }
                        | ChannelEvent::RemoteOpened { .. }
                        | ChannelEvent::RemoteRefused { .. } => panic!("no remote forwarding here"),
                    };
                    to_c.extend(out.into_iter().map(|o| o.bytes));
                }
            }
            for b in std::mem::take(&mut to_c) {
                to_s.extend(
                    client
                        .receive(&b, &mut rng, &mut events)
                        .unwrap()
                        .into_iter()
                        .map(|o| o.bytes),
                );
            }
        }
        if allow {
            assert_eq!(got.len(), big.len());
            assert!(got == big);
            assert!(data_packets >= big.len() / 32768);
            assert!(eof && closed);
            assert_eq!(client.output(), b"done");
            assert!(client.is_closed() && client.forward_refused().is_none());
        } else {
            assert!(got.is_empty());
            assert_eq!(
                client.forward_refused(),
                Some((1, "port forwarding is disabled"))
            );
            assert!(client.is_closed());
        }
    }
}
