//! The encrypted S/MIME stories: fully explained, deterministic, Bob's checks in
//! order, the header readable to Eve, and what a flipped byte does under CBC and GCM.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_smime::envelope::Cipher;
use cipherstage_smime::scenario_encrypted::{describe, run, Params};
use cipherstage_transcript::{
    check_coverage, check_fields, Event, FailReason, Field, Outcome, Protection, TamperAt,
    Transcript,
};

fn checks(t: &Transcript) -> Vec<(String, Outcome)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) => Some((c.what.clone(), c.outcome.clone())),
            _ => None,
        })
        .collect()
}

fn narrations(t: &Transcript) -> Vec<String> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Narration(n) => Some(n.key.clone()),
            _ => None,
        })
        .collect()
}

fn params(cipher: Cipher, signed: bool) -> Params {
    Params {
        cipher,
        signed,
        ..Params::default()
    }
}

fn flat<'a>(f: &'a [Field], out: &mut Vec<&'a Field>) {
    for x in f {
        out.push(x);
        flat(&x.children, out);
    }
}

#[test]
fn bob_decrypts_each_cipher_and_both_layers_in_order() {
    for cipher in [Cipher::Aes256Cbc, Cipher::Aes256Gcm] {
        for signed in [false, true] {
            let p = params(cipher, signed);
            let t = run("smime-encrypted", &p, Some(1));
            check_coverage(&t).unwrap();
            assert_eq!(t, run("smime-encrypted", &p, Some(1)));
            assert_ne!(t, run("smime-encrypted", &p, Some(2)));
            let c = checks(&t);
            assert!(c.iter().all(|(_, o)| *o == Outcome::Passed), "{c:?}");
            let names: Vec<&str> = c.iter().map(|(n, _)| n.as_str()).collect();
            let last = match cipher {
                Cipher::Aes256Cbc => "smime.check.padding",
                Cipher::Aes256Gcm => "smime.check.gcm_tag",
            };
            let mut want = vec![
                "smime.check.recipient_cert",
                "smime.check.enc_mime",
                "smime.check.env_cms",
                "smime.check.recipient",
                "smime.check.originator_key",
                "smime.check.key_unwrap",
                last,
                "smime.check.inner_mime",
            ];
            if signed {
                want.extend([
                    "smime.check.mime",
                    "smime.check.cms",
                    "smime.check.digest",
                    "smime.check.signature",
                    "smime.check.chain",
                    "smime.check.sender",
                ]);
            }
            assert_eq!(names, want);
            // Alice and Bob derive the same KEK and CEK.
            let secret = |n: &str| {
                t.events
                    .iter()
                    .find_map(|e| match e {
                        Event::Secret(s) if s.name == n => Some(s.bytes.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| panic!("{n}"))
            };
            assert_eq!(secret("smime.secret.z_bob"), secret("smime.secret.bob_z"));
            assert_eq!(
                secret("smime.secret.kek_bob"),
                secret("smime.secret.bob_kek")
            );
            assert_eq!(secret("smime.secret.cek"), secret("smime.secret.bob_cek"));
            assert_ne!(
                secret("smime.secret.kek_bob"),
                secret("smime.secret.kek_alice")
            );
            // Two RecipientInfos (Bob and Alice herself), the header readable, the
            // content encrypted.
            let m = t.messages().next().unwrap();
            let mut all = Vec::new();
            flat(&m.fields, &mut all);
            assert_eq!(
                all.iter().filter(|f| f.name == "smime.field.kari").count(),
                2
            );
            for h in ["from", "to", "subject", "date"] {
                let f = all
                    .iter()
                    .find(|f| f.name == format!("smime.field.header_{h}"))
                    .unwrap();
                assert_eq!(f.protection, Protection::Plaintext);
                assert_eq!(f.explain, format!("smime.explain.enc_header_{h}"));
            }
            let ct = all
                .iter()
                .find(|f| f.name == "smime.field.ciphertext")
                .unwrap();
            assert_eq!(ct.protection, Protection::Encrypted);
            assert!(!String::from_utf8_lossy(&m.bytes).contains("salary bands"));
            assert!(narrations(&t).contains(&"smime.narr.enc_headers_visible".to_owned()));
        }
    }
}

/// The names of the fields that contain byte `at`, outermost first.
fn along(fields: &[Field], at: usize, out: &mut Vec<String>) {
    for f in fields {
        if f.start <= at && at < f.end {
            out.push(f.name.clone());
            along(&f.children, at, out);
        }
    }
}

fn flip(cipher: Cipher, signed: bool, at: usize) -> Transcript {
    let p = Params {
        tamper: Some(TamperAt {
            message: 0,
            offset: at,
        }),
        ..params(cipher, signed)
    };
    run("smime-encrypted", &p, Some(1))
}

#[test]
fn a_flipped_byte_is_noticed_under_gcm_and_may_garble_cbc_unnoticed() {
    for (cipher, signed) in [
        (Cipher::Aes256Cbc, false),
        (Cipher::Aes256Gcm, false),
        (Cipher::Aes256Cbc, true),
    ] {
        let base = run("smime-encrypted", &params(cipher, signed), Some(1));
        let mail = base.messages().next().unwrap().bytes.clone();
        let body = mail.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut garbled = 0;
        for offset in (0..mail.len()).step_by(3) {
            let t = flip(cipher, signed, offset);
            check_coverage(&t).unwrap_or_else(|e| panic!("{offset}: {e}"));
            let failed = checks(&t).iter().any(|(_, o)| *o != Outcome::Passed);
            let n = narrations(&t);
            let unnoticed = n.iter().any(|k| k.ends_with(".tamper_unnoticed"));
            assert!(failed || unnoticed, "{cipher:?} {offset}: {n:?}");
            if n.iter()
                .any(|k| k == "smime.narr.enc_outside.tamper_unnoticed")
            {
                // Unnoticed and unchanged: the outer header, or a RecipientInfo (Alice's
                // own, which Bob does not use) — nothing else of the CMS is unprotected.
                let mut path = Vec::new();
                along(&base.messages().next().unwrap().fields, offset, &mut path);
                assert!(
                    offset < body || path.iter().any(|f| f == "smime.field.kari"),
                    "{cipher:?} {offset}: {path:?}"
                );
            }
            if n.iter()
                .any(|k| k == "smime.narr.enc_content.tamper_unnoticed")
            {
                // Only CBC without a signature lets a change of the content through.
                assert!(cipher == Cipher::Aes256Cbc && !signed);
                assert!(offset >= body);
                garbled += 1;
            }
        }
        if cipher == Cipher::Aes256Cbc && !signed {
            assert!(garbled > 0, "no flip changed CBC content unnoticed");
        }
    }
    // The GCM tag's last base64 character: the tag check fails.
    let base = run(
        "smime-encrypted",
        &params(Cipher::Aes256Gcm, false),
        Some(1),
    );
    let mail = &base.messages().next().unwrap().bytes;
    let t = flip(Cipher::Aes256Gcm, false, mail.len() - 4);
    let c = checks(&t);
    assert_eq!(
        c.last().unwrap(),
        &(
            "smime.check.gcm_tag".to_owned(),
            Outcome::Failed(FailReason::TagMismatch)
        ),
        "{c:?}"
    );
    for n in 0..300usize {
        let junk: Vec<u8> = (0..n).map(|i| (i * 131 % 251) as u8).collect();
        check_fields(&describe(&junk), 0, junk.len()).unwrap();
    }
    // Every truncation of a real mail is described without gaps.
    for n in (0..mail.len()).step_by(3) {
        check_fields(&describe(&mail[..n]), 0, n).unwrap_or_else(|e| panic!("{n}: {e}"));
    }
}

#[test]
fn no_certificate_a_wrong_eku_and_a_lost_key_are_refused_with_their_reason() {
    use cipherstage_smime::scenario_encrypted::BobCert;
    for (bob, want, messages) in [
        (BobCert::Missing, "smime.check.recipient_cert", 0),
        (BobCert::WrongEku, "smime.check.recipient_cert", 0),
        (BobCert::LostKey, "smime.check.key_unwrap", 2),
    ] {
        for cipher in [Cipher::Aes256Cbc, Cipher::Aes256Gcm] {
            let p = Params {
                bob,
                ..params(cipher, false)
            };
            let t = run("smime-encrypted", &p, Some(1));
            check_coverage(&t).unwrap();
            assert_eq!(t.messages().count(), messages, "{bob:?}");
            let c = checks(&t);
            let reason = if bob == BobCert::LostKey {
                FailReason::TagMismatch
            } else {
                FailReason::Untrusted
            };
            assert_eq!(
                c.last().unwrap(),
                &(want.to_owned(), Outcome::Failed(reason)),
                "{bob:?}"
            );
            assert_eq!(
                c.iter().filter(|(_, o)| *o != Outcome::Passed).count(),
                1,
                "{bob:?}: {c:?}"
            );
            assert!(t.events.iter().any(|e| matches!(e, Event::Alert(_))));
        }
    }
}
