//! The tunnel end to end: packets cross it, the certificate gate holds, the policy
//! drops what it must. Runs natively and in headless Chromium.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use cipherstage_packets::Ipv4Addr;
use cipherstage_transcript::{check_coverage, Event, Outcome, Transcript};
use cipherstage_vpn::*;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const GATEWAY: usize = 1;
fn checks(t: &Transcript) -> Vec<(String, bool)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) => Some((c.what.clone(), c.outcome == Outcome::Passed)),
            _ => None,
        })
        .collect()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_packet_crosses_the_tunnel_and_the_answer_comes_back() {
    let t = run("vpn-tls", &Params::default(), Some(1));
    assert_eq!(check_coverage(&t), Ok(()));
    assert_eq!(
        t,
        run("vpn-tls", &Params::default(), Some(1)),
        "deterministic"
    );
    let labels: Vec<&str> = t.messages().map(|m| m.label.as_str()).collect();
    assert!(labels.contains(&"vpn.msg.tunneled_packet"), "{labels:?}");
    // The packet the office server gets is the one the laptop built, one hop older.
    let lan: Vec<_> = t.messages().filter(|m| m.link == 1).collect();
    assert_eq!(lan.len(), 2);
    let (src, dst, data) = read_packet(&lan[0].bytes).unwrap();
    assert_eq!((src, dst), (POOL_ADDRESS, Params::default().target));
    assert!(String::from_utf8_lossy(&data).starts_with("GET /payroll HTTP/1.1"));
    assert!(checks(&t).iter().all(|(_, ok)| *ok), "{:?}", checks(&t));
    let done = t
        .events
        .iter()
        .any(|e| matches!(e, Event::Narration(n) if n.key == "vpn.narr.laptop_reads"));
    assert!(done);
    // On the Internet link every application-data record is encrypted.
    for m in t
        .messages()
        .filter(|m| m.label == "vpn.msg.tunneled_packet")
    {
        assert_eq!(m.link, 0);
        assert!(m.bytes.len() > lan[0].bytes.len());
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn without_a_certificate_the_gateway_refuses() {
    for (cert, alert) in [
        (LaptopCert::None, "tls.alert.certificate_required"),
        (LaptopCert::Untrusted, "tls.alert.unknown_ca"),
    ] {
        let p = Params {
            cert,
            ..Params::default()
        };
        let t = run("vpn-tls", &p, Some(2));
        assert_eq!(check_coverage(&t), Ok(()));
        let alerts: Vec<&str> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Alert(a) if a.from == GATEWAY => Some(a.key.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(alerts, [alert], "{cert:?}");
        assert!(t
            .events
            .iter()
            .any(|e| matches!(e, Event::Narration(n) if n.key == "vpn.narr.auth_error")));
        assert_eq!(t.messages().filter(|m| m.link == 1).count(), 0);
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_gateway_drops_packets_outside_the_office_net() {
    let p = Params {
        target: Ipv4Addr::new(192, 168, 1, 10),
        ..Params::default()
    };
    let t = run("vpn-tls", &p, Some(3));
    assert_eq!(check_coverage(&t), Ok(()));
    assert!(checks(&t).contains(&("vpn.check.policy".to_owned(), false)));
    assert_eq!(t.messages().filter(|m| m.link == 1).count(), 0);
    assert!(in_office_net(Ipv4Addr::new(10, 0, 0, 255)));
    assert!(!in_office_net(Ipv4Addr::new(10, 0, 1, 0)));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_byte_flipped_in_the_tunnel_never_reaches_the_office() {
    let base = run("vpn-tls", &Params::default(), Some(4));
    let n = base
        .messages()
        .position(|m| m.label == "vpn.msg.tunneled_packet")
        .unwrap();
    let p = Params {
        tamper: Some(cipherstage_transcript::TamperAt {
            message: n,
            offset: 30,
        }),
        ..Params::default()
    };
    let t = run("vpn-tls", &p, Some(4));
    assert_eq!(check_coverage(&t), Ok(()));
    let alerts: Vec<&str> = t
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Alert(a) => Some(a.key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(alerts, ["tls.alert.bad_record_mac"]);
    assert_eq!(t.messages().filter(|m| m.link == 1).count(), 0);
    // A message on the office LAN is out of Eve's reach: nothing changes.
    let lan = base.messages().position(|m| m.link == 1).unwrap();
    let p = Params {
        tamper: Some(cipherstage_transcript::TamperAt {
            message: lan,
            offset: 0,
        }),
        ..Params::default()
    };
    assert_eq!(run("vpn-tls", &p, Some(4)), base);
}
