//! Our OpenVPN core against the real openvpn 2.6 (Debian `openvpn`), started here.
//!
//! - Our client against `openvpn --server` (mode server, a tun device) running in a
//!   network namespace this test creates, reached over a veth pair, over TCP and
//!   UDP: the TLS 1.3 handshake completes in P_CONTROL_V1 packets, the PUSH_REPLY is
//!   parsed, the server's keepalive pings open with the data-channel keys we took
//!   from the TLS exporter, and an ICMP echo request we tunnel to the server's tun
//!   address comes back as an echo reply we decrypt and check.
//! - The real `openvpn --client --dev null` against our server, over TCP and UDP:
//!   its keepalive pings open with our keys (so both sides derived the same 256
//!   bytes and use them in the same directions).
//! - A client certificate from another CA refused in each direction, with what the
//!   refusing side logs; an expired one refused by openvpn for its date.
//!
//! openvpn checks certificates against the machine's clock (it has no option to
//! verify at another time), so the test PKI is built for that clock
//! (`Pki::build_at`: the scenarios' validity dates moved by whole days) and our side
//! verifies at it too: the tests pass on any date, and expired stays expired.
//!
//! A missing openvpn or `ip` fails the test. Every process is killed by its PID,
//! every namespace deleted when its guard drops.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cipherstage_packets::{icmpv4, ipv4, IpProtocol};
use cipherstage_pki::authority::Authority;
use cipherstage_pki::{issue::issue_server_at, pem, Cert, Key, Pki};
use cipherstage_tls::enums::SignatureScheme;
use cipherstage_tls::{
    Client, ClientAuth, ClientConfig, Identity, Server, ServerConfig, Signer, VirtualHost,
};
use cipherstage_transcript::rand::Seeded;
use cipherstage_vpn::openvpn::session::Drop as Dropped;
use cipherstage_vpn::openvpn::wrap::WrapError;
use cipherstage_vpn::openvpn::{
    Cipher, Config, ControlProtection, Digest, Event, PushConfig, Session, StaticKey, Tls,
};

const OPENVPN: &str = "/usr/sbin/openvpn";
const IP: &str = "/usr/sbin/ip";
const GATEWAY: &str = "vpn.example.com";
const DEADLINE: Duration = Duration::from_secs(40);
static NEXT: AtomicU32 = AtomicU32::new(0);

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is required: apt-get install {package} (cargo xtask setup lists it)"
    );
}

/// The machine's clock: what openvpn checks certificates against, so what the PKI is
/// built for and our side verifies at.
fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

struct Pkis {
    pki: Pki,
    server_key: Key,
    server_cert: Vec<u8>,
}

fn pkis() -> Pkis {
    let mut rng = Seeded::new(16);
    let now = now_s();
    let pki = Pki::build_at(&mut rng, now).unwrap();
    let server_key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let server_cert = issue_server_at(&server_key, GATEWAY, &pki.intermediate, now).unwrap();
    Pkis {
        pki,
        server_key,
        server_cert,
    }
}

/// ca.pem (root), server.pem/.key, client.pem/.key (alice, ECDSA), rogue.pem/.key
/// (alice from the rogue CA) in a fresh directory.
fn scratch(tag: &str, p: &Pkis) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cipherstage-ovpn-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let w = |name: &str, text: String| std::fs::write(dir.join(name), text).unwrap();
    let cert = |d: &[u8]| pem::encode("CERTIFICATE", d);
    let key = |k: &Key| pem::encode("PRIVATE KEY", &k.pkcs8_v1());
    w("ca.pem", cert(&p.pki.root.der));
    w(
        "server.pem",
        cert(&p.server_cert) + &cert(&p.pki.intermediate.der),
    );
    w("server.key", key(&p.server_key));
    w(
        "client.pem",
        cert(&p.pki.alice_ecdsa.der) + &cert(&p.pki.intermediate.der),
    );
    w("client.key", key(&p.pki.alice_ecdsa.key));
    w("rogue.pem", cert(&p.pki.alice_untrusted.der));
    w("rogue.key", key(&p.pki.alice_untrusted.key));
    dir
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {out:?}");
}

/// A network namespace joined to ours by a veth pair: we are 10.231.N.1, the
/// namespace 10.231.N.2. Deleted on drop.
struct Netns {
    name: String,
    host_if: String,
    ours: Ipv4Addr,
    theirs: Ipv4Addr,
}

