//! TLS 1.3 scenarios: SNI virtual hosts, mutual TLS and the failures, tampering.

use cipherstage_pki::KeyKind;
use cipherstage_tls::enums::{CipherSuite, NamedGroup};
use cipherstage_tls::{ClientCert, Kind, Params};
use cipherstage_transcript::Transcript;

#[allow(unused_imports)]
use crate::catalog::tls::*;
use crate::{bad, RunError, ScenarioInfo, Values};

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    if info.id == ISSUANCE {
        return issuance(info, v, seed);
    }
    let kind =
        Kind::from_id(info.id).ok_or_else(|| RunError::UnknownScenario(info.id.to_owned()))?;
    let has = |n: &str| info.params.iter().any(|p| p.name == n);
    let sni = v.text("sni")?;
    if sni.is_empty() || sni.len() > 253 {
        return Err(bad("sni"));
    }
    let suite = match v.choice("suite")? {
        "TLS_AES_256_GCM_SHA384" => CipherSuite::Aes256GcmSha384,
        "TLS_CHACHA20_POLY1305_SHA256" => CipherSuite::Chacha20Poly1305Sha256,
        "TLS_AES_128_GCM_SHA256" => CipherSuite::Aes128GcmSha256,
        _ => return Err(bad("suite")),
    };
    let group = if has("group") {
        match v.choice("group")? {
            "secp256r1" => NamedGroup::Secp256r1,
            "x25519" => NamedGroup::X25519,
            _ => return Err(bad("group")),
        }
    } else {
        NamedGroup::X25519
    };
    let tamper = crate::tamper_param(info, v)?;
    let mut p = Params {
        sni,
        suite,
        group,
        tamper,
        ..Params::default()
    };
    if has("vhosts") {
        let list = v.text("vhosts")?;
        let names: Vec<String> = list
            .split(',')
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        if names
            .iter()
            .any(|n| !cipherstage_tls::scenario::VHOST_NAMES.contains(&n.as_str()))
        {
            return Err(bad("vhosts"));
        }
        p.vhosts = names;
    }
    if has("client_cert") {
        p.client_cert = match v.choice("client_cert")? {
            "alice-ecdsa" => ClientCert::AliceEcdsa,
            "alice-expired" => ClientCert::Expired,
            "alice-wrong-eku" => ClientCert::WrongEku,
            "alice-untrusted" => ClientCert::Untrusted,
            "alice-stolen" => ClientCert::Stolen,
            "none" => ClientCert::None,
            "alice" => ClientCert::Alice,
            _ => return Err(bad("client_cert")),
        };
    }
    if has("server_key") {
        p.server_key = key_kind(v)?;
    }
    Ok(cipherstage_tls::run(info.id, kind, &p, seed))
}

/// The server key parameter; a choice without a mapping is an error.
fn key_kind(v: &Values) -> Result<KeyKind, RunError> {
    match v.choice("server_key")? {
        "ecdsa-p256" => Ok(KeyKind::EcdsaP256),
        "ed25519" => Ok(KeyKind::Ed25519),
        _ => Err(bad("server_key")),
    }
}

/// Each certificate, the CSR and the server's private key as PEM files, for OpenSSL.
fn issuance_exports(t: &Transcript) -> Vec<crate::ExportFile> {
    use cipherstage_pki::pem::encode;
    use cipherstage_transcript::Event;
    let file = |name: &str, label: &'static str, text: String| crate::ExportFile {
        name: format!("{}-{name}", t.scenario),
        label,
        mime: "application/x-pem-file",
        bytes: text.into_bytes(),
    };
    let mut files = Vec::new();
    for m in t.messages() {
        let (name, key, label) = match m.label.as_str() {
            "pki.msg.root_in_store" => ("root.pem", "ui.export_root", "CERTIFICATE"),
            "pki.msg.intermediate_certificate" => {
                ("intermediate.pem", "ui.export_intermediate", "CERTIFICATE")
            }
            "pki.msg.csr" => ("server-csr.pem", "ui.export_csr", "CERTIFICATE REQUEST"),
            "pki.msg.issued_certificate" | "pki.msg.self_signed_certificate" => {
                ("server.pem", "ui.export_server_certificate", "CERTIFICATE")
            }
            _ => continue,
        };
        files.push(file(name, key, encode(label, &m.bytes)));
    }
    for e in &t.events {
        if let Event::Secret(s) = e {
            if s.name == "pki.secret.server_private_key" {
                files.push(file(
                    "server-key.pem",
                    "ui.export_server_key",
                    encode("PRIVATE KEY", &s.bytes),
                ));
            }
        }
    }
    files
}

