//! "Inspect your own": paste a PEM certificate or an OpenSSH public key and see
//! every byte explained, like a message. Bad input gets a translated error with
//! the byte offset; nothing breaks and nothing leaves the page.

use cipherstage_scenarios::inspect::MAX_INPUT;
use cipherstage_scenarios::wire::{InspectError, Inspected, Request, Response, INSPECT_MODULE};
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
    let result = use_state(|| None::<Result<Inspected, InspectError>>);
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
        Callback::from(move |_: MouseEvent| {
            let mine = {
                let mut n = asked.borrow_mut();
                *n = n.wrapping_add(1);
                *n
            };
            if text.len() > MAX_INPUT {
                result.set(Some(Err(InspectError {
                    key: "inspect.error.too_long".into(),
                    offset: MAX_INPUT,
                })));
                return;
            }
            let result = result.clone();
            let asked = asked.clone();
            let arrived = arrived.clone();
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
                        Heard::Answer(_) | Heard::Failed(_) => Err(InspectError {
                            key: "inspect.error.unavailable".into(),
                            offset: 0,
                        }),
                    };
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
                { tr_args(lang, &e.key, &[]) }{ " " }
                { tr_args(lang, "ui.inspect.at_offset", &[("offset".into(), e.offset.to_string())]) }
            </p>
        },
        Some(Ok(found)) => {
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
            html! {
                <div class="inspect-result" id="inspect-result">
                    <h3>{ t(lang, &found.kind) }</h3>
                    <dl class="facts">
                        { for found.facts.iter().map(|(k, v)| html! { <><dt>{ t(lang, k) }</dt><dd><code>{ v.clone() }</code></dd></> }) }
                    </dl>
                    <Inspector message={message} number={0} state={p.state.clone()} />
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
