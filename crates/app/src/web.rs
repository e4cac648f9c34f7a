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

/// The address's fragment (`#lesson=…`), as written.
pub fn read_fragment() -> String {
    gloo::utils::window().location().hash().unwrap_or_default()
}

/// Replaces the address's query with `u` and its fragment with `fragment` (no new
/// history entry, no request; the fragment never reaches a server).
pub fn write_url(u: &UrlState, fragment: Option<&str>) {
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
    let mut url = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    if let Some(f) = fragment {
        url.push('#');
        url.push_str(f);
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The full address of `u` as a page of its own (not an embed, not presenting):
/// what a student's phone opens from the QR code.
pub fn share_url(u: &UrlState) -> String {
    let mut query = String::new();
    if let Ok(params) = web_sys::UrlSearchParams::new() {
        for (k, v) in u.to_pairs() {
            params.append(&k, &v);
        }
        query = params.to_string().into();
    }
    let base = app_base();
    if query.is_empty() {
        base
    } else {
        format!("{base}?{query}")
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

/// Enters or leaves full screen. A refusal (no user gesture, an iframe, a
/// permission policy) is fine: the promise's rejection is caught here, so it
/// never reaches the console as an uncaught error.
pub fn fullscreen(on: bool) {
    let doc = gloo::utils::document();
    if on {
        if doc.fullscreen_element().is_some() {
            return;
        }
        if let Some(el) = doc.document_element() {
            call_and_catch(&el, "requestFullscreen");
        }
    } else if doc.fullscreen_element().is_some() {
        call_and_catch(&doc, "exitFullscreen");
    }
}

/// Calls `target[method]()` and swallows a rejected promise it returns.
fn call_and_catch(target: &wasm_bindgen::JsValue, method: &str) {
    let Ok(f) = js_sys::Reflect::get(target, &method.into()) else {
        return;
    };
    let Some(f) = f.dyn_ref::<js_sys::Function>() else {
        return;
    };
    if let Ok(ret) = f.call0(target) {
        if let Some(p) = ret.dyn_ref::<js_sys::Promise>() {
            // One tiny closure per request, kept for the page's life.
            let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(
                |_: wasm_bindgen::JsValue| {},
            );
            let _ = p.catch(&ignore);
            ignore.forget();
        }
    }
}

/// Posts the content height to the embedding page (see `www/embed.js`).
pub fn post_height() {
    // The app's own height: the document's would never shrink below the iframe's.
    let height = gloo::utils::document()
        .get_element_by_id("app")
        .map_or(0, |e| e.scroll_height());
    post_to_host("cipherstage:size", &[("height", height.into())]);
}

/// Posts `{type: kind, ...fields}` to the page embedding this one, if any. Only
/// what the host may know goes here (step numbers, the scenario's id): never a byte
/// or a key of the run. Any origin may embed the widget, hence `*`.
pub fn post_to_host(kind: &str, fields: &[(&str, wasm_bindgen::JsValue)]) {
    let window = gloo::utils::window();
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    if parent == window {
        return;
    }
    let msg = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&msg, &"type".into(), &kind.into());
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&msg, &(*k).into(), v);
    }
    let _ = parent.post_message(&msg, "*");
}

/// What the embedding page asked for with `postMessage` (see `www/embed.js`):
/// `cipherstage:next`, `:prev`, `:goto` with `at` (from 1), `:play`, `:pause`.
/// Only the direct parent is listened to; anything else is ignored.
pub fn host_command(e: &web_sys::MessageEvent) -> Option<HostCommand> {
    let window = gloo::utils::window();
    let parent = window.parent().ok().flatten()?;
    let source: wasm_bindgen::JsValue = e.source()?.into();
    if parent == window || !js_sys::Object::is(&source, parent.as_ref()) {
        return None;
    }
    let data = e.data();
    let kind = js_sys::Reflect::get(&data, &"type".into())
        .ok()?
        .as_string()?;
    Some(match kind.as_str() {
        "cipherstage:next" => HostCommand::Next,
        "cipherstage:prev" => HostCommand::Prev,
        "cipherstage:play" => HostCommand::Play(true),
        "cipherstage:pause" => HostCommand::Play(false),
        "cipherstage:goto" => {
            let at = js_sys::Reflect::get(&data, &"at".into()).ok()?.as_f64()?;
            if !(1.0..=1e9).contains(&at) || at.fract() != 0.0 {
                return None;
            }
            HostCommand::Goto(at as usize - 1)
        }
        _ => return None,
    })
}

/// A command of the embedding page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostCommand {
    /// Next step.
    Next,
    /// Previous step.
    Prev,
    /// Go to this step (0-based).
    Goto(usize),
    /// Play or pause.
    Play(bool),
}

