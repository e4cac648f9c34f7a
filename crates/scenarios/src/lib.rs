//! The scenario registry shared by the app, the CLI and the tests.
//!
//! Each scenario has a stable id (kept in URLs), a layer on the seed's map, a
//! list of editable parameters, and a runner into a protocol core. Parameters
//! arrive as text (from a URL or a form) and are parsed here, so a bad value
//! becomes a typed error, never a panic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

use cipherstage_hybrid as hybrid;
use cipherstage_transcript::{Layer, Transcript};

/// What the picker needs to know about a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioInfo {
    /// Stable id, kept in URLs.
    pub id: &'static str,
    /// Protocol id (`hybrid`).
    pub protocol: &'static str,
    /// Where it sits on the seed's layer map.
    pub layer: Layer,
    /// Its editable parameters.
    pub params: &'static [ParamSpec],
}

impl ScenarioInfo {
    /// Key of the title (`scenario.hybrid.title`).
    pub fn title_key(&self) -> String {
        format!("scenario.{}.title", self.id)
    }

    /// Key of the one-line description.
    pub fn summary_key(&self) -> String {
        format!("scenario.{}.summary", self.id)
    }
}

/// One editable parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// Name in the URL.
    pub name: &'static str,
    /// What kind of value.
    pub kind: ParamKind,
    /// Default, as text.
    pub default: &'static str,
}

impl ParamSpec {
    /// Key of the parameter's label (`param.text`).
    pub fn label_key(&self) -> String {
        format!("param.{}", self.name)
    }
}

/// The kind of a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Free text, at most [`MAX_TEXT`] bytes.
    Text,
    /// `message:offset`, the byte an attacker flips in flight.
    Tamper,
}

/// Longest text parameter accepted.
pub const MAX_TEXT: usize = 1000;

/// Why a scenario could not be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// No scenario has this id.
    UnknownScenario(String),
    /// A parameter's value does not parse.
    BadParam {
        /// The parameter's name.
        name: String,
    },
}

const HYBRID_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "text",
        kind: ParamKind::Text,
        default: "GET /grades HTTP/1.1",
    },
    ParamSpec {
        name: "reply",
        kind: ParamKind::Text,
        default: "200 OK: A+",
    },
];

const HYBRID_TAMPER_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "text",
        kind: ParamKind::Text,
        default: "GET /grades HTTP/1.1",
    },
    ParamSpec {
        name: "reply",
        kind: ParamKind::Text,
        default: "200 OK: A+",
    },
    ParamSpec {
        name: "flip",
        kind: ParamKind::Tamper,
        default: "2:15",
    },
];

/// Every scenario, in the order the picker shows them.
pub const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        id: "hybrid",
        protocol: "hybrid",
        layer: Layer::Application,
        params: HYBRID_PARAMS,
    },
    ScenarioInfo {
        id: "hybrid-tamper",
        protocol: "hybrid",
        layer: Layer::Application,
        params: HYBRID_TAMPER_PARAMS,
    },
];

/// The scenario with this id.
pub fn find(id: &str) -> Option<&'static ScenarioInfo> {
    SCENARIOS.iter().find(|s| s.id == id)
}

/// Parses `message:offset`.
pub fn parse_tamper(text: &str) -> Option<hybrid::TamperAt> {
    let (m, o) = text.split_once(':')?;
    Some(hybrid::TamperAt {
        message: m.trim().parse().ok()?,
        offset: o.trim().parse().ok()?,
    })
}

/// Runs scenario `id` with `params` (name, value; missing ones take their default)
/// and `seed` (`None`: live randomness).
pub fn run(
    id: &str,
    params: &[(String, String)],
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    let info = find(id).ok_or_else(|| RunError::UnknownScenario(id.to_owned()))?;
    for (name, _) in params {
        if !info.params.iter().any(|p| p.name == name) {
            return Err(RunError::BadParam { name: name.clone() });
        }
    }
    let value = |name: &str| -> &str {
        params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .or_else(|| {
                info.params
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.default)
            })
            .unwrap_or("")
    };
    let bad = |name: &str| RunError::BadParam {
        name: name.to_owned(),
    };
    for p in info.params {
        if p.kind == ParamKind::Text && value(p.name).len() > MAX_TEXT {
            return Err(bad(p.name));
        }
    }
    match info.protocol {
        "hybrid" => {
            let tamper = if info.params.iter().any(|p| p.name == "flip") {
                Some(parse_tamper(value("flip")).ok_or_else(|| bad("flip"))?)
            } else {
                None
            };
            let p = hybrid::Params {
                text: value("text").to_owned(),
                reply: value("reply").to_owned(),
                tamper,
            };
            Ok(hybrid::run(id, &p, seed))
        }
        _ => Err(RunError::UnknownScenario(id.to_owned())),
    }
}
