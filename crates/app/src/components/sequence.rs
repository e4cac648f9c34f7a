//! The sequence diagram: one lane per actor, one row per step, messages as arrows.
//! Steps after the current one are not drawn yet; the current message animates.

use std::rc::Rc;

use cipherstage_transcript::{Event, Outcome, Role, Transcript};
use yew::prelude::*;

use super::actor_name;
use crate::i18n::{tr, Lang};
use crate::state::{Action, State};

/// Props of [`Sequence`].
#[derive(Properties, PartialEq)]
pub struct SequenceProps {
    /// The run.
    pub transcript: Rc<Transcript>,
    /// Current step.
    pub step: usize,
    /// Display language.
    pub lang: Lang,
    /// Eavesdropper view.
    pub eve: bool,
    /// Where actions go.
    pub dispatch: UseReducerDispatcher<State>,
}

const LANE: f64 = 200.0;
const TOP: f64 = 64.0;
const ROW: f64 = 40.0;

fn lane_x(i: usize) -> f64 {
    LANE / 2.0 + LANE * i as f64
}

/// Lane position of each actor: actor order, except that an eavesdropper sits on
/// the wire, just right of the first end of the first link it watches.
pub fn lane_order(t: &Transcript) -> Vec<usize> {
    let mut order: Vec<usize> = (0..t.actors.len())
        .filter(|&i| {
            t.actors
                .get(i)
                .is_some_and(|a| a.role != Role::Eavesdropper)
        })
        .collect();
    for (i, a) in t.actors.iter().enumerate() {
        if a.role != Role::Eavesdropper {
            continue;
        }
        let end = t
            .links
            .iter()
            .find(|l| l.observers.contains(&i))
            .and_then(|l| {
                let pa = order.iter().position(|&x| x == l.a)?;
                let pb = order.iter().position(|&x| x == l.b)?;
                Some(pa.min(pb) + 1)
            })
            .unwrap_or(order.len());
        order.insert(end.min(order.len()), i);
    }
    let mut pos = vec![0; t.actors.len()];
    for (p, &actor) in order.iter().enumerate() {
        if let Some(slot) = pos.get_mut(actor) {
            *slot = p;
        }
    }
    pos
}

fn role_class(r: Role) -> &'static str {
    match r {
        Role::Client => "role-client",
        Role::Server => "role-server",
        Role::Ca => "role-ca",
        Role::Bastion => "role-bastion",
        Role::Gateway => "role-gateway",
        Role::Nat => "role-nat",
        Role::Eavesdropper => "role-eve",
    }
}

