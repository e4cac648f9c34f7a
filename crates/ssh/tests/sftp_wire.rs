//! The SFTP codec, server and client on their own: every packet round-trips and
//! is explained to the byte (with text in both catalogues); hostile input (random
//! bytes, truncations, a 4 GB length, `..`, control characters, huge offsets)
//! gives a typed error or the protocol's STATUS, never a panic or an unbounded
//! allocation; our client and server agree on every job.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::collections::BTreeSet;

use cipherstage_ssh::sftp::wire::{
    kind, pflags, status, Attrs, Framer, HandleOp, Name, Packet, PathOp, MAX_PACKET,
};
use cipherstage_ssh::sftp::{Job, MemFs, Outcome, SftpClient, SftpServer};
use cipherstage_transcript::check_fields;
use cipherstage_transcript::rand::{RandomSource, Seeded};

fn attrs() -> Attrs {
    Attrs {
        size: Some(1234),
        uid_gid: Some((1000, 1000)),
        permissions: Some(0o100644),
        times: Some((1_764_633_600, 1_764_633_600)),
        extended: vec![("x@example.com".into(), vec![1, 2])],
    }
}

fn samples() -> Vec<Packet> {
    let h = vec![0, 0, 0, 1];
    let mut v = vec![
        Packet::Init {
            version: 3,
            extensions: vec![],
        },
        Packet::Version {
            version: 3,
            extensions: vec![("limits@openssh.com".into(), b"1".to_vec())],
        },
        Packet::Open {
            id: 1,
            path: "upload/a.txt".into(),
            pflags: pflags::WRITE | pflags::CREAT | pflags::TRUNC,
            attrs: Attrs {
                permissions: Some(0o644),
                ..Attrs::default()
            },
        },
        Packet::Read {
            id: 2,
            handle: h.clone(),
            offset: 1 << 33,
            len: 32768,
        },
        Packet::Write {
            id: 3,
            handle: h.clone(),
            offset: 0,
            data: b"hello\n".to_vec(),
        },
        Packet::Write {
            id: 3,
            handle: h.clone(),
            offset: 7,
            data: vec![0xff, 0, 0x80],
        },
        Packet::Setstat {
            id: 4,
            path: "a".into(),
            attrs: attrs(),
        },
        Packet::Fsetstat {
            id: 5,
            handle: h.clone(),
            attrs: attrs(),
        },
        Packet::Mkdir {
            id: 6,
            path: "d".into(),
            attrs: Attrs::default(),
        },
        Packet::Rename {
            id: 7,
            from: "a".into(),
            to: "b".into(),
        },
        Packet::Symlink {
            id: 8,
            link: "l".into(),
            target: "t".into(),
        },
        Packet::Status {
            id: 9,
            code: status::PERMISSION_DENIED,
            message: "Permission denied".into(),
            language: String::new(),
        },
        Packet::HandleReply {
            id: 10,
            handle: h.clone(),
        },
        Packet::Data {
            id: 11,
            data: b"abc".to_vec(),
        },
        Packet::Name {
            id: 12,
            names: vec![Name {
                filename: "notes.txt".into(),
                longname: "-rw-r--r-- 1 alice alice 50 Dec  2  2025 notes.txt".into(),
                attrs: attrs(),
            }],
        },
        Packet::AttrsReply {
            id: 13,
            attrs: attrs(),
        },
        Packet::Extended {
            id: 14,
            request: "limits@openssh.com".into(),
            rest: vec![],
        },
        Packet::ExtendedReply {
            id: 15,
            rest: vec![0; 32],
        },
    ];
    for op in [
        PathOp::Lstat,
        PathOp::Opendir,
        PathOp::Remove,
        PathOp::Rmdir,
        PathOp::Realpath,
        PathOp::Stat,
        PathOp::Readlink,
    ] {
        v.push(Packet::Path {
            op,
            id: 20,
            path: "../x".into(),
        });
    }
    for op in [HandleOp::Close, HandleOp::Fstat, HandleOp::Readdir] {
        v.push(Packet::Handle {
            op,
            id: 21,
            handle: h.clone(),
        });
    }
    v
}

fn catalogue_keys(lang: &str) -> BTreeSet<String> {
    let dir = format!("{}/../app/i18n/{lang}", env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "txt") {
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                if let Some((k, _)) = line.split_once(" = ") {
                    out.insert(k.trim().to_owned());
                }
            }
        }
    }
    out
}

fn keys(fields: &[cipherstage_transcript::Field], out: &mut BTreeSet<String>) {
    for f in fields {
        out.insert(f.name.clone());
        out.insert(f.explain.clone());
        if let Some(cipherstage_transcript::Value::Key(k)) = &f.value {
            out.insert(k.clone());
        }
        keys(&f.children, out);
    }
}

