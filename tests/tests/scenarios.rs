//! Every scenario of every core, through the transcript model.

use cipherstage_scenarios as scenarios;
use cipherstage_transcript::{check_coverage, Event, Transcript};

fn every_run() -> Vec<Transcript> {
    let mut out = Vec::new();
    for info in scenarios::all() {
        for seed in [Some(1), Some(2), None] {
            out.push(scenarios::run(info.id, &[], seed).expect(info.id));
        }
    }
    out
}

#[test]
fn there_are_scenarios_on_the_map() {
    assert!(scenarios::all().count() >= 2);
    let mut ids: Vec<_> = scenarios::all().map(|s| s.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        scenarios::all().count(),
        "scenario ids are unique"
    );
}

#[test]
fn every_byte_of_every_scenario_is_explained() {
    let runs = every_run();
    let mut messages = 0;
    let mut bytes = 0;
    for t in &runs {
        check_coverage(t).unwrap_or_else(|e| panic!("{}: {e}", t.scenario));
        for m in t.messages() {
            messages += 1;
            bytes += m.bytes.len();
            assert!(!m.bytes.is_empty(), "{}: empty message", t.scenario);
        }
    }
    assert!(messages > 0 && bytes > 0);
    eprintln!(
        "{} runs, {messages} messages, {bytes} bytes, all explained",
        runs.len()
    );
}

#[test]
fn same_seed_gives_identical_transcripts_and_json_round_trips() {
    for info in scenarios::all() {
        let a = scenarios::run(info.id, &[], Some(42)).unwrap();
        let b = scenarios::run(info.id, &[], Some(42)).unwrap();
        assert_eq!(a.to_json(), b.to_json(), "{}", info.id);
        assert_eq!(
            Transcript::from_json(&a.to_json()).unwrap(),
            a,
            "{}",
            info.id
        );
        let live = scenarios::run(info.id, &[], None).unwrap();
        let wire =
            |t: &Transcript| -> Vec<u8> { t.messages().flat_map(|m| m.bytes.clone()).collect() };
        assert_ne!(
            wire(&live),
            wire(&a),
            "{}: a live run must not repeat the seeded bytes",
            info.id
        );
    }
}

#[test]
fn actors_links_and_references_are_consistent() {
    for t in every_run() {
        let n = t.actors.len();
        for l in &t.links {
            assert!(l.a < n && l.b < n && l.observers.iter().all(|o| *o < n));
        }
        for e in &t.events {
            match e {
                Event::Message(m) => {
                    assert!(
                        m.from < n && m.to < n && m.link < t.links.len(),
                        "{}",
                        t.scenario
                    );
                    if let Some(tp) = m.tampered {
                        assert!(tp.offset < m.bytes.len());
                        assert_ne!(m.bytes[tp.offset], tp.original);
                    }
                }
                // A secret may be empty: chacha20-poly1305@openssh.com derives 0-byte IVs.
                Event::Secret(s) => assert!(s.owner < n),
                Event::Check(c) => assert!(c.actor < n),
                Event::Alert(a) => assert!(a.from < n),
                Event::Narration(_) => {}
            }
        }
    }
}

#[test]
fn bad_scenario_input_is_a_typed_error_not_a_panic() {
    assert!(matches!(
        scenarios::run("no-such", &[], Some(1)),
        Err(scenarios::RunError::UnknownScenario(_))
    ));
    let long = "x".repeat(scenarios::MAX_TEXT + 1);
    for info in scenarios::all() {
        // Unknown parameter names are rejected.
        let r = scenarios::run(info.id, &[("no_such_param".into(), "1".into())], Some(1));
        assert!(
            matches!(r, Err(scenarios::RunError::BadParam { .. })),
            "{}",
            info.id
        );
        for p in info.params {
            for bad in [
                "",
                "zz",
                "-1",
                "99999999999999999999999",
                &long,
                "1:",
                ":",
                "\u{0}",
            ] {
                // Must not panic; either runs (text params) or says which parameter is wrong.
                match scenarios::run(info.id, &[(p.name.into(), bad.into())], Some(1)) {
                    Ok(t) => check_coverage(&t).unwrap(),
                    Err(scenarios::RunError::BadParam { name }) => assert_eq!(name, p.name),
                    Err(e) => panic!("{}: {e:?}", info.id),
                }
            }
        }
    }
}

#[test]
fn exports_come_from_the_same_run_and_are_well_formed() {
    let mut captures = 0;
    for info in scenarios::all() {
        let files = scenarios::exports(info.id, &[], Some(1)).unwrap();
        for f in &files {
            assert!(!f.bytes.is_empty(), "{}: {}", info.id, f.name);
            if f.name.ends_with(".pcapng") {
                captures += 1;
                // pcapng Section Header Block.
                assert_eq!(f.bytes[..4], [0x0a, 0x0d, 0x0d, 0x0a], "{}", f.name);
                // The capture holds the transcript's own packets, byte for byte.
                let t = scenarios::run(info.id, &[], Some(1)).unwrap();
                assert!(
                    t.messages().any(|m| f
                        .bytes
                        .windows(m.bytes.len())
                        .any(|w| w == m.bytes.as_slice())),
                    "{}: capture does not contain the transcript's packets",
                    info.id
                );
            }
        }
    }
    assert!(captures > 0, "at least one core exports captures");
}

