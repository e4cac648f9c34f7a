//! `cargo xtask modules [DIR]`: the build step after Trunk's (a `post_build` hook in
//! Trunk.toml, so `trunk build` and `trunk serve` both run it).
//!
//! - Builds `crates/worker` once per protocol family in [`MODULES`], each with that
//!   family's feature alone, through wasm-bindgen (`--target web`) and, in release,
//!   wasm-opt -Oz: one WASM module per family, which the worker loads on first use.
//! - Writes one catalogue per language (the app no longer carries them).
//! - Gives every file the page or the worker loads a content-hashed name (app,
//!   loader, stylesheet, worker, modules, catalogues), so a cached old file never
//!   meets a new app after a redeploy, and writes the manifest the loader and the
//!   app read into index.html (`<script type="application/json" id="cipherstage-build">`,
//!   data, not script: the page's CSP stays strict).
//!
//! DIR defaults to Trunk's `TRUNK_STAGING_DIR`, else `dist`; the profile follows
//! `TRUNK_PROFILE` (release unless it says debug).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::{cmd, run};

/// Every worker module: each protocol family of the registry, and the inspect box.
/// A test (tests/tests/modules.rs) checks this equals the registry's families.
pub const MODULES: &[&str] = &[
    "hybrid", "tls", "ssh", "ipsec", "ike", "vpn", "smime", "mail", "rdp", "inspect",
];

/// The languages with a catalogue.
pub const LANGS: &[&str] = &["en", "ja"];

