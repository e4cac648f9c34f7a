//! Wireshark, a real independent ESP implementation, decrypts our capture export:
//! transport and tunnel mode (and ESP in UDP through the NAT), AES-128-GCM and
//! AES-256-GCM, with the ICV reported good and every IPv4/TCP checksum valid.
//! tshark must be installed (`apt-get install tshark`); a missing tshark fails.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::process::Command;

use cipherstage_ipsec::export::Export;
use cipherstage_ipsec::{run_with_export, Algorithm, Params, Story, REPLY};
use cipherstage_transcript::hex_encode;

/// One line per frame: the requested fields, tab-separated.
fn tshark(name: &str, e: &Export) -> Vec<Vec<String>> {
    let path = std::env::temp_dir().join(format!(
        "cipherstage-ipsec-{}-{name}.pcapng",
        std::process::id()
    ));
    std::fs::write(&path, e.pcapng()).unwrap();
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(&path);
    for o in [
        "esp.enable_encryption_decode:TRUE",
        "esp.enable_authentication_check:TRUE",
        "ip.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
    ] {
        cmd.args(["-o", o]);
    }
    for sa in &e.sas {
        cmd.arg("-o").arg(format!(
            "uat:esp_sa:{}",
            sa.uat_row().expect("an AES-GCM SA")
        ));
    }
    cmd.args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]);
    for f in [
        "esp.spi",
        "esp.sequence",
        "esp.icv_good",
        "esp.icv_bad",
        "ip.checksum.status",
        "tcp.checksum.status",
        "tcp.payload",
    ] {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect(
        "tshark is required for this test (apt-get install -y tshark); it is not installed",
    );
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn assert_decrypted(name: &str, e: &Export, payload: &str, answer: &str) {
    let rows = tshark(name, e);
    let decrypted: Vec<&Vec<String>> = rows.iter().filter(|r| !r[0].is_empty()).collect();
    assert_eq!(decrypted.len(), 2, "{name}: two ESP packets: {rows:?}");
    for r in &decrypted {
        assert_eq!(r[2], "1", "{name}: ICV good: {r:?}");
        assert_eq!(r[3], "0", "{name}: ICV not bad: {r:?}");
        assert!(
            r[4].split(',').all(|s| s == "1"),
            "{name}: every IPv4 header checksum good: {r:?}"
        );
        assert_eq!(r[5], "1", "{name}: inner TCP checksum good: {r:?}");
        assert_eq!(
            r[1], "1",
            "{name}: first packet of each SA has sequence number 1"
        );
    }
    assert_eq!(
        decrypted[0][6],
        hex_encode(payload.as_bytes()),
        "{name}: request decrypted"
    );
    assert_eq!(
        decrypted[1][6],
        hex_encode(answer.as_bytes()),
        "{name}: second packet decrypted"
    );
    let spis: Vec<String> = e.sas.iter().map(|s| format!("0x{:08x}", s.spi)).collect();
    assert_eq!(
        vec![decrypted[0][0].clone(), decrypted[1][0].clone()],
        spis,
        "{name}"
    );
}

#[test]
fn tshark_decrypts_transport_tunnel_and_nat_captures_with_good_icvs() {
    for id in [Story::Transport, Story::Tunnel, Story::Nat] {
        for alg in [Algorithm::Aes128Gcm, Algorithm::Aes256Gcm] {
            let p = Params {
                algorithm: alg,
                ..Params::default()
            };
            let (_, e) = run_with_export(id, &p, Some(21));
            assert_eq!(e.sas.len(), 2);
            assert_decrypted(&format!("{id}-{}", alg.as_str()), &e, &p.payload, REPLY);
        }
    }
}

#[test]
fn tshark_decrypts_the_same_packet_in_both_modes_side_by_side() {
    for alg in [Algorithm::Aes128Gcm, Algorithm::Aes256Gcm] {
        let p = Params {
            algorithm: alg,
            ..Params::default()
        };
        let (_, e) = run_with_export(Story::Compare, &p, Some(24));
        assert_decrypted(
            &format!("compare-{}", alg.as_str()),
            &e,
            &p.payload,
            &p.payload,
        );
    }
}

#[test]
fn tshark_reassembles_fragments_at_a_small_mtu_and_still_decrypts() {
    let payload = "GET /a/rather/long/path/that/does/not/fit/in/one/small/packet HTTP/1.1";
    for id in [Story::Transport, Story::Tunnel] {
        let p = Params {
            payload: payload.into(),
            mtu: 100,
            ..Params::default()
        };
        let (t, e) = run_with_export(id, &p, Some(22));
        assert!(t.messages().any(|m| m.label == "ipsec.msg.fragment"));
        assert!(e.packets.len() > 2);
        assert_decrypted(&format!("{id}-fragments"), &e, payload, REPLY);
    }
}

#[test]
fn tshark_flags_a_tampered_packet_as_icv_bad() {
    let p = Params {
        tamper: Some(cipherstage_ipsec::TamperAt {
            message: 0,
            offset: 60,
        }),
        ..Params::default()
    };
    let (_, e) = run_with_export(Story::Tamper, &p, Some(23));
    let rows = tshark("tamper", &e);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0][2].as_str(), rows[0][3].as_str()),
        ("0", "1"),
        "{rows:?}"
    );
}
