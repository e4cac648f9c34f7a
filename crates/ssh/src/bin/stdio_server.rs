//! Our SSH server on stdin/stdout, for OpenSSH's `ssh -o ProxyCommand=…`.
//!
//! Usage: `cipherstage-ssh-stdio-server [CIPHER [HOST_KEY_ALGORITHM]]`. The host key and the one
//! authorized user key are the demo keys (`scenario::demo_key`); the session's
//! `exec` runs in the built-in demo shell. Port forwarding (`ssh -W`, `ssh -L`) is
//! relayed to loopback targets only (127.0.0.1, ::1, localhost); anything else is
//! refused as administratively prohibited. Remote forwarding (`ssh -R`) listens on
//! loopback only; a connection there becomes a "forwarded-tcpip" channel to the
//! client. The "sftp" subsystem serves the demo
//! in-memory file system (`MemFs::demo`); with `CS_SFTP_DUMP=DIR` in the
//! environment, its files are written under DIR when the connection ends (so a
//! test can compare them). `CS_REKEY_BYTES=N` makes it start a key
//! re-exchange every N bytes; `CS_AUTHORIZED_KEYS=FILE` authorizes more user keys
//! (RSA ones too). For interop tests, not for real use.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use cipherstage_ssh::kex;
use cipherstage_ssh::scenario::{demo_host_key, demo_key};
use cipherstage_ssh::server::{Algorithms, ChannelEvent, Server, ServerConfig};
use cipherstage_ssh::sftp::MemFs;
use cipherstage_ssh::wire::message::open_failure;
use cipherstage_ssh::Outgoing;
use cipherstage_transcript::rand::Live;

/// What the main loop waits for.
enum Input {
    /// Bytes from the SSH client (stdin).
    Ssh(Vec<u8>),
    /// stdin ended.
    SshEnd,
    /// Bytes from the TCP connection of a forwarding channel.
    Tcp(u32, Vec<u8>),
    /// That TCP connection ended (EOF or error).
    TcpEnd(u32),
    /// A connection arrived at a remote-forwarded port (`ssh -R`).
    Accept {
        /// The address and port the client asked us to listen on.
        address: String,
        port: u32,
        stream: TcpStream,
    },
}

/// Spawns a thread that forwards everything `r` yields as `data(chunk)`, then `end`.
fn pump(
    mut r: impl Read + Send + 'static,
    tx: mpsc::Sender<Input>,
    data: impl Fn(Vec<u8>) -> Input + Send + 'static,
    end: Input,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let chunk = buf.get(..n).unwrap_or_default().to_vec();
                    if tx.send(data(chunk)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(end);
    });
}

/// A loopback address for `host:port`, or `None` when the target is not local.
fn loopback(host: &str, port: u32) -> Option<SocketAddr> {
    let port = u16::try_from(port).ok()?;
    if !matches!(host, "127.0.0.1" | "::1" | "localhost") {
        return None;
    }
    (host, port)
        .to_socket_addrs()
        .ok()?
        .find(|a| a.ip().is_loopback())
}

/// A listener for `ssh -R` on a loopback address, or `None` for any other address.
fn listen(address: &str, port: u32) -> Option<std::net::TcpListener> {
    let port = u16::try_from(port).ok()?;
    let ip = match address {
        "" | "localhost" | "127.0.0.1" => "127.0.0.1",
        "::1" => "::1",
        _ => return None,
    };
    std::net::TcpListener::bind((ip, port)).ok()
}

fn write_out(stdout: &mut impl Write, out: Vec<Outgoing>) {
    for o in out {
        if stdout.write_all(&o.bytes).is_err() {
            std::process::exit(1);
        }
    }
    let _ = stdout.flush();
}

/// The demo user key, and the keys of the file `CS_AUTHORIZED_KEYS` names (one
/// OpenSSH public key line each; a line that does not parse is skipped).
fn authorized(demo: cipherstage_ssh::keys::PublicKey) -> Vec<cipherstage_ssh::keys::PublicKey> {
    let mut keys = vec![demo];
    if let Some(text) =
        std::env::var_os("CS_AUTHORIZED_KEYS").and_then(|p| std::fs::read_to_string(p).ok())
    {
        keys.extend(
            text.lines()
                .filter_map(|l| cipherstage_ssh::keys::PublicKey::parse_openssh(l).ok())
                .map(|(k, _)| k),
        );
    }
    keys
}

