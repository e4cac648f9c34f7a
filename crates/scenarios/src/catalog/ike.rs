//! IKEv2 scenarios: ids, layers, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

pub(crate) const ENCR: ParamSpec = ParamSpec {
    name: "ike_encr",
    kind: ParamKind::Choice(&["aes256gcm", "aes128gcm", "chacha20poly1305"]),
    default: "aes256gcm",
};
pub(crate) const GROUP: ParamSpec = ParamSpec {
    name: "ike_group",
    kind: ParamKind::Choice(&["curve25519", "ecp256"]),
    default: "curve25519",
};
pub(crate) const AUTH: ParamSpec = ParamSpec {
    name: "ike_auth",
    kind: ParamKind::Choice(&["psk", "cert"]),
    default: "psk",
};
pub(crate) const GATEWAY_NAT: ParamSpec = ParamSpec {
    name: "gateway_nat",
    kind: ParamKind::Choice(&["off", "on"]),
    default: "off",
};
/// The tamper story's flip: a ciphertext byte of IKE_AUTH (message 2).
pub(crate) const FLIP: ParamSpec = ParamSpec {
    name: "flip",
    kind: ParamKind::Tamper,
    default: "2:80",
};

const fn scenario(id: &'static str, params: &'static [ParamSpec]) -> ScenarioInfo {
    ScenarioInfo {
        id,
        protocol: "ike",
        layer: Layer::Network,
        params,
    }
}

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[
    scenario(
        "ikev2-remote-access",
        &[ENCR, GROUP, AUTH, GATEWAY_NAT, FLIP_ANY],
    ),
    scenario("ikev2-site-to-site", &[ENCR, GROUP, AUTH, FLIP_ANY]),
    scenario("ikev2-no-proposal", &[FLIP_ANY]),
    scenario("ikev2-invalid-ke", &[FLIP_ANY]),
    scenario("ikev2-auth-failed", &[ENCR, GROUP, FLIP_ANY]),
    scenario("ikev2-tamper", &[FLIP]),
    scenario("ikev2-cert-untrusted", &[ENCR, GROUP, FLIP_ANY]),
];
