//! Interop with OpenSSL 3 (`/usr/bin/openssl`) on 127.0.0.1 through the `tls-peer`
//! tool: our client against `openssl s_server -tls1_3`, `openssl s_client` against
//! our server; SNI, mTLS and failures. A missing openssl is a failure, not a skip.
//!
//! OpenSSL checks certificates against the machine's clock, so the test PKI is built
//! for it (`tls-peer pki --now`, `Pki::build_at`: the scenarios' validity dates moved
//! by whole days) and our side verifies at the same moment (`--now`): these tests pass
//! on any date, and an expired certificate is expired for OpenSSL too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const OPENSSL: &str = "/usr/bin/openssl";
const PEER: &str = env!("CARGO_BIN_EXE_tls-peer");
const DEADLINE: Duration = Duration::from_secs(20);

/// The machine's clock, in seconds since the epoch, as `--now` takes it: the moment
/// OpenSSL verifies at, so the PKI is built for it and our side verifies at it.
fn wall_clock() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string()
}

/// A scratch directory with the test PKI as PEM, valid for today.
fn pki_dir(tag: &str) -> PathBuf {
    assert!(
        Path::new(OPENSSL).exists(),
        "{OPENSSL} is required (apt-get install openssl)"
    );
    let dir = std::env::temp_dir().join(format!(
        "cipherstage-tls-openssl-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(PEER)
        .args(["pki"])
        .arg(&dir)
        .args(["--now", &wall_clock()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut chain = std::fs::read_to_string(dir.join("intermediate.pem")).unwrap();
    chain += &std::fs::read_to_string(dir.join("root.pem")).unwrap();
    std::fs::write(dir.join("chainca.pem"), chain).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills a child by its PID when dropped.
struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a process and waits (bounded) for a line containing `ready` on its stdout.
fn start(cmd: &mut Command, ready: &str) -> (Killer, mpsc::Receiver<String>) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let killer = Killer(child);
    let until = Instant::now() + DEADLINE;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(ready) => break,
            Ok(_) => continue,
            Err(_) => panic!("process did not print {ready:?} in time"),
        }
    }
    (killer, rx)
}

/// Runs a command to completion within the deadline (killed by PID otherwise).
fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&data);
        // Keep stdin open briefly so s_client does not quit before the answer.
        std::thread::sleep(Duration::from_secs(2));
    });
    let until = Instant::now() + DEADLINE;
    loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break;
        }
        if Instant::now() > until {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn s_server(dir: &Path, port: u16, extra: &[&str]) -> Killer {
    let mut args = vec![
        "-cert",
        "www-leaf.pem",
        "-key",
        "www.key",
        "-servername",
        "shop.example.com",
        "-cert2",
        "shop-leaf.pem",
        "-key2",
        "shop.key",
        "-CAfile",
        "chainca.pem",
        "-build_chain",
    ];
    args.extend_from_slice(extra);
    openssl_s_server(dir, port, &args)
}

/// `openssl s_server -tls1_3 -www` on 127.0.0.1:`port` with `args`, started and
/// waited for; killed by PID when dropped.
fn openssl_s_server(dir: &Path, port: u16, args: &[&str]) -> Killer {
    let mut cmd = Command::new(OPENSSL);
    cmd.current_dir(dir)
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
        ])
        .args(args)
        .arg("-www");
    start(&mut cmd, "ACCEPT").0
}

fn our_client(dir: &Path, port: u16, args: &[&str]) -> Output {
    let mut cmd = Command::new(PEER);
    cmd.current_dir(dir)
        .args(["client", &format!("127.0.0.1:{port}"), "--ca", "root.pem"])
        .args(["--now", &wall_clock()])
        .args(args);
    run(&mut cmd, b"")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `tls-peer` ended on an alert (exit 2) and says which.
fn assert_alert(out: &Output, what: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(what), "{err}");
}

