//! What the OpenVPN fuzz targets share: our client's and server's configurations
//! (built once) and the three ways of feeding bytes.
#![allow(dead_code)]
use std::net::Ipv4Addr;
use std::sync::OnceLock;

use cipherstage_pki::{issue::issue_server, Key, Pki, SCENARIO_NOW};
use cipherstage_tls::enums::SignatureScheme;
use cipherstage_tls::{
    Client, ClientAuth, ClientConfig, Identity, Server, ServerConfig, Signer, VirtualHost,
};
use cipherstage_transcript::check_fields;
use cipherstage_transcript::rand::Seeded;
use cipherstage_transcript::FieldsBuilder;
use cipherstage_vpn::openvpn::{
    describe, wire, Config, KeyMethod, PushConfig, PushReply, Session, Tls,
};

const GATEWAY: &str = "vpn.example.com";

fn configs() -> &'static (ClientConfig, ServerConfig) {
    static C: OnceLock<(ClientConfig, ServerConfig)> = OnceLock::new();
    C.get_or_init(|| {
        let mut rng = Seeded::new(3);
        let pki = Pki::build(&mut rng).expect("pki");
        let key = Key::generate_ecdsa_p256(&mut rng).expect("key");
        let cert = issue_server(&key, GATEWAY, &pki.intermediate).expect("cert");
        let mut sc = ServerConfig::new(vec![VirtualHost {
            names: vec![GATEWAY.into()],
            identity: Identity {
                chain: vec![cert, pki.intermediate.der.clone()],
                signer: Signer::Key(key),
            },
        }]);
        sc.client_auth = Some(ClientAuth {
            roots: vec![pki.root.der.clone()],
            now: SCENARIO_NOW,
            signature_schemes: vec![SignatureScheme::Ed25519],
 crls: Vec::new(),
});
        sc.ticket = None;
        let mut cc = ClientConfig::new(GATEWAY, vec![pki.root.der.clone()], SCENARIO_NOW);
        cc.sni = None;
        cc.identity = Some(Identity {
            chain: vec![pki.alice.der.clone(), pki.intermediate.der.clone()],
            signer: Signer::Key(pki.alice.key.clone()),
        });
        (cc, sc)
    })
}

fn push() -> PushConfig {
    PushConfig {
        ifconfig: (Ipv4Addr::new(10, 8, 0, 2), Ipv4Addr::new(255, 255, 255, 0)),
        route_gateway: Ipv4Addr::new(10, 8, 0, 1),
        routes: vec![(Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 255, 255, 0))],
        peer_id: 5,
        ping: (10, 60),
    }
}

fn client(tcp: bool) -> Session {
    let (cc, _) = configs();
    let c = Client::new(cc.clone(), Box::new(Seeded::new(4)), 0).expect("client");
    Session::new(
        Config::client(tcp),
        Tls::Client(Box::new(c)),
        &mut Seeded::new(6),
    )
}

fn server(tcp: bool) -> Session {
    let (_, sc) = configs();
    let s = Server::new(sc.clone(), Box::new(Seeded::new(5)), 1);
    Session::new(
        Config::server(tcp, push()),
        Tls::Server(Box::new(s)),
        &mut Seeded::new(7),
    )
}

/// What a session sent, each packet explained exactly.
fn sent(s: &mut Session) -> Vec<Vec<u8>> {
    s.take_sent()
        .into_iter()
        .map(|p| {
            check_fields(&p.fields, 0, p.bytes.len()).expect("every sent byte explained once");
            p.bytes
        })
        .collect()
}

pub fn decoders(d: &[u8]) {
    if let Ok(wire::Packet::Control(c)) = wire::parse(d) {
        assert_eq!(c.emit(), d, "a parsed control packet re-emits to its bytes");
        for tcp in [false, true] {
            let f = describe::framed(tcp, d.len(), |b| describe::control(b, &c, None));
            check_fields(&f, 0, d.len() + if tcp { 2 } else { 0 }).expect("header explained");
        }
    }
    let (chunk, rest) = d
        .split_first()
        .map_or((1, d), |(c, r)| (usize::from(*c).max(1), r));
    let mut f = wire::TcpFramer::default();
    for piece in rest.chunks(chunk) {
        f.push(piece);
        while let Ok(Some(p)) = f.next_packet() {
            assert!(!p.is_empty() && p.len() <= wire::MAX_PACKET);
        }
    }
    for from_client in [false, true] {
        if let Ok((km, used)) = KeyMethod::parse(d, from_client) {
            assert!(used <= d.len());
            let bytes = km.emit();
            let mut b = FieldsBuilder::new(0);
            describe::key_method(&mut b, &km);
            check_fields(&b.finish(), 0, bytes.len()).expect("key method explained");
        }
    }
    let text = String::from_utf8_lossy(d);
    if let Ok(r) = PushReply::parse(&text) {
        let again = PushReply::parse(&r.emit()).expect("our PUSH_REPLY parses");
        assert_eq!(
            (
                again.ifconfig,
                again.route_gateway,
                &again.routes,
                again.peer_id
            ),
            (r.ifconfig, r.route_gateway, &r.routes, r.peer_id)
        );
        assert_eq!(
            (again.cipher, again.ping, again.ping_restart),
            (r.cipher, r.ping, r.ping_restart)
        );
    }
}

pub fn fresh(flags: u8, d: &[u8]) {
    let tcp = flags & 1 != 0;
    let mut s = if flags & 2 != 0 {
        server(tcp)
    } else {
        client(tcp)
    };
    let mut now = 0u64;
    let mut rest = d;
    // Each packet: a length byte, then that many bytes (TCP: any piece of the stream).
    while let Some((&n, r)) = rest.split_first() {
        let n = usize::from(n).min(r.len());
        let (p, r) = r.split_at(n);
        s.receive(p, now);
        let _ = sent(&mut s);
        let _ = s.take_events();
        now += 700;
        rest = r;
    }
    s.tick(now + 60_000);
    let _ = sent(&mut s);
}

fn mutate(p: &mut Vec<u8>, how: u8, with: &[u8]) {
    match how % 3 {
        0 => {
            for (b, x) in p.iter_mut().zip(with.iter().cycle()) {
                *b ^= *x;
            }
        }
        1 => *p = with.to_vec(),
        _ => p.truncate(with.first().map_or(0, |n| usize::from(*n))),
    }
}

pub fn pair(flags: u8, d: &[u8]) {
    let tcp = flags & 1 != 0;
    let [at, how, with @ ..] = d else { return };
    let (mut c, mut s) = (client(tcp), server(tcp));
    let mut n = 0u8;
    let mut now = 0u64;
    for _ in 0..64 {
        c.tick(now);
        let mut quiet = true;
        for to_server in [true, false] {
            let (from, to) = if to_server {
                (&mut c, &mut s)
            } else {
                (&mut s, &mut c)
            };
            for mut p in sent(from) {
                quiet = false;
                if n == *at {
                    if how & 0x80 != 0 {
                        to.receive(with, now);
                    } else {
                        mutate(&mut p, *how, with);
                    }
                }
                n = n.wrapping_add(1);
                to.receive(&p, now);
            }
            let _ = from.take_events();
        }
        now += 500;
        if quiet {
            break;
        }
    }
    // Data both ways, if the tunnel came up: any IP payload is explained.
    if c.established() && s.established() {
        assert!(c.send_packet(with));
        assert!(s.send_packet(with));
        for p in sent(&mut c) {
            s.receive(&p, now);
        }
        for p in sent(&mut s) {
            c.receive(&p, now);
        }
        let _ = (sent(&mut c), sent(&mut s));
    }
}
