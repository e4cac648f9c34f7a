//! Both catalogues are complete: every key any scenario, the picker or the UI
//! uses exists in Japanese and in English, with the same placeholders.

use std::collections::{BTreeMap, BTreeSet};

use cipherstage_app::i18n::{parse, EN, JA, SOURCES};
use cipherstage_scenarios::{self as scenarios, ParamKind};
use cipherstage_transcript::{FailReason, Transcript};

fn table(text: &'static str) -> BTreeMap<&'static str, &'static str> {
    parse(text)
        .unwrap_or_else(|e| panic!("catalogue: {e:?}"))
        .into_iter()
        .collect()
}

fn placeholders(v: &str) -> BTreeSet<String> {
    v.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_owned()))
        .collect()
}

/// Every key the app can be asked to show.
fn used_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut add_run = |t: &Transcript| {
        keys.extend(t.text_keys().into_iter().map(str::to_owned));
    };
    for info in scenarios::all() {
        add_run(&scenarios::run(info.id, &[], Some(1)).unwrap());
        for p in info.params {
            if let ParamKind::Choice(options) = p.kind {
                for o in options {
                    let t = scenarios::run(info.id, &[(p.name.into(), (*o).into())], Some(1))
                        .unwrap_or_else(|e| panic!("{} {}={o}: {e:?}", info.id, p.name));
                    add_run(&t);
                }
            }
        }
    }
    // The tamper scenario with every byte of every message flipped, so every
    // failure path's keys are covered.
    // Every other scenario offers a flip too: the middle byte of each message.
    for info in scenarios::all().filter(|i| {
        !i.id.ends_with("-tamper") && i.params.iter().any(|p| p.kind == ParamKind::Tamper)
    }) {
        let base = scenarios::run(info.id, &[], Some(1)).unwrap();
        for (mi, m) in base.messages().enumerate() {
            let flip = format!("{mi}:{}", m.bytes.len() / 2);
            let t = scenarios::run(info.id, &[("flip".into(), flip)], Some(1)).unwrap();
            keys.extend(t.text_keys().into_iter().map(str::to_owned));
        }
    }
    for info in scenarios::all().filter(|i| i.id.ends_with("-tamper")) {
        let base = scenarios::run(info.id, &[], Some(1)).unwrap();
        for (mi, m) in base.messages().enumerate() {
            for off in 0..m.bytes.len() {
                let flip = format!("{mi}:{off}");
                if let Ok(t) = scenarios::run(info.id, &[("flip".into(), flip)], Some(1)) {
                    keys.extend(t.text_keys().into_iter().map(str::to_owned));
                }
            }
        }
    }
    for info in scenarios::all() {
        for f in scenarios::exports(info.id, &[], Some(1)).unwrap_or_default() {
            keys.insert(f.label.to_owned());
        }
        keys.insert(info.title_key());
        keys.insert(info.summary_key());
        for p in info.params {
            keys.insert(p.label_key());
            if let ParamKind::Choice(options) = p.kind {
                for o in options {
                    keys.insert(format!("param.{}.{o}", p.name));
                }
            }
        }
    }
    for l in ["application", "transport", "network"] {
        keys.insert(format!("layer.{l}"));
        keys.insert(format!("layer.{l}.examples"));
    }
    for p in [
        "plaintext",
        "encrypted",
        "integrity_only",
        "signature",
        "key_material",
    ] {
        keys.insert(format!("protection.{p}"));
    }
    for r in [
        FailReason::TagMismatch,
        FailReason::BadSignature,
        FailReason::Malformed,
        FailReason::Untrusted,
        FailReason::Replay,
    ] {
        keys.insert(r.key().to_owned());
    }
    keys.extend(ui_literals());
    keys
}

