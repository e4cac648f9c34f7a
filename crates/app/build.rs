//! Concatenates the per-protocol catalogue files `i18n/<lang>/*.txt` into one
//! catalogue per language, so each protocol owns its text file.

use std::{env, fs, path::Path};

fn main() {
    let out = env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    println!("cargo:rerun-if-changed=i18n");
    for lang in ["en", "ja"] {
        let dir = Path::new("i18n").join(lang);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = fs::read_dir(&dir)
            .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
        files.sort();
        let mut all = String::new();
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            all.push_str(&format!("#file {}\n", f.display()));
            all.push_str(&fs::read_to_string(&f).unwrap_or_default());
            all.push('\n');
        }
        let _ = fs::write(Path::new(&out).join(format!("{lang}.txt")), all);
    }
}
