//! The key schedule drawn as a graph: every secret one actor derived so far, in
//! columns by derivation depth, with an arrow from each secret to those computed
//! from it. Edges are found, not declared: an input whose bytes equal an earlier
//! secret of the same actor comes from that secret.

use std::rc::Rc;

use cipherstage_transcript::{Event, Role, Transcript};
use yew::prelude::*;

use super::{actor_name, short_hex};
use crate::i18n::{tr, Lang};
use crate::state::{Action, State};
use crate::t;
use crate::text_fit::{font, measure};

/// Props of [`Schedule`].
#[derive(Properties, PartialEq)]
pub struct ScheduleProps {
    /// The run.
    pub transcript: Rc<Transcript>,
    /// Current step.
    pub step: usize,
    /// Display language.
    pub lang: Lang,
    /// Presenter mode: larger text.
    #[prop_or_default]
    pub presenter: bool,
    /// Where actions go.
    pub dispatch: UseReducerDispatcher<State>,
}

/// One secret in the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Its event index.
    pub event: usize,
    /// Derivation depth: 0 for secrets from no earlier secret.
    pub depth: usize,
    /// Indexes (into the node list) of the secrets it was computed from.
    pub from: Vec<usize>,
}

/// The actor whose schedule to draw: the owner of the latest secret so far,
/// else the first client.
pub fn owner(t: &Transcript, step: usize) -> Option<usize> {
    t.events
        .iter()
        .take(step + 1)
        .rev()
        .find_map(|e| match e {
            Event::Secret(s) => Some(s.owner),
            _ => None,
        })
        .or_else(|| t.actors.iter().position(|a| a.role == Role::Client))
}

/// The graph of `owner`'s secrets among the first `step + 1` events.
pub fn graph(t: &Transcript, step: usize, owner: usize) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    for (i, e) in t.events.iter().enumerate().take(step + 1) {
        let Event::Secret(s) = e else { continue };
        if s.owner != owner {
            continue;
        }
        let mut from = Vec::new();
        for input in &s.formula.inputs {
            if input.bytes.is_empty() {
                continue;
            }
            // The latest earlier secret with exactly these bytes.
            let source = nodes.iter().rposition(|n| {
                matches!(t.events.get(n.event), Some(Event::Secret(p)) if p.bytes == input.bytes)
            });
            if let Some(k) = source {
                if !from.contains(&k) {
                    from.push(k);
                }
            }
        }
        let depth = from
            .iter()
            .filter_map(|&k| nodes.get(k).map(|n| n.depth + 1))
            .max()
            .unwrap_or(0);
        nodes.push(Node {
            event: i,
            depth,
            from,
        });
    }
    nodes
}

/// The key schedule view.
#[component]
pub fn Schedule(p: &ScheduleProps) -> Html {
    let t = &p.transcript;
    let lang = p.lang;
    let Some(owner) = owner(t, p.step) else {
        return html! { <p class="empty">{ t_(lang, "ui.secrets.none") }</p> };
    };
    let nodes = graph(t, p.step, owner);
    if nodes.is_empty() {
        return html! { <p class="empty">{ t_(lang, "ui.secrets.none") }</p> };
    }
    // Boxes as wide as the longest name, drawn at real size (presenter: 20 px).
    let (name_px, hex_px) = if p.presenter {
        (21.0, 20.0)
    } else {
        (14.0, 12.0)
    };
    let name_font = font(600, name_px);
    let widest = nodes
        .iter()
        .filter_map(|n| match t.events.get(n.event) {
            Some(Event::Secret(s)) => Some(measure(&name_font, name_px, &tr(lang, &s.name))),
            _ => None,
        })
        .fold(0.0, f64::max);
    let hex_w = measure(&font(400, hex_px), hex_px, &"0".repeat(21));
    let w_box = (widest.max(hex_w) + 18.0).clamp(160.0, 460.0);
    let h_box = name_px * 1.4 + hex_px * 1.5 + 8.0;
    let col = w_box + 32.0;
    let row_h = h_box + 16.0;
    // Row within each column, in derivation order.
    let mut rows_in: Vec<usize> = Vec::new();
    let mut place = Vec::with_capacity(nodes.len());
    for n in &nodes {
        if rows_in.len() <= n.depth {
            rows_in.resize(n.depth + 1, 0);
        }
        let row = rows_in.get(n.depth).copied().unwrap_or(0);
        if let Some(r) = rows_in.get_mut(n.depth) {
            *r += 1;
        }
        place.push((10.0 + col * n.depth as f64, 10.0 + row_h * row as f64));
    }
    let width = 20.0 + col * rows_in.len() as f64;
    let height = 20.0 + row_h * rows_in.iter().copied().max().unwrap_or(1) as f64;
    let edges = nodes.iter().enumerate().flat_map(|(i, n)| {
        let (x2, y2) = place.get(i).copied().unwrap_or_default();
        n.from
            .iter()
            .filter_map(|&k| place.get(k).copied())
            .map(move |(x1, y1)| {
                html! {
                    <line x1={(x1 + w_box).to_string()} y1={(y1 + h_box / 2.0).to_string()}
                        x2={(x2 - 4.0).to_string()} y2={(y2 + h_box / 2.0).to_string()}
                        class="ks-edge" marker-end="url(#ks-arrow)" />
                }
            })
            .collect::<Vec<_>>()
    });
    let boxes = nodes.iter().enumerate().map(|(i, n)| {
        let (x, y) = place.get(i).copied().unwrap_or_default();
        let Some(Event::Secret(s)) = t.events.get(n.event) else {
            return html! {};
        };
        let d = p.dispatch.clone();
        let ev = n.event;
        let onclick = Callback::from(move |_: MouseEvent| d.dispatch(Action::Goto(ev)));
        let current = n.event == p.step;
        html! {
            <g class={classes!("ks-node", current.then_some("current"))} onclick={onclick}>
                <title>{ tr(lang, &s.formula.key) }</title>
                <rect x={x.to_string()} y={y.to_string()} width={w_box.to_string()} height={h_box.to_string()} rx="6" />
                <text x={(x + 9.0).to_string()} y={(y + 4.0 + name_px * 1.1).to_string()} class="ks-name"
                    font-size={name_px.to_string()} font-weight="600">{ tr(lang, &s.name) }</text>
                <text x={(x + 9.0).to_string()} y={(y + 4.0 + name_px * 1.4 + hex_px * 1.1).to_string()} class="ks-hex"
                    font-size={hex_px.to_string()}>{ short_hex(&s.bytes, 10) }</text>
            </g>
        }
    });
    html! {
        <div class="schedule" id="key-schedule">
            <h2>{ format!("{} — {}", t_(lang, "ui.key_schedule"), actor_name(t, lang, owner)) }</h2>
            <svg viewBox={format!("0 0 {width} {height}")} width={width.to_string()} height={height.to_string()}
                role="img" aria-label={t_(lang, "ui.key_schedule")}>
                <defs>
                    <marker id="ks-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">
                        <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
                    </marker>
                </defs>
                { for edges }
                { for boxes }
            </svg>
        </div>
    }
}

fn t_(lang: Lang, key: &str) -> String {
    t(lang, key)
}
