//! The current step in words and bytes: a caption, then the message inspector,
//! the secret with its formula, the check with its outcome, or the alert.

use cipherstage_tls::keys::{hkdf_label, Hash};
// The cores' own derivations, so a formula written out with this run's inputs can be
// recomputed by the code that computed the secret.
use cipherstage_hybrid::hkdf;
use cipherstage_ssh::kex;
use cipherstage_transcript::{Event, Outcome, Role, Secret};
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
                        <dl class="inputs">
                            <dt>{ "HkdfLabel" }</dt>
                            <dd><code class="hex-block">{ cipherstage_transcript::hex_encode(&f.hkdf_label()) }</code></dd>
                        </dl>
                    } else if let Some(f) = Labelled::of(sec) {
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
fn input_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.is_empty() && s.chars().all(|c| (' '..='~').contains(&c)) => format!("\"{s}\""),
        _ => cipherstage_transcript::hex_encode(bytes),
    }
}

/// A TLS secret made by HKDF-Expand-Label (directly or as Derive-Secret), with the
/// label, context and length this run used: the formula written out with them, and
/// the HkdfLabel built by the key schedule's own code (`cipherstage_tls::keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion<'a> {
    /// Derive-Secret (the context is a transcript hash) or plain HKDF-Expand-Label.
    pub derive: bool,
    /// The secret expanded from.
    pub secret: &'a [u8],
    /// The label, without the "tls13 " prefix HkdfLabel adds.
    pub label: &'a [u8],
    /// The context (a transcript hash, a ticket nonce, or empty).
    pub context: &'a [u8],
    /// The output length: the length of the secret shown.
    pub len: usize,
}

impl<'a> Expansion<'a> {
    /// The expansion behind `sec`, if its formula is one.
    pub fn of(sec: &'a Secret) -> Option<Self> {
        let derive = match sec.formula.key.as_str() {
            "tls.formula.derive_secret" => true,
            "tls.formula.hkdf_expand_label" => false,
            _ => return None,
        };
        let input = |name: &str| {
            sec.formula
                .inputs
                .iter()
                .find(|i| i.name == name)
                .map(|i| i.bytes.as_slice())
        };
        let context = if derive {
            input("tls.input.transcript_hash")?
        } else {
            input("tls.input.context").unwrap_or_default()
        };
        Some(Expansion {
            derive,
            secret: input("tls.input.secret")?,
            label: input("tls.input.label")?,
            context,
            len: sec.bytes.len(),
        })
    }

    /// HkdfLabel = length ‖ "tls13 " + label ‖ context, as the key schedule builds it.
    pub fn hkdf_label(&self) -> Vec<u8> {
        hkdf_label(self.label, self.context, self.len)
    }

    /// HKDF-Expand(secret, HkdfLabel, length) with the suite's hash (known from the
    /// secret's length): what the secret must equal.
    pub fn recompute(&self) -> Option<Vec<u8>> {
        let hash = match self.secret.len() {
            32 => Hash::Sha256,
            48 => Hash::Sha384,
            _ => return None,
        };
        Some(hash.expand(self.secret, &self.hkdf_label(), self.len))
    }

    /// The formula with this run's label, context and length written in.
    pub fn call(&self, lang: Lang) -> String {
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

/// A secret whose formula takes a label chosen by the core: an SSH key A–F
/// (RFC 4253 §7.2, the letter) or a hybrid-demo key or IV (HKDF-Expand with a text
/// label), with the inputs this run recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Labelled<'a> {
    /// HASH(K ‖ H ‖ letter ‖ session_id), extended: `k` is K as the mpint recorded.
    SshKey {
        /// K, mpint-encoded.
        k: &'a [u8],
        /// The exchange hash H.
        h: &'a [u8],
        /// The letter, A to F.
        letter: u8,
        /// The session id.
        session_id: &'a [u8],
        /// Bytes derived.
        len: usize,
    },
    /// HKDF-Expand(PRK, label, length).
    HkdfExpand {
        /// The pseudorandom key.
        prk: &'a [u8],
        /// The label, used as HKDF's info.
        label: &'a [u8],
        /// Bytes derived.
        len: usize,
    },
}

impl<'a> Labelled<'a> {
    /// The labelled derivation behind `sec`, if its formula is one.
    pub fn of(sec: &'a Secret) -> Option<Self> {
        let input = |name: &str| {
            sec.formula
                .inputs
                .iter()
                .find(|i| i.name == name)
                .map(|i| i.bytes.as_slice())
        };
        let len = sec.bytes.len();
        match sec.formula.key.as_str() {
            "ssh.formula.derive_key" => Some(Labelled::SshKey {
                k: input("ssh.input.k")?,
                h: input("ssh.input.h")?,
                letter: *input("ssh.input.letter")?.first()?,
                session_id: input("ssh.input.session_id")?,
                len,
            }),
            "formula.hkdf_expand" => Some(Labelled::HkdfExpand {
                prk: input("input.prk")?,
                label: input("input.label")?,
                len,
            }),
            _ => None,
        }
    }

    /// The secret recomputed by the core's own function from these inputs.
    pub fn recompute(&self) -> Option<Vec<u8>> {
        match *self {
            Labelled::SshKey {
                k,
                h,
                letter,
                session_id,
                len,
            } => {
                // The recorded K is an mpint: 4-byte length, then the integer with a 0x00
                // in front when its top bit is set; kex::derive takes the bare integer.
                let body = k.get(4..)?;
                let bare = body.strip_prefix(&[0u8]).unwrap_or(body);
                Some(kex::derive(bare, h, letter, session_id, len))
            }
            Labelled::HkdfExpand { prk, label, len } => hkdf::expand(prk, label, len),
        }
    }

    /// The formula with this run's label and length written in.
    pub fn call(&self, lang: Lang) -> String {
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
