//! The top bar: name, back to the map, language switch.

use yew::prelude::*;

use crate::i18n::Lang;
use crate::state::{Action, State, Theme};
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
    /// Current colour theme.
    pub theme: Theme,
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
    let theme = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::NextTheme))
    };
    let help = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::ToggleHelp))
    };
    html! {
        <header class="top">
            <button class="brand" onclick={to_picker.clone()} title={t(lang, "ui.home")}>
                <svg viewBox="0 0 64 64" width="28" height="28" aria-hidden="true">
                    <rect width="64" height="64" rx="14" fill="#1d3557" />
                    <path d="M20 30v-6a12 12 0 0 1 24 0v6" fill="none" stroke="#f1faee" stroke-width="5" />
                    <rect x="14" y="29" width="36" height="24" rx="4" fill="#e63946" />
                    <path d="M22 41h4m4 0h4m4 0h4" stroke="#f1faee" stroke-width="3" stroke-linecap="round" />
                </svg>
                <span>{ "cipherstage" }</span>
            </button>
            <span class="tagline">{ t(lang, "ui.tagline") }</span>
            <nav class="top-actions">
                if p.in_scenario {
                    <button onclick={to_picker} id="to-picker">{ t(lang, "ui.back_to_map") }</button>
                }
                <button id="theme" onclick={theme} title={t(lang, "ui.help.theme")}>
                    { t(lang, match p.theme {
                        Theme::Auto => "ui.theme.auto",
                        Theme::Light => "ui.theme.light",
                        Theme::Dark => "ui.theme.dark",
                        Theme::Projector => "ui.theme.projector",
                    }) }
                </button>
                <button onclick={help} aria-label={t(lang, "ui.help.title")}>{ "?" }</button>
                // The accessible name starts with the visible text (axe: label-content-name-mismatch).
                <button id="lang-switch" onclick={switch} lang={lang.other().code()}
                    title={t(lang, "ui.switch_lang")}>
                    { lang.other().name() }
                </button>
            </nav>
        </header>
    }
}