const SCORE_KEY: &str = "cipherstage.quiz.score";

/// The quiz score kept in this browser: (right, answered).
pub fn load_score() -> (u32, u32) {
    let Ok(Some(store)) = gloo::utils::window().local_storage() else {
        return (0, 0);
    };
    let Ok(Some(text)) = store.get_item(SCORE_KEY) else {
        return (0, 0);
    };
    let mut parts = text.split('/').map(|p| p.trim().parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(r), Some(a)) if r <= a => (r, a),
        _ => (0, 0),
    }
}

/// Keeps the quiz score in this browser (nothing is sent anywhere).
pub fn save_score(score: (u32, u32)) {
    if score == (0, 0) {
        return;
    }
    if let Ok(Some(store)) = gloo::utils::window().local_storage() {
        let _ = store.set_item(SCORE_KEY, &format!("{}/{}", score.0, score.1));
    }
}

/// Opens the browser's print dialog (the handout view).
pub fn print() {
    let _ = gloo::utils::window().print();
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

/// Whether a key press is the focused element's own: Space or Enter on a button
/// (or anything else that Space/Enter activates), and arrows, Home, End and
/// Enter inside the byte grid, which moves its own focus.
pub fn key_belongs_to_target(e: &web_sys::KeyboardEvent, key: &str) -> bool {
    let Some(el) = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    if el.closest(".hex").ok().flatten().is_some()
        && matches!(
            key,
            "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" | "Home" | "End" | "Enter" | " "
        )
    {
        return true;
    }
    let activatable = matches!(
        el.tag_name().to_ascii_lowercase().as_str(),
        "button" | "a" | "summary" | "label"
    ) || el.get_attribute("role").as_deref() == Some("button");
    activatable && matches!(key, " " | "Enter")
}

/// Keeps Tab inside `dialog`: from its last focusable element to its first, and back.
pub fn trap_tab(e: &web_sys::KeyboardEvent, dialog: &web_sys::Element) {
    if e.key() != "Tab" {
        return;
    }
    let Ok(list) = dialog.query_selector_all("button, textarea, input, select, a[href]") else {
        return;
    };
    let n = list.length();
    let (Some(first), Some(last)) = (list.get(0), n.checked_sub(1).and_then(|i| list.get(i)))
    else {
        return;
    };
    let active = gloo::utils::document().active_element();
    let active_node: Option<web_sys::Node> = active.map(Into::into);
    let at = |node: &web_sys::Node| active_node.as_ref() == Some(node);
    let target = if e.shift_key() && at(&first) {
        Some(last)
    } else if !e.shift_key() && at(&last) {
        Some(first)
    } else {
        None
    };
    if let Some(el) = target.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
        e.prevent_default();
        let _ = el.focus();
    }
}

