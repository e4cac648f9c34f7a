//! Every secret derived so far, by owner; a click jumps to its step.

use std::rc::Rc;

use cipherstage_transcript::{Event, Transcript};
use yew::prelude::*;

use super::{actor_name, short_hex};
use crate::i18n::{tr, Lang};
use crate::state::{Action, State};
use crate::t;

/// Props of [`Secrets`].
#[derive(Properties, PartialEq)]
pub struct SecretsProps {
    /// The run.
    pub transcript: Rc<Transcript>,
    /// Current step.
    pub step: usize,
    /// Display language.
    pub lang: Lang,
    /// The eavesdropper's view: only what Eve knows is listed.
    #[prop_or_default]
    pub eve: bool,
    /// Where actions go.
    pub dispatch: UseReducerDispatcher<State>,
}

/// The secrets panel.
#[component]
pub fn Secrets(p: &SecretsProps) -> Html {
    let lang = p.lang;
    // Eve's view lists only what Eve knows (see `eve_knows`).
    let eve_knows = p.eve.then(|| super::eve_knows(&p.transcript, p.step));
    let items: Vec<Html> = p
        .transcript
        .events
        .iter()
        .enumerate()
        .take(p.step + 1)
        .filter_map(|(i, e)| match e {
            Event::Secret(_) if eve_knows.as_ref().is_some_and(|k| !k.contains(&i)) => None,
            Event::Secret(s) => {
                let d = p.dispatch.clone();
                let onclick = Callback::from(move |_: MouseEvent| d.dispatch(Action::Goto(i)));
                Some(html! {
                    <li key={i.to_string()} class={classes!((i == p.step).then_some("current"))}>
                        <button onclick={onclick}>
                            <span class="owner">{ actor_name(&p.transcript, lang, s.owner) }</span>
                            <span class="sname">{ tr(lang, &s.name) }</span>
                            <code>{ short_hex(&s.bytes, 8) }</code>
                        </button>
                    </li>
                })
            }
            _ => None,
        })
        .collect();
    html! {
        <section class="secrets" id="secrets" aria-label={t(lang, "ui.secrets")}>
            <h2>{ t(lang, "ui.secrets") }</h2>
            if items.is_empty() && p.eve {
                <p class="empty" id="secrets-eve">{ t(lang, "ui.secrets.eve_none") }</p>
            } else if p.eve {
                <p class="eve-note" id="secrets-eve">{ t(lang, "ui.secrets.eve_some") }</p>
                <ul>{ for items }</ul>
            } else if items.is_empty() {
                <p class="empty">{ t(lang, "ui.secrets.none") }</p>
            } else {
                <ul>{ for items }</ul>
            }
        </section>
    }
}
