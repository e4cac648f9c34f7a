//! Proof against real OpenSSH (9.2p1): our client logs in to `sshd -i` over
//! pipes and runs a command, for each cipher; the real `ssh` client logs in to
//! our server through a ProxyCommand; our key lines and fingerprints match
//! `ssh-keygen`. A missing binary fails these tests; it never skips them.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cipherstage_ssh::client::{Algorithms, Client, ClientConfig, Credential};
use cipherstage_ssh::kex;
use cipherstage_ssh::keys::{KnownHost, PublicKey};
use cipherstage_ssh::keys::{ECDSA_P256, ED25519};
use cipherstage_ssh::scenario::{demo_host_key, demo_key};
use cipherstage_ssh::wire::message::open_failure;
use cipherstage_ssh::wire::DirectTcpip;
use cipherstage_transcript::check_fields;
use cipherstage_transcript::rand::Seeded;

mod common;
use common::{require, temp_dir, write_private};

const SSHD: &str = "/usr/sbin/sshd";
const SSH_KEYGEN: &str = "/usr/bin/ssh-keygen";

/// Waits for `child` at most `limit`, then kills it by its PID.
fn reap(mut child: Child, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct SshdDir {
    dir: PathBuf,
    config: PathBuf,
}

fn sshd_setup(tag: &str, cipher: &str, kex_alg: &str, host_alg: &str) -> SshdDir {
    sshd_setup_with(tag, cipher, kex_alg, host_alg, "")
}

fn sshd_setup_with(tag: &str, cipher: &str, kex_alg: &str, host_alg: &str, extra: &str) -> SshdDir {
    require(SSHD);
    // sshd refuses to start without its privilege separation directory.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let dir = temp_dir(tag);
    let host = demo_host_key(host_alg, "cipherstage demo host key").unwrap();
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
             KbdInteractiveAuthentication no\nCiphers {cipher}\nKexAlgorithms {kex_alg}\n\
             HostKeyAlgorithms {host_alg}\nLogLevel VERBOSE\n{extra}",
            host_path.display(),
            ak.display()
        ),
    )
    .unwrap();
    SshdDir { dir, config }
}

