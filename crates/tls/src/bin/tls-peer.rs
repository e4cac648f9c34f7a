//! `tls-peer`: runs the cipherstage TLS core over a real TCP socket (127.0.0.1),
//! to talk to OpenSSL or any TLS 1.3 peer, and records the handshake as transcript
//! JSON that the app can open.
//!
//! ```text
//! tls-peer pki DIR [--seed N] [--now SECS]
//!     writes the test PKI as PEM: root.pem, <name>.pem (leaf + intermediate), <name>.key;
//!     with --now, its validity dates moved to that moment (`Pki::build_at`), for peers
//!     that check against the machine's clock (then pass the same --now to client/server)
//! tls-peer client ADDR --host NAME --ca FILE [--no-sni] [--cert FILE --key FILE]
//!                 [--suite NAME] [--group NAME] [--now SECS] [--json FILE] [--keylog FILE]
//!     connects, sends `GET /`, prints the response; exit 0 on a response, 2 on an alert
//! tls-peer server ADDR --vhost NAME=CERT,KEY [--vhost …] [--client-ca FILE] [--reject-unknown]
//!                 [--now SECS] [--json FILE] [--keylog FILE]
//!     accepts one connection, answers one HTTP request, exits 0 when done
//! ```
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use cipherstage_pki::{pem, Key, Pki, SCENARIO_NOW};
use cipherstage_tls::enums::{CipherSuite, NamedGroup, SignatureScheme};
use cipherstage_tls::*;
use cipherstage_transcript::rand::{Live, Seeded};
use cipherstage_transcript::{Actor, Event, Layer, Link, Message, Role, Transcript};

const TIMEOUT: Duration = Duration::from_secs(15);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("pki") => pki(&args[1..]),
        Some("client") => client(&args[1..]),
        Some("server") => server(&args[1..]),
        _ => Err("usage: tls-peer pki|client|server … (see the doc comment)".into()),
    };
    match r {
        Ok(()) => {}
        Err(e) => {
            eprintln!("tls-peer: {e}");
            std::process::exit(if e.starts_with("alert") { 2 } else { 1 });
        }
    }
}

type R<T> = Result<T, String>;

fn opt<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn opts<'a>(args: &'a [String], name: &str) -> Vec<&'a str> {
    args.windows(2)
        .filter(|w| w.first().is_some_and(|a| a == name))
        .filter_map(|w| w.get(1).map(String::as_str))
        .collect()
}

