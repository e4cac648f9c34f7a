//! S/MIME scenarios: ids, layers, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

pub(crate) const SIGNER: ParamSpec = ParamSpec {
    name: "signer",
    kind: ParamKind::Choice(&["alice", "mallory"]),
    default: "alice",
};
pub(crate) const SUBJECT: ParamSpec = ParamSpec {
    name: "subject",
    kind: ParamKind::Text,
    default: "Lunch on Friday",
};
pub(crate) const BODY: ParamSpec = ParamSpec {
    name: "body",
    kind: ParamKind::Text,
    default: "Hi Bob,\nshall we have lunch on Friday at noon?\nAlice",
};

pub(crate) const CONTENT_CIPHER: ParamSpec = ParamSpec {
    name: "content_cipher",
    kind: ParamKind::Choice(&["aes256-cbc", "aes256-gcm"]),
    default: "aes256-cbc",
};
pub(crate) const BOB_CERT: ParamSpec = ParamSpec {
    name: "bob_cert",
    kind: ParamKind::Choice(&["issued", "missing", "wrong_eku", "lost_key"]),
    default: "issued",
};
pub(crate) const KEY_CHECK: ParamSpec = ParamSpec {
    name: "key_check",
    kind: ParamKind::Choice(&["certificate", "none"]),
    default: "certificate",
};
pub(crate) const ENC_SUBJECT: ParamSpec = ParamSpec {
    name: "subject",
    kind: ParamKind::Text,
    default: "Salary review",
};
pub(crate) const ENC_BODY: ParamSpec = ParamSpec {
    name: "body",
    kind: ParamKind::Text,
    default: "Hi Bob,\nthe new salary bands are attached to the HR system.\nAlice",
};

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        id: "smime-signed",
        protocol: "smime",
        layer: Layer::Application,
        params: &[SIGNER, SUBJECT, BODY, FLIP_ANY],
    },
    ScenarioInfo {
        id: "smime-encrypted",
        protocol: "smime",
        layer: Layer::Application,
        params: &[CONTENT_CIPHER, BOB_CERT, ENC_SUBJECT, ENC_BODY, FLIP_ANY],
    },
    ScenarioInfo {
        id: "smime-signed-encrypted",
        protocol: "smime",
        layer: Layer::Application,
        params: &[CONTENT_CIPHER, ENC_SUBJECT, ENC_BODY, FLIP_ANY],
    },
    ScenarioInfo {
        id: "smime-key-spoofing",
        protocol: "smime",
        layer: Layer::Application,
        params: &[KEY_CHECK, ENC_SUBJECT, ENC_BODY],
    },
];
