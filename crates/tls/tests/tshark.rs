//! Export: a pcapng of a scenario plus its NSS key log, which tshark 4 decrypts to
//! show the HTTP inside. A missing tshark is a failure, not a skip.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use cipherstage_tls::enums::{CipherSuite, NamedGroup};
use cipherstage_tls::{export, run, Kind, Params};

const TSHARK: &str = "/usr/bin/tshark";

fn tshark(args: &[&str]) -> String {
    assert!(
        std::path::Path::new(TSHARK).exists(),
        "{TSHARK} is required (apt-get install tshark)"
    );
    let mut child = Command::new(TSHARK)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            panic!("tshark timed out");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn decrypt(kind: Kind, p: &Params, tag: &str) -> (String, String) {
    let t = run("tls13", kind, p, Some(21));
    let dir = std::env::temp_dir().join(format!(
        "cipherstage-tls-tshark-{tag}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("cap.pcapng");
    let keys = dir.join("keys.txt");
    std::fs::write(&cap, export::pcapng(&t, cipherstage_pki::SCENARIO_NOW)).unwrap();
    std::fs::write(&keys, export::keylog(&t)).unwrap();
    let keyopt = format!("tls.keylog_file:{}", keys.display());
    let cap = cap.to_str().unwrap();
    let http = tshark(&[
        "-r",
        cap,
        "-o",
        &keyopt,
        "-Y",
        "http",
        "-T",
        "fields",
        "-e",
        "http.request.method",
        "-e",
        "http.host",
        "-e",
        "http.response.code",
    ]);
    let without = tshark(&[
        "-r",
        cap,
        "-Y",
        "http",
        "-T",
        "fields",
        "-e",
        "http.request.method",
    ]);
    (http, without)
}

#[test]
fn tshark_decrypts_the_exported_capture_with_the_exported_keys() {
    let (http, without) = decrypt(Kind::Success, &Params::default(), "plain");
    let lines: Vec<&str> = http.lines().collect();
    assert_eq!(lines, ["GET\twww.example.com\t", "\t\t200"], "{http}");
    // Without the key log the HTTP stays hidden.
    assert_eq!(without.trim(), "");
}

#[test]
fn tshark_decrypts_other_suites_groups_and_mtls() {
    for (kind, suite, group) in [
        (
            Kind::Mtls,
            CipherSuite::Aes256GcmSha384,
            NamedGroup::Secp256r1,
        ),
        (
            Kind::Retry,
            CipherSuite::Chacha20Poly1305Sha256,
            NamedGroup::X25519,
        ),
    ] {
        let p = Params {
            suite,
            group,
            ..Params::default()
        };
        let (http, _) = decrypt(kind, &p, &format!("{kind:?}"));
        assert!(http.contains("GET\twww.example.com"), "{kind:?}: {http}");
        assert!(http.contains("200"), "{kind:?}: {http}");
    }
}
