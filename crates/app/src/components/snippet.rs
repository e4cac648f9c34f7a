//! The embed snippet for the current view, with a copy button.

use yew::prelude::*;

use crate::state::{Action, State};
use crate::url::UrlState;
use crate::{t, web};

/// Props of [`Snippet`].
#[derive(Properties, PartialEq)]
pub struct SnippetProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// HTML a documentation author pastes to embed this view.
pub fn snippet_html(state: &State, base: &str) -> String {
    let u = state.to_url();
    let pairs: Vec<(String, String)> = UrlState {
        embed: false,
        present: false,
        ..u
    }
    .to_pairs();
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect();
    format!(
        "<div data-cipherstage=\"{}\"></div>\n<script src=\"{base}embed.js\" defer></script>",
        query.join("&amp;")
    )
}

/// Escapes for an HTML attribute and keeps `&`-separated pairs readable.
fn escape(s: &str) -> String {
    s.replace('&', "%26")
        .replace('"', "%22")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace(' ', "%20")
}

/// The dialog.
#[component]
pub fn Snippet(p: &SnippetProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let copied = use_state(|| false);
    let dialog = use_node_ref();
    super::help::use_dialog_focus("snippet-copy");
    let trap = {
        let dialog = dialog.clone();
        Callback::from(move |e: KeyboardEvent| {
            if let Some(el) = dialog.cast::<web_sys::Element>() {
                web::trap_tab(&e, &el);
            }
        })
    };
    let text = snippet_html(s, &web::app_base());
    let close = {
        let h = p.state.clone();
        Callback::from(move |_: MouseEvent| h.dispatch(Action::ToggleSnippet))
    };
    let copy = {
        let copied = copied.clone();
        Callback::from(move |_: MouseEvent| copied.set(web::copy_from("snippet-text")))
    };
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="snippet-title" id="snippet" ref={dialog} onkeydown={trap}>
            <div class="help snippet">
                <h2 id="snippet-title">{ t(lang, "ui.embed.title") }</h2>
                <p>{ t(lang, "ui.embed.lead") }</p>
                <textarea id="snippet-text" readonly=true rows="4" value={text} />
                <div class="row-buttons">
                    <button id="snippet-copy" class="primary" onclick={copy}>
                        { if *copied { t(lang, "ui.embed.copied") } else { t(lang, "ui.embed.copy") } }
                    </button>
                    <button id="snippet-close" onclick={close}>{ t(lang, "ui.close") }</button>
                </div>
            </div>
        </div>
    }
}
