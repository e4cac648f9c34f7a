//! ProxyJump (SSH inside SSH) against real OpenSSH 9.2p1, both ways:
//! - the real `ssh` with `ProxyJump` uses our server (on stdio, through a
//!   ProxyCommand) as the jump host: OpenSSH runs `ssh -W` to our server, which
//!   relays the direct-tcpip channel to a loopback port where the test starts a
//!   real `sshd -i` (the target) for each connection; the command runs there;
//! - our client does ProxyJump itself ([`Tunnel`], the scenario's code): the outer
//!   connection to a real `sshd -i` (the jump host, over pipes), a direct-tcpip
//!   channel to the second real `sshd -i`, and the inner connection inside it.
//!
//! A missing binary fails; every process is ended by its PID.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use cipherstage_ssh::client::{Algorithms, Client, ClientConfig, Credential};
use cipherstage_ssh::jump::Tunnel;
use cipherstage_ssh::kex;
use cipherstage_ssh::keys::{KnownHost, ED25519};
use cipherstage_ssh::scenario::{demo_host_key, demo_key};
use cipherstage_ssh::wire::DirectTcpip;
use cipherstage_transcript::check_fields;
use cipherstage_transcript::rand::Seeded;

mod common;
use common::{require, temp_dir, write_private};

const SSH: &str = "/usr/bin/ssh";
const SSHD: &str = "/usr/sbin/sshd";
/// The target's host key label (not our server's).
const TARGET_KEY: &str = "cipherstage demo target host key";

