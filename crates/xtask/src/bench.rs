//! `cargo xtask bench`: transfer size of the built site, and one scenario run
//! natively vs in WASM in headless Chromium, as a ratio measured in one run.
//! A benchmark, not a test: it prints numbers and asserts nothing about time.

use std::path::Path;

use crate::{cmd, free_port, run, setup, sizes};

/// Scenarios timed, and iterations per timing (≥ 200: Chromium rounds
/// `performance.now()` to 100 µs).
const CASES: &[(&str, u32)] = &[
    ("hybrid", 300),
    ("hybrid-tamper", 300),
    ("ssh-pubkey", 200),
    ("tls13", 200),
    ("mtls", 200),
    ("ipsec-tunnel", 300),
];
/// ESP seal+open of one 1400-byte payload per iteration (throughput in MB/s).
const ESP_CASES: &[(&str, u32)] = &[
    ("esp:aes128gcm", 3000),
    ("esp:aes256gcm", 3000),
    ("esp:chacha20poly1305", 3000),
];
const ESP_PAYLOAD: f64 = 1400.0;
/// sftp-bulk runs, one 100 MiB upload through SFTP and SSH per iteration (MB/s;
/// the run includes the file's generation, the server's SHA-256 and the transcript).
const BULK_CASES: &[(&str, u32)] = &[
    ("sftp-bulk:chacha20-poly1305", 2),
    ("sftp-bulk:aes256-gcm", 2),
];
const BULK_BYTES: f64 = 100.0 * 1024.0 * 1024.0;

pub fn bench() -> Result<(), String> {
    setup::ensure(setup::Need::Test)?;
    run(cmd("trunk").args(["build", "--release", "--offline"]))?;
    run(cmd("cargo").args(["build", "--release", "-p", "cipherstage-cli"]))?;
    let s = sizes::measure(Path::new("dist"))?;

    let port = free_port()?;
    let mut server = cmd("node")
        .args(["tests/e2e/serve.mjs", "dist", &port.to_string()])
        .spawn()
        .map_err(|e| format!("cannot start the static server: {e}"))?;
    // A static page of the same size as the app's initial transfer, for the load ratio.
    let filler: String = (0..s.total_raw)
        .map(|i| char::from(b'a' + ((i * 7919 + i / 13) % 26) as u8))
        .collect();
    let static_page =
        format!("<!DOCTYPE html><title>static</title><body><p id=\"ready\">static</p><!--{filler}--></body>");
    std::fs::write("dist/bench-static.html", static_page).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut load = String::new();
    let mut longtasks = Vec::new();
    let result = (|| -> Result<(), String> {
        std::thread::sleep(std::time::Duration::from_millis(500));
        for (id, n) in CASES.iter().chain(ESP_CASES).chain(BULK_CASES) {
            let native = measure_native(id, *n)?;
            let wasm = measure_wasm(port, id, *n)?;
            rows.push((*id, *n, native, wasm));
        }
        load = node_bench(&[
            "load",
            &format!("http://127.0.0.1:{port}/?lang=en"),
            &format!("http://127.0.0.1:{port}/bench-static.html"),
        ])?;
        for (id, _) in CASES {
            let url = format!("http://127.0.0.1:{port}/?s={id}&lang=en");
            longtasks.push((*id, node_bench(&["longtasks", &url])?));
        }
        Ok(())
    })();
    let _ = std::fs::remove_file("dist/bench-static.html");
    let _ = server.kill();
    let _ = server.wait();
    result?;

    println!("\n== transfer size (release build, what the first visit downloads)");
    println!("{}", s.table());
    let (worst, worst_gzip) = s.worst();
    println!(
        "map page {:.0} KB gzip (budget {} KB, target 250 KB); worst scenario page {worst} {:.0} KB (budget {} KB, target 450 KB)",
        s.map.1 as f64 / 1000.0,
        sizes::BUDGET_MAP / 1000,
        worst_gzip as f64 / 1000.0,
        sizes::BUDGET_SCENARIO / 1000
    );
    println!("\n== one scenario run (same opt-level \"z\" release profile; seeds 0..n)");
    println!(
        "{:<16} {:>6} {:>12} {:>12} {:>10}",
        "scenario", "n", "native µs", "wasm µs", "wasm/native"
    );
    for (id, n, native, wasm) in rows
        .iter()
        .filter(|r| !r.0.starts_with("esp:") && !r.0.starts_with("sftp-bulk:"))
    {
        println!(
            "{id:<16} {n:>6} {native:>12.1} {wasm:>12.1} {:>9.2}×",
            wasm / native
        );
    }
    println!("\n== ESP seal + open, {ESP_PAYLOAD} B payload per packet (MB/s)");
    println!(
        "{:<24} {:>12} {:>12} {:>12}",
        "algorithm", "native MB/s", "wasm MB/s", "wasm/native"
    );
    for (id, _, native, wasm) in rows.iter().filter(|r| r.0.starts_with("esp:")) {
        let (n_mbs, w_mbs) = (ESP_PAYLOAD / native, ESP_PAYLOAD / wasm);
        println!(
            "{:<24} {n_mbs:>12.1} {w_mbs:>12.1} {:>11.2}×",
            id.trim_start_matches("esp:"),
            wasm / native
        );
    }
    println!("\n== sftp-bulk: a 100 MiB upload through SFTP + SSH, whole run (MB/s)");
    println!(
        "{:<24} {:>12} {:>12} {:>12}",
        "cipher", "native MB/s", "wasm MB/s", "wasm/native"
    );
    for (id, _, native, wasm) in rows.iter().filter(|r| r.0.starts_with("sftp-bulk:")) {
        // µs per run → MB (10^6 bytes) per second.
        let (n_mbs, w_mbs) = (BULK_BYTES / native, BULK_BYTES / wasm);
        println!(
            "{:<24} {n_mbs:>12.1} {w_mbs:>12.1} {:>11.2}×",
            id.trim_start_matches("sftp-bulk:"),
            wasm / native
        );
    }
    let mut ms = load
        .split_whitespace()
        .filter_map(|v| v.parse::<f64>().ok());
    if let (Some(app), Some(stat)) = (ms.next(), ms.next()) {
        println!(
            "\n== cold load to interactive (median of 5, fresh profile)\napp {app:.0} ms, static page of the same size {stat:.0} ms: {:.2}×",
            app / stat.max(1.0)
        );
    }
    println!("\n== long tasks while playing (PerformanceObserver 'longtask', > 50 ms)");
    for (id, r) in longtasks {
        let mut it = r.split_whitespace();
        let count = it.next().unwrap_or("?");
        let max = it.next().unwrap_or("?");
        println!("{id:<16} {count} long tasks, longest {max} ms");
    }
    Ok(())
}

fn node_bench(args: &[&str]) -> Result<String, String> {
    let out = cmd("node")
        .arg("tests/e2e/bench.mjs")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "bench.mjs {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn measure_native(id: &str, n: u32) -> Result<f64, String> {
    let out = cmd("target/release/cipherstage")
        .args(["bench", id, &n.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("native bench of {id} printed nothing usable"))
}

fn measure_wasm(port: u16, id: &str, n: u32) -> Result<f64, String> {
    let url = format!("http://127.0.0.1:{port}/?bench={id}&n={n}");
    let out = cmd("node")
        .args(["tests/e2e/bench.mjs", "run", &url])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "WASM bench of {id} failed: {}{}",
                text,
                String::from_utf8_lossy(&out.stderr)
            )
        })
}
