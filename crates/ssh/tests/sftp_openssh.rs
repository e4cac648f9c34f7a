//! SFTP against real OpenSSH 9.2p1, both ways, files compared byte for byte:
//! the real `sftp` (and `scp`, which speaks SFTP by default since OpenSSH 9)
//! against our server through ProxyCommand — its in-memory file system written
//! out at the end (CS_SFTP_DUMP) — and our SFTP client against `sshd -i` with
//! `Subsystem sftp internal-sftp` and with `/usr/lib/openssh/sftp-server` on a
//! real directory. A missing binary fails; nothing is skipped.
// Real OpenSSH peers and Unix file permissions: native Unix only (the wasm32 run
// of the crate's tests has neither).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cipherstage_ssh::client::{Algorithms, Client, ClientConfig, Credential};
use cipherstage_ssh::keys::{KnownHost, ED25519};
use cipherstage_ssh::scenario::{demo_host_key, demo_key};
use cipherstage_ssh::sftp::wire::status;
use cipherstage_ssh::sftp::{Job, MemFs, Outcome, SftpClient};
use cipherstage_ssh::{kex, Outgoing};
use cipherstage_transcript::check_fields;
use cipherstage_transcript::rand::Seeded;

mod common;
use common::{require, temp_dir, write_private};

const SFTP: &str = "/usr/bin/sftp";
const SCP: &str = "/usr/bin/scp";
const SSHD: &str = "/usr/sbin/sshd";
const SFTP_SERVER: &str = "/usr/lib/openssh/sftp-server";

fn run(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("{cmd:?} did not finish in time");
        }
    }
}

/// Deterministic bytes that are not text (so they travel as opaque data).
fn blob(n: usize, salt: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_add(salt).wrapping_mul(2_654_435_761) >> 23) as u8)
        .collect()
}