/// Every `"ui.…"` string literal in the app's source, and every `"inspect.…"` one
/// in the paste inspector.
fn ui_literals() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let inspect =
        std::fs::read_to_string(cipherstage_tests::root().join("crates/scenarios/src/inspect.rs"))
            .unwrap();
    for part in inspect.split("\"inspect.").skip(1) {
        if let Some((rest, _)) = part.split_once('"') {
            out.insert(format!("inspect.{rest}"));
        }
    }
    let mut dirs = vec![cipherstage_tests::root().join("crates/app/src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let src = std::fs::read_to_string(&p).unwrap();
                for part in src.split("\"ui.").skip(1) {
                    if let Some((rest, _)) = part.split_once('"') {
                        if rest
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                        {
                            out.insert(format!("ui.{rest}"));
                        }
                    }
                }
            }
        }
    }
    assert!(out.len() > 20, "found the app's UI keys");
    out
}

#[test]
fn both_languages_have_the_same_keys_and_placeholders() {
    let (en, ja) = (table(EN), table(JA));
    let only_en: Vec<_> = en.keys().filter(|k| !ja.contains_key(*k)).collect();
    let only_ja: Vec<_> = ja.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(only_en.is_empty(), "missing in Japanese: {only_en:?}");
    assert!(only_ja.is_empty(), "missing in English: {only_ja:?}");
    for (k, v) in &en {
        assert_eq!(placeholders(v), placeholders(ja[k]), "placeholders of {k}");
        assert!(!v.is_empty() && !ja[k].is_empty(), "empty text for {k}");
    }
}

#[test]
fn every_used_key_is_in_both_catalogues() {
    let (en, ja) = (table(EN), table(JA));
    let used = used_keys();
    let missing: Vec<_> = used
        .iter()
        .filter(|k| !en.contains_key(k.as_str()) || !ja.contains_key(k.as_str()))
        .collect();
    assert!(missing.is_empty(), "keys without text: {missing:?}");
    eprintln!("{} keys used, {} in each catalogue", used.len(), en.len());
}

#[test]
fn japanese_text_is_japanese() {
    let ja = table(JA);
    // Names of things may stay Latin; sentences must not be left in English.
    let english: Vec<_> = ja
        .iter()
        .filter(|(k, v)| {
            (k.contains(".explain.") || k.contains(".narr.") || k.ends_with(".summary"))
                && !v.chars().any(|c| {
                    ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)
                })
        })
        .map(|(k, _)| *k)
        .collect();
    assert!(english.is_empty(), "untranslated: {english:?}");
}

#[test]
fn a_duplicate_or_malformed_line_is_rejected() {
    assert_eq!(parse("a = 1\na = 2").unwrap_err().line, 2);
    assert_eq!(parse("# c\nno equals sign").unwrap_err().line, 2);
}

/// Keys whose text makes a claim a reader may want to check: they need a source.
fn needs_source(key: &str) -> bool {
    key.contains(".explain.")
        || key.contains(".narr.")
        || key.contains(".formula.")
        || key.starts_with("formula.")
}

/// Whether one reference of a source is in a form `i18n/sources.txt` allows.
fn reference_ok(r: &str) -> bool {
    fn section(s: &str) -> bool {
        s.strip_prefix('§').is_some_and(|n| {
            !n.is_empty()
                && n.split('.')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        })
    }
    /// An Internet-Draft named with its version, as `draft-ietf-secsh-filexfer-02`.
    fn draft(name: &str) -> bool {
        name.strip_prefix("draft-")
            .and_then(|n| n.rsplit_once('-'))
            .is_some_and(|(stem, version)| {
                stem.split('-').all(|w| {
                    !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                }) && version.len() == 2
                    && version.chars().all(|c| c.is_ascii_digit())
            })
    }
    /// A file of OpenSSH's source or one of its manual pages, as `scp.c` or `scp.1`.
    fn openssh_file(name: &str) -> bool {
        name.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && ["c", "h", "1", "5", "8"].contains(&ext)
        })
    }
    let words: Vec<&str> = r.split(' ').collect();
    match words.as_slice() {
        ["run"] => true,
        ["RFC", n] => n.parse::<u32>().is_ok(),
        ["RFC", n, s] => n.parse::<u32>().is_ok() && section(s),
        [d] if d.starts_with("draft-") => draft(d),
        [d, s] if d.starts_with("draft-") => draft(d) && section(s),
        ["X.690" | "FIPS", ..] | ["SEC", "1", ..] | ["NIST", "SP", "800-38D", ..] => {
            words.last().is_some_and(|s| section(s))
        }
        // ITU-T's recommendations under RDP, and Microsoft's RDP specifications.
        ["X.224" | "X.691" | "T.124" | "T.125" | "MS-RDPBCGR" | "MS-RDPELE", s] => section(s),
        ["OpenSSH", f] if !f.starts_with("PROTOCOL") => openssh_file(f),
        ["OpenSSH", p, ..] => p.starts_with("PROTOCOL"),
        // openvpn has no specification but its source: `OpenVPN ssl.c`, `OpenVPN ssl_pkt.h`.
        ["OpenVPN", f] => openssh_file(f) && (f.ends_with(".c") || f.ends_with(".h")),
        [path] if path.starts_with("crates/") => cipherstage_tests::root().join(path).is_file(),
        _ => false,
    }
}

