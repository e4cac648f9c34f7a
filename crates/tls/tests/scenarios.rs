//! Every TLS scenario: the exact alert, every byte explained, same seed → same JSON.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_tls::enums::{CipherSuite, NamedGroup};
use cipherstage_tls::{run, ClientCert, Kind, Params, TamperAt};
use cipherstage_transcript::*;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use cipherstage_testkit::tests;

fn alerts(t: &Transcript) -> Vec<(usize, String)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Alert(a) => Some((a.from, a.key.clone())),
            _ => None,
        })
        .collect()
}

fn narrated(t: &Transcript, key: &str) -> bool {
    t.events
        .iter()
        .any(|e| matches!(e, Event::Narration(n) if n.key == key))
}

fn labels(t: &Transcript) -> Vec<&str> {
    t.messages().map(|m| m.label.as_str()).collect()
}

fn failed_checks(t: &Transcript) -> Vec<(usize, String)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) if c.outcome != Outcome::Passed => Some((c.actor, c.what.clone())),
            _ => None,
        })
        .collect()
}

const CLIENT: usize = 0;
const SERVER: usize = 1;

/// (kind, who raises the alert, alert key) — the alerts RFC 9846 §6.2 prescribes.
const FAILURES: &[(Kind, usize, &str)] = &[
    (Kind::SniDefault, CLIENT, "tls.alert.bad_certificate"),
    (Kind::SniUnknown, SERVER, "tls.alert.unrecognized_name"),
    (Kind::MtlsNoCert, SERVER, "tls.alert.certificate_required"),
    (Kind::MtlsUntrusted, SERVER, "tls.alert.unknown_ca"),
    (Kind::MtlsExpired, SERVER, "tls.alert.certificate_expired"),
    (
        Kind::MtlsWrongEku,
        SERVER,
        "tls.alert.unsupported_certificate",
    ),
    (Kind::MtlsBadCv, SERVER, "tls.alert.decrypt_error"),
    (Kind::SelfSigned, CLIENT, "tls.alert.unknown_ca"),
    (Kind::WrongHost, CLIENT, "tls.alert.bad_certificate"),
    (Kind::ExpiredServer, CLIENT, "tls.alert.certificate_expired"),
];

fn params_for(kind: Kind) -> Params {
    match kind {
        Kind::SniUnknown | Kind::WrongHost => Params {
            sni: "mail.example.com".into(),
            ..Params::default()
        },
        Kind::Tamper => Params {
            tamper: Some(TamperAt {
                message: 8,
                offset: 20,
            }),
            ..Params::default()
        },
        _ => Params::default(),
    }
}

const ALL: &[Kind] = &[
    Kind::Success,
    Kind::SniDefault,
    Kind::SniUnknown,
    Kind::Retry,
    Kind::Mtls,
    Kind::MtlsNoCert,
    Kind::MtlsUntrusted,
    Kind::MtlsExpired,
    Kind::MtlsWrongEku,
    Kind::MtlsBadCv,
    Kind::SelfSigned,
    Kind::WrongHost,
    Kind::ExpiredServer,
    Kind::Tamper,
];

