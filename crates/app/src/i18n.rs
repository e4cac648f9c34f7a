//! The two catalogues, one per language, and lookups into them.
//!
//! Catalogue files are `key = value` lines (`#` starts a comment) under
//! `crates/app/i18n/<lang>/`, concatenated by `build.rs`. The web build does not
//! carry them: `cargo xtask modules` writes one file per language into the build
//! (content-hashed, named in the manifest), the loader fetches the page's language
//! beside the app, and the other is fetched when the reader switches. A missing
//! key shows as the key itself in brackets, and a test fails on any missing key.

use std::collections::HashMap;
#[cfg(not(target_arch = "wasm32"))]
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

    /// The language's name in itself (the switch shows the other one's before its
    /// catalogue is fetched).
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "日本語",
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

/// The English catalogue text, built into native builds (tests, tools). The web
/// build loads one catalogue per language at run time instead ([`install`]).
#[cfg(not(target_arch = "wasm32"))]
pub const EN: &str = include_str!(concat!(env!("OUT_DIR"), "/en.txt"));
/// The Japanese catalogue text, built into native builds.
#[cfg(not(target_arch = "wasm32"))]
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

type Table = HashMap<&'static str, &'static str>;

thread_local! {
    static TABLES: std::cell::RefCell<[Table; 2]> = std::cell::RefCell::new([Table::new(), Table::new()]);
    static CHUNKS: std::cell::RefCell<Vec<(Lang, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn slot(lang: Lang) -> usize {
    match lang {
        Lang::En => 0,
        Lang::Ja => 1,
    }
}

/// Installs one chunk of the catalogue of `lang` (`base`, `tls`, …; fetched from
/// the build, see crates/xtask/src/modules.rs); a chunk installed twice is kept
/// once. The text lives as long as the page: each chunk once per language.
pub fn install(lang: Lang, chunk: &str, text: String) -> Result<(), CatalogueError> {
    if has_chunk(lang, chunk) {
        return Ok(());
    }
    let text: &'static str = Box::leak(text.into_boxed_str());
    let lines = parse(text)?;
    TABLES.with(|t| {
        if let Some(table) = t.borrow_mut().get_mut(slot(lang)) {
            table.extend(lines);
        }
    });
    CHUNKS.with(|c| c.borrow_mut().push((lang, chunk.to_owned())));
    Ok(())
}

/// Whether chunk `chunk` of `lang` is here (native builds carry every chunk).
pub fn has_chunk(lang: Lang, chunk: &str) -> bool {
    if cfg!(not(target_arch = "wasm32")) {
        return true;
    }
    CHUNKS.with(|c| c.borrow().iter().any(|(l, n)| *l == lang && n == chunk))
}

/// Whether the base catalogue of `lang` is here (every page needs it).
pub fn is_loaded(lang: Lang) -> bool {
    has_chunk(lang, "base")
}

/// The chunks of `lang` a page showing `module`'s scenarios needs and lacks.
pub fn missing(lang: Lang, module: Option<&str>) -> Vec<&'static str> {
    std::iter::once("base")
        .chain(
            module
                .map_or(&[][..], cipherstage_scenarios::catalog::texts)
                .iter()
                .copied(),
        )
        .filter(|c| !has_chunk(lang, c))
        .collect()
}

/// Native builds carry both whole catalogues.
#[cfg(not(target_arch = "wasm32"))]
fn builtin() {
    let empty = TABLES.with(|t| t.borrow().iter().any(HashMap::is_empty));
    if empty {
        TABLES.with(|t| {
            let mut t = t.borrow_mut();
            for (table, text) in t.iter_mut().zip([EN, JA]) {
                if table.is_empty() {
                    table.extend(parse(text).unwrap_or_default());
                }
            }
        });
    }
}

fn lookup(lang: Lang, key: &str) -> Option<&'static str> {
    #[cfg(not(target_arch = "wasm32"))]
    builtin();
    TABLES.with(|t| t.borrow().get(slot(lang))?.get(key).copied())
}

/// The text of `key`, or `⟦key⟧` if the catalogue lacks it.
pub fn tr(lang: Lang, key: &str) -> String {
    match lookup(lang, key) {
        Some(v) => v.to_owned(),
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

/// Every key of the catalogue of `lang` (the chunks here) that starts with `prefix`,
/// sorted: a protocol's enum, such as its alerts (`tls.alert.`).
pub fn keys_with_prefix(lang: Lang, prefix: &str) -> Vec<String> {
    #[cfg(not(target_arch = "wasm32"))]
    builtin();
    let mut keys: Vec<String> = TABLES.with(|t| {
        t.borrow()
            .get(slot(lang))
            .map(|table| {
                table
                    .keys()
                    .filter(|k| k.starts_with(prefix) && !k.starts_with("source:"))
                    .map(|k| (*k).to_owned())
                    .collect()
            })
            .unwrap_or_default()
    });
    keys.sort();
    keys
}

/// Whether the catalogue of `lang` has `key`.
pub fn has(lang: Lang, key: &str) -> bool {
    lookup(lang, key).is_some()
}

/// The source table (`i18n/sources.txt`): where each explanation, narration and
/// formula comes from, one `key = source` line per key, the same in both
/// languages. Native builds carry it; the web build's catalogue chunks carry each
/// key's line as `source:KEY`, beside the key's text.
#[cfg(not(target_arch = "wasm32"))]
pub const SOURCES: &str = include_str!("../i18n/sources.txt");

/// The source the table names for `key` (`RFC 9846 §4.3.3`), if any.
#[cfg(not(target_arch = "wasm32"))]
pub fn source(key: &str) -> Option<&'static str> {
    static T: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    T.get_or_init(|| parse(SOURCES).unwrap_or_default().into_iter().collect())
        .get(key)
        .copied()
}

/// The source the table names for `key`, from the catalogue chunk that carries it.
#[cfg(target_arch = "wasm32")]
pub fn source(key: &str) -> Option<&'static str> {
    lookup(Lang::En, &format!("source:{key}"))
        .or_else(|| lookup(Lang::Ja, &format!("source:{key}")))
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
