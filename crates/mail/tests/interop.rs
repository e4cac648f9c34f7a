//! Interop on 127.0.0.1 through the `mail-peer` tool: `openssl s_client` (with
//! `-starttls smtp`, and TLS from the first byte as on port 465) and `swaks`
//! (`--tls`, `--tls-on-connect`, `--auth PLAIN`) against our server, and our
//! client against Python's aiosmtpd (STARTTLS and implicit TLS). The message the
//! other side receives is byte for byte our S/MIME mail. A missing peer fails the
//! test, never skips it; every process is started here and killed by its PID.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cipherstage_mail::scenario::{run, Params, Story};

const PEER: &str = env!("CARGO_BIN_EXE_mail-peer");
const OPENSSL: &str = "/usr/bin/openssl";
const SWAKS: &str = "/usr/bin/swaks";
const PYTHON: &str = "/usr/bin/python3";
const DEADLINE: Duration = Duration::from_secs(30);
const USER: &str = "alice@example.com";
const PASS: &str = "pw-for-interop";
/// base64("\0alice@example.com\0pw-for-interop"), for clients that take it as typed.
const PLAIN: &str = "AGFsaWNlQGV4YW1wbGUuY29tAHB3LWZvci1pbnRlcm9w";

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is required: apt-get install {package} (cargo xtask setup lists it)"
    );
}

/// A scratch directory with the test PKI and our mail (the smtp-submission
/// scenario's S/MIME-encrypted message, seed 1).
fn scratch(tag: &str) -> (PathBuf, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("cipherstage-mail-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Built for the machine's clock, which openssl, swaks, Python and our client
    // check the certificates against: valid on any date.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let out = Command::new(PEER)
        .arg("pki")
        .arg(&dir)
        .args(["--now", &now])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let eml = run(
        "smtp-submission",
        Story::Submission,
        &Params::default(),
        Some(1),
    )
    .eml
    .expect("the scenario delivers its mail");
    std::fs::write(dir.join("mail.eml"), &eml).unwrap();
    (dir, eml)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child killed (by its PID) and reaped when dropped, with its stdout lines.
struct Peer {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts `cmd` and waits (bounded) for a stdout line containing `ready`.
    fn start(cmd: &mut Command, ready: &str) -> Peer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let peer = Peer { child, lines: rx };
        let until = Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match peer.lines.recv_timeout(left) {
                Ok(l) if l.contains(ready) => return peer,
                Ok(_) => continue,
                Err(_) => panic!("{cmd:?} did not print {ready:?} in time"),
            }
        }
    }

    /// Waits (bounded) for the child to exit; its exit success and later lines.
    fn finish(mut self) -> (bool, Vec<String>) {
        let until = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < until, "peer did not exit in time");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut lines = Vec::new();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
            lines.push(l);
        }
        (status.success(), lines)
    }
}

/// Our server on a fresh port: `mode` starttls or implicit, AUTH PLAIN required.
fn our_server(dir: &Path, mode: &str) -> (Peer, u16) {
    let port = free_port();
    let peer = Peer::start(
        Command::new(PEER)
            .arg("server")
            .arg(format!("127.0.0.1:{port}"))
            .args(["--mode", mode, "--require-auth"])
            .args(["--auth", &format!("{USER}:{PASS}")])
            .arg("--cert")
            .arg(dir.join("smtp.pem"))
            .arg("--key")
            .arg(dir.join("smtp.key"))
            .arg("--out")
            .arg(dir.join("received.eml")),
        "ready",
    );
    (peer, port)
}

/// Runs a client to completion (bounded), feeding `stdin`; its stdout and stderr.
fn run_client(cmd: &mut Command, stdin: &[u8]) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        let mut e = String::new();
        let _ = err.read_to_string(&mut e);
        s + &e
    });
    let peer = Peer {
        child,
        lines: mpsc::channel().1,
    };
    let (ok, _) = peer.finish();
    (ok, reader.join().unwrap())
}

/// The server accepted the message, byte for byte ours, from Alice, inside TLS.
fn assert_received(server: Peer, dir: &Path, eml: &[u8], transcript: &str) {
    let (ok, lines) = server.finish();
    assert!(ok, "our server accepted nothing: {lines:?}\n{transcript}");
    let line = lines.iter().find(|l| l.starts_with("accepted")).unwrap();
    assert!(
        line.contains("from=alice@example.com to=bob@example.com")
            && line.contains("tls=true user=alice@example.com"),
        "{line}"
    );
    let got = std::fs::read(dir.join("received.eml")).unwrap();
    assert!(got == eml, "the received message differs from ours");
    let _ = std::fs::remove_dir_all(dir);
}