tests! {
    fn success_with_sni_carries_http_both_ways_and_closes() {
        let t = run("tls13", Kind::Success, &Params::default(), Some(1));
        assert_eq!(check_coverage(&t), Ok(()));
        assert_eq!(alerts(&t), vec![]);
        assert_eq!(failed_checks(&t), vec![]);
        assert_eq!(
            labels(&t),
            [
                "tls.msg.client_hello",
                "tls.msg.server_hello",
                "tls.msg.encrypted_extensions",
                "tls.msg.certificate",
                "tls.msg.certificate_verify",
                "tls.msg.finished",
                "tls.msg.finished",
                "tls.msg.new_session_ticket",
                "tls.msg.application_data",
                "tls.msg.application_data",
                "tls.msg.alert",
                "tls.msg.alert",
            ]
        );
        assert!(narrated(&t, "tls.narr.sni_selected"));
        assert!(narrated(&t, "tls.narr.eve_sees_sni"));
        assert!(narrated(&t, "tls.narr.done"));
        assert!(t.events.iter().any(|e| matches!(e, Event::Narration(n)
            if n.key == "tls.narr.client_reads" && n.args[0].1.contains("Hello from www.example.com"))));
        // The SNI is readable on the wire; the HTTP request is not.
        let ch = &t.messages().next().unwrap().bytes;
        assert!(ch.windows(15).any(|w| w == b"www.example.com"));
        let req = &t.messages().nth(8).unwrap().bytes;
        assert!(!req.windows(3).any(|w| w == b"GET"));
        // Both sides derived the same traffic secrets.
        for name in ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"] {
            let of = |owner| t.events.iter().find_map(|e| match e {
                Event::Secret(s) if s.owner == owner && s.name == format!("tls.secret.{name}") => Some(s.bytes.clone()),
                _ => None,
            }).unwrap();
            assert_eq!(of(0), of(1), "{name}");
        }
    }

    fn every_failure_ends_with_the_alert_the_rfc_prescribes() {
        for (kind, who, key) in FAILURES {
            let t = run("x", *kind, &params_for(*kind), Some(2));
            assert_eq!(check_coverage(&t), Ok(()), "{kind:?}");
            assert_eq!(alerts(&t), vec![(*who, (*key).to_owned())], "{kind:?}");
            let alert_msg = t.messages().last().unwrap();
            assert_eq!(alert_msg.label, "tls.msg.alert", "{kind:?}");
            assert_eq!(alert_msg.from, *who, "{kind:?}");
            assert!(!narrated(&t, "tls.narr.server_reads"), "{kind:?}");
        }
    }

    fn the_wrong_host_shows_the_browser_warning() {
        let t = run("tls-wrong-host", Kind::WrongHost, &params_for(Kind::WrongHost), Some(3));
        assert!(narrated(&t, "tls.narr.browser_warning"));
        assert_eq!(failed_checks(&t), vec![(CLIENT, "tls.check.server_name".to_owned())]);
    }

    fn mtls_succeeds_with_a_certificate_request_and_the_client_chain() {
        let t = run("mtls", Kind::Mtls, &Params::default(), Some(4));
        assert_eq!(alerts(&t), vec![]);
        assert!(labels(&t).contains(&"tls.msg.certificate_request"));
        assert_eq!(labels(&t).iter().filter(|l| **l == "tls.msg.certificate").count(), 2);
        assert!(narrated(&t, "tls.narr.done"));
        assert_eq!(check_coverage(&t), Ok(()));
    }

    fn hello_retry_request_then_secp256r1() {
        let t = run("tls-hrr", Kind::Retry, &Params::default(), Some(5));
        assert_eq!(alerts(&t), vec![]);
        let l = labels(&t);
        assert_eq!(&l[..3], ["tls.msg.client_hello", "tls.msg.hello_retry_request", "tls.msg.client_hello"]);
        assert!(narrated(&t, "tls.narr.done"));
        assert_eq!(check_coverage(&t), Ok(()));
    }

    fn every_suite_and_group_completes() {
        for suite in [CipherSuite::Aes128GcmSha256, CipherSuite::Aes256GcmSha384, CipherSuite::Chacha20Poly1305Sha256] {
            for group in [NamedGroup::X25519, NamedGroup::Secp256r1] {
                let p = Params { suite, group, ..Params::default() };
                let t = run("tls13", Kind::Success, &p, Some(6));
                assert_eq!(alerts(&t), vec![], "{suite:?} {group:?}");
                assert!(narrated(&t, "tls.narr.done"), "{suite:?} {group:?}");
                assert_eq!(check_coverage(&t), Ok(()));
            }
        }
    }

    fn same_seed_same_json_other_seed_other_bytes() {
        for kind in ALL {
            let p = params_for(*kind);
            let a = run("x", *kind, &p, Some(7));
            let b = run("x", *kind, &p, Some(7));
            assert_eq!(a.to_json(), b.to_json(), "{kind:?}");
            let c = run("x", *kind, &p, Some(8));
            assert_ne!(a.messages().next().unwrap().bytes, c.messages().next().unwrap().bytes);
        }
    }

    fn live_runs_differ_and_succeed() {
        let a = run("tls13", Kind::Success, &Params::default(), None);
        let b = run("tls13", Kind::Success, &Params::default(), None);
        assert_ne!(a.messages().next().unwrap().bytes, b.messages().next().unwrap().bytes);
        assert!(narrated(&a, "tls.narr.done"));
    }

    fn a_flipped_byte_in_any_encrypted_record_is_bad_record_mac() {
        let clean = run("tls-tamper", Kind::Tamper, &Params::default(), Some(9));
        let msgs: Vec<Message> = clean.messages().cloned().collect();
        for (i, m) in msgs.iter().enumerate() {
            if m.bytes[0] != 0x17 || m.label == "tls.msg.alert" {
                continue;
            }
            for offset in [5, m.bytes.len() / 2, m.bytes.len() - 1] {
                let p = Params { tamper: Some(TamperAt { message: i, offset }), ..Params::default() };
                let t = run("tls-tamper", Kind::Tamper, &p, Some(9));
                let receiver = 1 - m.from;
                assert_eq!(alerts(&t), vec![(receiver, "tls.alert.bad_record_mac".to_owned())], "msg {i} offset {offset}");
                assert!(failed_checks(&t).contains(&(receiver, "tls.check.record_mac".to_owned())));
                assert_eq!(check_coverage(&t), Ok(()));
            }
        }
    }

    fn flipping_any_byte_anywhere_never_panics_and_stays_explained() {
        let clean = run("tls-tamper", Kind::Tamper, &Params::default(), Some(10));
        let lens: Vec<usize> = clean.messages().map(|m| m.bytes.len()).collect();
        for (i, len) in lens.iter().enumerate() {
            let step = (len / 40).max(1);
            for offset in (0..*len).step_by(step) {
                let p = Params { tamper: Some(TamperAt { message: i, offset }), ..Params::default() };
                let t = run("tls-tamper", Kind::Tamper, &p, Some(10));
                assert_eq!(check_coverage(&t), Ok(()), "msg {i} offset {offset}");
                // Either the handshake survives the change (a byte nobody checks, e.g. an
                // unused cipher suite entry) or it ends in fatal alerts; a changed
                // ClientHello gives the two sides different keys, so the client's alert
                // is itself unreadable to the server, which answers bad_record_mac.
                let a = alerts(&t);
                assert!(a.len() <= 2, "msg {i} offset {offset}: {a:?}");
                if a.len() == 2 {
                    assert_eq!(a[1].1, "tls.alert.bad_record_mac", "msg {i} offset {offset}: {a:?}");
                }
            }
        }
    }

    fn the_vhost_list_decides_which_names_the_server_knows() {
        let p = Params { sni: "shop.example.com".into(), vhosts: vec!["shop.example.com".into()], ..Params::default() };
        let t = run("tls13", Kind::Success, &p, Some(12));
        assert_eq!(alerts(&t), vec![]);
        assert!(t.events.iter().any(|e| matches!(e, Event::Narration(n)
            if n.key == "tls.narr.client_reads" && n.args[0].1.contains("Hello from shop.example.com"))));
        // www is no longer hosted: the default host answers and the browser refuses it.
        let p = Params { vhosts: vec!["shop.example.com".into()], ..Params::default() };
        let t = run("tls13", Kind::Success, &p, Some(12));
        assert_eq!(alerts(&t), vec![(CLIENT, "tls.alert.bad_certificate".to_owned())]);
    }

    fn the_client_certificate_choice_gives_each_mtls_outcome() {
        for (cert, alert) in [
            (ClientCert::Alice, None),
            (ClientCert::Expired, Some("tls.alert.certificate_expired")),
            (ClientCert::WrongEku, Some("tls.alert.unsupported_certificate")),
            (ClientCert::Untrusted, Some("tls.alert.unknown_ca")),
            (ClientCert::Stolen, Some("tls.alert.decrypt_error")),
            (ClientCert::None, Some("tls.alert.certificate_required")),
        ] {
            let p = Params { client_cert: cert, ..Params::default() };
            let t = run("mtls", Kind::Mtls, &p, Some(13));
            let expected: Vec<(usize, String)> = alert.map(|a| (SERVER, a.to_owned())).into_iter().collect();
            assert_eq!(alerts(&t), expected, "{cert:?}");
        }
    }
}
