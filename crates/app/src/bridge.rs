//! The app's side of the Web Worker that runs every protocol core
//! (`www/worker.js`). The main thread never runs a protocol: it posts a
//! [`Request`] with the name of the module that answers it, and the worker loads
//! that family's WASM module on first use (from the build's manifest, same
//! folder, content-hashed names) and posts the [`Response`] back.
//!
//! Cancelling terminates the worker (a synchronous WASM run cannot be
//! interrupted otherwise); the next request starts a fresh one.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cipherstage_scenarios::wire::{Request, Response};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// What the worker said about one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// The answer.
    Answer(Response),
    /// How far a long run is (0 to 1), or that its module is loading (`None`).
    Progress(Option<f64>),
    /// The worker could not answer (its module failed to load, or it crashed).
    Failed(String),
    /// A QR code: its side and modules (`"29:0110…"`), or `None` if the text is too
    /// long for one.
    Qr(Option<String>),
}

type Listener = Rc<dyn Fn(Heard)>;

struct Bridge {
    worker: web_sys::Worker,
    next: u32,
    waiting: Rc<RefCell<HashMap<u32, Listener>>>,
    _onmessage: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

thread_local! {
    static BRIDGE: RefCell<Option<Bridge>> = const { RefCell::new(None) };
}

/// The build's manifest (`<script type="application/json" id="cipherstage-build">`,
/// written by `cargo xtask modules`): the worker's file and every module's files.
pub fn manifest() -> Option<String> {
    gloo::utils::document()
        .get_element_by_id("cipherstage-build")?
        .text_content()
}

/// The JSON text of the value at `path` (object keys) in `json`, or `None`. A
/// small reader for the manifest's objects of objects and strings, so the page
/// carries no general JSON value type for it; anything it cannot follow is `None`.
pub fn lookup<'a>(json: &'a str, path: &[&str]) -> Option<&'a str> {
    let mut v = json.trim();
    for key in path {
        v = member(v, key)?;
    }
    Some(v)
}

