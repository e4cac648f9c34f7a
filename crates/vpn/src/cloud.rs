//! `vpn-cloud`: the Zscaler-style variant of the seed's VPN section (a "zero trust"
//! access service): nothing in the office listens on the Internet. An on-premises
//! connector opens an outbound mutual-TLS connection to the cloud service; the
//! laptop's client opens its own mutual-TLS connection to the same cloud gateway.
//! The cloud decrypts the laptop's request, checks its policy (this user, this
//! application) and forwards it inside the connector's connection; the connector
//! decrypts it and opens the TCP connection to the office server from its own LAN
//! address, so the application sees the connector. The answer goes back the same
//! way. Composed of the cipherstage TLS and packet cores: no new cryptography. The
//! product's own tunnel protocol differs (and is not public); what is common is
//! the shape: TLS to a cloud gateway, outbound connectors, the application seeing
//! the connector's address.

use cipherstage_packets::Ipv4Addr;
use cipherstage_pki::authority::Authority;
use cipherstage_pki::issue::{issue_server, make_csr, read_csr};
use cipherstage_pki::{Key, Pki, SCENARIO_NOW};
use cipherstage_tls::enums::SignatureScheme;
use cipherstage_tls::scenario::{build_pki, seeded};
use cipherstage_tls::{
    Client, ClientAuth, ClientConfig, Connection, Identity, Server, ServerConfig, Signer,
    VirtualHost,
};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{Actor, Layer, Link, Recorder, Role, Transcript, Wire};

use crate::{lan_packet, read_packet, tcp_packet};

const LAPTOP: usize = 0;
const CLOUD: usize = 1;
const CONNECTOR: usize = 2;
const SERVER: usize = 3;
const EVE: usize = 4;
const L_LAPTOP: Wire<'static> = Wire {
    link: 0,
    protocol: "tls",
    layer: Layer::Transport,
};
/// Link 1 is the office LAN (connector ↔ application), as `lan_packet` sends.
const L_CONNECTOR: Wire<'static> = Wire {
    link: 2,
    protocol: "tls",
    layer: Layer::Transport,
};
/// Delivery rounds at most (both handshakes and the exchange need about 12).
const MAX_ROUNDS: usize = 40;

/// The cloud gateway's name.
pub const CLOUD_NAME: &str = "gateway.cloud.example.net";
/// The connector's address on the office LAN: what the office server sees.
pub const CONNECTOR_LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 20);
/// The office application.
pub const APP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CloudParams {
    /// A byte Eve flips in flight.
    pub tamper: Option<cipherstage_transcript::TamperAt>,
}

/// Runs the story under id `scenario` with `seed` (`None`: live randomness).
pub fn run(scenario: &str, p: &CloudParams, seed: Option<u64>) -> Transcript {
    let mut master = Source::from_seed(seed);
    let mut d = Recorder::new(p.tamper, Some(EVE));
    d.watch(L_LAPTOP.link);
    d.watch(L_CONNECTOR.link);
    match build_pki(&mut master) {
        Ok(pki) => {
            let mut rng = seeded(&mut master);
            if story(&mut d, &pki, &mut master, &mut *rng).is_none() {
                d.narrate("tls.narr.pki_failed", &[]);
            }
        }
        Err(_) => d.narrate("tls.narr.pki_failed", &[]),
    }
    let actor = |role, name: &str| Actor {
        role,
        name: name.to_owned(),
    };
    let link = |a, b, observers: Vec<usize>| Link { a, b, observers };
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            actor(Role::Client, "vpn.actor.laptop"),
            actor(Role::Gateway, "vpn.cloud.actor.cloud"),
            actor(Role::Gateway, "vpn.cloud.actor.connector"),
            actor(Role::Server, "vpn.actor.intranet"),
            actor(Role::Eavesdropper, "vpn.actor.eve"),
        ],
        links: vec![
            link(LAPTOP, CLOUD, vec![EVE]),
            link(CONNECTOR, SERVER, Vec::new()),
            link(CONNECTOR, CLOUD, vec![EVE]),
        ],
        events: d.events,
    }
}

