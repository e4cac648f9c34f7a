//! Interop with rustls (ring provider) over in-memory buffers: our client against a
//! rustls server and a rustls client against our server, with SNI, mTLS and failures.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::io::{Read, Write};
use std::sync::Arc;

use cipherstage_pki::{Cert, Pki, SCENARIO_NOW};
use cipherstage_tls::enums::{AlertDescription, CipherSuite, NamedGroup};
use cipherstage_tls::*;
use cipherstage_transcript::rand::Seeded;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::{ResolvesServerCertUsingSni, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;

#[derive(Debug)]
struct FixedTime;

impl rustls::time_provider::TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            SCENARIO_NOW,
        )))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn pki() -> Pki {
    Pki::build(&mut Seeded::new(42)).unwrap()
}

fn chain_der(c: &Cert, p: &Pki) -> Vec<CertificateDer<'static>> {
    vec![
        CertificateDer::from(c.der.clone()),
        CertificateDer::from(p.intermediate.der.clone()),
    ]
}

fn key_der(c: &Cert) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key.pkcs8.clone()))
}

fn certified(c: &Cert, p: &Pki) -> CertifiedKey {
    let key = rustls::crypto::ring::sign::any_supported_type(&key_der(c)).unwrap();
    CertifiedKey::new(chain_der(c, p), key)
}

fn roots(p: &Pki) -> Arc<rustls::RootCertStore> {
    let mut r = rustls::RootCertStore::empty();
    r.add(CertificateDer::from(p.root.der.clone())).unwrap();
    Arc::new(r)
}

fn rustls_server(p: &Pki, mtls: bool) -> rustls::ServerConnection {
    rustls_server_with(p, mtls, &p.www)
}

fn rustls_server_with(p: &Pki, mtls: bool, www: &Cert) -> rustls::ServerConnection {
    let mut sni = ResolvesServerCertUsingSni::new();
    sni.add("www.example.com", certified(www, p)).unwrap();
    sni.add("shop.example.com", certified(&p.shop, p)).unwrap();
    let b = rustls::ServerConfig::builder_with_details(provider(), Arc::new(FixedTime))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap();
    let b = if mtls {
        let v = WebPkiClientVerifier::builder_with_provider(roots(p), provider())
            .build()
            .unwrap();
        b.with_client_cert_verifier(v)
    } else {
        b.with_no_client_auth()
    };
    let cfg = b.with_cert_resolver(Arc::new(sni));
    rustls::ServerConnection::new(Arc::new(cfg)).unwrap()
}

fn rustls_client(p: &Pki, host: &str, client_cert: Option<&Cert>) -> rustls::ClientConnection {
    let b = rustls::ClientConfig::builder_with_details(provider(), Arc::new(FixedTime))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots(p));
    let mut cfg = match client_cert {
        Some(c) => b
            .with_client_auth_cert(chain_der(c, p), key_der(c))
            .unwrap(),
        None => b.with_no_client_auth(),
    };
    cfg.key_log = Arc::new(rustls::KeyLogFile::new());
    rustls::ClientConnection::new(
        Arc::new(cfg),
        ServerName::try_from(host.to_owned()).unwrap(),
    )
    .unwrap()
}

fn our_server(p: &Pki, mtls: bool) -> Server {
    our_server_with(p, mtls, &p.www)
}

fn our_server_with(p: &Pki, mtls: bool, www: &Cert) -> Server {
    let host = |names: &[&str], c: &Cert| VirtualHost {
        names: names.iter().map(|n| n.to_string()).collect(),
        identity: Identity {
            chain: vec![c.der.clone(), p.intermediate.der.clone()],
            signer: Signer::Key(c.key.clone()),
        },
    };
    let mut sc = ServerConfig::new(vec![
        host(&["www.example.com", "example.com"], www),
        host(&["shop.example.com"], &p.shop),
    ]);
    if mtls {
        sc.client_auth = Some(ClientAuth {
            roots: vec![p.root.der.clone()],
            now: SCENARIO_NOW,
            signature_schemes: vec![
                cipherstage_tls::enums::SignatureScheme::Ed25519,
                cipherstage_tls::enums::SignatureScheme::EcdsaSecp256r1Sha256,
            ],
            crls: Vec::new(),
        });
    }
    Server::new(sc, Box::new(Seeded::new(2)), 1)
}