/// The time the demo file system stamps on files (2025-12-02 00:00 UTC).
const DEMO_TIME: u32 = 1_764_633_600;

/// Writes every file of the server's file system under `dir` (CS_SFTP_DUMP),
/// afresh, after each change: OpenSSH ends a ProxyCommand with SIGHUP, so there
/// is no last moment to do it in.
fn dump(server: &Server, saved: &mut u64) {
    let (Some(dir), Some(fs)) = (std::env::var_os("CS_SFTP_DUMP"), server.files()) else {
        return;
    };
    if fs.changes() == *saved {
        return;
    }
    *saved = fs.changes();
    let _ = std::fs::remove_dir_all(&dir);
    for (path, data) in fs.files() {
        let target = std::path::Path::new(&dir).join(path.trim_start_matches('/'));
        if let Some(parent) = target.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(target, data);
    }
}

fn main() {
    let cipher = std::env::args()
        .nth(1)
        .unwrap_or_else(|| kex::CHACHA.into());
    let host_alg = std::env::args()
        .nth(2)
        .unwrap_or_else(|| cipherstage_ssh::keys::ED25519.into());
    let (Some(host_key), Some(user)) = (
        demo_host_key(&host_alg, "cipherstage demo host key"),
        demo_key("cipherstage demo user key"),
    ) else {
        std::process::exit(2);
    };
    let mut server = Server::new(
        ServerConfig {
            version: "SSH-2.0-cipherstage_0.1".into(),
            host_key,
            forge_with: None,
            authorized_keys: authorized(user.public()),
            passwords: Vec::new(),
            hostname: "server.example".into(),
            algorithms: Algorithms {
                host_keys: vec![host_alg],
                ciphers: vec![cipher],
                ..Algorithms::default()
            },
        },
        1,
    );
    server.allow_forwarding(true);
    server.serve_sftp(MemFs::demo("alice", DEMO_TIME));
    // CS_REKEY_BYTES=N: our server starts a key re-exchange every N bytes.
    if let Some(n) = std::env::var("CS_REKEY_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        server.rekey_after_bytes(n);
    }
    let mut rng = Live;
    let mut events = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let Ok(first) = server.start(&mut rng) else {
        std::process::exit(1);
    };
    write_out(&mut stdout, first);
    let (tx, rx) = mpsc::channel::<Input>();
    pump(std::io::stdin(), tx.clone(), Input::Ssh, Input::SshEnd);
    let mut conns: BTreeMap<u32, TcpStream> = BTreeMap::new();
    // Connections to a remote-forwarded port whose channel the client has not confirmed yet.
    let mut pending: BTreeMap<u32, TcpStream> = BTreeMap::new();
    // Channels whose TCP side ended, and channels the client sent EOF on.
    let mut tcp_done = std::collections::BTreeSet::new();
    let mut peer_eof = std::collections::BTreeSet::new();
    let mut saved = 0;
    // Read until the client hangs up: it sends DISCONNECT after the channels close.
    while let Ok(input) = rx.recv() {
        let out = match input {
            Input::Accept {
                address,
                port,
                stream,
            } => {
                let peer = stream.peer_addr().ok();
                let origin = peer.map_or_else(|| "127.0.0.1".to_owned(), |a| a.ip().to_string());
                let origin_port = peer.map_or(0, |a| u32::from(a.port()));
                server
                    .open_forwarded(&address, port, &origin, origin_port, &mut rng)
                    .map(|(channel, out)| {
                        pending.insert(channel, stream);
                        out
                    })
            }
            Input::Ssh(chunk) => server.receive(&chunk, &mut rng, &mut events),
            Input::SshEnd => break,
            Input::Tcp(ch, data) => server.send_data(ch, &data, &mut rng),
            // The TCP side will send no more: EOF; CLOSE once the client's EOF came
            // too (an `ssh -R` originator half-closes and still waits for the answer).
            Input::TcpEnd(ch) => {
                tcp_done.insert(ch);
                server.send_eof(ch, &mut rng).and_then(|mut v| {
                    if peer_eof.contains(&ch) {
                        v.extend(server.close_channel(ch, &mut rng)?);
                    }
                    Ok(v)
                })
            }
        };
        match out {
            Ok(out) => write_out(&mut stdout, out),
            // A TCP end racing a channel the client already closed.
            Err(cipherstage_ssh::Error::NoChannel) => {}
            Err(cipherstage_ssh::Error::Disconnected(_)) => break,
            Err(e) => {
                eprintln!("cipherstage-ssh server: {e:?}");
                dump(&server, &mut saved);
                std::process::exit(1);
            }
        }
        events.clear();
        dump(&server, &mut saved);
        for ev in server.take_channel_events() {
            let out = match ev {
                ChannelEvent::ForwardRequest { channel, target } => {
                    match loopback(&target.host, target.port) {
                        None => server.refuse_forward(
                            channel,
                            open_failure::ADMINISTRATIVELY_PROHIBITED,
                            "only loopback targets are forwarded",
                            &mut rng,
                        ),
                        Some(addr) => {
                            match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                                Ok(stream) => {
                                    if let Ok(reader) = stream.try_clone() {
                                        pump(
                                            reader,
                                            tx.clone(),
                                            move |d| Input::Tcp(channel, d),
                                            Input::TcpEnd(channel),
                                        );
                                    }
                                    conns.insert(channel, stream);
                                    server.accept_forward(channel, &mut rng)
                                }
                                Err(_) => server.refuse_forward(
                                    channel,
                                    open_failure::CONNECT_FAILED,
                                    "Connection refused",
                                    &mut rng,
                                ),
                            }
                        }
                    }
                }
                ChannelEvent::Data { channel, data } => {
                    if let Some(s) = conns.get_mut(&channel) {
                        let _ = s.write_all(&data);
                    }
                    Ok(Vec::new())
                }
                ChannelEvent::Eof { channel } => {
                    peer_eof.insert(channel);
                    if let Some(s) = conns.get(&channel) {
                        let _ = s.shutdown(Shutdown::Write);
                    }
                    if tcp_done.contains(&channel) {
                        server.close_channel(channel, &mut rng)
                    } else {
                        Ok(Vec::new())
                    }
                }
                ChannelEvent::Closed { channel } => {
                    tcp_done.remove(&channel);
                    peer_eof.remove(&channel);
                    if let Some(s) = conns.remove(&channel) {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                    Ok(Vec::new())
                }
                // `ssh -R`: listen on loopback only, for the client.
                ChannelEvent::ListenRequest { address, port } => match listen(&address, port) {
                    Some(listener) => {
                        let bound = listener.local_addr().map_or(port, |a| u32::from(a.port()));
                        let tx = tx.clone();
                        std::thread::spawn(move || {
                            for stream in listener.incoming().flatten() {
                                let accept = Input::Accept {
                                    address: address.clone(),
                                    port: bound,
                                    stream,
                                };
                                if tx.send(accept).is_err() {
                                    break;
                                }
                            }
                        });
                        server.answer_listen(Some(bound), &mut rng)
                    }
                    None => server.answer_listen(None, &mut rng),
                },
                ChannelEvent::ListenCancel { .. } => Ok(Vec::new()),
                ChannelEvent::RemoteOpened { channel } => {
                    if let Some(stream) = pending.remove(&channel) {
                        if let Ok(reader) = stream.try_clone() {
                            pump(
                                reader,
                                tx.clone(),
                                move |d| Input::Tcp(channel, d),
                                Input::TcpEnd(channel),
                            );
                        }
                        conns.insert(channel, stream);
                    }
                    Ok(Vec::new())
                }
                ChannelEvent::RemoteRefused { channel, .. } => {
                    if let Some(s) = pending.remove(&channel) {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                    Ok(Vec::new())
                }
            };
            match out {
                Ok(out) => write_out(&mut stdout, out),
                // The channel closed in the same batch of messages (EOF then CLOSE).
                Err(cipherstage_ssh::Error::NoChannel) => {}
                Err(e) => {
                    eprintln!("cipherstage-ssh server: {e:?}");
                    std::process::exit(1);
                }
            }
        }
    }
    dump(&server, &mut saved);
}
