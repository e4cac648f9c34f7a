//! Quiz mode's question card and verdict: the question is computed from the run
//! (`cipherstage_transcript::quiz`), its answer is the next step itself.

use cipherstage_transcript::quiz::{Question, QuizKind};
use cipherstage_transcript::Event;
use yew::prelude::*;

use super::actor_name;
use crate::i18n::{tr, tr_args};
use crate::state::{Action, State};
use crate::t;

const LETTERS: [&str; 4] = ["A", "B", "C", "D"];

/// Props of [`QuizCard`] and [`Verdict`].
#[derive(Properties, PartialEq)]
pub struct QuizProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

fn option_text(s: &State, q: &Question, i: usize) -> String {
    let letter = LETTERS.get(i).copied().unwrap_or("?");
    let key = q.options.get(i).map(String::as_str).unwrap_or("");
    format!("{letter}: {}", tr(s.lang, key))
}

/// The question on screen, with its options as large buttons.
#[component]
pub fn QuizCard(p: &QuizProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let (Some((q, pick)), Some(tr_)) = (s.asking.clone(), s.transcript.clone()) else {
        return html! {};
    };
    let prompt = match (q.kind, tr_.events.get(q.about)) {
        (QuizKind::NextMessage, Some(Event::Message(m))) => tr_args(
            lang,
            "ui.quiz.next_message",
            &[
                ("from".into(), actor_name(&tr_, lang, m.from)),
                ("to".into(), actor_name(&tr_, lang, m.to)),
            ],
        ),
        (QuizKind::NextAlert, Some(Event::Alert(a))) => tr_args(
            lang,
            "ui.quiz.next_alert",
            &[("from".into(), actor_name(&tr_, lang, a.from))],
        ),
        _ => return html! {},
    };
    let (right, answered) = s.score;
    html! {
        <div class="quiz-card" id="quiz" role="group" aria-labelledby="quiz-prompt">
            <p class="quiz-prompt" id="quiz-prompt">{ prompt }</p>
            <div class="quiz-options">
            { for q.options.iter().enumerate().map(|(i, _)| {
                let d = p.state.dispatcher();
                let chosen = pick == Some(i);
                html! {
                    <button id={format!("quiz-{}", LETTERS.get(i).copied().unwrap_or("x").to_ascii_lowercase())}
                        class={classes!("quiz-option", chosen.then_some("chosen"))}
                        aria-pressed={chosen.to_string()}
                        onclick={Callback::from(move |_| d.dispatch(Action::Answer(i)))}>
                        { option_text(s, &q, i) }
                    </button>
                }
            }) }
            </div>
            <p class="quiz-how">{ t(lang, "ui.quiz.how") }</p>
            <p class="quiz-score" id="quiz-score">{ tr_args(lang, "ui.quiz.score", &[("right".into(), right.to_string()), ("answered".into(), answered.to_string())]) }</p>
        </div>
    }
}

/// The answer to the question just stepped past, above the step that is its answer.
#[component]
pub fn Verdict(p: &QuizProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let Some((q, pick)) = s.verdict.clone().filter(|(q, _)| q.about == s.step) else {
        return html! {};
    };
    let answer = option_text(s, &q, q.right);
    let (class, text) = match pick {
        Some(i) if i == q.right => (
            "right",
            tr_args(lang, "ui.quiz.right", &[("answer".into(), answer)]),
        ),
        Some(i) => (
            "wrong",
            tr_args(
                lang,
                "ui.quiz.wrong",
                &[
                    ("picked".into(), option_text(s, &q, i)),
                    ("answer".into(), answer),
                ],
            ),
        ),
        None => (
            "skipped",
            tr_args(lang, "ui.quiz.skipped", &[("answer".into(), answer)]),
        ),
    };
    html! {
        <p class={classes!("quiz-verdict", class)} id="quiz-verdict" role="status">{ text }</p>
    }
}
