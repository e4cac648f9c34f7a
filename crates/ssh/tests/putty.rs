//! PuTTY 0.78 (Debian's putty-tools) against our server, through `-proxycmd`
//! running our stdio server: plink runs commands (exit statuses, strict KEX,
//! several sessions one after another), `plink -nc` forwards to a loopback
//! responder, psftp and pscp (SFTP and `-scp`) copy files both ways, compared
//! byte for byte with the server's in-memory files; puttygen converts our demo
//! key and prints the fingerprint we compute. A missing binary fails.
// Real OpenSSH/PuTTY peers and Unix processes: native Unix only (the wasm32 run
// of the crate's tests has neither).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cipherstage_ssh::kex;
use cipherstage_ssh::keys::ED25519;
use cipherstage_ssh::scenario::{demo_host_key, demo_key};
use cipherstage_ssh::sftp::MemFs;

mod common;
use common::{require, temp_dir};

const PLINK: &str = "/usr/bin/plink";
const PSFTP: &str = "/usr/bin/psftp";
const PSCP: &str = "/usr/bin/pscp";
const PUTTYGEN: &str = "/usr/bin/puttygen";

fn run(mut cmd: Command, stdin: &[u8], limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A PuTTY key made by puttygen from our demo user key, and the host key's fingerprint.
struct Setup {
    dir: PathBuf,
    ppk: PathBuf,
    fingerprint: String,
}

fn setup(tag: &str) -> Setup {
    require(PUTTYGEN);
    let dir = temp_dir(tag);
    let user = demo_key("cipherstage demo user key").unwrap();
    let id = dir.join("id_ed25519");
    std::fs::write(&id, user.to_openssh_private("alice")).unwrap();
    let ppk = dir.join("id.ppk");
    let o = run(
        {
            let mut c = Command::new(PUTTYGEN);
            c.arg(&id).args(["-O", "private", "-o"]).arg(&ppk);
            c
        },
        b"",
        Duration::from_secs(20),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let host = demo_host_key(ED25519, "cipherstage demo host key")
        .unwrap()
        .public();
    Setup {
        dir,
        ppk,
        fingerprint: host.fingerprint(),
    }
}

/// The common PuTTY options that reach our stdio server.
fn to_our_server(cmd: &mut Command, s: &Setup, cipher: &str) {
    let server = env!("CARGO_BIN_EXE_cipherstage-ssh-stdio-server");
    cmd.arg("-batch")
        .arg("-proxycmd")
        .arg(format!("{server} {cipher}"))
        .arg("-i")
        .arg(&s.ppk)
        .arg("-hostkey")
        .arg(&s.fingerprint)
        .env("CS_SFTP_DUMP", s.dir.join("remote"));
}

#[test]
fn puttygen_prints_the_fingerprint_we_compute() {
    let s = setup("fp");
    let host = demo_host_key(ED25519, "cipherstage demo host key")
        .unwrap()
        .public();
    let pubfile = s.dir.join("host.pub");
    std::fs::write(&pubfile, format!("{}\n", host.to_openssh("demo host"))).unwrap();
    let o = run(
        {
            let mut c = Command::new(PUTTYGEN);
            c.arg("-l").arg(&pubfile);
            c
        },
        b"",
        Duration::from_secs(20),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let line = text(&o.stdout);
    assert!(
        line.contains(&host.fingerprint()),
        "{line} vs {}",
        host.fingerprint()
    );
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn plink_runs_commands_with_each_cipher_and_strict_kex() {
    require(PLINK);
    let s = setup("plink");
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let mut c = Command::new(PLINK);
        to_our_server(&mut c, &s, cipher);
        c.args(["-v", "alice@server.example", "echo hello from plink"]);
        let o = run(c, b"", Duration::from_secs(30));
        let err = text(&o.stderr);
        assert_eq!(text(&o.stdout), "hello from plink\n", "{err}");
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(
            err.contains("Enabling strict key exchange semantics"),
            "{err}"
        );
        assert!(err.contains("Authenticating with public key"), "{err}");
    }
    for (cmd, status) in [("false", 1), ("no-such-command", 127)] {
        let mut c = Command::new(PLINK);
        to_our_server(&mut c, &s, kex::CHACHA);
        c.args(["alice@server.example", cmd]);
        let o = run(c, b"", Duration::from_secs(30));
        assert_eq!(o.status.code(), Some(status), "{}", text(&o.stderr));
    }
    // stdin travels too: cat echoes it back, then exits 0 at EOF.
    let mut c = Command::new(PLINK);
    to_our_server(&mut c, &s, kex::AES256_GCM);
    c.args(["alice@server.example", "cat"]);
    let input: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let o = run(c, &input, Duration::from_secs(60));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout == input, "{} bytes back", o.stdout.len());
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn plink_nc_forwards_to_a_loopback_responder() {
    require(PLINK);
    let s = setup("nc");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = Vec::new();
            let _ = conn.read_to_end(&mut buf);
            let mut answer = b"responder got: ".to_vec();
            answer.extend_from_slice(&buf);
            let _ = conn.write_all(&answer);
        }
    });
    let mut c = Command::new(PLINK);
    to_our_server(&mut c, &s, kex::CHACHA);
    c.arg("-nc")
        .arg(format!("127.0.0.1:{port}"))
        .arg("alice@server.example");
    let o = run(c, b"through plink -nc\n", Duration::from_secs(30));
    assert_eq!(
        text(&o.stdout),
        "responder got: through plink -nc\n",
        "{}",
        text(&o.stderr)
    );
    // A target outside loopback is refused by our server's policy.
    let mut c = Command::new(PLINK);
    to_our_server(&mut c, &s, kex::CHACHA);
    c.args(["-nc", "192.0.2.1:80", "alice@server.example"]);
    let o = run(c, b"", Duration::from_secs(30));
    assert!(o.stdout.is_empty());
    assert!(
        text(&o.stderr).contains("dministratively prohibited"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&s.dir);
}

fn blob(n: usize, salt: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_add(salt).wrapping_mul(2_654_435_761) >> 23) as u8)
        .collect()
}

