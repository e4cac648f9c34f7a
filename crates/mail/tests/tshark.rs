//! Wireshark reads our captures: tshark 4.0 decrypts the TLS with the exported key
//! log, and its SMTP and IMF dissectors read every command, every reply and the
//! mail inside (AUTH PLAIN decoded with `smtp.decryption`). Without TLS (STARTTLS
//! stripped) they read it all without a key. A missing tshark fails the test.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cipherstage_mail::scenario::{run, Params, Port, Story, ALICE_PASSWORD, ALICE_USER};

const TSHARK: &str = "/usr/bin/tshark";

fn scratch(tag: &str) -> PathBuf {
    assert!(
        Path::new(TSHARK).exists(),
        "{TSHARK} is required (apt-get install tshark)"
    );
    let dir = std::env::temp_dir().join(format!(
        "cipherstage-mail-tshark-{tag}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One line per packet: the `fields`, each occurrence joined by `|`.
fn fields(capture: &Path, keylog: Option<&Path>, fields: &[&str]) -> Vec<String> {
    let mut cmd = Command::new(TSHARK);
    cmd.arg("-r")
        .arg(capture)
        .args(["-o", "smtp.decryption:TRUE"]);
    if let Some(k) = keylog {
        cmd.arg("-o")
            .arg(format!("tls.keylog_file:{}", k.display()));
    }
    cmd.args(["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn column(lines: &[String], i: usize) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.split('\t').nth(i))
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// tshark's expert rows at warning level or worse.
fn warnings(capture: &Path, keylog: Option<&Path>) -> String {
    let mut cmd = Command::new(TSHARK);
    cmd.arg("-r")
        .arg(capture)
        .args(["-o", "smtp.decryption:TRUE"]);
    if let Some(k) = keylog {
        cmd.arg("-o")
            .arg(format!("tls.keylog_file:{}", k.display()));
    }
    let out = cmd.args(["-q", "-z", "expert,warn"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_run(story: Story, p: &Params, tag: &str) -> (PathBuf, PathBuf, PathBuf) {
    let r = run("test", story, p, Some(1));
    let dir = scratch(tag);
    let cap = dir.join("capture.pcapng");
    let keys = dir.join("keylog.txt");
    std::fs::write(&cap, &r.pcapng).unwrap();
    std::fs::write(&keys, &r.keylog).unwrap();
    (dir, cap, keys)
}

const FIELDS: &[&str] = &[
    "smtp.req.command",
    "smtp.response.code",
    "smtp.auth.username",
    "smtp.auth.password",
    "imf.from",
    "imf.subject",
    "imf.content.type",
    "tls.record.content_type",
];

#[test]
fn tshark_decrypts_starttls_submission_and_reads_every_command_and_the_mail() {
    let (dir, cap, keys) = write_run(Story::Submission, &Params::default(), "587");
    let lines = fields(&cap, Some(&keys), FIELDS);
    // tshark 4.0's smtp.req.command holds a verb's first four letters ("STAR" for
    // STARTTLS); its command line has it whole.
    assert_eq!(
        column(&lines, 0),
        ["EHLO", "STAR", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"]
    );
    assert_eq!(
        column(&lines, 1),
        ["220", "250", "220", "250", "235", "250", "250", "354", "250", "221"]
    );
    assert_eq!(column(&lines, 2), [ALICE_USER]);
    assert_eq!(column(&lines, 3), [ALICE_PASSWORD]);
    assert_eq!(column(&lines, 4), ["alice@example.com"]);
    assert_eq!(column(&lines, 5), ["Salary review"]);
    assert!(column(&lines, 6)[0].starts_with("application/pkcs7-mime; smime-type=enveloped-data"));
    let w = warnings(&cap, Some(&keys));
    assert!(!w.contains("Warns") && !w.contains("Errors"), "{w}");
    // Without the key log only the clear part before STARTTLS is SMTP.
    let blind = fields(&cap, None, FIELDS);
    assert_eq!(column(&blind, 0), ["EHLO", "STAR"]);
    assert!(column(&blind, 5).is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tshark_decrypts_implicit_tls_on_465_and_sees_no_clear_smtp_without_keys() {
    let p = Params {
        port: Port::Implicit465,
        ..Params::default()
    };
    let (dir, cap, keys) = write_run(Story::Submission, &p, "465");
    let lines = fields(&cap, Some(&keys), FIELDS);
    assert_eq!(
        column(&lines, 0),
        ["EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"]
    );
    assert_eq!(column(&lines, 5), ["Salary review"]);
    let w = warnings(&cap, Some(&keys));
    assert!(!w.contains("Warns") && !w.contains("Errors"), "{w}");
    let blind = fields(&cap, None, FIELDS);
    assert!(column(&blind, 0).is_empty() && column(&blind, 1).is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tshark_reads_a_stripped_relay_without_any_key_but_not_the_smime_body() {
    let p = Params {
        strip_starttls: true,
        ..Params::default()
    };
    let (dir, cap, _) = write_run(Story::Relay, &p, "strip");
    let lines = fields(
        &cap,
        None,
        &[
            "smtp.req.command",
            "smtp.rsp.parameter",
            "imf.subject",
            "imf.content.type",
        ],
    );
    assert_eq!(column(&lines, 0), ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]);
    // What reached the relay: Eve's EHLO reply, without STARTTLS.
    let ehlo = column(&lines, 1)[1].clone();
    assert_eq!(
        ehlo,
        "mx.example.com|SIZE 1048576|8BITMIME|ENHANCEDSTATUSCODES"
    );
    assert_eq!(column(&lines, 2), ["Salary review"]);
    assert!(column(&lines, 3)[0].starts_with("application/pkcs7-mime"));
    let w = warnings(&cap, None);
    assert!(!w.contains("Warns") && !w.contains("Errors"), "{w}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tshark_decrypts_imaps_on_993_and_reads_the_commands_and_the_fetched_mail() {
    let (dir, cap, keys) = write_run(Story::ImapFetch, &Params::default(), "993");
    let f = [
        "imap.request.command",
        "imap.response.status",
        "imf.subject",
    ];
    let lines = fields(&cap, Some(&keys), &f);
    assert_eq!(column(&lines, 0), ["LOGIN", "SELECT", "FETCH", "LOGOUT"]);
    assert_eq!(column(&lines, 1), ["OK", "OK", "OK", "OK"]);
    assert_eq!(column(&lines, 2), ["Salary review"]);
    let w = warnings(&cap, Some(&keys));
    assert!(!w.contains("Warns") && !w.contains("Errors"), "{w}");
    // Without the key log: TLS records only.
    assert!(column(&fields(&cap, None, &f), 0).is_empty());
    let _ = std::fs::remove_dir_all(dir);
}
