//! The file transfer scenarios (SFTP over our SSH client and server): each story's
//! outcome, every byte explained (SFTP fields nested in the SSH packet), the same
//! seed giving the same bytes, and Eve's flip caught by the packet's tag.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_ssh::kex;
use cipherstage_ssh::scenario::narrations;
use cipherstage_ssh::transfer::{local_file, run_sftp, SftpStory, TransferParams, RESUME_AT};
use cipherstage_transcript::*;

fn run(story: SftpStory, cipher: &str, seed: u64) -> Transcript {
    let p = TransferParams {
        cipher: cipher.into(),
        ..TransferParams::default()
    };
    run_sftp("sftp-test", story, &p, Some(seed))
}

fn labels(t: &Transcript) -> Vec<&str> {
    t.messages().map(|m| m.label.as_str()).collect()
}

fn narr(t: &Transcript) -> Vec<(String, Vec<(String, String)>)> {
    narrations(t)
        .into_iter()
        .map(|n| (n.key.clone(), n.args.clone().into_iter().collect()))
        .collect()
}

fn has_field(fields: &[Field], name: &str) -> bool {
    fields
        .iter()
        .any(|f| f.name == name || has_field(&f.children, name))
}

#[test]
fn every_story_is_explained_deterministic_and_ends_cleanly() {
    for story in [
        SftpStory::Upload,
        SftpStory::Download,
        SftpStory::Denied,
        SftpStory::Resume,
    ] {
        for cipher in [kex::CHACHA, kex::AES256_GCM] {
            let t = run(story, cipher, 1);
            check_coverage(&t).unwrap();
            assert_eq!(t, run(story, cipher, 1));
            assert_ne!(t, run(story, cipher, 2));
            assert!(
                !t.events.iter().any(|e| matches!(e, Event::Alert(_))),
                "{story:?}: {:?}",
                narr(&t)
            );
            let l = labels(&t);
            assert!(
                l.contains(&"sftp.msg.init") && l.contains(&"sftp.msg.version"),
                "{l:?}"
            );
            assert_eq!(l.last(), Some(&"ssh.msg.channel_close"), "{l:?}");
            // SFTP fields sit inside CHANNEL_DATA inside the encrypted region.
            let init = t.messages().find(|m| m.label == "sftp.msg.init").unwrap();
            assert!(!has_field(&init.fields, "sftp.field.request_id"));
            assert!(has_field(&init.fields, "sftp.field.version"));
            let region = init
                .fields
                .iter()
                .find(|f| f.name == "ssh.field.encrypted_region")
                .unwrap();
            assert_eq!(region.protection, Protection::Encrypted);
            assert!(has_field(&region.children, "sftp.field.packet_length"));
        }
    }
}

#[test]
fn upload_and_resume_leave_the_laptops_bytes_on_the_server() {
    let t = run(SftpStory::Upload, kex::CHACHA, 1);
    let checks: Vec<_> = t
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) if c.what == "sftp.check.file_identical" => Some(c.outcome.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(checks, [Outcome::Passed]);
    let writes = labels(&t)
        .iter()
        .filter(|l| **l == "sftp.msg.write")
        .count();
    assert_eq!(writes, local_file().len().div_ceil(256));
    assert!(writes >= 3);
    let n = narr(&t);
    assert!(n.iter().any(|(k, a)| k == "sftp.narr.uploaded"
        && a.contains(&("bytes".into(), local_file().len().to_string()))));
    assert!(n
        .iter()
        .any(|(k, a)| k == "sftp.narr.listed"
            && a.contains(&("names".into(), "report-q3.txt".into()))));

    let t = run(SftpStory::Resume, kex::CHACHA, 1);
    let n = narr(&t);
    assert!(
        n.iter().any(|(k, a)| k == "sftp.narr.resumed"
            && a.contains(&("from".into(), RESUME_AT.to_string()))),
        "{n:?}"
    );
    let l = labels(&t);
    assert!(
        l.contains(&"sftp.msg.stat") && l.contains(&"sftp.msg.attrs"),
        "{l:?}"
    );
    // The first WRITE starts at the size the server reported.
    let w = t.messages().find(|m| m.label == "sftp.msg.write").unwrap();
    fn value_of(fields: &[Field], name: &str) -> Option<Value> {
        fields.iter().find_map(|f| {
            if f.name == name {
                f.value.clone()
            } else {
                value_of(&f.children, name)
            }
        })
    }
    assert_eq!(
        value_of(&w.fields, "sftp.field.offset"),
        Some(Value::Uint(RESUME_AT as u64))
    );
}