/// The diagram.
#[component]
pub fn Sequence(p: &SequenceProps) -> Html {
    let t = &p.transcript;
    let lang = p.lang;
    let width = LANE * t.actors.len().max(1) as f64;
    let shown = (p.step + 1).min(t.events.len());
    let pos = lane_order(t);
    let last_lane = t.actors.len().saturating_sub(1);
    let lane_x = |actor: usize| lane_x(pos.get(actor).copied().unwrap_or(actor));
    let at_last = |actor: usize| pos.get(actor).copied() == Some(last_lane);
    let height = TOP + ROW * (shown as f64 + 1.0);

    // Keep the current row in view.
    {
        let step = p.step;
        use_effect_with(step, move |step| {
            if let Some(el) = gloo::utils::document().get_element_by_id(&format!("ev-{step}")) {
                let opts = web_sys::ScrollIntoViewOptions::new();
                opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
                el.scroll_into_view_with_scroll_into_view_options(&opts);
            }
        });
    }

    let lanes = t.actors.iter().enumerate().map(|(i, a)| {
        let x = lane_x(i);
        let name = actor_name(t, lang, i);
        // "Name (what it does)" gets two lines, so four or five lanes stay readable.
        let (main, sub) = split_name(&name);
        let text = match sub {
            Some(sub) => html! {
                <text x={x.to_string()} y="25" class="lane-name">
                    { main }
                    <tspan x={x.to_string()} dy="17" class="lane-sub">{ sub }</tspan>
                </text>
            },
            None => html! { <text x={x.to_string()} y="33" class="lane-name">{ main }</text> },
        };
        html! {
            <g class={classes!("lane", role_class(a.role))}>
                <title>{ name.clone() }</title>
                <rect x={(x - 92.0).to_string()} y="4" width="184" height="48" rx="8" class="lane-head" />
                { text }
                <line x1={x.to_string()} y1="52" x2={x.to_string()} y2={height.to_string()} class="lane-line" />
            </g>
        }
    });

    let rows = t.events.iter().take(shown).enumerate().map(|(i, e)| {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let current = i == p.step;
        let d = p.dispatch.clone();
        let goto = Callback::from(move |_: MouseEvent| d.dispatch(Action::Goto(i)));
        let row_class = classes!("row", current.then_some("current"));
        let body = match e {
            Event::Message(m) => {
                let (x1, x2) = (lane_x(m.from), lane_x(m.to));
                let dir = if x2 >= x1 { 1.0 } else { -1.0 };
                let tam = m.tampered.is_some();
                let label = format!("{} ({} B)", tr(lang, &m.label), m.bytes.len());
                html! {
                    <>
                        <line x1={x1.to_string()} y1={y.to_string()} x2={(x2 - 6.0 * dir).to_string()} y2={y.to_string()}
                            class={classes!("msg", tam.then_some("tampered"))}
                            pathLength={(!tam).then_some("1")}
                            marker-end="url(#arrow)" />
                        <text x={label_x(x1, x2, &label, width).to_string()} y={(y - 7.0).to_string()} class="msg-label">{ label }</text>
                        if let Some(tp) = &m.tampered {
                            <text x={lane_x(tp.by).to_string()} y={(y + 5.0).to_string()} class="tamper-mark">{ "✂" }</text>
                        }
                        if p.eve {
                            { for t.links.get(m.link).into_iter().flat_map(|l| l.observers.iter()).map(|&o| html! {
                                <circle cx={lane_x(o).to_string()} cy={y.to_string()} r="7" class="eye" />
                            }) }
                        }
                    </>
                }
            }
            Event::Secret(s) => marker(lane_x(s.owner), at_last(s.owner), y, "◆", &tr(lang, &s.name), "secret"),
            Event::Check(c) => {
                let (glyph, cls) = match c.outcome {
                    Outcome::Passed => ("✓", "check pass"),
                    Outcome::Failed(_) => ("✗", "check fail"),
                };
                marker(lane_x(c.actor), at_last(c.actor), y, glyph, &tr(lang, &c.what), cls)
            }
            Event::Alert(a) => marker(lane_x(a.from), at_last(a.from), y, "⚠", &tr(lang, &a.key), "alert"),
            Event::Narration(_) => html! {
                <text x="6" y={(y + 5.0).to_string()} class="narr-mark">{ "¶" }</text>
            },
        };
        html! {
            <g class={row_class} id={format!("ev-{i}")} onclick={goto}>
                <rect x="0" y={(y - ROW / 2.0).to_string()} width={width.to_string()} height={ROW.to_string()} class="row-bg" />
                { body }
            </g>
        }
    });

    html! {
        <svg class={classes!("sequence", format!("lanes-{}", t.actors.len().min(6)))} viewBox={format!("0 0 {width} {height}")} width={width.to_string()} height={height.to_string()}
            role="img" aria-label={tr(lang, "ui.diagram")}>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
                </marker>
            </defs>
            { for lanes }
            { for rows }
        </svg>
    }
}

/// Where a message label is centred: over its arrow, but pushed inwards so a long
/// label does not run off either side of the diagram (width estimated per glyph:
/// CJK glyphs are about twice as wide as Latin ones).
fn label_x(x1: f64, x2: f64, label: &str, width: f64) -> f64 {
    let est: f64 = label
        .chars()
        .map(|c| if c.is_ascii() { 7.5 } else { 15.0 })
        .sum();
    let half = est / 2.0 + 4.0;
    let mid = (x1 + x2) / 2.0;
    if 2.0 * half >= width {
        width / 2.0
    } else {
        mid.clamp(half, width - half)
    }
}

/// Splits "Name (role)" / "名前（役割）" into the name and the parenthesis.
fn split_name(name: &str) -> (String, Option<String>) {
    for open in [" (", "（"] {
        if let Some(at) = name.find(open) {
            let (main, rest) = name.split_at(at);
            return (main.to_owned(), Some(rest.trim_start().to_owned()));
        }
    }
    (name.to_owned(), None)
}

/// A glyph on an actor's lane with a label beside it (to the left on the last lane).
fn marker(x: f64, left: bool, y: f64, glyph: &str, label: &str, class: &str) -> Html {
    let (lx, anchor) = if left {
        (x - 14.0, "end")
    } else {
        (x + 14.0, "start")
    };
    html! {
        <>
            <text x={x.to_string()} y={(y + 5.0).to_string()} class={classes!("glyph", class.to_owned())} text-anchor="middle">{ glyph.to_owned() }</text>
            <text x={lx.to_string()} y={(y + 5.0).to_string()} text-anchor={anchor} class={classes!("marker-label", class.to_owned())}>{ label.to_owned() }</text>
        </>
    }
}
