//! The current step in words and bytes: a caption, then the message inspector,
//! the secret with its formula, the check with its outcome, or the alert.

// Reading a secret's recorded derivation needs no core; its HkdfLabel bytes come
// from the worker, built by the TLS key schedule's own code (`wire::Ran`).
pub use cipherstage_scenarios::formula::{Computed, Curve, Expansion, Keymat, Labelled};
use cipherstage_transcript::{Event, Outcome, Role};
use yew::prelude::*;

use super::inspector::Inspector;
use super::{actor_name, message_number};
use crate::i18n::{source_text, tr, tr_args, Lang};
use crate::state::State;
use crate::t;

/// Props of [`Detail`].
#[derive(Properties, PartialEq)]
pub struct DetailProps {
    /// The app state (and its dispatcher).
    pub state: UseReducerHandle<State>,
}

/// The detail pane.
#[component]
pub fn Detail(p: &DetailProps) -> Html {
    let s = &*p.state;
    let lang = s.lang;
    let (Some(tr_), Some(ev)) = (s.transcript.clone(), s.current()) else {
        return html! {};
    };
    let who = |i| actor_name(&tr_, lang, i);
    match ev {
        Event::Narration(n) => html! {
            <div class="caption narration" id="caption">
                <p>{ tr_args(lang, &n.key, &n.args) }</p>
                if let Some(src) = source_text(lang, &n.key) {
                    <p><small class="source">{ src }</small></p>
                }
                // The picture this step drew (Eve sees none of it).
                if let Some(f) = super::picture::named(&n.args, &s.exports).filter(|_| !s.eve) {
                    <super::picture::Picture files={s.exports.clone()} name={f.name.clone()} alt={tr_args(lang, &n.key, &n.args)} />
                }
            </div>
        },
        Event::Message(m) => {
            let caption = format!("{} → {}: {}", who(m.from), who(m.to), tr(lang, &m.label));
            html! {
                <>
                    <div class="caption" id="caption">
                        <p>{ caption }</p>
                        if m.tampered.is_some() {
                            <p class="warn">{ t(lang, "ui.tampered_in_flight") }</p>
                        }
                    </div>
                    <Inspector message={m.clone()} number={message_number(&tr_, s.step)} state={p.state.clone()} />
                </>
            }
        }
        // In Eve's view a secret she does not hold is named, not shown.
        Event::Secret(sec) if s.eve && !super::eve_knows(&tr_, s.step).contains(&s.step) => {
            html! {
                <div class="caption" id="caption">
                    <p>{ format!("{}: {}", who(sec.owner), tr(lang, &sec.name)) }</p>
                    <p class="eve-note" id="secret-hidden">{ t(lang, "ui.secret.eve_hidden") }</p>
                </div>
            }
        }
        Event::Secret(sec) => html! {
            <>
                <div class="caption" id="caption">
                    <p>{ format!("{}: {}", who(sec.owner), tr(lang, &sec.name)) }</p>
                </div>
                <div class="secret-detail">
                    <h3>{ t(lang, "ui.value") }{ format!(" ({} B)", sec.bytes.len()) }</h3>
                    <code class="hex-block">{ cipherstage_transcript::hex_encode(&sec.bytes) }</code>
                    <h3>{ t(lang, "ui.formula") }</h3>
                    <p class="formula">{ tr(lang, &sec.formula.key) }</p>
                    if let Some(src) = source_text(lang, &sec.formula.key) {
                        <p><small class="source">{ src }</small></p>
                    }
                    if let Some(f) = Expansion::of(sec) {
                        <p class="formula" id="formula-this-run">{ format!("{}: {}", t(lang, "ui.this_run_inputs"), f.call(lang)) }</p>
                        if let Some(label) = s.hkdf_labels.iter().find(|l| l.event == s.step) {
                            <dl class="inputs">
                                <dt>{ "HkdfLabel" }</dt>
                                <dd><code class="hex-block">{ cipherstage_transcript::hex_encode(&label.bytes) }</code></dd>
                            </dl>
                        }
                    } else if let Some(f) = Labelled::of(sec) {
                        <p class="formula" id="formula-this-run">{ format!("{}: {}", t(lang, "ui.this_run_inputs"), f.call(lang)) }</p>
                    } else if let Some(f) = Computed::of(sec) {
                        <p class="formula" id="formula-this-run">{ format!("{}: {}", t(lang, "ui.this_run_inputs"), f.call(lang)) }</p>
                    }
                    if !sec.formula.inputs.is_empty() {
                        <dl class="inputs">
                        { for sec.formula.inputs.iter().map(|i| html! {
                            <>
                                <dt>{ tr(lang, &i.name) }</dt>
                                <dd><code class="hex-block">{ input_text(&i.bytes) }</code></dd>
                            </>
                        }) }
                        </dl>
                    }
                </div>
            </>
        },
        Event::Check(c) => {
            let (cls, verdict) = match c.outcome {
                Outcome::Passed => ("pass", t(lang, "ui.check.passed")),
                Outcome::Failed(r) => (
                    "fail",
                    format!("{}: {}", t(lang, "ui.check.failed"), tr(lang, r.key())),
                ),
            };
            html! {
                <div class={classes!("caption", "check-detail", cls)} id="caption">
                    <p>{ format!("{}: {}", who(c.actor), tr(lang, &c.what)) }</p>
                    <p class="verdict">{ verdict }</p>
                </div>
            }
        }
        Event::Alert(a) => {
            // A browser refusing a server certificate shows the warning page the seed pictures.
            let by_client = tr_
                .actors
                .get(a.from)
                .is_some_and(|x| x.role == Role::Client);
            let code = match a.key.as_str() {
                "tls.alert.bad_certificate" => Some("NET::ERR_CERT_COMMON_NAME_INVALID"),
                "tls.alert.unknown_ca" => Some("NET::ERR_CERT_AUTHORITY_INVALID"),
                "tls.alert.certificate_expired" => Some("NET::ERR_CERT_DATE_INVALID"),
                _ => None,
            }
            .filter(|_| by_client);
            html! {
                <>
                    <div class="caption alert-detail" id="caption">
                        <p>{ format!("{} ⚠ {}", who(a.from), tr(lang, &a.key)) }</p>
                        if a.fatal {
                            <p class="verdict">{ t(lang, "ui.alert.fatal") }</p>
                        }
                    </div>
                    if let Some(code) = code {
                        <div class="browser-warning" id="browser-warning">
                            <div class="bw-icon" aria-hidden="true">{ "⚠" }</div>
                            <h3>{ t(lang, "ui.browser_warning.title") }</h3>
                            <p>{ t(lang, "ui.browser_warning.body") }</p>
                            <p class="bw-code">{ code }</p>
                            <p class="bw-note">{ t(lang, "ui.browser_warning.note") }</p>
                        </div>
                    }
                </>
            }
        }
    }
}