/// What `openssl s_client -crlf` sends once TLS is up: LF lines it turns into CRLF.
fn s_client_input(eml: &[u8]) -> Vec<u8> {
    let mut s = format!(
        "EHLO openssl.test\nAUTH PLAIN {PLAIN}\nMAIL FROM:<alice@example.com>\nRCPT TO:<bob@example.com>\nDATA\n"
    )
    .into_bytes();
    s.extend(eml.iter().filter(|&&b| b != b'\r'));
    s.extend_from_slice(b".\nQUIT\n");
    s
}

fn s_client(dir: &Path, port: u16, starttls: bool, eml: &[u8]) -> (bool, String) {
    require(OPENSSL, "openssl");
    let mut cmd = Command::new(OPENSSL);
    cmd.arg("s_client");
    if starttls {
        cmd.args(["-starttls", "smtp"]);
    }
    cmd.args(["-connect", &format!("127.0.0.1:{port}")])
        .args(["-servername", "smtp.example.net", "-verify_return_error"])
        .arg("-CAfile")
        .arg(dir.join("root.pem"))
        .args(["-crlf", "-ign_eof", "-nocommands", "-quiet"]);
    run_client(&mut cmd, &s_client_input(eml))
}

#[test]
fn openssl_s_client_starttls_smtp_submits_our_mail_through_our_server() {
    let (dir, eml) = scratch("s-client-starttls");
    let (server, port) = our_server(&dir, "starttls");
    let (_, out) = s_client(&dir, port, true, &eml);
    for want in ["235 2.7.0", "354 ", "250 2.0.0 Ok: queued", "221 2.0.0 Bye"] {
        assert!(out.contains(want), "{want}: {out}");
    }
    assert!(
        !out.contains("verify error"),
        "s_client verified our chain: {out}"
    );
    assert_received(server, &dir, &eml, &out);
}

#[test]
fn openssl_s_client_with_tls_from_the_first_byte_submits_through_our_server() {
    let (dir, eml) = scratch("s-client-implicit");
    let (server, port) = our_server(&dir, "implicit");
    let (_, out) = s_client(&dir, port, false, &eml);
    assert!(out.contains("220 smtp.example.net"), "{out}");
    assert!(out.contains("250 2.0.0 Ok: queued"), "{out}");
    assert_received(server, &dir, &eml, &out);
}

fn swaks(dir: &Path, port: u16, tls: &str) -> (bool, String) {
    require(SWAKS, "swaks");
    // swaks needs Net::SSLeay for TLS (Debian libnet-ssleay-perl).
    let ssleay = Command::new("perl")
        .args(["-MNet::SSLeay", "-e", "1"])
        .status()
        .unwrap();
    assert!(ssleay.success(), "apt-get install libnet-ssleay-perl");
    // The DATA portion as swaks takes it: the mail and its final "." line, sent as is.
    let mut data = std::fs::read(dir.join("mail.eml")).unwrap();
    data.extend_from_slice(b".\r\n");
    std::fs::write(dir.join("data.txt"), data).unwrap();
    run_client(
        Command::new(SWAKS)
            .args(["--server", "127.0.0.1", "--port", &port.to_string(), tls])
            .args([
                "--tls-verify",
                "--tls-sni",
                "smtp.example.net",
                "--tls-ca-path",
            ])
            .arg(dir.join("root.pem"))
            .args([
                "--auth",
                "PLAIN",
                "--auth-user",
                USER,
                "--auth-password",
                PASS,
            ])
            .args(["--from", "alice@example.com", "--to", "bob@example.com"])
            .arg("--data")
            .arg(format!("@{}", dir.join("data.txt").display())),
        b"",
    )
}

#[test]
fn swaks_tls_auth_plain_sends_our_eml_byte_identical() {
    let (dir, eml) = scratch("swaks-starttls");
    let (server, port) = our_server(&dir, "starttls");
    let (ok, out) = swaks(&dir, port, "--tls");
    assert!(ok, "{out}");
    assert!(out.contains("<-  250-STARTTLS"), "{out}");
    assert!(out.contains("=== TLS started with cipher TLSv1.3"), "{out}");
    assert!(out.contains("<~  235 2.7.0"), "AUTH inside TLS: {out}");
    assert_received(server, &dir, &eml, &out);
}

#[test]
fn swaks_tls_on_connect_auth_plain_sends_our_eml_byte_identical() {
    let (dir, eml) = scratch("swaks-implicit");
    let (server, port) = our_server(&dir, "implicit");
    let (ok, out) = swaks(&dir, port, "--tls-on-connect");
    assert!(ok, "{out}");
    assert!(!out.contains("STARTTLS"), "{out}");
    assert!(out.contains("<~  250 2.0.0 Ok: queued"), "{out}");
    assert_received(server, &dir, &eml, &out);
}

const AIOSMTPD: &str = r#"
import ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

port, mode, cert, key, out, user, password = sys.argv[1:8]