fn kill(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// An sshd_config in `dir` for `sshd -i` with the demo host key `label`, the demo
/// user key authorized; returns its path.
fn sshd_config(dir: &Path, tag: &str, label: &str) -> PathBuf {
    require(SSHD);
    // sshd refuses to start without its privilege separation directory.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let host = demo_host_key(ED25519, label).unwrap();
    let host_path = dir.join(format!("{tag}_host_key"));
    write_private(&host_path, &host.to_openssh_private(tag));
    let ak = dir.join(format!("{tag}_authorized_keys"));
    let user_key = demo_key("cipherstage demo user key").unwrap();
    std::fs::write(
        &ak,
        format!("{}\n", user_key.public().to_openssh("demo user")),
    )
    .unwrap();
    let config = dir.join(format!("{tag}_sshd_config"));
    std::fs::write(
        &config,
        format!(
            "HostKey {}\nAuthorizedKeysFile {}\nStrictModes no\nUsePAM no\nPidFile none\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nAllowTcpForwarding yes\nLogLevel VERBOSE\n",
            host_path.display(),
            ak.display()
        ),
    )
    .unwrap();
    config
}

/// The target: a loopback port where each connection gets its own `sshd -i`
/// (inetd mode, the socket as its stdin and stdout), at most `max` of them.
struct Target {
    port: u16,
    children: Arc<Mutex<Vec<Child>>>,
    log: PathBuf,
}

impl Target {
    fn start(dir: &Path, max: usize) -> Target {
        let config = sshd_config(dir, "target", TARGET_KEY);
        let log = dir.join("target_sshd.log");
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let children = Arc::new(Mutex::new(Vec::new()));
        let kids = Arc::clone(&children);
        let log_path = log.clone();
        std::thread::spawn(move || {
            for conn in l.incoming().take(max).flatten() {
                let input = OwnedFd::from(conn.try_clone().unwrap());
                let output = OwnedFd::from(conn);
                let err = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log_path)
                    .unwrap();
                let child = Command::new(SSHD)
                    .args(["-i", "-e", "-f"])
                    .arg(&config)
                    .stdin(Stdio::from(input))
                    .stdout(Stdio::from(output))
                    .stderr(Stdio::from(err))
                    .spawn()
                    .unwrap();
                kids.lock().unwrap().push(child);
            }
        });
        Target {
            port,
            children,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn connections(&self) -> usize {
        self.children.lock().unwrap().len()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        for mut c in self.children.lock().unwrap().drain(..) {
            if let Ok(None) = c.try_wait() {
                kill(c.id());
            }
            let _ = c.wait();
        }
    }
}

fn known_hosts_line(host: &str, label: &str) -> String {
    KnownHost {
        hosts: vec![host.into()],
        key: demo_host_key(ED25519, label).unwrap().public(),
    }
    .to_line()
}

/// The real `ssh` reaches a real sshd with ProxyJump through our server.
fn openssh_jumps_through_our_server(cipher: &str) {
    require(SSH);
    let dir = temp_dir("jump-openssh");
    let target = Target::start(&dir, 2);
    let id = dir.join("id_ed25519");
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
            "{}\n{}\n",
            known_hosts_line("server.example", "cipherstage demo host key"),
            known_hosts_line("target.internal", TARGET_KEY)
        ),
    )
    .unwrap();
    let server = env!("CARGO_BIN_EXE_cipherstage-ssh-stdio-server");
    // OpenSSH runs the jump as `ssh -F CONFIG -W '[%h]:%p' jump` from this same file.
    let config = dir.join("ssh_config");
    let common = format!(
        "  UserKnownHostsFile {kh}\n  StrictHostKeyChecking yes\n  BatchMode yes\n  \
         IdentitiesOnly yes\n  IdentityFile {id}\n  Ciphers {cipher}\n",
        kh = kh.display(),
        id = id.display()
    );
    std::fs::write(
        &config,
        format!(
            "Host jump\n  HostName server.example\n  User alice\n  ProxyCommand {server} {cipher}\n\
             {common}\
             Host target\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  \
             HostKeyAlias target.internal\n  ProxyJump jump\n{common}",
            port = target.port,
            user = user(),
        ),
    )
    .unwrap();
    let child = Command::new(SSH)
        .arg("-F")
        .arg(&config)
        .arg("-v")
        .arg("target")
        .arg("echo jumped via $(hostname -s >/dev/null && echo sshd)")
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
    let out = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            kill(pid);
            panic!(
                "ssh -J did not finish in time; target log:\n{}",
                target.log()
            );
        }
    };
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let log = target.log();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "jumped via sshd\n",
        "ssh -v said:\n{err}\ntarget sshd log:\n{log}"
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
    // OpenSSH verified both host keys: ours for the jump, the target's for the inner one.
    assert!(
        err.contains("Host 'target.internal' is known and matches the ED25519 host key"),
        "{err}"
    );
    assert!(
        err.contains("Authenticated to target.internal")
            || err.contains("Authenticated to 127.0.0.1"),
        "{err}"
    );
    assert!(log.contains("Accepted publickey for"), "{log}");
    // The jump's ssh -W reached the target through our server: one connection.
    assert_eq!(target.connections(), 1, "{log}");
    drop(target);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openssh_uses_our_server_as_proxyjump_host_to_a_real_sshd_with_chacha20() {
    openssh_jumps_through_our_server(kex::CHACHA);
}

#[test]
fn openssh_uses_our_server_as_proxyjump_host_to_a_real_sshd_with_aes256_gcm() {
    openssh_jumps_through_our_server(kex::AES256_GCM);
}

fn client(host: &str, label: &str, command: &str, cipher: &str) -> Client {
    Client::new(
        ClientConfig {
            version: "SSH-2.0-cipherstage_0.1".into(),
            host: host.into(),
            known_hosts: vec![KnownHost {
                hosts: vec![host.into()],
                key: demo_host_key(ED25519, label).unwrap().public(),
            }],
            trust_on_first_use: false,
            user: user(),
            credential: Credential::Key(demo_key("cipherstage demo user key").unwrap()),
            command: command.into(),
            algorithms: Algorithms {
                kex: vec![kex::KEX_CURVE25519.into()],
                host_keys: vec![ED25519.into()],
                ciphers: vec![cipher.into()],
                strict: true,
            },
        },
        0,
    )
}

