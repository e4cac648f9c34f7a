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
pub fn manifest() -> Option<serde_json::Value> {
    let text = gloo::utils::document()
        .get_element_by_id("cipherstage-build")?
        .text_content()?;
    serde_json::from_str(&text).ok()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn set(o: &js_sys::Object, key: &str, v: &JsValue) {
    let _ = js_sys::Reflect::set(o, &JsValue::from_str(key), v);
}

fn start() -> Result<Bridge, String> {
    let m = manifest().ok_or("the build's manifest is missing")?;
    let file = m
        .get("worker")
        .and_then(|w| w.as_str())
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
    let modules = m.get("modules").map(|v| v.to_string()).unwrap_or_default();
    set(&init, "init", &JsValue::from_str(&modules));
    worker.post_message(&init).map_err(|e| format!("{e:?}"))?;
    Ok(Bridge {
        worker,
        next: 0,
        waiting,
        _onmessage: onmessage,
        _onerror: onerror,
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
    let sent = BRIDGE.with(|b| {
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
        set(&msg, "request", &JsValue::from_str(&req.to_json()));
        bridge.waiting.borrow_mut().insert(id, on.clone());
        bridge.worker.post_message(&msg).map_err(|e| {
            bridge.waiting.borrow_mut().remove(&id);
            format!("{e:?}")
        })
    });
    if let Err(why) = sent {
        on(Heard::Failed(why));
    }
}

/// Asks module `module` to run benchmark `name` `n` times; `on` hears the
/// milliseconds the worker measured, or `None` if the module cannot run it.
pub fn bench(module: &str, name: &str, n: u32, on: impl Fn(Option<f64>) + 'static) {
    let on = Rc::new(on);
    let sent = BRIDGE.with(|b| {
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
        set(&msg, "bench", &JsValue::from_str(name));
        set(&msg, "n", &JsValue::from(n));
        let on2 = on.clone();
        let l: Listener = Rc::new(move |h| match h {
            Heard::Answer(_) | Heard::Failed(_) => on2(None),
            Heard::Progress(ms) => on2(ms),
        });
        bridge.waiting.borrow_mut().insert(id, l);
        bridge
            .worker
            .post_message(&msg)
            .map_err(|e| format!("{e:?}"))
    });
    if sent.is_err() {
        on(None);
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