impl Netns {
    fn new() -> Netns {
        require(IP, "iproute2");
        let n = NEXT.fetch_add(1, Ordering::SeqCst) + 10 * (std::process::id() % 20);
        let name = format!("csovpn{}-{n}", std::process::id());
        let host_if = format!("csov{}h{n}", std::process::id() % 10000);
        let peer_if = format!("csov{}p{n}", std::process::id() % 10000);
        let net = 20 + (n % 200) as u8;
        let ours = Ipv4Addr::new(10, 231, net, 1);
        let theirs = Ipv4Addr::new(10, 231, net, 2);
        let _ = Command::new(IP).args(["netns", "del", &name]).output();
        run(Command::new(IP).args(["netns", "add", &name]));
        let ns = Netns {
            name: name.clone(),
            host_if: host_if.clone(),
            ours,
            theirs,
        };
        run(Command::new(IP).args([
            "link", "add", &host_if, "type", "veth", "peer", "name", &peer_if, "netns", &name,
        ]));
        run(Command::new(IP).args(["addr", "add", &format!("{ours}/24"), "dev", &host_if]));
        run(Command::new(IP).args(["link", "set", &host_if, "up"]));
        let inside = |args: &[&str]| {
            run(Command::new(IP)
                .args(["netns", "exec", &name, IP])
                .args(args));
        };
        inside(&["addr", "add", &format!("{theirs}/24"), "dev", &peer_if]);
        inside(&["link", "set", &peer_if, "up"]);
        inside(&["link", "set", "lo", "up"]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(IP)
            .args(["link", "del", &self.host_if])
            .output();
        let _ = Command::new(IP).args(["netns", "del", &self.name]).output();
    }
}

/// openvpn, killed by its PID when dropped; its log lines (stdout) gathered.
struct Openvpn {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Openvpn {
    fn start(cmd: &mut Command) -> Openvpn {
        require(OPENVPN, "openvpn");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let (tx, rx) = mpsc::channel();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Openvpn {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
    }

    /// Waits (bounded) for a log line containing `what`.
    fn wait_for(&mut self, what: &str) {
        let until = Instant::now() + DEADLINE;
        loop {
            if self.seen.iter().any(|l| l.contains(what)) {
                return;
            }
            let left = until.saturating_duration_since(Instant::now());
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(l) => self.seen.push(l),
                Err(_) if Instant::now() < until => {
                    if let Ok(Some(s)) = self.child.try_wait() {
                        self.drain();
                        panic!(
                            "openvpn exited ({s}) before {what:?}:\n{}",
                            self.seen.join("\n")
                        );
                    }
                }
                Err(_) => panic!("openvpn did not log {what:?}:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn log(&mut self) -> String {
        self.drain();
        self.seen.join("\n")
    }
}

impl Drop for Openvpn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A socket to the peer, TCP or UDP.
enum Sock {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

impl Sock {
    fn send(&mut self, b: &[u8]) {
        match self {
            // A peer that closed the connection shows up at the next read.
            Sock::Tcp(s) => match s.write_all(b) {
                Err(e)
                    if matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset) => {}
                r => r.unwrap(),
            },
            Sock::Udp(s) => {
                s.send(b).unwrap();
            }
        }
    }

    /// What arrived within 50 ms (empty if nothing); `None` when the peer closed.
    fn recv(&mut self) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 65536];
        let r = match self {
            Sock::Tcp(s) => s.read(&mut buf),
            Sock::Udp(s) => s.recv(&mut buf),
        };
        match r {
            Ok(0) if matches!(self, Sock::Tcp(_)) => None,
            Err(e) if e.kind() == ErrorKind::ConnectionReset && matches!(self, Sock::Tcp(_)) => {
                None
            }
            Ok(n) => Some(buf[..n].to_vec()),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Some(Vec::new())
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => Some(Vec::new()),
            Err(e) => panic!("socket: {e}"),
        }
    }
}

fn epoch_ms(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// Steps `s` over `sock` until `done` says so (it sees every event), bounded.
fn drive(
    s: &mut Session,
    sock: &mut Sock,
    mut done: impl FnMut(&mut Session, &Event) -> bool,
) -> Vec<Event> {
    let start = Instant::now();
    let mut all = Vec::new();
    loop {
        assert!(
            start.elapsed() < DEADLINE,
            "no outcome in time; events: {all:#?}"
        );
        s.tick(epoch_ms(start));
        for p in s.take_output() {
            sock.send(&p);
        }
        match sock.recv() {
            Some(b) if !b.is_empty() => s.receive(&b, epoch_ms(start)),
            Some(_) => {}
            None => {
                all.push(Event::Failed("peer closed"));
                return all;
            }
        }
        for p in s.take_output() {
            sock.send(&p);
        }
        let mut stop = false;
        for e in s.take_events() {
            stop |= done(s, &e);
            all.push(e);
        }
        for p in s.take_output() {
            sock.send(&p);
        }
        if stop {
            return all;
        }
    }
}

/// Which certificate our client shows.
#[derive(Clone, Copy)]
enum ClientCert {
    /// alice (ECDSA) from the intermediate.
    Good,
    /// alice from the rogue root.
    Rogue,
    /// alice from the intermediate, expired.
    Expired,
}

fn client_tls(p: &Pkis, which: ClientCert, rng: u64) -> Tls {
    let id = |c: &Cert, chain: Vec<Vec<u8>>| Identity {
        chain,
        signer: Signer::Key(c.key.clone()),
    };
    let inter = p.pki.intermediate.der.clone();
    client_tls_with(
        p,
        Some(match which {
            ClientCert::Rogue => id(
                &p.pki.alice_untrusted,
                vec![p.pki.alice_untrusted.der.clone()],
            ),
            ClientCert::Good => id(
                &p.pki.alice_ecdsa,
                vec![p.pki.alice_ecdsa.der.clone(), inter],
            ),
            ClientCert::Expired => id(
                &p.pki.alice_expired,
                vec![p.pki.alice_expired.der.clone(), inter],
            ),
        }),
        rng,
    )
}

/// Our client's TLS showing `identity` (none: no certificate at all).
fn client_tls_with(p: &Pkis, identity: Option<Identity>, rng: u64) -> Tls {
    let mut cc = ClientConfig::new(GATEWAY, vec![p.pki.root.der.clone()], now_s());
    cc.sni = None; // openvpn sends no server name
    cc.identity = identity;
    Tls::Client(Box::new(
        Client::new(cc, Box::new(Seeded::new(rng)), 0).unwrap(),
    ))
}

/// Our server's TLS, checking client certificates against `crls` too.
fn server_tls_with(p: &Pkis, rng: u64, crls: Vec<Vec<u8>>) -> Tls {
    let mut sc = ServerConfig::new(vec![VirtualHost {
        names: vec![GATEWAY.to_owned()],
        identity: Identity {
            chain: vec![p.server_cert.clone(), p.pki.intermediate.der.clone()],
            signer: Signer::Key(p.server_key.clone()),
        },
    }]);
    sc.client_auth = Some(ClientAuth {
        roots: vec![p.pki.root.der.clone()],
        now: now_s(),
        signature_schemes: vec![
            SignatureScheme::EcdsaSecp256r1Sha256,
            SignatureScheme::Ed25519,
            SignatureScheme::RsaPssRsaeSha256,
        ],
        crls,
    });
    sc.ticket = None;
    Tls::Server(Box::new(Server::new(sc, Box::new(Seeded::new(rng)), 1)))
}

/// The real server in a namespace offering `ciphers` (openvpn's --data-ciphers),
/// with more options (`extra` is given the scratch directory): (namespace,
/// openvpn, scratch directory).
fn real_server_with(
    tag: &str,
    p: &Pkis,
    tcp: bool,
    ciphers: &str,
    extra: impl FnOnce(&Path) -> Vec<String>,
) -> (Netns, Openvpn, PathBuf) {
    let dir = scratch(tag, p);
    let more = extra(&dir);
    let ns = Netns::new();
    let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let mut cmd = Command::new(IP);
    cmd.args(["netns", "exec", &ns.name, OPENVPN])
        .args([
            "--server",
            "10.8.0.0",
            "255.255.255.0",
            "--topology",
            "subnet",
        ])
        .args([
            "--dev",
            "tun",
            "--local",
            &ns.theirs.to_string(),
            "--port",
            "1194",
        ])
        .args(["--proto", if tcp { "tcp-server" } else { "udp" }])
        .args([
            "--ca",
            &d("ca.pem"),
            "--cert",
            &d("server.pem"),
            "--key",
            &d("server.key"),
        ])
        .args(["--dh", "none", "--keepalive", "1", "10"])
        .args(["--data-ciphers", ciphers])
        .args(["--verb", "4", "--persist-tun"])
        .args(&more);
    let mut ovpn = Openvpn::start(&mut cmd);
    ovpn.wait_for("Initialization Sequence Completed");
    (ns, ovpn, dir)
}

fn connect(ns: &Netns, tcp: bool) -> Sock {
    let addr = (ns.theirs, 1194);
    if tcp {
        let s = TcpStream::connect_timeout(&addr.into(), Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        Sock::Tcp(s)
    } else {
        let s = UdpSocket::bind((ns.ours, 0)).unwrap();
        s.connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        Sock::Udp(s)
    }
}

fn echo_request(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let icmp = icmpv4::Repr {
        request: true,
        ident: 0x1616,
        seq: 1,
    }
    .emit(b"cipherstage through openvpn");
    ipv4::Repr::new(src, dst, IpProtocol::Icmp, icmp.len(), 0x0101).packet(&icmp)
}

/// (source, destination, echo reply?) of an ICMP echo message in an IPv4 packet.
fn read_echo(packet: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, icmpv4::Repr)> {
    let p = ipv4::Packet::new_checked(packet).ok()?;
    let r = ipv4::Repr::parse(&p).ok()?;
    let i = icmpv4::Repr::parse(&icmpv4::Packet::new_checked(p.payload()).ok()?).ok()?;
    Some((r.src_addr, r.dst_addr, i))
}

fn our_client_against_real_server(tcp: bool, ciphers: &str) -> Cipher {
    our_client_with(tcp, ciphers, "", |_| (Vec::new(), ControlProtection::None)).0
}

/// Our client against the real server started with more options; `extra` makes
/// them and our client's control protection from the scratch directory. The
/// cipher pushed and openvpn's log.
fn our_client_with(
    tcp: bool,
    ciphers: &str,
    tag: &str,
    extra: impl FnOnce(&Path) -> (Vec<String>, ControlProtection),
) -> (Cipher, String) {
    let p = pkis();
    let tag = format!(
        "srv-{}-{}{tag}",
        if tcp { "tcp" } else { "udp" },
        ciphers.len()
    );
    let mut protection = ControlProtection::None;
    let (ns, mut ovpn, _dir) = real_server_with(&tag, &p, tcp, ciphers, |d| {
        let (args, prot) = extra(d);
        protection = prot;
        args
    });
    let mut sock = connect(&ns, tcp);
    let mut rng = Seeded::new(7);
    let mut s = Session::new(
        Config::client(tcp).protected(protection, now_s()),
        client_tls(&p, ClientCert::Good, 8),
        &mut rng,
    );
    let mut pushed = None;
    let mut pings = 0;
    let mut echoed = None;
    let events = drive(&mut s, &mut sock, |s, e| {
        match e {
            Event::Pushed(r) => pushed = Some(r.clone()),
            Event::Ping(_) => {
                pings += 1;
                if pings == 1 {
                    let r = pushed.as_ref().expect("pings come after the push");
                    let gw = r.route_gateway.expect("route-gateway pushed");
                    assert!(s.send_packet(&echo_request(r.ifconfig.0, gw)));
                }
            }
            Event::Packet(_, ip) => {
                if let Some((src, dst, icmp)) = read_echo(ip) {
                    echoed = Some((src, dst, icmp));
                }
            }
            Event::Failed(why) => panic!("session failed: {why}"),
            _ => {}
        }
        echoed.is_some() && pings >= 2
    });
    let r = pushed.expect("PUSH_REPLY parsed");
    assert_eq!(
        r.ifconfig,
        (Ipv4Addr::new(10, 8, 0, 2), Ipv4Addr::new(255, 255, 255, 0))
    );
    assert_eq!(r.route_gateway, Some(Ipv4Addr::new(10, 8, 0, 1)));
    assert!(events.iter().any(|e| matches!(e, Event::TlsConnected)));
    assert!(events.iter().any(|e| matches!(e, Event::DataKeys(..))));
    let (src, dst, icmp) = echoed.unwrap();
    assert_eq!((src, dst), (Ipv4Addr::new(10, 8, 0, 1), r.ifconfig.0));
    assert!(!icmp.request, "an echo reply");
    assert_eq!((icmp.ident, icmp.seq), (0x1616, 1));
    // Goodbye: explicit-exit-notify on the data channel; the server notes it.
    assert!(s.send_exit());
    for pkt in s.take_output() {
        sock.send(&pkt);
    }
    ovpn.wait_for("OCC exit message received by peer");
    let log = ovpn.log();
    assert!(log.contains("PUSH_REPLY"), "{log}");
    assert!(log.contains("TLSv1.3"), "{log}");
    (r.cipher, log)
}

#[test]
fn our_client_against_openvpn_server_over_tcp() {
    let c = our_client_against_real_server(true, "AES-256-GCM:CHACHA20-POLY1305");
    assert_eq!(c, Cipher::Aes256Gcm);
}

#[test]
fn our_client_against_openvpn_server_over_udp() {
    let c = our_client_against_real_server(false, "AES-256-GCM:CHACHA20-POLY1305");
    assert_eq!(c, Cipher::Aes256Gcm);
}

/// A server whose only data cipher is ChaCha20-Poly1305 pushes it; the pings and the
/// echo reply open with it.
#[test]
fn our_client_against_openvpn_server_with_chacha20_poly1305() {
    let c = our_client_against_real_server(false, "CHACHA20-POLY1305");
    assert_eq!(c, Cipher::Chacha20Poly1305);
}

/// openvpn as server against our client showing `which`: the handshake is refused;
/// openvpn's log.
fn openvpn_server_refuses(tag: &str, which: ClientCert) -> String {
    openvpn_server_refuses_with(tag, which, |_, _| Vec::new())
}

/// The same with more server options, made from the PKI and scratch directory.
fn openvpn_server_refuses_with(
    tag: &str,
    which: ClientCert,
    extra: impl FnOnce(&Pkis, &Path) -> Vec<String>,
) -> String {
    let p = pkis();
    let (ns, mut ovpn, _dir) = real_server_with(tag, &p, true, "AES-256-GCM", |d| extra(&p, d));
    let mut sock = connect(&ns, true);
    let mut rng = Seeded::new(7);
    let mut s = Session::new(Config::client(true), client_tls(&p, which, 8), &mut rng);
    let events = drive(&mut s, &mut sock, |_, e| {
        matches!(e, Event::TlsFailed(_) | Event::Failed(_) | Event::Pushed(_))
    });
    assert!(
        !events.iter().any(|e| matches!(e, Event::Pushed(_))),
        "{events:#?}"
    );
    assert!(!s.established());
    // TLS 1.3: our client's side of the handshake is done before the server has
    // checked its certificate; openvpn then drops the session and closes the TCP
    // connection without an alert.
    assert!(
        events.iter().any(|e| matches!(e, Event::TlsConnected)),
        "{events:#?}"
    );
    assert_eq!(
        events.last(),
        Some(&Event::Failed("peer closed")),
        "{events:#?}"
    );
    ovpn.wait_for("VERIFY ERROR");
    ovpn.wait_for("TLS Error: TLS handshake failed");
    ovpn.log()
}

#[test]
fn openvpn_server_refuses_our_client_with_a_certificate_from_another_ca() {
    let log = openvpn_server_refuses("srv-rogue", ClientCert::Rogue);
    assert!(
        log.contains("unable to get local issuer certificate"),
        "{log}"
    );
    assert!(log.contains("Sent fatal SSL alert: unknown CA"), "{log}");
}

/// openvpn checks dates by the machine's clock: alice's expired certificate (built
/// for that clock, so expired whatever the date) is refused for being expired, and
/// for nothing else (the good one from the same intermediate is accepted above).
#[test]
fn openvpn_server_refuses_our_client_with_an_expired_certificate() {
    let log = openvpn_server_refuses("srv-expired", ClientCert::Expired);
    assert!(
        log.contains("VERIFY ERROR: depth=0, error=certificate has expired"),
        "{log}"
    );
    assert!(log.contains("CN=alice"), "{log}");
    assert!(!log.contains("unable to get local issuer"), "{log}");
}

/// Our server on `addr`, the real openvpn client against it.
fn real_client_against_our_server(tcp: bool, rogue: bool) -> (Vec<Event>, String) {
    real_client_with(tcp, rogue, "", |_, _| {
        (Vec::new(), ControlProtection::None, Vec::new())
    })
}

/// The same with more client options and our server's control protection, both
/// made from the scratch directory by `extra`.
fn real_client_with(
    tcp: bool,
    rogue: bool,
    tag: &str,
    extra: impl FnOnce(&Pkis, &Path) -> (Vec<String>, ControlProtection, Vec<Vec<u8>>),
) -> (Vec<Event>, String) {
    let p = pkis();
    let dir = scratch(
        &format!("cli-{}-{}{tag}", if tcp { "tcp" } else { "udp" }, rogue),
        &p,
    );
    let (more, protection, crls) = extra(&p, &dir);
    let ns = Netns::new();
    let (listener, udp) = if tcp {
        (Some(TcpListener::bind((ns.ours, 0)).unwrap()), None)
    } else {
        (None, Some(UdpSocket::bind((ns.ours, 0)).unwrap()))
    };
    let port = match (&listener, &udp) {
        (Some(l), _) => l.local_addr().unwrap().port(),
        (_, Some(u)) => u.local_addr().unwrap().port(),
        _ => unreachable!(),
    };
    let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let (cert, key) = if rogue {
        ("rogue.pem", "rogue.key")
    } else {
        ("client.pem", "client.key")
    };
    let mut ovpn = Openvpn::start(
        Command::new(IP)
            .args(["netns", "exec", &ns.name, OPENVPN])
            .args(["--client", "--dev", "tun", "--nobind"])
            .args(["--remote", &ns.ours.to_string(), &port.to_string()])
            .args(["--proto", if tcp { "tcp-client" } else { "udp" }])
            .args(["--ca", &d("ca.pem"), "--cert", &d(cert), "--key", &d(key)])
            .args(["--remote-cert-tls", "server", "--verb", "4"])
            .args(["--connect-retry-max", "1", "--single-session"])
            .args(&more),
    );
    let mut sock = match (listener, udp) {
        (Some(l), _) => {
            l.set_nonblocking(true).unwrap();
            let until = Instant::now() + DEADLINE;
            let s = loop {
                match l.accept() {
                    Ok((s, _)) => break s,
                    Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < until => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => panic!("no connection from openvpn: {e}\n{}", ovpn.log()),
                }
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            Sock::Tcp(s)
        }
        (_, Some(u)) => {
            u.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut buf = [0u8; 2048];
            let (_, from) = u.peek_from(&mut buf).unwrap();
            u.connect(from).unwrap();
            u.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            Sock::Udp(u)
        }
        _ => unreachable!(),
    };
    let push = PushConfig {
        ifconfig: (Ipv4Addr::new(10, 8, 0, 2), Ipv4Addr::new(255, 255, 255, 0)),
        route_gateway: Ipv4Addr::new(10, 8, 0, 1),
        routes: vec![(Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 255, 255, 0))],
        peer_id: 3,
        ping: (1, 10),
    };
    let mut rng = Seeded::new(9);
    let wrong_key = protection != ControlProtection::None && tag.contains("wrong");
    let cfg = Config::server(tcp, push).protected(protection, now_s());
    let mut s = Session::new(cfg, server_tls_with(&p, 10, crls), &mut rng);
    let mut pings = 0;
    let mut echoed = false;
    let events = drive(&mut s, &mut sock, |s, e| {
        if matches!(e, Event::DataKeys(..)) {
            assert!(s.send_ping());
        }
        if matches!(e, Event::Ping(_)) {
            pings += 1;
            assert!(s.send_ping());
            if pings == 2 {
                // By now the client has its tun up with the pushed address: ping it.
                let gw = Ipv4Addr::new(10, 8, 0, 1);
                assert!(s.send_packet(&echo_request(gw, Ipv4Addr::new(10, 8, 0, 2))));
            }
        }
        if let Event::Packet(_, ip) = e {
            if let Some((src, dst, icmp)) = read_echo(ip) {
                assert_eq!(
                    (src, dst),
                    (Ipv4Addr::new(10, 8, 0, 2), Ipv4Addr::new(10, 8, 0, 1))
                );
                assert!(!icmp.request);
                assert_eq!((icmp.ident, icmp.seq), (0x1616, 1));
                echoed = true;
            }
        }
        matches!(e, Event::TlsFailed(_) | Event::Failed(_))
            || echoed
            || wrong_key && matches!(e, Event::Dropped(Dropped::Wrap(_)))
    });
    if wrong_key {
        // openvpn heard nothing back: its handshake times out.
    } else if tag.contains("revoked") {
        ovpn.wait_for("alert: certificate revoked");
    } else if !rogue {
        ovpn.wait_for("Initialization Sequence Completed");
    } else {
        ovpn.wait_for("alert: unknown CA");
    }
    let log = ovpn.log();
    drop(ovpn);
    drop(ns);
    (events, log)
}

fn check_real_client(tcp: bool) {
    let (events, log) = real_client_against_our_server(tcp, false);
    assert!(
        events.iter().any(|e| matches!(e, Event::TlsConnected)),
        "{events:#?}"
    );
    let km = events
        .iter()
        .find_map(|e| match e {
            Event::KeyMethod(k) => Some(k.clone()),
            _ => None,
        })
        .expect("the client's key method 2");
    assert!(
        km.peer_var("IV_VER").is_some_and(|v| v.starts_with("2.6")),
        "{km:?}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::ControlText(t) if t == "PUSH_REQUEST")));
    // Keepalive pings from openvpn opened with our data-channel keys, and the echo
    // reply of the client's kernel to the request we tunnelled to its tun address.
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Ping(_)))
            .count()
            >= 2,
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Packet(..))),
        "{events:#?}"
    );
    assert!(
        log.contains("PUSH: Received control message: 'PUSH_REPLY"),
        "{log}"
    );
    assert!(log.contains("peer-id 3"), "{log}");
}

#[test]
fn openvpn_client_against_our_server_over_tcp() {
    check_real_client(true);
}

#[test]
fn openvpn_client_against_our_server_over_udp() {
    check_real_client(false);
}

#[test]
fn our_server_refuses_openvpn_client_with_a_certificate_from_another_ca() {
    let (events, log) = real_client_against_our_server(true, true);
    let alert = events.iter().find_map(|e| match e {
        Event::TlsFailed(a) => Some(a.clone()),
        _ => None,
    });
    assert_eq!(
        alert.as_deref(),
        Some("tls.alert.unknown_ca"),
        "{events:#?}"
    );
    assert!(!events.iter().any(|e| matches!(e, Event::DataKeys(..))));
    assert!(
        log.contains("Received fatal SSL alert: unknown CA"),
        "{log}"
    );
}

/// A static key made by the real openvpn (`--genkey secret` or `--genkey
/// tls-crypt`) in `dir`, read back by our parser: (path, key).
fn genkey(dir: &Path, kind: &str, name: &str) -> (String, StaticKey) {
    require(OPENVPN, "openvpn");
    let path = dir.join(name);
    run(Command::new(OPENVPN).args(["--genkey", kind]).arg(&path));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("-----BEGIN OpenVPN Static key V1-----"),
        "{text}"
    );
    let key = StaticKey::parse(&text).expect("our parser reads openvpn's key file");
    // Our writer gives the same bytes back.
    assert_eq!(StaticKey::parse(&key.to_file()), Some(key.clone()));
    (path.to_string_lossy().into_owned(), key)
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

/// tls-auth with HMAC-SHA256 and key directions (server 0, our client 1), over UDP:
/// the whole handshake, the push, pings and the echo go through openvpn's HMAC
/// firewall, so every control packet we wrapped verified.
#[test]
fn our_client_against_openvpn_server_with_tls_auth() {
    let (c, log) = our_client_with(false, "AES-256-GCM", "-ta", |d| {
        let (path, key) = genkey(d, "secret", "ta.key");
        (
            args(&["--tls-auth", &path, "0", "--auth", "SHA256"]),
            ControlProtection::TlsAuth {
                key,
                direction: Some(1),
                digest: Digest::Sha256,
            },
        )
    });
    assert_eq!(c, Cipher::Aes256Gcm);
    assert!(
        log.contains(
            "Outgoing Control Channel Authentication: Using 256 bit message hash 'SHA256'"
        ),
        "{log}"
    );
    assert!(!log.contains("authentication failed"), "{log}");
}

/// tls-crypt over TCP: openvpn decrypts and authenticates every control packet we
/// encrypted, and we its.
#[test]
fn our_client_against_openvpn_server_with_tls_crypt() {
    let (c, log) = our_client_with(true, "AES-256-GCM", "-tc", |d| {
        let (path, key) = genkey(d, "tls-crypt", "tc.key");
        (
            args(&["--tls-crypt", &path]),
            ControlProtection::TlsCrypt { key },
        )
    });
    assert_eq!(c, Cipher::Aes256Gcm);
    assert!(
        log.contains("Outgoing Control Channel Encryption: Cipher 'AES-256-CTR'"),
        "{log}"
    );
    assert!(!log.contains("unwrapping failed"), "{log}");
}

/// Our client with another key than the server's: openvpn drops every packet
/// before any state (its "HMAC firewall"), answers nothing, and logs why.
fn openvpn_server_drops_our_client(crypt: bool) -> String {
    let p = pkis();
    let tag = if crypt {
        "srv-wrong-tc"
    } else {
        "srv-wrong-ta"
    };
    let (ns, mut ovpn, dir) = real_server_with(tag, &p, false, "AES-256-GCM", |d| {
        if crypt {
            args(&["--tls-crypt", &genkey(d, "tls-crypt", "tc.key").0])
        } else {
            args(&["--tls-auth", &genkey(d, "secret", "ta.key").0, "0"])
        }
    });
    // Our key: another one made the same way.
    let (_, ours) = genkey(
        &dir,
        if crypt { "tls-crypt" } else { "secret" },
        "other.key",
    );
    let protection = if crypt {
        ControlProtection::TlsCrypt { key: ours }
    } else {
        ControlProtection::TlsAuth {
            key: ours,
            direction: Some(1),
            digest: Digest::Sha1,
        }
    };
    let mut sock = connect(&ns, false);
    let mut rng = Seeded::new(7);
    let mut s = Session::new(
        Config::client(false).protected(protection, now_s()),
        client_tls(&p, ClientCert::Good, 8),
        &mut rng,
    );
    let what = if crypt {
        "TLS Error: tls-crypt unwrapping failed from"
    } else {
        "TLS Error: incoming packet authentication failed from"
    };
    let start = Instant::now();
    let mut answers = 0;
    loop {
        assert!(
            start.elapsed() < DEADLINE,
            "openvpn did not log {what:?}:\n{}",
            ovpn.log()
        );
        s.tick(epoch_ms(start));
        for pkt in s.take_output() {
            sock.send(&pkt);
        }
        if let Some(b) = sock.recv() {
            answers += usize::from(!b.is_empty());
        }
        ovpn.drain();
        if ovpn.seen.iter().any(|l| l.contains(what)) && start.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    assert_eq!(answers, 0, "openvpn answers nothing");
    assert!(!s.established());
    ovpn.log()
}

#[test]
fn openvpn_server_drops_our_client_with_another_tls_auth_key() {
    let log = openvpn_server_drops_our_client(false);
    assert!(log.contains("HMAC"), "{log}");
    assert!(!log.contains("TLSv1.3"), "no TLS began: {log}");
}

#[test]
fn openvpn_server_drops_our_client_with_another_tls_crypt_key() {
    let log = openvpn_server_drops_our_client(true);
    assert!(
        log.contains("tls-crypt unwrap error: packet authentication failed"),
        "{log}"
    );
    assert!(!log.contains("TLSv1.3"), "no TLS began: {log}");
}

fn check_real_client_events(events: &[Event], log: &str) {
    assert!(
        events.iter().any(|e| matches!(e, Event::TlsConnected)),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Ping(_)))
            .count()
            >= 2,
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Packet(..))),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Dropped(Dropped::Wrap(_)))),
        "{events:#?}"
    );
    assert!(
        log.contains("PUSH: Received control message: 'PUSH_REPLY"),
        "{log}"
    );
}

