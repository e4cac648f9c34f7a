//! The TLS VPN scenario: id, layer, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

pub(crate) const CERT: ParamSpec = ParamSpec {
    name: "vpn_cert",
    kind: ParamKind::Choice(&["issued", "none", "untrusted"]),
    default: "issued",
};
pub(crate) const TARGET: ParamSpec = ParamSpec {
    name: "target",
    kind: ParamKind::Text,
    default: "10.0.0.5",
};
pub(crate) const PATH: ParamSpec = ParamSpec {
    name: "path",
    kind: ParamKind::Text,
    default: "/payroll",
};

pub(crate) const FORWARDING: ParamSpec = ParamSpec {
    name: "forwarding",
    kind: ParamKind::Choice(&["nat", "routed"]),
    default: "nat",
};

pub(crate) const CONTROL_PROTECTION: ParamSpec = ParamSpec {
    name: "control_protection",
    kind: ParamKind::Choice(&["none", "tls-auth", "tls-crypt"]),
    default: "none",
};

pub(crate) const CERT_FAILURE: ParamSpec = ParamSpec {
    name: "vpn_cert_failure",
    kind: ParamKind::Choice(&["none", "no_certificate", "another_ca", "expired", "revoked"]),
    default: "none",
};

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        id: "vpn-tls",
        protocol: "vpn",
        layer: Layer::Network,
        params: &[CERT, TARGET, PATH, FLIP_ANY],
    },
    ScenarioInfo {
        id: "vpn-openvpn",
        protocol: "vpn",
        layer: Layer::Network,
        params: &[FORWARDING, CONTROL_PROTECTION, CERT, TARGET, PATH, FLIP_ANY],
    },
    ScenarioInfo {
        id: "vpn-client-certificate",
        protocol: "vpn",
        layer: Layer::Network,
        params: &[CERT_FAILURE, FLIP_ANY],
    },
    ScenarioInfo {
        id: "vpn-cloud",
        protocol: "vpn",
        layer: Layer::Network,
        params: &[FLIP_ANY],
    },
];