fn issuance(info: &ScenarioInfo, v: &Values, seed: Option<u64>) -> Result<Transcript, RunError> {
    let name = |n: &str| -> Result<String, RunError> {
        let t = v.text(n)?.trim().to_ascii_lowercase();
        if cipherstage_pki::is_dns_name(&t) && t.contains('.') {
            Ok(t)
        } else {
            Err(bad(n))
        }
    };
    let p = cipherstage_tls::issuance::IssueParams {
        host: name("host")?,
        visit: name("visit")?,
        key: key_kind(v)?,
        self_signed: v.choice("issuer")? == "self",
    };
    Ok(cipherstage_tls::issuance::run_issuance(info.id, &p, seed))
}

/// The run as a pcapng capture (TCP port 443) and its NSS key log, which
/// `tshark -o tls.keylog_file:FILE` uses to decrypt it (the HTTP inside shows).
pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    let t = run(info, v, seed)?;
    if info.id == ISSUANCE {
        let files = issuance_exports(&t);
        return Ok((t, files));
    }
    // 2026-01-01T00:00:00Z as the capture's clock: the scenario's own time is injected.
    let pcap = cipherstage_tls::export::pcapng(&t, 1_767_225_600);
    let keylog = cipherstage_tls::export::keylog(&t);
    let mut files = vec![crate::ExportFile {
        name: format!("{}-capture.pcapng", info.id),
        label: "ui.export_pcapng",
        mime: "application/vnd.tcpdump.pcap",
        bytes: pcap,
    }];
    if !keylog.is_empty() {
        files.push(crate::ExportFile {
            name: format!("{}-keylog.txt", info.id),
            label: "ui.export_keys",
            mime: "text/plain",
            bytes: keylog.into_bytes(),
        });
    }
    // The seeded run's test PKI in PEM: trust anchor, intermediate, the server and
    // client leaves, and the demo client key (a live run's PKI is not kept).
    if let Some(pki) = seed.and_then(|s| cipherstage_tls::scenario::pki_of(s).ok()) {
        use cipherstage_pki::pem::encode;
        let mut pem = String::new();
        for (what, cert) in [
            ("root CA (trust anchor)", &pki.root),
            ("intermediate CA", &pki.intermediate),
            ("server www.example.com", &pki.www),
            ("client alice (clientAuth)", &pki.alice),
        ] {
            pem.push_str(&format!("# {what}\n{}", encode("CERTIFICATE", &cert.der)));
        }
        files.push(crate::ExportFile {
            name: format!("{}-certificates.pem", info.id),
            label: "ui.export_certificates",
            mime: "application/x-pem-file",
            bytes: pem.into_bytes(),
        });
        files.push(crate::ExportFile {
            name: format!("{}-alice-key.pem", info.id),
            label: "ui.export_private_key_pem",
            mime: "application/x-pem-file",
            bytes: encode("PRIVATE KEY", &pki.alice.key.pkcs8_v1()).into_bytes(),
        });
    }
    Ok((t, files))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::collections::{BTreeMap, BTreeSet};

    use cipherstage_transcript::{check_coverage, Event};

    use super::SCENARIOS;
    use crate::ParamKind;

    /// Every `key = value` of every i18n file of one language; fails on duplicates.
    fn load(lang: &str) -> BTreeMap<String, String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../app/i18n")
            .join(lang);
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "txt") {
                continue;
            }
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (k, v) = line
                    .split_once(" = ")
                    .unwrap_or_else(|| panic!("{path:?}: {line}"));
                assert!(
                    out.insert(k.trim().to_owned(), v.to_owned()).is_none(),
                    "duplicate {k} in {path:?}"
                );
            }
        }
        out
    }

    fn placeholders(v: &str) -> BTreeSet<String> {
        v.split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(p, _)| p.to_owned()))
            .collect()
    }

    /// Runs every TLS scenario with every choice and a spread of tamper points.
    fn transcripts() -> Vec<cipherstage_transcript::Transcript> {
        let mut out = Vec::new();
        for info in SCENARIOS {
            let mut variants: Vec<Vec<(String, String)>> = vec![vec![]];
            for p in info.params {
                if let ParamKind::Choice(options) = p.kind {
                    for o in options {
                        variants.push(vec![(p.name.to_owned(), (*o).to_owned())]);
                    }
                }
                if let ParamKind::Tamper = p.kind {
                    // Every point in the tamper story; a few in the others.
                    let (ms, os): (&[usize], &[usize]) = if info.id == "tls-tamper" {
                        (
                            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
                            &[0, 3, 5, 12, 40, 60, 100, 10_000],
                        )
                    } else {
                        (&[0, 4, 8], &[5, 60])
                    };
                    for m in ms {
                        for o in os {
                            variants.push(vec![(p.name.to_owned(), format!("{m}:{o}"))]);
                        }
                    }
                }
            }
            for v in variants {
                out.push(crate::run(info.id, &v, Some(11)).unwrap());
            }
        }
        out
    }

    #[test]
    fn every_tls_scenario_is_explained_deterministic_and_translated() {
        let en = load("en");
        let ja = load("ja");
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for info in SCENARIOS {
            keys.insert(info.title_key());
            keys.insert(info.summary_key());
            for p in info.params {
                keys.insert(p.label_key());
                if let ParamKind::Choice(options) = p.kind {
                    for o in options {
                        keys.insert(format!("param.{}.{}", p.name, o));
                    }
                }
            }
            let a = crate::run(info.id, &[], Some(5)).unwrap();
            let b = crate::run(info.id, &[], Some(5)).unwrap();
            assert_eq!(a.to_json(), b.to_json(), "{}", info.id);
        }
        let mut args: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for t in transcripts() {
            assert_eq!(check_coverage(&t), Ok(()), "{}", t.scenario);
            keys.extend(t.text_keys().into_iter().map(str::to_owned));
            for e in &t.events {
                if let Event::Narration(n) = e {
                    args.entry(n.key.clone())
                        .or_default()
                        .extend(n.args.iter().map(|(k, _)| k.clone()));
                }
            }
        }
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !en.contains_key(*k) || !ja.contains_key(*k))
            .map(|k| format!("{k} en={} ja={}", en.contains_key(k), ja.contains_key(k)))
            .collect();
        assert!(
            missing.is_empty(),
            "missing translations:\n{}",
            missing.join("\n")
        );
        // Narration placeholders are the same in both languages and match the arguments.
        for (key, names) in args {
            let e = placeholders(&en[&key]);
            assert_eq!(e, placeholders(&ja[&key]), "{key}");
            assert_eq!(e, names, "{key}");
        }
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        assert!(crate::run("tls13", &[("suite".into(), "rot13".into())], Some(1)).is_err());
        assert!(crate::run("tls13", &[("sni".into(), String::new())], Some(1)).is_err());
        assert!(crate::run("tls-tamper", &[("flip".into(), "x".into())], Some(1)).is_err());
        assert!(crate::run("tls-certificate", &[("flip".into(), "1:1".into())], Some(1)).is_err());
        assert!(crate::run("tls13", &[("flip".into(), "1:x".into())], Some(1)).is_err());
        assert!(crate::run(
            "tls13",
            &[("vhosts".into(), "evil.example".into())],
            Some(1)
        )
        .is_err());
    }

    /// The scheme of every CertificateVerify in a run, with its sender.
    fn cv_schemes(t: &cipherstage_transcript::Transcript) -> Vec<(usize, String)> {
        fn find(fields: &[cipherstage_transcript::Field]) -> Option<String> {
            fields.iter().find_map(|f| match (&f.name[..], &f.value) {
                ("tls.field.signature_scheme", Some(cipherstage_transcript::Value::Key(k))) => {
                    Some(k.clone())
                }
                _ => find(&f.children),
            })
        }
        t.messages()
            .filter(|m| m.label == "tls.msg.certificate_verify")
            .filter_map(|m| Some((m.from, find(&m.fields)?)))
            .collect()
    }

    #[test]
    fn ecdsa_keys_sign_certificate_verify_and_the_peer_accepts() {
        let ecdsa = "tls.sig.ecdsa_secp256r1_sha256".to_owned();
        let ed = "tls.sig.ed25519".to_owned();
        let run = |id: &str, v: &[(&str, &str)], seed| {
            let v: Vec<(String, String)> = v
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect();
            crate::run(id, &v, Some(seed)).unwrap()
        };
        let plain = run("tls13", &[], 3);
        assert_eq!(cv_schemes(&plain), [(1, ed.clone())]);
        let t = run("tls13", &[("server_key", "ecdsa-p256")], 3);
        assert_eq!(cv_schemes(&t), [(1, ecdsa.clone())]);
        // The ECDSA signature is shown as its DER parts, r and s.
        fn names(fields: &[cipherstage_transcript::Field], out: &mut Vec<String>) {
            for f in fields {
                out.push(f.name.clone());
                names(&f.children, out);
            }
        }
        let mut cv = Vec::new();
        for m in t
            .messages()
            .filter(|m| m.label == "tls.msg.certificate_verify")
        {
            names(&m.fields, &mut cv);
        }
        assert!(cv.iter().any(|n| n == "pki.field.ecdsa_r"), "{cv:?}");
        assert!(cv.iter().any(|n| n == "pki.field.ecdsa_s"), "{cv:?}");
        // Same seed, same ECDSA signature (its nonce input is drawn from the seed) …
        assert_eq!(
            t.to_json(),
            run("tls13", &[("server_key", "ecdsa-p256")], 3).to_json()
        );
        // … and the handshake completes: the browser checked it and read the page.
        let done = |t: &cipherstage_transcript::Transcript| {
            t.events
                .iter()
                .any(|e| matches!(e, Event::Narration(n) if n.key == "tls.narr.done"))
        };
        assert!(done(&t));
        let m = run(
            "mtls",
            &[("client_cert", "alice-ecdsa"), ("server_key", "ecdsa-p256")],
            3,
        );
        assert_eq!(cv_schemes(&m), [(1, ecdsa.clone()), (0, ecdsa)]);
        assert!(done(&m));
    }

    #[test]
    fn issuance_story_checks_every_link_and_the_name() {
        use cipherstage_transcript::{Outcome, Transcript};
        let run = |v: &[(&str, &str)]| -> Transcript {
            let v: Vec<(String, String)> = v
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect();
            crate::run("tls-certificate", &v, Some(4)).unwrap()
        };
        let checks = |t: &Transcript| -> Vec<(String, bool)> {
            t.events
                .iter()
                .filter_map(|e| match e {
                    Event::Check(c) => Some((c.what.clone(), c.outcome == Outcome::Passed)),
                    _ => None,
                })
                .collect()
        };
        let alerts = |t: &Transcript| -> Vec<String> {
            t.events
                .iter()
                .filter_map(|e| match e {
                    Event::Alert(a) => Some(a.key.clone()),
                    _ => None,
                })
                .collect()
        };
        for key in ["ed25519", "ecdsa-p256"] {
            let t = run(&[("server_key", key)]);
            assert!(
                checks(&t).iter().all(|(_, ok)| *ok),
                "{key}: {:?}",
                checks(&t)
            );
            assert_eq!(checks(&t).len(), 8);
            assert!(alerts(&t).is_empty());
            assert_eq!(check_coverage(&t), Ok(()));
        }
        let t = run(&[("visit", "shop.example.com")]);
        let failed: Vec<String> = checks(&t)
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(failed, ["pki.check.name", "pki.check.webpki"]);
        assert_eq!(alerts(&t), ["tls.alert.bad_certificate"]);
        let t = run(&[("issuer", "self")]);
        assert_eq!(
            checks(&t),
            [
                ("pki.check.root_self_signed".to_owned(), true),
                ("pki.check.self_signature".to_owned(), true),
                ("pki.check.webpki".to_owned(), false)
            ]
        );
        assert_eq!(alerts(&t), ["tls.alert.unknown_ca"]);
        for bad in ["", "not a name", "localhost", "1.2.3.4"] {
            assert!(
                crate::run("tls-certificate", &[("host".into(), bad.into())], Some(1)).is_err(),
                "{bad:?}"
            );
        }
    }
}