#[test]
fn bench_iterations_run_for_scenarios_and_esp_and_refuse_unknown_names() {
    assert_eq!(scenarios::bench_once("hybrid", 3), Some(()));
    for alg in ["aes128gcm", "aes256gcm", "chacha20poly1305"] {
        assert_eq!(
            scenarios::bench_once(&format!("esp:{alg}"), 0),
            Some(()),
            "{alg}"
        );
    }
    assert_eq!(scenarios::bench_once("esp:des", 0), None);
    assert_eq!(scenarios::bench_once("no-such", 0), None);
}

#[test]
fn the_exported_ssh_demo_key_is_read_by_ssh_keygen() {
    use std::os::unix::fs::PermissionsExt;
    let files = scenarios::exports("ssh-pubkey", &[], Some(1)).unwrap();
    let get = |n: &str| {
        files
            .iter()
            .find(|f| f.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let dir = std::env::temp_dir().join(format!("cs-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("id_ed25519");
    std::fs::write(&key, &get("ssh-pubkey-id_ed25519").bytes).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = std::process::Command::new("ssh-keygen")
        .args(["-y", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (openssh-client) must be installed");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let derived = String::from_utf8_lossy(&out.stdout);
    let exported = String::from_utf8_lossy(&get("ssh-pubkey-id_ed25519.pub").bytes);
    let fields = |s: &str| {
        s.split_whitespace()
            .take(2)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(&derived), fields(&exported));
}

#[test]
fn openssl_reads_the_exported_pki_and_verifies_the_chains() {
    let files = scenarios::exports("mtls", &[], Some(1)).unwrap();
    let pem = files
        .iter()
        .find(|f| f.name == "mtls-certificates.pem")
        .expect("pki.pem");
    let text = String::from_utf8(pem.bytes.clone()).unwrap();
    let certs: Vec<String> = text
        .split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|c| {
            format!(
                "-----BEGIN CERTIFICATE-----{}",
                c.split("# ").next().unwrap()
            )
        })
        .collect();
    assert_eq!(certs.len(), 4);
    let dir = std::env::temp_dir().join(format!("cs-pki-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names = ["root.pem", "inter.pem", "www.pem", "alice.pem"];
    for (n, c) in names.iter().zip(&certs) {
        std::fs::write(dir.join(n), c).unwrap();
    }
    let key = files
        .iter()
        .find(|f| f.name == "mtls-alice-key.pem")
        .unwrap();
    std::fs::write(dir.join("alice-key.pem"), &key.bytes).unwrap();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("openssl must be installed");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    // The chains verify (validity is checked at the scenario's injected time, not today's).
    for leaf in ["www.pem", "alice.pem"] {
        let (ok, out) = openssl(&[
            "verify",
            "-no_check_time",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "inter.pem",
            leaf,
        ]);
        assert!(ok && out.contains(": OK"), "{leaf}: {out}");
    }
    let (ok, out) = openssl(&["x509", "-in", "www.pem", "-noout", "-ext", "subjectAltName"]);
    assert!(ok && out.contains("DNS:www.example.com"), "{out}");
    // The exported key is alice's: its public key equals the certificate's.
    let (ok1, from_key) = openssl(&["pkey", "-in", "alice-key.pem", "-pubout"]);
    let (ok2, from_cert) = openssl(&["x509", "-in", "alice.pem", "-noout", "-pubkey"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok1 && ok2);
    assert_eq!(from_key, from_cert);
}

/// The certificate-issuance story's CSR, certificates and key, checked by OpenSSL:
/// the CSR's self-signature, the chain up to the root, the name, and that the key
/// the server kept is the one the CA certified (for both key kinds).
#[test]
fn openssl_verifies_the_issued_csr_chain_and_key() {
    for key in ["ed25519", "ecdsa-p256"] {
        let params = [
            ("host".to_owned(), "blog.example.org".to_owned()),
            ("visit".to_owned(), "blog.example.org".to_owned()),
            ("server_key".to_owned(), key.to_owned()),
        ];
        let files = scenarios::exports("tls-certificate", &params, Some(3)).unwrap();
        let dir = std::env::temp_dir().join(format!("cs-issue-{key}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Named <scenario>-<what>.<ext>; OpenSSL below reads them by <what>.<ext>.
        for f in &files {
            let short = f.name.strip_prefix("tls-certificate-").unwrap();
            std::fs::write(dir.join(short), &f.bytes).unwrap();
        }
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tls-certificate-root.pem",
                "tls-certificate-intermediate.pem",
                "tls-certificate-server-csr.pem",
                "tls-certificate-server.pem",
                "tls-certificate-server-key.pem"
            ]
        );
        let openssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl must be installed");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        };
        let (ok, out) = openssl(&["req", "-in", "server-csr.pem", "-verify", "-noout", "-text"]);
        assert!(ok && out.contains("verify OK"), "{key}: {out}");
        assert!(out.contains("DNS:blog.example.org"), "{key}: {out}");
        let (ok, out) = openssl(&[
            "verify",
            "-attime",
            "1793491200",
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "blog.example.org",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "intermediate.pem",
            "server.pem",
        ]);
        assert!(ok && out.contains("server.pem: OK"), "{key}: {out}");
        let (ok, out) = openssl(&[
            "verify",
            "-attime",
            "1793491200",
            "-verify_hostname",
            "www.example.com",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "intermediate.pem",
            "server.pem",
        ]);
        assert!(!ok && out.contains("hostname mismatch"), "{key}: {out}");
        let (ok1, from_key) = openssl(&["pkey", "-in", "server-key.pem", "-pubout"]);
        let (ok2, from_csr) = openssl(&["req", "-in", "server-csr.pem", "-noout", "-pubkey"]);
        let (ok3, from_cert) = openssl(&["x509", "-in", "server.pem", "-noout", "-pubkey"]);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(ok1 && ok2 && ok3, "{key}");
        assert_eq!(from_key, from_cert, "{key}");
        assert_eq!(from_csr, from_cert, "{key}");
    }
}

/// Every scenario with an attacker on the path takes a flipped byte, not only the
/// `*-tamper` ones: flipping the middle byte of any message is noticed (a failed
/// check or an alert) or, where the protocol really cannot notice (SSH's NEWKEYS
/// padding), the story says so; and the run stays fully explained.
#[test]
fn a_flipped_byte_is_noticed_in_every_scenario_that_offers_it() {
    let mut runs = 0;
    let mut missed = Vec::new();
    for info in scenarios::all()
        .filter(|i| i.params.iter().any(|p| p.name == "flip") && !i.id.ends_with("-tamper"))
    {
        let base = scenarios::run(info.id, &[("flip".into(), String::new())], Some(1)).unwrap();
        for (mi, m) in base.messages().enumerate() {
            // Only where an attacker is on the link.
            if base.links[m.link].observers.is_empty() {
                continue;
            }
            let flip = format!("{mi}:{}", m.bytes.len() / 2);
            let t = scenarios::run(info.id, &[("flip".into(), flip.clone())], Some(1)).unwrap();
            check_coverage(&t).unwrap_or_else(|e| panic!("{} {flip}: {e}", info.id));
            let flipped = t.messages().filter(|m| m.tampered.is_some()).count();
            assert_eq!(flipped, 1, "{} {flip}", info.id);
            let noticed = t.events.iter().any(|e| match e {
                Event::Check(c) => c.outcome != cipherstage_transcript::Outcome::Passed,
                Event::Alert(_) => true,
                Event::Narration(n) => n.key.ends_with(".tamper_unnoticed"),
                _ => false,
            });
            if !noticed {
                missed.push(format!("{} {flip} ({})", info.id, m.label));
            }
            runs += 1;
        }
    }
    assert!(missed.is_empty(), "nobody noticed: {missed:#?}");
    assert!(runs > 100, "{runs}");
}

/// The files come from the very run whose transcript is returned with them: for a
/// seed, that run is the one `run` gives; with live randomness, the capture carries
/// exactly the bytes of the transcript beside it.
#[test]
fn exports_come_from_the_run_they_are_returned_with() {
    for info in scenarios::all() {
        let (t, files) = scenarios::run_with_exports(info.id, &[], Some(1)).unwrap();
        assert_eq!(
            t,
            scenarios::run(info.id, &[], Some(1)).unwrap(),
            "{}",
            info.id
        );
        assert_eq!(
            files,
            scenarios::exports(info.id, &[], Some(1)).unwrap(),
            "{}",
            info.id
        );
    }
    // Live: the last record of the TLS capture is the transcript's last message.
    let (t, files) = scenarios::run_with_exports("tls13", &[], None).unwrap();
    let pcap = &files
        .iter()
        .find(|f| f.name.ends_with(".pcapng"))
        .unwrap()
        .bytes;
    let last = &t.messages().last().unwrap().bytes;
    assert!(
        pcap.windows(last.len()).any(|w| w == last.as_slice()),
        "the live capture holds the shown run's bytes"
    );
}

#[test]
fn every_download_is_named_scenario_what_ext() {
    let mut n = 0;
    for info in scenarios::all() {
        for f in scenarios::exports(info.id, &[], Some(1)).unwrap() {
            let what = f
                .name
                .strip_prefix(&format!("{}-", info.id))
                .unwrap_or_else(|| {
                    panic!("{}: {} does not start with the scenario", info.id, f.name)
                });
            // An OpenSSH private key keeps ssh-keygen's name, which has no extension.
            let (stem, ext) = match what {
                "id_ed25519" => ("id_ed25519", "pem"),
                _ => what
                    .rsplit_once('.')
                    .unwrap_or_else(|| panic!("{}: no extension", f.name)),
            };
            assert!(
                !stem.is_empty()
                    && stem
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
                    && ["pcapng", "txt", "pem", "eml", "pub", "bmp"].contains(&ext),
                "{}",
                f.name
            );
            n += 1;
        }
    }
    assert!(n > 100, "{n} downloads");
}