/// The real client with tls-auth (openvpn's defaults: HMAC-SHA1, no direction, so
/// one key both ways) over TCP against our server.
#[test]
fn openvpn_client_against_our_server_with_tls_auth() {
    let (events, log) = real_client_with(true, false, "-ta", |_, d| {
        let (path, key) = genkey(d, "secret", "ta.key");
        (
            args(&["--tls-auth", &path]),
            ControlProtection::TlsAuth {
                key,
                direction: None,
                digest: Digest::Sha1,
            },
            Vec::new(),
        )
    });
    check_real_client_events(&events, &log);
    assert!(
        log.contains("Incoming Control Channel Authentication: Using 160 bit message hash 'SHA1'"),
        "{log}"
    );
}

/// The real client with tls-crypt over UDP against our server.
#[test]
fn openvpn_client_against_our_server_with_tls_crypt() {
    let (events, log) = real_client_with(false, false, "-tc", |_, d| {
        let (path, key) = genkey(d, "tls-crypt", "tc.key");
        (
            args(&["--tls-crypt", &path]),
            ControlProtection::TlsCrypt { key },
            Vec::new(),
        )
    });
    check_real_client_events(&events, &log);
    assert!(
        log.contains("Incoming Control Channel Encryption: Cipher 'AES-256-CTR'"),
        "{log}"
    );
}