fn flag(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

fn read(path: &str) -> R<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

/// Every PEM block of a file, in order.
fn pem_blocks(path: &str) -> R<Vec<Vec<u8>>> {
    let text = read(path)?;
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("-----BEGIN ") {
        let block = rest.get(at..).unwrap_or_default();
        let (_, der) = pem::decode(block).map_err(|e| format!("{path}: {e:?}"))?;
        out.push(der);
        let end = block.find("-----END ").unwrap_or(0) + 9;
        let next = block
            .get(end..)
            .and_then(|r| r.find("-----"))
            .map(|i| end + i + 5);
        rest = block.get(next.unwrap_or(block.len())..).unwrap_or_default();
    }
    if out.is_empty() {
        return Err(format!("{path}: no PEM block"));
    }
    Ok(out)
}

fn identity(cert: &str, key: &str) -> R<Identity> {
    let chain = pem_blocks(cert)?;
    let key_der = pem_blocks(key)?.into_iter().next().unwrap_or_default();
    let key = Key::from_pkcs8(&key_der)
        .map_err(|e| format!("{key}: {e:?} (Ed25519 or ECDSA P-256 PKCS#8 expected)"))?;
    Ok(Identity {
        chain,
        signer: Signer::Key(key),
    })
}

fn pki(args: &[String]) -> R<()> {
    let dir = args.first().ok_or("pki DIR")?;
    let seed = opt(args, "--seed")
        .unwrap_or("1")
        .parse::<u64>()
        .map_err(|e| e.to_string())?;
    let p = Pki::build_at(&mut Seeded::new(seed), now(args)?).map_err(|e| format!("{e:?}"))?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| {
        std::fs::write(format!("{dir}/{name}"), text).map_err(|e| e.to_string())
    };
    write("root.pem", pem::encode("CERTIFICATE", &p.root.der))?;
    write(
        "rogue-root.pem",
        pem::encode("CERTIFICATE", &p.rogue_root.der),
    )?;
    write(
        "intermediate.pem",
        pem::encode("CERTIFICATE", &p.intermediate.der),
    )?;
    let leaves = [
        ("www", &p.www),
        ("shop", &p.shop),
        ("default", &p.default_host),
        ("www-expired", &p.www_expired),
        ("www-not-yet-valid", &p.www_not_yet_valid),
        ("alice", &p.alice),
        ("alice-expired", &p.alice_expired),
        ("alice-wrong-eku", &p.alice_wrong_eku),
        ("www-ecdsa", &p.www_ecdsa),
        ("alice-ecdsa", &p.alice_ecdsa),
    ];
    for (name, c) in leaves {
        let chain =
            pem::encode("CERTIFICATE", &c.der) + &pem::encode("CERTIFICATE", &p.intermediate.der);
        write(&format!("{name}.pem"), chain)?;
        write(
            &format!("{name}-leaf.pem"),
            pem::encode("CERTIFICATE", &c.der),
        )?;
        write(
            &format!("{name}.key"),
            pem::encode("PRIVATE KEY", &c.key.pkcs8_v1()),
        )?;
    }
    write(
        "alice-untrusted.pem",
        pem::encode("CERTIFICATE", &p.alice_untrusted.der),
    )?;
    write(
        "alice-untrusted.key",
        pem::encode("PRIVATE KEY", &p.alice_untrusted.key.pkcs8_v1()),
    )?;
    Ok(())
}

fn now(args: &[String]) -> R<u64> {
    match opt(args, "--now") {
        Some(n) => n.parse().map_err(|e| format!("--now: {e}")),
        None => Ok(SCENARIO_NOW),
    }
}

/// What one side saw, for the transcript.
struct Recorder {
    us: usize,
    events: Vec<Event>,
}

impl Recorder {
    fn sent(&mut self, out: Outgoing) {
        self.push(self.us, out);
    }

    fn received(&mut self, out: Outgoing) {
        self.push(1 - self.us, out);
    }

    fn push(&mut self, from: usize, out: Outgoing) {
        self.events.push(Event::Message(Message {
            from,
            to: 1 - from,
            link: 0,
            protocol: "tls".into(),
            layer: Layer::Transport,
            label: out.label,
            bytes: out.bytes,
            fields: out.fields,
            tampered: None,
        }));
    }

    fn finish(self, args: &[String], scenario: &str) -> R<()> {
        let t = Transcript {
            scenario: scenario.into(),
            seed: None,
            actors: vec![
                Actor {
                    role: Role::Client,
                    name: "tls.actor.browser".into(),
                },
                Actor {
                    role: Role::Server,
                    name: "tls.actor.server".into(),
                },
            ],
            links: vec![Link {
                a: 0,
                b: 1,
                observers: vec![],
            }],
            events: self.events,
        };
        if let Some(path) = opt(args, "--json") {
            std::fs::write(path, t.to_json()).map_err(|e| e.to_string())?;
        }
        if let Some(path) = opt(args, "--keylog") {
            std::fs::write(path, cipherstage_tls::export::keylog(&t)).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

fn suite(args: &[String]) -> R<Vec<CipherSuite>> {
    Ok(match opt(args, "--suite") {
        None => vec![
            CipherSuite::Aes128GcmSha256,
            CipherSuite::Aes256GcmSha384,
            CipherSuite::Chacha20Poly1305Sha256,
        ],
        Some(name) => vec![CipherSuite::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == name)
            .ok_or(format!("unknown suite {name}"))?],
    })
}

fn client(args: &[String]) -> R<()> {
    let addr = args.first().ok_or("client ADDR")?;
    let host = opt(args, "--host").ok_or("--host NAME")?;
    let roots = pem_blocks(opt(args, "--ca").ok_or("--ca FILE")?)?;
    let mut cc = ClientConfig::new(host, roots, now(args)?);
    cc.suites = suite(args)?;
    if let Some(g) = opt(args, "--group") {
        let g = NamedGroup::ALL
            .iter()
            .copied()
            .find(|x| x.as_str() == g)
            .ok_or(format!("unknown group {g}"))?;
        cc.key_share_groups = vec![g];
    }
    if flag(args, "--no-sni") {
        cc.sni = None;
    }
    if let (Some(c), Some(k)) = (opt(args, "--cert"), opt(args, "--key")) {
        cc.identity = Some(identity(c, k)?);
    }
    let addr: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let mut sock =
        TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let mut c =
        Client::new(cc, Box::new(Live), 0).map_err(|e| format!("alert {}", e.alert.as_str()))?;
    let mut rec = Recorder {
        us: 0,
        events: Vec::new(),
    };
    rec.events.extend(c.take_events());
    let deadline = Instant::now() + TIMEOUT;
    let mut sent_request = false;
    let mut response = Vec::new();
    let mut buf = [0u8; 16384];
    let result = 'io: loop {
        for out in c.take_output() {
            let written = sock.write_all(&out.bytes);
            rec.sent(out);
            if let Err(e) = written {
                // A server that refused us may have closed already: what it sent
                // before (its alert) is still in our receive buffer.
                drain(&mut sock, &mut buf, deadline, |bytes| {
                    let _ = c.receive(bytes);
                    for out in c.take_received() {
                        rec.received(out);
                    }
                    rec.events.extend(c.take_events());
                });
                break 'io Err(match c.peer_alert() {
                    Some(a) => format!("alert {} received", a.as_str()),
                    None => format!("write: {e}"),
                });
            }
        }
        if let Some(a) = c.peer_alert().filter(|a| a.as_str() != "close_notify") {
            break Err(format!("alert {} received", a.as_str()));
        }
        if c.is_connected() && !sent_request {
            let req = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            if let Err(e) = c.send(req.as_bytes()) {
                break Err(format!("alert {}", e.alert.as_str()));
            }
            sent_request = true;
            continue;
        }
        if c.peer_closed() || Instant::now() > deadline {
            break Ok(());
        }
        match sock.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                let r = c.receive(buf.get(..n).unwrap_or_default());
                for out in c.take_received() {
                    rec.received(out);
                }
                rec.events.extend(c.take_events());
                response.extend(c.take_app_data());
                if let Err(e) = r {
                    for out in c.take_output() {
                        let _ = sock.write_all(&out.bytes);
                        rec.sent(out);
                    }
                    break Err(format!("alert {} sent", e.alert.as_str()));
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                // A server like `openssl s_server -www` answers and may keep the connection.
                if sent_request
                    && !response.is_empty()
                    && response
                        .windows(7)
                        .any(|w| w == b"</HTML>" || w == b"</html>")
                {
                    break Ok(());
                }
            }
            Err(e) => break Err(format!("read: {e}")),
        }
    };
    c.close();
    for out in c.take_output() {
        let _ = sock.write_all(&out.bytes);
        rec.sent(out);
    }
    rec.events.extend(c.take_events());
    rec.finish(args, "tls-peer-client")?;
    result?;
    if response.is_empty() {
        return Err("no response".into());
    }
    std::io::stdout()
        .write_all(&response)
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Reads what is left on `sock` (until it is closed, idle or `deadline`) into `take`.
fn drain(sock: &mut TcpStream, buf: &mut [u8], deadline: Instant, mut take: impl FnMut(&[u8])) {
    while Instant::now() < deadline {
        match sock.read(buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => take(buf.get(..n).unwrap_or_default()),
        }
    }
}

