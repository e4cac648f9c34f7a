//! Every key the IPsec transcripts use has English and Japanese text, with the same
//! `{placeholders}` in both languages, each one filled by the narration's arguments.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::{BTreeSet, HashMap};

use cipherstage_ipsec::{run, Algorithm, Inner, Mode, Params, Story, TamperAt};
use cipherstage_transcript::{Event, Transcript};

const I18N: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/i18n");

/// key → text, over every catalogue file of a language; fails on a key defined twice.
fn catalogue(lang: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(format!("{I18N}/{lang}")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (k, v) = line
                .split_once(" = ")
                .unwrap_or_else(|| panic!("{path:?}: bad line {line:?}"));
            let old = out.insert(k.trim().to_owned(), v.trim().to_owned());
            assert!(old.is_none(), "{lang}: {k} defined twice ({path:?})");
        }
    }
    out
}

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn transcripts() -> Vec<Transcript> {
    let mut out = Vec::new();
    for id in [
        Story::Transport,
        Story::Tunnel,
        Story::Replay,
        Story::Tamper,
        Story::Ah,
        Story::Nat,
    ] {
        for algorithm in Algorithm::ALL {
            for mode in [Mode::Transport, Mode::Tunnel] {
                for (nat, mtu, inner) in [(true, 1500, Inner::Http), (false, 80, Inner::Ping)] {
                    for tamper in [None, Some(0), Some(21), Some(27), Some(60)] {
                        let tamper = tamper.map(|offset| TamperAt { message: 0, offset });
                        let p = Params {
                            algorithm,
                            mode,
                            nat,
                            mtu,
                            tamper,
                            inner,
                            ..Params::default()
                        };
                        out.push(run(id, &p, Some(1)));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_transcript_key_has_english_and_japanese_text_with_matching_placeholders() {
    let en = catalogue("en");
    let ja = catalogue("ja");
    let mut used = BTreeSet::new();
    for t in transcripts() {
        for k in t.text_keys() {
            assert!(en.contains_key(k), "en: missing {k}");
            assert!(ja.contains_key(k), "ja: missing {k}");
            used.insert(k.to_owned());
        }
        for e in &t.events {
            if let Event::Narration(n) = e {
                let args: BTreeSet<String> = n.args.iter().map(|(a, _)| a.clone()).collect();
                for lang in [&en, &ja] {
                    let wanted = placeholders(&lang[&n.key]);
                    assert!(
                        wanted.is_subset(&args),
                        "{}: placeholders {wanted:?} vs args {args:?}",
                        n.key
                    );
                }
            }
        }
    }
    assert!(used.len() > 150, "{}", used.len());
    // Our own file: the same keys and placeholders in both languages.
    let own = |lang: &str| -> Vec<(String, BTreeSet<String>)> {
        let text = std::fs::read_to_string(format!("{I18N}/{lang}/ipsec.txt")).unwrap();
        let mut v: Vec<(String, BTreeSet<String>)> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(" = "))
            .map(|(k, v)| (k.to_owned(), placeholders(v)))
            .collect();
        v.sort();
        v
    };
    assert_eq!(own("en"), own("ja"));
}
