//! Codecs against RFC 8448's messages: decode, re-encode byte for byte, reject
//! truncation and trailing bytes; annotation covers every byte; alerts round-trip.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_tls::annotate;
use cipherstage_tls::codec::DecodeErrorKind;
use cipherstage_tls::enums::*;
use cipherstage_tls::keys::Hash;
use cipherstage_tls::msgs::{Extension, Handshake};
use cipherstage_tls::Connection as _;
use cipherstage_transcript::{hex_decode, FieldsBuilder, Protection};

const VECTORS: &str = include_str!("../testdata/rfc8448.vec");

fn messages() -> Vec<(String, Vec<u8>)> {
    VECTORS
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .filter(|(k, _)| k.starts_with("Message_"))
        .map(|(k, v)| (k.to_owned(), hex_decode(&v.replace(' ', "")).unwrap()))
        .collect()
}

#[test]
fn every_rfc8448_message_decodes_and_re_encodes_byte_for_byte() {
    let all = messages();
    assert!(all.len() >= 15);
    for (name, bytes) in &all {
        let m = Handshake::decode(bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(&m.encode(), bytes, "{name}");
    }
}

#[test]
fn truncation_and_trailing_bytes_are_rejected_with_an_offset() {
    for (name, bytes) in messages() {
        for cut in 0..bytes.len() {
            let e = Handshake::decode(&bytes[..cut]).unwrap_err();
            assert!(e.offset <= cut, "{name} {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            Handshake::decode(&long).unwrap_err().kind,
            DecodeErrorKind::TrailingBytes,
            "{name}"
        );
    }
}

#[test]
fn the_rfc8448_server_hello_says_what_the_rfc_says() {
    let sh = messages()
        .into_iter()
        .find(|(n, _)| n == "Message_ServerHello")
        .unwrap()
        .1;
    let Handshake::ServerHello(sh) = Handshake::decode(&sh).unwrap() else {
        panic!()
    };
    assert_eq!(sh.suite, CipherSuite::Aes128GcmSha256);
    assert!(!sh.is_retry());
    assert!(sh.extensions.contains(&Extension::VersionSelected(0x0304)));
    assert!(
        matches!(&sh.extensions[0], Extension::KeyShareServer(NamedGroup::X25519, k) if k.len() == 32)
    );
}

#[test]
fn annotation_covers_every_byte_of_every_message() {
    for (name, bytes) in messages() {
        let mut b = FieldsBuilder::new(5);
        annotate::handshakes(&mut b, &bytes, Protection::Encrypted);
        let f = b.finish();
        assert_eq!(f.len(), 1, "{name}");
        assert_eq!((f[0].start, f[0].end), (5, 5 + bytes.len()), "{name}");
        assert_ne!(
            f[0].children.last().unwrap().name,
            "tls.field.undecodable",
            "{name}"
        );
    }
}

#[test]
fn wire_enums_keep_unknown_values_and_name_every_rfc8446_alert() {
    for v in 0..=255u8 {
        assert_eq!(u8::from(AlertDescription::from(v)), v);
    }
    assert_eq!(AlertDescription::ALL.len(), 27);
    assert_eq!(
        AlertDescription::from(116),
        AlertDescription::CertificateRequired
    );
    assert_eq!(
        AlertDescription::from(116).key(),
        "tls.alert.certificate_required"
    );
    assert_eq!(AlertDescription::from(200), AlertDescription::Unknown(200));
    assert_eq!(u16::from(ExtensionType::from(0xfe0d)), 0xfe0d);
    assert_eq!(SignatureScheme::from(0x0807), SignatureScheme::Ed25519);
}

#[test]
fn hkdf_expand_label_matches_rfc8448_derived_secret() {
    // RFC 8448 §3: early secret and "derived" with an empty PSK.
    let h = Hash::Sha256;
    let early = h.extract(&[0; 32], &[0; 32]);
    assert_eq!(
        early,
        hex_decode("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a").unwrap()
    );
    let derived = h.derive_secret(&early, b"derived", &h.digest(&[]));
    assert_eq!(
        derived,
        hex_decode("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba").unwrap()
    );
}

#[test]
fn a_non_ascii_server_name_is_a_decode_error() {
    // A minimal ClientHello whose only extension is server_name "w\xffw".
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    let ext = [0u8, 0, 0, 8, 0, 6, 0, 0, 3, b'w', 0xff, b'w'];
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut msg = vec![1, 0, 0, body.len() as u8];
    msg.extend_from_slice(&body);
    assert_eq!(
        Handshake::decode(&msg).unwrap_err().kind,
        DecodeErrorKind::Invalid
    );
    let last = msg.len() - 2;
    msg[last] = b'x';
    assert!(Handshake::decode(&msg).is_ok());
}

#[test]
fn a_huge_declared_handshake_length_is_refused_before_buffering() {
    use cipherstage_tls::{Server, ServerConfig};
    let mut s = Server::new(
        ServerConfig::new(Vec::new()),
        Box::new(cipherstage_transcript::rand::Seeded::new(1)),
        1,
    );
    let e = s.receive(&[0x16, 3, 3, 0, 4, 1, 0x10, 0, 0]).unwrap_err();
    assert_eq!(e.alert, AlertDescription::DecodeError);
    let out = s.take_output();
    assert_eq!(out[0].bytes, [0x15, 3, 3, 0, 2, 2, 50]);
}
