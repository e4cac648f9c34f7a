//! The IKEv2 scenarios: every byte explained, the stories' outcomes, determinism.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_ike::scenario::{run, Params, Story};
use cipherstage_ike::{Encr, Group};
use cipherstage_transcript::{check_coverage, Event, Outcome, TamperAt, Transcript};

cipherstage_testkit::in_browser!();
use cipherstage_testkit::tests;

fn narrations(t: &Transcript) -> Vec<(String, Vec<(String, String)>)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Narration(n) => Some((n.key.clone(), n.args.clone())),
            _ => None,
        })
        .collect()
}

fn said(t: &Transcript, key: &str) -> Option<Vec<(String, String)>> {
    narrations(t)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, a)| a)
}

fn alerts(t: &Transcript) -> Vec<String> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Alert(a) => Some(a.key.clone()),
            _ => None,
        })
        .collect()
}

fn labels(t: &Transcript) -> Vec<&str> {
    t.messages().map(|m| m.label.as_str()).collect()
}

tests! {
    fn every_story_explains_every_byte_for_every_transform_and_group() {
        for story in Story::ALL {
            for encr in Encr::ALL {
                for group in Group::ALL {
                    for seed in 1..=2 {
                        let p = Params { encr, group, ..Params::default() };
                        let t = run(story, &p, Some(seed));
                        check_coverage(&t).unwrap_or_else(|e| panic!("{story:?} {encr:?} {group:?}: {e}"));
                        t.check_references().unwrap();
                    }
                }
            }
        }
    }

    fn the_office_server_sees_the_address_the_company_assigned() {
        let t = run(Story::RemoteAccess, &Params::default(), Some(1));
        assert_eq!(
            labels(&t),
            [
                "ike.msg.ike_sa_init_request",
                "ike.msg.ike_sa_init_response",
                "ike.msg.ike_auth_request",
                "ike.msg.ike_auth_response",
                "ike.msg.esp_tunnel",
                "ike.msg.lan_packet",
                "ike.msg.lan_reply",
                "ike.msg.esp_tunnel_back",
            ]
        );
        let src = said(&t, "ike.narr.server_sees").unwrap();
        assert_eq!(src, vec![("src".to_string(), "10.10.0.2".to_string())]);
        assert_eq!(said(&t, "ike.narr.address_assigned").unwrap()[0].1, "10.10.0.2");
        // The SYN on the LAN is the one the home PC sealed, TTL one lower.
        let lan = t.messages().find(|m| m.label == "ike.msg.lan_packet").unwrap();
        assert_eq!(lan.bytes[9], 6, "TCP");
        assert_eq!(lan.bytes[12..16], [10, 10, 0, 2]);
        assert_eq!(lan.bytes[16..20], [10, 0, 0, 20]);
        assert_eq!(lan.bytes[33] & 0x02, 0x02, "SYN");
        let esp = t.messages().nth(4).unwrap();
        assert_eq!(esp.bytes[9], 50, "ESP in the outer header");
        // Both directions of the CHILD_SA carry the handshake: the SYN-ACK comes back sealed
        // with the responder-to-initiator key and opens at the home PC.
        let passed = t.events.iter().filter(|e| matches!(e, Event::Check(c) if c.what == "ike.check.esp_icv" && c.outcome == Outcome::Passed)).count();
        assert_eq!(passed, 2);
        assert_eq!(said(&t, "ike.narr.syn_ack").unwrap()[0].1, "10.0.0.20");
    }

    fn in_nat_mode_the_server_sees_the_gateways_own_address() {
        let p = Params { gateway_nat: true, ..Params::default() };
        let t = run(Story::RemoteAccess, &p, Some(1));
        assert_eq!(said(&t, "ike.narr.server_sees").unwrap()[0].1, "10.0.0.1");
        let lan = t.messages().find(|m| m.label == "ike.msg.lan_packet").unwrap();
        // The TCP checksum was recomputed for the new source.
        let seg = &lan.bytes[20..];
        let ph = cipherstage_packets::checksum::PseudoHeader::V4 {
            src: [10, 0, 0, 1].into(),
            dst: [10, 0, 0, 20].into(),
        };
        let tp = cipherstage_packets::tcp::Packet::new_checked(seg).unwrap();
        assert!(cipherstage_packets::tcp::Repr::parse(&tp, &ph).is_ok());
        // The answer went to the gateway's address and was sent back to 10.10.0.2.
        let reply = t.messages().find(|m| m.label == "ike.msg.lan_reply").unwrap();
        assert_eq!(reply.bytes[16..20], [10, 0, 0, 1]);
        assert_eq!(said(&t, "ike.narr.syn_ack").unwrap()[0].1, "10.0.0.20");
    }

    fn site_to_site_carries_office_a_to_office_b() {
        let t = run(Story::SiteToSite, &Params::default(), Some(2));
        assert_eq!(said(&t, "ike.narr.server_sees").unwrap()[0].1, "10.1.0.10");
        assert!(said(&t, "ike.narr.address_assigned").is_none(), "no CP between gateways");
    }

    fn each_failure_ends_with_its_notify() {
        let t = run(Story::NoProposal, &Params::default(), Some(1));
        assert_eq!(labels(&t).len(), 2);
        assert!(alerts(&t).contains(&"ike.alert.no_proposal_chosen".to_string()));
        let t = run(Story::AuthFailed, &Params::default(), Some(1));
        assert_eq!(labels(&t).len(), 4);
        assert!(alerts(&t).contains(&"ike.alert.authentication_failed".to_string()));
        assert!(said(&t, "ike.narr.server_sees").is_none(), "no tunnel, nothing reaches the office");
        let t = run(Story::InvalidKe, &Params::default(), Some(1));
        assert_eq!(labels(&t).len(), 10, "refused, retried, AUTH, then the SYN and its answer");
        assert_eq!(said(&t, "ike.narr.ask_group").unwrap()[0].1, "curve25519");
        assert_eq!(said(&t, "ike.narr.server_sees").unwrap()[0].1, "10.10.0.2");
    }

    fn a_tampered_ike_auth_is_dropped_silently_and_retransmitted() {
        let p = Params { tamper: Some(TamperAt { message: 2, offset: 80 }), ..Params::default() };
        let t = run(Story::Tamper, &p, Some(1));
        let l = labels(&t);
        assert_eq!(&l[2..5], ["ike.msg.ike_auth_request", "ike.msg.ike_auth_request", "ike.msg.ike_auth_response"]);
        // One flipped bit is caught by the UDP checksum before IKE sees it (an error check
        // anyone can recompute); the request is lost, and the home PC sends it again.
        assert!(t.events.iter().any(|e| matches!(e, Event::Check(c) if c.what == "ike.check.ip_udp" && c.outcome != Outcome::Passed)));
        assert!(said(&t, "ike.narr.udp_dropped").is_some());
        assert!(said(&t, "ike.narr.retransmit").is_some());
        assert!(said(&t, "ike.narr.server_sees").is_some());
    }

    fn every_flip_of_every_message_runs_to_an_end_without_panic() {
        let base = run(Story::Tamper, &Params::default(), Some(1));
        for (mi, m) in base.messages().enumerate() {
            for off in (0..m.bytes.len()).step_by(3) {
                let p = Params { tamper: Some(TamperAt { message: mi, offset: off }), ..Params::default() };
                let t = run(Story::Tamper, &p, Some(1));
                check_coverage(&t).unwrap();
            }
        }
    }

    fn the_same_seed_gives_the_same_transcript() {
        let a = run(Story::RemoteAccess, &Params::default(), Some(3)).to_json();
        assert_eq!(a, run(Story::RemoteAccess, &Params::default(), Some(3)).to_json());
        assert_ne!(a, run(Story::RemoteAccess, &Params::default(), Some(4)).to_json());
    }
}

