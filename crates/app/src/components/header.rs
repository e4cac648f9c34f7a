//! The top bar: name, back to the map, language switch.

use yew::prelude::*;

use crate::i18n::Lang;
use crate::state::{Action, State};
use crate::t;

/// Props of [`Header`].
#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    /// Display language.
    pub lang: Lang,
    /// Where actions go.
    pub dispatch: UseReducerDispatcher<State>,
    /// Whether a scenario is open (shows the way back to the map).
    pub in_scenario: bool,
}

/// The top bar.
#[component]
pub fn Header(p: &HeaderProps) -> Html {
    let lang = p.lang;
    let to_picker = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::Picker))
    };
    let switch = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::ToggleLang))
    };
    let help = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::ToggleHelp))
    };
    html! {
        <header class="top">
            <button class="brand" onclick={to_picker.clone()} title={t(lang, "ui.home")}>
                <img src="icon.svg" alt="" width="28" height="28" />
                <span>{ "cipherstage" }</span>
            </button>
            <span class="tagline">{ t(lang, "ui.tagline") }</span>
            <nav class="top-actions">
                if p.in_scenario {
                    <button onclick={to_picker} id="to-picker">{ t(lang, "ui.back_to_map") }</button>
                }
                <button onclick={help} aria-label={t(lang, "ui.help.title")}>{ "?" }</button>
                <button id="lang-switch" onclick={switch} lang={lang.other().code()}
                    aria-label={t(lang, "ui.switch_lang")}>
                    { t(lang.other(), "ui.lang_name") }
                </button>
            </nav>
        </header>
    }
}
