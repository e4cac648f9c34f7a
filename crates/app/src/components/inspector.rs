//! The byte inspector: a hex view coloured by protection kind, linked both ways
//! with the field tree and its explanations.

use cipherstage_transcript::{Field, Message, Protection, Value};
use yew::prelude::*;

use crate::i18n::{source_text, tr, Lang};
use crate::state::{Action, State};
use crate::t;

/// Props of [`Inspector`].
#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    /// The message shown.
    pub message: Message,
    /// Its number on the link (for the tamper parameter).
    pub number: usize,
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// Class of a protection kind.
pub fn protection_class(p: Protection) -> &'static str {
    match p {
        Protection::Plaintext => "p-plain",
        Protection::Encrypted => "p-enc",
        Protection::IntegrityOnly => "p-int",
        Protection::Signature => "p-sig",
        Protection::KeyMaterial => "p-key",
    }
}

pub(crate) fn protection_key(p: Protection) -> &'static str {
    match p {
        Protection::Plaintext => "protection.plaintext",
        Protection::Encrypted => "protection.encrypted",
        Protection::IntegrityOnly => "protection.integrity_only",
        Protection::Signature => "protection.signature",
        Protection::KeyMaterial => "protection.key_material",
    }
}

/// For each byte, the path of its leaf field and that leaf's protection.
fn leaf_map(fields: &[Field], len: usize) -> Vec<Option<(Vec<usize>, Protection)>> {
    fn walk(
        fields: &[Field],
        path: &mut Vec<usize>,
        out: &mut Vec<Option<(Vec<usize>, Protection)>>,
    ) {
        for (i, f) in fields.iter().enumerate() {
            path.push(i);
            if f.children.is_empty() {
                for slot in out.iter_mut().take(f.end).skip(f.start) {
                    *slot = Some((path.clone(), f.protection));
                }
            } else {
                walk(&f.children, path, out);
            }
            path.pop();
        }
    }
    let mut out = vec![None; len];
    walk(fields, &mut Vec::new(), &mut out);
    out
}

fn field_at<'a>(fields: &'a [Field], path: &[usize]) -> Option<&'a Field> {
    let (first, rest) = path.split_first()?;
    let f = fields.get(*first)?;
    if rest.is_empty() {
        Some(f)
    } else {
        field_at(&f.children, rest)
    }
}

pub(crate) fn value_text(lang: Lang, v: &Value) -> String {
    match v {
        Value::Uint(n) => format!("{n} (0x{n:x})"),
        Value::Text(s) => format!("\"{s}\""),
        Value::Key(k) => tr(lang, k),
    }
}