tests! {
    fn with_certificates_both_ends_sign_and_the_tunnel_comes_up() {
        use cipherstage_ike::scenario::AuthMode;
        for story in [Story::RemoteAccess, Story::SiteToSite] {
            let p = Params { auth: AuthMode::Cert, ..Params::default() };
            let t = run(story, &p, Some(1));
            check_coverage(&t).unwrap();
            assert!(said(&t, "ike.narr.server_sees").is_some(), "{story:?}");
            let checks: Vec<_> = t.events.iter().filter_map(|e| match e {
                Event::Check(c) if c.what == "ike.check.cert_chain" || c.what == "ike.check.auth" => Some((c.what.as_str(), c.outcome == Outcome::Passed)),
                _ => None,
            }).collect();
            assert_eq!(checks, [("ike.check.cert_chain", true), ("ike.check.auth", true), ("ike.check.cert_chain", true), ("ike.check.auth", true)]);
            // The IKE_AUTH request carries two CERT payloads, annotated down to DER, and
            // a digital-signature AUTH with the ecdsa-with-SHA256 identifier.
            let auth = t.messages().nth(2).unwrap();
            let mut names = Vec::new();
            fn walk(f: &[cipherstage_transcript::Field], out: &mut Vec<String>) {
                for x in f { out.push(x.name.clone()); walk(&x.children, out); }
            }
            walk(&auth.fields, &mut names);
            assert_eq!(names.iter().filter(|n| *n == "ike.field.payload_cert").count(), 2);
            assert!(names.iter().any(|n| n == "pki.field.certificate"));
            assert!(names.iter().any(|n| n == "ike.field.sig_alg"));
            assert!(names.iter().any(|n| n == "ike.field.signature_value"));
        }
    }
}

tests! {
    fn a_certificate_from_an_untrusted_ca_is_authentication_failed() {
        let t = run(Story::CertUntrusted, &Params::default(), Some(1));
        check_coverage(&t).unwrap();
        assert_eq!(labels(&t).len(), 4);
        assert!(t.events.iter().any(|e| matches!(e, Event::Check(c) if c.what == "ike.check.cert_chain" && c.outcome != Outcome::Passed)));
        assert!(alerts(&t).contains(&"ike.alert.authentication_failed".to_string()));
        assert!(said(&t, "ike.narr.server_sees").is_none());
    }
}
