//! `cipherstage`: the native command-line tool.
//!
//! ```text
//! cipherstage list
//! cipherstage run SCENARIO [--seed N] [--param NAME=VALUE]...   # transcript JSON on stdout
//! cipherstage export SCENARIO DIR [--seed N] [--param NAME=VALUE]...  # the app's downloads
//! cipherstage check FILE.json                                    # import + every-byte check
//! cipherstage bench SCENARIO ITERATIONS                          # µs per run, for the bench
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use cipherstage_scenarios as scenarios;
use cipherstage_transcript::{check_coverage, Transcript};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("cipherstage: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (cmd, rest) = args.split_first().ok_or_else(usage)?;
    match cmd.as_str() {
        "list" => {
            for s in scenarios::all() {
                println!("{}\t{:?}\t{}", s.id, s.layer, s.protocol);
            }
            Ok(())
        }
        "run" => {
            let (id, opts) = rest.split_first().ok_or_else(usage)?;
            let (seed, params) = options(opts)?;
            let t = scenarios::run(id, &params, seed).map_err(|e| format!("{e:?}"))?;
            check_coverage(&t).map_err(|e| format!("unexplained bytes: {e}"))?;
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout().lock(), "{}", t.to_json());
            Ok(())
        }
        "export" => {
            let (id, rest) = rest.split_first().ok_or_else(usage)?;
            let (dir, opts) = rest.split_first().ok_or_else(usage)?;
            let (seed, params) = options(opts)?;
            let (t, files) =
                scenarios::run_with_exports(id, &params, seed).map_err(|e| format!("{e:?}"))?;
            check_coverage(&t).map_err(|e| format!("unexplained bytes: {e}"))?;
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut written = vec![(format!("{id}-transcript.json"), t.to_json().into_bytes())];
            written.extend(files.into_iter().map(|f| (f.name, f.bytes)));
            for (name, bytes) in &written {
                // Names come from the registry; keep them inside DIR all the same.
                if name.contains('/') || name.contains('\\') || name.starts_with('.') {
                    return Err(format!("refusing file name {name:?}"));
                }
                let path = dir.join(name);
                std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                println!("{}\t{} bytes", path.display(), bytes.len());
            }
            Ok(())
        }
        "check" => {
            let path = rest.first().ok_or_else(usage)?;
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let t = Transcript::from_json(&text)
                .map_err(|e| format!("{path}:{}:{}: {}", e.line, e.column, e.detail))?;
            check_coverage(&t).map_err(|e| format!("unexplained bytes: {e}"))?;
            println!(
                "{path}: {} events, {} messages, every byte explained",
                t.events.len(),
                t.messages().count()
            );
            Ok(())
        }
        "bench" => {
            let id = rest.first().ok_or_else(usage)?;
            let n: u32 = rest
                .get(1)
                .map(|s| s.parse().map_err(|_| usage()))
                .transpose()?
                .unwrap_or(200);
            scenarios::bench_once(id, 1).ok_or_else(|| format!("cannot bench {id:?}"))?;
            let start = Instant::now();
            for i in 0..n {
                std::hint::black_box(scenarios::bench_once(id, u64::from(i)));
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n.max(1));
            println!("{us:.3}");
            Ok(())
        }
        _ => Err(usage()),
    }
}

/// Parameters as given: (name, value).
type Params = Vec<(String, String)>;

/// `--seed N|live` and `--param NAME=VALUE` options (seed 1 unless given).
fn options(opts: &[String]) -> Result<(Option<u64>, Params), String> {
    let mut seed = Some(1u64);
    let mut params = Vec::new();
    let mut it = opts.iter();
    while let Some(opt) = it.next() {
        let val = it.next().ok_or_else(usage)?;
        match opt.as_str() {
            "--seed" if val == "live" => seed = None,
            "--seed" => seed = Some(val.parse().map_err(|_| format!("bad seed {val:?}"))?),
            "--param" => {
                let (n, v) = val.split_once('=').ok_or_else(usage)?;
                params.push((n.to_owned(), v.to_owned()));
            }
            _ => return Err(usage()),
        }
    }
    Ok((seed, params))
}

fn usage() -> String {
    "usage: cipherstage list | run SCENARIO [--seed N|live] [--param NAME=VALUE]... | export SCENARIO DIR [--seed N|live] [--param NAME=VALUE]... | check FILE.json | bench SCENARIO [N]".into()
}
