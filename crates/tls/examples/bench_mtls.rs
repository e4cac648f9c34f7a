//! Native timing of one full mTLS scenario (PKI reuse excluded: the scenario builds
//! its PKI, runs the handshake with chain verification both ways, HTTP and close).
//! `cargo run --release -p cipherstage-tls --example bench_mtls`
use std::time::Instant;

use cipherstage_tls::{run, Kind, Params};

fn main() {
    let p = Params::default();
    let n = 200;
    let _ = run("mtls", Kind::Mtls, &p, Some(0));
    let start = Instant::now();
    for i in 0..n {
        let t = run("mtls", Kind::Mtls, &p, Some(i));
        assert!(!t.events.is_empty());
    }
    let per = start.elapsed().as_secs_f64() * 1000.0 / n as f64;
    println!("mtls scenario (PKI build + handshake + HTTP): {per:.3} ms per run, native");
    // Same seed, so the PKI comes from the cache: what a parameter change costs.
    let start = Instant::now();
    for _ in 0..n {
        let t = run("mtls", Kind::Mtls, &p, Some(7));
        assert!(!t.events.is_empty());
    }
    let rerun = start.elapsed().as_secs_f64() * 1000.0 / n as f64;
    println!("re-run with the same seed (PKI cached): {rerun:.3} ms per run, native");
    let start = Instant::now();
    for i in 0..n {
        let p = cipherstage_pki::Pki::build(&mut cipherstage_transcript::rand::Seeded::new(i));
        assert!(p.is_ok());
    }
    let pki = start.elapsed().as_secs_f64() * 1000.0 / n as f64;
    println!("of which building the 14-certificate PKI: {pki:.3} ms");
}
