//! The QR code of the current view (issue 21 §3), as the inspect worker module
//! makes it: a real QR code of the URL, checked here by its structure and in the
//! Playwright run by decoding the rendered picture with an independent decoder (jsQR).

use cipherstage_worker::qr_modules;

#[test]
fn a_url_gives_a_square_code_with_finder_patterns_and_too_long_text_none() {
    let url = "https://example.org/cipherstage/?s=tls13&lang=ja&seed=1&at=12";
    let m = qr_modules(url).unwrap();
    let (w, bits) = m.split_once(':').unwrap();
    let w: usize = w.parse().unwrap();
    assert_eq!(bits.len(), w * w);
    assert!(
        (w - 17).is_multiple_of(4) && w >= 21,
        "a QR version's side is 17 + 4v"
    );
    // The top-left finder pattern: a 7-module dark ring around a light ring
    // around a 3x3 dark centre (ISO/IEC 18004 §6.3.3).
    let at = |x: usize, y: usize| bits.as_bytes()[y * w + x] == b'1';
    for i in 0..7 {
        assert!(at(i, 0) && at(i, 6) && at(0, i) && at(6, i));
    }
    for i in 1..6 {
        assert!(!at(i, 1) && !at(i, 5) && !at(1, i) && !at(5, i));
    }
    assert!(at(3, 3) && at(2, 2) && at(4, 4));
    // Longer than version 40-M holds (2,331 bytes).
    assert!(qr_modules(&"x".repeat(3000)).is_none());
}
