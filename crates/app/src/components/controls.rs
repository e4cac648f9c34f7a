//! Step back/forward, play/pause, speed, the eavesdropper view, key schedule and
//! presenter mode in view; downloads in one menu; seed, live randomness, embed and
//! import in a settings/share panel.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::file::callbacks::FileReader;
use yew::prelude::*;

use crate::state::{Action, Menu, State, SPEEDS};
use crate::{t, web};

/// Props of [`Controls`].
#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// The control bar.
#[component]
pub fn Controls(p: &ControlsProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let reader: Rc<RefCell<Option<FileReader>>> = use_mut_ref(|| None);
    let act = |a: Action| {
        let h = p.state.clone();
        Callback::from(move |_: MouseEvent| h.dispatch(a.clone()))
    };
    let len = s.steps();
    let on_speed = {
        let h = p.state.clone();
        Callback::from(move |e: Event| {
            if let Some(sel) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
                h.dispatch(Action::SetSpeed(sel.value().parse().unwrap_or(1)));
            }
        })
    };
    let on_seed = {
        let h = p.state.clone();
        Callback::from(move |e: Event| {
            if let Some(inp) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                match inp.value().trim().parse::<u64>() {
                    Ok(n) => h.dispatch(Action::SetSeed(Some(n))),
                    Err(_) => inp.set_value(&h.seed.unwrap_or(0).to_string()),
                }
            }
        })
    };
    let on_live = {
        let h = p.state.clone();
        Callback::from(move |e: Event| {
            if let Some(inp) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                let seed = if inp.checked() {
                    None
                } else {
                    Some(crate::state::DEFAULT_SEED)
                };
                h.dispatch(Action::SetSeed(seed));
            }
        })
    };
    let export = {
        let h = p.state.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(tr) = &h.transcript {
                let name = format!("{}-transcript.json", tr.scenario);
                web::download(&name, "application/json", tr.to_json().as_bytes());
            }
            h.dispatch(Action::CloseMenu);
        })
    };
    let import = {
        let h = p.state.clone();
        let reader = reader.clone();
        Callback::from(move |e: Event| {
            let Some(inp) = e.target_dyn_into::<web_sys::HtmlInputElement>() else {
                return;
            };
            let Some(file) = inp.files().and_then(|f| f.get(0)) else {
                return;
            };
            let h = h.clone();
            let task = gloo::file::callbacks::read_as_text(&file.into(), move |res| {
                h.dispatch(Action::Import(res.unwrap_or_default()));
            });
            *reader.borrow_mut() = Some(task);
            inp.set_value("");
        })
    };
    // Files the scenario offers (captures, keys), made from the run on screen.
    let exports = s.exports.clone();
    let export_buttons = exports.iter().enumerate().map(|(i, f)| {
        let exports = exports.clone();
        let h = p.state.clone();
        let onclick = Callback::from(move |_: MouseEvent| {
            if let Some(f) = exports.get(i) {
                web::download(&f.name, &f.mime, &f.bytes);
            }
            h.dispatch(Action::CloseMenu);
        });
        let label = t(lang, &f.label);
        html! { <button class="export-file" data-file={f.name.clone()} onclick={onclick}>{ label }</button> }
    });
    // An opened menu takes focus (its first control); closed (Escape, or a
    // download chosen), focus goes back to the button that opened it.
    {
        let last = use_mut_ref(|| None::<Menu>);
        use_effect_with(s.menu, move |m| {
            let before = last.replace(*m);
            match (before, *m) {
                (_, Some(now)) if before != Some(now) => {
                    let panel = match now {
                        Menu::Downloads => "downloads-menu",
                        Menu::Settings => "settings-panel",
                    };
                    if let Some(el) = gloo::utils::document()
                        .query_selector(&format!("#{panel} button, #{panel} input:not([disabled])"))
                        .ok()
                        .flatten()
                        .and_then(|e| {
                            wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()
                        })
                    {
                        let _ = el.focus();
                    }
                }
                (Some(was), None) => {
                    let body =
                        web::focused().is_none_or(|f| f.tag_name().eq_ignore_ascii_case("body"));
                    if body {
                        web::focus_id(match was {
                            Menu::Downloads => "downloads-toggle",
                            Menu::Settings => "settings-toggle",
                        });
                    }
                }
                _ => {}
            }
        });
    }
    let play_label = if s.playing { "ui.pause" } else { "ui.play" };
    let menu_button = |m: Menu, id: &'static str, panel: &'static str, key: &str| {
        let open = s.menu == Some(m);
        html! {
            <button id={id} class={classes!("menu-toggle", open.then_some("open"))}
                aria-expanded={open.to_string()} aria-controls={panel} onclick={act(Action::ToggleMenu(m))}>
                { t(lang, key) }<span aria-hidden="true">{ if open { " ▴" } else { " ▾" } }</span>
            </button>
        }
    };
    let has_files = s.transcript.is_some();
    html! {
        <div class="controls" role="toolbar" aria-label={t(lang, "ui.controls")}>
            <div class="group">
                <button onclick={act(Action::First)} aria-label={t(lang, "ui.first")} title={t(lang, "ui.first")}>{ "|◀" }</button>
                <button id="prev" onclick={act(Action::Prev)} aria-label={t(lang, "ui.prev")} title={t(lang, "ui.prev")}>{ "◀" }</button>
                <button id="play" class="primary" onclick={act(Action::TogglePlay)} aria-label={t(lang, play_label)} title={t(lang, play_label)}>
                    { if s.playing { "❚❚" } else { "▶" } }
                </button>
                <button id="next" onclick={act(Action::Next)} aria-label={t(lang, "ui.next")} title={t(lang, "ui.next")}>{ "▶▶" }</button>
                <button onclick={act(Action::Last)} aria-label={t(lang, "ui.last")} title={t(lang, "ui.last")}>{ "▶|" }</button>
                <span class="counter" id="step-counter" aria-live="polite">
                    { format!("{} / {}", s.step + 1, len) }
                </span>
                if s.presenter {
                    if s.fullscreen_hint && !s.fullscreen {
                        <span class="fs-hint" id="fs-hint">{ t(lang, "ui.presenter.fs_hint") }</span>
                    }
                    <button id="exit-presenter" onclick={act(Action::ExitPresenter)}>{ t(lang, "ui.presenter.exit") }</button>
                }
                <label class="speed">
                    <span>{ t(lang, "ui.speed") }</span>
                    <select onchange={on_speed}>
                        { for SPEEDS.iter().enumerate().map(|(i, ms)| html! {
                            <option value={i.to_string()} selected={i == s.speed}>
                                { format!("{:.1}×", 1400.0 / f64::from(*ms)) }
                            </option>
                        }) }
                    </select>
                </label>
            </div>
            if !s.embed {
                // What a teacher toggles in class stays in view; the rest is folded.
                <div class="group">
                    if s.has_eve() {
                        <label class="eve-toggle">
                            <input id="eve" type="checkbox" checked={s.eve}
                                onchange={{ let h = p.state.clone(); Callback::from(move |_: Event| h.dispatch(Action::ToggleEve)) }} />
                            <span>{ t(lang, "ui.eve_view") }</span>
                        </label>
                    }
                    if s.has_secrets() || s.schedule {
                        <button id="schedule-toggle" onclick={act(Action::ToggleSchedule)} aria-pressed={s.schedule.to_string()}>
                            { t(lang, if s.schedule { "ui.show_sequence" } else { "ui.key_schedule" }) }
                        </button>
                    }
                    <button id="present" onclick={act(Action::TogglePresenter)}>{ t(lang, "ui.presenter") }</button>
                    if has_files {
                        { menu_button(Menu::Downloads, "downloads-toggle", "downloads-menu", "ui.downloads") }
                    }
                    { menu_button(Menu::Settings, "settings-toggle", "settings-panel", "ui.settings") }
                </div>
                if s.menu == Some(Menu::Downloads) && has_files {
                    <div class="menu-panel" id="downloads-menu" role="group" aria-label={t(lang, "ui.downloads")}>
                        <button id="handout-button" onclick={act(Action::ToggleHandout)}>{ t(lang, "ui.handout") }</button>
                        { for export_buttons }
                        <button id="export" onclick={export}>{ t(lang, "ui.export_json") }</button>
                    </div>
                }
                if s.menu == Some(Menu::Settings) {
                    <div class="menu-panel" id="settings-panel" role="group" aria-label={t(lang, "ui.settings")}>
                        if !s.imported {
                            <label class="seed">
                                <span>{ t(lang, "ui.seed") }</span>
                                <input id="seed" type="number" min="0" inputmode="numeric"
                                    value={s.seed.map(|n| n.to_string()).unwrap_or_default()}
                                    disabled={s.seed.is_none()} onchange={on_seed} />
                            </label>
                            <label class="live" title={t(lang, "ui.live.hint")}>
                                <input id="live" type="checkbox" checked={s.seed.is_none()} onchange={on_live} />
                                <span>{ t(lang, "ui.live") }</span>
                            </label>
                            if s.seed.is_none() {
                                <button onclick={act(Action::Rerun)}>{ t(lang, "ui.rerun") }</button>
                            }
                        }
                        <button id="embed-button" onclick={act(Action::ToggleSnippet)}>{ t(lang, "ui.embed") }</button>
                        <button id="qr-button" onclick={act(Action::ToggleQr)}>{ t(lang, "ui.qr") }</button>
                        <button id="quiz-toggle" onclick={act(Action::ToggleQuiz)} aria-pressed={s.quiz.to_string()}>{ t(lang, "ui.quiz") }</button>
                        if let Some(info) = s.scenario {
                            <button id="compare-button" onclick={{
                                let partner = super::compare::default_partner(info.id).to_owned();
                                let seed = if partner == info.id { s.seed.map(|n| n.wrapping_add(1)).or(Some(1)) } else { s.seed };
                                act(Action::SetCompare(Some((partner, seed))))
                            }}>{ t(lang, "ui.compare.open") }</button>
                            if s.lesson.is_none() {
                                <button id="lesson-new" onclick={act(Action::Lesson(crate::state::LessonAction::New))}>{ t(lang, "ui.lesson.new") }</button>
                            } else {
                                <button id="lesson-add-menu" onclick={act(Action::Lesson(crate::state::LessonAction::AddHere))}>{ t(lang, "ui.lesson.add_here") }</button>
                            }
                        }
                        <label class="file-button">
                            <span>{ t(lang, "ui.import_json") }</span>
                            <input id="import" type="file" accept="application/json,.json" onchange={import} />
                        </label>
                    </div>
                }
            }
        </div>
    }
}