/// The inspector.
#[component]
pub fn Inspector(p: &InspectorProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let m = &p.message;
    let leaves = leaf_map(&m.fields, m.bytes.len());
    let selected = s.selected.clone();
    let sel_range = selected
        .as_deref()
        .and_then(|path| field_at(&m.fields, path))
        .map(|f| f.start..f.end);
    let tamper_at = m.tampered.map(|t| t.offset);
    // The byte grid is one tab stop (roving tabindex): the byte last clicked or
    // moved to with the arrows; the flip acts on it.
    let cursor = use_state(|| None::<usize>);
    let len = m.bytes.len();
    let at = (*cursor)
        .filter(|&c| c < len)
        .or(sel_range.as_ref().map(|r| r.start))
        .unwrap_or(0);
    let paths: Vec<Vec<usize>> = leaves
        .iter()
        .map(|l| l.as_ref().map(|(p, _)| p.clone()).unwrap_or_default())
        .collect();
    let on_key = {
        let cursor = cursor.clone();
        let h = p.state.clone();
        let paths = paths.clone();
        Callback::from(move |e: KeyboardEvent| {
            let next = match e.key().as_str() {
                "ArrowRight" => (at + 1).min(len.saturating_sub(1)),
                "ArrowLeft" => at.saturating_sub(1),
                "ArrowDown" => (at + 16).min(len.saturating_sub(1)),
                "ArrowUp" => at.saturating_sub(16),
                "Home" => 0,
                "End" => len.saturating_sub(1),
                "Enter" | " " => {
                    e.prevent_default();
                    if let Some(path) = paths.get(at) {
                        h.dispatch(Action::Select(path.clone()));
                    }
                    return;
                }
                _ => return,
            };
            e.prevent_default();
            cursor.set(Some(next));
            if let Some(el) = e
                .target_dyn_into::<web_sys::Element>()
                .and_then(|t| t.closest(".hex").ok().flatten())
                .and_then(|g| {
                    g.query_selector(&format!("[data-offset=\"{next}\"]"))
                        .ok()
                        .flatten()
                })
                .and_then(|b| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(b).ok())
            {
                let _ = el.focus();
            }
        })
    };

    let bytes = m.bytes.chunks(16).enumerate().map(|(row, chunk)| {
        let cells = chunk.iter().enumerate().map(|(col, b)| {
            let i = row * 16 + col;
            let leaf = leaves.get(i).cloned().flatten();
            let prot = leaf.as_ref().map(|(_, p)| *p).unwrap_or(Protection::Plaintext);
            let opaque = s.eve && prot == Protection::Encrypted;
            let class = classes!(
                "b",
                protection_class(prot),
                sel_range.as_ref().is_some_and(|r| r.contains(&i)).then_some("sel"),
                (tamper_at == Some(i)).then_some("tam"),
                opaque.then_some("opaque"),
            );
            let h = p.state.clone();
            let path = leaf.map(|(p, _)| p).unwrap_or_default();
            let c = cursor.clone();
            let onclick = Callback::from(move |_: MouseEvent| {
                c.set(Some(i));
                h.dispatch(Action::Select(path.clone()))
            });
            html! { <span class={class} data-offset={i.to_string()} onclick={onclick} role="gridcell"
                tabindex={if i == at { "0" } else { "-1" }}>{ format!("{b:02x}") }</span> }
        });
        html! {
            <div class="hex-row" role="row">
                <span class="off" role="rowheader">{ format!("{:04x}", row * 16) }</span>
                { for cells }
            </div>
        }
    });

    // Only where the scenario offers a flip and an attacker is on this message's link.
    let watched = s
        .transcript
        .as_ref()
        .and_then(|t| t.links.get(p.message.link))
        .is_some_and(|l| !l.observers.is_empty());
    let tamper_button = s
        .scenario
        .filter(|info| watched && info.params.iter().any(|p| p.name == "flip"))
        .and(sel_range.clone())
        .map(|r| {
            let h = p.state.clone();
            let offset = if r.contains(&at) { at } else { r.start };
            let value = format!("{}:{}", p.number, offset);
            let onclick = Callback::from(move |_: MouseEvent| {
                h.dispatch(Action::SetParam("flip".into(), value.clone()))
            });
            html! { <button id="flip-here" class="danger" onclick={onclick}>{ t(lang, "ui.flip_here") }</button> }
        });

    html! {
        <div class="inspector">
            <div class="legend" aria-hidden="true">
                { for [Protection::Plaintext, Protection::IntegrityOnly, Protection::Encrypted, Protection::Signature, Protection::KeyMaterial]
                    .into_iter().map(|pk| html! { <span class={classes!("chip", protection_class(pk))}>{ tr(lang, protection_key(pk)).split(':').next().unwrap_or_default().to_owned() }</span> }) }
            </div>
            <div class={classes!("hex", s.eve.then_some("eve-on"))} id="hex" role="grid" aria-label={t(lang, "ui.bytes")} onkeydown={on_key}>{ for bytes }</div>
            // One stable slot for what comes and goes, so the grid above is never
            // re-created (which would drop the focus of a byte).
            <div class="inspector-notes">
                if s.eve {
                    <p class="eve-note">{ t(lang, "ui.eve_note") }</p>
                }
                { for tamper_button }
            </div>
            <ul class="tree" id="field-tree" role="tree" aria-label={t(lang, "ui.fields")}>
                { for m.fields.iter().enumerate().map(|(i, f)| node(f, vec![i], &p.state, lang, selected.as_deref())) }
            </ul>
        </div>
    }
}

fn node(
    f: &Field,
    path: Vec<usize>,
    state: &UseReducerHandle<State>,
    lang: Lang,
    selected: Option<&[usize]>,
) -> Html {
    let is_sel = selected == Some(path.as_slice());
    let h = state.clone();
    let p2 = path.clone();
    let onclick = Callback::from(move |_: MouseEvent| h.dispatch(Action::Select(p2.clone())));
    let hide_value = state.eve && f.protection == Protection::Encrypted;
    let value = f.value.as_ref().map(|v| {
        if hide_value {
            t(lang, "ui.hidden_from_eve")
        } else {
            value_text(lang, v)
        }
    });
    html! {
        <li role="treeitem" aria-selected={is_sel.to_string()} class={classes!(is_sel.then_some("sel"))}>
            <button class={classes!("field", protection_class(f.protection))} onclick={onclick}>
                <span class="fname">{ tr(lang, &f.name) }</span>
                <span class="frange">{ format!("[{}..{}) {} B", f.start, f.end, f.end - f.start) }</span>
                if let Some(v) = value {
                    <span class="fvalue">{ v }</span>
                }
            </button>
            if is_sel {
                <p class="explain">
                    <span class={classes!("chip", protection_class(f.protection))}>{ tr(lang, protection_key(f.protection)) }</span>
                    { " " }{ tr(lang, &f.explain) }
                    if let Some(src) = source_text(lang, &f.explain) {
                        <br /><small class="source">{ src }</small>
                    }
                </p>
            }
            if !f.children.is_empty() {
                <ul role="group">
                    { for f.children.iter().enumerate().map(|(i, c)| {
                        let mut cp = path.clone();
                        cp.push(i);
                        node(c, cp, state, lang, selected)
                    }) }
                </ul>
            }
        </li>
    }
}
