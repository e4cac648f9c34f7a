//! RSA user keys (issue 14 §2) against real OpenSSH 9.2: `ssh-keygen` makes a
//! 3072-bit key; the real `ssh` logs in to our server with it (by default, and with
//! rsa-sha2-256 and rsa-sha2-512 each forced alone) and is refused when
//! forced to sign with SHA-1 "ssh-rsa"; our fingerprints equal ssh-keygen's;
//! malformed RSA blobs are typed errors. A missing binary fails.
// Real OpenSSH/PuTTY peers and Unix processes: native Unix only (the wasm32 run
// of the crate's tests has neither).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cipherstage_ssh::keys::{KeyErrorKind, KnownHost, PublicKey, ED25519, RSA_SHA256, RSA_SHA512};
use cipherstage_ssh::scenario::demo_host_key;

mod common;
use common::temp_dir;

const SSH: &str = "/usr/bin/ssh";
const SSH_KEYGEN: &str = "/usr/bin/ssh-keygen";

fn run(mut cmd: Command) -> Output {
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
    match rx.recv_timeout(Duration::from_secs(60)) {
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

/// A 3072-bit RSA key made by ssh-keygen: its files and its public key line.
fn rsa_key(dir: &Path) -> (PathBuf, String) {
    assert!(Path::new(SSH_KEYGEN).exists(), "{SSH_KEYGEN} is missing");
    let id = dir.join("id_rsa");
    let mut c = Command::new(SSH_KEYGEN);
    c.args([
        "-q",
        "-t",
        "rsa",
        "-b",
        "3072",
        "-N",
        "",
        "-C",
        "alice rsa",
        "-f",
    ])
    .arg(&id);
    let o = run(c);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let line = std::fs::read_to_string(dir.join("id_rsa.pub")).unwrap();
    (id, line)
}

fn ssh_with(dir: &Path, id: &Path, authorized: &Path, extra: &[&str]) -> Output {
    assert!(Path::new(SSH).exists(), "{SSH} is missing");
    let host = demo_host_key(ED25519, "cipherstage demo host key")
        .unwrap()
        .public();
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
    let mut c = Command::new(SSH);
    c.args(["-F", "/dev/null", "-v"])
        .arg("-o")
        .arg(format!("ProxyCommand={server}"))
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "PreferredAuthentications=publickey",
        ])
        .arg("-i")
        .arg(id)
        .args(extra)
        .args(["alice@server.example", "echo signed with rsa"])
        .env("CS_AUTHORIZED_KEYS", authorized);
    run(c)
}

