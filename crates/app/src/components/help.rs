//! The keyboard help overlay (`?`).

use yew::prelude::*;

use crate::i18n::Lang;
use crate::state::{Action, State};
use crate::{t, web};

/// Props of [`Help`].
#[derive(Properties, PartialEq)]
pub struct HelpProps {
    /// Display language.
    pub lang: Lang,
    /// Where actions go.
    pub dispatch: UseReducerDispatcher<State>,
}

/// Lists the keys. Takes focus when it opens (on its close button), keeps Tab
/// inside, and gives focus back where it was when it closes; Esc closes it.
#[component]
pub fn Help(p: &HelpProps) -> Html {
    let lang = p.lang;
    let dialog = use_node_ref();
    use_dialog_focus("help-close");
    let close = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::ToggleHelp))
    };
    let trap = {
        let dialog = dialog.clone();
        Callback::from(move |e: KeyboardEvent| {
            if let Some(el) = dialog.cast::<web_sys::Element>() {
                web::trap_tab(&e, &el);
            }
        })
    };
    let rows = [
        ("→ / Space / N", "ui.help.next"),
        ("← / B", "ui.help.prev"),
        ("P", "ui.help.play"),
        ("Home / End", "ui.help.ends"),
        ("L", "ui.help.lang"),
        ("E", "ui.help.eve"),
        ("F", "ui.help.presenter"),
        ("T", "ui.help.theme"),
        ("K", "ui.help.schedule"),
        ("Q", "ui.help.qr"),
        ("H", "ui.help.handout"),
        ("X", "ui.help.quiz"),
        ("S", "ui.help.speaker"),
        ("Esc", "ui.help.escape"),
        ("?", "ui.help.toggle"),
        ("← → ↑ ↓ / Enter", "ui.help.hex"),
    ];
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title" id="help" ref={dialog} onkeydown={trap}>
            <div class="help">
                <h2 id="help-title">{ t(lang, "ui.help.title") }</h2>
                <dl>
                    { for rows.iter().map(|(k, d)| html! { <><dt><kbd>{ *k }</kbd></dt><dd>{ t(lang, d) }</dd></> }) }
                </dl>
                <button id="help-close" onclick={close}>{ t(lang, "ui.close") }</button>
            </div>
        </div>
    }
}

/// Focuses `id` when the dialog opens and gives focus back to what had it when
/// the dialog closes.
#[hook]
pub fn use_dialog_focus(id: &'static str) {
    use_effect_with((), move |_| {
        let before = web::focused();
        web::focus_id(id);
        move || {
            if let Some(el) = before {
                let _ = el.focus();
            }
        }
    });
}
