//! Transfer size of the built site: what a first visit downloads.

use std::io::Write;
use std::path::Path;

use flate2::{write::GzEncoder, Compression};

/// The initial-transfer budget (wasm + js + css + html, gzip).
pub const BUDGET_GZIP: u64 = 600_000;

/// Raw and gzip sizes per file and in total.
pub struct Sizes {
    /// (file name, raw bytes, gzip bytes).
    pub files: Vec<(String, u64, u64)>,
    /// Sum of raw sizes.
    pub total_raw: u64,
    /// Sum of gzip sizes.
    pub total_gzip: u64,
}

impl Sizes {
    /// A printable table.
    pub fn table(&self) -> String {
        let mut s = format!("{:<40} {:>10} {:>10}\n", "file", "raw", "gzip");
        for (n, r, g) in &self.files {
            s.push_str(&format!("{n:<40} {r:>10} {g:>10}\n"));
        }
        s.push_str(&format!(
            "{:<40} {:>10} {:>10}",
            "total", self.total_raw, self.total_gzip
        ));
        s
    }
}

/// Measures `dist/`'s wasm, js, css and html files.
pub fn measure(dist: &Path) -> Result<Sizes, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    for e in entries.flatten() {
        let path = e.path();
        let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("");
        if !["wasm", "js", "css", "html"].contains(&ext) {
            continue;
        }
        // Only what index.html loads counts as the initial transfer.
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if ext == "html" && name != "index.html" || name.starts_with("embed") {
            continue;
        }
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&data).map_err(|e| e.to_string())?;
        let zipped = gz.finish().map_err(|e| e.to_string())?;
        files.push((name, data.len() as u64, zipped.len() as u64));
    }
    files.sort();
    if !files.iter().any(|(n, _, _)| n.ends_with(".wasm")) {
        return Err("no .wasm in dist: build first".into());
    }
    Ok(Sizes {
        total_raw: files.iter().map(|f| f.1).sum(),
        total_gzip: files.iter().map(|f| f.2).sum(),
        files,
    })
}
