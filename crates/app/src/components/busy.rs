//! What the worker is doing: loading a protocol module or running a scenario,
//! with its progress when it reports one and a button that stops it. Shown only
//! when a run takes longer than a moment (the stylesheet delays it), so a quick
//! re-run never flickers.

use yew::prelude::*;

use crate::bridge;
use crate::state::{Action, Purpose, State};
use crate::t;

/// Props of [`Busy`].
#[derive(Properties, PartialEq)]
pub struct BusyProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// The status line of a run in progress.
#[component]
pub fn Busy(p: &BusyProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let Some(pending) = &s.pending else {
        return html! {};
    };
    let what = match (&pending.purpose, pending.progress) {
        (Purpose::Open { .. }, None) => t(lang, "ui.busy.loading"),
        _ => t(lang, "ui.busy.running"),
    };
    let cancel = {
        let dispatch = p.state.dispatcher();
        Callback::from(move |_: MouseEvent| {
            bridge::cancel();
            dispatch.dispatch(Action::Cancel);
        })
    };
    html! {
        <div class="busy" id="busy" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span class="busy-what">{ what }</span>
            if let Some(f) = pending.progress {
                <progress id="busy-progress" max="1" value={format!("{:.3}", f.clamp(0.0, 1.0))}></progress>
            }
            <button id="busy-cancel" onclick={cancel}>{ t(lang, "ui.busy.cancel") }</button>
        </div>
    }
}
