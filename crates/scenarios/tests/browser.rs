//! The registry in the browser: a scenario of every protocol family runs in wasm32
//! and gives byte for byte what the native build gives — the golden corpus's hash
//! of its transcript JSON and of its downloads (seed 1, default parameters).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Write as _;

use cipherstage_scenarios as scenarios;
use cipherstage_testkit::tests;
use cipherstage_transcript::check_coverage;

cipherstage_testkit::in_browser!();

/// The golden corpus the workspace test keeps (`tests/corpus.txt`).
const CORPUS: &str = include_str!("../../../tests/corpus.txt");

/// One scenario per family, so a browser run stays short.
const SAMPLE: &[&str] = &[
    "hybrid",
    "tls13",
    "ssh-pubkey",
    "ipsec-tunnel",
    "ikev2-remote-access",
    "vpn-tls",
    "smime-signed",
];

fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn golden(case: &str) -> &'static str {
    CORPUS
        .lines()
        .find_map(|l| l.strip_prefix(case).and_then(|r| r.strip_prefix(" | ")))
        .unwrap_or_else(|| panic!("{case} is not in the corpus"))
}

tests! {
    fn a_scenario_of_every_family_gives_the_native_bytes() {
        for id in SAMPLE {
            let (t, files) = scenarios::run_with_exports(id, &[], Some(1)).unwrap();
            check_coverage(&t).unwrap();
            let mut exports = Vec::new();
            for f in &files {
                exports.extend_from_slice(f.name.as_bytes());
                exports.push(0);
                exports.extend_from_slice(f.mime.as_bytes());
                exports.push(0);
                exports.extend_from_slice(&(f.bytes.len() as u64).to_be_bytes());
                exports.extend_from_slice(&f.bytes);
            }
            let here = format!("{} {}", sha256_hex(t.to_json().as_bytes()), sha256_hex(&exports));
            assert_eq!(here, golden(&format!("{id} seed=1")), "{id}");
        }
    }

    fn bad_input_is_a_typed_error_in_the_browser_too() {
        assert!(scenarios::run("no-such", &[], Some(1)).is_err());
        let bad = [("flip".to_owned(), "not a flip".to_owned())];
        assert!(scenarios::run("tls13", &bad, Some(1)).is_err());
    }
}
