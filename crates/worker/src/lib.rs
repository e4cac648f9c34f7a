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

/// The QR code of `text` (the page's URL) at error correction level M, as its side
/// in modules, a colon, and one `1` (dark) or `0` per module row by row, without
/// the quiet zone; `""` when the text is too long for any QR version (the app then
/// says to share the link instead).
#[cfg(feature = "qr")]
#[wasm_bindgen]
pub fn qr(text: &str) -> String {
    qr_modules(text).unwrap_or_default()
}

/// [`qr`] as an `Option`.
#[cfg(feature = "qr")]
pub fn qr_modules(text: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let mut out = format!("{width}:");
    out.extend(code.to_colors().iter().map(|c| match c {
        qrcode::Color::Dark => '1',
        qrcode::Color::Light => '0',
    }));
    Some(out)
}