/// The first 16 hex digits of SHA-256 of `data`.
fn hash(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut s = String::new();
    for b in d.as_ref().iter().take(8) {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Writes `data` as `dir/stem-HASH.ext` and returns that file name.
fn write_hashed(dir: &Path, stem: &str, ext: &str, data: &[u8]) -> Result<String, String> {
    let name = format!("{stem}-{}.{ext}", hash(data));
    std::fs::write(dir.join(&name), data).map_err(|e| format!("{name}: {e}"))?;
    Ok(name)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The catalogue files every page needs whole (the rest is loaded per family).
pub const BASE_FILES: &[&str] = &["common", "reference", "ui"];

/// One language's catalogue in chunks: `base` (the files every page needs, plus
/// every scenario's title and summary, which the map shows) and one chunk per
/// other file under crates/app/i18n/LANG (`tls`, `pki`, …), which the app fetches
/// when a scenario of a family that uses it opens. Each key's source line from
/// i18n/sources.txt travels with it as `source:KEY = …`.
pub fn catalogue_chunks(lang: &str) -> Result<Vec<(String, String)>, String> {
    let dir = Path::new("crates/app/i18n").join(lang);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let sources = std::fs::read_to_string("crates/app/i18n/sources.txt")
        .map_err(|e| format!("crates/app/i18n/sources.txt: {e}"))?;
    let source_of = |key: &str| {
        sources.lines().find_map(|l| {
            let (k, v) = l.split_once(" = ")?;
            (k.trim() == key).then(|| v.trim().to_owned())
        })
    };
    let mut base = String::new();
    let mut chunks = Vec::new();
    for f in files {
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let whole = BASE_FILES.contains(&stem.as_str());
        let mut chunk = String::new();
        for line in text.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let key = t.split_once(" = ").map_or("", |(k, _)| k.trim());
            let title = key.starts_with("scenario.")
                && (key.ends_with(".title") || key.ends_with(".summary"));
            let out = if whole || title {
                &mut base
            } else {
                &mut chunk
            };
            out.push_str(t);
            out.push('\n');
            if let Some(src) = source_of(key) {
                out.push_str(&format!("source:{key} = {src}\n"));
            }
        }
        if !whole {
            chunks.push((stem, chunk));
        }
    }
    chunks.insert(0, ("base".to_owned(), base));
    Ok(chunks)
}

/// Builds one family's module into `out` and returns (js, wasm) file names.
fn build_module(name: &str, release: bool, out: &Path) -> Result<(String, String), String> {
    let mut c = cmd("cargo");
    c.args([
        "build",
        "-p",
        "cipherstage-worker",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--no-default-features",
        "--features",
        name,
    ]);
    if release {
        c.arg("--release");
    }
    run(&mut c)?;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let wasm = Path::new(&target)
        .join("wasm32-unknown-unknown")
        .join(if release { "release" } else { "debug" })
        .join("cipherstage_worker.wasm");
    let tmp = out.join(format!(".module-{name}"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let stem = format!("core-{name}");
    run(cmd("wasm-bindgen")
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            &stem,
            "--out-dir",
        ])
        .arg(&tmp)
        .arg(&wasm))?;
    let bg = tmp.join(format!("{stem}_bg.wasm"));
    if release {
        let opt = tmp.join(format!("{stem}_opt.wasm"));
        run(cmd("wasm-opt")
            .args([
                "-Oz",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-reference-types",
                "--enable-multivalue",
                "-o",
            ])
            .arg(&opt)
            .arg(&bg))?;
        std::fs::rename(&opt, &bg).map_err(|e| e.to_string())?;
    }
    let js = write_hashed(out, &stem, "js", &read(&tmp.join(format!("{stem}.js")))?)?;
    let wasm = write_hashed(out, &stem, "wasm", &read(&bg)?)?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok((js, wasm))
}

/// Renames `dir/from` to its content-hashed name and returns the new name.
fn hash_in_place(dir: &Path, from: &str, stem: &str, ext: &str) -> Result<String, String> {
    let data = read(&dir.join(from))?;
    let name = write_hashed(dir, stem, ext, &data)?;
    if name != from {
        std::fs::remove_file(dir.join(from)).map_err(|e| format!("{from}: {e}"))?;
    }
    Ok(name)
}

/// The build step (see the module's documentation).
pub fn modules(args: &[String]) -> Result<(), String> {
    let dir = args
        .first()
        .cloned()
        .or_else(|| std::env::var("TRUNK_STAGING_DIR").ok())
        .unwrap_or_else(|| "dist".into());
    let dir = PathBuf::from(dir);
    let release = std::env::var("TRUNK_PROFILE").map_or(true, |p| p != "debug");
    let index_path = dir.join("index.html");
    let mut index = std::fs::read_to_string(&index_path)
        .map_err(|e| format!("{}: {e} (run trunk build first)", index_path.display()))?;
    // Files of an earlier run of this step in the same folder (trunk serve).
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("core-") || n.starts_with("i18n-") || n.starts_with("worker-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    let mut modules = String::new();
    for (i, name) in MODULES.iter().enumerate() {
        eprintln!("==> worker module {name}");
        let (js, wasm) = build_module(name, release, &dir)?;
        let _ = write!(
            modules,
            "{}\"{name}\":{{\"js\":\"{js}\",\"wasm\":\"{wasm}\"}}",
            if i > 0 { "," } else { "" }
        );
    }
    let mut catalogues = String::new();
    for (i, lang) in LANGS.iter().enumerate() {
        let mut chunks = String::new();
        for (j, (stem, text)) in catalogue_chunks(lang)?.iter().enumerate() {
            let name = write_hashed(&dir, &format!("i18n-{lang}-{stem}"), "txt", text.as_bytes())?;
            let _ = write!(
                chunks,
                "{}\"{stem}\":\"{name}\"",
                if j > 0 { "," } else { "" }
            );
        }
        let _ = write!(
            catalogues,
            "{}\"{lang}\":{{{chunks}}}",
            if i > 0 { "," } else { "" }
        );
    }
    let worker = write_hashed(&dir, "worker", "js", &read(Path::new("www/worker.js"))?)?;

    // The app's own files, from Trunk's stable names (Trunk.toml: filehash = false).
    let app_js = hash_in_place(&dir, "app.js", "app", "js")?;
    let app_wasm = hash_in_place(&dir, "app_bg.wasm", "app", "wasm")?;
    let css = hash_in_place(&dir, "style.css", "style", "css")?;
    let loader = hash_in_place(&dir, "loader.js", "loader", "js")?;
    index = index
        .replace("href=\"./style.css\"", &format!("href=\"./{css}\""))
        .replace("src=\"./loader.js\"", &format!("src=\"./{loader}\""));

    let manifest = format!(
        "{{\"app\":{{\"js\":\"{app_js}\",\"wasm\":\"{app_wasm}\"}},\"worker\":\"{worker}\",\"modules\":{{{modules}}},\"catalogues\":{{{catalogues}}},\"offline\":{release}}}"
    );
    let placeholder = "<script type=\"application/json\" id=\"cipherstage-build\">{}</script>";
    if !index.contains(placeholder) {
        return Err("index.html has no cipherstage-build placeholder".into());
    }
    index = index.replace(
        placeholder,
        &format!("<script type=\"application/json\" id=\"cipherstage-build\">{manifest}</script>"),
    );
    std::fs::write(&index_path, index).map_err(|e| e.to_string())?;
    let files = service_worker(&dir)?;
    eprintln!("manifest: {manifest}");
    eprintln!("service worker: {files} files cached for offline use");
    Ok(())
}

/// The service worker's file: `sw.js` (from the www/sw.js template) lists every file
/// of the build but itself, and takes its version from all their contents, so any
/// change to any file is a new cache. Returns how many files it lists.
pub fn service_worker(dir: &Path) -> Result<usize, String> {
    let template = std::fs::read_to_string("www/sw.js").map_err(|e| format!("www/sw.js: {e}"))?;
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "sw.js" && !n.starts_with('.'))
        .collect();
    names.sort();
    let mut all = Vec::new();
    let mut list = String::from("['./'");
    for n in &names {
        all.extend_from_slice(n.as_bytes());
        all.push(0);
        all.extend_from_slice(hash(&read(&dir.join(n))?).as_bytes());
        let _ = write!(list, ", '{n}'");
    }
    list.push(']');
    if !template.contains("'__VERSION__'") || !template.contains("__FILES__") {
        return Err("www/sw.js has no __VERSION__ / __FILES__ placeholder".into());
    }
    let sw = template
        .replace("'__VERSION__'", &format!("'{}'", hash(&all)))
        .replacen("__FILES__", &list, 1);
    std::fs::write(dir.join("sw.js"), sw).map_err(|e| format!("sw.js: {e}"))?;
    Ok(names.len() + 1)
}
