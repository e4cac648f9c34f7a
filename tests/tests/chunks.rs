//! The web build loads its catalogue in chunks: a base every page has, and per
//! family the chunks `catalog::TEXTS` names. Every key a scenario can show must be
//! in its family's chunks or the base, or the page would show `⟦key⟧`.

use std::collections::{BTreeMap, BTreeSet};

use cipherstage_scenarios::{self as scenarios, catalog, ParamKind};

/// The catalogue files whole in the base (crates/xtask/src/modules.rs BASE_FILES).
const BASE_FILES: &[&str] = &["common", "reference", "ui"];

/// key → the chunk that carries it, as `cargo xtask modules` splits them.
fn chunk_of() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let dir = cipherstage_tests::root().join("crates/app/i18n/en");
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "txt") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let Some((k, _)) = line.trim().split_once(" = ") else {
                continue;
            };
            let k = k.trim();
            let base = BASE_FILES.contains(&stem.as_str())
                || (k.starts_with("scenario.")
                    && (k.ends_with(".title") || k.ends_with(".summary")));
            out.insert(
                k.to_owned(),
                if base { "base".into() } else { stem.clone() },
            );
        }
    }
    out
}

#[test]
fn the_base_files_are_the_ones_the_build_step_keeps_whole() {
    let xtask =
        std::fs::read_to_string(cipherstage_tests::root().join("crates/xtask/src/modules.rs"))
            .unwrap();
    let line = xtask
        .lines()
        .find(|l| l.starts_with("pub const BASE_FILES"))
        .unwrap();
    let listed: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
    assert_eq!(listed, BASE_FILES);
}

#[test]
fn every_key_a_scenario_shows_is_in_its_familys_chunks_or_the_base() {
    let chunk = chunk_of();
    let mut missing = BTreeSet::new();
    let mut checked = 0;
    for info in scenarios::all() {
        let allowed: Vec<&str> = catalog::texts(info.protocol).to_vec();
        assert!(
            !allowed.is_empty(),
            "{}: no TEXTS entry for {}",
            info.id,
            info.protocol
        );
        let mut runs = vec![scenarios::run(info.id, &[], Some(1)).unwrap()];
        for p in info.params {
            if let ParamKind::Choice(options) = p.kind {
                for o in options {
                    runs.push(
                        scenarios::run(info.id, &[(p.name.into(), (*o).into())], Some(1)).unwrap(),
                    );
                }
            }
        }
        if info.params.iter().any(|p| p.kind == ParamKind::Tamper) {
            let base = scenarios::run(info.id, &[], Some(1)).unwrap();
            for (mi, m) in base.messages().enumerate() {
                for off in [0, m.bytes.len() / 2, m.bytes.len().saturating_sub(1)] {
                    if let Ok(t) =
                        scenarios::run(info.id, &[("flip".into(), format!("{mi}:{off}"))], Some(1))
                    {
                        runs.push(t);
                    }
                }
            }
        }
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for t in &runs {
            keys.extend(t.text_keys().into_iter().map(str::to_owned));
        }
        for f in scenarios::exports(info.id, &[], Some(1)).unwrap_or_default() {
            keys.insert(f.label.to_owned());
        }
        for p in info.params {
            keys.insert(p.label_key());
            if let ParamKind::Choice(options) = p.kind {
                for o in options {
                    keys.insert(format!("param.{}.{o}", p.name));
                }
            }
        }
        for k in keys {
            checked += 1;
            match chunk.get(&k).map(String::as_str) {
                Some("base") => {}
                Some(c) if allowed.contains(&c) => {}
                Some(c) => {
                    missing.insert(format!(
                        "{} ({}): {k} is in chunk {c}",
                        info.id, info.protocol
                    ));
                }
                None => {
                    missing.insert(format!("{}: {k} has no text at all", info.id));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} keys outside their chunks:\n{}",
        missing.len(),
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
    assert!(checked > 3000, "only {checked} keys checked");
}

#[test]
fn every_key_the_app_itself_names_is_in_the_base() {
    // "ui.…" literals in the app's source are shown on every page.
    let chunk = chunk_of();
    let mut dirs = vec![cipherstage_tests::root().join("crates/app/src")];
    let mut bad = Vec::new();
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for part in text.split("\"ui.").skip(1) {
                let Some((rest, _)) = part.split_once('"') else {
                    continue;
                };
                if rest.contains('{') || rest.ends_with('.') {
                    continue;
                }
                let k = format!("ui.{rest}");
                if let Some(c) = chunk.get(&k) {
                    if c != "base" {
                        bad.push(format!("{k} ({})", p.display()));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "app keys outside the base: {bad:?}");
}
