//! "Inspect your own": paste PEM certificates (one or a chain) or OpenSSH public
//! key lines and see every byte explained, like a message; with several, the
//! user chooses which one's bytes are shown. Bad input gets a translated error
//! naming what was recognised, with the byte offset; the answer scrolls into
//! view; nothing breaks and nothing leaves the page.

use cipherstage_scenarios::inspect::MAX_INPUT;
use cipherstage_scenarios::wire::{Found, InspectError, Request, Response, INSPECT_MODULE};
use cipherstage_transcript::{Layer, Message};

use crate::bridge::{self, Heard};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::inspector::Inspector;
use crate::i18n::tr_args;
use crate::state::State;
use crate::t;

/// Props of [`Inspect`].
#[derive(Properties, PartialEq)]
pub struct InspectProps {
    /// The app state (for the inspector's selection).
    pub state: UseReducerHandle<State>,
}

/// The paste box and its result.
#[component]
pub fn Inspect(p: &InspectProps) -> Html {
    let lang = p.state.lang;
    let result = use_state(|| None::<Result<Found, InspectError>>);
    let chosen = use_state(|| 0usize);
    // Each new answer comes into view (it may be below the fold).
    let answers = use_mut_ref(|| 0u32);
    {
        let answers = answers.clone();
        let ready = crate::i18n::missing(lang, Some(INSPECT_MODULE)).is_empty();
        let n = *answers.borrow();
        use_effect_with((n, ready), move |_| {
            if n > 0 {
                scroll_to_answer();
            }
        });
    }
    let text = use_state(String::new);
    let oninput = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            {
                text.set(area.value());
            }
        })
    };
    // Read in the worker (its inspect module links the certificate and SSH key
    // annotators); an answer to an older paste is dropped.
    let asked = use_mut_ref(|| 0u32);
    // The explanations come with the inspect module's catalogue chunks.
    let arrived = use_force_update();
    let go = {
        let arrived = arrived.clone();
        let text = text.clone();
        let result = result.clone();
        let asked = asked.clone();
        let chosen = chosen.clone();
        let answers = answers.clone();
        Callback::from(move |_: MouseEvent| {
            chosen.set(0);
            let mine = {
                let mut n = asked.borrow_mut();
                *n = n.wrapping_add(1);
                *n
            };
            if text.len() > MAX_INPUT {
                bump(&answers);
                result.set(Some(Err(InspectError {
                    key: "inspect.error.too_long".into(),
                    offset: MAX_INPUT,
                    what: String::new(),
                })));
                return;
            }
            let result = result.clone();
            let asked = asked.clone();
            let arrived = arrived.clone();
            let answers = answers.clone();
            crate::web::fetch_texts(lang, Some(INSPECT_MODULE), move || arrived.force_update());
            bridge::post(
                &Request::Inspect {
                    text: (*text).clone(),
                },
                move |h| {
                    if *asked.borrow() != mine {
                        return;
                    }
                    let shown = match h {
                        Heard::Progress(_) => return,
                        Heard::Answer(Response::Inspected(found)) => Ok(*found),
                        Heard::Answer(Response::InspectFailed(e)) => Err(e),
                        Heard::Answer(_) | Heard::Failed(_) | Heard::Qr(_) => Err(InspectError {
                            key: "inspect.error.unavailable".into(),
                            offset: 0,
                            what: String::new(),
                        }),
                    };
                    bump(&answers);
                    result.set(Some(shown));
                },
            );
        })
    };
    let shown = match &*result {
        None => html! {},
        Some(_) if !crate::i18n::missing(lang, Some(INSPECT_MODULE)).is_empty() => html! {
            <p class="notice" role="status">{ t(lang, "ui.busy.loading") }</p>
        },
        Some(Err(e)) => html! {
            <p class="notice" role="alert" id="inspect-error">
                { tr_args(lang, &e.key, &[("what".into(), e.what.clone())]) }{ " " }
                { tr_args(lang, "ui.inspect.at_offset", &[("offset".into(), e.offset.to_string())]) }
            </p>
        },
        Some(Ok(all)) => {
            let at = (*chosen).min(all.items.len().saturating_sub(1));
            let Some(found) = all.items.get(at) else {
                return html! {};
            };
            let message = Message {
                from: 0,
                to: 0,
                link: 0,
                protocol: "inspect".into(),
                layer: Layer::Application,
                label: found.kind.clone(),
                bytes: found.bytes.clone(),
                fields: found.fields.clone(),
                tampered: None,
            };
            let value = |v: &String| {
                if v.starts_with("inspect.value.") {
                    t(lang, v)
                } else {
                    v.clone()
                }
            };
            let choose = (all.items.len() > 1).then(|| {
                html! {
                    <div class="inspect-items" role="group" aria-label={t(lang, "inspect.ui.choose")}>
                        <p>{ tr_args(lang, "inspect.ui.found", &[("n".into(), all.items.len().to_string())]) }</p>
                        { for all.items.iter().enumerate().map(|(i, item)| {
                            let chosen = chosen.clone();
                            html! {
                                <button id={format!("inspect-item-{}", i + 1)}
                                    aria-pressed={(i == at).to_string()}
                                    onclick={Callback::from(move |_: MouseEvent| chosen.set(i))}>
                                    { format!("{}. ", i + 1) }{ t(lang, &item.kind) }{ ": " }{ item.title.clone() }
                                </button>
                            }
                        }) }
                    </div>
                }
            });
            html! {
                <div class="inspect-result" id="inspect-result">
                    { for choose }
                    <h3>{ if all.items.len() > 1 { format!("{}. ", at + 1) } else { String::new() } }{ t(lang, &found.kind) }</h3>
                    <dl class="facts">
                        { for found.facts.iter().map(|(k, v)| html! { <><dt>{ t(lang, k) }</dt><dd><code>{ value(v) }</code></dd></> }) }
                    </dl>
                    <Inspector key={at} message={message} number={0} state={p.state.clone()} />
                </div>
            }
        }
    };
    html! {
        <section class="layer inspect" id="inspect">
            <h2>{ t(lang, "ui.inspect.title") }</h2>
            <p class="examples">{ t(lang, "ui.inspect.lead") }</p>
            <textarea id="inspect-input" rows="5" spellcheck="false" value={(*text).clone()} oninput={oninput}
                aria-label={t(lang, "ui.inspect.title")}
                placeholder="-----BEGIN CERTIFICATE----- … / ssh-ed25519 AAAA… user@host" />
            <div class="row-buttons">
                <button id="inspect-go" class="primary" onclick={go}>{ t(lang, "ui.inspect.go") }</button>
            </div>
            { shown }
        </section>
    }
}

/// Counts one more answer (each brings itself into view once).
fn bump(n: &std::rc::Rc<std::cell::RefCell<u32>>) {
    let mut n = n.borrow_mut();
    *n = n.wrapping_add(1);
}

/// Brings the answer (or the refusal) into view.
fn scroll_to_answer() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(el) = doc
        .get_element_by_id("inspect-result")
        .or_else(|| doc.get_element_by_id("inspect-error"))
    else {
        return;
    };
    let opts = web_sys::ScrollIntoViewOptions::new();
    opts.set_block(web_sys::ScrollLogicalPosition::Start);
    el.scroll_into_view_with_scroll_into_view_options(&opts);
}