/// A JSON string's contents (the manifest's names need no escapes).
pub fn string(v: &str) -> Option<&str> {
    let inner = v.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// The value of member `key` of the object `obj`.
fn member<'a>(obj: &'a str, key: &str) -> Option<&'a str> {
    let b = obj.as_bytes();
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut i = 1;
    loop {
        i = skip_ws(b, i);
        if b.get(i) == Some(&b'}') {
            return None;
        }
        let k_end = end_of(b, i)?;
        let k = obj.get(i..k_end)?;
        i = skip_ws(b, k_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let v_end = end_of(b, i)?;
        if string(k) == Some(key) {
            return obj.get(i..v_end);
        }
        i = skip_ws(b, v_end);
        match b.get(i) {
            Some(b',') => i += 1,
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end (exclusive) of the JSON value starting at `i`: a string, an object or
/// array (nesting counted, strings inside skipped), or a bare word or number.
fn end_of(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => {
            let mut j = i + 1;
            loop {
                match b.get(j)? {
                    b'\\' => j += 2,
                    b'"' => return Some(j + 1),
                    _ => j += 1,
                }
            }
        }
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = end_of(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn set(o: &js_sys::Object, key: &str, v: &JsValue) {
    let _ = js_sys::Reflect::set(o, &JsValue::from_str(key), v);
}

fn start() -> Result<Bridge, String> {
    let m = manifest().ok_or("the build's manifest is missing")?;
    let file = lookup(&m, &["worker"])
        .and_then(string)
        .ok_or("the manifest names no worker")?;
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(file, &opts).map_err(|e| format!("{e:?}"))?;
    let waiting: Rc<RefCell<HashMap<u32, Listener>>> = Rc::default();
    let onmessage = {
        let waiting = waiting.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let data = e.data();
            let Some(id) = get(&data, "id").as_f64().map(|n| n as u32) else {
                return;
            };
            // A benchmark's end: the milliseconds measured, or null.
            let benched = get(&data, "benched");
            if !benched.is_undefined() {
                let listener = waiting.borrow_mut().remove(&id);
                if let Some(l) = listener {
                    l(Heard::Progress(benched.as_f64()));
                }
                return;
            }
            // A QR code (the inspect module's `qr`).
            if let Some(code) = get(&data, "qrcode").as_string() {
                let listener = waiting.borrow_mut().remove(&id);
                if let Some(l) = listener {
                    l(Heard::Qr((!code.is_empty()).then_some(code)));
                }
                return;
            }
            let answer = get(&data, "answer");
            let heard = if let Some(text) = answer.as_string() {
                match Response::from_json(&text) {
                    Some(r) => Heard::Answer(r),
                    None => Heard::Failed("unreadable answer".into()),
                }
            } else if let Some(err) = get(&data, "error").as_string() {
                Heard::Failed(err)
            } else {
                let p = get(&data, "progress");
                Heard::Progress(p.as_f64())
            };
            let done = !matches!(heard, Heard::Progress(_));
            let listener = if done {
                waiting.borrow_mut().remove(&id)
            } else {
                waiting.borrow().get(&id).cloned()
            };
            if let Some(l) = listener {
                l(heard);
            }
        })
    };
    let onerror = {
        let waiting = waiting.clone();
        Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
            e.prevent_default();
            let all: Vec<Listener> = waiting.borrow_mut().drain().map(|(_, l)| l).collect();
            for l in all {
                l(Heard::Failed(e.message()));
            }
        })
    };
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    // The module table, once: the worker imports a module's files the first time a
    // request names it.
    let init = js_sys::Object::new();
    let modules = lookup(&m, &["modules"]).unwrap_or("{}");
    set(&init, "init", &JsValue::from_str(modules));
    worker.post_message(&init).map_err(|e| format!("{e:?}"))?;
    Ok(Bridge {
        worker,
        next: 0,
        waiting,
        _onmessage: onmessage,
        _onerror: onerror,
    })
}

/// Posts one message to the worker: its id, `module` and `fields`; `on` hears what
/// the worker says about it. `Err` if the worker cannot be started or posted to.
fn send(module: &str, fields: &[(&str, JsValue)], on: Listener) -> Result<(), String> {
    BRIDGE.with(|b| {
        let mut b = b.borrow_mut();
        if b.is_none() {
            *b = Some(start()?);
        }
        let Some(bridge) = b.as_mut() else {
            return Err("no worker".to_owned());
        };
        bridge.next = bridge.next.wrapping_add(1);
        let id = bridge.next;
        let msg = js_sys::Object::new();
        set(&msg, "id", &JsValue::from(id));
        set(&msg, "module", &JsValue::from_str(module));
        for (k, v) in fields {
            set(&msg, k, v);
        }
        bridge.waiting.borrow_mut().insert(id, on);
        bridge.worker.post_message(&msg).map_err(|e| {
            bridge.waiting.borrow_mut().remove(&id);
            format!("{e:?}")
        })
    })
}

/// Posts `req` to the worker; `on` hears its progress and then its answer (or why
/// there is none). A request no module answers fails at once.
pub fn post(req: &Request, on: impl Fn(Heard) + 'static) {
    let Some(module) = req.module() else {
        on(Heard::Failed("no module answers this request".into()));
        return;
    };
    let on: Listener = Rc::new(on);
    let fields = [("request", JsValue::from_str(&req.to_json()))];
    if let Err(why) = send(module, &fields, on.clone()) {
        on(Heard::Failed(why));
    }
}

/// Asks module `module` to run benchmark `name` `n` times; `on` hears the
/// milliseconds the worker measured, or `None` if the module cannot run it.
pub fn bench(module: &str, name: &str, n: u32, on: impl Fn(Option<f64>) + 'static) {
    let on = Rc::new(on);
    let on2 = on.clone();
    let l: Listener = Rc::new(move |h| match h {
        Heard::Answer(_) | Heard::Failed(_) | Heard::Qr(_) => on2(None),
        Heard::Progress(ms) => on2(ms),
    });
    let fields = [("bench", JsValue::from_str(name)), ("n", JsValue::from(n))];
    if send(module, &fields, l).is_err() {
        on(None);
    }
}

/// Asks the inspect module for the QR code of `text`; `on` hears
/// [`Heard::Qr`], or [`Heard::Failed`] if the worker could not answer.
pub fn qr(text: &str, on: impl Fn(Heard) + 'static) {
    let on: Listener = Rc::new(on);
    let module = cipherstage_scenarios::wire::INSPECT_MODULE;
    if let Err(why) = send(module, &[("qr", JsValue::from_str(text))], on.clone()) {
        on(Heard::Failed(why));
    }
}

/// Stops whatever the worker is running: it is terminated, nobody waiting hears
/// anything more, and the next request starts a fresh worker.
pub fn cancel() {
    BRIDGE.with(|b| {
        if let Some(bridge) = b.borrow_mut().take() {
            bridge.worker.terminate();
            bridge.waiting.borrow_mut().clear();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_reader_follows_objects_and_refuses_what_it_cannot_read() {
        let m = r#" {"app":{"js":"app-1.js","wasm":"app-2.wasm"}, "worker" : "w-3.js",
            "modules":{"tls":{"js":"core-tls-4.js","wasm":"core-tls-5.wasm"},"x":[1,{"}":"{"}]},
            "catalogues":{"ja":{"base":"i18n-ja-base-6.txt"}}} "#;
        assert_eq!(lookup(m, &["worker"]).and_then(string), Some("w-3.js"));
        assert_eq!(
            lookup(m, &["app", "wasm"]).and_then(string),
            Some("app-2.wasm")
        );
        assert_eq!(
            lookup(m, &["catalogues", "ja", "base"]).and_then(string),
            Some("i18n-ja-base-6.txt")
        );
        assert_eq!(
            lookup(m, &["modules"]),
            Some(r#"{"tls":{"js":"core-tls-4.js","wasm":"core-tls-5.wasm"},"x":[1,{"}":"{"}]}"#)
        );
        assert_eq!(lookup(m, &["modules", "ssh"]), None);
        assert_eq!(lookup(m, &["worker", "js"]), None);
        for bad in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":\"b",
            "[]",
            "{\"a\" \"b\"}",
        ] {
            assert_eq!(lookup(bad, &["a"]), None, "{bad}");
        }
    }
}