/// Everything wrong with a source table against a catalogue.
fn source_faults(catalogue: &BTreeMap<&str, &str>, sources: &[(&str, &str)]) -> Vec<String> {
    let named: BTreeMap<&str, &str> = sources.iter().copied().collect();
    let mut faults = Vec::new();
    for k in catalogue.keys().filter(|k| needs_source(k)) {
        if !named.contains_key(k) {
            faults.push(format!("{k}: no source"));
        }
    }
    for (k, v) in sources {
        if !catalogue.contains_key(k) {
            faults.push(format!("{k}: a source for a key that does not exist"));
        }
        for r in v.split("; ") {
            if !reference_ok(r) {
                faults.push(format!(
                    "{k}: \"{r}\" is not a reference sources.txt allows"
                ));
            }
            if r == "run" && (k.contains(".explain.") || !needs_source(k)) {
                faults.push(format!("{k}: an explanation needs a document, not \"run\""));
            }
            // TLS 1.3 is RFC 9846 now; its section numbers moved (RFC 8448's traces stay).
            if r.starts_with("RFC 8446") {
                faults.push(format!("{k}: cites RFC 8446, obsoleted by RFC 9846"));
            }
        }
    }
    faults
}

#[test]
fn every_explanation_narration_and_formula_names_its_source() {
    let en = table(EN);
    let sources = parse(SOURCES).unwrap_or_else(|e| panic!("sources.txt: {e:?}"));
    let faults = source_faults(&en, &sources);
    assert!(faults.is_empty(), "sources.txt:\n{}", faults.join("\n"));
    let cited = sources.iter().filter(|(_, v)| *v != "run").count();
    eprintln!(
        "{} keys with a source ({cited} citing a document, {} narrations or formulas of this run)",
        sources.len(),
        sources.len() - cited
    );
    // The catalogues' own text cites TLS 1.3 as RFC 9846 too.
    for text in [EN, JA] {
        for (k, v) in table(text) {
            assert!(!v.contains("RFC 8446"), "{k} cites RFC 8446: {v}");
        }
    }
}

