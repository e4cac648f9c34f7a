//! The vpn-openvpn story: every byte explained, what the office server sees under
//! NAT and routed forwarding, and the certificate failures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use cipherstage_transcript::{check_coverage, Event, Transcript};
use cipherstage_vpn::openvpn::scenario::{run, Forwarding, Params};
use cipherstage_vpn::LaptopCert;

fn narrations(t: &Transcript) -> Vec<(String, Vec<(String, String)>)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Narration(n) => Some((n.key.clone(), n.args.clone())),
            _ => None,
        })
        .collect()
}

fn arg(t: &Transcript, key: &str, name: &str) -> Option<String> {
    narrations(t)
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, a)| a.into_iter().find(|(n, _)| n == name).map(|(_, v)| v))
}

#[test]
fn nat_and_routed_show_the_server_different_sources() {
    for (fw, seen) in [
        (Forwarding::Nat, "10.0.0.1"),
        (Forwarding::Routed, "10.8.0.2"),
    ] {
        let p = Params {
            forwarding: fw,
            ..Params::default()
        };
        let t = run("vpn-openvpn", &p, Some(1));
        check_coverage(&t).unwrap();
        let keys: Vec<String> = narrations(&t).into_iter().map(|(k, _)| k).collect();
        for k in [
            "vpn.ovpn.narr.tls_up",
            "vpn.ovpn.narr.pushed",
            "vpn.narr.laptop_reads",
            "vpn.ovpn.narr.exit_received",
            "vpn.ovpn.narr.done",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k}: {keys:#?}");
        }
        assert_eq!(
            arg(&t, "vpn.narr.server_reads", "src").as_deref(),
            Some(seen)
        );
        assert_eq!(
            arg(&t, "vpn.ovpn.narr.pushed", "address").as_deref(),
            Some("10.8.0.2")
        );
        let labels: Vec<&str> = t.messages().map(|m| m.label.as_str()).collect();
        for l in [
            "vpn.ovpn.msg.hard_reset_client",
            "vpn.ovpn.msg.hard_reset_server",
            "tls.msg.client_hello",
            "vpn.ovpn.msg.key_method",
            "vpn.ovpn.msg.push_request",
            "vpn.ovpn.msg.push_reply",
            "vpn.ovpn.msg.data",
            "vpn.ovpn.msg.exit",
            "vpn.msg.forwarded_packet",
        ] {
            assert!(labels.contains(&l), "{l}: {labels:#?}");
        }
        // Both ends derived the same data-channel keys from the TLS exporter.
        let key2: Vec<&Vec<u8>> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Secret(s) if s.name == "vpn.ovpn.secret.key2" => Some(&s.bytes),
                _ => None,
            })
            .collect();
        assert_eq!(key2.len(), 2);
        assert_eq!(key2[0], key2[1]);
        assert_eq!(key2[0].len(), 256);
        // No check failed in a clean run.
        assert!(!t.events.iter().any(
            |e| matches!(e, Event::Check(c) if c.outcome != cipherstage_transcript::Outcome::Passed)
        ));
    }
}

#[test]
fn a_missing_or_foreign_certificate_ends_in_the_authentication_error() {
    for cert in [LaptopCert::None, LaptopCert::Untrusted] {
        let p = Params {
            cert,
            ..Params::default()
        };
        let t = run("vpn-openvpn", &p, Some(1));
        check_coverage(&t).unwrap();
        let keys: Vec<String> = narrations(&t).into_iter().map(|(k, _)| k).collect();
        assert!(keys.iter().any(|k| k == "vpn.narr.auth_error"), "{keys:#?}");
        assert!(!keys.iter().any(|k| k == "vpn.ovpn.narr.pushed"));
        assert!(t.events.iter().any(|e| matches!(e, Event::Alert(_))));
    }
}

/// tshark's OpenVPN dissector reads every packet of the Internet capture (UDP 1194)
/// without a malformed one, and with the key log decrypts the TLS handshake and
/// the control messages the control channel carries.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn tshark_reads_the_openvpn_capture_and_decrypts_its_control_channel() {
    use std::process::Command;
    let tshark = "/usr/bin/tshark";
    assert!(
        std::path::Path::new(tshark).exists(),
        "{tshark} is required (apt-get install tshark)"
    );
    let t = run("vpn-openvpn", &Params::default(), Some(1));
    let c = cipherstage_vpn::openvpn::scenario::captures(&t);
    let dir = std::env::temp_dir().join(format!("cipherstage-ovpn-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inet = dir.join("internet.pcapng");
    let keys = dir.join("keys.txt");
    std::fs::write(&inet, &c.internet).unwrap();
    std::fs::write(&keys, &c.keylog).unwrap();
    let out = Command::new(tshark)
        .args(["-r", inet.to_str().unwrap(), "-o"])
        .arg(format!("tls.keylog_file:{}", keys.display()))
        .args([
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=|",
        ])
        .args([
            "-e",
            "openvpn.type",
            "-e",
            "tls.handshake.type",
            "-e",
            "_ws.malformed",
        ])
        .args(["-e", "_ws.expert.severity"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    let internet = t.messages().filter(|m| m.link == 0).count();
    assert_eq!(rows.len(), internet, "{text}");
    // Every packet is OpenVPN (its opcode read), none malformed.
    assert!(
        rows.iter().all(|r| !r[0].is_empty() && r[2].is_empty()),
        "{text}"
    );
    // Decrypted with the key log: ClientHello (1), ServerHello (2), and the
    // encrypted EncryptedExtensions (8), Certificate (11), CertificateVerify (15),
    // Finished (20).
    let hs: Vec<&str> = rows
        .iter()
        .flat_map(|r| r[1].split(','))
        .filter(|s| !s.is_empty())
        .collect();
    for want in ["1", "2", "8", "11", "15", "20"] {
        assert!(hs.contains(&want), "handshake type {want}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
