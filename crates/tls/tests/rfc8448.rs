//! Byte-exact replay of RFC 8448 traces (testdata/rfc8448.vec, source named there).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cipherstage_tls::enums::{CipherSuite, NamedGroup, SignatureScheme};
use cipherstage_tls::*;
use cipherstage_transcript::rand::{RandomError, RandomSource};
use cipherstage_transcript::{hex_decode, Event};

const VECTORS: &str = include_str!("../testdata/rfc8448.vec");

fn section(name: &str) -> HashMap<String, Vec<u8>> {
    let mut out = HashMap::new();
    let mut inside = false;
    for line in VECTORS.lines() {
        if line.starts_with('[') {
            inside = line == format!("[{name}]");
            continue;
        }
        if let (true, Some((k, v))) = (inside, line.split_once(" = ")) {
            let v = v.replace(' ', "");
            let bytes = if k == "CurrentTimestamp" {
                v.into_bytes()
            } else {
                hex_decode(&v).unwrap_or_else(|| panic!("{k}"))
            };
            out.insert(k.trim().to_owned(), bytes);
        }
    }
    out
}

/// The recorded random bytes, handed out in order; records how many were used.
struct Pool {
    bytes: Vec<u8>,
    used: Arc<Mutex<usize>>,
}

impl RandomSource for Pool {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        let mut used = self.used.lock().unwrap();
        let src = self
            .bytes
            .get(*used..*used + dest.len())
            .ok_or(RandomError)?;
        dest.copy_from_slice(src);
        *used += dest.len();
        Ok(())
    }
}

fn pool(bytes: &[u8]) -> (Box<dyn RandomSource>, Arc<Mutex<usize>>) {
    let used = Arc::new(Mutex::new(0));
    (
        Box::new(Pool {
            bytes: bytes.to_vec(),
            used: used.clone(),
        }),
        used,
    )
}

fn now_secs(v: &HashMap<String, Vec<u8>>) -> u64 {
    let ms: u64 = String::from_utf8(v["CurrentTimestamp"].clone())
        .unwrap()
        .parse()
        .unwrap();
    ms / 1000
}

/// The Certificate message's first certificate.
fn leaf_of(cert_msg: &[u8]) -> Vec<u8> {
    let len = u32::from_be_bytes([0, cert_msg[8], cert_msg[9], cert_msg[10]]) as usize;
    cert_msg[11..11 + len].to_vec()
}

