//! Lessons on screen: the bar that plays one (stop k of n, its note, the stepping
//! buttons, the speaker window), the editor a teacher builds one in, the shipped
//! lessons on the map, and the speaker window itself.

use std::cell::RefCell;
use std::rc::Rc;

use cipherstage_scenarios as scenarios;
use gloo::file::callbacks::FileReader;
use gloo::timers::callback::Interval;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::i18n::{tr, tr_args, Lang};
use crate::lesson::{self, Lesson, Note, Stop};
use crate::state::{Action, LessonAction, State};
use crate::web;

/// Props of the lesson components.
#[derive(Properties, PartialEq)]
pub struct LessonProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

fn args(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn title_of(l: &Lesson, lang: Lang) -> String {
    let t = l.title.text(lang);
    if t.trim().is_empty() {
        tr(lang, "ui.lesson.untitled")
    } else {
        t
    }
}

/// A stop's scenario title and step, as the lists show it.
fn stop_label(stop: &Stop, lang: Lang) -> String {
    let u = stop.url();
    let title = u.scenario.as_deref().and_then(scenarios::find).map_or_else(
        || u.scenario.clone().unwrap_or_default(),
        |i| tr(lang, &i.title_key()),
    );
    let at = crate::url::step_index(&u)
        .and_then(Result::ok)
        .map_or(1, |n| n + 1);
    let at = tr_args(lang, "ui.lesson.at", &args(&[("at", at.to_string())]));
    match (&u.to, stop.quiz) {
        (Some(to), q) => format!("{title} · {at}–{to}{}", if q { " · ?" } else { "" }),
        (None, true) => format!("{title} · {at} · ?"),
        (None, false) => format!("{title} · {at}"),
    }
}

fn counter(at: usize, count: usize, lang: Lang) -> String {
    tr_args(
        lang,
        "ui.lesson.stop",
        &args(&[("n", (at + 1).to_string()), ("count", count.to_string())]),
    )
}

/// "Open a lesson file": reads a chosen file and plays it from its first stop.
#[component]
pub fn LessonFile(p: &LessonProps) -> Html {
    let lang = p.state.lang;
    let reader: Rc<RefCell<Option<FileReader>>> = use_mut_ref(|| None);
    let onchange = {
        let dispatch = p.state.dispatcher();
        Callback::from(move |e: Event| {
            let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            if file.size() > lesson::MAX_TEXT as f64 {
                dispatch.dispatch(Action::Lesson(LessonAction::Failed(
                    "ui.lesson.error.too_long",
                )));
                return;
            }
            let d = dispatch.clone();
            let task = gloo::file::callbacks::read_as_text(&file.into(), move |res| {
                let text = res.unwrap_or_default();
                d.dispatch(Action::Lesson(match Lesson::from_text(&text) {
                    Ok(l) => LessonAction::Load(Rc::new(l), 0, true),
                    Err(e) => LessonAction::Failed(e.key()),
                }));
            });
            *reader.borrow_mut() = Some(task);
            input.set_value("");
        })
    };
    html! {
        <label class="file-button lesson-file">
            <span>{ tr(lang, "ui.lesson.open") }</span>
            <input type="file" class="lesson-open" accept=".txt,text/plain" onchange={onchange} />
        </label>
    }
}

/// The shipped lessons on the map, and a lesson file to open.
#[component]
pub fn LessonList(p: &LessonProps) -> Html {
    let lang = p.state.lang;
    let dispatch = p.state.dispatcher();
    html! {
        <section class="lessons" id="lessons" aria-labelledby="lessons-title">
            <h2 id="lessons-title">{ tr(lang, "ui.lesson.shipped_title") }</h2>
            <p class="examples">{ tr(lang, "ui.lesson.shipped_lead") }</p>
            <ul>
            { for lesson::SHIPPED.iter().filter_map(|id| lesson::shipped(id)).map(|l| {
                let d = dispatch.clone();
                let id = l.shipped.unwrap_or_default();
                let count = l.stops.len();
                let title = title_of(&l, lang);
                let l = Rc::new(l);
                let open = Callback::from(move |_| {
                    d.dispatch(Action::Lesson(LessonAction::Load(l.clone(), 0, true)))
                });
                html! {
                    <li>
                        <button class="scenario-card lesson-card" data-lesson={id} onclick={open}>
                            <strong>{ title }</strong>
                            <span>{ tr_args(lang, "ui.lesson.stops", &args(&[("count", count.to_string())])) }</span>
                        </button>
                    </li>
                }
            }) }
            </ul>
            <LessonFile state={p.state.clone()} />
        </section>
    }
}

/// The lesson being played: where it is, its note, and (when editing) its editor.
#[component]
pub fn LessonBar(p: &LessonProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let Some(view) = s.lesson.clone() else {
        return html! {};
    };
    let dispatch = p.state.dispatcher();
    let act = |a: LessonAction| {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Lesson(a.clone())))
    };
    let count = view.lesson.stops.len();
    let note = view
        .lesson
        .stops
        .get(view.at)
        .map(|st| st.note.text(lang))
        .unwrap_or_default();
    html! {
        <section class={classes!("lesson-bar", view.editing.then_some("editing"))} id="lesson-bar" aria-label={tr(lang, "ui.lesson.label")}>
            <div class="lesson-head">
                <strong class="lesson-title">{ title_of(&view.lesson, lang) }</strong>
                <span id="lesson-counter" aria-live="polite">{ counter(view.at, count, lang) }</span>
                <button id="lesson-prev" onclick={act(LessonAction::Step(false))} disabled={view.at == 0}>{ tr(lang, "ui.lesson.prev") }</button>
                <button id="lesson-next" onclick={act(LessonAction::Step(true))} disabled={view.at + 1 >= count}>{ tr(lang, "ui.lesson.next") }</button>
                <button id="lesson-speaker" onclick={act(LessonAction::Speaker)}>{ tr(lang, "ui.lesson.speaker") }</button>
                if !s.presenter {
                    <button id="lesson-edit" aria-pressed={view.editing.to_string()} onclick={act(LessonAction::ToggleEdit)}>
                        { tr(lang, if view.editing { "ui.lesson.done" } else { "ui.lesson.edit" }) }
                    </button>
                }
                <button id="lesson-leave" onclick={act(LessonAction::Leave)}>{ tr(lang, "ui.lesson.leave") }</button>
            </div>
            if !s.presenter && !note.trim().is_empty() {
                <p class="lesson-note" id="lesson-note">{ note }</p>
            }
            if view.editing && !s.presenter {
                <Editor state={p.state.clone()} />
            }
        </section>
    }
}

