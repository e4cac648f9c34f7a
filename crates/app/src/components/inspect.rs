//! "Inspect your own": paste a PEM certificate or an OpenSSH public key and see
//! every byte explained, like a message. Bad input gets a translated error with
//! the byte offset; nothing breaks and nothing leaves the page.

use cipherstage_scenarios::inspect::{inspect, InspectError, Inspected};
use cipherstage_transcript::{Layer, Message};
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
    let go = {
        let text = text.clone();
        let result = result.clone();
        Callback::from(move |_: MouseEvent| result.set(Some(inspect(&text))))
    };
    let shown = match &*result {
        None => html! {},
        Some(Err(e)) => html! {
            <p class="notice" role="alert" id="inspect-error">
                { tr_args(lang, e.key, &[]) }{ " " }
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
                label: found.kind.into(),
                bytes: found.bytes.clone(),
                fields: found.fields.clone(),
                tampered: None,
            };
            html! {
                <div class="inspect-result" id="inspect-result">
                    <h3>{ t(lang, found.kind) }</h3>
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
