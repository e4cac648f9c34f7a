//! The QR code of the current view (Q): scenario, parameters, seed, step and
//! language, so a class opens the same view on their phones. The code is made by
//! the inspect worker module (a QR encoder crate, offline); this draws it as SVG
//! modules with the quiet zone, large enough to scan from the back of a room.

use yew::prelude::*;

use crate::bridge::{self, Heard};
use crate::state::{Action, State};
use crate::url::UrlState;
use crate::{t, web};

/// Props of [`Qr`].
#[derive(Properties, PartialEq)]
pub struct QrProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// What the worker said.
#[derive(Clone, PartialEq)]
enum Code {
    Waiting,
    /// Side in modules and the modules, row by row.
    Ready(usize, Vec<bool>),
    /// The address is too long for a QR code.
    TooLong,
    /// The worker could not answer.
    Failed(String),
}

/// Reads the worker's `"side:0101…"`.
fn parse(text: &str) -> Option<(usize, Vec<bool>)> {
    let (w, bits) = text.split_once(':')?;
    let w: usize = w.parse().ok()?;
    if w == 0 || w > 177 || bits.len() != w.checked_mul(w)? {
        return None;
    }
    Some((w, bits.bytes().map(|b| b == b'1').collect()))
}

/// The SVG path of the dark modules, one `h1` run per module (quiet zone of 4).
fn path(w: usize, dark: &[bool]) -> String {
    let mut d = String::new();
    for y in 0..w {
        for x in 0..w {
            if dark.get(y * w + x).copied().unwrap_or(false) {
                d.push_str(&format!("M{} {}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    d
}

/// The dialog.
#[component]
pub fn Qr(p: &QrProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    // The page of its own a phone opens: the step range stays, an embed's hidden
    // panes and autoplay do not.
    let url = web::share_url(&UrlState {
        embed: false,
        present: false,
        hide: Vec::new(),
        play: false,
        ..s.to_url()
    });
    let code = use_state(|| Code::Waiting);
    {
        let code = code.clone();
        use_effect_with(url.clone(), move |url| {
            code.set(Code::Waiting);
            let c = code.clone();
            bridge::qr(url, move |h| {
                c.set(match h {
                    Heard::Qr(Some(text)) => match parse(&text) {
                        Some((w, dark)) => Code::Ready(w, dark),
                        None => Code::Failed("unreadable QR code".into()),
                    },
                    Heard::Qr(None) => Code::TooLong,
                    Heard::Failed(why) => Code::Failed(why),
                    Heard::Answer(_) | Heard::Progress(_) => return,
                });
            });
        });
    }
    let dialog = use_node_ref();
    super::help::use_dialog_focus("qr-close");
    let trap = {
        let dialog = dialog.clone();
        Callback::from(move |e: KeyboardEvent| {
            if let Some(el) = dialog.cast::<web_sys::Element>() {
                web::trap_tab(&e, &el);
            }
        })
    };
    let close = {
        let h = p.state.clone();
        Callback::from(move |_: MouseEvent| h.dispatch(Action::ToggleQr))
    };
    let picture = match &*code {
        Code::Waiting => html! { <p class="qr-wait" role="status">{ t(lang, "ui.qr.making") }</p> },
        Code::Ready(w, dark) => {
            let side = w + 8;
            html! {
                <svg class="qr-code" id="qr-code" viewBox={format!("0 0 {side} {side}")} role="img"
                    aria-label={t(lang, "ui.qr.title")} shape-rendering="crispEdges">
                    <rect width={side.to_string()} height={side.to_string()} fill="#fff" />
                    <path d={path(*w, dark)} fill="#000" />
                </svg>
            }
        }
        Code::TooLong => {
            html! { <p class="qr-wait" role="alert">{ t(lang, "ui.qr.too_long") }</p> }
        }
        Code::Failed(why) => html! {
            <p class="qr-wait" role="alert">{ format!("{} ({why})", t(lang, "ui.qr.failed")) }</p>
        },
    };
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="qr-title" id="qr" ref={dialog} onkeydown={trap}>
            <div class="help qr">
                <h2 id="qr-title">{ t(lang, "ui.qr.title") }</h2>
                { picture }
                <p class="qr-url" id="qr-url">{ url }</p>
                <button id="qr-close" onclick={close}>{ t(lang, "ui.close") }</button>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, path};

    #[test]
    fn the_worker_answer_is_read_strictly() {
        assert_eq!(parse("1:1"), Some((1, vec![true])));
        assert!(parse("2:101").is_none());
        assert!(parse("0:").is_none());
        assert!(parse("x:1").is_none());
        assert!(parse("999:1").is_none());
        assert_eq!(path(1, &[true]), "M4 4h1v1h-1z");
    }
}
