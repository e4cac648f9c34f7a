//! TLS scenarios: ids, layers, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

pub(crate) const SNI: ParamSpec = ParamSpec {
    name: "sni",
    kind: ParamKind::Text,
    default: "www.example.com",
};
pub(crate) const SUITE: ParamSpec = ParamSpec {
    name: "suite",
    kind: ParamKind::Choice(&[
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    ]),
    default: "TLS_AES_128_GCM_SHA256",
};
pub(crate) const GROUP: ParamSpec = ParamSpec {
    name: "group",
    kind: ParamKind::Choice(&["x25519", "secp256r1"]),
    default: "x25519",
};
pub(crate) const FLIP: ParamSpec = ParamSpec {
    name: "flip",
    kind: ParamKind::Tamper,
    default: "8:20",
};
pub(crate) const UNKNOWN_SNI: ParamSpec = ParamSpec {
    name: "sni",
    kind: ParamKind::Text,
    default: "mail.example.com",
};

pub(crate) const VHOSTS: ParamSpec = ParamSpec {
    name: "vhosts",
    kind: ParamKind::Text,
    default: "www.example.com,shop.example.com",
};
pub(crate) const SERVER_KEY: ParamSpec = ParamSpec {
    name: "server_key",
    kind: ParamKind::Choice(&["ed25519", "ecdsa-p256"]),
    default: "ed25519",
};
pub(crate) const CLIENT_CERT: ParamSpec = ParamSpec {
    name: "client_cert",
    kind: ParamKind::Choice(&[
        "alice",
        "alice-ecdsa",
        "alice-expired",
        "alice-wrong-eku",
        "alice-untrusted",
        "alice-stolen",
        "none",
    ]),
    default: "alice",
};

pub(crate) const STD: &[ParamSpec] = &[SNI, SUITE, GROUP, FLIP_ANY];

pub(crate) const HOST: ParamSpec = ParamSpec {
    name: "host",
    kind: ParamKind::Text,
    default: "www.example.com",
};
pub(crate) const VISIT: ParamSpec = ParamSpec {
    name: "visit",
    kind: ParamKind::Text,
    default: "www.example.com",
};

pub(crate) const ISSUER: ParamSpec = ParamSpec {
    name: "issuer",
    kind: ParamKind::Choice(&["intermediate", "self"]),
    default: "intermediate",
};

/// The story of where a certificate comes from (not a handshake).
pub(crate) const ISSUANCE: &str = "tls-certificate";

const fn info(id: &'static str, params: &'static [ParamSpec]) -> ScenarioInfo {
    ScenarioInfo {
        id,
        protocol: "tls",
        layer: Layer::Transport,
        params,
    }
}

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[
    info(ISSUANCE, &[HOST, VISIT, SERVER_KEY, ISSUER]),
    info("tls13", &[SNI, VHOSTS, SERVER_KEY, SUITE, GROUP, FLIP_ANY]),
    info("tls-sni-default", &[SNI, VHOSTS, SUITE, GROUP, FLIP_ANY]),
    info(
        "tls-sni-unknown",
        &[UNKNOWN_SNI, VHOSTS, SUITE, GROUP, FLIP_ANY],
    ),
    info("tls-hrr", &[SNI, SUITE, FLIP_ANY]),
    info(
        "mtls",
        &[SNI, CLIENT_CERT, SERVER_KEY, SUITE, GROUP, FLIP_ANY],
    ),
    info("mtls-no-cert", STD),
    info("mtls-untrusted", STD),
    info("mtls-expired", STD),
    info("mtls-wrong-eku", STD),
    info("mtls-bad-cv", STD),
    info("tls-self-signed", STD),
    info("tls-wrong-host", &[UNKNOWN_SNI, SUITE, GROUP, FLIP_ANY]),
    info("tls-expired-server", STD),
    info("tls-tamper", &[SNI, SERVER_KEY, SUITE, GROUP, FLIP]),
];
