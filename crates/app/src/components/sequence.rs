//! The sequence diagram: one lane per actor, one row per step, messages as arrows.
//! Steps after the current one are not drawn yet; the current message animates.

use std::rc::Rc;

use cipherstage_transcript::{Event, Outcome, Role, Transcript};
use yew::prelude::*;

use super::actor_name;
use crate::hooks::use_width::use_width;
use crate::i18n::{tr, tr_args, Lang};
use crate::state::{Action, State};
use crate::text_fit::{fit, font, measure};
use crate::web;

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
    /// Presenter mode: larger text and rows.
    pub presenter: bool,
    /// Where actions go.
    pub dispatch: UseReducerDispatcher<State>,
}

/// Sizes of one drawing, in CSS pixels: the diagram is drawn at its real size
/// (never scaled by a viewBox), so these are the sizes a reader sees.
#[derive(Clone, Copy)]
struct Metrics {
    /// Message labels.
    label: f64,
    /// Checks, secrets, alerts, narration.
    small: f64,
    /// Lane names.
    name: f64,
    /// The parenthesis under a lane name.
    sub: f64,
    /// One step.
    row: f64,
    /// The lane heads.
    head: f64,
}

impl Metrics {
    fn new(presenter: bool) -> Self {
        if presenter {
            Metrics {
                label: 22.0,
                small: 20.0,
                name: 22.0,
                sub: 20.0,
                row: 60.0,
                head: 72.0,
            }
        } else {
            Metrics {
                label: 14.0,
                small: 13.0,
                name: 14.0,
                sub: 12.0,
                row: 38.0,
                head: 50.0,
            }
        }
    }
}

/// Narrower lanes than this and the diagram becomes a timeline.
const MIN_LANE: f64 = 75.0;
/// Room kept free at each side of the drawing.
const EDGE: f64 = 4.0;

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

/// The diagram: lanes sized to the pane, every label fitted to the room it has
/// (shortened with "…", the whole text in its tooltip and in the step's caption),
/// lane names in a header that stays in view. Too narrow for its lanes (a phone,
/// a small embed), it becomes a timeline of the steps so far.
#[component]
pub fn Sequence(p: &SequenceProps) -> Html {
    let t = &p.transcript;
    let wrap = use_node_ref();
    let (width, narrow) = use_width(wrap.clone(), 600.0);
    let lanes = t.actors.len().max(1);
    let timeline = narrow || width / (lanes as f64) < MIN_LANE;
    let m = Metrics::new(p.presenter);

    // Keep the current row in view, scrolling only the diagram pane.
    {
        let wrap = wrap.clone();
        let top = if timeline { 0.0 } else { m.head };
        use_effect_with(
            (p.step, width as i64, timeline, p.presenter),
            move |(step, ..)| {
                if let Some(pane) = wrap
                    .cast::<web_sys::Element>()
                    .and_then(|el| el.closest(".diagram-pane").ok().flatten())
                {
                    web::keep_in_pane(&pane, &format!("ev-{step}"), top);
                }
            },
        );
    }

    let body = if timeline {
        timeline_view(p)
    } else {
        lanes_view(p, width, m)
    };
    html! {
        <div class={classes!("sequence-wrap", timeline.then_some("as-timeline"))} ref={wrap}
            role="group" aria-label={tr(p.lang, "ui.diagram")}>
            { body }
        </div>
    }
}

/// What a row says in full: its label, for the tooltip and the timeline.
fn row_text(t: &Transcript, lang: Lang, e: &Event) -> String {
    match e {
        Event::Message(m) => format!("{} ({} B)", tr(lang, &m.label), m.bytes.len()),
        Event::Secret(s) => tr(lang, &s.name),
        Event::Check(c) => tr(lang, &c.what),
        Event::Alert(a) => tr(lang, &a.key),
        Event::Narration(n) => {
            let _ = t;
            tr_args(lang, &n.key, &n.args)
        }
    }
}

