//! Browser glue: address bar, document language, downloads, the panic page.
//! Everything here tolerates a missing window or element: it does nothing then.

use std::sync::atomic::{AtomicU8, Ordering};

use wasm_bindgen::JsCast;

use crate::i18n::{tr, Lang};
use crate::url::UrlState;

static LANG: AtomicU8 = AtomicU8::new(0);

/// The query string of the current address, decoded.
pub fn read_url() -> UrlState {
    let search = gloo::utils::window()
        .location()
        .search()
        .unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return UrlState::default();
    };
    let mut pairs = Vec::new();
    if let Some(iter) = js_sys::try_iter(&params).ok().flatten() {
        for entry in iter.take(64).flatten() {
            let arr: js_sys::Array = entry.unchecked_into();
            let k = arr.get(0).as_string().unwrap_or_default();
            let v = arr.get(1).as_string().unwrap_or_default();
            pairs.push((k, v));
        }
    }
    UrlState::from_pairs(pairs)
}

/// Replaces the address's query with `u` (no new history entry, no request).
pub fn write_url(u: &UrlState) {
    let Ok(params) = web_sys::UrlSearchParams::new() else {
        return;
    };
    for (k, v) in u.to_pairs() {
        params.append(&k, &v);
    }
    let query: String = params.to_string().into();
    let query = query.replace("embed=&", "embed&");
    let query = query
        .strip_suffix("embed=")
        .map_or(query.clone(), |q| format!("{q}embed"));
    let window = gloo::utils::window();
    let path = window.location().pathname().unwrap_or_default();
    let url = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The browser's preferred language, if Japanese; English otherwise.
pub fn browser_lang() -> Lang {
    let nav = gloo::utils::window().navigator();
    let langs = nav.languages();
    let first = langs
        .get(0)
        .as_string()
        .or_else(|| nav.language())
        .unwrap_or_default();
    if first.to_ascii_lowercase().starts_with("ja") {
        Lang::Ja
    } else {
        Lang::En
    }
}

/// Sets `<html lang>` and remembers the language for the panic page.
pub fn set_lang(lang: Lang) {
    LANG.store(if lang == Lang::Ja { 1 } else { 0 }, Ordering::Relaxed);
    if let Some(el) = gloo::utils::document().document_element() {
        let _ = el.set_attribute("lang", lang.code());
    }
}

/// Sets `<html data-theme>`, which the stylesheet keys its colours on.
pub fn set_theme(code: &str) {
    if let Some(el) = gloo::utils::document().document_element() {
        let _ = el.set_attribute("data-theme", code);
    }
}

/// Enters or leaves full screen; a refusal (no user gesture, an iframe) is fine.
pub fn fullscreen(on: bool) {
    let doc = gloo::utils::document();
    if on {
        if let Some(el) = doc.document_element() {
            let _ = el.request_fullscreen();
        }
    } else if doc.fullscreen_element().is_some() {
        doc.exit_fullscreen();
    }
}

/// Posts the content height to the embedding page (see `www/embed.js`).
pub fn post_height() {
    let window = gloo::utils::window();
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    // The app's own height: the document's would never shrink below the iframe's.
    let height = gloo::utils::document()
        .get_element_by_id("app")
        .map_or(0, |e| e.scroll_height());
    let msg = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&msg, &"type".into(), &"cipherstage:size".into());
    let _ = js_sys::Reflect::set(&msg, &"height".into(), &height.into());
    let _ = parent.post_message(&msg, "*");
}

/// The address of the folder the app is served from (for embed snippets).
pub fn app_base() -> String {
    let loc = gloo::utils::window().location();
    let origin = loc.origin().unwrap_or_default();
    let path = loc.pathname().unwrap_or_default();
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{origin}{dir}/")
}

/// Copies the text of a textarea by selecting it (works without clipboard permissions).
pub fn copy_from(id: &str) -> bool {
    let doc = gloo::utils::document();
    let Some(area) = doc
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return false;
    };
    area.select();
    doc.dyn_into::<web_sys::HtmlDocument>()
        .ok()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false)
}

