//! Published known answers for the primitives of S/MIME encryption: the RFC 3394 §4.6
//! key wrap (256-bit KEK, 256-bit key), NIST CAVP's ANSI X9.63 KDF with SHA-256, NIST
//! SP 800-38A F.2.5 (CBC-AES256) and the GCM specification's AES-256 test cases 13 and
//! 14. The files are in `testdata/`, with their sources.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_smime::crypto::{
    cbc_decrypt, cbc_encrypt, gcm_open, gcm_seal, unwrap, wrap, x963_kdf, CryptoError, KdfHash,
};

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

#[test]
fn sp800_38a_cbc_aes256_blocks_then_one_block_of_pkcs7_padding() {
    let r = &records(include_str!("../testdata/sp800-38a-f2.5-cbc-aes256.txt"))[0];
    let key: [u8; 32] = field(r, "Key").try_into().unwrap();
    let iv: [u8; 16] = field(r, "IV").try_into().unwrap();
    let (pt, ct) = (field(r, "Plaintext"), field(r, "Ciphertext"));
    let out = cbc_encrypt(&key, &iv, &pt);
    // Whole blocks in, so RFC 5652 §6.3 padding adds a block of sixteen 0x10 bytes.
    assert_eq!(out.len(), ct.len() + 16);
    assert_eq!(&out[..ct.len()], ct.as_slice());
    assert_eq!(cbc_decrypt(&key, &iv, &out).unwrap(), pt);
}

#[test]
fn gcm_spec_aes256_test_cases_13_and_14() {
    for r in &records(include_str!("../testdata/gcm-spec-aes256.txt")) {
        let key: [u8; 32] = field(r, "Key").try_into().unwrap();
        let iv: [u8; 12] = field(r, "IV").try_into().unwrap();
        let (pt, ct, tag) = (
            field(r, "Plaintext"),
            field(r, "Ciphertext"),
            field(r, "Tag"),
        );
        let (c, t) = gcm_seal(&key, &iv, &[], &pt).unwrap();
        assert_eq!((c.clone(), t.clone()), (ct, tag));
        assert_eq!(gcm_open(&key, &iv, &[], &c, &t).unwrap(), pt);
        let mut bad = t.clone();
        bad[15] ^= 1;
        assert_eq!(gcm_open(&key, &iv, &[], &c, &bad), Err(CryptoError::Tag));
    }
}