fn secret(events: &[Event], name: &str) -> Vec<u8> {
    events
        .iter()
        .find_map(|e| match e {
            Event::Secret(s) if s.name == format!("tls.secret.{name}") => Some(s.bytes.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no secret {name}"))
}

fn rfc_client(
    v: &HashMap<String, Vec<u8>>,
    groups: Vec<NamedGroup>,
    share: Vec<NamedGroup>,
) -> ClientConfig {
    let cert = leaf_of(&v["Message_Server_Certificate"]);
    let mut cc = ClientConfig::new("server", Vec::new(), now_secs(v));
    cc.suites = vec![
        CipherSuite::Aes128GcmSha256,
        CipherSuite::Chacha20Poly1305Sha256,
        CipherSuite::Aes256GcmSha384,
    ];
    cc.supported_groups = groups;
    cc.key_share_groups = share;
    cc.signature_schemes = [
        0x0403u16, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201,
        0x0402, 0x0502, 0x0602, 0x0202,
    ]
    .into_iter()
    .map(SignatureScheme::from)
    .collect();
    cc.verifier = ServerVerifier::Pinned {
        cert,
        now: now_secs(v),
    };
    cc.rfc8448_extensions = true;
    cc
}

fn all_groups() -> Vec<NamedGroup> {
    [0x1du16, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104]
        .into_iter()
        .map(NamedGroup::from)
        .collect()
}

fn rfc_server(v: &HashMap<String, Vec<u8>>, groups: Vec<NamedGroup>) -> ServerConfig {
    let cert = leaf_of(&v["Message_Server_Certificate"]);
    let cv = &v["Message_Server_CertificateVerify"];
    let scheme = SignatureScheme::from(u16::from_be_bytes([cv[4], cv[5]]));
    let mut sc = ServerConfig::new(vec![VirtualHost {
        names: vec!["server".into()],
        identity: Identity {
            chain: vec![cert],
            signer: Signer::Recorded {
                scheme,
                signature: v["Server_MessageSignature"].clone(),
            },
        },
    }]);
    sc.groups = groups;
    sc.announce_groups = true;
    sc.record_size_limit = Some(0x4001);
    sc.ticket = None;
    sc.coalesce = true;
    sc
}

fn one(out: Vec<Outgoing>) -> Vec<u8> {
    assert_eq!(
        out.len(),
        1,
        "{:?}",
        out.iter().map(|o| &o.label).collect::<Vec<_>>()
    );
    out.into_iter().next().unwrap().bytes
}

#[test]
fn rfc8448_section3_one_rtt_replays_byte_exact() {
    let v = section("Simple_1RTT_Handshake");
    let (crng, cused) = pool(&v["Client_RNG_Pool"]);
    let (srng, sused) = pool(&v["Server_RNG_Pool"]);
    let mut cc = rfc_client(&v, all_groups(), vec![NamedGroup::X25519]);
    cc.session_ticket_extension = true;
    let mut client = Client::new(cc, crng, 0).unwrap();
    let mut sc = rfc_server(&v, all_groups());
    let nst = &v["Record_NewSessionTicket"];
    assert!(!nst.is_empty());
    sc.ticket = Some(TicketConfig {
        lifetime: 30,
        nonce: vec![0, 0],
        ticket: Some(v["SessionTicket"].clone()),
        max_early_data: Some(0x400),
    });
    let mut server = Server::new(sc, srng, 1);

    let ch = one(client.take_output());
    assert_eq!(ch, v["Record_ClientHello_1"], "ClientHello");
    server.receive(&ch).unwrap();
    let out = server.take_output();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bytes, v["Record_ServerHello"], "ServerHello");
    assert_eq!(
        out[1].bytes, v["Record_ServerHandshakeMessages"],
        "server flight"
    );
    let sevents = server.take_events();
    let signed = secret(&sevents, "server_signed_content");
    assert_eq!(signed, v["Server_MessageToSign"]);
    for o in &out {
        client.receive(&o.bytes).unwrap();
    }
    let cevents = client.take_events();
    // RFC 8448 §3 values.
    assert_eq!(
        secret(&cevents, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
        hex_decode("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21").unwrap()
    );
    assert_eq!(
        secret(&cevents, "ecdhe_shared_secret"),
        secret(&sevents, "ecdhe_shared_secret")
    );
    let fin = one(client.take_output());
    assert_eq!(fin, v["Record_ClientFinished"], "client Finished");
    server.receive(&fin).unwrap();
    let ticket = one(server.take_output());
    assert_eq!(&ticket, nst, "NewSessionTicket");
    client.receive(&ticket).unwrap();
    assert!(client.is_connected() && server.is_connected());

    client.send(&v["Client_AppData"]).unwrap();
    let rec = one(client.take_output());
    assert_eq!(rec, v["Record_Client_AppData"]);
    server.receive(&rec).unwrap();
    assert_eq!(server.take_app_data(), v["Client_AppData"]);
    server.send(&v["Server_AppData"]).unwrap();
    let rec = one(server.take_output());
    assert_eq!(rec, v["Record_Server_AppData"]);
    client.receive(&rec).unwrap();
    assert_eq!(client.take_app_data(), v["Server_AppData"]);

    client.close();
    let rec = one(client.take_output());
    assert_eq!(rec, v["Record_Client_CloseNotify"]);
    server.receive(&rec).unwrap();
    assert!(server.peer_closed());
    server.close();
    let rec = one(server.take_output());
    assert_eq!(rec, v["Record_Server_CloseNotify"]);
    // Every recorded random byte was used, in order, and no more.
    assert_eq!(*cused.lock().unwrap(), v["Client_RNG_Pool"].len());
    assert_eq!(*sused.lock().unwrap(), v["Server_RNG_Pool"].len());
}

#[test]
fn rfc8448_section5_hello_retry_request_replays_byte_exact() {
    let v = section("HelloRetryRequest_Handshake");
    let (crng, cused) = pool(&v["Client_RNG_Pool"]);
    let (srng, sused) = pool(&v["Server_RNG_Pool"]);
    let groups: Vec<NamedGroup> = [0x1du16, 0x17, 0x18]
        .into_iter()
        .map(NamedGroup::from)
        .collect();
    let mut cc = rfc_client(&v, groups, vec![NamedGroup::X25519]);
    cc.padding = true;
    let mut client = Client::new(cc, crng, 0).unwrap();
    let mut sc = rfc_server(
        &v,
        vec![
            NamedGroup::Secp256r1,
            NamedGroup::Secp384r1,
            NamedGroup::X25519,
        ],
    );
    sc.strict_group_preference = true;
    sc.retry_cookie = Some(v["HelloRetryRequest_Cookie"].clone());
    let mut server = Server::new(sc, srng, 1);

    let ch1 = one(client.take_output());
    assert_eq!(ch1, v["Record_ClientHello_1"], "ClientHello 1");
    server.receive(&ch1).unwrap();
    let hrr = one(server.take_output());
    assert_eq!(hrr, v["Record_HelloRetryRequest"], "HelloRetryRequest");
    client.receive(&hrr).unwrap();
    let ch2 = one(client.take_output());
    assert_eq!(ch2, v["Record_ClientHello_2"], "ClientHello 2");
    server.receive(&ch2).unwrap();
    let out = server.take_output();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bytes, v["Record_ServerHello"], "ServerHello");
    assert_eq!(
        out[1].bytes, v["Record_ServerHandshakeMessages"],
        "server flight"
    );
    for o in &out {
        client.receive(&o.bytes).unwrap();
    }
    let fin = one(client.take_output());
    assert_eq!(fin, v["Record_ClientFinished"], "client Finished");
    server.receive(&fin).unwrap();
    assert!(client.is_connected() && server.is_connected());
    client.close();
    assert_eq!(one(client.take_output()), v["Record_Client_CloseNotify"]);
    server.close();
    assert_eq!(one(server.take_output()), v["Record_Server_CloseNotify"]);
    assert_eq!(*cused.lock().unwrap(), v["Client_RNG_Pool"].len());
    assert_eq!(*sused.lock().unwrap(), v["Server_RNG_Pool"].len());
}

/// Runs §6 with `client_cert` as the client's certificate; returns the client's
/// last flight and its events.
fn section6(client_cert: Vec<u8>) -> (Vec<u8>, Vec<Event>, Server, (usize, usize)) {
    let v = section("Client_Authentication_Handshake");
    let (crng, cused) = pool(&v["Client_RNG_Pool"]);
    let (srng, sused) = pool(&v["Server_RNG_Pool"]);
    let mut cc = rfc_client(&v, all_groups(), vec![NamedGroup::X25519]);
    cc.coalesce = true;
    cc.identity = Some(Identity {
        chain: vec![client_cert],
        signer: Signer::Recorded {
            scheme: SignatureScheme::RsaPssRsaeSha256,
            signature: v["Client_MessageSignature"].clone(),
        },
    });
    let mut client = Client::new(cc, crng, 0).unwrap();
    let mut sc = rfc_server(&v, all_groups());
    let cr = &v["Message_CertificateRequest"];
    let schemes: Vec<SignatureScheme> = cr[13..]
        .chunks(2)
        .map(|c| SignatureScheme::from(u16::from_be_bytes([c[0], c[1]])))
        .collect();
    sc.client_auth = Some(ClientAuth {
        roots: Vec::new(),
        now: now_secs(&v),
        signature_schemes: schemes,
        crls: Vec::new(),
    });
    let mut server = Server::new(sc, srng, 1);

    let ch = one(client.take_output());
    assert_eq!(ch, v["Record_ClientHello_1"], "ClientHello");
    server.receive(&ch).unwrap();
    let out = server.take_output();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bytes, v["Record_ServerHello"], "ServerHello");
    assert_eq!(
        out[1].bytes, v["Record_ServerHandshakeMessages"],
        "server flight with CertificateRequest"
    );
    for o in &out {
        client.receive(&o.bytes).unwrap();
    }
    let events = client.take_events();
    let fin = one(client.take_output());
    let used = (*cused.lock().unwrap(), *sused.lock().unwrap());
    (fin, events, server, used)
}

#[test]
fn rfc8448_section6_client_authentication_replays_byte_exact() {
    let v = section("Client_Authentication_Handshake");
    let recorded = &v["Record_ClientFinished"];
    // The vectors do not carry the client's certificate: recover it by opening the
    // recorded flight with the client handshake key our key schedule derives (the
    // AEAD tag proves that key right).
    let (_, events, _, _) = section6(vec![0x30, 0x00]);
    let key = secret(&events, "client_handshake_key");
    let iv: [u8; 12] = secret(&events, "client_handshake_iv").try_into().unwrap();
    let key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &key).unwrap(),
    );
    let mut body = recorded[5..].to_vec();
    let plain = key
        .open_in_place(
            ring::aead::Nonce::assume_unique_for_key(iv),
            ring::aead::Aad::from(&recorded[..5]),
            &mut body,
        )
        .expect("the recorded client flight opens with our client handshake key")
        .to_vec();
    assert_eq!(plain[0], 0x0b, "Certificate first");
    let client_cert = leaf_of(&plain);

    let (fin, _, mut server, used) = section6(client_cert);
    assert_eq!(
        &fin, recorded,
        "client Certificate, CertificateVerify, Finished"
    );
    assert_eq!(
        used,
        (v["Client_RNG_Pool"].len(), v["Server_RNG_Pool"].len())
    );
    // Our server cannot accept this client: its 1024-bit RSA certificate chains to no
    // root we have (and webpki refuses RSA keys under 2048 bits).
    let _ = server.receive(&fin);
    assert!(server.is_closed());
}