/// The options that point a real OpenSSH client at our stdio server.
fn to_our_server(cmd: &mut Command, dir: &Path) {
    let host = demo_host_key(ED25519, "cipherstage demo host key")
        .unwrap()
        .public();
    let id = dir.join("id");
    write_private(
        &id,
        &demo_key("cipherstage demo user key")
            .unwrap()
            .to_openssh_private("alice"),
    );
    let kh = dir.join("known_hosts");
    std::fs::write(
        &kh,
        format!(
            "{}\n",
            KnownHost {
                hosts: vec!["server.example".into()],
                key: host
            }
            .to_line()
        ),
    )
    .unwrap();
    let server = env!("CARGO_BIN_EXE_cipherstage-ssh-stdio-server");
    cmd.args(["-F", "/dev/null"])
        .arg("-o")
        .arg(format!("ProxyCommand={server} {}", kex::AES256_GCM))
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args(["-o", "IdentitiesOnly=yes"])
        .arg("-i")
        .arg(&id)
        .env("CS_SFTP_DUMP", dir.join("remote"));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn openssh_sftp_lists_downloads_uploads_and_is_refused_by_our_server() {
    require(SFTP);
    let dir = temp_dir("sftp-real");
    let local = dir.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let upload = blob(200_000, 1);
    std::fs::write(local.join("upload.bin"), &upload).unwrap();
    let big = blob(150_000, 2);
    std::fs::write(local.join("big.bin"), &big).unwrap();
    std::fs::write(local.join("big-part.bin"), &big[..40_000]).unwrap();
    let demo = MemFs::demo("alice", 0);
    let report = demo.file("report.csv").unwrap().to_vec();
    std::fs::write(local.join("partial.csv"), &report[..20]).unwrap();
    let l = local.display();
    let batch = format!(
        "pwd\nls -l\nget notes.txt {l}/notes.txt\nput {l}/upload.bin upload/upload.bin\n\
         get upload/upload.bin {l}/back.bin\nmkdir newdir\n\
         rename upload/upload.bin newdir/moved.bin\nls -l newdir\n\
         reget report.csv {l}/partial.csv\nput {l}/big-part.bin upload/big.bin\n\
         reput {l}/big.bin upload/big.bin\n\
         -get secret.txt {l}/secret.txt\n-put {l}/big.bin /etc/motd\n-get no-such-file {l}/x\n\
         -mkdir /srv/nope\nrm notes.txt\nls\n"
    );
    std::fs::write(dir.join("batch"), batch).unwrap();
    let mut cmd = Command::new(SFTP);
    cmd.arg("-b").arg(dir.join("batch"));
    to_our_server(&mut cmd, &dir);
    cmd.arg("alice@server.example");
    let o = run(cmd, Duration::from_secs(60));
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    // pwd and the listing, as our server's longnames.
    assert!(
        out.contains("Remote working directory: /home/alice"),
        "{out}"
    );
    assert!(
        out.contains("-rw-r--r--    1 alice    alice          50 Dec  2  2025 notes.txt"),
        "{out}"
    );
    assert!(
        out.contains("drwxr-xr-x    1 alice    alice        4096 Dec  2  2025 upload"),
        "{out}"
    );
    assert!(out.contains("moved.bin"), "{out}");
    // Downloads equal the server's files; the upload came back identical.
    assert_eq!(
        std::fs::read(local.join("notes.txt")).unwrap(),
        demo.file("notes.txt").unwrap()
    );
    assert_eq!(std::fs::read(local.join("back.bin")).unwrap(), upload);
    assert_eq!(std::fs::read(local.join("partial.csv")).unwrap(), report);
    // The refusals, with the status messages our server sent.
    assert!(err.contains("Permission denied"), "{err}");
    assert!(
        err.contains("remote open \"/home/alice/secret.txt\": Permission denied"),
        "{err}"
    );
    assert!(
        err.contains("dest open \"/etc/motd\": Permission denied"),
        "{err}"
    );
    assert!(
        err.contains("remote mkdir \"/srv/nope\": Permission denied"),
        "{err}"
    );
    assert!(
        err.contains("\"/home/alice/no-such-file\" not found"),
        "{err}"
    );
    assert!(!local.join("secret.txt").exists());
    // What the server holds at the end, byte for byte.
    let remote = dir.join("remote");
    assert_eq!(
        std::fs::read(remote.join("home/alice/newdir/moved.bin")).unwrap(),
        upload
    );
    assert_eq!(
        std::fs::read(remote.join("home/alice/upload/big.bin")).unwrap(),
        big
    );
    assert_eq!(
        std::fs::read(remote.join("etc/motd")).unwrap(),
        demo.file("/etc/motd").unwrap()
    );
    assert!(!remote.join("home/alice/notes.txt").exists());
    assert!(!remote.join("home/alice/upload/upload.bin").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openssh_scp_in_its_default_sftp_mode_copies_both_ways() {
    require(SCP);
    let dir = temp_dir("sftp-scp");
    let data = blob(100_000, 3);
    std::fs::write(dir.join("up.bin"), &data).unwrap();
    let mut cmd = Command::new(SCP);
    to_our_server(&mut cmd, &dir);
    cmd.arg(dir.join("up.bin"))
        .arg("alice@server.example:upload/up.bin");
    let o = run(cmd, Duration::from_secs(60));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(dir.join("remote/home/alice/upload/up.bin")).unwrap(),
        data
    );
    let mut cmd = Command::new(SCP);
    to_our_server(&mut cmd, &dir);
    cmd.arg("alice@server.example:report.csv")
        .arg(dir.join("report.csv"));
    let o = run(cmd, Duration::from_secs(60));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(dir.join("report.csv")).unwrap(),
        MemFs::demo("alice", 0).file("report.csv").unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// What our SFTP client did through `sshd -i` with `subsystem` as its sftp.
struct Run {
    outcomes: Vec<Outcome>,
    sent: Vec<Outgoing>,
    extensions: Vec<String>,
    exit_status: Option<u32>,
    key_exchanges: u32,
}

/// Our SSH client (subsystem "sftp") and our SFTP client running `jobs` against
/// real `sshd -i` over pipes.
fn sftp_via_sshd(dir: &Path, subsystem: &str, jobs: Vec<Job>) -> Run {
    sftp_via_sshd_with(dir, subsystem, jobs, "", None)
}

/// As [`sftp_via_sshd`], with more sshd_config lines and our client's own re-key limit.
fn sftp_via_sshd_with(
    dir: &Path,
    subsystem: &str,
    jobs: Vec<Job>,
    extra: &str,
    rekey: Option<u64>,
) -> Run {
    require(SSHD);
    std::fs::create_dir_all("/run/sshd").unwrap();
    let host = demo_host_key(ED25519, "cipherstage demo host key").unwrap();
    let user_key = demo_key("cipherstage demo user key").unwrap();
    let host_path = dir.join("host_key");
    write_private(&host_path, &host.to_openssh_private("demo host"));
    let ak = dir.join("authorized_keys");
    std::fs::write(
        &ak,
        format!("{}\n", user_key.public().to_openssh("demo user")),
    )
    .unwrap();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "HostKey {}\nAuthorizedKeysFile {}\nStrictModes no\nUsePAM no\nPidFile none\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nCiphers {}\nLogLevel VERBOSE\nSubsystem sftp {subsystem}\n{extra}\n",
            host_path.display(),
            ak.display(),
            kex::AES256_GCM,
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
    let mut child = Command::new(SSHD)
        .args(["-i", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut client = Client::new(
        ClientConfig {
            version: "SSH-2.0-cipherstage_0.1".into(),
            host: "localhost".into(),
            known_hosts: vec![KnownHost {
                hosts: vec!["localhost".into()],
                key: host.public(),
            }],
            trust_on_first_use: false,
            user: user(),
            credential: Credential::Key(user_key),
            command: String::new(),
            algorithms: Algorithms {
                ciphers: vec![kex::AES256_GCM.into()],
                ..Algorithms::default()
            },
        },
        0,
    );
    client.subsystem("sftp");
    if let Some(n) = rekey {
        client.rekey_after_bytes(n);
    }
    let mut sftp = SftpClient::new(jobs, 8192);
    let mut rng = Seeded::new(7);
    let mut events = Vec::new();
    let mut sent = Vec::new();
    let mut put = |out: Vec<Outgoing>, sent: &mut Vec<Outgoing>| {
        for o in out {
            stdin.write_all(&o.bytes).unwrap();
            sent.push(o);
        }
    };
    put(client.start(&mut rng).unwrap(), &mut sent);
    let init = sftp.start();
    let (b, f) = init.emit();
    put(
        client.send_noted(&b, init.label(), f, &mut rng).unwrap(),
        &mut sent,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut eof = false;
    while !client.is_closed() && Instant::now() < deadline {
        let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let out = client
            .receive(&chunk, &mut rng, &mut events)
            .unwrap_or_else(|e| {
                panic!(
                    "{e:?}\n{}",
                    std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
                )
            });
        put(out, &mut sent);
        let bytes = client.take_output();
        if !bytes.is_empty() {
            for p in sftp.receive(&bytes).unwrap() {
                let (b, f) = p.emit();
                put(
                    client.send_noted(&b, p.label(), f, &mut rng).unwrap(),
                    &mut sent,
                );
            }
        }
        if sftp.done() && !eof {
            eof = true;
            put(client.send_eof(&mut rng).unwrap(), &mut sent);
        }
    }
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        sftp.done() && client.is_closed(),
        "not finished: {:?}\n{}",
        sftp.outcomes(),
        std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
    );
    Run {
        outcomes: sftp.outcomes().to_vec(),
        sent,
        extensions: sftp.extensions.clone(),
        exit_status: client.exit_status(),
        key_exchanges: client.key_exchanges(),
    }
}

fn our_client_against(subsystem: &str) {
    let dir = temp_dir("sftp-sshd");
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    let f = |n: &str| files.join(n).display().to_string();
    let up = blob(70_000, 4);
    let down = blob(50_000, 5);
    std::fs::write(files.join("down.bin"), &down).unwrap();
    let resume_up = blob(30_000, 6);
    std::fs::write(files.join("resume.bin"), &resume_up[..12_345]).unwrap();
    let run = sftp_via_sshd(
        &dir,
        subsystem,
        vec![
            Job::Upload {
                remote: f("up.bin"),
                data: up.clone(),
                resume: false,
            },
            Job::Download {
                remote: f("down.bin"),
                have: Vec::new(),
            },
            Job::List {
                dir: files.display().to_string(),
            },
            Job::Upload {
                remote: f("resume.bin"),
                data: resume_up.clone(),
                resume: true,
            },
            Job::Download {
                remote: f("down.bin"),
                have: down[..20_000].to_vec(),
            },
            Job::Download {
                remote: f("missing.bin"),
                have: Vec::new(),
            },
            Job::Upload {
                remote: f("no-such-dir/x.bin"),
                data: b"x".to_vec(),
                resume: false,
            },
        ],
    );
    // The files on sshd's disk are the bytes we sent; what we read is what is there.
    assert_eq!(std::fs::read(files.join("up.bin")).unwrap(), up);
    assert_eq!(std::fs::read(files.join("resume.bin")).unwrap(), resume_up);
    let o = &run.outcomes;
    assert_eq!(o.len(), 7, "{o:?}");
    assert!(
        matches!(
            &o[0],
            Outcome::Uploaded {
                from: 0,
                written: 70_000,
                ..
            }
        ),
        "{:?}",
        o[0]
    );
    assert!(matches!(&o[1], Outcome::Downloaded { data, from: 0, .. } if *data == down));
    let Outcome::Listed { names, .. } = &o[2] else {
        panic!("{:?}", o[2]);
    };
    let mut listed: Vec<&str> = names.iter().map(|n| n.filename.as_str()).collect();
    listed.sort();
    assert_eq!(listed, [".", "..", "down.bin", "resume.bin", "up.bin"]);
    let up_entry = names.iter().find(|n| n.filename == "up.bin").unwrap();
    assert_eq!(up_entry.attrs.size, Some(70_000));
    assert!(
        matches!(
            &o[3],
            Outcome::Uploaded {
                from: 12_345,
                written: 17_655,
                ..
            }
        ),
        "{:?}",
        o[3]
    );
    assert!(matches!(&o[4], Outcome::Downloaded { data, from: 20_000, .. } if *data == down));
    assert!(
        matches!(
            &o[5],
            Outcome::Failed {
                code: status::NO_SUCH_FILE,
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
                code: status::NO_SUCH_FILE,
                ..
            }
        ),
        "{:?}",
        o[6]
    );
    assert_eq!(run.exit_status, Some(0));
    assert!(
        run.extensions
            .iter()
            .any(|e| e == "posix-rename@openssh.com"),
        "{:?}",
        run.extensions
    );
    // Every packet we sent is explained to the byte, SFTP inside SSH included.
    let mut sftp_packets = 0;
    for s in &run.sent {
        check_fields(&s.fields, 0, s.bytes.len()).unwrap();
        sftp_packets += usize::from(s.label.starts_with("sftp."));
    }
    assert!(sftp_packets > 20, "{sftp_packets}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn our_sftp_client_against_sshd_internal_sftp() {
    our_client_against("internal-sftp");
}

#[test]
fn our_sftp_client_against_the_sftp_server_binary() {
    require(SFTP_SERVER);
    our_client_against(SFTP_SERVER);
}

/// The real `scp -O` (the classic protocol: exec `scp -t` / `scp -f`) against
/// our server: up, down, -p (T lines), -r (D/E lines), and the refusals with
/// the messages scp prints.
#[test]
fn openssh_scp_classic_protocol_against_our_server() {
    require(SCP);
    let dir = temp_dir("sftp-scpO");
    let scp = |args: &[&std::ffi::OsStr]| {
        let mut cmd = Command::new(SCP);
        cmd.arg("-O");
        to_our_server(&mut cmd, &dir);
        cmd.args(args);
        run(cmd, Duration::from_secs(60))
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let up = blob(90_000, 7);
    let up_path = dir.join("up.bin");
    std::fs::write(&up_path, &up).unwrap();
    let o = scp(&[up_path.as_os_str(), &os("alice@server.example:upload/")]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let remote = dir.join("remote/home/alice");
    assert_eq!(std::fs::read(remote.join("upload/up.bin")).unwrap(), up);
    // -p sends a T line first; -r a directory with D … E.
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a.txt"), b"first\n").unwrap();
    std::fs::write(tree.join("sub/b.txt"), b"second\n").unwrap();
    let o = scp(&[
        &os("-p"),
        &os("-r"),
        tree.as_os_str(),
        &os("alice@server.example:upload/"),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(remote.join("upload/tree/a.txt")).unwrap(),
        b"first\n"
    );
    assert_eq!(
        std::fs::read(remote.join("upload/tree/sub/b.txt")).unwrap(),
        b"second\n"
    );
    // Down.
    let down = dir.join("report.csv");
    let o = scp(&[&os("alice@server.example:report.csv"), down.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(&down).unwrap(),
        MemFs::demo("alice", 0).file("report.csv").unwrap()
    );
    // Refusals: the exit status and our messages.
    let x = dir.join("x");
    let o = scp(&[&os("alice@server.example:secret.txt"), x.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("scp: secret.txt: Permission denied"),
        "{}",
        text(&o.stderr)
    );
    let o = scp(&[&os("alice@server.example:no-such-file"), x.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("scp: no-such-file: No such file or directory"),
        "{}",
        text(&o.stderr)
    );
    assert!(!x.exists());
    let o = scp(&[up_path.as_os_str(), &os("alice@server.example:/etc/motd")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("scp: /etc/motd: Permission denied"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read(dir.join("remote/etc/motd")).unwrap(),
        MemFs::demo("alice", 0).file("/etc/motd").unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Our SSH + SFTP client with sshd re-keying every 32 kB (sshd starts it) and,
/// separately, with our client re-keying every 32 kB (we start it): 300 kB up and
/// down, the files identical, many key exchanges on the one connection.
#[test]
fn our_client_re_keys_with_sshd_both_ways() {
    for (extra, ours) in [("RekeyLimit 32K", None), ("", Some(32 * 1024))] {
        let dir = temp_dir("sftp-rekey");
        let files = dir.join("files");
        std::fs::create_dir_all(&files).unwrap();
        let up = blob(300_000, 8);
        let run = sftp_via_sshd_with(
            &dir,
            "internal-sftp",
            vec![
                Job::Upload {
                    remote: files.join("up.bin").display().to_string(),
                    data: up.clone(),
                    resume: false,
                },
                Job::Download {
                    remote: files.join("up.bin").display().to_string(),
                    have: Vec::new(),
                },
            ],
            extra,
            ours,
        );
        assert_eq!(std::fs::read(files.join("up.bin")).unwrap(), up);
        assert!(
            matches!(&run.outcomes[1], Outcome::Downloaded { data, .. } if *data == up),
            "{:?}",
            run.outcomes.len()
        );
        assert!(
            run.key_exchanges >= 10,
            "{extra} {ours:?}: {} exchanges",
            run.key_exchanges
        );
        let rekeys = run
            .sent
            .iter()
            .filter(|o| o.label == "ssh.msg.kexinit")
            .count();
        assert!(rekeys >= 10, "{rekeys} KEXINIT sent");
        for s in &run.sent {
            check_fields(&s.fields, 0, s.bytes.len()).unwrap();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
