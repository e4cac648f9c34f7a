//! The version line and key decoders on any input: typed errors, never a panic.
#![no_main]
use cipherstage_ssh::keys::{base64_decode, KnownHost, PublicKey};
use cipherstage_ssh::wire::parse_version;
use cipherstage_ssh::keys::ECDSA_P256;
use cipherstage_ssh::scenario::{demo_host_key, demo_key};
use libfuzzer_sys::fuzz_target;

fn ed25519() -> Option<PublicKey> {
    demo_key("fuzz").map(|k| k.public())
}

fn ecdsa() -> Option<PublicKey> {
    demo_host_key(ECDSA_P256, "fuzz").map(|k| k.public())
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_version(data);
    if let Ok(k) = PublicKey::from_blob(data) {
        assert_eq!(k.blob(), data);
    }
    // Signature verification on any blob, under an Ed25519 and an ECDSA key.
    for key in [ed25519(), ecdsa()].into_iter().flatten() {
        let _ = key.verify(b"message", data);
    }
    let text = String::from_utf8_lossy(data);
    if let Ok((k, _)) = PublicKey::parse_openssh(&text) {
        let _ = k.fingerprint();
    }
    let _ = KnownHost::parse(&text);
    let _ = base64_decode(&text);
});
