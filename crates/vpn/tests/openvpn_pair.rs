//! Our OpenVPN client against our OpenVPN server in memory, and what each does with
//! bad input: a reset storm, ACKs of packet ids never sent, a TCP length past the
//! buffer, a PUSH_REPLY with garbage, random bytes. Dropped or refused, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::Ipv4Addr;

use cipherstage_pki::{issue::issue_server, Key, Pki, SCENARIO_NOW};
use cipherstage_tls::enums::SignatureScheme;
use cipherstage_tls::{
    Client, ClientAuth, ClientConfig, Identity, Server, ServerConfig, Signer, VirtualHost,
};
use cipherstage_transcript::rand::{RandomSource, Seeded};
use cipherstage_vpn::openvpn::session::Drop as Dropped;
use cipherstage_vpn::openvpn::wire::{self, Control, WireError};
use cipherstage_vpn::openvpn::{Cipher, Config, Event, PushConfig, Session, State, Tls};

const GATEWAY: &str = "vpn.example.com";

fn push() -> PushConfig {
    PushConfig {
        ifconfig: (Ipv4Addr::new(10, 8, 0, 2), Ipv4Addr::new(255, 255, 255, 0)),
        route_gateway: Ipv4Addr::new(10, 8, 0, 1),
        routes: vec![(Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 255, 255, 0))],
        peer_id: 5,
        ping: (10, 60),
    }
}

fn pair(tcp: bool) -> (Session, Session) {
    pair_with(tcp, Some(push()))
}

/// A pair whose server pushes `push` (`None`: it never answers PUSH_REQUEST).
fn pair_with(tcp: bool, push: Option<PushConfig>) -> (Session, Session) {
    let mut rng = Seeded::new(3);
    let pki = Pki::build(&mut rng).unwrap();
    let key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let cert = issue_server(&key, GATEWAY, &pki.intermediate).unwrap();
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
        signature_schemes: vec![
            SignatureScheme::Ed25519,
            SignatureScheme::EcdsaSecp256r1Sha256,
        ],
        crls: Vec::new(),
    });
    sc.ticket = None;
    let mut cc = ClientConfig::new(GATEWAY, vec![pki.root.der.clone()], SCENARIO_NOW);
    cc.sni = None;
    cc.identity = Some(Identity {
        chain: vec![pki.alice.der.clone(), pki.intermediate.der.clone()],
        signer: Signer::Key(pki.alice.key.clone()),
    });
    let client = Client::new(cc, Box::new(Seeded::new(4)), 0).unwrap();
    let server = Server::new(sc, Box::new(Seeded::new(5)), 1);
    let c = Session::new(Config::client(tcp), Tls::Client(Box::new(client)), &mut rng);
    let mut sc = Config::server(tcp, self::push());
    sc.push = push;
    let s = Session::new(sc, Tls::Server(Box::new(server)), &mut rng);
    (c, s)
}

/// Shuttles packets both ways until neither has anything to send (bounded).
fn shuttle(c: &mut Session, s: &mut Session, ev: &mut Vec<Event>) {
    for _ in 0..64 {
        c.tick(0);
        let a = c.take_output();
        for p in &a {
            s.receive(p, 0);
        }
        let b = s.take_output();
        for p in &b {
            c.receive(p, 0);
        }
        ev.extend(c.take_events());
        ev.extend(s.take_events());
        if a.is_empty() && b.is_empty() {
            return;
        }
    }
    panic!("still talking after 64 rounds");
}

fn established(tcp: bool) -> (Session, Session, Vec<Event>) {
    let (mut c, mut s) = pair(tcp);
    let mut ev = Vec::new();
    shuttle(&mut c, &mut s, &mut ev);
    assert_eq!(
        (c.state(), s.state()),
        (State::Established, State::Established),
        "{ev:#?}"
    );
    (c, s, ev)
}

#[test]
fn our_client_and_server_agree_over_tcp_and_udp() {
    for tcp in [true, false] {
        let (mut c, mut s, ev) = established(tcp);
        let keys: Vec<&Vec<u8>> = ev
            .iter()
            .filter_map(|e| match e {
                Event::DataKeys(Cipher::Aes256Gcm, k) => Some(k),
                _ => None,
            })
            .collect();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], keys[1], "both exported the same 256 bytes");
        assert_eq!(c.pushed().unwrap().peer_id, 5);
        assert!(c.send_ping());
        assert!(s.send_packet(b"\x45not really ip"));
        for p in c.take_output() {
            s.receive(&p, 0);
        }
        for p in s.take_output() {
            c.receive(&p, 0);
        }
        assert!(s.take_events().iter().any(|e| matches!(e, Event::Ping(1))));
        assert!(c
            .take_events()
            .iter()
            .any(|e| matches!(e, Event::Packet(1, p) if p == b"\x45not really ip")));
        // The same data packet again: the replay window drops it.
        assert!(c.send_exit());
        let exit = c.take_output();
        s.receive(&exit[0], 0);
        s.receive(&exit[0], 0);
        let e = s.take_events();
        assert_eq!(e[0], Event::Exit);
        assert!(matches!(e[1], Event::Dropped(Dropped::Data(Some(_)))));
    }
}

#[test]
fn lost_packets_are_sent_again_after_the_timeout() {
    let (mut c, mut s) = pair(false);
    c.tick(0);
    let reset = c.take_output();
    assert_eq!(reset.len(), 1);
    // Lost: nothing before the timeout, the same reset after it.
    c.tick(1999);
    assert!(c.take_output().is_empty());
    c.tick(2000);
    assert_eq!(c.take_output(), reset);
    let mut ev = Vec::new();
    s.receive(&reset[0], 2000);
    for p in s.take_output() {
        c.receive(&p, 2000);
    }
    shuttle(&mut c, &mut s, &mut ev);
    assert!(c.established());
}

