//! Hybrid-encryption scenarios: ids, layers, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

pub(crate) const TEXT: ParamSpec = ParamSpec {
    name: "text",
    kind: ParamKind::Text,
    default: "GET /grades HTTP/1.1",
};
pub(crate) const REPLY: ParamSpec = ParamSpec {
    name: "reply",
    kind: ParamKind::Text,
    default: "200 OK: A+",
};
pub(crate) const FLIP: ParamSpec = ParamSpec {
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
