//! Our SSH server on stdin/stdout, for OpenSSH's `ssh -o ProxyCommand=…`.
//!
//! Usage: `cipherstage-ssh-stdio-server [CIPHER [HOST_KEY_ALGORITHM]]`. The host key and the one
//! authorized user key are the demo keys (`scenario::demo_key`); the session's
//! `exec` runs in the built-in demo shell. For interop tests, not for real use.

use std::io::{Read, Write};

use cipherstage_ssh::kex;
use cipherstage_ssh::scenario::{demo_host_key, demo_key};
use cipherstage_ssh::server::{Algorithms, Server, ServerConfig};
use cipherstage_transcript::rand::Live;

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
            authorized_keys: vec![user.public()],
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
    let mut rng = Live;
    let mut events = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let mut stdin = std::io::stdin().lock();
    let Ok(first) = server.start(&mut rng) else {
        std::process::exit(1);
    };
    for o in first {
        if stdout.write_all(&o.bytes).is_err() {
            std::process::exit(1);
        }
    }
    let _ = stdout.flush();
    let mut buf = [0u8; 16384];
    // Read until the client hangs up: it sends DISCONNECT after the channel closes.
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let Some(chunk) = buf.get(..n) else { break };
        match server.receive(chunk, &mut rng, &mut events) {
            Ok(out) => {
                for o in out {
                    if stdout.write_all(&o.bytes).is_err() {
                        std::process::exit(1);
                    }
                }
                let _ = stdout.flush();
            }
            Err(cipherstage_ssh::Error::Disconnected(_)) => break,
            Err(e) => {
                eprintln!("cipherstage-ssh server: {e:?}");
                std::process::exit(1);
            }
        }
        events.clear();
    }
}
