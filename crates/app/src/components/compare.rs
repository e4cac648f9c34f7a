//! Two runs side by side: the open scenario and another (or the same one with
//! another seed), their messages aligned by kind (a longest common subsequence of
//! their labels), the bytes that differ marked, the sizes totalled. The other
//! run comes from the worker like every run; nothing here computes a byte.

use std::rc::Rc;

use cipherstage_scenarios::{self as scenarios, wire::Request, wire::Response};
use cipherstage_transcript::{Message, Transcript};
use yew::prelude::*;

use super::handout::message_line;
use crate::bridge::{self, Heard};
use crate::i18n::{tr, tr_args};
use crate::state::{Action, State};
use crate::{t, web};

/// Props of [`Compare`].
#[derive(Properties, PartialEq)]
pub struct CompareProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// The other run.
#[derive(Clone, PartialEq)]
enum Other {
    Waiting,
    Ran(Rc<Transcript>),
    Failed(String),
}

/// The most messages aligned per side (the alignment is quadratic).
const MAX_ALIGNED: usize = 600;

/// The partner a scenario is compared with by default: its counterpart where the
/// seed pairs them, else itself with the next seed.
pub fn default_partner(id: &str) -> &str {
    match id {
        "ipsec-transport" => "ipsec-tunnel",
        "ipsec-tunnel" => "ipsec-transport",
        "tls13" => "mtls",
        "mtls" => "tls13",
        "ssh-password" => "ssh-publickey",
        "ssh-publickey" => "ssh-password",
        other => other,
    }
}

/// How well two messages pair: the same label (2), else the same protocol (1: ESP
/// in transport and in tunnel mode, between hosts or between gateways), else not.
fn pairing(a: &Message, b: &Message) -> u16 {
    if a.label == b.label {
        2
    } else if a.protocol == b.protocol {
        1
    } else {
        0
    }
}

/// Pairs of message indexes (left, right), `None` where one side has no partner,
/// in order: the best alignment by [`pairing`] (a weighted longest common
/// subsequence).
fn align(a: &[&Message], b: &[&Message]) -> Vec<(Option<usize>, Option<usize>)> {
    let (n, m) = (a.len().min(MAX_ALIGNED), b.len().min(MAX_ALIGNED));
    // lcs at (i, j): length of the LCS of a[i..n] and b[j..m], row by row.
    let cols = m + 1;
    let mut lcs = vec![0u16; (n + 1) * cols];
    let at = |lcs: &[u16], i: usize, j: usize| lcs.get(i * cols + j).copied().unwrap_or(0);
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let w = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => pairing(x, y),
                _ => 0,
            };
            let skip = at(&lcs, i + 1, j).max(at(&lcs, i, j + 1));
            let v = if w > 0 {
                skip.max(at(&lcs, i + 1, j + 1).saturating_add(w))
            } else {
                skip
            };
            if let Some(slot) = lcs.get_mut(i * cols + j) {
                *slot = v;
            }
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n && j < m {
        let w = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => pairing(x, y),
            _ => 0,
        };
        if w > 0 && at(&lcs, i, j) == at(&lcs, i + 1, j + 1).saturating_add(w) {
            out.push((Some(i), Some(j)));
            i += 1;
            j += 1;
        } else if at(&lcs, i + 1, j) >= at(&lcs, i, j + 1) {
            out.push((Some(i), None));
            i += 1;
        } else {
            out.push((None, Some(j)));
            j += 1;
        }
    }
    out.extend((i..n).map(|i| (Some(i), None)));
    out.extend((j..m).map(|j| (None, Some(j))));
    out
}

/// How many bytes differ between two messages, position by position (bytes past
/// the shorter one count as different).
fn differing(a: &[u8], b: &[u8]) -> usize {
    let common = a.iter().zip(b).filter(|(x, y)| x != y).count();
    common + a.len().abs_diff(b.len())
}

/// A hex block with the bytes that differ from `other` marked.
fn hex(bytes: &[u8], other: &[u8]) -> Html {
    html! {
        <code class="hex-block cmp-hex">
        { for bytes.iter().enumerate().map(|(i, b)| {
            let diff = other.get(i) != Some(b);
            html! { <span class={classes!(diff.then_some("diff"))}>{ format!("{b:02x}") }</span> }
        }) }
        </code>
    }
}

