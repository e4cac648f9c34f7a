//! Remote desktop (RDP): ids, layers, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

/// What the desktop accepts: TLS alone, or only NLA (CredSSP), which the
/// laptop's client does not offer.
pub(crate) const DESKTOP_SECURITY: ParamSpec = ParamSpec {
    name: "desktop_security",
    kind: ParamKind::Choice(&["tls", "nla"]),
    default: "tls",
};
/// The desktop's certificate: issued by the office CA, or signed by itself.
pub(crate) const DESKTOP_CERT: ParamSpec = ParamSpec {
    name: "desktop_cert",
    kind: ParamKind::Choice(&["issued", "self-signed"]),
    default: "issued",
};

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[ScenarioInfo {
    id: "rdp-direct",
    protocol: "rdp",
    layer: Layer::Application,
    params: &[DESKTOP_SECURITY, DESKTOP_CERT, FLIP_ANY],
}];
