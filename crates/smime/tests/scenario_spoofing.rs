//! The spoofing story: with certificate checking Alice's client refuses Mallory's key
//! and nothing is sent; without it Mallory reads the mail and Bob cannot.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_smime::scenario_spoofing::{run, Params};
use cipherstage_transcript::{check_coverage, Event, FailReason, Outcome};

#[test]
fn a_checked_certificate_stops_the_spoofed_key_and_an_unchecked_one_lets_mallory_read() {
    let t = run("smime-key-spoofing", &Params::default(), Some(1));
    check_coverage(&t).unwrap();
    assert_eq!(t, run("smime-key-spoofing", &Params::default(), Some(1)));
    // Only the directory's answer travels: the mail is never encrypted to Mallory.
    assert_eq!(t.messages().count(), 1);
    let checks: Vec<_> = t
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) => Some((c.what.as_str(), c.outcome.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        checks,
        vec![(
            "smime.check.recipient_cert",
            Outcome::Failed(FailReason::Untrusted)
        )]
    );
    let p = Params {
        check_certificate: false,
        ..Params::default()
    };
    let t = run("smime-key-spoofing", &p, Some(1));
    check_coverage(&t).unwrap();
    assert_eq!(t.messages().count(), 3);
    // Mallory unwraps the CEK Alice drew: the same bytes.
    let secret = |n: &str| {
        t.events.iter().find_map(|e| match e {
            Event::Secret(s) if s.name == n => Some(s.bytes.clone()),
            _ => None,
        })
    };
    assert_eq!(
        secret("smime.secret.mallory_cek").unwrap(),
        secret("smime.secret.cek").unwrap()
    );
    let last = t
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Check(c) => Some((c.what.clone(), c.outcome.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        last,
        (
            "smime.check.recipient".to_owned(),
            Outcome::Failed(FailReason::Malformed)
        )
    );
}
