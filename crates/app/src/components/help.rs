//! The keyboard help overlay (`?`).

use yew::prelude::*;

use crate::i18n::Lang;
use crate::state::{Action, State};
use crate::t;

/// Props of [`Help`].
#[derive(Properties, PartialEq)]
pub struct HelpProps {
    /// Display language.
    pub lang: Lang,
    /// Where actions go.
    pub dispatch: UseReducerDispatcher<State>,
}

/// Lists the keys.
#[component]
pub fn Help(p: &HelpProps) -> Html {
    let lang = p.lang;
    let close = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::ToggleHelp))
    };
    let rows = [
        ("→ / Space / N", "ui.help.next"),
        ("← / P", "ui.help.prev"),
        ("Home / End", "ui.help.ends"),
        ("L", "ui.help.lang"),
        ("E", "ui.help.eve"),
        ("F", "ui.help.presenter"),
        ("T", "ui.help.theme"),
        ("K", "ui.help.schedule"),
        ("?", "ui.help.toggle"),
    ];
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title">
            <div class="help">
                <h2 id="help-title">{ t(lang, "ui.help.title") }</h2>
                <dl>
                    { for rows.iter().map(|(k, d)| html! { <><dt><kbd>{ *k }</kbd></dt><dd>{ t(lang, d) }</dd></> }) }
                </dl>
                <button onclick={close}>{ t(lang, "ui.close") }</button>
            </div>
        </div>
    }
}
