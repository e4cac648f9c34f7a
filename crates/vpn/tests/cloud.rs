//! vpn-cloud: the application sees the connector's address; Eve sees two TLS
//! connections to the cloud and no request; every byte explained.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use cipherstage_transcript::{check_coverage, Event};
use cipherstage_vpn::cloud::{run, CloudParams, CONNECTOR_LAN};

#[test]
fn the_application_sees_the_connector_and_eve_sees_only_tls() {
    let t = run("vpn-cloud", &CloudParams::default(), Some(1));
    check_coverage(&t).unwrap();
    let narr: Vec<(String, Vec<(String, String)>)> = t
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Narration(n) => Some((n.key.clone(), n.args.clone())),
            _ => None,
        })
        .collect();
    let sees = narr
        .iter()
        .find(|(k, _)| k == "vpn.cloud.narr.app_sees")
        .map(|(_, a)| a[0].1.clone());
    assert_eq!(sees, Some(CONNECTOR_LAN.to_string()));
    assert!(narr.iter().any(|(k, _)| k == "vpn.cloud.narr.done"));
    assert!(narr
        .iter()
        .any(|(k, a)| k == "vpn.narr.laptop_reads" && a[0].1.contains("Payroll")));
    // On both Internet links only TLS records; the request is in neither as text.
    for m in t.messages().filter(|m| m.link != 1) {
        assert!(m.label.starts_with("tls.msg."), "{}", m.label);
        assert!(!m.bytes.windows(8).any(|w| w == b"/payroll"), "{}", m.label);
    }
    // The LAN packet comes from the connector.
    let lan = t.messages().find(|m| m.link == 1).unwrap();
    assert_eq!(&lan.bytes[12..16], &CONNECTOR_LAN.octets());
    assert!(!t.events.iter().any(|e| matches!(e, Event::Alert(_))));
}