fn client_auth(pki: &Pki) -> ClientAuth {
    ClientAuth {
        roots: vec![pki.root.der.clone()],
        now: SCENARIO_NOW,
        signature_schemes: vec![
            SignatureScheme::Ed25519,
            SignatureScheme::EcdsaSecp256r1Sha256,
        ],
        crls: Vec::new(),
    }
}

/// One TLS connection of the story: who is at each end, on which link.
struct Leg {
    client: Client,
    server: Server,
    wire: Wire<'static>,
    ends: (usize, usize),
}

impl Leg {
    /// Moves every pending record both ways once; whether anything moved.
    fn pump(&mut self, d: &mut Recorder) -> bool {
        let mut moved = false;
        for o in self.client.take_output() {
            let got = d.send(
                self.wire,
                self.ends.0,
                self.ends.1,
                o.label,
                o.bytes,
                o.fields,
            );
            let _ = self.server.receive(&got.bytes);
            moved = true;
        }
        d.events.extend(self.client.take_events());
        d.events.extend(self.server.take_events());
        for o in self.server.take_output() {
            let got = d.send(
                self.wire,
                self.ends.1,
                self.ends.0,
                o.label,
                o.bytes,
                o.fields,
            );
            let _ = self.client.receive(&got.bytes);
            moved = true;
        }
        d.events.extend(self.client.take_events());
        d.events.extend(self.server.take_events());
        moved
    }

    fn up(&self) -> bool {
        self.client.is_connected() && self.server.is_connected()
    }

    fn broken(&self) -> bool {
        self.client.peer_alert().is_some() || self.server.peer_alert().is_some()
    }
}