/// The real client with another tls-crypt key: our server drops its reset (tag
/// mismatch) and never answers; openvpn's handshake does not start.
#[test]
fn our_server_drops_openvpn_client_with_another_tls_crypt_key() {
    let (events, log) = real_client_with(false, false, "-wrong-tc", |_, d| {
        let (path, _) = genkey(d, "tls-crypt", "tc.key");
        let (_, ours) = genkey(d, "tls-crypt", "other.key");
        (
            args(&["--tls-crypt", &path]),
            ControlProtection::TlsCrypt { key: ours },
            Vec::new(),
        )
    });
    assert!(
        matches!(
            events.first(),
            Some(Event::Dropped(Dropped::Wrap(WrapError::BadAuth)))
        ),
        "{events:#?}"
    );
    assert!(!events.iter().any(|e| matches!(e, Event::PeerReset(_))));
    assert!(!log.contains("TLSv1.3"), "{log}");
}

/// A CRL from the intermediate (the CA of alice's certificate) revoking alice's
/// ECDSA certificate (serial 10 18), dated by the machine's clock as openvpn checks
/// it: (DER, PEM).
fn revoking_crl(p: &Pkis) -> (Vec<u8>, String) {
    let now = now_s() as i64;
    let ca = Authority::intermediate(&p.pki.intermediate).unwrap();
    let der = ca.crl(&[24], 1, now - 3_600, now + 86_400).unwrap();
    let pem = pem::encode("X509 CRL", &der);
    (der, pem)
}

