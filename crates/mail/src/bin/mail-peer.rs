//! `mail-peer`: the cipherstage SMTP server or client on a real TCP socket
//! (127.0.0.1), to talk to OpenSSL, swaks, Python's aiosmtpd or any SMTP peer.
//!
//! ```text
//! mail-peer pki DIR [--seed N] [--now SECS]
//!     writes root.pem, and smtp.pem (leaf + intermediate) / smtp.key for
//!     smtp.example.net, issued by the test PKI (ECDSA P-256), valid at --now
//!     (default: the machine's clock, which the clients below and real peers check
//!     against; `Pki::build_at` moves the scenarios' dates by whole days)
//! mail-peer server ADDR --mode starttls|implicit|clear --cert FILE --key FILE
//!                 [--auth USER:PASS] [--require-auth] [--out FILE]
//!     prints "ready", serves one session; writes the message it accepted to
//!     --out; exit 0 when it accepted one
//! mail-peer imap-server ADDR --cert FILE --key FILE --user USER:PASS --message FILE
//!     prints "ready", serves one IMAP session over TLS from the first byte (993
//!     style) with the message as INBOX's only one; exit 0 after LOGOUT
//! mail-peer imap-client ADDR --host NAME --ca FILE --user USER:PASS --out FILE
//!     logs in over TLS from the first byte, fetches message 1 of INBOX to --out
//! mail-peer client ADDR --mode starttls|implicit|opportunistic --host NAME --ca FILE
//!                 --from ADDR --to ADDR --message FILE [--auth USER:PASS]
//!     sends the message; prints the server's last reply; exit 0 when queued
//! ```
#![forbid(unsafe_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use cipherstage_mail::imap::{ImapClient, ImapClientSession, ImapServer, ImapServerSession};
use cipherstage_mail::{
    ClientConfig, ClientSession, Credentials, Outcome, ServerConfig, ServerSession, TlsPolicy,
};
use cipherstage_pki::{issue::issue_server_at, pem, Key, Pki, SCENARIO_NOW};
use cipherstage_tls::{Identity, Signer, VirtualHost};
use cipherstage_transcript::rand::{Live, Seeded};

const TIMEOUT: Duration = Duration::from_secs(20);
const HOST: &str = "smtp.example.net";

type R<T> = Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let r = match args.first().map(String::as_str) {
        Some("pki") => pki(rest),
        Some("server") => server(rest),
        Some("client") => client(rest),
        Some("imap-server") => imap_server(rest),
        Some("imap-client") => imap_client(rest),
        _ => Err("usage: mail-peer pki|server|client … (see the doc comment)".into()),
    };
    if let Err(e) = r {
        eprintln!("mail-peer: {e}");
        std::process::exit(1);
    }
}

fn opt<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn need<'a>(args: &'a [String], name: &str) -> R<&'a str> {
    opt(args, name).ok_or_else(|| format!("{name} is required"))
}

fn pem_blocks(path: &str) -> R<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("-----BEGIN ") {
        let block = rest.get(at..).unwrap_or_default();
        let Some(end) = block.find("-----END ") else {
            break;
        };
        let close = block
            .get(end + 9..)
            .and_then(|t| t.find("-----"))
            .map_or(block.len(), |i| end + 9 + i + 5);
        let (_, der) = pem::decode(block.get(..close).unwrap_or_default())
            .map_err(|e| format!("{path}: {e:?}"))?;
        out.push(der);
        rest = block.get(close..).unwrap_or_default();
    }
    if out.is_empty() {
        return Err(format!("{path}: no PEM block"));
    }
    Ok(out)
}

fn credentials(s: &str) -> R<Credentials> {
    let (user, password) = s.split_once(':').ok_or("--auth USER:PASS")?;
    Ok(Credentials {
        user: user.into(),
        password: password.into(),
    })
}