/// The lesson editor: title, stops (go, move, remove, note, range, quiz), add the
/// current view, save as a file, open one, and the share link.
#[component]
fn Editor(p: &LessonProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let Some(view) = s.lesson.clone() else {
        return html! {};
    };
    let dispatch = p.state.dispatcher();
    let act = |a: LessonAction| {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Lesson(a.clone())))
    };
    let lang_name = lang.name().to_owned();
    let value_of = |e: &InputEvent| -> String {
        e.target()
            .and_then(|t| {
                t.dyn_ref::<web_sys::HtmlTextAreaElement>()
                    .map(|a| a.value())
                    .or_else(|| t.dyn_ref::<web_sys::HtmlInputElement>().map(|i| i.value()))
            })
            .unwrap_or_default()
    };
    let title_input = {
        let d = dispatch.clone();
        Callback::from(move |e: InputEvent| {
            d.dispatch(Action::Lesson(LessonAction::Title(lang, value_of(&e))))
        })
    };
    let title = match &view.lesson.title {
        Note::Text { en, ja } => {
            if lang == Lang::Ja {
                ja.clone()
            } else {
                en.clone()
            }
        }
        Note::Key(k) => tr(lang, k),
    };
    let link = view
        .fragment()
        .filter(|_| {
            view.encoded
                .as_ref()
                .is_some_and(|(r, _)| *r == view.revision)
        })
        .map(|f| {
            let f = f
                .rsplit_once("&stop=")
                .map_or(f.clone(), |(a, _)| a.to_owned());
            format!("{}?lang={}#{f}&stop=1", web::app_base(), lang.code())
        });
    let save = {
        let l = view.lesson.clone();
        Callback::from(move |_: MouseEvent| {
            web::download(
                &l.file_name(lang),
                "text/plain;charset=utf-8",
                l.to_text().as_bytes(),
            )
        })
    };
    let copied = use_state(|| false);
    let copy = {
        let copied = copied.clone();
        Callback::from(move |_: MouseEvent| copied.set(web::copy_from("lesson-link")))
    };
    html! {
        <div class="lesson-editor" id="lesson-editor">
            <label class="lesson-field">
                <span>{ tr_args(lang, "ui.lesson.title_label", &args(&[("lang", lang_name.clone())])) }</span>
                <input id="lesson-title" type="text" value={title} oninput={title_input} maxlength="200" />
            </label>
            <ol class="lesson-stops">
            { for view.lesson.stops.iter().enumerate().map(|(i, st)| {
                let note = match &st.note {
                    Note::Text { en, ja } => if lang == Lang::Ja { ja.clone() } else { en.clone() },
                    Note::Key(k) => tr(lang, k),
                };
                let d = dispatch.clone();
                let on_note = Callback::from(move |e: InputEvent| {
                    d.dispatch(Action::Lesson(LessonAction::Note(i, lang, value_of(&e))))
                });
                let d = dispatch.clone();
                let on_until = Callback::from(move |e: Event| {
                    let v = e.target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        .map(|i| i.value())
                        .unwrap_or_default();
                    let to = v.trim().parse::<usize>().ok().filter(|n| *n >= 1 && *n < 100_000);
                    d.dispatch(Action::Lesson(LessonAction::Until(i, to)))
                });
                let d = dispatch.clone();
                let on_quiz = Callback::from(move |e: Event| {
                    let on = e.target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        .is_some_and(|i| i.checked());
                    d.dispatch(Action::Lesson(LessonAction::Quiz(i, on)))
                });
                let until = st.url().to.unwrap_or_default();
                let n = (i + 1).to_string();
                html! {
                    <li class={classes!("lesson-stop", (i == view.at).then_some("current"))}>
                        <div class="stop-head">
                            <button class="stop-go" onclick={act(LessonAction::Go(i))} aria-current={(i == view.at).then_some("step")}>
                                { format!("{}. {}", i + 1, stop_label(st, lang)) }
                            </button>
                            <button class="stop-up" onclick={act(LessonAction::Move(i, true))} disabled={i == 0}
                                aria-label={tr_args(lang, "ui.lesson.up", &args(&[("n", n.clone())]))}>{ "↑" }</button>
                            <button class="stop-down" onclick={act(LessonAction::Move(i, false))} disabled={i + 1 >= view.lesson.stops.len()}
                                aria-label={tr_args(lang, "ui.lesson.down", &args(&[("n", n.clone())]))}>{ "↓" }</button>
                            <button class="stop-remove" onclick={act(LessonAction::Remove(i))} disabled={view.lesson.stops.len() == 1}
                                aria-label={tr_args(lang, "ui.lesson.remove", &args(&[("n", n.clone())]))}>{ "✕" }</button>
                        </div>
                        <label class="lesson-field">
                            <span>{ tr_args(lang, "ui.lesson.note_label", &args(&[("lang", lang_name.clone())])) }</span>
                            <textarea class="stop-note" rows="2" value={note} oninput={on_note} />
                        </label>
                        <div class="stop-options">
                            <label class="lesson-field">
                                <span>{ tr(lang, "ui.lesson.until") }</span>
                                <input class="stop-until" type="number" min="1" value={until} onchange={on_until} />
                            </label>
                            <label class="check-field">
                                <input class="stop-quiz" type="checkbox" checked={st.quiz} onchange={on_quiz} />
                                <span>{ tr(lang, "ui.lesson.quiz") }</span>
                            </label>
                        </div>
                    </li>
                }
            }) }
            </ol>
            <div class="lesson-actions">
                <button id="lesson-add" onclick={act(LessonAction::AddHere)} disabled={s.scenario.is_none()}>{ tr(lang, "ui.lesson.add_here") }</button>
                <button id="lesson-save" onclick={save}>{ tr(lang, "ui.lesson.save") }</button>
                <LessonFile state={p.state.clone()} />
            </div>
            <label class="lesson-field lesson-link">
                <span>{ tr(lang, "ui.lesson.link") }</span>
                <textarea id="lesson-link" readonly=true rows="2"
                    value={link.clone().unwrap_or_else(|| tr(lang, "ui.lesson.link_pending"))} />
            </label>
            <button id="lesson-copy" onclick={copy} disabled={link.is_none()}>
                { tr(lang, if *copied { "ui.lesson.copied" } else { "ui.lesson.copy" }) }
            </button>
        </div>
    }
}

