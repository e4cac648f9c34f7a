//! The project's two commands (and the benchmark), written in Rust so they run
//! wherever cargo does:
//!
//! - `cargo xtask serve` — install what is missing, then serve the app at
//!   http://127.0.0.1:8080 (Trunk, debug build, rebuilds on change);
//! - `cargo xtask test`  — install what is missing, then run every check and
//!   print a summary; exits non-zero on any failure (`.ci/run` calls this);
//! - `cargo xtask bench` — transfer sizes and native vs WASM timing ratios;
//! - `cargo xtask audit [--full]` — the layout audit alone (`--full`: every step);
//! - `cargo xtask zip [OUT]` — a release build as one zip for a USB stick.
//!
//! Installs are idempotent: each tool is checked first (`trunk --version`,
//! `wasm-bindgen --version`, `dpkg-query`, `node_modules/.bin`), so a second
//! run installs nothing. Nothing is downloaded from GitHub: Trunk runs offline
//! with the wasm-bindgen from crates.io and the wasm-opt from npm's binaryen.

mod bench;
mod modules;
mod setup;
mod sitezip;
mod sizes;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::bench(),
        Some("corpus") => corpus(&args[1..]),
        Some("audit") => audit(&args[1..]),
        Some("setup") => setup::ensure(setup::Need::Test),
        Some("modules") => modules::modules(&args[1..]),
        Some("sizes") => sizes::measure(Path::new("dist")).map(|s| println!("{}", s.table())),
        Some("zip") => site_zip(&args[1..]),
        _ => Err(
            "usage: cargo xtask serve | test [--skip-setup] | bench | setup | corpus [--bless] | audit [--full] | modules [DIR] | sizes | zip [OUT]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `crates/xtask`).
fn workspace_root() -> PathBuf {
    // `cargo run` names the checkout it runs in; the compile-time path alone could
    // name another checkout sharing this target directory (its binary is reused).
    let here = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    here.ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A command with the project's tool paths first on PATH.
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", setup::tool_path());
    c
}

/// Runs a command, streaming its output; Err if it fails to start or exits non-zero.
pub fn run(c: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", describe(c));
    let status = c
        .status()
        .map_err(|e| format!("cannot start {}: {e}", describe(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} exited with {status}", describe(c)))
    }
}

fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn serve() -> Result<(), String> {
    setup::ensure(setup::Need::Serve)?;
    eprintln!("\ncipherstage: serving at http://127.0.0.1:8080 (Ctrl-C stops)\n");
    run(cmd("trunk").args([
        "serve",
        "--address",
        "127.0.0.1",
        "--port",
        "8080",
        "--offline",
    ]))
}

/// Checks the golden transcript corpus (`tests/corpus.txt`), or with `--bless`
/// rewrites it from the current code (commit that on its own, naming the change).
fn corpus(args: &[String]) -> Result<(), String> {
    let mut c = cmd("cargo");
    c.args([
        "test",
        "-p",
        "cipherstage-tests",
        "--test",
        "corpus",
        "--",
        "--nocapture",
    ]);
    if args.iter().any(|a| a == "--bless") {
        c.env("CIPHERSTAGE_BLESS", "1");
    }
    run(&mut c)
}

/// The wasm-tested core crates: their tests also run in headless Chromium.
const WASM_TESTED: &[&str] = &[
    "cipherstage-transcript",
    "cipherstage-vpn",
    "cipherstage-hybrid",
    "cipherstage-ipsec",
    "cipherstage-ssh",
    "cipherstage-tls",
    "cipherstage-pki",
    "cipherstage-packets",
    "cipherstage-scenarios",
    "cipherstage-mail",
];

struct Step {
    name: &'static str,
    ok: bool,
    seconds: f64,
    note: String,
}

fn test(args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    if !args.iter().any(|a| a == "--skip-setup") {
        setup::ensure(setup::Need::Test)?;
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut step = |name: &'static str, f: &mut dyn FnMut() -> Result<String, String>| -> bool {
        eprintln!("\n==> {name}");
        let t = Instant::now();
        let r = f();
        let ok = r.is_ok();
        let note = r.unwrap_or_else(|e| e);
        if !ok {
            eprintln!("FAILED: {name}: {note}");
        }
        steps.push(Step {
            name,
            ok,
            seconds: t.elapsed().as_secs_f64(),
            note,
        });
        ok
    };

    step("cargo fmt --check", &mut || {
        run(cmd("cargo").args(["fmt", "--all", "--check"])).map(|_| String::new())
    });
    step("clippy (native, -D warnings)", &mut || {
        run(cmd("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
        .map(|_| String::new())
    });
    step("clippy (app on wasm32, -D warnings)", &mut || {
        run(cmd("cargo").args([
            "clippy",
            "-p",
            "cipherstage-app",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]))
        .map(|_| String::new())
    });
    step("native tests (every crate)", &mut || {
        run(cmd("cargo").args(["test", "--workspace"])).map(|_| String::new())
    });
    step("core tests in headless Chromium (wasm32)", &mut || {
        let mut c = cmd("cargo");
        c.args(["test", "--target", "wasm32-unknown-unknown", "--tests"]);
        for p in WASM_TESTED {
            c.args(["-p", p]);
        }
        c.env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .env("WASM_BINDGEN_USE_BROWSER", "1")
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
        run(&mut c).map(|_| format!("{} crates", WASM_TESTED.len()))
    });
    let built = step("trunk build --release", &mut || {
        run(cmd("trunk").args(["build", "--release", "--offline"])).map(|_| String::new())
    });
    if built {
        step("end-to-end (Playwright, release build)", &mut e2e);
        step(
            "offline copy (zip of dist, read back by Python)",
            &mut || {
                let out = Path::new("target").join("cipherstage-site.zip");
                let _ = std::fs::create_dir_all("target");
                let (n, bytes) = sitezip::write(Path::new("dist"), &out)?;
                let checked = sitezip::check(Path::new("dist"), &out)?;
                Ok(format!(
                    "{n} files, {} KB; {checked} equal after unzip",
                    bytes / 1000
                ))
            },
        );
        step("size budget (per page, gzip)", &mut || {
            let s = sizes::measure(Path::new("dist"))?;
            eprintln!("{}", s.table());
            let (worst, worst_gzip) = s.worst();
            let summary = format!(
                "map {} KB of {} KB; worst scenario page ({worst}) {} KB of {} KB",
                s.map.1 / 1000,
                sizes::BUDGET_MAP / 1000,
                worst_gzip / 1000,
                sizes::BUDGET_SCENARIO / 1000
            );
            if s.map.1 > sizes::BUDGET_MAP || worst_gzip > sizes::BUDGET_SCENARIO {
                Err(format!("over budget: {summary}"))
            } else {
                Ok(summary)
            }
        });
    } else {
        for name in [
            "end-to-end (Playwright, release build)",
            "offline copy (zip)",
            "size budget",
        ] {
            steps.push(Step {
                name,
                ok: false,
                seconds: 0.0,
                note: "not run: the build failed".into(),
            });
        }
    }

    eprintln!("\n================ cipherstage test summary ================");
    for s in &steps {
        eprintln!(
            "{:4}  {:<44} {:>7.1}s  {}",
            if s.ok { "ok" } else { "FAIL" },
            s.name,
            s.seconds,
            s.note
        );
    }
    let failed = steps.iter().filter(|s| !s.ok).count();
    eprintln!(
        "{} steps, {} failed, {:.0}s in all",
        steps.len(),
        failed,
        started.elapsed().as_secs_f64()
    );
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} step(s) failed"))
    }
}

/// `cargo xtask zip [OUT]`: a release build of the site as one zip (default
/// `cipherstage-site.zip`), checked by unzipping it with Python (see [`sitezip`]).
fn site_zip(args: &[String]) -> Result<(), String> {
    setup::ensure(setup::Need::Serve)?;
    run(cmd("trunk").args(["build", "--release", "--offline"]))?;
    let out = PathBuf::from(args.first().map_or("cipherstage-site.zip", String::as_str));
    let (n, bytes) = sitezip::write(Path::new("dist"), &out)?;
    sitezip::check(Path::new("dist"), &out)?;
    eprintln!(
        "wrote {} ({n} files, {} KB): unzip it and serve the folder, as its README.txt says",
        out.display(),
        bytes / 1000
    );
    Ok(())
}

/// `cargo xtask audit [--full]`: the layout audit alone (tests/e2e/specs/audit.spec.mjs)
/// against a release build; `--full` checks every step of every scenario instead of
/// the sample `cargo xtask test` checks.
fn audit(args: &[String]) -> Result<(), String> {
    setup::ensure(setup::Need::Test)?;
    run(cmd("trunk").args(["build", "--release", "--offline"]))?;
    let port = free_port()?;
    let mut server = cmd("node")
        .args(["tests/e2e/serve.mjs", "dist", &port.to_string()])
        .spawn()
        .map_err(|e| format!("cannot start the static server: {e}"))?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(addr).is_ok()
    });
    let full = args.iter().any(|a| a == "--full");
    let result = if ready {
        // --full: every step of the layout audit and of the every-scenario walk.
        let mut c = cmd("npx");
        c.args(["--no-install", "playwright", "test", "specs/audit.spec.mjs"]);
        if full {
            c.arg("specs/scenarios.spec.mjs");
        }
        run(c
            .current_dir("tests/e2e")
            .env("BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("AUDIT_FULL", if full { "1" } else { "0" })
            .env("WALK_FULL", if full { "1" } else { "0" }))
    } else {
        Err("the static server did not start".into())
    };
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// Serves `dist/` on 127.0.0.1 and runs the Playwright specs against it.
fn e2e() -> Result<String, String> {
    // The native core's transcript, which the page's WASM run must equal byte for byte.
    let native = cmd("cargo")
        .args([
            "run",
            "-q",
            "-p",
            "cipherstage-cli",
            "--",
            "run",
            "hybrid",
            "--seed",
            "1",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if !native.status.success() {
        return Err("the native CLI failed".into());
    }
    std::fs::create_dir_all("target/e2e").map_err(|e| e.to_string())?;
    let native_json = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join("target/e2e/native-hybrid-seed1.json");
    std::fs::write(&native_json, &native.stdout).map_err(|e| e.to_string())?;
    let port = free_port()?;
    let mut server = cmd("node")
        .args(["tests/e2e/serve.mjs", "dist", &port.to_string()])
        .spawn()
        .map_err(|e| format!("cannot start the static server: {e}"))?;
    // Bounded wait for the server to listen.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(addr).is_ok()
    });
    if !ready {
        let _ = server.kill();
        let _ = server.wait();
        return Err("the static server did not start".into());
    }
    let result = run(cmd("npx")
        .args(["--no-install", "playwright", "test"])
        .current_dir("tests/e2e")
        .env("BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("NATIVE_JSON", &native_json)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"));
    let _ = server.kill();
    let _ = server.wait();
    result.map(|_| String::new())
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}
