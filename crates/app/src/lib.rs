//! The cipherstage web app: yew function components over the pure [`state`].
//!
//! `main.rs` only calls [`start`], so browser tests can mount [`App`] themselves.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod bridge;
pub mod components;
pub mod hooks;
pub mod i18n;
pub mod lesson;
pub mod state;
pub mod text_fit;
pub mod url;
mod web;

use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::timers::callback::Interval;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::{header::Header, notice::NoticeBar, picker::Picker, stage::Stage};
use crate::i18n::{tr, Lang};
use crate::state::{Action, LessonAction, State, SPEEDS};

/// Installs the panic page and mounts the app on `<main id="app">`.
pub fn start() {
    web::install_panic_page();
    // The loader fetched the page's catalogue beside the app.
    web::install_loaded_catalogue();
    if web::bench_requested() {
        web::bench();
        return;
    }
    let root = gloo::utils::document()
        .get_element_by_id("app")
        .unwrap_or_else(|| gloo::utils::body().into());
    yew::Renderer::<App>::with_root(root).render();
}

/// The whole app.
#[component]
pub fn App() -> Html {
    let state = use_reducer(|| {
        let mut s = State::from_url(&web::read_url(), web::browser_lang());
        s.score = web::load_score();
        s
    });
    // The quiz score stays in this browser (localStorage), nowhere else.
    {
        let score = state.score;
        use_effect_with(score, move |score| web::save_score(*score));
    }

    // The fragment as the page opened with it, read before the effect below
    // rewrites the address.
    let opened_fragment = use_memo((), |_| web::read_fragment());

    // Keep the address bar, <html lang> and the panic page's language in step.
    {
        let mut url = state.to_url();
        url.speaker = state.speaker;
        let fragment = state.lesson.as_ref().and_then(|l| l.fragment());
        let lang = state.lang;
        let theme = if state.presenter {
            state::Theme::Projector
        } else {
            state.theme
        };
        use_effect_with(
            (url, fragment, lang, theme),
            move |(url, fragment, lang, theme)| {
                web::write_url(url, fragment.as_deref());
                web::set_lang(*lang);
                web::set_theme(theme.code());
            },
        );
    }

    // A lesson named in the address's fragment (a shipped one, or a teacher's
    // link) is read once; a page that already shows a view (a reload) keeps it.
    {
        let dispatch = state.dispatcher();
        let open = state.scenario.is_none();
        let fragment = opened_fragment.clone();
        use_effect_with((), move |_| {
            let (value, stop) = lesson::from_fragment(&fragment);
            if let Some(value) = value {
                web::read_lesson(&value, move |r| {
                    dispatch.dispatch(Action::Lesson(match r {
                        Ok(l) => LessonAction::Load(Rc::new(l), stop.unwrap_or(0), open),
                        Err(e) => LessonAction::Failed(e.key()),
                    }))
                });
            }
        });
    }

    // A teacher's own lesson goes into the fragment (deflated) after every change.
    {
        let dispatch = state.dispatcher();
        let job = state.lesson.as_ref().and_then(|l| {
            let stale = l.encoded.as_ref().is_none_or(|(r, _)| *r != l.revision);
            (l.lesson.shipped.is_none() && stale).then(|| (l.revision, l.lesson.clone()))
        });
        use_effect_with(job.as_ref().map(|(r, _)| *r), move |_| {
            if let Some((revision, lesson)) = job {
                web::encode_lesson(lesson.to_text(), move |text| {
                    dispatch.dispatch(Action::Lesson(LessonAction::Encoded(revision, text)))
                });
            }
        });
    }

    // S opens the speaker window on this lesson (same origin, same fragment).
    {
        let asks = state.speaker_asks;
        let target = state.lesson.as_ref().map(|l| {
            let fragment = l.fragment().unwrap_or_else(|| {
                format!(
                    "lesson=t.{}&stop={}",
                    lesson::b64url(l.lesson.to_text().as_bytes()),
                    l.at + 1
                )
            });
            format!(
                "{}?speaker=1&lang={}#{fragment}",
                web::app_base(),
                state.lang.code()
            )
        });
        use_effect_with(asks, move |asks| {
            if let (true, Some(url)) = (*asks > 0, target) {
                web::open_speaker(&url);
            }
        });
    }

    // The stage and its speaker window keep each other at the same stop.
    {
        let dispatch = state.dispatcher();
        let speaker = state.speaker;
        let active = state.lesson.is_some();
        let channel = use_mut_ref(|| None::<web::LessonChannel>);
        {
            let channel = channel.clone();
            use_effect_with(active, move |active| {
                *channel.borrow_mut() = active
                    .then(|| {
                        web::LessonChannel::join(move |kind, stop| match (speaker, kind) {
                            (false, "go") => {
                                dispatch.dispatch(Action::Lesson(LessonAction::Go(stop)))
                            }
                            (false, "hello") => {
                                dispatch.dispatch(Action::Lesson(LessonAction::Announce))
                            }
                            (true, "at") => {
                                dispatch.dispatch(Action::Lesson(LessonAction::Heard(stop)))
                            }
                            _ => {}
                        })
                    })
                    .flatten();
                if speaker {
                    if let Some(c) = channel.borrow().as_ref() {
                        c.post("hello", 0);
                    }
                }
            });
        }
        // The stage says where it is (again when the speaker asks); the speaker
        // says where to go, once per press.
        let at = state.lesson.as_ref().map(|l| (l.at, l.announce));
        let go = state.lesson.as_ref().and_then(|l| l.go);
        {
            let channel = channel.clone();
            use_effect_with(at, move |at| {
                if let (false, Some((k, _)), Some(c)) = (speaker, at, channel.borrow().as_ref()) {
                    c.post("at", *k);
                }
            });
        }
        use_effect_with(go, move |go| {
            if let (true, Some((_, k)), Some(c)) = (speaker, go, channel.borrow().as_ref()) {
                c.post("go", *k);
            }
        });
    }

    // Presenter mode asks for full screen when a key or click asked for it (a
    // browser refuses it without one: a shared `?present=1` link shows "press F"
    // instead). The layout works without full screen anyway.
    {
        let presenter = state.presenter;
        let asks = state.fullscreen_asks;
        use_effect_with((presenter, asks), move |(on, asks)| {
            if !*on {
                web::fullscreen(false);
            } else if *asks > 0 {
                web::fullscreen(true);
            }
        });
    }

    // Leaving full screen (Esc, F11, the browser's control) leaves presenter mode.
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let document = gloo::utils::document();
            let listener = EventListener::new(&document, "fullscreenchange", move |_| {
                let on = gloo::utils::document().fullscreen_element().is_some();
                dispatch.dispatch(Action::FullscreenChanged(on));
            });
            move || drop(listener)
        });
    }

    // In an embed, tell the host page how tall the content is, after every render.
    {
        let embed = state.embed;
        use_effect(move || {
            if embed {
                web::post_height();
            }
        });
    }

    // The embedding page's view of the widget: `cipherstage:ready` once the run is
    // on screen, `cipherstage:step` at every step (numbers only, counted from 1).
    {
        let embed = state.embed;
        let shown = state.transcript.as_ref().map(|t| Rc::as_ptr(t) as usize);
        let (step, steps, (first, last)) = (state.step, state.steps(), state.bounds());
        let scenario = state.scenario.map(|i| i.id);
        let ready = use_mut_ref(|| false);
        use_effect_with((embed, shown, step, steps), move |_| {
            if embed && shown.is_some() {
                let fields = [
                    ("scenario", scenario.unwrap_or("imported").into()),
                    ("at", (step + 1).into()),
                    ("steps", steps.into()),
                    ("from", (first + 1).into()),
                    ("to", (last + 1).into()),
                ];
                if !ready.replace(true) {
                    web::post_to_host("cipherstage:ready", &fields);
                }
                web::post_to_host("cipherstage:step", &fields);
            }
        });
    }

    // The embedding page's commands (`cipherstage:next`, `:prev`, `:goto`, `:play`,
    // `:pause`), from the direct parent only, kept inside the embed's step range.
    {
        let dispatch = state.dispatcher();
        let embed = state.embed;
        use_effect_with(embed, move |embed| {
            let listener = embed.then(|| {
                EventListener::new(&gloo::utils::window(), "message", move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::MessageEvent>() else {
                        return;
                    };
                    if let Some(c) = web::host_command(e) {
                        dispatch.dispatch(match c {
                            web::HostCommand::Next => Action::Next,
                            web::HostCommand::Prev => Action::Prev,
                            web::HostCommand::Goto(n) => Action::Goto(n),
                            web::HostCommand::Play(on) => Action::SetPlaying(on),
                        });
                    }
                })
            });
            move || drop(listener)
        });
    }

    // Keyboard: →/Space/N next, ←/B back, P play/pause, Home/End, L language,
    // E eavesdropper, Q QR code, ? help, Esc closes. A focused control keeps its own keys
    // (Space/Enter press a button; arrows move in the byte grid).
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let opts = EventListenerOptions::enable_prevent_default();
            let document = gloo::utils::document();
            let listener = EventListener::new_with_options(&document, "keydown", opts, move |e| {
                let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                    return;
                };
                if e.key() == "Escape" && !e.ctrl_key() && !e.meta_key() && !e.alt_key() {
                    e.prevent_default();
                    dispatch.dispatch(Action::Escape);
                    return;
                }
                if e.ctrl_key() || e.meta_key() || e.alt_key() || web::typing_in_field(e) {
                    return;
                }
                let key = e.key();
                if web::key_belongs_to_target(e, &key) {
                    return;
                }
                let action = match key.as_str() {
                    "ArrowRight" | " " | "n" | "N" | "PageDown" => Action::Next,
                    "ArrowLeft" | "b" | "B" | "PageUp" => Action::Prev,
                    "p" | "P" => Action::TogglePlay,
                    "Home" => Action::First,
                    "End" => Action::Last,
                    "l" | "L" => Action::ToggleLang,
                    "e" | "E" => Action::ToggleEve,
                    "f" | "F" => Action::TogglePresenter,
                    "t" | "T" => Action::NextTheme,
                    "k" | "K" => Action::ToggleSchedule,
                    "q" | "Q" => Action::ToggleQr,
                    "h" | "H" => Action::ToggleHandout,
                    "x" | "X" => Action::ToggleQuiz,
                    "s" | "S" => Action::Lesson(LessonAction::Speaker),
                    "1" => Action::Answer(0),
                    "2" => Action::Answer(1),
                    "3" => Action::Answer(2),
                    "4" => Action::Answer(3),
                    "?" => Action::ToggleHelp,
                    _ => return,
                };
                e.prevent_default();
                dispatch.dispatch(action);
            });
            move || drop(listener)
        });
    }

    // The worker runs every scenario: post what the state asks for, and hand its
    // progress and answer back tagged with the request's generation.
    {
        let dispatch = state.dispatcher();
        let pending = state.pending.clone();
        let generation = pending.as_ref().map(|p| p.generation);
        use_effect_with(generation, move |_| {
            if let Some(p) = pending {
                let g = p.generation;
                bridge::post(&p.request, move |h| dispatch.dispatch(Action::Worker(g, h)));
            }
        });
    }

    // The catalogue chunks this page needs (the base, and the open scenario's
    // family's) are fetched when missing; until they arrive the loading screen
    // shows. The loader brought the page language's base.
    let texts_arrived = use_force_update();
    let module = state.scenario.map(|i| i.protocol);
    {
        let lang = state.lang;
        let arrived = texts_arrived.clone();
        use_effect_with((lang, module), move |(lang, module)| {
            web::fetch_texts(*lang, *module, move || arrived.force_update());
        });
    }

    // Autoplay.
    {
        let dispatch = state.dispatcher();
        let playing = state.playing;
        let speed = state.speed;
        use_effect_with((playing, speed), move |(playing, speed)| {
            let timer = playing.then(|| {
                let ms = SPEEDS.get(*speed).copied().unwrap_or(1400);
                Interval::new(ms, move || dispatch.dispatch(Action::Tick))
            });
            move || drop(timer)
        });
    }

    let dispatch = state.dispatcher();
    let lang = state.lang;
    if !i18n::missing(lang, module).is_empty() {
        return html! {
            <div class="loading" role="status">
                <span class="spinner" aria-hidden="true"></span>
                <span>{ "…" }</span>
            </div>
        };
    }
    if state.speaker {
        return html! { <components::lesson::Speaker state={state.clone()} /> };
    }
    let body = if state.transcript.is_some() && state.compare.is_some() {
        html! { <components::compare::Compare state={state.clone()} /> }
    } else if state.transcript.is_some() && state.handout {
        html! { <components::handout::Handout state={state.clone()} /> }
    } else if state.transcript.is_some() {
        html! { <Stage state={state.clone()} /> }
    } else if let Some(info) = state.scenario {
        // Opening: the worker is loading the family's module or running it. The
        // title and summary are in the base catalogue already.
        html! {
            <main class="opening" id="opening">
                <h2>{ tr(lang, &info.title_key()) }</h2>
                <p>{ tr(lang, &info.summary_key()) }</p>
            </main>
        }
    } else {
        html! { <Picker state={state.clone()} /> }
    };
    let class = classes!(
        "shell",
        state.handout.then_some("handout-open"),
        state.embed.then_some("embed"),
        state.presenter.then_some("presenter"),
        // The opening state already has the stage's frame, so nothing moves when
        // the run arrives (the footer, the header's buttons).
        ((state.transcript.is_some() || state.scenario.is_some())
            && !state.handout
            && state.compare.is_none())
        .then_some("on-stage")
    );
    html! {
        <div class={class}>
            if !state.embed && !state.presenter {
                <Header lang={lang} dispatch={dispatch.clone()} in_scenario={state.transcript.is_some() || state.scenario.is_some()} theme={state.theme} />
            }
            if let Some(n) = &state.notice {
                <NoticeBar notice={n.clone()} lang={lang} dispatch={dispatch.clone()} />
            }
            if state.pending.is_some() {
                <components::busy::Busy state={state.clone()} />
            }
            if state.lesson.is_some() && !state.embed && !state.handout {
                <components::lesson::LessonBar state={state.clone()} />
            }
            { body }
            if state.help {
                <components::help::Help lang={lang} dispatch={dispatch.clone()} />
            }
            if state.snippet {
                <components::snippet::Snippet state={state.clone()} />
            }
            if state.qr {
                <components::qr::Qr state={state.clone()} />
            }
            if !state.presenter {
                <footer class="foot">{ tr(lang, "ui.footer") }</footer>
            }
        </div>
    }
}

/// Test hook for the panic page (called by the end-to-end tests through Trunk's
/// `window.wasmBindings`). No user input reaches it.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn cipherstage_test_panic() {
    panic!("deliberate panic requested by a test");
}

/// Shorthand used by components.
pub(crate) fn t(lang: Lang, key: &str) -> String {
    tr(lang, key)
}
