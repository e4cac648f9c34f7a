//! The width an element is laid out at, kept up to date by a `ResizeObserver`,
//! so a drawing can be made at its real pixel size (never scaled: text keeps the
//! size the stylesheet promises).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The laid-out width of `node` in CSS pixels (`fallback` before the first layout),
/// and whether the window is narrow (a phone, a narrow embed).
#[hook]
pub fn use_width(node: NodeRef, fallback: f64) -> (f64, bool) {
    let width = use_state_eq(|| fallback);
    let narrow = use_state_eq(window_is_narrow);
    {
        let width = width.clone();
        let narrow = narrow.clone();
        use_effect_with(node, move |node| {
            let el = node.cast::<web_sys::Element>();
            let observer = el.as_ref().and_then(|el| {
                let w = width.clone();
                let n = narrow.clone();
                let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
                    if let Some(el) = entries
                        .get(0)
                        .dyn_into::<web_sys::ResizeObserverEntry>()
                        .ok()
                        .map(|e| e.target())
                    {
                        w.set(f64::from(el.client_width()).max(1.0));
                    }
                    n.set(window_is_narrow());
                });
                let obs = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()).ok()?;
                obs.observe(el);
                width.set(f64::from(el.client_width()).max(1.0));
                Some((obs, cb))
            });
            move || {
                if let Some((obs, _cb)) = observer {
                    obs.disconnect();
                }
            }
        });
    }
    (*width, *narrow)
}

/// Below this window width the stage is one column and the diagram a timeline.
pub const NARROW: f64 = 600.0;

fn window_is_narrow() -> bool {
    gloo::utils::window()
        .inner_width()
        .ok()
        .and_then(|w| w.as_f64())
        .is_some_and(|w| w < NARROW)
}
