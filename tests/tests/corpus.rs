//! The golden transcript corpus: the bytes every scenario produces, guarded.
//!
//! For every scenario × seeds 1, 2, 3 × each choice of each parameter (one varied at
//! a time from the defaults) × a spread of flipped bytes, the SHA-256 of the
//! transcript JSON and of the downloadable files made from the same run is stored
//! in `tests/corpus.txt`. A refactor keeps every hash; a change that alters bytes on
//! purpose re-blesses the corpus (`cargo xtask corpus --bless`) in its own commit,
//! naming the scenarios that changed and why.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cipherstage_scenarios::{self as scenarios, ParamKind, ScenarioInfo};
use cipherstage_transcript::Event;

const SEEDS: [u64; 3] = [1, 2, 3];
/// Offsets flipped in each message: the first byte, the middle and the last.
const FLIP_SPREAD: usize = 3;

fn corpus_path() -> std::path::PathBuf {
    cipherstage_tests::root().join("tests").join("corpus.txt")
}

fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One run's fingerprint: the transcript JSON's hash and the export files' hash
/// (names, types and bytes), or the error the run gave.
fn fingerprint(id: &str, params: &[(String, String)], seed: u64) -> String {
    match scenarios::run_with_exports(id, params, Some(seed)) {
        Ok((t, files)) => {
            let mut exports = Vec::new();
            for f in &files {
                exports.extend_from_slice(f.name.as_bytes());
                exports.push(0);
                exports.extend_from_slice(f.mime.as_bytes());
                exports.push(0);
                exports.extend_from_slice(&(f.bytes.len() as u64).to_be_bytes());
                exports.extend_from_slice(&f.bytes);
            }
            format!(
                "{} {}",
                sha256_hex(t.to_json().as_bytes()),
                sha256_hex(&exports)
            )
        }
        Err(e) => format!("error {}", format!("{e:?}").replace(' ', "")),
    }
}

/// Parameter variations of a scenario, one parameter at a time from the defaults.
fn variations(info: &ScenarioInfo) -> Vec<Vec<(String, String)>> {
    let mut out = vec![Vec::new()];
    for p in info.params {
        let alternatives: Vec<String> = match p.kind {
            ParamKind::Choice(options) => options
                .iter()
                .filter(|o| **o != p.default)
                .map(|o| (*o).to_owned())
                .collect(),
            ParamKind::Number => p
                .default
                .parse::<u64>()
                .map(|n| vec![(n + 1).to_string()])
                .unwrap_or_default(),
            ParamKind::Text => vec![format!("{}x", p.default)],
            // Flips are spread separately.
            ParamKind::Tamper => Vec::new(),
        };
        for a in alternatives {
            out.push(vec![(p.name.to_owned(), a)]);
        }
    }
    out
}

/// `case → fingerprint` for every case of the corpus.
fn compute() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // Seed-major, so the per-seed PKI cache of the TLS scenarios is reused.
    for seed in SEEDS {
        for info in scenarios::all() {
            for params in variations(info) {
                let mut case = format!("{} seed={seed}", info.id);
                for (n, v) in &params {
                    let _ = write!(case, " {n}={}", v.escape_default());
                }
                out.insert(case, fingerprint(info.id, &params, seed));
            }
        }
    }
    // Flips: with seed 1 and otherwise default parameters, three bytes of every
    // message of the unflipped run.
    for info in scenarios::all() {
        if !info.params.iter().any(|p| p.name == "flip") {
            continue;
        }
        let clean = [("flip".to_owned(), String::new())];
        let Ok(t) = scenarios::run(info.id, &clean, Some(1)) else {
            continue;
        };
        let lens: Vec<usize> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m.bytes.len()),
                _ => None,
            })
            .collect();
        for (m, len) in lens.into_iter().enumerate() {
            let mut offsets = vec![0, len / 2, len.saturating_sub(1)];
            offsets.dedup();
            for o in offsets.into_iter().take(FLIP_SPREAD) {
                let flip = vec![("flip".to_owned(), format!("{m}:{o}"))];
                let case = format!("{} seed=1 flip={m}:{o}", info.id);
                out.insert(case, fingerprint(info.id, &flip, 1));
            }
        }
    }
    out
}

fn render(map: &BTreeMap<String, String>) -> String {
    let mut s = String::from(
        "# Golden transcript corpus: case | SHA-256 of the transcript JSON | of the exports.\n\
         # Re-bless with `cargo xtask corpus --bless` in its own commit, naming what changed.\n",
    );
    for (case, fp) in map {
        let _ = writeln!(s, "{case} | {fp}");
    }
    s
}

fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(" | "))
        .map(|(c, f)| (c.to_owned(), f.to_owned()))
        .collect()
}

#[test]
fn every_transcript_matches_the_golden_corpus() {
    let now = compute();
    let path = corpus_path();
    if std::env::var_os("CIPHERSTAGE_BLESS").is_some() {
        std::fs::write(&path, render(&now)).expect("write the corpus");
        eprintln!("blessed {} cases into {}", now.len(), path.display());
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask corpus --bless`)", path.display()));
    let golden = parse(&text);
    let mut changed = Vec::new();
    let mut missing = Vec::new();
    for (case, fp) in &now {
        match golden.get(case) {
            Some(g) if g == fp => {}
            Some(_) => changed.push(case.as_str()),
            None => missing.push(case.as_str()),
        }
    }
    let gone: Vec<&str> = golden
        .keys()
        .filter(|c| !now.contains_key(*c))
        .map(String::as_str)
        .collect();
    let mut scenarios_changed: Vec<&str> =
        changed.iter().filter_map(|c| c.split(' ').next()).collect();
    scenarios_changed.dedup();
    assert!(
        changed.is_empty() && missing.is_empty() && gone.is_empty(),
        "the corpus ({} cases) no longer matches:\n  {} changed in scenarios {:?} (first: {:?})\n  \
         {} new cases (first: {:?})\n  {} cases gone (first: {:?})\n\
         If the change is on purpose, run `cargo xtask corpus --bless` and commit it on its own.",
        golden.len(),
        changed.len(),
        scenarios_changed,
        changed.iter().take(5).collect::<Vec<_>>(),
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        gone.len(),
        gone.iter().take(5).collect::<Vec<_>>(),
    );
    assert!(
        now.len() > 100,
        "a corpus of {} cases guards too little",
        now.len()
    );
    eprintln!("{} cases match the golden corpus", now.len());
}