fn server(args: &[String]) -> R<()> {
    let addr = args.first().ok_or("server ADDR")?;
    let mut hosts = Vec::new();
    for v in opts(args, "--vhost") {
        let (name, files) = v.split_once('=').ok_or("--vhost NAME=CERT,KEY")?;
        let (cert, key) = files.split_once(',').ok_or("--vhost NAME=CERT,KEY")?;
        hosts.push(VirtualHost {
            names: vec![name.to_owned()],
            identity: identity(cert, key)?,
        });
    }
    if hosts.is_empty() {
        return Err("at least one --vhost".into());
    }
    let mut sc = ServerConfig::new(hosts);
    sc.reject_unknown_names = flag(args, "--reject-unknown");
    if let Some(ca) = opt(args, "--client-ca") {
        sc.client_auth = Some(ClientAuth {
            roots: pem_blocks(ca)?,
            now: now(args)?,
            signature_schemes: vec![
                SignatureScheme::Ed25519,
                SignatureScheme::EcdsaSecp256r1Sha256,
                SignatureScheme::RsaPssRsaeSha256,
            ],
            crls: Vec::new(),
        });
    }
    let listener = TcpListener::bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
    let deadline = Instant::now() + TIMEOUT;
    let mut sock = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    };
    sock.set_nonblocking(false).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let mut s = Server::new(sc, Box::new(Live), 1);
    let mut rec = Recorder {
        us: 1,
        events: Vec::new(),
    };
    let mut buf = [0u8; 16384];
    let mut answered = false;
    let result = 'io: loop {
        for out in s.take_output() {
            let written = sock.write_all(&out.bytes);
            rec.sent(out);
            if let Err(e) = written {
                drain(&mut sock, &mut buf, deadline, |bytes| {
                    let _ = s.receive(bytes);
                    for out in s.take_received() {
                        rec.received(out);
                    }
                    rec.events.extend(s.take_events());
                });
                break 'io Err(match s.peer_alert() {
                    Some(a) => format!("alert {} received", a.as_str()),
                    None => format!("write: {e}"),
                });
            }
        }
        if s.peer_closed() || s.is_closed() || Instant::now() > deadline {
            break match s.peer_alert() {
                Some(a) if a.as_str() != "close_notify" => {
                    Err(format!("alert {} received", a.as_str()))
                }
                _ if answered => Ok(()),
                _ => Err("closed before a request".into()),
            };
        }
        match sock.read(&mut buf) {
            Ok(0) => {
                break if answered {
                    Ok(())
                } else {
                    Err("peer hung up".into())
                }
            }
            Ok(n) => {
                let r = s.receive(buf.get(..n).unwrap_or_default());
                for out in s.take_received() {
                    rec.received(out);
                }
                rec.events.extend(s.take_events());
                if let Err(e) = r {
                    for out in s.take_output() {
                        let _ = sock.write_all(&out.bytes);
                        rec.sent(out);
                    }
                    break Err(format!("alert {} sent", e.alert.as_str()));
                }
                let req = s.take_app_data();
                if !req.is_empty() && !answered {
                    let name = s.sni().unwrap_or("default").to_owned();
                    let body = format!("<h1>Hello from {name}</h1>\n");
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    if let Err(e) = s.send(resp.as_bytes()) {
                        break Err(format!("alert {}", e.alert.as_str()));
                    }
                    s.close();
                    answered = true;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if answered && s.is_closed() {
                    // Give the peer a moment for its close_notify, then stop.
                    if Instant::now() + Duration::from_secs(14) > deadline {
                        break Ok(());
                    }
                }
            }
            Err(e) => break Err(format!("read: {e}")),
        }
    };
    for out in s.take_output() {
        let _ = sock.write_all(&out.bytes);
        rec.sent(out);
    }
    rec.events.extend(s.take_events());
    rec.finish(args, "tls-peer-server")?;
    result
}