#[test]
fn every_packet_round_trips_and_is_explained_in_both_languages() {
    let (en, ja) = (catalogue_keys("en"), catalogue_keys("ja"));
    let mut used = BTreeSet::new();
    for p in samples() {
        let (bytes, fields) = p.emit();
        check_fields(&fields, 0, bytes.len()).unwrap();
        let mut f = Framer::default();
        f.feed(&bytes);
        let body = f.next_body().unwrap().unwrap();
        assert_eq!(Packet::parse(&body).unwrap(), p);
        assert_eq!(f.pending(), 0);
        // Every truncation is a typed error or a shorter valid packet, never a panic.
        for cut in 0..body.len() {
            let _ = Packet::parse(&body[..cut]);
        }
        keys(&fields, &mut used);
        used.insert(p.label().to_owned());
    }
    for code in 0..=9 {
        used.insert(status::key(code).to_owned());
    }
    let missing: Vec<_> = used
        .iter()
        .filter(|k| !en.contains(*k) || !ja.contains(*k))
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn hostile_input_never_panics_and_never_allocates_from_a_length() {
    // A 4 GB length is refused before anything is buffered for it.
    let mut f = Framer::default();
    f.feed(&[0xff, 0xff, 0xff, 0xff, kind::WRITE]);
    assert!(f.next_body().is_err());
    let mut f = Framer::default();
    f.feed(&((MAX_PACKET as u32) + 1).to_be_bytes());
    assert!(f.next_body().is_err());
    // A server answers a 4 GB length by ending the session (an error), not by waiting.
    let mut fs = MemFs::demo("alice", 0);
    let mut s = SftpServer::new();
    assert!(s.receive(&mut fs, &[0xff, 0xff, 0xff, 0xff, 3]).is_err());
    // Random packets into the server and the client.
    let mut rng = Seeded::new(11);
    let mut s = SftpServer::new();
    for i in 0..20_000u32 {
        let mut body = vec![0u8; (i % 61) as usize + 1];
        rng.fill(&mut body).unwrap();
        body[0] = [
            1u8, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 101, 102, 103,
            104, 105, 200, 201, 99,
        ][(i % 27) as usize];
        let mut pkt = (body.len() as u32).to_be_bytes().to_vec();
        pkt.extend_from_slice(&body);
        let _ = Packet::parse(&body);
        let _ = s.receive(&mut fs, &pkt);
        let mut c = SftpClient::new(vec![Job::List { dir: ".".into() }], 4096);
        let _ = c.receive(&pkt);
    }
    // A malformed request with an id gets BAD_MESSAGE for that id.
    let mut s = SftpServer::new();
    let r = s
        .receive(&mut fs, &[0, 0, 0, 7, kind::OPEN, 0, 0, 0, 42, 0xff, 0xff])
        .unwrap();
    assert!(
        matches!(
            r[..],
            [Packet::Status {
                id: 42,
                code: status::BAD_MESSAGE,
                ..
            }]
        ),
        "{r:?}"
    );
}

/// Runs `jobs` with our client against our server on `fs`.
fn local(fs: &mut MemFs, jobs: Vec<Job>) -> Vec<Outcome> {
    let mut c = SftpClient::new(jobs, 1000);
    let mut s = SftpServer::new();
    let mut to_server = vec![c.start()];
    for _ in 0..10_000 {
        if to_server.is_empty() {
            break;
        }
        let mut bytes = Vec::new();
        for p in to_server.drain(..) {
            bytes.extend(p.emit().0);
        }
        let mut back = Vec::new();
        for r in s.receive(fs, &bytes).unwrap() {
            back.extend(r.emit().0);
        }
        to_server = c.receive(&back).unwrap();
    }
    assert!(c.done());
    c.outcomes().to_vec()
}

#[test]
fn our_client_and_server_upload_download_list_resume_and_refuse() {
    let mut fs = MemFs::demo("alice", 1_764_633_600);
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    fs.add_file("upload/part.bin", 0o644, data[..1234].to_vec());
    let o = local(
        &mut fs,
        vec![
            Job::Upload {
                remote: "upload/new.bin".into(),
                data: data.clone(),
                resume: false,
            },
            Job::Upload {
                remote: "upload/part.bin".into(),
                data: data.clone(),
                resume: true,
            },
            Job::Download {
                remote: "report.csv".into(),
                have: b"month,".to_vec(),
            },
            Job::List { dir: ".".into() },
            Job::Download {
                remote: "secret.txt".into(),
                have: Vec::new(),
            },
            Job::Upload {
                remote: "/etc/motd".into(),
                data: b"owned\n".to_vec(),
                resume: false,
            },
            Job::Upload {
                remote: "upload/bad\u{7}name".into(),
                data: b"x".to_vec(),
                resume: false,
            },
            Job::Download {
                remote: "../../../etc/shadow".into(),
                have: Vec::new(),
            },
        ],
    );
    assert_eq!(fs.file("upload/new.bin").unwrap(), data);
    assert_eq!(fs.file("upload/part.bin").unwrap(), data);
    assert!(
        matches!(
            &o[1],
            Outcome::Uploaded {
                from: 1234,
                written: 3766,
                ..
            }
        ),
        "{:?}",
        o[1]
    );
    assert!(
        matches!(&o[2], Outcome::Downloaded { data: d, from: 6, .. } if d == fs.file("report.csv").unwrap())
    );
    let Outcome::Listed { names, .. } = &o[3] else {
        panic!()
    };
    let n: Vec<&str> = names.iter().map(|n| n.filename.as_str()).collect();
    assert_eq!(n, ["notes.txt", "report.csv", "secret.txt", "upload"]);
    assert!(
        matches!(
            &o[4],
            Outcome::Failed {
                code: status::PERMISSION_DENIED,
                ..
            }
        ),
        "{:?}",
        o[4]
    );
    assert!(
        matches!(
            &o[5],
            Outcome::Failed {
                code: status::PERMISSION_DENIED,
                ..
            }
        ),
        "{:?}",
        o[5]
    );
    assert!(
        matches!(
            &o[6],
            Outcome::Failed {
                code: status::FAILURE,
                ..
            }
        ),
        "{:?}",
        o[6]
    );
    assert!(
        matches!(
            &o[7],
            Outcome::Failed {
                code: status::NO_SUCH_FILE,
                ..
            }
        ),
        "{:?}",
        o[7]
    );
    assert_eq!(
        fs.file("/etc/motd").unwrap(),
        b"Welcome to server.example.\n"
    );
}