fn pki(args: &[String]) -> R<()> {
    let dir = args.first().ok_or("pki DIR")?;
    let seed: u64 = opt(args, "--seed")
        .unwrap_or("1")
        .parse()
        .map_err(|e| format!("--seed: {e}"))?;
    let now = match opt(args, "--now") {
        Some(n) => n.parse().map_err(|e| format!("--now: {e}"))?,
        None => wall_clock(),
    };
    let mut rng = Seeded::new(seed);
    let p = Pki::build_at(&mut rng, now).map_err(|e| format!("{e:?}"))?;
    let key = Key::generate_ecdsa_p256(&mut rng).map_err(|e| format!("{e:?}"))?;
    let leaf = issue_server_at(&key, HOST, &p.intermediate, now).map_err(|e| format!("{e:?}"))?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| {
        std::fs::write(format!("{dir}/{name}"), text).map_err(|e| e.to_string())
    };
    write("root.pem", pem::encode("CERTIFICATE", &p.root.der))?;
    write(
        "smtp.pem",
        pem::encode("CERTIFICATE", &leaf) + &pem::encode("CERTIFICATE", &p.intermediate.der),
    )?;
    write("smtp.key", pem::encode("PRIVATE KEY", &key.pkcs8_v1()))?;
    Ok(())
}

/// The machine's clock in seconds since the epoch: what real peers check
/// certificates against, so what our clients verify at and the PKI is built for.
fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(SCENARIO_NOW)
}

/// Reads what is there within the deadline; `None` at end of stream.
fn read_some(sock: &mut TcpStream, until: Instant) -> R<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if Instant::now() > until {
            return Err("timed out".into());
        }
        match sock.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => return Ok(Some(buf.get(..n).unwrap_or_default().to_vec())),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(Some(Vec::new()))
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn tls_server(args: &[String]) -> R<cipherstage_tls::ServerConfig> {
    let chain = pem_blocks(need(args, "--cert")?)?;
    let key_der = pem_blocks(need(args, "--key")?)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let key = Key::from_pkcs8(&key_der).map_err(|e| format!("--key: {e:?}"))?;
    let mut sc = cipherstage_tls::ServerConfig::new(vec![VirtualHost {
        names: vec![HOST.into()],
        identity: Identity {
            chain,
            signer: Signer::Key(key),
        },
    }]);
    sc.ticket = None;
    Ok(sc)
}

fn imap_server(args: &[String]) -> R<()> {
    let addr = args.first().ok_or("imap-server ADDR")?;
    let sc = tls_server(args)?;
    let user = credentials(need(args, "--user")?)?;
    let path = need(args, "--message")?;
    let message = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let listener = TcpListener::bind(addr).map_err(|e| format!("{addr}: {e}"))?;
    println!("ready");
    let _ = std::io::stdout().flush();
    let (mut sock, _) = listener.accept().map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    let imap = ImapServer::new(HOST, user, vec![message], None);
    let mut s = ImapServerSession::new(imap, sc, Box::new(Live), 1);
    let until = Instant::now() + TIMEOUT;
    loop {
        for o in s.take_output() {
            sock.write_all(&o.bytes).map_err(|e| e.to_string())?;
        }
        let _ = s.take_events();
        if s.is_done() {
            break;
        }
        match read_some(&mut sock, until)? {
            None => break,
            Some(data) if !data.is_empty() => s.receive(&data),
            Some(_) => {}
        }
    }
    let _ = sock.shutdown(std::net::Shutdown::Both);
    println!("state={:?}", s.imap.state());
    Ok(())
}

fn imap_client(args: &[String]) -> R<()> {
    let addr = args.first().ok_or("imap-client ADDR")?;
    let host = need(args, "--host")?;
    let roots = pem_blocks(need(args, "--ca")?)?;
    let user = credentials(need(args, "--user")?)?;
    let cc = cipherstage_tls::ClientConfig::new(host, roots, wall_clock());
    let mut c = ImapClientSession::new(ImapClient::new(user), cc, Box::new(Live), 0)
        .map_err(|e| format!("TLS: {e:?}"))?;
    let mut sock = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    let until = Instant::now() + TIMEOUT;
    loop {
        for o in c.take_output() {
            sock.write_all(&o.bytes).map_err(|e| e.to_string())?;
        }
        let _ = c.take_events();
        if c.is_done() {
            break;
        }
        match read_some(&mut sock, until)? {
            None => break,
            Some(data) if !data.is_empty() => c.receive(&data),
            Some(_) => {}
        }
    }
    for o in c.take_output() {
        let _ = sock.write_all(&o.bytes);
    }
    if let Some(f) = &c.imap.failed {
        return Err(format!("refused: {f}"));
    }
    let msg = c.imap.fetched.clone().ok_or("nothing fetched")?;
    println!("fetched {} bytes", msg.len());
    let path = need(args, "--out")?;
    std::fs::write(path, &msg).map_err(|e| format!("{path}: {e}"))
}