fn story(
    d: &mut Recorder,
    pki: &Pki,
    master: &mut Source,
    rng: &mut dyn RandomSource,
) -> Option<()> {
    d.narrate("vpn.cloud.narr.intro", &[("cloud", &CLOUD_NAME)]);
    // The cloud gateway's certificate, and the connector's client certificate from
    // the company's CA (issued from the connector's own CSR when it was installed).
    let cloud_key = Key::generate(rng).ok()?;
    let cloud_cert = issue_server(&cloud_key, CLOUD_NAME, &pki.intermediate).ok()?;
    let ca = Authority::intermediate(&pki.intermediate).ok()?;
    let conn_key = Key::generate_ecdsa_p256(rng).ok()?;
    let csr = read_csr(&make_csr(&conn_key, "connector.office.example.com", rng).ok()?).ok()?;
    let now = SCENARIO_NOW as i64;
    let conn_cert = ca
        .issue_client(
            &csr,
            "office connector",
            50,
            now - 30 * 86_400,
            now + 335 * 86_400,
        )
        .ok()?;
    let server_config = || {
        let mut sc = ServerConfig::new(vec![VirtualHost {
            names: vec![CLOUD_NAME.to_owned()],
            identity: Identity {
                chain: vec![cloud_cert.clone(), pki.intermediate.der.clone()],
                signer: Signer::Key(cloud_key.clone()),
            },
        }]);
        sc.client_auth = Some(client_auth(pki));
        sc.ticket = None;
        sc
    };
    let client_config = |chain: Vec<Vec<u8>>, key: &Key| {
        let mut cc = ClientConfig::new(CLOUD_NAME, vec![pki.root.der.clone()], SCENARIO_NOW);
        cc.identity = Some(Identity {
            chain,
            signer: Signer::Key(key.clone()),
        });
        cc
    };
    // First the connector: outbound, so the office opens no port to the Internet.
    d.narrate("vpn.cloud.narr.connector_dials", &[("cloud", &CLOUD_NAME)]);
    let mut connector = Leg {
        client: Client::new(
            client_config(vec![conn_cert, pki.intermediate.der.clone()], &conn_key),
            seeded(master),
            CONNECTOR,
        )
        .ok()?,
        server: Server::new(server_config(), seeded(master), CLOUD),
        wire: L_CONNECTOR,
        ends: (CONNECTOR, CLOUD),
    };
    for _ in 0..MAX_ROUNDS {
        if !connector.pump(d) || connector.up() || connector.broken() {
            break;
        }
    }
    if !connector.up() {
        d.narrate("vpn.cloud.narr.failed", &[]);
        return Some(());
    }
    d.narrate("vpn.cloud.narr.connector_up", &[]);
    d.narrate("vpn.cloud.narr.laptop_dials", &[("cloud", &CLOUD_NAME)]);
    let mut laptop = Leg {
        client: Client::new(
            client_config(
                vec![pki.alice.der.clone(), pki.intermediate.der.clone()],
                &pki.alice.key,
            ),
            seeded(master),
            LAPTOP,
        )
        .ok()?,
        server: Server::new(server_config(), seeded(master), CLOUD),
        wire: L_LAPTOP,
        ends: (LAPTOP, CLOUD),
    };
    let request =
        format!("GET /payroll HTTP/1.1\r\nHost: {APP}\r\nUser-Agent: cipherstage\r\n\r\n");
    let (mut asked, mut relayed, mut answered, mut done) = (false, false, false, false);
    for _ in 0..MAX_ROUNDS {
        let moved = laptop.pump(d) | connector.pump(d);
        if laptop.broken() || connector.broken() {
            break;
        }
        if laptop.up() && !asked {
            asked = true;
            d.narrate("vpn.cloud.narr.request", &[("app", &APP)]);
            let _ = laptop.client.send(request.as_bytes());
            continue;
        }
        let at_cloud = laptop.server.take_app_data();
        if !at_cloud.is_empty() && !relayed {
            relayed = true;
            let user = "alice".to_owned();
            d.narrate("vpn.cloud.narr.policy", &[("user", &user), ("app", &APP)]);
            let _ = connector.server.send(&at_cloud);
            continue;
        }
        let at_connector = connector.client.take_app_data();
        if !at_connector.is_empty() && !answered {
            answered = true;
            // The connector opens its own TCP connection to the application.
            let out = tcp_packet(
                (CONNECTOR_LAN, 40_000),
                (APP, 80),
                (7_000, 9_000),
                &at_connector,
                rng,
            );
            lan_packet(
                d,
                CONNECTOR,
                SERVER,
                "vpn.cloud.msg.connector_request",
                &out,
            );
            let seen = read_packet(&out)
                .map(|(s, _, _)| s)
                .unwrap_or(CONNECTOR_LAN);
            d.narrate("vpn.cloud.narr.app_sees", &[("src", &seen)]);
            let body = "<h1>Payroll (office only)</h1>\n";
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let reply = tcp_packet(
                (APP, 80),
                (CONNECTOR_LAN, 40_000),
                (9_000, 7_000u32.wrapping_add(at_connector.len() as u32)),
                response.as_bytes(),
                rng,
            );
            lan_packet(d, SERVER, CONNECTOR, "vpn.cloud.msg.app_reply", &reply);
            if let Some((_, _, data)) = read_packet(&reply) {
                let _ = connector.client.send(&data);
            }
            continue;
        }
        let back = connector.server.take_app_data();
        if !back.is_empty() {
            let _ = laptop.server.send(&back);
            continue;
        }
        let got = laptop.client.take_app_data();
        if !got.is_empty() {
            let text = String::from_utf8_lossy(&got).into_owned();
            d.narrate("vpn.narr.laptop_reads", &[("text", &text)]);
            done = true;
            break;
        }
        if !moved {
            break;
        }
    }
    d.narrate(
        if done {
            "vpn.cloud.narr.done"
        } else {
            "vpn.cloud.narr.failed"
        },
        &[],
    );
    Some(())
}
