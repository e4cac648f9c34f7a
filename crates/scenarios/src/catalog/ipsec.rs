//! IPsec scenarios: ids, layers, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

pub(crate) const ALGORITHM: ParamSpec = ParamSpec {
    name: "esp_alg",
    kind: ParamKind::Choice(&["aes128gcm", "aes256gcm", "chacha20poly1305"]),
    default: "aes128gcm",
};
pub(crate) const MODE: ParamSpec = ParamSpec {
    name: "esp_mode",
    kind: ParamKind::Choice(&["transport", "tunnel"]),
    default: "transport",
};
pub(crate) const INNER: ParamSpec = ParamSpec {
    name: "inner_proto",
    kind: ParamKind::Choice(&["http", "ping"]),
    default: "http",
};
pub(crate) const PAYLOAD: ParamSpec = ParamSpec {
    name: "inner_payload",
    kind: ParamKind::Text,
    default: "GET /intranet/ HTTP/1.1",
};
pub(crate) const MTU: ParamSpec = ParamSpec {
    name: "mtu",
    kind: ParamKind::Number,
    default: "1500",
};
const fn addr(name: &'static str, default: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Text,
        default,
    }
}
pub(crate) const HOST_A: ParamSpec = addr("addr_a", "192.0.2.10");
pub(crate) const HOST_B: ParamSpec = addr("addr_b", "198.51.100.20");
pub(crate) const CLIENT_A: ParamSpec = addr("addr_a", "10.1.0.10");
pub(crate) const SERVER_B: ParamSpec = addr("addr_b", "10.2.0.20");
pub(crate) const HOME_A: ParamSpec = addr("addr_a", "192.168.1.10");
pub(crate) const FLIP: ParamSpec = ParamSpec {
    name: "flip",
    kind: ParamKind::Tamper,
    default: "0:60",
};
pub(crate) const NAT: ParamSpec = ParamSpec {
    name: "nat",
    kind: ParamKind::Choice(&["on", "off"]),
    default: "on",
};

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        id: "ipsec-transport",
        protocol: "ipsec",
        layer: Layer::Network,
        params: &[ALGORITHM, INNER, PAYLOAD, HOST_A, HOST_B, MTU, FLIP_ANY],
    },
    ScenarioInfo {
        id: "ipsec-tunnel",
        protocol: "ipsec",
        layer: Layer::Network,
        params: &[ALGORITHM, INNER, PAYLOAD, CLIENT_A, SERVER_B, MTU, FLIP_ANY],
    },
    ScenarioInfo {
        id: "ipsec-compare",
        protocol: "ipsec",
        layer: Layer::Network,
        params: &[ALGORITHM, INNER, PAYLOAD, HOST_A, HOST_B, MTU, FLIP_ANY],
    },
    ScenarioInfo {
        id: "ipsec-replay",
        protocol: "ipsec",
        layer: Layer::Network,
        params: &[
            MODE, ALGORITHM, INNER, PAYLOAD, HOST_A, HOST_B, MTU, FLIP_ANY,
        ],
    },
    ScenarioInfo {
        id: "ipsec-tamper",
        protocol: "ipsec",
        layer: Layer::Network,
        params: &[MODE, ALGORITHM, INNER, PAYLOAD, HOST_A, HOST_B, MTU, FLIP],
    },
    ScenarioInfo {
        id: "ipsec-ah",
        protocol: "ipsec",
        layer: Layer::Network,
        params: &[
            NAT, ALGORITHM, INNER, PAYLOAD, HOME_A, HOST_B, MTU, FLIP_ANY,
        ],
    },
    ScenarioInfo {
        id: "ipsec-nat",
        protocol: "ipsec",
        layer: Layer::Network,
        params: &[ALGORITHM, INNER, PAYLOAD, MTU, FLIP_ANY],
    },
];