#[test]
fn openssh_logs_in_to_our_server_with_an_rsa_key_and_sha1_is_refused() {
    let dir = temp_dir("rsa-login");
    let (id, line) = rsa_key(&dir);
    let ak = dir.join("authorized_keys");
    std::fs::write(&ak, &line).unwrap();
    // Default: the client reads server-sig-algs and signs with rsa-sha2-512.
    let o = ssh_with(&dir, &id, &ak, &[]);
    let log = text(&o.stderr);
    assert_eq!(text(&o.stdout), "signed with rsa\n", "{log}");
    assert!(log.contains("Server accepts key"), "{log}");
    assert!(log.contains("RSA SHA256:"), "{log}");
    // Each of the two SHA-2 signature algorithms alone.
    for alg in [RSA_SHA256, RSA_SHA512] {
        let opt = format!("PubkeyAcceptedAlgorithms={alg}");
        let o = ssh_with(&dir, &id, &ak, &["-o", &opt]);
        assert_eq!(
            text(&o.stdout),
            "signed with rsa\n",
            "{alg}: {}",
            text(&o.stderr)
        );
    }
    // SHA-1 "ssh-rsa" is refused, as OpenSSH's own server refuses it.
    let o = ssh_with(&dir, &id, &ak, &["-o", "PubkeyAcceptedAlgorithms=ssh-rsa"]);
    assert_eq!(o.status.code(), Some(255));
    assert!(o.stdout.is_empty());
    assert!(
        text(&o.stderr).contains("Permission denied (publickey)"),
        "{}",
        text(&o.stderr)
    );
    // A key that is not authorized is refused too.
    let (other, _) = rsa_key(&temp_dir("rsa-other"));
    let o = ssh_with(&dir, &other, &ak, &[]);
    assert_eq!(o.status.code(), Some(255));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rsa_fingerprints_equal_ssh_keygen_and_bad_blobs_are_typed_errors() {
    let dir = temp_dir("rsa-fp");
    let (_, line) = rsa_key(&dir);
    let (key, comment) = PublicKey::parse_openssh(&line).unwrap();
    assert_eq!(key.bits(), 3072);
    assert_eq!(key.to_openssh(&comment), line.trim());
    let mut c = Command::new(SSH_KEYGEN);
    c.arg("-lf").arg(dir.join("id_rsa.pub"));
    let o = run(c);
    assert_eq!(text(&o.stdout).trim(), key.fingerprint_line(&comment));
    // A 1024-bit modulus is refused (ring verifies 2048–8192 bits), as is a cut blob.
    let PublicKey::Rsa { e, n } = &key else {
        panic!()
    };
    let small = PublicKey::Rsa {
        e: e.clone(),
        n: n[..128].to_vec(),
    }
    .blob();
    assert_eq!(
        PublicKey::from_blob(&small).unwrap_err().kind,
        KeyErrorKind::BadKeyLength
    );
    let blob = key.blob();
    for cut in 0..blob.len() {
        assert!(PublicKey::from_blob(&blob[..cut]).is_err());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Our client verifies an RSA host key's rsa-sha2-512 / rsa-sha2-256 signature
/// over H from real `sshd -i` and runs a command.
#[test]
fn our_client_verifies_sshd_rsa_host_key_signatures() {
    use cipherstage_ssh::client::{Algorithms, Client, ClientConfig, Credential};
    use cipherstage_ssh::scenario::demo_key;
    use cipherstage_transcript::rand::Seeded;
    use std::io::{Read, Write};
    let sshd = "/usr/sbin/sshd";
    assert!(Path::new(sshd).exists(), "{sshd} is missing");
    std::fs::create_dir_all("/run/sshd").unwrap();
    for alg in [RSA_SHA512, RSA_SHA256] {
        let dir = temp_dir("rsa-host");
        let (host_path, host_line) = rsa_key(&dir);
        let (host, _) = PublicKey::parse_openssh(&host_line).unwrap();
        let user_key = demo_key("cipherstage demo user key").unwrap();
        let ak = dir.join("authorized_keys");
        std::fs::write(&ak, format!("{}\n", user_key.public().to_openssh("u"))).unwrap();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "HostKey {}\nAuthorizedKeysFile {}\nStrictModes no\nUsePAM no\nPidFile none\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nHostKeyAlgorithms {alg}\n",
                host_path.display(),
                ak.display()
            ),
        )
        .unwrap();
        let mut child = Command::new(sshd)
            .args(["-i", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
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
                    key: host.clone(),
                }],
                trust_on_first_use: false,
                user: user(),
                credential: Credential::Key(user_key),
                command: "echo rsa host key".into(),
                algorithms: Algorithms {
                    host_keys: vec![alg.into()],
                    ..Algorithms::default()
                },
            },
            0,
        );
        let mut rng = Seeded::new(3);
        let mut events = Vec::new();
        for o in client.start(&mut rng).unwrap() {
            stdin.write_all(&o.bytes).unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !client.is_closed() && std::time::Instant::now() < deadline {
            let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            for o in client.receive(&chunk, &mut rng, &mut events).unwrap() {
                stdin.write_all(&o.bytes).unwrap();
            }
        }
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(text(client.output()), "rsa host key\n", "{alg}");
        assert_eq!(client.host_key(), Some(&host));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