fn server(args: &[String]) -> R<()> {
    let addr = args.first().ok_or("server ADDR")?;
    let mode = need(args, "--mode")?;
    let chain = pem_blocks(need(args, "--cert")?)?;
    let key_der = pem_blocks(need(args, "--key")?)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let key = Key::from_pkcs8(&key_der).map_err(|e| format!("--key: {e:?}"))?;
    let mut sc = cipherstage_tls::ServerConfig::new(vec![VirtualHost {
        names: vec![HOST.into()],
        identity: Identity {
            chain,
            signer: Signer::Key(key),
        },
    }]);
    sc.ticket = None;
    let mut config = ServerConfig::new(HOST);
    config.auth = opt(args, "--auth").map(credentials).transpose()?;
    config.require_auth = args.iter().any(|a| a == "--require-auth");
    let (tls, implicit) = match mode {
        "starttls" => (Some(sc), false),
        "implicit" => (Some(sc), true),
        "clear" => (None, false),
        m => return Err(format!("--mode {m}")),
    };
    let listener = TcpListener::bind(addr).map_err(|e| format!("{addr}: {e}"))?;
    println!("ready");
    let _ = std::io::stdout().flush();
    let (mut sock, _) = listener.accept().map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    let mut s = ServerSession::new(config, tls, implicit, Box::new(Live), 1);
    let until = Instant::now() + TIMEOUT;
    let mut got = None;
    loop {
        for o in s.take_output() {
            sock.write_all(&o.bytes).map_err(|e| e.to_string())?;
        }
        let _ = s.take_events();
        for m in s.smtp.take_received() {
            got = Some(m);
        }
        if s.is_done() {
            break;
        }
        match read_some(&mut sock, until)? {
            None => break,
            Some(data) if !data.is_empty() => s.receive(&data),
            Some(_) => {}
        }
    }
    let _ = sock.shutdown(std::net::Shutdown::Both);
    let m = got.ok_or("no message accepted")?;
    println!(
        "accepted from={} to={} bytes={} tls={} user={}",
        m.from,
        m.to.join(","),
        m.data.len(),
        m.secure,
        m.user.as_deref().unwrap_or("-")
    );
    if let Some(path) = opt(args, "--out") {
        std::fs::write(path, &m.data).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

fn client(args: &[String]) -> R<()> {
    let addr = args.first().ok_or("client ADDR")?;
    let policy = match need(args, "--mode")? {
        "starttls" => TlsPolicy::Require,
        "implicit" => TlsPolicy::Implicit,
        "opportunistic" => TlsPolicy::Opportunistic,
        m => return Err(format!("--mode {m}")),
    };
    let host = need(args, "--host")?;
    let roots = pem_blocks(need(args, "--ca")?)?;
    let path = need(args, "--message")?;
    let message = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let config = ClientConfig {
        helo: "client.cipherstage.test".into(),
        tls: policy,
        auth: opt(args, "--auth").map(credentials).transpose()?,
        from: need(args, "--from")?.into(),
        to: vec![need(args, "--to")?.into()],
        message,
        describe: None,
    };
    let cc = cipherstage_tls::ClientConfig::new(host, roots, wall_clock());
    let mut c = ClientSession::new(config, Some(cc), Box::new(Live), 0)
        .map_err(|e| format!("TLS: {e:?}"))?;
    let mut sock = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    let until = Instant::now() + TIMEOUT;
    loop {
        for o in c.take_output() {
            sock.write_all(&o.bytes).map_err(|e| e.to_string())?;
        }
        let _ = c.take_events();
        if c.is_done() {
            break;
        }
        match read_some(&mut sock, until)? {
            None => break,
            Some(data) if !data.is_empty() => c.receive(&data),
            Some(_) => {}
        }
    }
    for o in c.take_output() {
        let _ = sock.write_all(&o.bytes);
    }
    if c.tls_failed() {
        return Err("TLS failed".into());
    }
    match c.smtp.outcome() {
        Some(Outcome::Sent(text)) => {
            println!("queued: {text} (tls={})", c.smtp.is_secure());
            Ok(())
        }
        other => Err(format!("not sent: {other:?}")),
    }
}
