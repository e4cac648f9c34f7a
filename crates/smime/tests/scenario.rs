//! The S/MIME story: fully explained, deterministic, and the three outcomes.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_smime::scenario::{describe, run, Params, Signer};
use cipherstage_transcript::{check_coverage, Event, FailReason, Outcome, TamperAt, Transcript};

fn checks(t: &Transcript) -> Vec<(String, Outcome)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) => Some((c.what.clone(), c.outcome.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn alice_is_verified_and_the_run_is_deterministic_and_explained() {
    let t = run("smime-signed", &Params::default(), Some(1));
    check_coverage(&t).unwrap();
    assert_eq!(t, run("smime-signed", &Params::default(), Some(1)));
    assert_ne!(t, run("smime-signed", &Params::default(), Some(2)));
    let c = checks(&t);
    assert_eq!(c.len(), 6);
    assert!(c.iter().all(|(_, o)| *o == Outcome::Passed), "{c:?}");
    let m: Vec<_> = t.messages().collect();
    assert_eq!(m.len(), 2);
    // The signature is shown as ECDSA r and s.
    fn names(f: &[cipherstage_transcript::Field], out: &mut Vec<String>) {
        for x in f {
            out.push(x.name.clone());
            names(&x.children, out);
        }
    }
    let mut n = Vec::new();
    names(&m[0].fields, &mut n);
    for want in [
        "smime.field.signature",
        "pki.field.ecdsa_signature",
        "pki.field.ecdsa_r",
        "pki.field.ecdsa_s",
    ] {
        assert!(n.iter().any(|x| x == want), "{want} missing");
    }
    // The relay only adds a line on top.
    assert!(m[1].bytes.starts_with(b"Received: "));
    assert!(m[1].bytes.ends_with(&m[0].bytes));
}

#[test]
fn mallory_is_refused_as_untrusted() {
    let p = Params {
        signer: Signer::Mallory,
        ..Params::default()
    };
    let t = run("smime-signed", &p, Some(1));
    check_coverage(&t).unwrap();
    let c = checks(&t);
    assert_eq!(
        c.last().unwrap(),
        &(
            "smime.check.chain".to_owned(),
            Outcome::Failed(FailReason::Untrusted)
        )
    );
}

#[test]
fn a_flipped_body_byte_breaks_the_digest_and_every_flip_is_explained() {
    let base = run("smime-signed", &Params::default(), Some(1));
    let mail = base.messages().next().unwrap().bytes.clone();
    let at = mail.windows(5).position(|w| w == b"lunch").unwrap();
    let p = Params {
        tamper: Some(TamperAt {
            message: 0,
            offset: at,
        }),
        ..Params::default()
    };
    let t = run("smime-signed", &p, Some(1));
    assert_eq!(
        checks(&t).last().unwrap(),
        &(
            "smime.check.digest".to_owned(),
            Outcome::Failed(FailReason::BadSignature)
        )
    );
    // Every byte of the mail flipped in turn: described, checked, never a panic.
    for offset in (0..mail.len()).step_by(7) {
        let p = Params {
            tamper: Some(TamperAt { message: 0, offset }),
            ..Params::default()
        };
        let t = run("smime-signed", &p, Some(1));
        check_coverage(&t).unwrap_or_else(|e| panic!("{offset}: {e}"));
    }
    // Arbitrary bytes are described without gaps or panics too.
    for n in 0..200usize {
        let junk: Vec<u8> = (0..n).map(|i| (i * 131 % 251) as u8).collect();
        let _ = describe(&junk);
    }
}

#[test]
fn non_ascii_subject_and_body_verify() {
    let p = Params {
        subject: "金曜のランチ".into(),
        body: "Bob さん\n金曜の昼はいかが？".into(),
        ..Params::default()
    };
    let t = run("smime-signed", &p, Some(1));
    check_coverage(&t).unwrap();
    assert!(checks(&t).iter().all(|(_, o)| *o == Outcome::Passed));
}