#[test]
fn our_client_gets_each_sni_host_from_openssl_s_server() {
    let dir = pki_dir("sni");
    let port = free_port();
    let _server = s_server(&dir, port, &[]);
    for host in ["www.example.com", "shop.example.com"] {
        let json = format!("{host}.json");
        let out = our_client(&dir, port, &["--host", host, "--json", &json]);
        assert!(out.status.success(), "{host}: {}", text(&out.stderr));
        let body = text(&out.stdout);
        assert!(body.starts_with("HTTP/1.0 200 ok"), "{body}");
        assert!(body.contains("Cipher is TLS_AES_128_GCM_SHA256"), "{body}");
        // The recorded handshake is a valid transcript: every byte explained.
        let t = cipherstage_transcript::Transcript::from_json(
            &std::fs::read_to_string(dir.join(&json)).unwrap(),
        )
        .unwrap();
        assert_eq!(cipherstage_transcript::check_coverage(&t), Ok(()));
        let certs: Vec<_> = t
            .messages()
            .filter(|m| m.label == "tls.msg.certificate")
            .collect();
        assert_eq!(certs.len(), 1, "{host}");
    }
    // Every suite and both groups.
    for (suite, group) in [
        ("TLS_AES_256_GCM_SHA384", "secp256r1"),
        ("TLS_CHACHA20_POLY1305_SHA256", "x25519"),
    ] {
        let out = our_client(
            &dir,
            port,
            &[
                "--host",
                "www.example.com",
                "--suite",
                suite,
                "--group",
                group,
            ],
        );
        assert!(out.status.success(), "{suite}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(&format!("Cipher is {suite}")));
    }
}

#[test]
fn openssl_s_server_with_verify_accepts_our_client_certificate_and_rejects_its_absence() {
    let dir = pki_dir("mtls");
    let port = free_port();
    let _server = s_server(&dir, port, &["-Verify", "1", "-verify_return_error"]);
    let out = our_client(
        &dir,
        port,
        &[
            "--host",
            "www.example.com",
            "--cert",
            "alice.pem",
            "--key",
            "alice.key",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Verify return code: 0 (ok)"),
        "{}",
        text(&out.stdout)
    );
    // Refused at once: the alert is reported (not a broken pipe) and the key log and
    // the transcript are written on this failure path too.
    let out = our_client(
        &dir,
        port,
        &[
            "--host",
            "www.example.com",
            "--json",
            "refused.json",
            "--keylog",
            "refused.keylog",
        ],
    );
    assert_alert(&out, "alert certificate_required received");
    let json = std::fs::read_to_string(dir.join("refused.json")).expect("the JSON is written");
    let t = cipherstage_transcript::Transcript::from_json(&json).expect("it is a transcript");
    assert!(
        t.messages().any(|m| m.label == "tls.msg.alert"),
        "the alert is in it"
    );
    let keylog =
        std::fs::read_to_string(dir.join("refused.keylog")).expect("the key log is written");
    assert!(
        keylog.contains("SERVER_HANDSHAKE_TRAFFIC_SECRET"),
        "{keylog}"
    );
    let out = our_client(
        &dir,
        port,
        &[
            "--host",
            "www.example.com",
            "--cert",
            "alice-untrusted.pem",
            "--key",
            "alice-untrusted.key",
        ],
    );
    assert_alert(&out, "alert unknown_ca received");
}

#[test]
fn our_client_rejects_openssl_serving_an_expired_or_misnamed_certificate() {
    let dir = pki_dir("bad");
    let port = free_port();
    let _server = openssl_s_server(
        &dir,
        port,
        &[
            "-cert",
            "www-expired-leaf.pem",
            "-key",
            "www-expired.key",
            "-cert_chain",
            "intermediate.pem",
        ],
    );
    let out = our_client(&dir, port, &["--host", "www.example.com"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("alert certificate_expired sent"),
        "{}",
        text(&out.stderr)
    );
    let out = our_client(&dir, port, &["--host", "mail.example.com"]);
    assert!(text(&out.stderr).contains("alert"), "{}", text(&out.stderr));
}

/// OpenSSL refuses our server's expired and not-yet-valid certificates by its own
/// clock: the PKI built for today keeps them on the wrong side of it.
#[test]
fn openssl_s_client_refuses_our_expired_and_not_yet_valid_server_certificates() {
    let dir = pki_dir("dates");
    for (name, error) in [
        ("www-expired", "certificate has expired"),
        ("www-not-yet-valid", "certificate is not yet valid"),
        ("www", ""),
    ] {
        let port = free_port();
        let vhost = format!("www.example.com={name}.pem,{name}.key");
        let mut cmd = Command::new(PEER);
        cmd.current_dir(&dir).args([
            "server",
            &format!("127.0.0.1:{port}"),
            "--vhost",
            &vhost,
            "--now",
            &wall_clock(),
        ]);
        let (mut server, _) = start(&mut cmd, "listening");
        let out = s_client(&dir, port, &["-servername", "www.example.com"]);
        let all = text(&out.stdout) + &text(&out.stderr);
        if error.is_empty() {
            // The same chain with today's good leaf: the dates were the only fault.
            assert!(all.contains("Verify return code: 0 (ok)"), "{name}: {all}");
            assert_eq!(wait_exit(&mut server), Some(0));
        } else {
            assert!(all.contains(error), "{name}: {all}");
            assert!(!all.contains("Hello from"), "{name}: {all}");
            let _ = wait_exit(&mut server);
        }
    }
}

fn our_server(dir: &Path, port: u16, extra: &[&str]) -> (Killer, mpsc::Receiver<String>) {
    let mut cmd = Command::new(PEER);
    cmd.current_dir(dir).args([
        "server",
        &format!("127.0.0.1:{port}"),
        "--vhost",
        "www.example.com=www.pem,www.key",
        "--vhost",
        "shop.example.com=shop.pem,shop.key",
        "--json",
        "server.json",
        "--keylog",
        "server-keys.txt",
        "--now",
        &wall_clock(),
    ]);
    cmd.args(extra);
    start(&mut cmd, "listening")
}

fn s_client(dir: &Path, port: u16, extra: &[&str]) -> Output {
    let mut cmd = Command::new(OPENSSL);
    cmd.current_dir(dir)
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-tls1_3",
            "-CAfile",
            "root.pem",
            "-verify_return_error",
            "-ign_eof",
        ])
        .args(extra);
    run(&mut cmd, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
}

fn wait_exit(k: &mut Killer) -> Option<i32> {
    let until = Instant::now() + DEADLINE;
    loop {
        if let Some(s) = k.0.try_wait().unwrap() {
            return s.code();
        }
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn openssl_s_client_verifies_our_server_per_sni_and_derives_the_same_secrets() {
    let dir = pki_dir("sclient");
    for host in ["shop.example.com", "www.example.com"] {
        let port = free_port();
        let (mut server, _) = our_server(&dir, port, &[]);
        let out = s_client(
            &dir,
            port,
            &["-servername", host, "-keylogfile", "openssl-keys.txt"],
        );
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("Verify return code: 0 (ok)"),
            "{stdout}\n{}",
            text(&out.stderr)
        );
        assert!(stdout.contains(&format!("Hello from {host}")), "{stdout}");
        assert!(stdout.contains("TLSv1.3"), "{stdout}");
        assert_eq!(wait_exit(&mut server), Some(0));
        // OpenSSL's key log and ours hold the same secrets for the same client random.
        let mut theirs: Vec<String> = std::fs::read_to_string(dir.join("openssl-keys.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_owned)
            .collect();
        let mut ours: Vec<String> = std::fs::read_to_string(dir.join("server-keys.txt"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        theirs.sort();
        ours.sort();
        assert_eq!(ours, theirs, "{host}");
        assert_eq!(ours.len(), 5);
        let _ = std::fs::remove_file(dir.join("openssl-keys.txt"));
    }
}

#[test]
fn openssl_s_client_and_our_mtls_server() {
    let dir = pki_dir("smtls");
    let port = free_port();
    let (mut server, _) = our_server(&dir, port, &["--client-ca", "root.pem"]);
    let out = s_client(
        &dir,
        port,
        &[
            "-servername",
            "www.example.com",
            "-cert",
            "alice-leaf.pem",
            "-cert_chain",
            "intermediate.pem",
            "-key",
            "alice.key",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Hello from www.example.com"),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert_eq!(wait_exit(&mut server), Some(0));

    let port = free_port();
    let (mut server, _) = our_server(&dir, port, &["--client-ca", "root.pem"]);
    let out = s_client(&dir, port, &["-servername", "www.example.com"]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains("certificate required"), "{all}");
    assert_eq!(wait_exit(&mut server), Some(2));
    let mut err = String::new();
    server
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("alert certificate_required sent"), "{err}");
}

/// ECDSA P-256 both ways: OpenSSL verifies the CertificateVerify our server and our
/// client sign with ECDSA (a random nonce per signature), and we verify OpenSSL's.
#[test]
fn ecdsa_p256_certificate_verify_both_ways_with_openssl() {
    let dir = pki_dir("ecdsa");
    // openssl s_client ↔ our server with an ECDSA certificate, asking for alice's ECDSA one.
    let port = free_port();
    let (mut server, _) = {
        let mut cmd = Command::new(PEER);
        cmd.current_dir(&dir).args([
            "server",
            &format!("127.0.0.1:{port}"),
            "--vhost",
            "www.example.com=www-ecdsa.pem,www-ecdsa.key",
            "--client-ca",
            "root.pem",
            "--now",
            &wall_clock(),
        ]);
        start(&mut cmd, "listening")
    };
    let out = s_client(
        &dir,
        port,
        &[
            "-servername",
            "www.example.com",
            "-sigalgs",
            "ecdsa_secp256r1_sha256",
            "-cert",
            "alice-ecdsa-leaf.pem",
            "-cert_chain",
            "intermediate.pem",
            "-key",
            "alice-ecdsa.key",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Verify return code: 0 (ok)"),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("Peer signature type: ECDSA"), "{stdout}");
    assert!(stdout.contains("Hello from www.example.com"), "{stdout}");
    assert_eq!(wait_exit(&mut server), Some(0));

    // Our client ↔ openssl s_server with an ECDSA certificate, demanding a client
    // certificate: ours signs with alice's ECDSA key.
    let port = free_port();
    let _s = openssl_s_server(
        &dir,
        port,
        &[
            "-cert",
            "www-ecdsa-leaf.pem",
            "-key",
            "www-ecdsa.key",
            "-CAfile",
            "chainca.pem",
            "-build_chain",
            "-Verify",
            "1",
            "-verify_return_error",
        ],
    );
    let out = our_client(
        &dir,
        port,
        &[
            "--host",
            "www.example.com",
            "--cert",
            "alice-ecdsa.pem",
            "--key",
            "alice-ecdsa.key",
            "--json",
            "ecdsa.json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = text(&out.stdout);
    assert!(body.contains("Verify return code: 0 (ok)"), "{body}");
    // Both CertificateVerify messages in the recorded handshake use ECDSA.
    let t = cipherstage_transcript::Transcript::from_json(
        &std::fs::read_to_string(dir.join("ecdsa.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cipherstage_transcript::check_coverage(&t), Ok(()));
    let schemes: Vec<(usize, String)> = t
        .messages()
        .filter(|m| m.label == "tls.msg.certificate_verify")
        .filter_map(|m| Some((m.from, scheme_of(&m.fields)?)))
        .collect();
    let ecdsa = "tls.sig.ecdsa_secp256r1_sha256".to_owned();
    assert_eq!(
        schemes,
        [(1, ecdsa.clone()), (0, ecdsa)],
        "both sides sign with ECDSA"
    );
}

/// The signature scheme named in a CertificateVerify's field tree.
fn scheme_of(fields: &[cipherstage_transcript::Field]) -> Option<String> {
    fields.iter().find_map(|f| {
        if f.name == "tls.field.signature_scheme" {
            if let Some(cipherstage_transcript::Value::Key(k)) = &f.value {
                return Some(k.clone());
            }
        }
        scheme_of(&f.children)
    })
}

/// A 2048-bit RSA root and server certificate for www.example.com, made by OpenSSL
/// (ring cannot generate RSA keys): rsa-ca.pem, rsa-leaf.pem, rsa-leaf.key.
fn rsa_pki(tag: &str) -> PathBuf {
    let dir = pki_dir(tag);
    let ossl = |args: &[&str]| {
        let out = Command::new(OPENSSL)
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    };
    ossl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "rsa-ca.key",
        "-out",
        "rsa-ca.pem",
        "-subj",
        "/CN=RSA Test Root",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    ossl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "rsa-leaf.key",
        "-out",
        "rsa-leaf.csr",
        "-subj",
        "/CN=www.example.com",
        "-addext",
        "subjectAltName=DNS:www.example.com",
    ]);
    ossl(&[
        "x509",
        "-req",
        "-in",
        "rsa-leaf.csr",
        "-CA",
        "rsa-ca.pem",
        "-CAkey",
        "rsa-ca.key",
        "-out",
        "rsa-leaf.pem",
        "-days",
        "30",
        "-copy_extensions",
        "copy",
        "-sha256",
    ]);
    dir
}

/// Our client checks an RSA chain (PKCS#1 signature) and the rsa_pss_rsae_sha256
/// CertificateVerify OpenSSL signs.
#[test]
fn our_client_verifies_openssl_rsa_pss_certificate_verify() {
    let dir = rsa_pki("rsa");
    let port = free_port();
    let _server = openssl_s_server(
        &dir,
        port,
        &["-cert", "rsa-leaf.pem", "-key", "rsa-leaf.key"],
    );
    // The certificates are made now, so verify at the real time.
    let now = wall_clock();
    let mut cmd = Command::new(PEER);
    cmd.current_dir(&dir).args([
        "client",
        &format!("127.0.0.1:{port}"),
        "--ca",
        "rsa-ca.pem",
        "--host",
        "www.example.com",
        "--now",
        &now,
        "--json",
        "rsa.json",
    ]);
    let out = run(&mut cmd, b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("HTTP/1.0 200 ok"));
    let t = cipherstage_transcript::Transcript::from_json(
        &std::fs::read_to_string(dir.join("rsa.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cipherstage_transcript::check_coverage(&t), Ok(()));
    let schemes: Vec<(usize, String)> = t
        .messages()
        .filter(|m| m.label == "tls.msg.certificate_verify")
        .filter_map(|m| Some((m.from, scheme_of(&m.fields)?)))
        .collect();
    assert_eq!(schemes, [(1, "tls.sig.rsa_pss_rsae_sha256".to_owned())]);
    // Trusting another root, the same server is refused: the RSA chain was really checked.
    let mut cmd = Command::new(PEER);
    cmd.current_dir(&dir).args([
        "client",
        &format!("127.0.0.1:{port}"),
        "--ca",
        "root.pem",
        "--host",
        "www.example.com",
        "--now",
        &now,
    ]);
    let out = run(&mut cmd, b"");
    assert_alert(&out, "alert unknown_ca sent");
}

/// Our server signs CertificateVerify with RSA-PSS (an OpenSSL-made key: ring signs
/// with RSA keys but cannot make them), and openssl s_client verifies it.
#[test]
fn openssl_s_client_verifies_our_rsa_pss_certificate_verify() {
    let dir = rsa_pki("rsa-server");
    let port = free_port();
    let mut cmd = Command::new(PEER);
    cmd.current_dir(&dir).args([
        "server",
        &format!("127.0.0.1:{port}"),
        "--vhost",
        "www.example.com=rsa-leaf.pem,rsa-leaf.key",
        "--json",
        "rsa-server.json",
    ]);
    let (mut server, _) = start(&mut cmd, "listening");
    let mut cmd = Command::new(OPENSSL);
    cmd.current_dir(&dir).args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-tls1_3",
        "-CAfile",
        "rsa-ca.pem",
        "-verify_return_error",
        "-servername",
        "www.example.com",
        "-ign_eof",
    ]);
    let out = run(&mut cmd, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Verify return code: 0 (ok)"),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("Peer signature type: RSA-PSS"), "{stdout}");
    assert!(stdout.contains("Hello from www.example.com"), "{stdout}");
    assert_eq!(wait_exit(&mut server), Some(0));
}
