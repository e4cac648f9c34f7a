//! The handout: the whole run on paper. The steps in order, then each step in
//! full — every message with its field table (offsets, value, protection,
//! explanation), every secret with its formula and this run's inputs, every
//! check and alert — in the reader's language, for A4 or Letter, readable in
//! black and white (each protection kind has a letter and a pattern as well as
//! a colour). Printing is the browser's own (`window.print()`); the screen view is
//! the same document.

use cipherstage_scenarios::ParamKind;
use cipherstage_transcript::{Event, Field, Message, Outcome, Protection, Transcript};
use yew::prelude::*;

use super::detail::{input_text, Call, Computed, Expansion, Labelled};
use super::inspector::{protection_class, protection_key, value_text};
use super::{actor_name, short_hex};
use crate::i18n::{source_text, tr, tr_args, Lang};
use crate::state::{Action, State};
use crate::t;

/// Props of [`Handout`].
#[derive(Properties, PartialEq)]
pub struct HandoutProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// The letter that marks a protection kind in black and white.
fn letter(p: Protection) -> &'static str {
    match p {
        Protection::Plaintext => "P",
        Protection::Encrypted => "E",
        Protection::IntegrityOnly => "I",
        Protection::Signature => "S",
        Protection::KeyMaterial => "K",
    }
}

const KINDS: [Protection; 5] = [
    Protection::Plaintext,
    Protection::Encrypted,
    Protection::IntegrityOnly,
    Protection::Signature,
    Protection::KeyMaterial,
];

/// Longest hex shown in one cell of the field table; the byte count is always given.
const CELL_HEX: usize = 48;

/// One row per field, depth first, with its depth.
fn rows<'a>(fields: &'a [Field], depth: usize, out: &mut Vec<(usize, &'a Field)>) {
    for f in fields {
        out.push((depth, f));
        rows(&f.children, depth + 1, out);
    }
}

/// A message in one line: who to whom, what, how many bytes.
pub(crate) fn message_line(t: &Transcript, lang: Lang, m: &Message) -> String {
    format!(
        "{} → {}: {} ({} B)",
        actor_name(t, lang, m.from),
        actor_name(t, lang, m.to),
        tr(lang, &m.label),
        m.bytes.len()
    )
}

/// One line of the step list.
fn summary(t: &Transcript, lang: Lang, e: &Event) -> String {
    let who = |i| actor_name(t, lang, i);
    match e {
        Event::Message(m) => message_line(t, lang, m),
        Event::Secret(s) => format!("{}: {}", who(s.owner), tr(lang, &s.name)),
        Event::Check(c) => {
            let verdict = match c.outcome {
                Outcome::Passed => tr(lang, "ui.check.passed"),
                Outcome::Failed(r) => {
                    format!("{}: {}", tr(lang, "ui.check.failed"), tr(lang, r.key()))
                }
            };
            format!("{}: {} — {}", who(c.actor), tr(lang, &c.what), verdict)
        }
        Event::Alert(a) => format!("{} ⚠ {}", who(a.from), tr(lang, &a.key)),
        Event::Narration(n) => tr_args(lang, &n.key, &n.args),
    }
}

/// A step in full.
fn step(t: &Transcript, s: &State, i: usize, e: &Event) -> Html {
    let lang = s.lang;
    let n = i + 1;
    let head = summary(t, lang, e);
    let body = match e {
        Event::Message(m) => {
            let mut all = Vec::new();
            rows(&m.fields, 0, &mut all);
            html! {
                <table class="h-fields">
                    <thead><tr>
                        <th scope="col">{ tr(lang, "ui.handout.col.bytes") }</th>
                        <th scope="col">{ tr(lang, "ui.handout.col.field") }</th>
                        <th scope="col">{ tr(lang, "ui.handout.col.value") }</th>
                        <th scope="col">{ tr(lang, "ui.handout.col.explain") }</th>
                    </tr></thead>
                    <tbody>
                    { for all.iter().map(|(depth, f)| {
                        let bytes = m.bytes.get(f.start..f.end).unwrap_or_default();
                        let leaf = f.children.is_empty();
                        let value = f.value.as_ref().map(|v| value_text(lang, v));
                        html! {
                            <tr class={classes!((!leaf).then_some("h-group"))}>
                                <td class="h-range">{ format!("{}–{}", f.start, f.end.saturating_sub(1)) }<br/><small>{ format!("{} B", f.end.saturating_sub(f.start)) }</small></td>
                                <td class={classes!("h-name", format!("h-d{}", (*depth).min(6)))}>
                                    <span class={classes!("h-badge", protection_class(f.protection))} title={tr(lang, protection_key(f.protection))}>{ letter(f.protection) }</span>
                                    { " " }{ tr(lang, &f.name) }
                                </td>
                                <td class="h-value">
                                    if let Some(v) = value { <span>{ v }</span><br/> }
                                    if leaf { <code class={classes!("h-hex", protection_class(f.protection))}>{ short_hex(bytes, CELL_HEX) }</code> }
                                </td>
                                <td class="h-explain">{ tr(lang, &f.explain) }</td>
                            </tr>
                        }
                    }) }
                    </tbody>
                </table>
            }
        }
        Event::Secret(sec) => {
            let this_run = Expansion::of(sec)
                .map(|f| f.call(lang))
                .or_else(|| Labelled::of(sec).map(|f| f.call(lang)))
                .or_else(|| Computed::of(sec).map(|f| f.call(lang)));
            html! {
                <div class="h-secret">
                    <p><strong>{ tr(lang, "ui.value") }{ format!(" ({} B): ", sec.bytes.len()) }</strong><code class="h-hex">{ cipherstage_transcript::hex_encode(&sec.bytes) }</code></p>
                    <p><strong>{ tr(lang, "ui.formula") }{ ": " }</strong>{ tr(lang, &sec.formula.key) }</p>
                    if let Some(src) = source_text(lang, &sec.formula.key) {
                        <p><small class="source">{ src }</small></p>
                    }
                    if let Some(call) = this_run {
                        <p>{ format!("{}: {}", tr(lang, "ui.this_run_inputs"), call) }</p>
                    }
                    if !sec.formula.inputs.is_empty() {
                        <dl class="inputs">
                        { for sec.formula.inputs.iter().map(|i| html! {
                            <><dt>{ tr(lang, &i.name) }</dt><dd><code class="h-hex">{ input_text(&i.bytes) }</code></dd></>
                        }) }
                        </dl>
                    }
                </div>
            }
        }
        Event::Narration(nr) => html! {
            if let Some(src) = source_text(lang, &nr.key) {
                <p><small class="source">{ src }</small></p>
            }
        },
        Event::Check(_) | Event::Alert(_) => html! {},
    };
    let kind = match e {
        Event::Message(_) => "h-message",
        Event::Secret(_) => "h-secret-step",
        Event::Check(_) => "h-check",
        Event::Alert(_) => "h-alert",
        Event::Narration(_) => "h-narration",
    };
    html! {
        <section class={classes!("h-step", kind)} id={format!("h-{i}")}>
            <h3><span class="h-n">{ n }</span>{ " " }{ head }</h3>
            { body }
        </section>
    }
}

