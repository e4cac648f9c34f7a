//! The stories run to their end, every byte explained, the same seed giving the
//! same bytes. Runs natively and in headless Chromium.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use cipherstage_mail::scenario::{run, Body, Params, Port, Story};
use cipherstage_transcript::{check_coverage, Event};

fn labels(t: &cipherstage_transcript::Transcript) -> Vec<String> {
    t.messages().map(|m| m.label.clone()).collect()
}

fn narrations(t: &cipherstage_transcript::Transcript) -> Vec<String> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Narration(n) => Some(n.key.clone()),
            _ => None,
        })
        .collect()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn submission_on_587_starts_tls_then_authenticates_and_delivers_the_smime_mail() {
    let p = Params::default();
    let r = run("smtp-submission", Story::Submission, &p, Some(1));
    check_coverage(&r.transcript).unwrap();
    let l = labels(&r.transcript);
    assert_eq!(
        &l[..4],
        [
            "smtp.msg.greeting",
            "smtp.msg.ehlo",
            "smtp.msg.ehlo_reply",
            "smtp.msg.starttls"
        ]
    );
    assert!(l.contains(&"tls.msg.client_hello".to_string()), "{l:?}");
    assert!(l.contains(&"smtp.msg.auth".to_string()), "{l:?}");
    assert!(l.contains(&"smtp.msg.content".to_string()), "{l:?}");
    let n = narrations(&r.transcript);
    assert!(
        n.contains(&"smtp.narr.server_accepted_tls".to_string()),
        "{n:?}"
    );
    assert!(
        n.contains(&"smtp.narr.submission_done".to_string()),
        "{n:?}"
    );
    let eml = r.eml.unwrap();
    assert!(eml.starts_with(b"From: alice@example.com\r\n"));
    assert!(!r.keylog.is_empty());
    // Same seed, same bytes.
    assert_eq!(
        run("smtp-submission", Story::Submission, &p, Some(1)).transcript,
        r.transcript
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn submission_on_465_sends_nothing_in_clear() {
    let p = Params {
        port: Port::Implicit465,
        ..Params::default()
    };
    let r = run("smtp-submission", Story::Submission, &p, Some(2));
    check_coverage(&r.transcript).unwrap();
    assert!(r.transcript.messages().all(|m| m.protocol == "tls"));
    assert!(r.eml.is_some(), "{:?}", narrations(&r.transcript));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn relay_with_starttls_stripped_sends_in_clear_and_eve_reads_headers_not_the_smime_body() {
    let p = Params {
        strip_starttls: true,
        ..Params::default()
    };
    let r = run("smtp-relay", Story::Relay, &p, Some(1));
    check_coverage(&r.transcript).unwrap();
    let n = narrations(&r.transcript);
    for k in [
        "smtp.narr.eve_strips_starttls",
        "smtp.narr.sending_in_clear",
        "smtp.narr.eve_reads_headers",
        "smtp.narr.eve_cannot_read_smime",
        "smtp.narr.mta_sts_would_refuse",
    ] {
        assert!(n.contains(&k.to_string()), "{k}: {n:?}");
    }
    assert!(r.transcript.messages().all(|m| m.protocol == "smtp"));
    assert!(r.keylog.is_empty());
    let plain = Params {
        strip_starttls: true,
        body: Body::Plain,
        ..Params::default()
    };
    let r = run("smtp-relay", Story::Relay, &plain, Some(1));
    assert!(narrations(&r.transcript).contains(&"smtp.narr.eve_reads_body".to_string()));
    let safe = run("smtp-relay", Story::Relay, &Params::default(), Some(1));
    check_coverage(&safe.transcript).unwrap();
    assert!(
        narrations(&safe.transcript).contains(&"smtp.narr.relay_done".to_string()),
        "{:?}",
        narrations(&safe.transcript)
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_flipped_byte_anywhere_never_panics_and_ends_the_run() {
    let base = run(
        "smtp-submission",
        Story::Submission,
        &Params::default(),
        Some(1),
    );
    let n = base.transcript.messages().count();
    for message in 0..n {
        for offset in [0usize, 5, 40] {
            let p = Params {
                tamper: Some(cipherstage_transcript::TamperAt { message, offset }),
                ..Params::default()
            };
            let r = run("smtp-submission", Story::Submission, &p, Some(1));
            check_coverage(&r.transcript).unwrap();
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn imap_fetch_logs_in_inside_tls_and_fetches_the_mail_byte_for_byte() {
    let r = run("imap-fetch", Story::ImapFetch, &Params::default(), Some(1));
    check_coverage(&r.transcript).unwrap();
    let l = labels(&r.transcript);
    assert_eq!(l[0], "tls.msg.client_hello");
    for want in [
        "imap.msg.greeting",
        "imap.msg.login",
        "imap.msg.select_reply",
        "imap.msg.fetch_reply",
        "imap.msg.logout_reply",
    ] {
        assert!(l.contains(&want.to_string()), "{want}: {l:?}");
    }
    assert!(r.transcript.messages().all(|m| m.protocol == "tls"));
    let n = narrations(&r.transcript);
    assert!(n.contains(&"imap.narr.fetched".to_string()), "{n:?}");
    let eml = r.eml.unwrap();
    assert!(eml.starts_with(b"Received: from relay.example.net"));
    assert_eq!(
        run("imap-fetch", Story::ImapFetch, &Params::default(), Some(1)).transcript,
        r.transcript
    );
    for message in 0..r.transcript.messages().count() {
        let p = Params {
            tamper: Some(cipherstage_transcript::TamperAt { message, offset: 7 }),
            ..Params::default()
        };
        check_coverage(&run("imap-fetch", Story::ImapFetch, &p, Some(1)).transcript).unwrap();
    }
}