fn our_client(p: &Pki, host: &str, identity: Option<&Cert>) -> Client {
    let mut cc = ClientConfig::new(host, vec![p.root.der.clone()], SCENARIO_NOW);
    cc.identity = identity.map(|c| Identity {
        chain: vec![c.der.clone(), p.intermediate.der.clone()],
        signer: Signer::Key(c.key.clone()),
    });
    Client::new(cc, Box::new(Seeded::new(1)), 0).unwrap()
}

/// Moves bytes both ways until neither side has anything to say.
fn pump_with_rustls_server(
    ours: &mut Client,
    theirs: &mut rustls::ServerConnection,
) -> Result<(), rustls::Error> {
    for _ in 0..20 {
        let mut moved = false;
        for rec in ours.take_output() {
            moved = true;
            let mut r = &rec.bytes[..];
            while !r.is_empty() {
                theirs.read_tls(&mut r).unwrap();
            }
            theirs.process_new_packets()?;
        }
        let mut buf = Vec::new();
        while theirs.wants_write() {
            theirs.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() {
            moved = true;
            let _ = ours.receive(&buf);
        }
        if !moved {
            break;
        }
    }
    Ok(())
}

fn pump_with_rustls_client(
    ours: &mut Server,
    theirs: &mut rustls::ClientConnection,
) -> Result<(), rustls::Error> {
    for _ in 0..20 {
        let mut moved = false;
        let mut buf = Vec::new();
        while theirs.wants_write() {
            theirs.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() {
            moved = true;
            let _ = ours.receive(&buf);
        }
        for rec in ours.take_output() {
            moved = true;
            let mut r = &rec.bytes[..];
            while !r.is_empty() {
                theirs.read_tls(&mut r).unwrap();
            }
            theirs.process_new_packets()?;
        }
        if !moved {
            break;
        }
    }
    Ok(())
}

fn read_all(r: &mut impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    out
}

#[test]
fn our_client_gets_the_sni_host_from_a_rustls_server_and_talks_http() {
    let p = pki();
    for host in ["www.example.com", "shop.example.com"] {
        let mut server = rustls_server(&p, false);
        let mut client = our_client(&p, host, None);
        pump_with_rustls_server(&mut client, &mut server).unwrap();
        assert!(client.is_connected(), "{host}");
        assert_eq!(server.server_name(), Some(host));
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        pump_with_rustls_server(&mut client, &mut server).unwrap();
        assert_eq!(
            read_all(&mut server.reader()),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        server
            .writer()
            .write_all(b"HTTP/1.1 200 OK\r\n\r\nhi")
            .unwrap();
        pump_with_rustls_server(&mut client, &mut server).unwrap();
        assert_eq!(client.take_app_data(), b"HTTP/1.1 200 OK\r\n\r\nhi");
        client.close();
        pump_with_rustls_server(&mut client, &mut server).unwrap();
    }
}

#[test]
fn every_suite_and_group_interoperates_with_a_rustls_server() {
    let p = pki();
    for suite in [
        CipherSuite::Aes128GcmSha256,
        CipherSuite::Aes256GcmSha384,
        CipherSuite::Chacha20Poly1305Sha256,
    ] {
        for group in [NamedGroup::X25519, NamedGroup::Secp256r1] {
            let mut server = rustls_server(&p, false);
            let mut cc =
                ClientConfig::new("www.example.com", vec![p.root.der.clone()], SCENARIO_NOW);
            cc.suites = vec![suite];
            cc.key_share_groups = vec![group];
            let mut client = Client::new(cc, Box::new(Seeded::new(3)), 0).unwrap();
            pump_with_rustls_server(&mut client, &mut server).unwrap();
            assert!(client.is_connected(), "{suite:?} {group:?}");
            assert_eq!(
                server.negotiated_cipher_suite().unwrap().suite(),
                rustls::CipherSuite::from(u16::from(suite))
            );
        }
    }
}

#[test]
fn rustls_server_asks_our_client_for_a_certificate_and_accepts_it() {
    let p = pki();
    let mut server = rustls_server(&p, true);
    let mut client = our_client(&p, "www.example.com", Some(&p.alice));
    pump_with_rustls_server(&mut client, &mut server).unwrap();
    assert!(client.is_connected());
    assert_eq!(
        server.peer_certificates().unwrap()[0].as_ref(),
        &p.alice.der[..]
    );
}

#[test]
fn rustls_server_rejects_our_client_certificate_from_an_unknown_ca() {
    let p = pki();
    let mut server = rustls_server(&p, true);
    let mut client = our_client(&p, "www.example.com", Some(&p.alice_untrusted));
    let err = pump_with_rustls_server(&mut client, &mut server).unwrap_err();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        ),
        "{err:?}"
    );
    // rustls tells our client why, with the alert RFC 9846 prescribes.
    let mut buf = Vec::new();
    while server.wants_write() {
        server.write_tls(&mut buf).unwrap();
    }
    let _ = client.receive(&buf);
    assert_eq!(client.peer_alert(), Some(AlertDescription::UnknownCa));
}

#[test]
fn a_rustls_client_completes_with_our_server_per_sni_host() {
    let p = pki();
    for (host, leaf) in [("www.example.com", &p.www), ("shop.example.com", &p.shop)] {
        let mut server = our_server(&p, false);
        let mut client = rustls_client(&p, host, None);
        pump_with_rustls_client(&mut server, &mut client).unwrap();
        assert!(server.is_connected(), "{host}");
        assert!(!client.is_handshaking());
        assert_eq!(server.sni(), Some(host));
        assert_eq!(
            client.peer_certificates().unwrap()[0].as_ref(),
            &leaf.der[..]
        );
        client
            .writer()
            .write_all(b"GET / HTTP/1.1\r\n\r\n")
            .unwrap();
        pump_with_rustls_client(&mut server, &mut client).unwrap();
        assert_eq!(server.take_app_data(), b"GET / HTTP/1.1\r\n\r\n");
        server.send(b"HTTP/1.1 200 OK\r\n\r\nok").unwrap();
        pump_with_rustls_client(&mut server, &mut client).unwrap();
        assert_eq!(read_all(&mut client.reader()), b"HTTP/1.1 200 OK\r\n\r\nok");
    }
}

#[test]
fn a_rustls_client_with_a_certificate_passes_our_mtls_server() {
    let p = pki();
    let mut server = our_server(&p, true);
    let mut client = rustls_client(&p, "www.example.com", Some(&p.alice));
    pump_with_rustls_client(&mut server, &mut client).unwrap();
    assert!(server.is_connected());
    assert_eq!(server.client_chain()[0], p.alice.der);
}

#[test]
fn a_rustls_client_without_a_certificate_gets_certificate_required_from_our_server() {
    let p = pki();
    let mut server = our_server(&p, true);
    let mut client = rustls_client(&p, "www.example.com", None);
    let err = pump_with_rustls_client(&mut server, &mut client).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)
    );
}