#[test]
fn a_reset_storm_is_dropped_and_holds_no_state() {
    let (mut c, mut s) = pair(false);
    c.tick(0);
    let first = c.take_output();
    s.receive(&first[0], 0);
    let answer = s.take_output();
    assert_eq!(answer.len(), 1);
    for i in 0..10_000u32 {
        let mut sid = [0u8; 8];
        sid[..4].copy_from_slice(&i.to_be_bytes());
        let storm = Control {
            opcode: wire::HARD_RESET_CLIENT_V2,
            key_id: 0,
            session: sid,
            acks: Vec::new(),
            remote: None,
            msg_id: Some(0),
            payload: Vec::new(),
        };
        s.receive(&storm.emit(), 0);
    }
    assert!(
        s.take_output().is_empty(),
        "no answer to another session's reset"
    );
    let ev = s.take_events();
    assert_eq!(ev.len(), 1 + 10_000);
    assert!(ev[1..]
        .iter()
        .all(|e| matches!(e, Event::Dropped(Dropped::UnexpectedReset))));
    // The same client's reset again (a retransmission) is acknowledged again.
    s.receive(&first[0], 0);
    assert_eq!(s.take_output().len(), 1);
    // The session still completes.
    for p in &answer {
        c.receive(p, 0);
    }
    let mut ev = Vec::new();
    shuttle(&mut c, &mut s, &mut ev);
    assert!(c.established() && s.established(), "{ev:#?}");
}

#[test]
fn acks_of_unknown_packet_ids_change_nothing() {
    let (mut c, mut s) = pair(false);
    c.tick(0);
    let reset = c.take_output();
    s.receive(&reset[0], 0);
    let ans = s.take_output();
    let sid = match wire::parse(&ans[0]).unwrap() {
        wire::Packet::Control(c) => c.session,
        _ => unreachable!(),
    };
    c.receive(&ans[0], 0);
    let _ = c.take_output(); // the ACK and the ClientHello
    let _ = c.take_events();
    let ack = |acks: Vec<u32>, remote: [u8; 8]| {
        Control {
            opcode: wire::ACK_V1,
            key_id: 0,
            session: sid,
            acks,
            remote: Some(remote),
            msg_id: None,
            payload: Vec::new(),
        }
        .emit()
    };
    c.receive(&ack(vec![77, 0xffff_ffff, 1000], c.session_id()), 10);
    c.receive(&ack(vec![1], [0xee; 8]), 10);
    let ev = c.take_events();
    assert_eq!(ev, vec![Event::Dropped(Dropped::WrongRemote)]);
    // The ClientHello (id 1) is still unacknowledged: it goes out again.
    c.tick(2000);
    let again = c.take_output();
    assert_eq!(again.len(), 1);
    match wire::parse(&again[0]).unwrap() {
        wire::Packet::Control(p) => assert_eq!(p.msg_id, Some(1)),
        _ => unreachable!(),
    }
}

#[test]
fn a_tcp_length_past_the_buffer_ends_the_session() {
    let (mut c, _s) = pair(true);
    // Half a packet: waits, holds only what came.
    c.receive(&[0x0f, 0xa0, 0x38, 1, 2], 0);
    assert!(c.take_events().is_empty());
    let (mut c, _s) = pair(true);
    c.receive(&[0xff, 0xff, 0x38], 0);
    assert_eq!(
        c.take_events(),
        vec![
            Event::Dropped(Dropped::Wire(WireError::BadLength(0xffff))),
            Event::Failed("tcp length")
        ]
    );
    assert_eq!(c.state(), State::Failed);
}

#[test]
fn a_push_reply_with_garbage_is_refused() {
    // A server that does not answer PUSH_REQUEST by itself: the test answers.
    let (mut c, mut s) = pair_with(false, None);
    let mut ev = Vec::new();
    shuttle(&mut c, &mut s, &mut ev);
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::ControlText(t) if t == "PUSH_REQUEST")));
    assert_eq!(c.state(), State::ExpectPushReply);
    assert!(s.send_control_text(
        "PUSH_REPLY,ifconfig 10.8.0.999 255.255.255.0,cipher AES-256-GCM,key-derivation tls-ekm"
    ));
    s.tick(0);
    for p in s.take_output() {
        c.receive(&p, 0);
    }
    let e = c.take_events();
    assert!(e.contains(&Event::Failed("bad PUSH_REPLY")), "{e:#?}");
    assert!(!c.established());
    assert!(!c.send_ping(), "no data channel without keys");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Seeded::new(99);
    for tcp in [false, true] {
        let (mut c, mut s, _) = established(tcp);
        let (mut c0, mut s0) = pair(tcp);
        for i in 0..3000 {
            let mut len = [0u8; 1];
            rng.fill(&mut len).unwrap();
            let mut b = vec![0u8; usize::from(len[0]) % 80];
            rng.fill(&mut b).unwrap();
            // Some with a real opcode byte, so the parsers go deeper.
            if let Some(first) = b.first_mut() {
                *first = [0x38, 0x40, 0x20, 0x28, 0x48, 0x30, *first][i % 7];
            }
            for sess in [&mut c, &mut s, &mut c0, &mut s0] {
                sess.receive(&b, i as u64);
                sess.tick(i as u64);
                let _ = sess.take_output();
                let _ = sess.take_events();
            }
        }
    }
}