/// openvpn with `--crl-verify` on our CRL refuses our client's revoked certificate:
/// OpenSSL read the CRL we made and found alice's serial in it.
#[test]
fn openvpn_server_refuses_our_client_with_a_revoked_certificate() {
    let log = openvpn_server_refuses_with("srv-revoked", ClientCert::Good, |p, d| {
        let path = d.join("crl.pem");
        std::fs::write(&path, revoking_crl(p).1).unwrap();
        args(&["--crl-verify", &path.to_string_lossy()])
    });
    assert!(
        log.contains("VERIFY ERROR: depth=0, error=certificate revoked"),
        "{log}"
    );
    assert!(log.contains("CN=alice"), "{log}");
}

/// Our server with the same CRL refuses the real client's revoked certificate with
/// the certificate_revoked alert, which openvpn reports.
#[test]
fn our_server_refuses_openvpn_client_with_a_revoked_certificate() {
    let (events, log) = real_client_with(true, false, "-revoked", |p, _| {
        (Vec::new(), ControlProtection::None, vec![revoking_crl(p).0])
    });
    let alert = events.iter().find_map(|e| match e {
        Event::TlsFailed(a) => Some(a.clone()),
        _ => None,
    });
    assert_eq!(
        alert.as_deref(),
        Some("tls.alert.certificate_revoked"),
        "{events:#?}"
    );
    assert!(!events.iter().any(|e| matches!(e, Event::DataKeys(..))));
    assert!(log.contains("certificate revoked"), "{log}");
}