#[test]
fn a_missing_unknown_or_malformed_source_is_caught() {
    let cat: BTreeMap<&str, &str> = [
        ("a.explain.x", "text"),
        ("a.narr.y", "text"),
        ("a.field.z", "name"),
        ("formula.w", "text"),
    ]
    .into_iter()
    .collect();
    assert!(source_faults(
        &cat,
        &[
            ("a.explain.x", "RFC 9846 §4.3.3"),
            ("a.narr.y", "run"),
            ("formula.w", "run")
        ]
    )
    .is_empty());
    let faults = source_faults(
        &cat,
        &[
            ("a.narr.y", "RFC9846"),
            ("a.gone.explain.w", "RFC 1"),
            ("a.field.z", "RFC 8446 §4.2.3"),
        ],
    );
    assert_eq!(faults.len(), 5, "{faults:?}");
    assert!(faults[0].starts_with("a.explain.x: no source"));
    assert!(faults[1].starts_with("formula.w: no source"));
    assert!(
        source_faults(&cat, &[("a.explain.x", "run"), ("a.narr.y", "run")])
            .iter()
            .any(|f| f.contains("needs a document"))
    );
    assert!(!reference_ok("crates/nowhere/src/lib.rs"));
    assert!(reference_ok("OpenSSH PROTOCOL.chacha20poly1305"));
    // An Internet-Draft needs its version and a section written with §.
    assert!(reference_ok("draft-ietf-secsh-filexfer-02 §6.3"));
    assert!(reference_ok("draft-ietf-secsh-filexfer-02"));
    for bad in [
        "draft-ietf-secsh-filexfer §6.3",
        "draft-ietf-secsh-filexfer-2 §6.3",
        "draft-ietf-secsh-filexfer-02 6.3",
        "draft-ietf-secsh-filexfer-02 §",
        "draft--02 §3",
        "draft-IETF-secsh-filexfer-02 §3",
    ] {
        assert!(!reference_ok(bad), "{bad}");
    }
    // OpenSSH's source files and manual pages, for what has no other specification.
    assert!(reference_ok("OpenSSH scp.c"));
    assert!(reference_ok("OpenVPN ssl_pkt.h"));
    assert!(!reference_ok("OpenVPN ssl.1"));
    assert!(!reference_ok("OpenVPN"));
    assert!(reference_ok("OpenSSH scp.1"));
    for bad in [
        "OpenSSH scp",
        "OpenSSH scp.rs",
        "OpenSSH .c",
        "OpenSSH scp.c §2",
    ] {
        assert!(!reference_ok(bad), "{bad}");
    }
    let malformed = source_faults(
        &cat,
        &[
            ("a.explain.x", "draft-ietf-secsh-filexfer §3; OpenSSH scp"),
            ("a.narr.y", "run"),
            ("formula.w", "run"),
        ],
    );
    assert_eq!(malformed.len(), 2, "{malformed:?}");
    assert!(malformed
        .iter()
        .all(|f| f.contains("is not a reference sources.txt allows")));
}