class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(out, "wb") as f:
            f.write(envelope.original_content)
        login = session.auth_data.login.decode() if session.authenticated else "-"
        print(f"accepted from={envelope.mail_from} to={','.join(envelope.rcpt_tos)} login={login}", flush=True)
        return "250 2.0.0 Ok: queued by aiosmtpd"

def auth(server, session, envelope, mechanism, data):
    ok = mechanism == "PLAIN" and data.login == user.encode() and data.password == password.encode()
    return AuthResult(success=ok, auth_data=data)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
kw = dict(authenticator=auth, auth_required=True, auth_require_tls=True,
          hostname="127.0.0.1", port=int(port), server_hostname="smtp.example.net")
if mode == "starttls":
    c = Controller(Handler(), tls_context=ctx, require_starttls=True, **kw)
else:
    # With ssl_context (TLS from the first byte) aiosmtpd does not count the session
    # as TLS for auth_require_tls and would hide AUTH; it is TLS all the same.
    kw["auth_require_tls"] = False
    c = Controller(Handler(), ssl_context=ctx, **kw)
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"#;

fn our_client_to_aiosmtpd(mode: &str) {
    require(PYTHON, "python3");
    let check = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .status()
        .unwrap();
    assert!(check.success(), "apt-get install python3-aiosmtpd");
    let (dir, eml) = scratch(&format!("aiosmtpd-{mode}"));
    std::fs::write(dir.join("peer.py"), AIOSMTPD).unwrap();
    let port = free_port();
    let server = Peer::start(
        Command::new(PYTHON)
            .arg(dir.join("peer.py"))
            .arg(port.to_string())
            .arg(mode)
            .arg(dir.join("smtp.pem"))
            .arg(dir.join("smtp.key"))
            .arg(dir.join("received.eml"))
            .args([USER, PASS]),
        "ready",
    );
    let (ok, out) = run_client(
        Command::new(PEER)
            .arg("client")
            .arg(format!("127.0.0.1:{port}"))
            .args(["--mode", mode, "--host", "smtp.example.net", "--ca"])
            .arg(dir.join("root.pem"))
            .args(["--from", "alice@example.com", "--to", "bob@example.com"])
            .args(["--auth", &format!("{USER}:{PASS}"), "--message"])
            .arg(dir.join("mail.eml")),
        b"",
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("queued: 2.0.0 Ok: queued by aiosmtpd (tls=true)"),
        "{out}"
    );
    let until = Instant::now() + DEADLINE;
    let line = loop {
        let left = until.saturating_duration_since(Instant::now());
        let l = server
            .lines
            .recv_timeout(left)
            .expect("aiosmtpd reports the mail");
        if l.starts_with("accepted") {
            break l;
        }
    };
    assert_eq!(
        line,
        "accepted from=alice@example.com to=bob@example.com login=alice@example.com"
    );
    let got = std::fs::read(dir.join("received.eml")).unwrap();
    assert!(got == eml, "aiosmtpd received other bytes than we sent");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn our_client_starttls_and_auth_plain_to_aiosmtpd_delivers_byte_identical() {
    our_client_to_aiosmtpd("starttls");
}

#[test]
fn our_client_with_implicit_tls_to_aiosmtpd_delivers_byte_identical() {
    our_client_to_aiosmtpd("implicit");
}

#[test]
fn a_one_megabyte_line_on_a_real_socket_gets_500_and_the_session_goes_on() {
    let (dir, _) = scratch("long-line");
    let port = free_port();
    let server = Peer::start(
        Command::new(PEER)
            .arg("server")
            .arg(format!("127.0.0.1:{port}"))
            .args(["--mode", "clear", "--cert"])
            .arg(dir.join("smtp.pem"))
            .arg("--key")
            .arg(dir.join("smtp.key")),
        "ready",
    );
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut input = vec![b'a'; 1 << 20];
    input.extend_from_slice(b"\r\nNOOP\r\nQUIT\r\n");
    sock.write_all(&input).unwrap();
    let mut got = Vec::new();
    let until = Instant::now() + DEADLINE;
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"221 2.0.0 Bye\r\n") && Instant::now() < until {
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert_eq!(
        text,
        "220 smtp.example.net ESMTP cipherstage\r\n500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

const IMAPLIB: &str = r#"
import imaplib, ssl, sys
port, ca, user, password, out = sys.argv[1:6]
ctx = ssl.create_default_context(cafile=ca)

class Imaps(imaplib.IMAP4_SSL):
    # Connect to 127.0.0.1 but check the certificate for the server's name.
    def _create_socket(self, timeout):
        sock = imaplib.IMAP4._create_socket(self, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname="smtp.example.net")

m = Imaps("127.0.0.1", int(port), ssl_context=ctx)
print("caps", " ".join(sorted(c.decode() if isinstance(c, bytes) else c for c in m.capabilities)), flush=True)
print("login", m.login(user, password)[0], flush=True)
typ, data = m.select("INBOX")
print("select", typ, data[0].decode(), flush=True)
typ, data = m.fetch("1", "(BODY[])")
with open(out, "wb") as f:
    f.write(data[0][1])
print("fetch", typ, flush=True)
print("logout", m.logout()[0], flush=True)
"#;

#[test]
fn python_imaplib_over_tls_logs_in_selects_and_fetches_our_mail_byte_identical() {
    require(PYTHON, "python3");
    let (dir, eml) = scratch("imaplib");
    std::fs::write(dir.join("imap.py"), IMAPLIB).unwrap();
    let port = free_port();
    let server = Peer::start(
        Command::new(PEER)
            .arg("imap-server")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--cert")
            .arg(dir.join("smtp.pem"))
            .arg("--key")
            .arg(dir.join("smtp.key"))
            .args(["--user", "bob@example.com:bob-imap-pw", "--message"])
            .arg(dir.join("mail.eml")),
        "ready",
    );
    let (ok, out) = run_client(
        Command::new(PYTHON)
            .arg(dir.join("imap.py"))
            .arg(port.to_string())
            .arg(dir.join("root.pem"))
            .args(["bob@example.com", "bob-imap-pw"])
            .arg(dir.join("fetched.eml")),
        b"",
    );
    assert!(ok, "{out}");
    for want in [
        "caps AUTH=PLAIN IMAP4REV1 IMAP4REV2",
        "login OK",
        "select OK 1",
        "fetch OK",
        "logout BYE",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let got = std::fs::read(dir.join("fetched.eml")).unwrap();
    assert!(
        got == eml,
        "imaplib fetched other bytes than our server holds"
    );
    let (ok, lines) = server.finish();
    assert!(ok && lines.iter().any(|l| l == "state=Logout"), "{lines:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

const DOVECOT: &str = "/usr/sbin/dovecot";

#[test]
fn our_imap_client_fetches_our_mail_from_dovecot_over_tls_byte_identical() {
    require(DOVECOT, "dovecot-imapd");
    let (dir, eml) = scratch("dovecot");
    let d = dir.display();
    for sub in [
        "run",
        "state",
        "home/Maildir/new",
        "home/Maildir/cur",
        "home/Maildir/tmp",
    ] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("home/Maildir/new/1.cipherstage"), &eml).unwrap();
    std::fs::write(dir.join("passwd"), "bob@example.com:{PLAIN}bob-imap-pw\n").unwrap();
    // Dovecot runs mail processes as a non-root user: nobody owns the mailbox.
    let chown = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(dir.join("home"))
        .status()
        .unwrap();
    assert!(chown.success());
    let port = free_port();
    let conf = format!(
        "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\n\
         log_path = {d}/dovecot.log\nssl = required\nssl_cert = <{d}/smtp.pem\nssl_key = <{d}/smtp.key\n\
         auth_mechanisms = plain\nfirst_valid_uid = 1\nmail_location = maildir:{d}/home/Maildir\n\
         passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
         userdb {{\n  driver = static\n  args = uid=65534 gid=65534 home={d}/home\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    port = 0\n  }}\n  \
         inet_listener imaps {{\n    port = {port}\n    ssl = yes\n  }}\n  chroot =\n}}\n\
         service anvil {{\n  chroot =\n}}\n"
    );
    std::fs::write(dir.join("dovecot.conf"), conf).unwrap();
    let mut dovecot = Command::new(DOVECOT)
        .arg("-F")
        .arg("-c")
        .arg(dir.join("dovecot.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Bounded wait for its imaps listener.
    let until = Instant::now() + DEADLINE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > until || dovecot.try_wait().unwrap().is_some() {
            let _ = dovecot.kill();
            let _ = dovecot.wait();
            let log = std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
            panic!("dovecot did not listen on {port}: {log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (ok, out) = run_client(
        Command::new(PEER)
            .arg("imap-client")
            .arg(format!("127.0.0.1:{port}"))
            .args(["--host", "smtp.example.net", "--ca"])
            .arg(dir.join("root.pem"))
            .args(["--user", "bob@example.com:bob-imap-pw", "--out"])
            .arg(dir.join("fetched.eml")),
        b"",
    );
    // Killed by its PID (its children leave with it), then reaped.
    let _ = dovecot.kill();
    let _ = dovecot.wait();
    let log = std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
    assert!(ok, "{out}\n{log}");
    assert!(
        log.contains("Login: user=<bob@example.com>, method=PLAIN") && log.contains(", TLS,"),
        "{log}"
    );
    let got = std::fs::read(dir.join("fetched.eml")).unwrap();
    assert!(got == eml, "Dovecot gave other bytes than the stored mail");
    let _ = std::fs::remove_dir_all(&dir);
}
