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