/// The handout view.
#[component]
pub fn Handout(p: &HandoutProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let Some(tr_) = s.transcript.clone() else {
        return html! {};
    };
    let title = match s.scenario {
        Some(info) => t(lang, &info.title_key()),
        None => t(lang, "ui.imported"),
    };
    let d = p.state.dispatcher();
    let back = {
        let d = d.clone();
        Callback::from(move |_| d.dispatch(Action::ToggleHandout))
    };
    let print = Callback::from(|_| crate::web::print());
    let params: Vec<(String, String)> = s
        .scenario
        .map(|info| {
            info.params
                .iter()
                .map(|spec| {
                    let v = s.param(spec.name);
                    let shown = match spec.kind {
                        ParamKind::Choice(_) => t(lang, &format!("param.{}.{}", spec.name, v)),
                        _ if v.is_empty() => "—".to_owned(),
                        _ => v,
                    };
                    (t(lang, &spec.label_key()), shown)
                })
                .collect()
        })
        .unwrap_or_default();
    let seed = match s.seed {
        Some(n) => n.to_string(),
        None => t(lang, "ui.handout.live"),
    };
    html! {
        <main class="handout" id="handout" data-scenario={s.scenario.map(|i| i.id).unwrap_or("imported")}>
            <div class="handout-bar">
                <button id="handout-back" onclick={back}>{ t(lang, "ui.handout.back") }</button>
                <button id="handout-print" class="primary" onclick={print}>{ t(lang, "ui.handout.print") }</button>
                <span class="hint">{ t(lang, "ui.handout.hint") }</span>
            </div>
            <header class="h-head">
                <h1>{ title }</h1>
                if let Some(info) = s.scenario {
                    <p class="summary">{ t(lang, &info.summary_key()) }</p>
                }
                <dl class="h-meta">
                    { for params.iter().map(|(k, v)| html! { <><dt>{ k.clone() }</dt><dd>{ v.clone() }</dd></> }) }
                    <dt>{ t(lang, "ui.handout.seed") }</dt><dd>{ seed }</dd>
                    <dt>{ t(lang, "ui.handout.steps") }</dt><dd>{ tr_.events.len() }</dd>
                </dl>
            </header>
            <section class="h-legend" aria-label={t(lang, "ui.handout.legend")}>
                <h2>{ t(lang, "ui.handout.legend") }</h2>
                <ul>
                { for KINDS.iter().map(|k| html! {
                    <li><span class={classes!("h-badge", protection_class(*k))}>{ letter(*k) }</span>{ " " }<code class={classes!("h-hex", "h-swatch", protection_class(*k))}>{ "a1b2c3" }</code>{ " " }{ t(lang, protection_key(*k)) }</li>
                }) }
                </ul>
            </section>
            <section class="h-list">
                <h2>{ t(lang, "ui.handout.sequence") }</h2>
                <ol>
                { for tr_.events.iter().map(|e| html! { <li>{ summary(&tr_, lang, e) }</li> }) }
                </ol>
            </section>
            <section class="h-steps">
                <h2>{ t(lang, "ui.handout.in_full") }</h2>
                { for tr_.events.iter().enumerate().map(|(i, e)| step(&tr_, s, i, e)) }
            </section>
            <p class="h-foot">{ t(lang, "ui.handout.foot") }</p>
        </main>
    }
}