/// Our client against the real server with `identity`; the server's extra options
/// come from `extra`. Returns our events and openvpn's log once `until` is logged.
fn against_real_server(
    tag: &str,
    identity: impl FnOnce(&Pkis) -> Option<Identity>,
    extra: impl FnOnce(&Pkis, &Path) -> Vec<String>,
    until: &str,
) -> (Vec<Event>, String) {
    let p = pkis();
    let id = identity(&p);
    let (ns, mut ovpn, _dir) = real_server_with(tag, &p, true, "AES-256-GCM", |d| extra(&p, d));
    let mut sock = connect(&ns, true);
    let mut rng = Seeded::new(7);
    let tls = client_tls_with(&p, id, 8);
    let mut s = Session::new(Config::client(true), tls, &mut rng);
    let events = drive(&mut s, &mut sock, |_, e| {
        matches!(e, Event::TlsFailed(_) | Event::Failed(_) | Event::Pushed(_))
    });
    ovpn.wait_for(until);
    (events, ovpn.log())
}

/// Without a certificate our client is refused by openvpn; what it logs.
#[test]
fn openvpn_server_refuses_our_client_without_a_certificate() {
    let (events, log) = against_real_server(
        "srv-nocert",
        |_| None,
        |_, _| Vec::new(),
        "TLS Error: TLS handshake failed",
    );
    assert!(
        !events.iter().any(|e| matches!(e, Event::Pushed(_))),
        "{events:#?}"
    );
    assert!(
        log.contains("OpenSSL: error:0A0000C7:SSL routines::peer did not return a certificate"),
        "{log}"
    );
}

