//! Pasted certificates and keys: every byte explained, facts right, errors typed.

use cipherstage_scenarios::{self as scenarios, inspect::inspect};
use cipherstage_transcript::check_fields;

fn covered(i: &scenarios::inspect::Inspected) {
    check_fields(&i.fields, 0, i.bytes.len()).unwrap();
}

fn export(id: &str, name: &str) -> String {
    let files = scenarios::exports(id, &[], Some(1)).unwrap();
    let f = files.iter().find(|f| f.name == name).unwrap();
    String::from_utf8(f.bytes.clone()).unwrap()
}

#[test]
fn a_pasted_certificate_is_explained_byte_by_byte() {
    let pem = export("mtls", "mtls-certificates.pem");
    let first = pem.split("# ").nth(2).unwrap(); // the intermediate CA
    let body = &first[first.find("-----BEGIN").unwrap()..];
    let i = inspect(body).unwrap();
    assert_eq!(i.kind, "inspect.kind.certificate");
    covered(&i);
    assert!(i
        .facts
        .iter()
        .any(|(k, v)| *k == "inspect.fact.not_after" && v.ends_with("UTC")));
}

#[test]
fn a_pasted_ssh_key_shows_the_fingerprint_ssh_keygen_prints() {
    let line = export("ssh-pubkey", "ssh-pubkey-id_ed25519.pub");
    let i = inspect(&format!("  {line}\n")).unwrap();
    covered(&i);
    let fp = &i
        .facts
        .iter()
        .find(|(k, _)| *k == "inspect.fact.fingerprint")
        .unwrap()
        .1;
    let path = std::env::temp_dir().join(format!("cs-fp-{}.pub", std::process::id()));
    std::fs::write(&path, &line).unwrap();
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&path)
        .output()
        .expect("ssh-keygen (openssh-client) must be installed");
    let _ = std::fs::remove_file(&path);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(fp.as_str()), "{printed} vs {fp}");
}

#[test]
fn bad_pastes_are_typed_errors_with_offsets_and_never_panic() {
    assert_eq!(inspect("").unwrap_err().key, "inspect.error.empty");
    assert_eq!(
        inspect("ssh-dss AAAA").unwrap_err().key,
        "inspect.error.unknown_key_type"
    );
    let e = inspect("ssh-ed25519 AAA$AAAA").unwrap_err();
    assert_eq!(e.key, "inspect.error.bad_base64");
    assert_eq!(e.offset, 15);
    let e = inspect("-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap_err();
    assert_eq!(e.key, "inspect.error.pem_no_end");
    let line = export("ssh-pubkey", "ssh-pubkey-id_ed25519.pub");
    let pem = export("mtls", "mtls-certificates.pem");
    let cert = &pem[pem.find("-----BEGIN").unwrap()..pem[1..].find("# ").unwrap() + 1];
    // Every truncation and every single-character change of real inputs: no panic.
    for base in [line.as_str(), cert] {
        for cut in 0..base.len() {
            if base.is_char_boundary(cut) {
                let _ = inspect(&base[..cut]);
            }
        }
        let bytes = base.as_bytes();
        for at in (0..bytes.len()).step_by(3) {
            let mut b = bytes.to_vec();
            b[at] = b'#';
            if let Ok(s) = String::from_utf8(b) {
                if let Ok(i) = inspect(&s) {
                    covered(&i);
                }
            }
        }
    }
}

#[test]
fn a_pasted_csr_is_explained_and_its_signature_checked() {
    let pem = export("tls-certificate", "tls-certificate-server-csr.pem");
    let i = inspect(&pem).unwrap();
    assert_eq!(i.kind, "inspect.kind.csr");
    covered(&i);
    assert!(i
        .facts
        .iter()
        .any(|(k, v)| *k == "inspect.fact.csr_signature" && v == "✓"));
    // A CSR whose signature was changed still shows, with the failed check.
    let der = {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut d = cipherstage_pki_decode(&b64);
        let last = d.len() - 1;
        d[last] ^= 1;
        d
    };
    let bad = cipherstage_pki::pem::encode("CERTIFICATE REQUEST", &der);
    let i = inspect(&bad).unwrap();
    covered(&i);
    assert!(i
        .facts
        .iter()
        .any(|(k, v)| *k == "inspect.fact.csr_signature" && v.starts_with('✗')));
}

fn cipherstage_pki_decode(b64: &str) -> Vec<u8> {
    let pem = format!("-----BEGIN X-----\n{b64}\n-----END X-----\n");
    cipherstage_pki::pem::decode(&pem).unwrap().1
}
