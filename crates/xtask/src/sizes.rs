//! Transfer size of the built site, per page: what a visit downloads, read from
//! the build's manifest (index.html), so it holds however many protocols join.
//!
//! - The map page: index.html, the loader, the app (JS + WASM), the stylesheet
//!   and one catalogue (the larger language's).
//! - A scenario page: the map page plus the worker and that family's module.

use std::io::Write;
use std::path::Path;

use flate2::{write::GzEncoder, Compression};

/// Budget of the map page (gzip). The target is 250 KB.
// 320 KB until the lessons (editor, player, speaker window) took the app's WASM
// from 269 to 303 KB gzip (map page 340 KB).
pub const BUDGET_MAP: u64 = 350_000;
/// Budget of the largest scenario page (gzip). The target is 450 KB.
// 560 KB until 2026-12-02; the mail page (SMTP and IMAP with the TLS client and
// server, 568 KB) raised it to 580 KB; the app's quiz, handout, compare and embed
// views and the RDP picture (app WASM 230 → 269 KB gzip) to 620 KB (mail page
// 608 KB); the lessons (app WASM 269 → 303 KB) and the VPN module's tls-auth /
// tls-crypt and CRLs (aes + ctr, 282 KB gzip) to 680 KB (vpn page 665 KB).
// Issue 12's target, 450 KB, is not met.
pub const BUDGET_SCENARIO: u64 = 680_000;

/// Raw and gzip sizes of each file and page.
pub struct Sizes {
    /// (file name, raw bytes, gzip bytes), every file a page can load.
    pub files: Vec<(String, u64, u64)>,
    /// The map page: (raw, gzip).
    pub map: (u64, u64),
    /// Each family's scenario page: (module, raw, gzip).
    pub pages: Vec<(String, u64, u64)>,
    /// The map page's total raw bytes (for the same-size static page of the bench).
    pub total_raw: u64,
}

impl Sizes {
    /// The largest scenario page: (module, gzip).
    pub fn worst(&self) -> (String, u64) {
        self.pages
            .iter()
            .max_by_key(|p| p.2)
            .map(|p| (p.0.clone(), p.2))
            .unwrap_or_default()
    }

    /// A printable table.
    pub fn table(&self) -> String {
        let mut s = format!("{:<44} {:>10} {:>10}\n", "file", "raw", "gzip");
        for (n, r, g) in &self.files {
            s.push_str(&format!("{n:<44} {r:>10} {g:>10}\n"));
        }
        s.push_str(&format!(
            "{:<44} {:>10} {:>10}\n",
            "page: the map", self.map.0, self.map.1
        ));
        for (m, r, g) in &self.pages {
            s.push_str(&format!(
                "{:<44} {r:>10} {g:>10}\n",
                format!("page: a {m} scenario")
            ));
        }
        s
    }
}

fn gzip(data: &[u8]) -> Result<u64, String> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(data).map_err(|e| e.to_string())?;
    Ok(gz.finish().map_err(|e| e.to_string())?.len() as u64)
}

/// The value of `"key":"…"` after `from` in `text`.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let rest = text.get(at..)?;
    rest.get(..rest.find('"')?)
}

/// Measures the pages of the build in `dist`.
pub fn measure(dist: &Path) -> Result<Sizes, String> {
    let index = std::fs::read_to_string(dist.join("index.html"))
        .map_err(|e| format!("{}/index.html: {e}: build first", dist.display()))?;
    let start = index
        .find("id=\"cipherstage-build\">")
        .ok_or("index.html has no manifest")?;
    let manifest = &index[start
        ..index[start..]
            .find("</script>")
            .map_or(index.len(), |e| start + e)];
    let mut files = Vec::new();
    let mut size = |name: &str| -> Result<(u64, u64), String> {
        let data = std::fs::read(dist.join(name)).map_err(|e| format!("{name}: {e}"))?;
        let s = (data.len() as u64, gzip(&data)?);
        if !files.iter().any(|(n, _, _): &(String, u64, u64)| n == name) {
            files.push((name.to_owned(), s.0, s.1));
        }
        Ok(s)
    };
    let add = |a: (u64, u64), b: (u64, u64)| (a.0 + b.0, a.1 + b.1);
    // The page itself and what it references.
    let mut map = (index.len() as u64, gzip(index.as_bytes())?);
    let app = manifest.find("\"app\":").ok_or("no app in the manifest")?;
    let app_part = &manifest[app..];
    for name in [
        field(app_part, "js").ok_or("no app js")?,
        field(app_part, "wasm").ok_or("no app wasm")?,
    ] {
        map = add(map, size(name)?);
    }
    for prefix in ["./loader-", "./style-"] {
        let at = index
            .find(prefix)
            .ok_or(format!("index.html loads no {prefix}"))?
            + 2;
        let end = index[at..].find('"').map_or(index.len(), |e| at + e);
        map = add(map, size(&index[at..end])?);
    }
    let cats = manifest.find("\"catalogues\":").ok_or("no catalogues")?;
    let cat_part = &manifest[cats..];
    // One language's chunk `chunk`, for the larger language.
    let mut chunk = |chunk: &str| -> Result<(u64, u64), String> {
        let mut worst = (0, 0);
        for lang in ["en", "ja"] {
            let at = cat_part
                .find(&format!("\"{lang}\":{{"))
                .ok_or(format!("no {lang} catalogue"))?;
            let part = &cat_part[at..];
            let part = &part[..part.find('}').unwrap_or(part.len())];
            let c = size(field(part, chunk).ok_or(format!("no {lang} {chunk} chunk"))?)?;
            if c.1 > worst.1 {
                worst = c;
            }
        }
        Ok(worst)
    };
    map = add(map, chunk("base")?);
    // The chunks each module's page adds (crates/scenarios/src/catalog/mod.rs TEXTS).
    let catalog = std::fs::read_to_string("crates/scenarios/src/catalog/mod.rs")
        .map_err(|e| format!("catalog/mod.rs: {e}"))?;
    let mut texts = Vec::new();
    for line in catalog
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("(\""))
    {
        let names: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        if let Some((m, rest)) = names.split_first() {
            let mut sum = (0, 0);
            for c in rest {
                sum = add(sum, chunk(c)?);
            }
            texts.push(((*m).to_owned(), sum));
        }
    }
    let worker = size(field(manifest, "worker").ok_or("no worker")?)?;
    let mods = manifest.find("\"modules\":{").ok_or("no modules")? + 11;
    let mut pages = Vec::new();
    let mut rest = &manifest[mods..cats];
    while let Some(q) = rest.find('"') {
        let Some(end) = rest[q + 1..].find('"') else {
            break;
        };
        let name = &rest[q + 1..q + 1 + end];
        let body_end = rest.find('}').unwrap_or(rest.len());
        let body = &rest[q..body_end];
        let js = size(field(body, "js").ok_or(format!("{name}: no js"))?)?;
        let wasm = size(field(body, "wasm").ok_or(format!("{name}: no wasm"))?)?;
        let own_texts = texts
            .iter()
            .find(|(m, _)| m == name)
            .map_or((0, 0), |(_, t)| *t);
        let page = add(add(add(add(map, worker), js), wasm), own_texts);
        pages.push((name.to_owned(), page.0, page.1));
        rest = &rest[(body_end + 1).min(rest.len())..];
    }
    if pages.is_empty() {
        return Err("the manifest lists no module".into());
    }
    files.push((
        "index.html".into(),
        index.len() as u64,
        gzip(index.as_bytes())?,
    ));
    files.sort();
    Ok(Sizes {
        files,
        total_raw: map.0,
        map,
        pages,
    })
}