#[test]
fn a_rustls_client_rejects_our_expired_server_certificate() {
    let p = pki();
    let mut sc = ServerConfig::new(vec![VirtualHost {
        names: vec!["www.example.com".into()],
        identity: Identity {
            chain: vec![p.www_expired.der.clone(), p.intermediate.der.clone()],
            signer: Signer::Key(p.www_expired.key.clone()),
        },
    }]);
    sc.ticket = None;
    let mut server = Server::new(sc, Box::new(Seeded::new(2)), 1);
    let mut client = rustls_client(&p, "www.example.com", None);
    let err = pump_with_rustls_client(&mut server, &mut client).unwrap_err();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::ExpiredContext { .. } | rustls::CertificateError::Expired
            )
        ),
        "{err:?}"
    );
    let mut buf = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut buf).unwrap();
    }
    let _ = server.receive(&buf);
    assert_eq!(
        server.peer_alert(),
        Some(AlertDescription::CertificateExpired)
    );
}

/// ECDSA P-256 CertificateVerify both ways: rustls checks the signatures our server
/// and our client make with ECDSA keys, and ours check rustls's.
#[test]
fn ecdsa_p256_certificates_both_ways_with_rustls() {
    let p = pki();
    let mut server = rustls_server_with(&p, true, &p.www_ecdsa);
    let mut client = our_client(&p, "www.example.com", Some(&p.alice_ecdsa));
    pump_with_rustls_server(&mut client, &mut server).unwrap();
    assert!(client.is_connected());
    assert_eq!(
        server.peer_certificates().unwrap()[0].as_ref(),
        &p.alice_ecdsa.der[..]
    );

    let mut server = our_server_with(&p, true, &p.www_ecdsa);
    let mut client = rustls_client(&p, "www.example.com", Some(&p.alice_ecdsa));
    pump_with_rustls_client(&mut server, &mut client).unwrap();
    assert!(server.is_connected());
    assert_eq!(server.client_chain()[0], p.alice_ecdsa.der);
    assert_eq!(
        client.peer_certificates().unwrap()[0].as_ref(),
        &p.www_ecdsa.der[..]
    );
}
