//! Mail across the network (SMTP): ids, layers, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

use super::smime::{ENC_BODY, ENC_SUBJECT};
#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

pub(crate) const PORT: ParamSpec = ParamSpec {
    name: "port",
    kind: ParamKind::Choice(&["starttls-587", "implicit-465"]),
    default: "starttls-587",
};
pub(crate) const STRIP_STARTTLS: ParamSpec = ParamSpec {
    name: "strip_starttls",
    kind: ParamKind::Choice(&["no", "yes"]),
    default: "no",
};
pub(crate) const MAIL_BODY: ParamSpec = ParamSpec {
    name: "mail_body",
    kind: ParamKind::Choice(&["smime", "plain"]),
    default: "smime",
};

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        id: "smtp-submission",
        protocol: "mail",
        layer: Layer::Application,
        params: &[PORT, ENC_SUBJECT, ENC_BODY, FLIP_ANY],
    },
    ScenarioInfo {
        id: "smtp-relay",
        protocol: "mail",
        layer: Layer::Application,
        params: &[STRIP_STARTTLS, MAIL_BODY, ENC_SUBJECT, ENC_BODY, FLIP_ANY],
    },
    ScenarioInfo {
        id: "imap-fetch",
        protocol: "mail",
        layer: Layer::Application,
        params: &[ENC_SUBJECT, ENC_BODY, FLIP_ANY],
    },
];