fn login_to_sshd(
    cipher: &str,
    strict: bool,
    kex_alg: &str,
    host_alg: &str,
) -> (String, Option<u32>, PublicKey, Vec<u8>) {
    let setup = sshd_setup("sshd", cipher, kex_alg, host_alg);
    let log = std::fs::File::create(setup.dir.join("sshd.log")).unwrap();
    let mut child = Command::new(SSHD)
        .arg("-i")
        .arg("-e")
        .arg("-f")
        .arg(&setup.config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let host = demo_host_key(host_alg, "cipherstage demo host key")
        .unwrap()
        .public();
    let mut client = Client::new(
        ClientConfig {
            version: "SSH-2.0-cipherstage_0.1".into(),
            host: "localhost".into(),
            known_hosts: vec![KnownHost {
                hosts: vec!["localhost".into()],
                key: host,
            }],
            trust_on_first_use: false,
            user: user(),
            credential: Credential::Key(demo_key("cipherstage demo user key").unwrap()),
            command: "echo hello".into(),
            algorithms: Algorithms {
                kex: vec![kex_alg.into()],
                host_keys: vec![host_alg.into()],
                ciphers: vec![cipher.into()],
                strict,
            },
        },
        0,
    );
    let mut rng = Seeded::new(99);
    let mut events = Vec::new();
    let mut wire_out = Vec::new();
    for o in client.start(&mut rng).unwrap() {
        stdin.write_all(&o.bytes).unwrap();
        wire_out.push(o);
    }
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !client.is_closed() && Instant::now() < deadline {
        let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        received.extend_from_slice(&chunk);
        match client.receive(&chunk, &mut rng, &mut events) {
            Ok(out) => {
                for o in out {
                    stdin.write_all(&o.bytes).unwrap();
                    wire_out.push(o);
                }
            }
            Err(e) => {
                drop(stdin);
                reap(child, Duration::from_secs(2));
                let log = std::fs::read_to_string(setup.dir.join("sshd.log")).unwrap();
                panic!("client error {e:?}; sshd log:\n{log}");
            }
        }
    }
    drop(stdin);
    reap(child, Duration::from_secs(5));
    let _ = reader.join();
    let log = std::fs::read_to_string(setup.dir.join("sshd.log")).unwrap_or_default();
    assert!(
        client.is_closed(),
        "session did not finish; sshd log:\n{log}"
    );
    // Every packet we sent is fully explained.
    for o in &wire_out {
        check_fields(&o.fields, 0, o.bytes.len()).unwrap();
    }
    let _ = std::fs::remove_dir_all(&setup.dir);
    // Everything sshd sent in the clear parses with our decoders and re-emits byte for byte.
    check_plaintext_prefix(&received);
    if let Some(path) = std::env::var_os("CS_SSH_CAPTURE") {
        std::fs::write(path, &received).unwrap();
    }
    (
        String::from_utf8_lossy(client.output()).into_owned(),
        client.exit_status(),
        client.host_key().unwrap().clone(),
        log.into_bytes(),
    )
}

/// Parses the version line and the plaintext packets (KEXINIT, KEX_ECDH_REPLY, NEWKEYS)
/// that OpenSSH sent, and checks each payload re-emits to the same bytes.
fn check_plaintext_prefix(received: &[u8]) {
    use cipherstage_ssh::transport::Transport;
    use cipherstage_ssh::wire::{parse_version, Msg};
    let (line, used) = parse_version(received).unwrap().unwrap();
    assert!(line.starts_with("SSH-2.0-OpenSSH_9.2"), "{line}");
    let mut t = Transport::default();
    t.feed(&received[used..]);
    let mut labels = Vec::new();
    while let Ok(Some(payload)) = t.open() {
        let m = Msg::parse(&payload).unwrap();
        assert_eq!(m.to_bytes(), payload);
        labels.push(m.label());
        if m == Msg::NewKeys {
            break;
        }
    }
    assert_eq!(
        labels,
        [
            "ssh.msg.kexinit",
            "ssh.msg.kex_ecdh_reply",
            "ssh.msg.newkeys"
        ]
    );
}

#[test]
fn our_client_logs_in_to_sshd_with_chacha20_poly1305() {
    let (out, status, host, log) = login_to_sshd(kex::CHACHA, true, kex::KEX_CURVE25519, ED25519);
    assert_eq!(out, "hello\n");
    assert_eq!(status, Some(0));
    assert_eq!(
        host,
        demo_key("cipherstage demo host key").unwrap().public()
    );
    let log = String::from_utf8_lossy(&log);
    assert!(log.contains("Accepted publickey"), "{log}");
}

#[test]
fn our_client_logs_in_to_sshd_with_aes256_gcm() {
    let (out, status, _, log) = login_to_sshd(kex::AES256_GCM, true, kex::KEX_CURVE25519, ED25519);
    assert_eq!(out, "hello\n");
    assert_eq!(status, Some(0));
    assert!(String::from_utf8_lossy(&log).contains("Accepted publickey"));
}

#[test]
fn our_client_logs_in_to_sshd_without_strict_kex() {
    let (out, status, _, _) = login_to_sshd(kex::CHACHA, false, kex::KEX_CURVE25519, ED25519);
    assert_eq!(out, "hello\n");
    assert_eq!(status, Some(0));
}

#[test]
fn our_client_logs_in_to_sshd_with_ecdh_nistp256_and_an_ecdsa_host_key() {
    for cipher in [kex::CHACHA, kex::AES256_GCM] {
        let (out, status, host, log) = login_to_sshd(cipher, true, kex::KEX_ECDH_P256, ECDSA_P256);
        assert_eq!(out, "hello\n");
        assert_eq!(status, Some(0));
        assert_eq!(host.algorithm(), ECDSA_P256);
        assert!(String::from_utf8_lossy(&log).contains("Accepted publickey"));
    }
}

fn keygen(args: &[&str]) -> String {
    require(SSH_KEYGEN);
    let out = Command::new(SSH_KEYGEN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn fingerprints_and_key_files_match_ssh_keygen() {
    let dir = temp_dir("ssh-keygen");
    for (label, comment) in [
        ("cipherstage demo host key", "demo host"),
        ("cipherstage demo user key", "alice@laptop"),
    ] {
        let k = demo_key(label).unwrap();
        let pub_path = dir.join("k.pub");
        std::fs::write(&pub_path, format!("{}\n", k.public().to_openssh(comment))).unwrap();
        let printed = keygen(&["-lf", pub_path.to_str().unwrap()]);
        assert_eq!(printed.trim(), k.public().fingerprint_line(comment));
        // Our private key file is one ssh-keygen reads back to the same public key.
        let priv_path = dir.join("k");
        write_private(&priv_path, &k.to_openssh_private(comment));
        let derived = keygen(&["-y", "-f", priv_path.to_str().unwrap()]);
        assert_eq!(derived.trim(), k.public().to_openssh(comment));
    }
    // The ECDSA demo host key too.
    let k = demo_host_key(ECDSA_P256, "cipherstage demo host key").unwrap();
    let pub_path = dir.join("e.pub");
    std::fs::write(
        &pub_path,
        format!("{}\n", k.public().to_openssh("ecdsa host")),
    )
    .unwrap();
    let printed = keygen(&["-lf", pub_path.to_str().unwrap()]);
    assert_eq!(printed.trim(), k.public().fingerprint_line("ecdsa host"));
    let priv_path = dir.join("e");
    write_private(&priv_path, &k.to_openssh_private("ecdsa host"));
    let derived = keygen(&["-y", "-f", priv_path.to_str().unwrap()]);
    assert_eq!(derived.trim(), k.public().to_openssh("ecdsa host"));
    // And keys ssh-keygen makes parse here with the fingerprint it prints.
    let gen = dir.join("gen");
    keygen(&[
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        "made by ssh-keygen",
        "-f",
        gen.to_str().unwrap(),
    ]);
    let line = std::fs::read_to_string(dir.join("gen.pub")).unwrap();
    let (key, comment) = PublicKey::parse_openssh(&line).unwrap();
    assert_eq!(comment, "made by ssh-keygen");
    let printed = keygen(&["-lf", dir.join("gen.pub").to_str().unwrap()]);
    assert_eq!(printed.trim(), key.fingerprint_line(&comment));
    assert_eq!(key.to_openssh(&comment), line.trim());
    let gen = dir.join("gen_ecdsa");
    keygen(&[
        "-q",
        "-t",
        "ecdsa",
        "-b",
        "256",
        "-N",
        "",
        "-C",
        "e",
        "-f",
        gen.to_str().unwrap(),
    ]);
    let line = std::fs::read_to_string(dir.join("gen_ecdsa.pub")).unwrap();
    let (key, comment) = PublicKey::parse_openssh(&line).unwrap();
    assert_eq!(key.algorithm(), ECDSA_P256);
    let printed = keygen(&["-lf", dir.join("gen_ecdsa.pub").to_str().unwrap()]);
    assert_eq!(printed.trim(), key.fingerprint_line(&comment));
    // known_hosts hashed by `ssh-keygen -H` (Debian's default HashKnownHosts yes) still matches.
    let kh = dir.join("known_hosts");
    std::fs::write(&kh, format!("server.example {}\n", key.to_openssh(""))).unwrap();
    keygen(&["-q", "-H", "-f", kh.to_str().unwrap()]);
    let hashed = std::fs::read_to_string(&kh).unwrap();
    assert!(hashed.starts_with("|1|"), "{hashed}");
    let entry = KnownHost::parse(hashed.lines().next().unwrap()).unwrap();
    assert!(entry.matches("server.example"));
    assert!(!entry.matches("other.example"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn ssh_to_our_server(cipher: &str, kex_alg: &str, host_alg: &str) -> (String, String, Option<i32>) {
    const SSH: &str = "/usr/bin/ssh";
    require(SSH);
    let dir = temp_dir("ssh-ssh");
    let host = demo_host_key(host_alg, "cipherstage demo host key")
        .unwrap()
        .public();
    let user = demo_key("cipherstage demo user key").unwrap();
    let id = dir.join("id_ed25519");
    write_private(&id, &user.to_openssh_private("alice"));
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
    let child = Command::new(SSH)
        .args(["-F", "/dev/null", "-v"])
        .arg("-o")
        .arg(format!("ProxyCommand={server} {cipher} {host_alg}"))
        .arg("-o")
        .arg(format!("KexAlgorithms={kex_alg}"))
        .arg("-o")
        .arg(format!("HostKeyAlgorithms={host_alg}"))
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "PreferredAuthentications=publickey",
        ])
        .arg("-o")
        .arg(format!("Ciphers={cipher}"))
        .arg("-i")
        .arg(&id)
        .args(["alice@server.example", "echo hello"])
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
    let out = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("ssh did not finish in time");
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn openssh_client_logs_in_to_our_server_with_each_cipher() {
    for (cipher, kex_alg, host_alg) in [
        (kex::CHACHA, kex::KEX_CURVE25519, ED25519),
        (kex::AES256_GCM, kex::KEX_CURVE25519, ED25519),
        (kex::CHACHA, kex::KEX_ECDH_P256, ECDSA_P256),
        (kex::AES256_GCM, kex::KEX_ECDH_P256, ECDSA_P256),
    ] {
        let (out, err, code) = ssh_to_our_server(cipher, kex_alg, host_alg);
        assert_eq!(out, "hello\n", "{cipher}: ssh -v said:\n{err}");
        assert_eq!(code, Some(0), "{err}");
        assert!(err.contains(&format!("cipher: {cipher}")), "{err}");
        assert!(err.contains("Authenticated to server.example"), "{err}");
        assert!(err.contains("Server accepts key"), "{err}");
        assert!(err.contains(&format!("kex: algorithm: {kex_alg}")), "{err}");
        assert!(
            err.contains(&format!("kex: host key algorithm: {host_alg}")),
            "{err}"
        );
    }
}

#[test]
fn our_server_disconnects_openssh_after_too_many_failed_keys() {
    const SSH: &str = "/usr/bin/ssh";
    require(SSH);
    let dir = temp_dir("ssh-maxauth");
    let mut cmd = Command::new(SSH);
    cmd.args([
        "-F",
        "/dev/null",
        "-v",
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
    ])
    .args([
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
    ])
    .args(["-o", "PreferredAuthentications=publickey"])
    .arg("-o")
    .arg(format!(
        "ProxyCommand={} {}",
        env!("CARGO_BIN_EXE_cipherstage-ssh-stdio-server"),
        kex::CHACHA
    ));
    // Eight keys the server does not know: "none" plus six of them use up the six tries.
    for i in 0..8 {
        let path = dir.join(format!("k{i}"));
        let key = demo_key(&format!("unknown key {i}")).unwrap();
        write_private(&path, &key.to_openssh_private("x"));
        cmd.arg("-i").arg(&path);
    }
    let child = cmd
        .args(["alice@server.example", "true"])
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
    let out = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("ssh did not finish in time");
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(err.contains("Too many authentication failures"), "{err}");
    assert_eq!(err.matches("Offering public key").count(), 6, "{err}");
}

/// A one-connection TCP responder on 127.0.0.1: reads until EOF (at most 10 s),
/// answers `echo: ` + what it read, and closes. Returns its port and what it read.
fn echo_responder() -> (u16, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(_) => return,
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let mut answer = b"echo: ".to_vec();
        answer.extend_from_slice(&got);
        let _ = stream.write_all(&answer);
        let _ = stream.shutdown(Shutdown::Both);
        let _ = tx.send(got);
    });
    (port, rx)
}

/// Our client logs in to `sshd -i` and opens a direct-tcpip channel to
/// 127.0.0.1:`port`, sends `data` and EOF. Returns the client and sshd's log.
fn forward_through_sshd(port: u16, data: &[u8], extra: &str) -> (Client, String) {
    let setup = sshd_setup_with("sshd-fwd", kex::CHACHA, kex::KEX_CURVE25519, ED25519, extra);
    let log = std::fs::File::create(setup.dir.join("sshd.log")).unwrap();
    let mut child = Command::new(SSHD)
        .arg("-i")
        .arg("-e")
        .arg("-f")
        .arg(&setup.config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let host = demo_key("cipherstage demo host key").unwrap().public();
    let mut client = Client::new(
        ClientConfig {
            version: "SSH-2.0-cipherstage_0.1".into(),
            host: "localhost".into(),
            known_hosts: vec![KnownHost {
                hosts: vec!["localhost".into()],
                key: host,
            }],
            trust_on_first_use: false,
            user: user(),
            credential: Credential::Key(demo_key("cipherstage demo user key").unwrap()),
            command: String::new(),
            algorithms: Algorithms {
                kex: vec![kex::KEX_CURVE25519.into()],
                host_keys: vec![ED25519.into()],
                ciphers: vec![kex::CHACHA.into()],
                strict: true,
            },
        },
        0,
    );
    client.forward_to(DirectTcpip {
        host: "127.0.0.1".into(),
        port: u32::from(port),
        originator: "127.0.0.1".into(),
        originator_port: 53412,
    });
    let mut rng = Seeded::new(7);
    let mut events = Vec::new();
    let mut first = client.start(&mut rng).unwrap();
    first.extend(client.send_data(data, &mut rng).unwrap());
    first.extend(client.send_eof(&mut rng).unwrap());
    let mut sent = Vec::new();
    for o in first {
        stdin.write_all(&o.bytes).unwrap();
        sent.push(o);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !client.is_closed() && Instant::now() < deadline {
        let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        match client.receive(&chunk, &mut rng, &mut events) {
            Ok(out) => {
                for o in out {
                    stdin.write_all(&o.bytes).unwrap();
                    sent.push(o);
                }
            }
            Err(e) => {
                drop(stdin);
                reap(child, Duration::from_secs(2));
                let log = std::fs::read_to_string(setup.dir.join("sshd.log")).unwrap();
                panic!("client error {e:?}; sshd log:\n{log}");
            }
        }
    }
    drop(stdin);
    reap(child, Duration::from_secs(5));
    let _ = reader.join();
    let log = std::fs::read_to_string(setup.dir.join("sshd.log")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&setup.dir);
    assert!(
        client.is_closed(),
        "channel did not finish; sshd log:\n{log}"
    );
    // Every packet we sent, the direct-tcpip open included, is fully explained.
    let labels: Vec<&str> = sent.iter().map(|o| o.label).collect();
    assert!(
        labels.contains(&"ssh.msg.channel_open_direct_tcpip"),
        "{labels:?}"
    );
    for o in &sent {
        check_fields(&o.fields, 0, o.bytes.len()).unwrap();
    }
    (client, log)
}

#[test]
fn our_client_forwards_a_tcp_connection_through_sshd() {
    let (port, seen) = echo_responder();
    let data = b"GET / HTTP/1.1\r\nHost: intranet\r\n\r\n";
    let (client, log) = forward_through_sshd(port, data, "AllowTcpForwarding yes\n");
    // The responder got our bytes from sshd, and its answer came back through the channel.
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).unwrap(),
        data.to_vec()
    );
    let mut want = b"echo: ".to_vec();
    want.extend_from_slice(data);
    assert_eq!(client.output(), want.as_slice(), "sshd log:\n{log}");
    assert!(client.forward_peer_eof());
    assert!(client.forward_refused().is_none());
    assert!(log.contains("Accepted publickey"), "{log}");
}

#[test]
fn sshd_refuses_a_target_its_permitopen_does_not_list() {
    // PermitOpen allows one port; asking for another gets "administratively prohibited".
    let (port, _seen) = echo_responder();
    let other = if port == 65535 { port - 1 } else { port + 1 };
    let (client, log) = forward_through_sshd(
        other,
        b"x",
        &format!("AllowTcpForwarding yes\nPermitOpen 127.0.0.1:{port}\n"),
    );
    let (code, _) = client.forward_refused().unwrap_or_else(|| panic!("{log}"));
    assert_eq!(code, open_failure::ADMINISTRATIVELY_PROHIBITED, "{log}");
    assert!(client.output().is_empty());
}

/// The real `ssh -W 127.0.0.1:PORT` through our stdio server (ProxyCommand):
/// OpenSSH opens direct-tcpip, our server connects to the loopback responder and
/// relays both ways.
#[test]
fn openssh_client_forwards_through_our_server_with_ssh_w() {
    const SSH: &str = "/usr/bin/ssh";
    require(SSH);
    let (port, seen) = echo_responder();
    let dir = temp_dir("ssh-ssh-w");
    let host = demo_host_key(ED25519, "cipherstage demo host key")
        .unwrap()
        .public();
    let user = demo_key("cipherstage demo user key").unwrap();
    let id = dir.join("id_ed25519");
    write_private(&id, &user.to_openssh_private("alice"));
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
    let mut child = Command::new(SSH)
        .args(["-F", "/dev/null", "-v"])
        .arg("-o")
        .arg(format!("ProxyCommand={server} {}", kex::CHACHA))
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args(["-o", "IdentitiesOnly=yes"])
        .arg("-i")
        .arg(&id)
        .arg("-W")
        .arg(format!("127.0.0.1:{port}"))
        .arg("alice@server.example")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let data = b"hello through the bastion\n";
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(data).unwrap();
    drop(stdin);
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("ssh -W did not finish in time");
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).unwrap(),
        data.to_vec(),
        "{err}"
    );
    let mut want = b"echo: ".to_vec();
    want.extend_from_slice(data);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&want),
        "ssh -v said:\n{err}"
    );
    assert!(err.contains("Authenticated to server.example"), "{err}");
    assert!(
        err.contains(&format!("channel_connect_stdio_fwd: 127.0.0.1:{port}")),
        "{err}"
    );
}

/// `ssh -W` to a non-loopback target: our server refuses, OpenSSH reports it.
#[test]
fn openssh_client_is_refused_by_our_server_for_a_non_loopback_target() {
    const SSH: &str = "/usr/bin/ssh";
    require(SSH);
    let dir = temp_dir("ssh-ssh-w-refused");
    let user = demo_key("cipherstage demo user key").unwrap();
    let id = dir.join("id_ed25519");
    write_private(&id, &user.to_openssh_private("alice"));
    let server = env!("CARGO_BIN_EXE_cipherstage-ssh-stdio-server");
    let child = Command::new(SSH)
        .args(["-F", "/dev/null", "-v"])
        .arg("-o")
        .arg(format!("ProxyCommand={server} {}", kex::CHACHA))
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"])
        .arg("-i")
        .arg(&id)
        .args(["-W", "192.0.2.1:80", "alice@server.example"])
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
    let out = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("ssh -W did not finish in time");
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("administratively prohibited"), "{err}");
}
