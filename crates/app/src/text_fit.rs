//! Text that fits: measures a string in the font it will be drawn in (a canvas
//! measures exactly what the SVG will show) and shortens it with "…" to a width.
//! The full text stays one hover (`<title>`) or one click (the step's caption) away.

use std::cell::RefCell;

use wasm_bindgen::JsCast;

/// The font stack of the stylesheet's `--font` (a canvas does not read CSS variables).
pub const FONT: &str = "system-ui, -apple-system, \"Segoe UI\", \"Hiragino Sans\", \"Noto Sans CJK JP\", \"Yu Gothic UI\", sans-serif";

thread_local! {
    static CTX: RefCell<Option<web_sys::CanvasRenderingContext2d>> = const { RefCell::new(None) };
}

/// The CSS font shorthand for `px` pixels at `weight`.
pub fn font(weight: u16, px: f64) -> String {
    format!("{weight} {px}px {FONT}")
}

/// Width of `text` in `font`, in CSS pixels. Without a canvas (tests outside a
/// browser) a generous estimate: CJK glyphs one em, others 0.62 em.
pub fn measure(font: &str, px: f64, text: &str) -> f64 {
    let exact = CTX.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = canvas();
        }
        let ctx = cell.as_ref()?;
        ctx.set_font(font);
        ctx.measure_text(text).ok().map(|m| m.width())
    });
    exact.unwrap_or_else(|| {
        text.chars()
            .map(|c| if c.is_ascii() { 0.62 * px } else { px })
            .sum()
    })
}

fn canvas() -> Option<web_sys::CanvasRenderingContext2d> {
    let doc = web_sys::window()?.document()?;
    let canvas: web_sys::HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// `text` as it fits in `max` pixels: itself, or its longest prefix followed by
/// "…". The flag says whether it was shortened.
pub fn fit(font: &str, px: f64, text: &str, max: f64) -> (String, bool) {
    if measure(font, px, text) <= max {
        return (text.to_owned(), false);
    }
    let chars: Vec<char> = text.chars().collect();
    // The longest prefix that fits, by bisection over the number of characters.
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate: String = chars.iter().take(mid).collect::<String>() + "…";
        if measure(font, px, &candidate) <= max {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let prefix: String = chars.iter().take(lo).collect();
    (format!("{}…", prefix.trim_end()), true)
}