/// The scenario's enrollment against the real server: a VPN CA under the root
/// issues alice's leaf from our CSR; openvpn (its --ca the root and the VPN CA)
/// verifies the chain through the VPN CA and pushes; with the VPN CA's CRL naming
/// the leaf it refuses it.
#[test]
fn openvpn_server_takes_a_leaf_the_vpn_ca_issued_from_our_csr_until_it_is_revoked() {
    use cipherstage_pki::issue::{make_csr, read_csr};
    for revoked in [false, true] {
        let mut rng = Seeded::new(40);
        let now = now_s();
        let made: std::cell::RefCell<Option<(Authority, Vec<u8>, Key)>> = Default::default();
        let (events, log) = against_real_server(
            if revoked {
                "srv-vpnca-rev"
            } else {
                "srv-vpnca"
            },
            |p| {
                let ca = Authority::vpn_ca(&mut rng, &p.pki.root, now).unwrap();
                let key = Key::generate_ecdsa_p256(&mut rng).unwrap();
                let csr = read_csr(&make_csr(&key, "alice-laptop.example.com", &mut rng).unwrap())
                    .unwrap();
                let t = now as i64;
                let leaf = ca
                    .issue_client(&csr, "alice", 40, t - 30 * 86_400, t + 335 * 86_400)
                    .unwrap();
                let id = Identity {
                    chain: vec![leaf.clone(), ca.cert.der.clone()],
                    signer: Signer::Key(key.clone()),
                };
                *made.borrow_mut() = Some((ca, leaf, key));
                Some(id)
            },
            |p, d| {
                let guard = made.borrow();
                let (ca, _, _) = guard.as_ref().unwrap();
                let cas = pem::encode("CERTIFICATE", &p.pki.root.der)
                    + &pem::encode("CERTIFICATE", &ca.cert.der);
                std::fs::write(d.join("ca.pem"), cas).unwrap();
                if revoked {
                    let t = now as i64;
                    let crl = ca.crl(&[40], 1, t - 3_600, t + 86_400).unwrap();
                    std::fs::write(d.join("crl.pem"), pem::encode("X509 CRL", &crl)).unwrap();
                    args(&["--crl-verify", &d.join("crl.pem").to_string_lossy()])
                } else {
                    Vec::new()
                }
            },
            if revoked {
                "VERIFY ERROR: depth=0, error=certificate revoked"
            } else {
                "PUSH_REPLY"
            },
        );
        let pushed = events.iter().any(|e| matches!(e, Event::Pushed(_)));
        assert_eq!(pushed, !revoked, "{events:#?}\n{log}");
        if revoked {
            assert!(log.contains("CN=alice, serial=4136"), "10 28 = 4136: {log}");
        } else {
            assert!(
                log.contains("VERIFY OK: depth=1, O=cipherstage, CN=cipherstage VPN CA"),
                "{log}"
            );
            assert!(
                log.contains("VERIFY OK: depth=0, O=cipherstage, CN=alice"),
                "{log}"
            );
        }
    }
}