/// Focuses the element with `id`, if it is there.
pub fn focus_id(id: &str) {
    if let Some(el) = gloo::utils::document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// The focused element, to give focus back to when a dialog closes.
pub fn focused() -> Option<web_sys::HtmlElement> {
    gloo::utils::document()
        .active_element()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
}

/// Scrolls `pane` (and nothing else: never the window) so the element `id`
/// inside it is in view below the pane's first `top` pixels (a sticky header).
pub fn keep_in_pane(pane: &web_sys::Element, id: &str, top: f64) {
    let Some(el) = gloo::utils::document().get_element_by_id(id) else {
        return;
    };
    let p = pane.get_bounding_client_rect();
    let r = el.get_bounding_client_rect();
    let margin = 8.0;
    let view_top = p.top() + top;
    let view_bottom = p.top() + f64::from(pane.client_height());
    let scroll = f64::from(pane.scroll_top());
    if r.bottom() + margin > view_bottom {
        pane.set_scroll_top((scroll + r.bottom() + margin - view_bottom).round() as i32);
    } else if r.top() - margin < view_top {
        pane.set_scroll_top((scroll - (view_top - r.top() + margin)).max(0.0).round() as i32);
    }
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

/// Runs one scenario `n` times (seeds 0..n, as the native bench does) in the
/// worker, in the module of its family, and writes microseconds per run into
/// `#bench-result[data-us]` (the worker times the loop; loading the module is not
/// counted).
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
    // `esp:ALGORITHM` runs in the ESP module; `SCENARIO:OPTION` (sftp-bulk:CIPHER)
    // in its scenario's.
    let module = if id.starts_with("esp:") {
        Some("ipsec")
    } else {
        let scenario = id.split_once(':').map_or(id.as_str(), |(s, _)| s);
        cipherstage_scenarios::find(scenario).map(|i| i.protocol)
    };
    let Some(module) = module else {
        if let Some(app) = gloo::utils::document().get_element_by_id("app") {
            app.set_text_content(Some(&format!("bench: cannot run {id:?}")));
        }
        return;
    };
    crate::bridge::bench(module, &id.clone(), n, move |ms| {
        let doc = gloo::utils::document();
        let Some(app) = doc.get_element_by_id("app") else {
            return;
        };
        let Some(ms) = ms else {
            app.set_text_content(Some(&format!("bench: cannot run {id:?}")));
            return;
        };
        let us = ms * 1000.0 / f64::from(n);
        app.set_inner_html("");
        if let Ok(pre) = doc.create_element("pre") {
            pre.set_id("bench-result");
            let _ = pre.set_attribute("data-us", &format!("{us:.3}"));
            pre.set_text_content(Some(&format!("{id}: {us:.1} µs per run ({n} runs)")));
            let _ = app.append_child(&pre);
        }
    });
}

/// Installs the catalogue the loader fetched beside the app
/// (`window.cipherstageCatalogue = {lang, text}`), if it did.
pub fn install_loaded_catalogue() {
    let w: wasm_bindgen::JsValue = gloo::utils::window().into();
    let Ok(c) = js_sys::Reflect::get(&w, &"cipherstageCatalogue".into()) else {
        return;
    };
    let get = |k: &str| {
        js_sys::Reflect::get(&c, &k.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    if let (Some(lang), Some(text)) = (get("lang"), get("text")) {
        if let Some(lang) = Lang::from_code(&lang) {
            let _ = crate::i18n::install(lang, "base", text);
        }
    }
}

thread_local! {
    /// Chunks being fetched, so two renders never fetch one twice.
    static IN_FLIGHT: std::cell::RefCell<Vec<(Lang, &'static str)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Fetches and installs, side by side, the catalogue chunks of `lang` that a page
/// showing `module`'s scenarios lacks (their files are named in the manifest);
/// `done` runs after each arrives. A chunk that fails to arrive stays missing.
pub fn fetch_texts(lang: Lang, module: Option<&'static str>, done: impl Fn() + Clone + 'static) {
    let manifest = crate::bridge::manifest();
    for chunk in crate::i18n::missing(lang, module) {
        let busy = IN_FLIGHT.with(|f| {
            let mut f = f.borrow_mut();
            let busy = f.contains(&(lang, chunk));
            if !busy {
                f.push((lang, chunk));
            }
            busy
        });
        if busy {
            continue;
        }
        let file = manifest
            .as_deref()
            .and_then(|m| crate::bridge::lookup(m, &["catalogues", lang.code(), chunk]))
            .and_then(crate::bridge::string)
            .map(str::to_owned);
        let done = done.clone();
        yew::platform::spawn_local(async move {
            if let Some(file) = file {
                if let Ok(resp) = gloo::net::http::Request::get(&file).send().await {
                    if resp.ok() {
                        if let Ok(text) = resp.text().await {
                            let _ = crate::i18n::install(lang, chunk, text);
                        }
                    }
                }
            }
            IN_FLIGHT.with(|f| f.borrow_mut().retain(|x| *x != (lang, chunk)));
            done();
        });
    }
}

fn call0(
    o: &wasm_bindgen::JsValue,
    method: &str,
) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(o, &method.into())?.dyn_into()?;
    f.call0(o)
}

/// Deflates (`compress`) or inflates raw DEFLATE with the browser's own
/// `CompressionStream`/`DecompressionStream` (no code of ours, nothing sent),
/// reading at most `cap` bytes of output: `done` gets `None` when the browser has
/// neither, the bytes are not DEFLATE, or the output would pass `cap` (a link is
/// outside input: a small one may inflate to gigabytes).
pub fn deflate_raw(
    bytes: &[u8],
    compress: bool,
    cap: usize,
    done: impl FnOnce(Option<Vec<u8>>) + 'static,
) {
    use std::cell::RefCell;
    use std::rc::Rc;
    type Done = Box<dyn FnOnce(Option<Vec<u8>>)>;
    let once: RefCell<Option<Done>> = RefCell::new(Some(Box::new(done)));
    let finish: Rc<dyn Fn(Option<Vec<u8>>)> = Rc::new(move |v| {
        let f = once.borrow_mut().take();
        if let Some(f) = f {
            f(v);
        }
    });
    let start = || -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
        let global = js_sys::global();
        let name = if compress {
            "CompressionStream"
        } else {
            "DecompressionStream"
        };
        let ctor: js_sys::Function = js_sys::Reflect::get(&global, &name.into())?.dyn_into()?;
        let stream = js_sys::Reflect::construct(&ctor, &js_sys::Array::of1(&"deflate-raw".into()))?;
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
        let blob: wasm_bindgen::JsValue = web_sys::Blob::new_with_u8_array_sequence(&parts)?.into();
        let readable = call0(&blob, "stream")?;
        let pipe: js_sys::Function =
            js_sys::Reflect::get(&readable, &"pipeThrough".into())?.dyn_into()?;
        let piped = pipe.call1(&readable, &stream)?;
        call0(&piped, "getReader")
    };
    match start() {
        Ok(reader) => pump(reader, Vec::new(), cap, finish),
        Err(_) => finish(None),
    }
}

fn pump(
    reader: wasm_bindgen::JsValue,
    mut out: Vec<u8>,
    cap: usize,
    finish: std::rc::Rc<dyn Fn(Option<Vec<u8>>)>,
) {
    use wasm_bindgen::closure::Closure;
    let Some(promise) = call0(&reader, "read")
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
    else {
        return finish(None);
    };
    let failed = finish.clone();
    let ok = Closure::once(move |chunk: wasm_bindgen::JsValue| {
        let get = |k: &str| js_sys::Reflect::get(&chunk, &k.into()).unwrap_or_default();
        if get("done").as_bool().unwrap_or(true) {
            return finish(Some(out));
        }
        let value = get("value");
        let Some(part) = value.dyn_ref::<js_sys::Uint8Array>() else {
            return finish(None);
        };
        if out.len().saturating_add(part.length() as usize) > cap {
            let _ = call0(&reader, "cancel");
            return finish(None);
        }
        out.extend(part.to_vec());
        pump(reader, out, cap, finish);
    });
    let err = Closure::once(move |_e: wasm_bindgen::JsValue| failed(None));
    let _ = promise.then2(&ok, &err);
    // Each is called at most once, and the promise keeps them: JS owns them now.
    ok.forget();
    err.forget();
}

/// Reads a lesson named in a fragment: a shipped lesson's id, `d.` and base64url
/// of the deflated text, or `t.` and base64url of the text itself.
pub fn read_lesson(
    value: &str,
    done: impl FnOnce(Result<crate::lesson::Lesson, crate::lesson::LessonError>) + 'static,
) {
    use crate::lesson::{from_b64url, shipped, Lesson, LessonError, MAX_TEXT};
    if let Some(l) = shipped(value) {
        return done(Ok(l));
    }
    let text = |bytes: Option<Vec<u8>>| -> Result<Lesson, LessonError> {
        let bytes = bytes.ok_or(LessonError::NotALesson)?;
        let text = String::from_utf8(bytes).map_err(|_| LessonError::NotALesson)?;
        Lesson::from_text(&text)
    };
    if let Some(b) = value.strip_prefix("t.") {
        return done(text(from_b64url(b).filter(|b| b.len() <= MAX_TEXT)));
    }
    match value.strip_prefix("d.").and_then(from_b64url) {
        Some(bytes) => deflate_raw(&bytes, false, MAX_TEXT, move |out| done(text(out))),
        None => done(Err(LessonError::NotALesson)),
    }
}

/// A lesson's text as a fragment value: `d.` and its deflated bytes in base64url
/// (`t.` and the text itself where the browser cannot deflate).
pub fn encode_lesson(text: String, done: impl FnOnce(String) + 'static) {
    use crate::lesson::b64url;
    let plain = format!("t.{}", b64url(text.as_bytes()));
    deflate_raw(text.as_bytes(), true, usize::MAX, move |out| {
        done(out.map_or(plain, |d| format!("d.{}", b64url(&d))));
    });
}

/// Opens (or brings back) the lesson's speaker window at `url`.
pub fn open_speaker(url: &str) {
    let _ = gloo::utils::window().open_with_url_and_target(url, "cipherstage-speaker");
}

/// The same-origin channel between the stage and its speaker window
/// (`BroadcastChannel`: no server; messages are `{kind, stop}`).
pub struct LessonChannel {
    channel: web_sys::BroadcastChannel,
    _listener: gloo::events::EventListener,
}

/// The channel's name (one per browser profile and origin).
const CHANNEL: &str = "cipherstage-lesson";

impl LessonChannel {
    /// Joins the channel; `heard` gets each message's kind and stop.
    pub fn join(heard: impl Fn(&str, usize) + 'static) -> Option<Self> {
        let channel = web_sys::BroadcastChannel::new(CHANNEL).ok()?;
        let listener = gloo::events::EventListener::new(&channel, "message", move |e| {
            let Some(e) = e.dyn_ref::<web_sys::MessageEvent>() else {
                return;
            };
            let data = e.data();
            let get = |k: &str| js_sys::Reflect::get(&data, &k.into()).unwrap_or_default();
            let (Some(kind), Some(stop)) = (get("kind").as_string(), get("stop").as_f64()) else {
                return;
            };
            if (0.0..1000.0).contains(&stop) {
                heard(&kind, stop as usize);
            }
        });
        Some(LessonChannel {
            channel,
            _listener: listener,
        })
    }

    /// Says `kind` about stop `stop` to the other windows.
    pub fn post(&self, kind: &str, stop: usize) {
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &"kind".into(), &kind.into());
        let _ = js_sys::Reflect::set(&msg, &"stop".into(), &(stop as f64).into());
        let _ = self.channel.post_message(&msg);
    }
}

impl Drop for LessonChannel {
    fn drop(&mut self) {
        self.channel.close();
    }
}
