//! One protocol family's module for the app's Web Worker (`www/worker.js`).
//!
//! The app posts a request as JSON; the worker loads the module of the family
//! the request needs (once) and calls [`handle`]. The answer is JSON too
//! ([`cipherstage_scenarios::wire::Response`]). The main thread never runs a
//! protocol: it links the registry's catalogue and this boundary, no core.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use wasm_bindgen::prelude::wasm_bindgen;

/// Answers one request (JSON text) with this module's core.
#[wasm_bindgen]
pub fn handle(request: &str) -> String {
    cipherstage_scenarios::wire::handle(request)
}

/// [`handle`], calling `report(fraction)` as a heavy scene reports its progress
/// (the worker posts each to the page's progress bar).
#[wasm_bindgen]
pub fn handle_reporting(request: &str, report: js_sys::Function) -> String {
    cipherstage_scenarios::wire::handle_reporting(request, move |f| {
        let _ = report.call1(
            &wasm_bindgen::JsValue::NULL,
            &wasm_bindgen::JsValue::from_f64(f),
        );
    })
}

/// The families this module links, comma-separated (the loader checks it is the
/// module it asked for).
#[wasm_bindgen]
pub fn families() -> String {
    let mut v: Vec<&str> = cipherstage_scenarios::linked_families().collect();
    if cfg!(feature = "inspect") {
        v.push(cipherstage_scenarios::wire::INSPECT_MODULE);
    }
    v.join(",")
}

/// Runs `n` iterations of benchmark `name` (a scenario id, or `esp:ALGORITHM`)
/// with seeds 0..n and returns whether it could; the worker times the call.
#[wasm_bindgen]
pub fn bench(name: &str, n: u32) -> bool {
    if cipherstage_scenarios::bench_once(name, 1).is_none() {
        return false;
    }
    for i in 0..n {
        std::hint::black_box(cipherstage_scenarios::bench_once(name, u64::from(i)));
    }
    true
}