fn lanes_view(p: &SequenceProps, width: f64, m: Metrics) -> Html {
    let t = &p.transcript;
    let lang = p.lang;
    let n = t.actors.len().max(1);
    let lane_w = width / n as f64;
    let shown = (p.step + 1).min(t.events.len());
    let pos = lane_order(t);
    let lane_x = |actor: usize| lane_w * (pos.get(actor).copied().unwrap_or(actor) as f64 + 0.5);
    let height = m.row * shown as f64 + m.row / 2.0;
    let name_font = font(600, m.name);
    let sub_font = font(400, m.sub);

    let heads = t.actors.iter().enumerate().map(|(i, a)| {
        let x = lane_x(i);
        let name = actor_name(t, lang, i);
        let box_w = (lane_w - 8.0).min(320.0);
        let room = box_w - 10.0;
        // "Name (what it does)" gets two lines, so four or five lanes stay readable;
        // a long name without one wraps at a space.
        let (main, sub) = split_name(&name);
        let (main, sub) = match sub {
            None if measure(&name_font, m.name, &main) > room => wrap_two(&name_font, m.name, &main, room),
            other => (main, other),
        };
        let (main, _) = fit(&name_font, m.name, &main, room);
        let text = match sub {
            Some(sub) => {
                let (sub, _) = fit(&sub_font, m.sub, &sub, room);
                html! {
                    <text x={x.to_string()} y={(m.head * 0.42).to_string()} class="lane-name"
                        font-size={m.name.to_string()} font-weight="600">
                        { main }
                        <tspan x={x.to_string()} dy={(m.sub * 1.25).to_string()} class="lane-sub"
                            font-size={m.sub.to_string()} font-weight="400">{ sub }</tspan>
                    </text>
                }
            }
            None => html! {
                <text x={x.to_string()} y={(m.head * 0.5 + m.name * 0.35).to_string()} class="lane-name"
                    font-size={m.name.to_string()} font-weight="600">{ main }</text>
            },
        };
        html! {
            <g class={classes!("lane", role_class(a.role))} data-actor={i.to_string()}>
                <title>{ name.clone() }</title>
                <rect x={(x - box_w / 2.0).to_string()} y="3" width={box_w.to_string()}
                    height={(m.head - 6.0).to_string()} rx="8" class="lane-head" />
                { text }
            </g>
        }
    });
    let lines = t.actors.iter().enumerate().map(|(i, a)| {
        let x = lane_x(i).to_string();
        html! {
            <line x1={x.clone()} y1="0" x2={x} y2={height.to_string()}
                class={classes!("lane-line", role_class(a.role))} />
        }
    });

    let label_font = font(600, m.label);
    let rows = t.events.iter().take(shown).enumerate().map(|(i, e)| {
        let y = m.row * i as f64 + m.row / 2.0;
        let current = i == p.step;
        let d = p.dispatch.clone();
        let goto = Callback::from(move |_: MouseEvent| d.dispatch(Action::Goto(i)));
        let row_class = classes!("row", current.then_some("current"));
        let full = row_text(t, lang, e);
        let body = match e {
            Event::Message(msg) => {
                let (x1, x2) = (lane_x(msg.from), lane_x(msg.to));
                let dir = if x2 >= x1 { 1.0 } else { -1.0 };
                let tam = msg.tampered.is_some();
                // The byte count always shows (the inspector's count matches it).
                let suffix = format!(" ({} B)", msg.bytes.len());
                let room = width - 2.0 * EDGE - measure(&label_font, m.label, &suffix);
                let (label, _) = fit(&label_font, m.label, &tr(lang, &msg.label), room);
                let label = format!("{label}{suffix}");
                let half = measure(&label_font, m.label, &label) / 2.0 + EDGE;
                let lx = ((x1 + x2) / 2.0).clamp(half.min(width / 2.0), (width - half).max(width / 2.0));
                html! {
                    <>
                        <line x1={x1.to_string()} y1={y.to_string()} x2={(x2 - 6.0 * dir).to_string()} y2={y.to_string()}
                            class={classes!("msg", tam.then_some("tampered"))}
                            pathLength={(!tam).then_some("1")}
                            marker-end="url(#arrow)" />
                        <text x={lx.to_string()} y={(y - m.label * 0.5).to_string()} class="msg-label"
                            font-size={m.label.to_string()} font-weight="600">{ label }</text>
                        if let Some(tp) = &msg.tampered {
                            <text x={lane_x(tp.by).to_string()} y={(y + m.label * 0.35).to_string()} class="tamper-mark"
                                font-size={(m.label * 1.2).to_string()}>{ "✂" }</text>
                        }
                        if p.eve {
                            { for t.links.get(msg.link).into_iter().flat_map(|l| l.observers.iter()).map(|&o| html! {
                                <circle cx={lane_x(o).to_string()} cy={y.to_string()} r={(m.label * 0.5).to_string()} class="eye" />
                            }) }
                        }
                    </>
                }
            }
            Event::Secret(s) => marker(lane_x(s.owner), width, y, m, "◆", &tr(lang, &s.name), "secret"),
            Event::Check(c) => {
                let (glyph, cls) = match c.outcome {
                    Outcome::Passed => ("✓", "check pass"),
                    Outcome::Failed(_) => ("✗", "check fail"),
                };
                marker(lane_x(c.actor), width, y, m, glyph, &tr(lang, &c.what), cls)
            }
            Event::Alert(a) => marker(lane_x(a.from), width, y, m, "⚠", &tr(lang, &a.key), "alert"),
            Event::Narration(_) => {
                let f = font(400, m.small);
                let (text, _) = fit(&f, m.small, &format!("¶ {full}"), width - 2.0 * EDGE);
                html! {
                    <text x={EDGE.to_string()} y={(y + m.small * 0.35).to_string()} class="narr-text"
                        font-size={m.small.to_string()} font-weight="400">{ text }</text>
                }
            }
        };
        html! {
            <g class={row_class} id={format!("ev-{i}")} onclick={goto}>
                <title>{ full }</title>
                <rect x="0" y={(y - m.row / 2.0).to_string()} width={width.to_string()} height={m.row.to_string()} class="row-bg" />
                { body }
            </g>
        }
    });

    html! {
        <>
            <svg class="sequence-head" width={width.to_string()} height={m.head.to_string()}
                viewBox={format!("0 0 {width} {}", m.head)} aria-hidden="true">
                { for heads }
            </svg>
            <svg class={classes!("sequence", format!("lanes-{}", n.min(6)))} viewBox={format!("0 0 {width} {height}")}
                width={width.to_string()} height={height.to_string()}
                role="img" aria-label={tr(lang, "ui.diagram")}>
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
                    </marker>
                </defs>
                { for lines }
                { for rows }
            </svg>
        </>
    }
}

