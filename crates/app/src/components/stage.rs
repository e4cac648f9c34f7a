//! A scenario on stage: controls, sequence diagram, the current step in detail,
//! secrets so far, and the parameters that re-run it live.

use yew::prelude::*;

use super::{
    controls::Controls, detail::Detail, params::Params, secrets::Secrets, sequence::Sequence,
};
use crate::state::State;
use crate::t;

/// Props of [`Stage`].
#[derive(Properties, PartialEq)]
pub struct StageProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// The scenario view.
#[component]
pub fn Stage(p: &StageProps) -> Html {
    let s = &*p.state;
    let Some(tr) = s.transcript.clone() else {
        return html! {};
    };
    let lang = s.lang;
    let title = match s.scenario {
        Some(info) => t(lang, &info.title_key()),
        None => t(lang, "ui.imported"),
    };
    let d = p.state.dispatcher();
    // An embed may leave panes out (`hide=`); with one of the two left, it takes the width.
    let (diagram, detail) = (!s.hides("diagram"), !s.hides("detail"));
    let grid = classes!("stage-grid", (diagram != detail).then_some("one-pane"));
    html! {
        <main class="stage" id="stage" data-scenario={s.scenario.map(|i| i.id).unwrap_or("imported")}>
            if s.hides("title") {
                <h1 class="visually-hidden">{ title }</h1>
            } else {
                <div class="stage-head">
                    <h1>{ title }</h1>
                    if let Some(info) = s.scenario {
                        <p class="summary">{ t(lang, &info.summary_key()) }</p>
                    }
                </div>
            }
            if !s.hides("controls") {
                <Controls state={p.state.clone()} />
            }
            <div class={grid}>
                if diagram {
                <section class="diagram-pane" aria-label={t(lang, "ui.diagram")} tabindex="0">
                    if s.schedule {
                        <super::schedule::Schedule transcript={tr.clone()} step={s.step} lang={lang} dispatch={d.clone()} />
                    } else {
                        <Sequence transcript={tr.clone()} step={s.step} lang={lang} eve={s.eve} presenter={s.presenter} dispatch={d.clone()} />
                    }
                </section>
                }
                if detail {
                <section class="detail-pane" aria-live="polite" aria-label={t(lang, "ui.step_detail")} tabindex="0">
                    // Keyed by step: each step is a new view, so nothing already on
                    // screen moves when the next step's text is longer (no layout shift).
                    if s.asking.is_some() {
                        <super::quiz::QuizCard state={p.state.clone()} />
                    } else {
                        <super::quiz::Verdict state={p.state.clone()} />
                        <Detail key={s.step} state={p.state.clone()} />
                    }
                </section>
                }
                if !s.embed {
                    <aside class="side-pane">
                        <Secrets transcript={tr.clone()} step={s.step} lang={lang} eve={s.eve} dispatch={d.clone()} />
                        if s.scenario.is_some() {
                            <Params state={p.state.clone()} />
                        }
                    </aside>
                }
            </div>
        </main>
    }
}
