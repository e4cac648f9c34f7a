//! The key schedule drawn as a graph: every secret one actor derived so far, in
//! tiers by derivation depth, each naming the secrets it was computed from. Edges are found, not declared: an input whose bytes equal an earlier
//! secret of the same actor comes from that secret.

use std::rc::Rc;

use cipherstage_transcript::{Event, Role, Transcript};
use yew::prelude::*;

use super::{actor_name, short_hex};
use crate::i18n::{tr, Lang};
use crate::state::{Action, State};
use crate::t;

/// Props of [`Schedule`].
#[derive(Properties, PartialEq)]
pub struct ScheduleProps {
    /// The run.
    pub transcript: Rc<Transcript>,
    /// Current step.
    pub step: usize,
    /// Display language.
    pub lang: Lang,
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

/// Which nodes are the sources of node `current` (directly) and which were computed
/// from it, so the view can light up its neighbours.
pub fn neighbours(nodes: &[Node], current: usize) -> (Vec<usize>, Vec<usize>) {
    let sources = nodes
        .get(current)
        .map(|n| n.from.clone())
        .unwrap_or_default();
    let derived = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.from.contains(&current))
        .map(|(i, _)| i)
        .collect();
    (sources, derived)
}

/// The key schedule view: one tier per derivation depth, top to bottom, each tier's
/// secrets wrapping within the pane's width (so nothing is cut off or needs sideways
/// scrolling at any size or in either language). Each secret is a button leading to
/// its step and names the secrets it was computed from; the current secret's sources
/// and the secrets computed from it are lit.
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
    let name_of = |k: usize| -> String {
        match nodes.get(k).and_then(|n| t.events.get(n.event)) {
            Some(Event::Secret(s)) => tr(lang, &s.name),
            _ => String::new(),
        }
    };
    let current = nodes.iter().position(|n| n.event == p.step);
    let (sources, derived) = current.map(|c| neighbours(&nodes, c)).unwrap_or_default();
    let depth = nodes.iter().map(|n| n.depth).max().unwrap_or(0);
    let node = |i: usize, n: &Node| -> Html {
        let Some(Event::Secret(s)) = t.events.get(n.event) else {
            return html! {};
        };
        let d = p.dispatch.clone();
        let ev = n.event;
        let onclick = Callback::from(move |_: MouseEvent| d.dispatch(Action::Goto(ev)));
        let class = classes!(
            "ks-node",
            (current == Some(i)).then_some("current"),
            sources.contains(&i).then_some("source"),
            derived.contains(&i).then_some("derived"),
        );
        let from = n.from.iter().map(|&k| {
            html! { <span class="ks-edge">{ name_of(k) }</span> }
        });
        html! {
            <li>
                <button class={class} onclick={onclick} title={tr(lang, &s.formula.key)}
                    aria-current={(current == Some(i)).then_some("step")}>
                    <span class="ks-name">{ tr(lang, &s.name) }</span>
                    <code class="ks-hex">{ short_hex(&s.bytes, 10) }</code>
                    if !n.from.is_empty() {
                        <span class="ks-from">
                            <span class="ks-from-label">{ t_(lang, "ui.ks.from") }</span>
                            { for from }
                        </span>
                    }
                </button>
            </li>
        }
    };
    let tiers = (0..=depth).map(|d| {
        let row = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.depth == d)
            .map(|(i, n)| node(i, n));
        html! {
            <li class="ks-tier">
                <ol class="ks-row">{ for row }</ol>
            </li>
        }
    });
    html! {
        <div class="schedule" id="key-schedule" role="region" aria-label={t_(lang, "ui.key_schedule")}>
            <h2>{ format!("{} — {}", t_(lang, "ui.key_schedule"), actor_name(t, lang, owner)) }</h2>
            <ol class="ks-tiers">{ for tiers }</ol>
        </div>
    }
}

fn t_(lang: Lang, key: &str) -> String {
    t(lang, key)
}
