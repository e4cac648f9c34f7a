//! tshark 4.0 reads our captures: it decrypts IKE_AUTH with the IKE SA's keys from our
//! `ikev2_decryption_table` row and the ESP packet with our `esp_sa` rows, and finds what
//! we sent inside. A missing tshark fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use cipherstage_ike::scenario::{run_with_export, Params, Story};
use cipherstage_ike::{Encr, Group};

const TSHARK: &str = "/usr/bin/tshark";

fn tshark(pcap: &[u8], options: &[String], name: &str) -> String {
    assert!(
        std::path::Path::new(TSHARK).exists(),
        "tshark is missing: apt-get install tshark (cargo xtask test does)"
    );
    let path = std::env::temp_dir().join(format!(
        "cipherstage-ike-{name}-{}.pcapng",
        std::process::id()
    ));
    std::fs::write(&path, pcap).unwrap();
    let mut cmd = Command::new(TSHARK);
    cmd.arg("-r")
        .arg(&path)
        .args(["-o", "esp.enable_authentication_check:TRUE", "-V"]);
    for o in options {
        cmd.args(["-o", o]);
    }
    let out = cmd.output().expect("tshark runs");
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn tshark_decrypts_our_ike_auth_and_esp_with_our_exported_keys() {
    for encr in [Encr::AesGcm128, Encr::AesGcm256] {
        for group in [Group::Curve25519, Group::Ecp256] {
            let p = Params {
                encr,
                group,
                ..Params::default()
            };
            let (_, export) = run_with_export(Story::RemoteAccess, &p, Some(1));
            let options = export.tshark_options();
            assert_eq!(options.len(), 4, "{options:?}");
            let text = tshark(&export.pcapng(), &options, encr.as_str());
            assert!(!text.contains("Malformed"), "{text}");
            // IKE_AUTH, decrypted: the identities, the CP address, the traffic selectors.
            assert!(
                text.contains("Identification Data:home-pc.example.com"),
                "IDi inside SK:\n{text}"
            );
            assert!(
                text.contains("Identification Data:vpn.example.com"),
                "IDr inside SK"
            );
            assert!(text.contains("10.10.0.2"), "the CP reply's address");
            let good_icv = text
                .lines()
                .filter(|l| l.contains("Integrity Checksum Data:") && l.ends_with("[correct]"))
                .count();
            assert_eq!(good_icv, 2, "both IKE_AUTH messages' ICVs verify:\n{text}");
            // ESP, decrypted: the inner SYN to the office server, ICV good.
            assert!(text.contains("Dst: 10.0.0.20"), "{text}");
            assert!(text.contains("Destination Port: 443"), "{text}");
            assert!(
                text.contains("ESP ICV: ") && text.contains("[Good: True]"),
                "ESP ICV good:\n{text}"
            );
        }
    }
}

#[test]
fn the_refusal_of_a_wrong_psk_decrypts_to_authentication_failed() {
    let (_, export) = run_with_export(Story::AuthFailed, &Params::default(), Some(1));
    let text = tshark(&export.pcapng(), &export.tshark_options(), "auth-failed");
    assert!(text.contains("AUTHENTICATION_FAILED"), "{text}");
}