#[test]
fn hkdf_expand_label_shown_with_this_runs_inputs_recomputes_every_such_secret() {
    use cipherstage_app::components::detail::{Call, Expansion};
    use cipherstage_transcript::Event;
    let mut checked = 0;
    for info in scenarios::all() {
        let t = scenarios::run(info.id, &[], Some(1)).unwrap();
        for e in &t.events {
            let Event::Secret(s) = e else { continue };
            let Some(x) = Expansion::of(s) else {
                assert!(
                    !s.formula.key.ends_with("expand_label")
                        && !s.formula.key.ends_with("derive_secret"),
                    "{}: {} without its inputs",
                    info.id,
                    s.name
                );
                continue;
            };
            assert_eq!(
                x.recompute().as_deref(),
                Some(s.bytes.as_slice()),
                "{} {}",
                info.id,
                s.name
            );
            let label = std::str::from_utf8(x.label).unwrap();
            assert!(
                !label.starts_with("tls13 "),
                "{}: the label excludes the prefix",
                s.name
            );
            let info_bytes = x.hkdf_label();
            assert_eq!(&info_bytes[3..9], b"tls13 ", "HkdfLabel carries the prefix");
            for lang in [
                cipherstage_app::i18n::Lang::En,
                cipherstage_app::i18n::Lang::Ja,
            ] {
                assert!(
                    x.call(lang).contains(&format!("\"{label}\", ")),
                    "{}",
                    x.call(lang)
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} expansions");
    eprintln!("{checked} HKDF-Expand-Label secrets recomputed from the formula's inputs");
}

#[test]
fn ssh_keys_and_hybrid_keys_shown_with_this_runs_label_recompute_every_such_secret() {
    use cipherstage_app::components::detail::{Call, Labelled};
    use cipherstage_app::i18n::Lang;
    use cipherstage_transcript::Event;
    let (mut ssh, mut hybrid) = (0, 0);
    for info in scenarios::all() {
        let t = scenarios::run(info.id, &[], Some(1)).unwrap();
        for e in &t.events {
            let Event::Secret(s) = e else { continue };
            let Some(x) = Labelled::of(s) else {
                assert!(
                    s.formula.key != "ssh.formula.derive_key"
                        && s.formula.key != "formula.hkdf_expand",
                    "{}: {} without its inputs",
                    info.id,
                    s.name
                );
                continue;
            };
            assert_eq!(
                x.recompute().as_deref(),
                Some(s.bytes.as_slice()),
                "{} {}",
                info.id,
                s.name
            );
            let call = x.call(Lang::En);
            match x {
                Labelled::SshKey { letter, .. } => {
                    assert!(
                        call.contains(&format!("\"{}\"", char::from(letter))),
                        "{call}"
                    );
                    ssh += 1;
                }
                Labelled::HkdfExpand { label, .. } => {
                    assert!(call.contains(std::str::from_utf8(label).unwrap()), "{call}");
                    hybrid += 1;
                }
            }
        }
    }
    assert!(ssh >= 6 && hybrid >= 4, "ssh {ssh}, hybrid {hybrid}");
    eprintln!("{ssh} SSH keys A-F and {hybrid} hybrid keys recomputed from the formula's inputs");
}

/// A formula whose value was drawn, not computed: fresh random bytes or a key pair
/// made from them.
fn drawn(formula: &str) -> bool {
    formula.ends_with(".random")
        || formula == "formula.random"
        || formula.starts_with("smime.formula.random_")
        || formula.starts_with("pki.formula.generate_")
}

#[test]
fn every_other_computed_secret_is_recomputed_from_the_inputs_its_formula_shows() {
    use cipherstage_app::components::detail::{Call, Computed, Expansion, Labelled};
    use cipherstage_app::i18n::Lang;
    use cipherstage_transcript::Event;
    use std::collections::BTreeMap;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for info in scenarios::all() {
        let t = scenarios::run(info.id, &[], Some(1)).unwrap();
        for e in &t.events {
            let Event::Secret(s) = e else { continue };
            if Expansion::of(s).is_some() || Labelled::of(s).is_some() {
                continue; // the two tests above
            }
            let Some(x) = Computed::of(s) else {
                assert!(
                    drawn(&s.formula.key),
                    "{}: {} ({}) has a formula this page cannot recompute from its inputs",
                    info.id,
                    s.name,
                    s.formula.key
                );
                continue;
            };
            assert_eq!(
                x.recompute().as_deref(),
                Some(s.bytes.as_slice()),
                "{} {} ({})",
                info.id,
                s.name,
                s.formula.key
            );
            // A changed input gives another value: the check reads the inputs.
            let mut changed = s.clone();
            let first = changed
                .formula
                .inputs
                .iter_mut()
                .find(|i| !i.bytes.is_empty())
                .unwrap();
            // (The middle byte: X25519 ignores the low bits of its first byte.)
            let mid = first.bytes.len() / 2;
            first.bytes[mid] ^= 0x10;
            let first = first.name.clone();
            if let Some(y) = Computed::of(&changed) {
                assert_ne!(
                    y.recompute().as_deref(),
                    Some(s.bytes.as_slice()),
                    "{} {}: the recomputation ignores {}",
                    info.id,
                    s.name,
                    first
                );
            }
            for lang in [Lang::En, Lang::Ja] {
                let call = x.call(lang);
                assert!(
                    call.contains(&format!("{} B", s.bytes.len())),
                    "{} {}: {call}",
                    info.id,
                    s.name
                );
            }
            let kind = match x {
                Computed::Extract { .. } => "HKDF-Extract",
                Computed::Agreement { .. } => "(EC)DH",
                Computed::Sha256 { .. } => "SHA-256",
                Computed::ExchangeHash { .. } => "SSH exchange hash",
                Computed::SignedContent { .. } => "CertificateVerify content",
                Computed::Skeyseed { .. } => "SKEYSEED",
                Computed::PrfPlus { .. } => "prf+ keys",
                Computed::X963 { .. } => "X9.63 KDF",
                Computed::Unwrap { .. } => "AES key unwrap",
            };
            *counts.entry(kind).or_default() += 1;
        }
    }
    eprintln!("recomputed from the formula's inputs: {counts:?}");
    for kind in [
        "HKDF-Extract",
        "(EC)DH",
        "SHA-256",
        "SSH exchange hash",
        "CertificateVerify content",
        "SKEYSEED",
        "prf+ keys",
        "X9.63 KDF",
        "AES key unwrap",
    ] {
        assert!(
            counts.get(kind).copied().unwrap_or(0) > 0,
            "no {kind}: {counts:?}"
        );
    }
}

#[test]
fn the_layer_map_names_only_protocols_that_have_a_scenario_in_that_layer() {
    use cipherstage_transcript::Layer;
    let en = table(EN);
    let mut terms = 0;
    for (layer, key) in [
        (Layer::Application, "layer.application.examples"),
        (Layer::Transport, "layer.transport.examples"),
        (Layer::Network, "layer.network.examples"),
    ] {
        // The English list: "TLS: HTTPS, mutual TLS" names TLS, HTTPS and mutual TLS.
        let text = en[key];
        for term in text
            .split([',', ':'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            // "SCP/SFTP" names two protocols: each needs its own scenario.
            for name in term.split('/').map(str::to_lowercase) {
                let witness = scenarios::all().find(|info| {
                    info.layer == layer
                        && format!(
                            "{} {} {}",
                            info.id,
                            en.get(info.title_key().as_str()).unwrap_or(&""),
                            en.get(info.summary_key().as_str()).unwrap_or(&"")
                        )
                        .to_lowercase()
                        .contains(name.as_str())
                });
                assert!(
                    witness.is_some(),
                    "{key}: \"{name}\" is advertised, but no {layer:?} scenario shows it"
                );
                terms += 1;
            }
        }
    }
    assert!(terms >= 8, "{terms}");
}

/// One name per role: Alice, Bob, Eve and Mallory are called the same in every
/// family's actor labels (the name `actor.alice`, `actor.bob` and `actor.eve` give,
/// and Mallory's in S/MIME), in both languages, and a label names a role in
/// English exactly when it does in Japanese.
#[test]
fn every_actor_label_calls_a_role_by_its_one_name() {
    let (en, ja) = (table(EN), table(JA));
    let name = |t: &BTreeMap<&str, &str>, k: &str| -> String {
        let v = t
            .get(k)
            .unwrap_or_else(|| panic!("{k} is in the catalogue"));
        v.split([' ', '（', '('])
            .next()
            .unwrap_or_default()
            .trim_end_matches("'s")
            .to_owned()
    };
    let mut roles: Vec<(String, String)> = ["actor.alice", "actor.bob", "actor.eve"]
        .iter()
        .map(|k| (name(&en, k), name(&ja, k)))
        .collect();
    roles.push((name(&en, "smime.actor.mallory"), "マロリー".to_owned()));
    assert_eq!(roles.len(), 4);
    // Other spellings a translator might reach for.
    let variants = ["イヴ", "エヴ", "アリース", "ボッブ", "マロリ—"];
    let word = |text: &str, w: &str| {
        text.split(|c: char| !c.is_alphanumeric() && c != '\'')
            .any(|t| t == w || t == format!("{w}'s"))
    };
    let mut labels = 0;
    let mut faults = Vec::new();
    for (k, v) in &en {
        if !(k.starts_with("actor.") || k.contains(".actor.")) {
            continue;
        }
        labels += 1;
        let j = ja[k];
        for (e, n) in &roles {
            if word(v, e) != j.contains(n.as_str()) {
                faults.push(format!("{k}: {e:?} in {v:?} but {n:?} in {j:?} differ"));
            }
        }
        for bad in variants {
            if j.contains(bad) {
                faults.push(format!("{k}: {j:?} spells a role {bad:?}"));
            }
        }
    }
    assert!(labels > 50, "{labels} actor labels read");
    assert!(faults.is_empty(), "{faults:#?}");
    // Every eavesdropper lane is Eve by name.
    let eves: Vec<_> = en.keys().filter(|k| k.contains("actor.eve")).collect();
    assert!(eves.len() >= 8, "{eves:?}");
    for k in eves {
        assert!(
            en[k].starts_with(&roles[2].0) && ja[k].starts_with(&roles[2].1),
            "{k}: {} / {}",
            en[k],
            ja[k]
        );
    }
}