/// Our client: outer connection to a real sshd (the jump host), inner one to a
/// second real sshd through the outer one's direct-tcpip channel.
fn our_client_jumps_through_sshd(cipher: &str) {
    let dir = temp_dir("jump-ours");
    let target = Target::start(&dir, 1);
    let jump_config = sshd_config(&dir, "jump", "cipherstage demo host key");
    let log_path = dir.join("jump_sshd.log");
    let mut jump = Command::new(SSHD)
        .args(["-i", "-e", "-f"])
        .arg(&jump_config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    let mut stdin = jump.stdin.take().unwrap();
    let mut stdout = jump.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
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
    let mut outer = client("jump.internal", "cipherstage demo host key", "", cipher);
    outer.forward_to(DirectTcpip {
        host: "127.0.0.1".into(),
        port: u32::from(target.port),
        originator: "127.0.0.1".into(),
        originator_port: 65535,
    });
    let mut tunnel = Tunnel::new(client(
        "target.internal",
        TARGET_KEY,
        "echo inner connection on $(id -un)",
        cipher,
    ));
    let mut rng = Seeded::new(11);
    let mut events = Vec::new();
    let mut sent = Vec::new();
    let mut inner_sent = Vec::new();
    for o in outer.start(&mut rng).unwrap() {
        stdin.write_all(&o.bytes).unwrap();
        sent.push(o);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut failure = None;
    while !(tunnel.inner().is_closed() && outer.is_closed()) && Instant::now() < deadline {
        let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let step = outer
            .receive(&chunk, &mut rng, &mut events)
            .and_then(|mut out| {
                let st = tunnel.step(&mut outer, &mut rng, &mut events)?;
                out.extend(st.outer);
                inner_sent.extend(st.inner);
                Ok(out)
            });
        match step {
            Ok(out) => {
                for o in out {
                    stdin.write_all(&o.bytes).unwrap();
                    sent.push(o);
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    drop(stdin);
    if let Ok(None) = jump.try_wait() {
        kill(jump.id());
    }
    let _ = jump.wait();
    let jump_log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let target_log = target.log();
    assert!(
        failure.is_none(),
        "{failure:?}\njump log:\n{jump_log}\ntarget log:\n{target_log}"
    );
    let inner = tunnel.inner();
    assert_eq!(
        String::from_utf8_lossy(inner.output()),
        format!("inner connection on {}\n", user()),
        "jump log:\n{jump_log}\ntarget log:\n{target_log}"
    );
    assert_eq!(inner.exit_status(), Some(0));
    // The inner client checked the target's own host key.
    assert_eq!(
        inner.host_key(),
        Some(&demo_host_key(ED25519, TARGET_KEY).unwrap().public())
    );
    assert!(jump_log.contains("Accepted publickey for"), "{jump_log}");
    assert!(
        target_log.contains("Accepted publickey for"),
        "{target_log}"
    );
    // Two key exchanges' worth of packets: every inner one rode in an outer
    // CHANNEL_DATA, and every packet (outer and inner) is fully explained.
    assert!(inner_sent.iter().any(|o| o.label == "ssh.msg.kexinit"));
    let carried = sent
        .iter()
        .filter(|o| {
            inner_sent
                .iter()
                .any(|i| o.label == i.label && o.bytes.len() > i.bytes.len())
        })
        .count();
    assert!(
        carried >= inner_sent.len(),
        "{carried} < {}",
        inner_sent.len()
    );
    for o in sent.iter().chain(&inner_sent) {
        check_fields(&o.fields, 0, o.bytes.len()).unwrap();
    }
    drop(target);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn our_client_jumps_through_a_real_sshd_to_a_second_real_sshd_with_chacha20() {
    our_client_jumps_through_sshd(kex::CHACHA);
}

#[test]
fn our_client_jumps_through_a_real_sshd_to_a_second_real_sshd_with_aes256_gcm() {
    our_client_jumps_through_sshd(kex::AES256_GCM);
}
