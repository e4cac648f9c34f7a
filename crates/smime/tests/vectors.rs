//! Published known answers for the primitives of S/MIME encryption: the RFC 3394 §4.6
//! key wrap (256-bit KEK, 256-bit key) and NIST CAVP's ANSI X9.63 KDF with SHA-256.
//! The files are in `testdata/`, with their sources.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_smime::crypto::{unwrap, wrap, x963_kdf, CryptoError, KdfHash};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The `name = value` records of a test-vector file, blank lines between records.
fn records(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = vec![Vec::new()];
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            out.push(Vec::new());
            continue;
        }
        let (k, v) = line.split_once('=').unwrap();
        out.last_mut()
            .unwrap()
            .push((k.trim().to_owned(), v.trim().to_owned()));
    }
    out.retain(|r| !r.is_empty());
    out
}

fn field(r: &[(String, String)], name: &str) -> Vec<u8> {
    hex(&r.iter().find(|(k, _)| k == name).unwrap().1)
}

#[test]
fn rfc3394_section_4_6_wraps_and_unwraps_byte_exact() {
    let r = &records(include_str!("../testdata/rfc3394-4.6.txt"))[0];
    let kek: [u8; 32] = field(r, "KEK").try_into().unwrap();
    let key: [u8; 32] = field(r, "KeyData").try_into().unwrap();
    let ct = field(r, "Ciphertext");
    assert_eq!(wrap(&kek, &key).unwrap().to_vec(), ct);
    assert_eq!(unwrap(&kek, &ct).unwrap(), key);
    // Any changed bit fails the integrity check of §2.2.3; a wrong length is refused.
    for i in 0..ct.len() {
        let mut bad = ct.clone();
        bad[i] ^= 0x80;
        assert_eq!(unwrap(&kek, &bad), Err(CryptoError::UnwrapIntegrity), "{i}");
    }
    assert_eq!(unwrap(&kek, &ct[..32]), Err(CryptoError::WrapLength));
    assert_eq!(unwrap(&kek[..16], &ct), Err(CryptoError::WrapLength));
}

#[test]
fn nist_cavp_x963_kdf_sha256_vectors() {
    let recs = records(include_str!("../testdata/x963-sha256-cavp.txt"));
    assert_eq!(recs.len(), 2);
    for r in &recs {
        let want = field(r, "key_data");
        let got = x963_kdf(
            KdfHash::Sha256,
            &field(r, "Z"),
            &field(r, "SharedInfo"),
            want.len(),
        );
        assert_eq!(got, want);
    }
}