#[test]
fn psftp_and_pscp_copy_both_ways() {
    require(PSFTP);
    require(PSCP);
    let s = setup("sftp");
    let local = s.dir.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let up = blob(120_000, 9);
    std::fs::write(local.join("up.bin"), &up).unwrap();
    let l = local.display();
    let script = format!(
        "pwd\nls\nget notes.txt {l}/notes.txt\nput {l}/up.bin upload/up.bin\n\
         get upload/up.bin {l}/back.bin\nmkdir made-by-psftp\n"
    );
    std::fs::write(s.dir.join("script"), script).unwrap();
    let mut c = Command::new(PSFTP);
    to_our_server(&mut c, &s, kex::AES256_GCM);
    c.arg("-b")
        .arg(s.dir.join("script"))
        .arg("alice@server.example");
    let o = run(c, b"", Duration::from_secs(60));
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", text(&o.stderr));
    assert!(out.contains("Remote directory is /home/alice"), "{out}");
    assert!(out.contains("report.csv"), "{out}");
    let demo = MemFs::demo("alice", 0);
    assert_eq!(
        std::fs::read(local.join("notes.txt")).unwrap(),
        demo.file("notes.txt").unwrap()
    );
    assert_eq!(std::fs::read(local.join("back.bin")).unwrap(), up);
    let remote = s.dir.join("remote/home/alice");
    assert_eq!(std::fs::read(remote.join("upload/up.bin")).unwrap(), up);
    assert!(out.contains("mkdir /home/alice/made-by-psftp: OK"), "{out}");

    // pscp: SFTP by default, the classic protocol with -scp; and a refusal.
    for (mode, name) in [("-sftp", "pscp-sftp.bin"), ("-scp", "pscp-scp.bin")] {
        let mut c = Command::new(PSCP);
        to_our_server(&mut c, &s, kex::CHACHA);
        c.arg(mode)
            .arg(local.join("up.bin"))
            .arg(format!("alice@server.example:upload/{name}"));
        let o = run(c, b"", Duration::from_secs(60));
        assert_eq!(o.status.code(), Some(0), "{mode}: {}", text(&o.stderr));
        assert_eq!(
            std::fs::read(remote.join("upload").join(name)).unwrap(),
            up,
            "{mode}"
        );
        let back = local.join(format!("back-{name}"));
        let mut c = Command::new(PSCP);
        to_our_server(&mut c, &s, kex::CHACHA);
        c.arg(mode)
            .arg("alice@server.example:report.csv")
            .arg(&back);
        let o = run(c, b"", Duration::from_secs(60));
        assert_eq!(o.status.code(), Some(0), "{mode}: {}", text(&o.stderr));
        assert_eq!(
            std::fs::read(&back).unwrap(),
            demo.file("report.csv").unwrap(),
            "{mode}"
        );
        let mut c = Command::new(PSCP);
        to_our_server(&mut c, &s, kex::CHACHA);
        c.arg(mode)
            .arg("alice@server.example:secret.txt")
            .arg(local.join("no"));
        let o = run(c, b"", Duration::from_secs(60));
        assert_ne!(o.status.code(), Some(0), "{mode}");
        assert!(
            text(&o.stderr).contains("ermission denied"),
            "{mode}: {}",
            text(&o.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&s.dir);
}

/// `plink -N -L` and `plink -N -R` through our server to a loopback responder.
#[test]
fn plink_forwards_local_and_remote_ports() {
    require(PLINK);
    let s = setup("lr");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let resp = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = conn.read_to_end(&mut buf);
                let mut answer = b"responder got: ".to_vec();
                answer.extend_from_slice(&buf);
                let _ = conn.write_all(&answer);
            });
        }
    });
    let free = || {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    for flag in ["-L", "-R"] {
        let port = free();
        let mut c = Command::new(PLINK);
        to_our_server(&mut c, &s, kex::CHACHA);
        c.args(["-N", flag])
            .arg(format!("127.0.0.1:{port}:127.0.0.1:{resp}"))
            .arg("alice@server.example")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let got = loop {
            let attempt = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut t| {
                t.set_read_timeout(Some(Duration::from_secs(10)))?;
                t.write_all(format!("via plink {flag}\n").as_bytes())?;
                t.shutdown(std::net::Shutdown::Write)?;
                let mut out = Vec::new();
                t.read_to_end(&mut out)?;
                Ok(out)
            });
            match attempt {
                Ok(out) if !out.is_empty() => break out,
                _ if std::time::Instant::now() > deadline => {
                    let _ = Command::new("kill").arg(child.id().to_string()).status();
                    panic!("plink {flag}: no answer");
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
        assert_eq!(text(&got), format!("responder got: via plink {flag}\n"));
    }
    let _ = std::fs::remove_dir_all(&s.dir);
}

/// plink with an RSA key (ssh-keygen, converted by puttygen): PuTTY signs with
/// rsa-sha2-512/256 as our server-sig-algs allows, and our server verifies it.
#[test]
fn plink_logs_in_with_an_rsa_key_converted_by_puttygen() {
    require(PLINK);
    let s = setup("rsa");
    let id = s.dir.join("id_rsa");
    let o = run(
        {
            let mut c = Command::new("/usr/bin/ssh-keygen");
            c.args(["-q", "-t", "rsa", "-b", "3072", "-N", "", "-C", "rsa", "-f"])
                .arg(&id);
            c
        },
        b"",
        Duration::from_secs(60),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ppk = s.dir.join("rsa.ppk");
    let o = run(
        {
            let mut c = Command::new(PUTTYGEN);
            c.arg(&id).args(["-O", "private", "-o"]).arg(&ppk);
            c
        },
        b"",
        Duration::from_secs(20),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ak = s.dir.join("authorized_keys");
    std::fs::copy(s.dir.join("id_rsa.pub"), &ak).unwrap();
    let server = env!("CARGO_BIN_EXE_cipherstage-ssh-stdio-server");
    let mut c = Command::new(PLINK);
    c.arg("-batch")
        .arg("-v")
        .arg("-proxycmd")
        .arg(server)
        .arg("-i")
        .arg(&ppk)
        .arg("-hostkey")
        .arg(&s.fingerprint)
        .env("CS_AUTHORIZED_KEYS", &ak)
        .args(["alice@server.example", "echo rsa via plink"]);
    let o = run(c, b"", Duration::from_secs(30));
    let err = text(&o.stderr);
    assert_eq!(text(&o.stdout), "rsa via plink\n", "{err}");
    // Our server refuses SHA-1 "ssh-rsa", so this signature was rsa-sha2-256/512.
    assert!(err.contains("Access granted"), "{err}");
    let _ = std::fs::remove_dir_all(&s.dir);
}