#[test]
fn denied_shows_each_exact_status() {
    let t = run(SftpStory::Denied, kex::AES256_GCM, 1);
    let keys: Vec<String> = narr(&t).into_iter().map(|(k, _)| k).collect();
    let want = [
        "sftp.narr.denied",
        "sftp.narr.denied",
        "sftp.narr.no_such_file",
    ];
    let got: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| want.contains(k))
        .collect();
    assert_eq!(got, want);
    let statuses: Vec<Value> = t
        .messages()
        .filter(|m| m.label == "sftp.msg.status")
        .filter_map(|m| {
            fn find(fields: &[Field]) -> Option<Value> {
                fields.iter().find_map(|f| {
                    if f.name == "sftp.field.status_code" {
                        f.value.clone()
                    } else {
                        find(&f.children)
                    }
                })
            }
            find(&m.fields)
        })
        .collect();
    assert!(statuses.contains(&Value::Key("sftp.status.permission_denied".into())));
    assert!(statuses.contains(&Value::Key("sftp.status.no_such_file".into())));
}

#[test]
fn a_flipped_byte_in_an_sftp_packet_fails_the_tag() {
    let base = run(SftpStory::Upload, kex::CHACHA, 1);
    let i = base
        .messages()
        .position(|m| m.label == "sftp.msg.write")
        .unwrap();
    let p = TamperAt {
        message: i,
        offset: 30,
    };
    let t = run_sftp(
        "sftp-test",
        SftpStory::Upload,
        &TransferParams {
            tamper: Some(p),
            ..TransferParams::default()
        },
        Some(1),
    );
    check_coverage(&t).unwrap();
    assert!(t
        .events
        .iter()
        .any(|e| matches!(e, Event::Alert(a) if a.key == "ssh.alert.mac_error")));
}

fn run_scp_story(
    story: cipherstage_ssh::transfer::ScpStory,
    cipher: &str,
    seed: u64,
) -> Transcript {
    let p = TransferParams {
        cipher: cipher.into(),
        ..TransferParams::default()
    };
    cipherstage_ssh::transfer::run_scp("scp-test", story, &p, Some(seed))
}

#[test]
fn scp_upload_and_download_run_the_classic_protocol() {
    use cipherstage_ssh::transfer::ScpStory;
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let t = run_scp_story(ScpStory::Upload, cipher, 1);
        check_coverage(&t).unwrap();
        assert_eq!(t, run_scp_story(ScpStory::Upload, cipher, 1));
        let l = labels(&t);
        let scp: Vec<&str> = l
            .iter()
            .copied()
            .filter(|l| l.starts_with("scp."))
            .collect();
        // The sink's \0, C line, \0, data + \0, \0.
        assert_eq!(
            scp,
            [
                "scp.msg.ok",
                "scp.msg.file_header",
                "scp.msg.ok",
                "scp.msg.file_data",
                "scp.msg.ok"
            ],
            "{l:?}"
        );
        assert!(l.contains(&"ssh.msg.channel_request_exec"));
        assert!(t.events.iter().any(|e| matches!(e, Event::Check(c)
            if c.what == "sftp.check.file_identical" && c.outcome == Outcome::Passed)));
        let header = t
            .messages()
            .find(|m| m.label == "scp.msg.file_header")
            .unwrap();
        assert!(has_field(&header.fields, "scp.field.size"));

        let t = run_scp_story(ScpStory::Download, cipher, 1);
        check_coverage(&t).unwrap();
        let n = narr(&t);
        assert!(n.iter().any(|(k, _)| k == "scp.narr.downloaded"), "{n:?}");
        assert!(!t.events.iter().any(|e| matches!(e, Event::Alert(_))));
    }
}