/// The steps so far as a list: who, what, and the glyph of its kind. Text wraps,
/// so nothing is cut.
fn timeline_view(p: &SequenceProps) -> Html {
    let t = &p.transcript;
    let lang = p.lang;
    let shown = (p.step + 1).min(t.events.len());
    let who = |i| actor_name(t, lang, i);
    let items = t.events.iter().take(shown).enumerate().map(|(i, e)| {
        let d = p.dispatch.clone();
        let goto = Callback::from(move |_: MouseEvent| d.dispatch(Action::Goto(i)));
        let full = row_text(t, lang, e);
        let (glyph, cls, actor) = match e {
            Event::Message(m) => (
                "→",
                "msg-glyph",
                format!("{} → {}", who(m.from), who(m.to)),
            ),
            Event::Secret(s) => ("◆", "secret", who(s.owner)),
            Event::Check(c) => match c.outcome {
                Outcome::Passed => ("✓", "check pass", who(c.actor)),
                Outcome::Failed(_) => ("✗", "check fail", who(c.actor)),
            },
            Event::Alert(a) => ("⚠", "alert", who(a.from)),
            Event::Narration(_) => ("¶", "narr", String::new()),
        };
        let label_class = match e {
            Event::Message(_) => "msg-label",
            Event::Narration(_) => "narr-text",
            _ => "marker-label",
        };
        html! {
            <li class={classes!("row", (i == p.step).then_some("current"))} id={format!("ev-{i}")}>
                <button onclick={goto} aria-current={(i == p.step).then_some("step")}>
                    <span class={classes!("glyph", cls)} aria-hidden="true">{ glyph }</span>
                    <span class="tl-text">
                        if !actor.is_empty() {
                            <span class="tl-who">{ actor }</span>
                        }
                        <span class={classes!(label_class, cls.split(' ').next_back().map(str::to_owned))}>{ full }</span>
                    </span>
                </button>
            </li>
        }
    });
    html! {
        <ol class="timeline" id="timeline" aria-label={tr(lang, "ui.timeline")}>{ for items }</ol>
    }
}

/// A name on two lines: as many words as fit on the first, the rest below.
fn wrap_two(font: &str, px: f64, name: &str, room: f64) -> (String, Option<String>) {
    let words: Vec<&str> = name.split(' ').collect();
    let mut first = String::new();
    let mut used = 0;
    for w in &words {
        let candidate = if first.is_empty() {
            (*w).to_owned()
        } else {
            format!("{first} {w}")
        };
        if !first.is_empty() && measure(font, px, &candidate) > room {
            break;
        }
        first = candidate;
        used += 1;
    }
    let rest = words.get(used..).unwrap_or_default().join(" ");
    (first, (!rest.is_empty()).then_some(rest))
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

/// A glyph on an actor's lane with its label on the side with more room, fitted
/// to that room.
fn marker(x: f64, width: f64, y: f64, m: Metrics, glyph: &str, label: &str, class: &str) -> Html {
    let gap = m.small * 0.9;
    let right = width - x - gap - EDGE;
    let left = x - gap - EDGE;
    let (lx, anchor, room) = if right >= left {
        (x + gap, "start", right)
    } else {
        (x - gap, "end", left)
    };
    let weight = if class.contains("check") || class.contains("alert") {
        600
    } else {
        400
    };
    let (text, _) = fit(&font(weight, m.small), m.small, label, room);
    html! {
        <>
            <text x={x.to_string()} y={(y + m.small * 0.35).to_string()} class={classes!("glyph", class.to_owned())}
                text-anchor="middle" font-size={m.small.to_string()}>{ glyph.to_owned() }</text>
            <text x={lx.to_string()} y={(y + m.small * 0.35).to_string()} text-anchor={anchor}
                class={classes!("marker-label", class.to_owned())}
                font-size={m.small.to_string()} font-weight={weight.to_string()}>{ text }</text>
        </>
    }
}
