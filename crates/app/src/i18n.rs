//! The two catalogues, one per language, and lookups into them.
//!
//! Catalogue files are `key = value` lines (`#` starts a comment) under
//! `crates/app/i18n/<lang>/`, concatenated by `build.rs`. A missing key shows
//! as the key itself in brackets, and a test fails on any missing key.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A display language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Japanese.
    Ja,
}

impl Lang {
    /// The code kept in URLs and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language for a code, if it is one of ours.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The other language (the L key).
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Ja,
            Lang::Ja => Lang::En,
        }
    }
}

/// The English catalogue text.
pub const EN: &str = include_str!(concat!(env!("OUT_DIR"), "/en.txt"));
/// The Japanese catalogue text.
pub const JA: &str = include_str!(concat!(env!("OUT_DIR"), "/ja.txt"));

/// A malformed catalogue line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError {
    /// 1-based line in the concatenated text.
    pub line: usize,
    /// What is wrong.
    pub what: &'static str,
    /// The key concerned, if any.
    pub key: String,
}

/// Parses a catalogue; rejects lines without ` = ` and duplicate keys.
pub fn parse(text: &str) -> Result<Vec<(&str, &str)>, CatalogueError> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once(" = ") else {
            return Err(CatalogueError {
                line: i + 1,
                what: "expected `key = value`",
                key: String::new(),
            });
        };
        let k = k.trim();
        if !seen.insert(k) {
            return Err(CatalogueError {
                line: i + 1,
                what: "duplicate key",
                key: k.to_owned(),
            });
        }
        out.push((k, v.trim()));
    }
    Ok(out)
}

fn table(lang: Lang) -> &'static HashMap<&'static str, &'static str> {
    static EN_T: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    static JA_T: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    let (cell, text) = match lang {
        Lang::En => (&EN_T, EN),
        Lang::Ja => (&JA_T, JA),
    };
    cell.get_or_init(|| parse(text).unwrap_or_default().into_iter().collect())
}

/// The text of `key`, or `⟦key⟧` if the catalogue lacks it.
pub fn tr(lang: Lang, key: &str) -> String {
    match table(lang).get(key) {
        Some(v) => (*v).to_owned(),
        None => format!("⟦{key}⟧"),
    }
}

/// The text of `key` with `{name}` placeholders replaced by `args`.
pub fn tr_args(lang: Lang, key: &str, args: &[(String, String)]) -> String {
    let mut s = tr(lang, key);
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// Whether the catalogue of `lang` has `key`.
pub fn has(lang: Lang, key: &str) -> bool {
    table(lang).contains_key(key)
}

/// The source table (`i18n/sources.txt`): where each explanation, narration and
/// formula comes from, one `key = source` line per key, the same in both languages.
pub const SOURCES: &str = include_str!("../i18n/sources.txt");

/// The source the table names for `key` (`RFC 9846 §4.3.3`), if any.
pub fn source(key: &str) -> Option<&'static str> {
    static T: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    T.get_or_init(|| parse(SOURCES).unwrap_or_default().into_iter().collect())
        .get(key)
        .copied()
}

/// The source of `key` as shown in `lang` ("Source: RFC 9846 §4.3.3"); a narration
/// that only reports this run says so.
pub fn source_text(lang: Lang, key: &str) -> Option<String> {
    let s = source(key)?;
    let s = if s == "run" {
        tr(lang, "ui.source.run")
    } else {
        s.to_owned()
    };
    Some(format!("{}: {s}", tr(lang, "ui.source")))
}
