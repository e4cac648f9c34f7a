//! Port forwarding with the real OpenSSH client (9.2p1) against our server
//! (ProxyCommand → our stdio server): `ssh -R` (tcpip-forward, then a
//! forwarded-tcpip channel for each connection to the port our server listens
//! on, relayed by the client to a responder the test starts), port 0 allocated
//! by us, a non-loopback bind refused (ExitOnForwardFailure), and `ssh -L`
//! (direct-tcpip). A missing binary fails; processes are killed by PID.
// Real OpenSSH/PuTTY peers and Unix processes: native Unix only (the wasm32 run
// of the crate's tests has neither).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cipherstage_ssh::keys::{KnownHost, ED25519};
use cipherstage_ssh::scenario::{demo_host_key, demo_key};

mod common;
use common::temp_dir;

const SSH: &str = "/usr/bin/ssh";

fn kill(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
}

/// The ssh child, killed by its PID and reaped when the test ends (or panics).
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            kill(self.0.id());
        }
        let _ = self.0.wait();
    }
}

/// A responder on loopback: reads to EOF, answers "responder got: …", for each connection.
fn responder() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = c.read_to_end(&mut buf);
                let mut answer = b"responder got: ".to_vec();
                answer.extend_from_slice(&buf);
                let _ = c.write_all(&answer);
            });
        }
    });
    port
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ssh -N ARGS… alice@server.example` through our server; stderr lines arrive on the channel.
fn ssh_n(dir: &Path, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    assert!(
        Path::new(SSH).exists(),
        "{SSH} is missing: install openssh-client"
    );
    let host = demo_host_key(ED25519, "cipherstage demo host key")
        .unwrap()
        .public();
    let id = dir.join("id");
    std::fs::write(
        &id,
        demo_key("cipherstage demo user key")
            .unwrap()
            .to_openssh_private("alice"),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
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
        .args(["-F", "/dev/null", "-v", "-N"])
        .arg("-o")
        .arg(format!("ProxyCommand={server}"))
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", kh.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
        .args(["-o", "IdentitiesOnly=yes", "-o", "ExitOnForwardFailure=yes"])
        .arg("-i")
        .arg(&id)
        .args(args)
        .arg("alice@server.example")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits for a stderr line containing `what`; returns it (all lines so far on failure).
fn wait_for(rx: &mpsc::Receiver<String>, what: &str, seen: &mut Vec<String>) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(what) {
                    return Some(line);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
    None
}

fn through(port: u16, data: &[u8]) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(e) => {
                assert!(Instant::now() < deadline, "connect {port}: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.write_all(data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn ssh_r_publishes_a_local_service_through_our_server() {
    let dir = temp_dir("fwd-r");
    let resp = responder();
    // Port 0: our server picks the port and says which in REQUEST_SUCCESS.
    let spec = format!("0:127.0.0.1:{resp}");
    let (child, rx) = ssh_n(&dir, &["-R", &spec]);
    let child = Guard(child);
    let mut seen = Vec::new();
    let line = wait_for(&rx, "Allocated port", &mut seen);
    let Some(line) = line else {
        panic!("no allocated port:\n{}", seen.join("\n"));
    };
    let port: u16 = line
        .split("Allocated port ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    // Three connections in turn, each its own forwarded-tcpip channel.
    for i in 0..3 {
        let msg = format!("request {i} via ssh -R\n");
        let got = through(port, msg.as_bytes());
        if got != format!("responder got: {msg}").as_bytes() {
            std::thread::sleep(Duration::from_millis(500));
            seen.extend(rx.try_iter());
            panic!("{:?}\n{}", String::from_utf8_lossy(&got), seen.join("\n"));
        }
    }
    // And one with an explicit port.
    drop(child);
    let fixed = free_port();
    let spec = format!("{fixed}:127.0.0.1:{resp}");
    let (child, rx) = ssh_n(&dir, &["-R", &spec]);
    let child = Guard(child);
    let mut seen = Vec::new();
    let ok = wait_for(&rx, "remote forward success", &mut seen);
    if ok.is_none() {
        panic!("no success:\n{}", seen.join("\n"));
    }
    let got = through(fixed, b"fixed port\n");
    assert_eq!(String::from_utf8_lossy(&got), "responder got: fixed port\n");
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ssh_r_on_a_non_loopback_address_is_refused() {
    let dir = temp_dir("fwd-refused");
    let (child, rx) = ssh_n(&dir, &["-R", "192.0.2.1:0:127.0.0.1:9"]);
    let mut child = Guard(child);
    let mut seen = Vec::new();
    let line = wait_for(&rx, "remote port forwarding failed", &mut seen);
    let status = {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(s)) = child.0.try_wait() {
                break Some(s);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    assert!(line.is_some(), "{}", seen.join("\n"));
    assert_eq!(status.and_then(|s| s.code()), Some(255));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ssh_l_forwards_a_local_port_through_our_server() {
    let dir = temp_dir("fwd-l");
    let resp = responder();
    let local = free_port();
    let spec = format!("127.0.0.1:{local}:127.0.0.1:{resp}");
    let (child, rx) = ssh_n(&dir, &["-L", &spec]);
    let child = Guard(child);
    let mut seen = Vec::new();
    if wait_for(&rx, "Entering interactive session", &mut seen).is_none() {
        panic!("{}", seen.join("\n"));
    }
    for i in 0..3 {
        let msg = format!("request {i} via ssh -L\n");
        let got = through(local, msg.as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&got),
            format!("responder got: {msg}")
        );
    }
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