/// Shows a formula input as text when it is a printable label, else as hex.
pub(crate) fn input_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.is_empty() && s.chars().all(|c| (' '..='~').contains(&c)) => format!("\"{s}\""),
        _ => cipherstage_transcript::hex_encode(bytes),
    }
}

/// A derivation written out with this run's inputs, in the reader's language.
pub trait Call {
    /// The formula with this run's label, context and length written in.
    fn call(&self, lang: Lang) -> String;
}

impl Call for Expansion<'_> {
    fn call(&self, lang: Lang) -> String {
        let label = format!("\"{}\"", String::from_utf8_lossy(self.label));
        let secret = tr(lang, "tls.input.secret");
        let context = if self.context.is_empty() {
            "\"\"".to_owned()
        } else if self.derive {
            tr(lang, "tls.input.transcript_hash")
        } else {
            cipherstage_transcript::hex_encode(self.context)
        };
        let expand = format!(
            "HKDF-Expand-Label({secret}, {label}, {context}, {}) = HKDF-Expand({secret}, HkdfLabel, {})",
            self.len, self.len
        );
        if self.derive {
            format!("Derive-Secret({secret}, {label}, …) = {expand}")
        } else {
            expand
        }
    }
}

impl Call for Labelled<'_> {
    fn call(&self, lang: Lang) -> String {
        match *self {
            Labelled::SshKey { letter, len, .. } => {
                let first = format!(
                    "K1 = SHA-256(K ‖ H ‖ \"{}\" ‖ session_id)",
                    char::from(letter)
                );
                match len.div_ceil(32) {
                    0 | 1 => format!("{first}; K1 → {len} B"),
                    2 => format!("{first}, K2 = SHA-256(K ‖ H ‖ K1); K1 ‖ K2 → {len} B"),
                    n => format!(
                        "{first}, Kn+1 = SHA-256(K ‖ H ‖ K1 ‖ … ‖ Kn); K1 ‖ … ‖ K{n} → {len} B"
                    ),
                }
            }
            Labelled::HkdfExpand { label, len, .. } => format!(
                "HKDF-Expand({}, \"{}\", {len})",
                tr(lang, "input.prk"),
                String::from_utf8_lossy(label)
            ),
        }
    }
}