fn current_lang() -> Lang {
    if LANG.load(Ordering::Relaxed) == 1 {
        Lang::Ja
    } else {
        Lang::En
    }
}

/// Whether a key press belongs to a text field rather than to the app.
pub fn typing_in_field(e: &web_sys::KeyboardEvent) -> bool {
    let Some(target) = e.target() else {
        return false;
    };
    let Some(el) = target.dyn_ref::<web_sys::Element>() else {
        return false;
    };
    matches!(
        el.tag_name().to_ascii_lowercase().as_str(),
        "input" | "textarea" | "select"
    )
}

/// Offers `text` as a file download made in the page (nothing leaves it).
pub fn download(filename: &str, mime: &str, bytes: &[u8]) {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let doc = gloo::utils::document();
    if let Some(a) = doc
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(filename);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// After a panic the WASM instance is dead: show the static panic page (in
/// `index.html`) in the current language, with a reload link to the same address.
pub fn install_panic_page() {
    // Through yew, so its renderer does not replace this hook with its own.
    yew::set_custom_panic_hook(Box::new(|info| {
        let doc = gloo::utils::document();
        let lang = current_lang();
        if let Some(el) = doc.get_element_by_id("fatal") {
            let _ = el.remove_attribute("hidden");
        }
        if let Some(el) = doc.get_element_by_id("fatal-title") {
            el.set_text_content(Some(&tr(lang, "ui.fatal.title")));
        }
        if let Some(el) = doc.get_element_by_id("fatal-body") {
            el.set_text_content(Some(&tr(lang, "ui.fatal.body")));
        }
        if let Some(el) = doc.get_element_by_id("fatal-reload") {
            el.set_text_content(Some(&tr(lang, "ui.fatal.reload")));
            let href = gloo::utils::window().location().href().unwrap_or_default();
            let _ = el.set_attribute("href", &href);
        }
        if let Some(el) = doc.get_element_by_id("fatal-detail") {
            el.set_text_content(Some(&info.to_string()));
        }
        if let Some(el) = doc.get_element_by_id("app") {
            let _ = el.set_attribute("hidden", "");
        }
    }));
}

/// Whether the address asks for the WASM benchmark (`?bench=ID&n=N`).
pub fn bench_requested() -> bool {
    gloo::utils::window()
        .location()
        .search()
        .unwrap_or_default()
        .contains("bench=")
}

/// Runs one scenario `n` times (seeds 0..n, as the native bench does) and
/// writes microseconds per run into `#bench-result[data-us]`.
pub fn bench() {
    let search = gloo::utils::window()
        .location()
        .search()
        .unwrap_or_default();
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok();
    let get = |k: &str| params.as_ref().and_then(|p| p.get(k));
    let id = get("bench").unwrap_or_default();
    let n: u32 = get("n")
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .clamp(1, 100_000);
    let doc = gloo::utils::document();
    let Some(app) = doc.get_element_by_id("app") else {
        return;
    };
    let perf = gloo::utils::window().performance();
    let now = || perf.as_ref().map_or(0.0, |p| p.now());
    let text = match cipherstage_scenarios::bench_once(&id, 1) {
        None => format!("bench: cannot run {id:?}"),
        Some(()) => {
            let start = now();
            for i in 0..n {
                std::hint::black_box(cipherstage_scenarios::bench_once(&id, u64::from(i)));
            }
            let us = (now() - start) * 1000.0 / f64::from(n);
            app.set_inner_html("");
            if let Ok(pre) = doc.create_element("pre") {
                pre.set_id("bench-result");
                let _ = pre.set_attribute("data-us", &format!("{us:.3}"));
                pre.set_text_content(Some(&format!("{id}: {us:.1} µs per run ({n} runs)")));
                let _ = app.append_child(&pre);
            }
            return;
        }
    };
    app.set_text_content(Some(&text));
}