/// The compare view.
#[component]
pub fn Compare(p: &CompareProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let other = use_state(|| Other::Waiting);
    let texts = use_force_update();
    let (other_id, other_seed) = s.compare.clone().unwrap_or_default();
    {
        let other = other.clone();
        let texts = texts.clone();
        use_effect_with((other_id.clone(), other_seed), move |(id, seed)| {
            other.set(Other::Waiting);
            if let Some(info) = scenarios::find(id) {
                web::fetch_texts(lang, Some(info.protocol), move || texts.force_update());
                let o = other.clone();
                bridge::post(
                    &Request::Run {
                        id: id.clone(),
                        params: Vec::new(),
                        seed: *seed,
                    },
                    move |h| match h {
                        Heard::Answer(Response::Ran(ran)) => {
                            o.set(Other::Ran(Rc::new(ran.transcript)))
                        }
                        Heard::Answer(_) => o.set(Other::Failed("refused".into())),
                        Heard::Failed(why) => o.set(Other::Failed(why)),
                        Heard::Progress(_) | Heard::Qr(_) => {}
                    },
                );
            } else {
                other.set(Other::Failed(id.clone()));
            }
        });
    }
    let Some(left) = s.transcript.clone() else {
        return html! {};
    };
    let d = p.state.dispatcher();
    let back = {
        let d = d.clone();
        Callback::from(move |_| d.dispatch(Action::SetCompare(None)))
    };
    let on_pick = {
        let d = d.clone();
        let seed = other_seed;
        Callback::from(move |e: Event| {
            if let Some(sel) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
                d.dispatch(Action::SetCompare(Some((sel.value(), seed))));
            }
        })
    };
    let on_seed = {
        let d = d.clone();
        let id = other_id.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                if let Ok(n) = input.value().trim().parse::<u64>() {
                    d.dispatch(Action::SetCompare(Some((id.clone(), Some(n)))));
                }
            }
        })
    };
    let title =
        |id: &str| scenarios::find(id).map_or_else(|| id.to_owned(), |i| tr(lang, &i.title_key()));
    let left_id = s.scenario.map(|i| i.id).unwrap_or("imported");
    let left_seed = s
        .seed
        .map_or_else(|| t(lang, "ui.handout.live"), |n| n.to_string());
    let body = match &*other {
        Other::Waiting => {
            html! { <p class="cmp-wait" role="status">{ t(lang, "ui.compare.waiting") }</p> }
        }
        Other::Failed(why) => {
            html! { <p class="warn">{ tr_args(lang, "ui.compare.failed", &[("why".into(), why.clone())]) }</p> }
        }
        Other::Ran(right) => {
            let a: Vec<&Message> = left.messages().collect();
            let b: Vec<&Message> = right.messages().collect();
            let rows = align(&a, &b);
            let total = |v: &[&Message]| v.iter().map(|m| m.bytes.len()).sum::<usize>();
            let (ta, tb) = (total(&a), total(&b));
            let delta = tb as i64 - ta as i64;
            html! {
                <>
                <p class="cmp-total" id="compare-total">{ tr_args(lang, "ui.compare.total", &[
                    ("left".into(), ta.to_string()),
                    ("right".into(), tb.to_string()),
                    ("delta".into(), format!("{delta:+}")),
                    ("nleft".into(), a.len().to_string()),
                    ("nright".into(), b.len().to_string()),
                ]) }</p>
                <ol class="cmp-rows" id="compare-rows">
                { for rows.iter().map(|(i, j)| {
                    let l = i.and_then(|i| a.get(i).copied());
                    let r = j.and_then(|j| b.get(j).copied());
                    let cell = |t: &Transcript, m: Option<&Message>| match m {
                        Some(m) => html! { <span class="cmp-msg" data-bytes={m.bytes.len().to_string()}>{ message_line(t, lang, m) }</span> },
                        None => html! { <span class="cmp-none">{ tr(lang, "ui.compare.none") }</span> },
                    };
                    let summary = match (l, r) {
                        (Some(x), Some(y)) => tr_args(lang, "ui.compare.differ", &[
                            ("n".into(), differing(&x.bytes, &y.bytes).to_string()),
                            ("delta".into(), format!("{:+}", y.bytes.len() as i64 - x.bytes.len() as i64)),
                        ]),
                        (Some(_), None) => t(lang, "ui.compare.only_left"),
                        _ => t(lang, "ui.compare.only_right"),
                    };
                    html! {
                        <li class={classes!("cmp-row", (l.is_some() && r.is_some()).then_some("paired"))}>
                            <details>
                                <summary>
                                    <span class="cmp-side">{ cell(&left, l) }</span>
                                    <span class="cmp-side">{ cell(right, r) }</span>
                                    <span class="cmp-diff">{ summary }</span>
                                </summary>
                                <div class="cmp-bytes">
                                    <div>{ l.map_or(html! {}, |x| hex(&x.bytes, r.map_or(&[][..], |y| &y.bytes))) }</div>
                                    <div>{ r.map_or(html! {}, |y| hex(&y.bytes, l.map_or(&[][..], |x| &x.bytes))) }</div>
                                </div>
                            </details>
                        </li>
                    }
                }) }
                </ol>
                </>
            }
        }
    };
    html! {
        <main class="compare" id="compare">
            <div class="handout-bar">
                <button id="compare-back" onclick={back}>{ t(lang, "ui.handout.back") }</button>
                <label>
                    <span>{ t(lang, "ui.compare.with") }</span>
                    <select id="compare-with" onchange={on_pick}>
                    { for scenarios::all().map(|i| html! {
                        <option value={i.id} selected={i.id == other_id}>{ tr(lang, &i.title_key()) }</option>
                    }) }
                    </select>
                </label>
                <label>
                    <span>{ t(lang, "ui.seed") }</span>
                    <input id="compare-seed" type="number" min="0" inputmode="numeric"
                        value={other_seed.map(|n| n.to_string()).unwrap_or_default()} onchange={on_seed} />
                </label>
            </div>
            <h1>{ t(lang, "ui.compare") }</h1>
            <div class="cmp-heads">
                <h2>{ format!("{} ({}: {})", title(left_id), t(lang, "ui.seed"), left_seed) }</h2>
                <h2>{ format!("{} ({}: {})", title(&other_id), t(lang, "ui.seed"), other_seed.map_or_else(|| t(lang, "ui.handout.live"), |n| n.to_string())) }</h2>
            </div>
            { body }
            <p class="hint">{ t(lang, "ui.compare.hint") }</p>
        </main>
    }
}
