//! Hybrid-encryption scenarios.

use cipherstage_hybrid::Params;
use cipherstage_transcript::{Layer, Transcript};

use crate::{ParamKind, ParamSpec, RunError, ScenarioInfo, Values, FLIP_ANY};

const TEXT: ParamSpec = ParamSpec {
    name: "text",
    kind: ParamKind::Text,
    default: "GET /grades HTTP/1.1",
};
const REPLY: ParamSpec = ParamSpec {
    name: "reply",
    kind: ParamKind::Text,
    default: "200 OK: A+",
};
const FLIP: ParamSpec = ParamSpec {
    name: "flip",
    kind: ParamKind::Tamper,
    default: "2:15",
};

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        id: "hybrid",
        protocol: "hybrid",
        layer: Layer::Application,
        params: &[TEXT, REPLY, FLIP_ANY],
    },
    ScenarioInfo {
        id: "hybrid-tamper",
        protocol: "hybrid",
        layer: Layer::Application,
        params: &[TEXT, REPLY, FLIP],
    },
];

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    let tamper = crate::tamper_param(info, v)?;
    let p = Params {
        text: v.text("text")?,
        reply: v.text("reply")?,
        tamper,
    };
    Ok(cipherstage_hybrid::run(info.id, &p, seed))
}
