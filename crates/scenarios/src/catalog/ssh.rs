//! SSH scenarios: ids, layers, parameters.
//!
//! Metadata only: no protocol core is linked here, so the app can list and
//! describe every scenario without the code that runs it.

use cipherstage_transcript::Layer;

#[allow(unused_imports)]
use crate::{ParamKind, ParamSpec, ScenarioInfo, FLIP_ANY};

/// Cipher options, as shown in URLs (`param.cipher.<option>`).
pub(crate) const CIPHERS: &[&str] = &["chacha20-poly1305", "aes256-gcm"];

pub(crate) const CIPHER: ParamSpec = ParamSpec {
    name: "cipher",
    kind: ParamKind::Choice(CIPHERS),
    default: "chacha20-poly1305",
};
pub(crate) const USER: ParamSpec = ParamSpec {
    name: "user",
    kind: ParamKind::Text,
    default: "alice",
};
pub(crate) const COMMAND: ParamSpec = ParamSpec {
    name: "command",
    kind: ParamKind::Text,
    default: "echo hello",
};
pub(crate) const PASSWORD: ParamSpec = ParamSpec {
    name: "password",
    kind: ParamKind::Text,
    default: "correct horse battery staple",
};
pub(crate) const KEX: ParamSpec = ParamSpec {
    name: "kex",
    kind: ParamKind::Choice(&["curve25519-sha256", "ecdh-sha2-nistp256"]),
    default: "curve25519-sha256",
};
pub(crate) const HOST_KEY: ParamSpec = ParamSpec {
    name: "host_key",
    kind: ParamKind::Choice(&["ssh-ed25519", "ecdsa-sha2-nistp256"]),
    default: "ssh-ed25519",
};
/// Strict key exchange on or off: tshark 4.0 decrypts chacha20-poly1305 only without it.
pub(crate) const STRICT: ParamSpec = ParamSpec {
    name: "strict_kex",
    kind: ParamKind::Choice(&["on", "off"]),
    default: "on",
};
pub(crate) const FLIP: ParamSpec = ParamSpec {
    name: "flip",
    kind: ParamKind::Tamper,
    // Message 12 is the client's encrypted publickey query; byte 20 is inside its ciphertext.
    default: "12:20",
};

/// Where `ssh -L 8080:HOST:PORT` sends the forwarded connection (ssh-bastion).
pub(crate) const FORWARD_HOST: ParamSpec = ParamSpec {
    name: "forward_host",
    kind: ParamKind::Text,
    default: "10.0.0.5",
};
pub(crate) const FORWARD_PORT: ParamSpec = ParamSpec {
    name: "forward_port",
    kind: ParamKind::Number,
    default: "80",
};

/// ssh-bastion's second hop: `ssh -L` alone, or ProxyJump (`ssh -J`: SSH inside SSH).
pub(crate) const HOP: ParamSpec = ParamSpec {
    name: "hop",
    kind: ParamKind::Choice(&["direct", "proxyjump"]),
    default: "direct",
};
/// The container's address on Docker's bridge network (ssh-docker).
pub(crate) const CONTAINER_HOST: ParamSpec = ParamSpec {
    name: "forward_host",
    kind: ParamKind::Text,
    default: "172.17.0.2",
};
/// ssh-docker: through an SSH tunnel, or Docker's own published port (`-p 8080:80`).
pub(crate) const PUBLISH: ParamSpec = ParamSpec {
    name: "publish",
    kind: ParamKind::Choice(&["ssh-tunnel", "docker-p"]),
    default: "ssh-tunnel",
};

/// sftp-bulk's file size in MiB (1 to 1024).
pub(crate) const SIZE_MB: ParamSpec = ParamSpec {
    name: "size_mb",
    kind: ParamKind::Number,
    default: "100",
};

const fn info(id: &'static str, params: &'static [ParamSpec]) -> ScenarioInfo {
    ScenarioInfo {
        id,
        protocol: "ssh",
        layer: Layer::Application,
        params,
    }
}

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[
    info(
        "ssh-pubkey",
        &[CIPHER, KEX, HOST_KEY, USER, COMMAND, STRICT, FLIP_ANY],
    ),
    info("ssh-key-rejected", &[CIPHER, USER, FLIP_ANY]),
    info("ssh-password", &[CIPHER, USER, PASSWORD, COMMAND, FLIP_ANY]),
    info(
        "ssh-first-connect",
        &[CIPHER, HOST_KEY, USER, COMMAND, FLIP_ANY],
    ),
    info("ssh-hostkey-changed", &[CIPHER, HOST_KEY, USER, FLIP_ANY]),
    info("ssh-tamper", &[CIPHER, FLIP, USER, COMMAND]),
    info(
        "ssh-bad-signature",
        &[CIPHER, KEX, HOST_KEY, USER, FLIP_ANY],
    ),
    info(
        "ssh-bastion",
        &[CIPHER, USER, FORWARD_HOST, FORWARD_PORT, HOP, FLIP_ANY],
    ),
    info(
        "ssh-docker",
        &[
            CIPHER,
            USER,
            CONTAINER_HOST,
            FORWARD_PORT,
            PUBLISH,
            FLIP_ANY,
        ],
    ),
    info("ssh-rekey", &[CIPHER, USER, COMMAND, FLIP_ANY]),
    info("ssh-remote-forward", &[CIPHER, USER, FLIP_ANY]),
    info("sftp-upload", &[CIPHER, USER, FLIP_ANY]),
    info("sftp-download", &[CIPHER, USER, FLIP_ANY]),
    info("sftp-denied", &[CIPHER, USER, FLIP_ANY]),
    info("sftp-resume", &[CIPHER, USER, FLIP_ANY]),
    // No flip: a flipped byte ends the run, and 100 MB per flipped case would be
    // the corpus's longest run by far; sftp-upload shows the same packets tampered.
    info("sftp-bulk", &[CIPHER, USER, SIZE_MB]),
    info("scp-upload", &[CIPHER, USER, FLIP_ANY]),
    info("scp-download", &[CIPHER, USER, FLIP_ANY]),
];