#[test]
fn the_rekey_story_shows_a_second_key_exchange_with_new_keys() {
    use cipherstage_ssh::scenario::{Params, ScenarioKind};
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let p = Params {
            kind: ScenarioKind::Rekey,
            cipher: cipher.into(),
            ..Params::default()
        };
        let t = cipherstage_ssh::run("ssh-rekey", &p, Some(1));
        check_coverage(&t).unwrap();
        assert_eq!(t, cipherstage_ssh::run("ssh-rekey", &p, Some(1)));
        let l = labels(&t);
        assert_eq!(
            l.iter().filter(|l| **l == "ssh.msg.kexinit").count(),
            4,
            "{l:?}"
        );
        assert_eq!(
            l.iter().filter(|l| **l == "ssh.msg.newkeys").count(),
            4,
            "{l:?}"
        );
        assert!(
            !t.events.iter().any(|e| matches!(e, Event::Alert(_))),
            "{:?}",
            narr(&t)
        );
        let n = narr(&t);
        assert!(n.iter().any(|(k, _)| k == "ssh.narr.rekey_start"));
        assert!(n.iter().any(|(k, _)| k == "ssh.narr.rekey_done"));
        assert!(
            n.iter()
                .any(|(k, a)| k == "ssh.narr.output"
                    && a.contains(&("output".into(), "hello\n".into()))),
            "{n:?}"
        );
        // Two sets of keys: the second key C differs from the first.
        let keys: Vec<&Vec<u8>> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Secret(s) if s.name == "ssh.secret.key_c2s" => Some(&s.bytes),
                _ => None,
            })
            .collect();
        assert_eq!(keys.len(), 2);
        assert_ne!(keys[0], keys[1]);
    }
}

#[test]
fn ssh_r_story_publishes_the_laptops_app_through_the_server() {
    use cipherstage_ssh::remote::{run as run_remote, RemoteParams};
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let p = RemoteParams {
            cipher: cipher.into(),
            user: "alice".into(),
            tamper: None,
        };
        let t = run_remote("ssh-remote-forward", &p, Some(1));
        check_coverage(&t).unwrap();
        assert_eq!(t, run_remote("ssh-remote-forward", &p, Some(1)));
        let l = labels(&t);
        for want in [
            "ssh.msg.global_request",
            "ssh.msg.request_success",
            "ssh.msg.channel_open_forwarded_tcpip",
            "ssh.msg.channel_open_confirmation",
            "ssh.msg.http_request",
            "ssh.msg.http_response",
        ] {
            assert!(l.contains(&want), "{want} missing: {l:?}");
        }
        assert!(
            !t.events.iter().any(|e| matches!(e, Event::Alert(_))),
            "{:?}",
            narr(&t)
        );
        let n = narr(&t);
        assert!(
            n.iter().any(|(k, a)| k == "ssh.narr.remote.done"
                && a.contains(&("status".into(), "HTTP/1.1 200 OK".into()))),
            "{n:?}"
        );
        // The visitor's HTTP goes on its own link, in the clear; the SSH link carries it encrypted.
        let http: Vec<_> = t.messages().filter(|m| m.protocol == "http").collect();
        assert_eq!(http.len(), 2);
        assert!(http.iter().all(|m| m.link == 1));
    }
    // Eve's flip on the SSH link is caught by the packet's tag.
    let t = run_remote(
        "ssh-remote-forward",
        &RemoteParams {
            cipher: kex::CHACHA.into(),
            user: "alice".into(),
            tamper: Some(TamperAt {
                message: 18,
                offset: 20,
            }),
        },
        Some(1),
    );
    check_coverage(&t).unwrap();
    assert!(
        t.events.iter().any(|e| matches!(e, Event::Alert(_))),
        "{:?}",
        labels(&t)
    );
}
