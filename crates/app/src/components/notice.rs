//! A dismissable message about bad input (URL, parameters, imported file).

use yew::prelude::*;

use crate::i18n::{tr_args, Lang};
use crate::state::{Action, Notice, State};
use crate::t;

/// Props of [`NoticeBar`].
#[derive(Properties, PartialEq)]
pub struct NoticeProps {
    /// What to say.
    pub notice: Notice,
    /// Display language.
    pub lang: Lang,
    /// Where actions go.
    pub dispatch: UseReducerDispatcher<State>,
}

/// The notice bar.
#[component]
pub fn NoticeBar(p: &NoticeProps) -> Html {
    let close = {
        let d = p.dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::DismissNotice))
    };
    html! {
        <div class="notice" role="alert" id="notice">
            <span>{ text(p.lang, &p.notice) }</span>
            <button onclick={close} aria-label={t(p.lang, "ui.dismiss")}>{ "×" }</button>
        </div>
    }
}

/// The notice in words, with its listed items in place of `{what}`.
pub fn text(lang: Lang, n: &Notice) -> String {
    let mut args = n.args.clone();
    if !n.parts.is_empty() {
        let sep = if lang == Lang::Ja { "、" } else { "; " };
        let what: Vec<String> = n.parts.iter().map(|p| text(lang, p)).collect();
        args.push(("what".into(), what.join(sep)));
    }
    tr_args(lang, n.key, &args)
}