/// The speaker window: the current stop's note, the next stop, a timer, and the
/// buttons that move the stage (over `BroadcastChannel`, see `lib.rs`).
#[component]
pub fn Speaker(p: &LessonProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let started = use_state(now_ms);
    let tick = use_force_update();
    {
        let tick = tick.clone();
        use_effect_with((), move |_| {
            let timer = Interval::new(1000, move || tick.force_update());
            move || drop(timer)
        });
    }
    let Some(view) = s.lesson.clone() else {
        return html! {
            <main class="speaker" id="speaker"><p role="status">{ tr(lang, "ui.lesson.waiting") }</p></main>
        };
    };
    let dispatch = p.state.dispatcher();
    let ask = |k: usize| {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Lesson(LessonAction::Ask(k))))
    };
    let secs = ((now_ms() - *started) / 1000.0).max(0.0) as u64;
    let reset = {
        let started = started.clone();
        Callback::from(move |_: MouseEvent| started.set(now_ms()))
    };
    let count = view.lesson.stops.len();
    let now = view.lesson.stops.get(view.at);
    let next = view.lesson.stops.get(view.at + 1);
    html! {
        <main class="speaker" id="speaker">
            <header class="speaker-head">
                <h1>{ format!("{} · {}", tr(lang, "ui.lesson.speaker_title"), title_of(&view.lesson, lang)) }</h1>
                <span class="speaker-timer" id="speaker-timer" role="timer" aria-label={tr(lang, "ui.lesson.timer")}>
                    { format!("{:02}:{:02}", secs / 60, secs % 60) }
                </span>
                <button id="speaker-reset" onclick={reset}>{ tr(lang, "ui.lesson.reset") }</button>
            </header>
            <section class="speaker-now">
                <h2 id="speaker-counter">
                    { counter(view.at, count, lang) }
                    { now.map(|st| format!(" · {}", stop_label(st, lang))).unwrap_or_default() }
                </h2>
                <p class="speaker-note" id="speaker-note">{ now.map(|st| st.note.text(lang)).unwrap_or_default() }</p>
            </section>
            <section class="speaker-next">
                <h3>{ tr(lang, "ui.lesson.next_stop") }</h3>
                if let Some(st) = next {
                    <p id="speaker-next"><strong>{ stop_label(st, lang) }</strong>{ " — " }{ st.note.text(lang) }</p>
                } else {
                    <p id="speaker-next">{ tr(lang, "ui.lesson.last_stop") }</p>
                }
            </section>
            <nav class="speaker-nav">
                <button id="speaker-prev" onclick={ask(view.at.saturating_sub(1))} disabled={view.at == 0}>{ tr(lang, "ui.lesson.prev") }</button>
                <button id="speaker-go-next" onclick={ask(view.at + 1)} disabled={view.at + 1 >= count}>{ tr(lang, "ui.lesson.next") }</button>
            </nav>
            <ol class="speaker-stops">
            { for view.lesson.stops.iter().enumerate().map(|(i, st)| html! {
                <li class={classes!((i == view.at).then_some("current"))}>
                    <button onclick={ask(i)} aria-current={(i == view.at).then_some("step")}>{ format!("{}. {}", i + 1, stop_label(st, lang)) }</button>
                </li>
            }) }
            </ol>
        </main>
    }
}

fn now_ms() -> f64 {
    gloo::utils::window().performance().map_or(0.0, |p| p.now())
}