/// An input by its name in the reader's language, with its length.
fn sized(lang: Lang, name: &str, bytes: &[u8]) -> String {
    format!("{} ({} B)", tr(lang, name), bytes.len())
}

impl Call for Computed<'_> {
    fn call(&self, lang: Lang) -> String {
        match self {
            Computed::Extract {
                salt,
                ikm,
                ikm_name,
                len,
                tls,
            } => {
                let salt_name = if *tls { "tls.input.salt" } else { "input.salt" };
                let hash = if *len == 48 { "SHA-384" } else { "SHA-256" };
                let (s, i) = (sized(lang, salt_name, salt), sized(lang, ikm_name, ikm));
                format!("HKDF-Extract({s}, {i}) = HMAC-{hash}({s}, {i}) → {len} B")
            }
            Computed::Agreement {
                curve,
                private,
                private_name,
                peer,
                peer_name,
            } => {
                let (d, q) = (
                    sized(lang, private_name, private),
                    sized(lang, peer_name, peer),
                );
                match curve {
                    Curve::X25519 => format!("X25519({d}, {q}) → 32 B"),
                    Curve::P256 => format!("P-256: x({d} · {q}) → 32 B"),
                }
            }
            Computed::Sha256 { parts } | Computed::ExchangeHash { parts } => {
                let strings = matches!(self, Computed::ExchangeHash { .. });
                let list: Vec<String> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, (n, b))| {
                        let kind = match (strings, i + 1 == parts.len()) {
                            (false, _) => "",
                            (true, false) => "string ",
                            (true, true) => "mpint ",
                        };
                        format!("{kind}{}", sized(lang, n, b))
                    })
                    .collect();
                format!("SHA-256({}) → 32 B", list.join(" ‖ "))
            }
            Computed::SignedContent {
                context,
                transcript_hash,
            } => format!(
                "64 × 0x20 ‖ \"{}\" ‖ 0x00 ‖ {} = {} B",
                String::from_utf8_lossy(context),
                sized(lang, "tls.input.transcript_hash", transcript_hash),
                64 + context.len() + 1 + transcript_hash.len()
            ),
            Computed::Skeyseed { ni, nr, g_ir } => format!(
                "SKEYSEED = prf({} ‖ {}, {}) = HMAC-SHA-256(Ni ‖ Nr, g^ir) → 32 B",
                sized(lang, "ike.input.ni", ni),
                sized(lang, "ike.input.nr", nr),
                sized(lang, "ike.input.g_ir", g_ir)
            ),
            Computed::PrfPlus {
                kind, seed, range, ..
            } => {
                let (key, names): (&str, &[&str]) = match kind {
                    Keymat::IkeSa => ("SKEYSEED", &["Ni", "Nr", "SPIi", "SPIr"]),
                    Keymat::ChildSa => ("SK_d", &["Ni", "Nr"]),
                };
                let seed: Vec<String> = names
                    .iter()
                    .zip(seed)
                    .map(|(n, b)| format!("{n} ({} B)", b.len()))
                    .collect();
                format!(
                    "prf+({key}, {})[{}..{}] → {} B",
                    seed.join(" ‖ "),
                    range.start,
                    range.end,
                    range.len()
                )
            }
            Computed::X963 {
                sha1,
                z,
                shared_info,
                len,
                ..
            } => {
                let (z, info) = (
                    sized(lang, "smime.input.z", z),
                    sized(lang, "smime.input.shared_info", shared_info),
                );
                if *sha1 {
                    format!("SHA-1({z} ‖ 00000001 ‖ {info}) ‖ SHA-1({z} ‖ 00000002 ‖ {info}), → {len} B")
                } else {
                    format!("SHA-256({z} ‖ 00000001 ‖ {info}) → {len} B")
                }
            }
            Computed::Unwrap { kek, wrapped } => format!(
                "AES-256 key unwrap({}, {}) → {} B",
                sized(lang, "smime.input.kek", kek),
                sized(lang, "smime.input.wrapped_key", wrapped),
                wrapped.len().saturating_sub(8)
            ),
        }
    }
}
