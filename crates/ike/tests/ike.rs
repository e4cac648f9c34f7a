//! The IKEv2 core against published vectors and against itself: both ends derive the
//! same keys, every byte of every message is explained, failures carry the exact notify,
//! and no flipped or truncated byte makes it panic.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_ike::consts::{notify, payload};
use cipherstage_ike::crypto::{prf, prf_plus, DhPrivate, PRF_PLUS_MAX};
use cipherstage_ike::wire::{self, Payload};
use cipherstage_ike::*;
use cipherstage_transcript::rand::{RandomSource, Seeded};
use cipherstage_transcript::{check_fields, hex_decode, Field, Protection};
use ring::hmac;

cipherstage_testkit::in_browser!();
use cipherstage_testkit::tests;

fn vec_file(text: &str, key: &str) -> Vec<u8> {
    let line = text
        .lines()
        .find(|l| l.split('=').next().map(str::trim) == Some(key))
        .unwrap_or_else(|| panic!("{key} missing"));
    hex_decode(line.split('=').nth(1).unwrap().trim()).unwrap()
}

const HOME: Addr = Addr {
    ip: [198, 51, 100, 7],
    port: 500,
};
const GATEWAY: Addr = Addr {
    ip: [203, 0, 113, 1],
    port: 500,
};

fn initiator_config() -> InitiatorConfig {
    InitiatorConfig {
        encrs: vec![Encr::AesGcm256, Encr::AesGcm128],
        groups: vec![Group::Curve25519, Group::Ecp256],
        child_encrs: vec![Encr::AesGcm256, Encr::AesGcm128],
        id: Identity::fqdn("home.example.com"),
        peer_id: Some(Identity::fqdn("vpn.example.com")),
        psk: b"correct horse battery staple".to_vec(),
        cert: None,
        trust: None,
        request_address: true,
        tsi: Selector::ANY,
        tsr: Selector::ANY,
        local: HOME,
        remote: GATEWAY,
    }
}

fn responder_config() -> ResponderConfig {
    ResponderConfig {
        encrs: vec![Encr::AesGcm256, Encr::AesGcm128, Encr::ChaCha20Poly1305],
        groups: vec![Group::Curve25519, Group::Ecp256],
        child_encrs: vec![Encr::AesGcm256, Encr::AesGcm128, Encr::ChaCha20Poly1305],
        id: Identity::fqdn("vpn.example.com"),
        peer_id: Some(Identity::fqdn("home.example.com")),
        psk: b"correct horse battery staple".to_vec(),
        cert: None,
        trust: None,
        pool: Some(([10, 10, 0, 2], Some([10, 10, 0, 53]))),
        local_ts: Selector::subnet([10, 0, 0, 0], 24),
        remote_ts: Selector::ANY,
        local: GATEWAY,
    }
}

/// One message that crossed, and who sent it.
struct Sent {
    from_initiator: bool,
    out: Outgoing,
}

/// Runs both ends until quiet (at most 10 rounds); `flip` changes one bit of the
/// n-th message at an offset; `lose` drops the n-th message.
fn run_with(
    ic: InitiatorConfig,
    rc: ResponderConfig,
    seed: u64,
    flip: Option<(usize, usize)>,
) -> (Initiator, Responder, Vec<Sent>, Vec<Note>) {
    let mut rng = Seeded::new(seed);
    let mut i = Initiator::new(ic);
    let mut r = Responder::new(rc);
    let mut sent = Vec::new();
    let mut notes = Vec::new();
    i.start(&mut rng).unwrap();
    for _ in 0..10 {
        let out = i.take_outgoing();
        let quiet_i = out.is_empty();
        for o in out {
            let mut b = o.bytes.clone();
            if let Some((n, off)) = flip {
                if n == sent.len() {
                    let at = off.min(b.len() - 1);
                    b[at] ^= 1;
                }
            }
            sent.push(Sent {
                from_initiator: true,
                out: o,
            });
            let _ = r.receive(&b, HOME, &mut rng);
        }
        notes.extend(i.take_notes());
        let out = r.take_outgoing();
        let quiet_r = out.is_empty();
        for o in out {
            let mut b = o.bytes.clone();
            if let Some((n, off)) = flip {
                if n == sent.len() {
                    let at = off.min(b.len() - 1);
                    b[at] ^= 1;
                }
            }
            sent.push(Sent {
                from_initiator: false,
                out: o,
            });
            let _ = i.receive(&b, &mut rng);
        }
        notes.extend(r.take_notes());
        notes.extend(i.take_notes());
        if quiet_i && quiet_r {
            // Nothing moved: the initiator's retransmission timer fires once.
            if !i.retransmit() {
                break;
            }
        }
    }
    (i, r, sent, notes)
}

fn run(seed: u64) -> (Initiator, Responder, Vec<Sent>, Vec<Note>) {
    run_with(initiator_config(), responder_config(), seed, None)
}

fn names(fields: &[Field], out: &mut Vec<String>) {
    for f in fields {
        out.push(f.name.clone());
        names(&f.children, out);
    }
}

fn failed_with(notes: &[Note], n: u16) -> bool {
    notes
        .iter()
        .any(|x| matches!(x, Note::Failed { notify } if *notify == n))
}

tests! {
    fn x25519_matches_rfc7748_section_6_1() {
        let v = include_str!("../testdata/x25519.vec");
        let a = DhPrivate::from_seed(Group::Curve25519, vec_file(v, "alice_private").try_into().unwrap()).unwrap();
        let b = DhPrivate::from_seed(Group::Curve25519, vec_file(v, "bob_private").try_into().unwrap()).unwrap();
        assert_eq!(a.public(), vec_file(v, "alice_public"));
        assert_eq!(b.public(), vec_file(v, "bob_public"));
        assert_eq!(a.agree(b.public()).unwrap(), vec_file(v, "shared"));
        assert_eq!(b.agree(a.public()).unwrap(), vec_file(v, "shared"));
        // RFC 8031 §2: the all-zero result (a low-order point) is refused.
        assert!(a.agree(&[0u8; 32]).is_err());
        assert!(a.agree(&[9u8; 31]).is_err(), "a short public value is refused");
    }

    fn ecp256_matches_rfc5903_section_8_1() {
        let v = include_str!("../testdata/ecp256.vec");
        let i = DhPrivate::from_seed(Group::Ecp256, vec_file(v, "i").try_into().unwrap()).unwrap();
        let r = DhPrivate::from_seed(Group::Ecp256, vec_file(v, "r").try_into().unwrap()).unwrap();
        assert_eq!(i.public(), vec_file(v, "gi"), "KE data is x | y without the 04 prefix");
        assert_eq!(i.agree(r.public()).unwrap(), vec_file(v, "girx"));
        assert_eq!(r.agree(i.public()).unwrap(), vec_file(v, "girx"));
        assert!(i.agree(&[1u8; 64]).is_err(), "a point off the curve is refused");
    }

    fn prf_is_hmac_sha256_per_rfc4231() {
        let v = include_str!("../testdata/hmac-sha256.vec");
        assert_eq!(prf(&vec_file(v, "key"), &[&vec_file(v, "data")]).to_vec(), vec_file(v, "mac"));
    }

    fn prf_plus_equals_an_independent_recomputation() {
        let key = b"SKEYSEED example key";
        let seed = b"Ni | Nr | SPIi | SPIr";
        // T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), computed here with ring::hmac.
        let k = hmac::Key::new(hmac::HMAC_SHA256, key);
        let mut expected = Vec::new();
        let mut t = Vec::new();
        for n in 1u8..=5 {
            let mut input = t.clone();
            input.extend_from_slice(seed);
            input.push(n);
            t = hmac::sign(&k, &input).as_ref().to_vec();
            expected.extend_from_slice(&t);
        }
        assert_eq!(prf_plus(key, seed, 160).unwrap(), expected);
        assert_eq!(prf_plus(key, seed, 77).unwrap(), expected[..77].to_vec());
        assert!(prf_plus(key, seed, PRF_PLUS_MAX).is_ok());
        assert!(prf_plus(key, seed, PRF_PLUS_MAX + 1).is_err(), "the counter is one byte");
    }

    fn both_ends_agree_on_every_key_for_every_transform_and_group() {
        for encr in [Encr::AesGcm128, Encr::AesGcm256, Encr::ChaCha20Poly1305] {
            for group in [Group::Curve25519, Group::Ecp256] {
                let mut ic = initiator_config();
                ic.encrs = vec![encr];
                ic.groups = vec![group];
                ic.child_encrs = vec![encr];
                let (i, r, sent, _) = run_with(ic, responder_config(), 7, None);
                assert_eq!(sent.len(), 4, "{encr:?} {group:?}: two exchanges");
                let (a, b) = (i.established().unwrap(), r.established().unwrap());
                assert_eq!(a.keys, b.keys);
                assert_eq!(a.keys.encr, encr);
                assert_eq!(a.group, group);
                assert_eq!(a.keys.sk_ei.len(), encr.key_len() + 4);
                assert_eq!(a.child, b.child);
                assert_eq!(a.child.key_i.len(), encr.key_len() + 4);
                assert_ne!(a.child.key_i, a.child.key_r);
                assert_eq!(a.assigned, Some(([10, 10, 0, 2], Some([10, 10, 0, 53]))));
                // Narrowed: the initiator's side is its virtual address, the far side the office.
                assert_eq!(a.child.tsi, vec![Selector::host([10, 10, 0, 2])]);
                assert_eq!(a.child.tsr, vec![Selector::subnet([10, 0, 0, 0], 24)]);
                assert!(!a.nat && !b.nat);
                // The CHILD_SA keys the ESP core: sealed by one end, opened by the other.
                let mut out = a.child.esp_i_to_r().unwrap();
                let mut inb = b.child.esp_i_to_r().unwrap();
                let sealed = out.seal(4, b"an inner IPv4 packet", [1; 8]).unwrap();
                assert_eq!(sealed.bytes[..4], b.child.spi_r.to_be_bytes());
                assert_eq!(inb.open(&sealed.bytes).unwrap().payload, b"an inner IPv4 packet");
                let mut back = b.child.esp_r_to_i().unwrap();
                let mut home = a.child.esp_r_to_i().unwrap();
                let sealed = back.seal(4, b"reply", [2; 8]).unwrap();
                assert_eq!(home.open(&sealed.bytes).unwrap().payload, b"reply");
            }
        }
    }

    fn the_keys_follow_rfc7296_section_2_14_recomputed_from_the_secrets() {
        let (_, _, sent, notes) = run(3);
        let secret = |n: &str| {
            notes.iter().find_map(|x| match x {
                Note::Secret { name, bytes, .. } if name == n => Some(bytes.clone()),
                _ => None,
            }).unwrap()
        };
        let init = wire::parse(&sent[0].out.bytes, None).unwrap();
        let resp = wire::parse(&sent[1].out.bytes, None).unwrap();
        let nonce = |p: &wire::Parsed| p.payloads.iter().find_map(|x| match x {
            Payload::Nonce(n) => Some(n.clone()),
            _ => None,
        }).unwrap();
        let (ni, nr) = (nonce(&init), nonce(&resp));
        let g_ir = secret("ike.secret.g_ir");
        let skeyseed = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &[ni.clone(), nr.clone()].concat()), &g_ir);
        assert_eq!(secret("ike.secret.skeyseed"), skeyseed.as_ref());
        let s = [ni.clone(), nr.clone(), init.header.spi_i.to_vec(), resp.header.spi_r.to_vec()].concat();
        let km = prf_plus(skeyseed.as_ref(), &s, 32 + 36 + 36 + 32 + 32).unwrap();
        assert_eq!(secret("ike.secret.sk_d"), km[..32]);
        assert_eq!(secret("ike.secret.sk_ei"), km[32..68]);
        assert_eq!(secret("ike.secret.sk_er"), km[68..104]);
        assert_eq!(secret("ike.secret.sk_pi"), km[104..136]);
        assert_eq!(secret("ike.secret.sk_pr"), km[136..168]);
        let child = prf_plus(&km[..32], &[ni, nr].concat(), 72).unwrap();
        assert_eq!(secret("ike.secret.child_ei"), child[..36]);
        assert_eq!(secret("ike.secret.child_er"), child[36..]);
    }

    fn every_byte_of_every_message_is_explained() {
        for seed in 1..=3 {
            let (_, _, sent, _) = run(seed);
            for s in &sent {
                check_fields(&s.out.fields, 0, s.out.bytes.len())
                    .unwrap_or_else(|e| panic!("{}: {e}", s.out.label));
            }
        }
    }

    fn the_sk_payload_shows_the_decrypted_payloads_nested_inside() {
        let (_, _, sent, _) = run(1);
        let auth = &sent[2].out;
        assert_eq!(auth.label, "ike.msg.ike_auth_request");
        let sk = auth.fields.iter().find(|f| f.name == "ike.field.payload_sk").unwrap();
        assert_eq!(sk.protection, Protection::IntegrityOnly);
        let enc = sk.children.iter().find(|f| f.name == "ike.field.encrypted").unwrap();
        assert_eq!(enc.protection, Protection::Encrypted);
        let mut inner = Vec::new();
        names(&enc.children, &mut inner);
        for p in ["payload_idi", "payload_idr", "payload_auth", "payload_cp", "payload_sa", "payload_tsi", "payload_tsr", "pad_length"] {
            assert!(inner.contains(&format!("ike.field.{p}")), "{p} inside SK");
        }
        let icv = sk.children.last().unwrap();
        assert_eq!((icv.name.as_str(), icv.end - icv.start), ("ike.field.icv", 16));
        assert_eq!(icv.end, auth.bytes.len());
        // Eve sees only ciphertext: the identity's bytes are not on the wire.
        assert!(!auth.bytes.windows(16).any(|w| w == b"home.example.com"));
        assert!(sent[0].out.bytes.windows(4).all(|w| w != b"home"));
    }

    fn the_same_seed_gives_the_same_bytes() {
        let a: Vec<_> = run(5).2.into_iter().map(|s| s.out.bytes).collect();
        let b: Vec<_> = run(5).2.into_iter().map(|s| s.out.bytes).collect();
        let c: Vec<_> = run(6).2.into_iter().map(|s| s.out.bytes).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    fn invalid_ke_payload_makes_the_initiator_retry_with_the_group_asked_for() {
        let mut ic = initiator_config();
        ic.groups = vec![Group::Ecp256, Group::Curve25519];
        let mut rc = responder_config();
        rc.groups = vec![Group::Curve25519];
        let (i, r, sent, notes) = run_with(ic, rc, 2, None);
        assert_eq!(sent.len(), 6, "refused, retried, then IKE_AUTH");
        let refusal = wire::parse(&sent[1].out.bytes, None).unwrap();
        assert_eq!(refusal.payloads, vec![Payload::notify(notify::INVALID_KE_PAYLOAD, vec![0, 31])]);
        let retry = wire::parse(&sent[2].out.bytes, None).unwrap();
        let first = wire::parse(&sent[0].out.bytes, None).unwrap();
        assert_eq!(retry.header.spi_i, first.header.spi_i, "same SPIi");
        assert!(retry.payloads.iter().any(|p| matches!(p, Payload::Ke { group: 31, data } if data.len() == 32)));
        assert!(notes.iter().any(|n| matches!(n, Note::Say { key: "ike.narr.invalid_ke", .. })));
        assert_eq!(i.established().unwrap().group, Group::Curve25519);
        assert!(r.established().is_some());
    }

    fn no_common_proposal_is_no_proposal_chosen() {
        let mut ic = initiator_config();
        ic.encrs = vec![Encr::AesGcm128];
        let mut rc = responder_config();
        rc.encrs = vec![Encr::AesGcm256];
        let (i, r, sent, notes) = run_with(ic, rc, 1, None);
        assert_eq!(sent.len(), 2);
        let refusal = wire::parse(&sent[1].out.bytes, None).unwrap();
        assert_eq!(refusal.payloads, vec![Payload::notify(notify::NO_PROPOSAL_CHOSEN, vec![])]);
        check_fields(&sent[1].out.fields, 0, sent[1].out.bytes.len()).unwrap();
        assert_eq!(i.state(), &InitiatorState::Failed { notify: notify::NO_PROPOSAL_CHOSEN });
        assert!(failed_with(&notes, notify::NO_PROPOSAL_CHOSEN));
        assert!(r.established().is_none());
    }

    fn a_wrong_psk_is_authentication_failed_inside_sk() {
        let mut ic = initiator_config();
        ic.psk = b"wrong horse".to_vec();
        let (i, r, sent, notes) = run_with(ic, responder_config(), 1, None);
        assert_eq!(sent.len(), 4);
        assert_eq!(r.state(), &ResponderState::Failed { notify: notify::AUTHENTICATION_FAILED });
        assert_eq!(i.state(), &InitiatorState::Failed { notify: notify::AUTHENTICATION_FAILED });
        assert!(failed_with(&notes, notify::AUTHENTICATION_FAILED));
        // The refusal is encrypted: the header says SK, the notify is inside.
        let h = wire::Header::parse(&sent[3].out.bytes).unwrap();
        assert_eq!(h.next, payload::SK);
        let mut inner = Vec::new();
        names(&sent[3].out.fields, &mut inner);
        assert!(inner.contains(&"ike.field.payload_notify".to_string()));
        check_fields(&sent[3].out.fields, 0, sent[3].out.bytes.len()).unwrap();
    }

    fn a_tampered_sk_payload_is_dropped_silently_and_the_retransmission_succeeds() {
        // Flip a ciphertext byte of IKE_AUTH (message 2, byte 60).
        let (i, r, sent, notes) = run_with(initiator_config(), responder_config(), 1, Some((2, 60)));
        assert!(notes.iter().any(|n| matches!(n, Note::Check { what: "ike.check.sk_icv", failed: Some(_) })));
        assert!(notes.iter().any(|n| matches!(n, Note::Say { key: "ike.narr.sk_dropped", .. })));
        // No answer to the tampered request; the retransmission gets one.
        assert_eq!(sent.len(), 5);
        assert!(sent[3].from_initiator && sent[3].out.bytes == sent[2].out.bytes, "retransmitted as it was");
        assert!(!sent[4].from_initiator && sent[4].out.label == "ike.msg.ike_auth_response");
        assert!(i.established().is_some() && r.established().is_some());
        assert_eq!(sent.iter().filter(|s| s.out.label == "ike.msg.ike_auth_request").count(), 2);
    }

    fn every_flipped_byte_of_every_message_is_refused_or_harmless_never_a_panic() {
        let (_, _, sent, _) = run(4);
        // Every receiver at every stage of the run, to feed each flipped message to.
        let mut rng = Seeded::new(4);
        let fresh_r = Responder::new(responder_config());
        let mut r_auth = fresh_r.clone();
        let mut i_init = Initiator::new(initiator_config());
        i_init.start(&mut rng).unwrap();
        let _ = i_init.take_outgoing();
        r_auth.receive(&sent[0].out.bytes, HOME, &mut rng).unwrap();
        let _ = r_auth.take_outgoing();
        let mut i_auth = i_init.clone();
        i_auth.receive(&sent[1].out.bytes, &mut rng).unwrap();
        let mut flips = 0;
        for s in &sent {
            for off in 0..s.out.bytes.len() {
                for bit in [0x01u8, 0x80] {
                    let mut b = s.out.bytes.clone();
                    b[off] ^= bit;
                    let _ = fresh_r.clone().receive(&b, HOME, &mut rng);
                    let mut r = r_auth.clone();
                    if r.receive(&b, HOME, &mut rng).is_ok() && s.from_initiator && s.out.label == "ike.msg.ike_auth_request" {
                        // An accepted flip can only be one the AEAD does not cover: none.
                        panic!("flipped IKE_AUTH byte {off} accepted");
                    }
                    let _ = i_init.clone().receive(&b, &mut rng);
                    let mut i = i_auth.clone();
                    if i.receive(&b, &mut rng).is_ok() && s.out.label == "ike.msg.ike_auth_response" {
                        panic!("flipped IKE_AUTH response byte {off} accepted");
                    }
                    flips += 1;
                }
            }
        }
        assert!(flips > 1000);
    }

    fn random_bytes_and_truncations_are_typed_errors() {
        let (_, _, sent, _) = run(2);
        let mut rng = Seeded::new(5);
        for s in &sent {
            for cut in 0..s.out.bytes.len() {
                let b = &s.out.bytes[..cut];
                assert!(wire::parse(b, None).is_err(), "a truncated message never parses");
                let _ = Responder::new(responder_config()).receive(b, HOME, &mut rng);
            }
        }
        for _ in 0..2000 {
            let mut len = [0u8; 1];
            rng.fill(&mut len).unwrap();
            let mut b = vec![0u8; usize::from(len[0]) + 28];
            rng.fill(&mut b).unwrap();
            // Make the header plausible so the payload chain is reached.
            b[17] = 0x20;
            let l = (b.len() as u32).to_be_bytes();
            b[24..28].copy_from_slice(&l);
            let _ = wire::parse(&b, None);
            let _ = Responder::new(responder_config()).receive(&b, HOME, &mut rng);
        }
    }

    fn hostile_chains_are_refused() {
        let (_, _, sent, _) = run(2);
        let good = sent[0].out.bytes.clone();
        // A payload length past the end of the message.
        let mut b = good.clone();
        b[30] = 0xff;
        b[31] = 0xff;
        assert!(matches!(wire::parse(&b, None), Err(wire::ReadError::Decode(_))));
        // A loop of next-payload types: every payload names another until the bytes end.
        let mut b = good[..28].to_vec();
        b[16] = payload::VENDOR;
        for _ in 0..100 {
            b.extend_from_slice(&[payload::VENDOR, 0, 0, 4]);
        }
        let l = (b.len() as u32).to_be_bytes();
        b[24..28].copy_from_slice(&l);
        assert!(wire::parse(&b, None).is_err());
        // An absurd number of proposals.
        let mut body = Vec::new();
        for n in 0..40u8 {
            body.extend_from_slice(&[2, 0, 0, 8, n + 1, 1, 0, 0]);
        }
        let mut b = good[..28].to_vec();
        b[16] = payload::SA;
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        b.extend_from_slice(&body);
        let l = (b.len() as u32).to_be_bytes();
        b[24..28].copy_from_slice(&l);
        assert!(matches!(
            wire::parse(&b, None),
            Err(wire::ReadError::Decode(cipherstage_ike::codec::DecodeError { kind: cipherstage_ike::codec::DecodeErrorKind::TooMany, .. }))
        ));
        // An unknown payload marked critical.
        let mut b = good[..28].to_vec();
        b[16] = 200;
        b.extend_from_slice(&[0, 0x80, 0, 4]);
        let l = (b.len() as u32).to_be_bytes();
        b[24..28].copy_from_slice(&l);
        assert!(matches!(
            wire::parse(&b, None),
            Err(wire::ReadError::Decode(cipherstage_ike::codec::DecodeError { kind: cipherstage_ike::codec::DecodeErrorKind::UnsupportedCritical(200), .. }))
        ));
    }

    fn nat_detection_sees_a_translated_source() {
        let mut rng = Seeded::new(1);
        let mut i = Initiator::new(initiator_config());
        let mut r = Responder::new(responder_config());
        i.start(&mut rng).unwrap();
        let req = i.take_outgoing().remove(0);
        // The home router rewrote the source to its own address and port 4500.
        let natted = Addr { ip: [192, 0, 2, 9], port: 4500 };
        r.receive(&req.bytes, natted, &mut rng).unwrap();
        let notes = r.take_notes();
        assert!(notes.iter().any(|n| matches!(n, Note::Check { what: "ike.check.nat_source", failed: Some(_) })));
        assert!(notes.iter().any(|n| matches!(n, Note::Say { key: "ike.narr.nat_detected", .. })));
        let resp = r.take_outgoing().remove(0);
        i.receive(&resp.bytes, &mut rng).unwrap();
        let notes = i.take_notes();
        assert!(notes.iter().any(|n| matches!(n, Note::Check { what: "ike.check.nat_destination", failed: Some(_) })));
    }
}

tests! {
    fn the_non_esp_marker_frames_ike_on_the_nat_t_port() {
        let (_, _, sent, _) = run(1);
        let framed = frame_nat_t(&sent[0].out.bytes);
        assert_eq!(framed[..4], [0, 0, 0, 0]);
        assert_eq!(unframe_nat_t(&framed), Some(&sent[0].out.bytes[..]));
        // An ESP packet starts with its (non-zero) SPI: not IKE.
        assert_eq!(unframe_nat_t(&[0x81, 0x56, 0x46, 0x68, 0, 0, 0, 1]), None);
    }
}

fn pki_auth(
    seed: u64,
) -> (
    cipherstage_pki::Pki,
    cipherstage_ike::auth::CertAuth,
    cipherstage_ike::auth::CertAuth,
) {
    let mut rng = Seeded::new(seed);
    let pki = cipherstage_pki::Pki::build(&mut rng).unwrap();
    let mut issue = |name: &str| {
        let key = cipherstage_pki::Key::generate_ecdsa_p256(&mut rng).unwrap();
        let leaf = cipherstage_pki::issue::issue_server(&key, name, &pki.intermediate).unwrap();
        cipherstage_ike::auth::CertAuth {
            chain: vec![leaf, pki.intermediate.der.clone()],
            key,
        }
    };
    let home = issue("home.example.com");
    let vpn = issue("vpn.example.com");
    (pki, home, vpn)
}

tests! {
    fn certificate_auth_establishes_and_an_untrusted_or_misnamed_one_is_authentication_failed() {
        use cipherstage_ike::auth::Trust;
        let (pki, home, vpn) = pki_auth(3);
        let trust = Trust { roots: vec![pki.root.der.clone()], now: cipherstage_pki::SCENARIO_NOW };
        let with = |trust_r: Trust, home: cipherstage_ike::auth::CertAuth| {
            let mut ic = initiator_config();
            ic.cert = Some(home);
            ic.trust = Some(trust.clone());
            let mut rc = responder_config();
            rc.cert = Some(vpn.clone());
            rc.trust = Some(trust_r);
            run_with(ic, rc, 1, None)
        };
        let (i, r, sent, _) = with(trust.clone(), home.clone());
        assert!(i.established().is_some() && r.established().is_some());
        for s in &sent {
            check_fields(&s.out.fields, 0, s.out.bytes.len()).unwrap();
        }
        // The gateway trusts only another root: the home PC's chain does not lead there.
        let rogue = Trust { roots: vec![pki.rogue_root.der.clone()], now: cipherstage_pki::SCENARIO_NOW };
        let (i, r, _, notes) = with(rogue, home.clone());
        assert_eq!(r.state(), &ResponderState::Failed { notify: notify::AUTHENTICATION_FAILED });
        assert_eq!(i.state(), &InitiatorState::Failed { notify: notify::AUTHENTICATION_FAILED });
        assert!(notes.iter().any(|n| matches!(n, Note::Check { what: "ike.check.cert_chain", failed: Some(_) })));
        // A good chain, but for another name than the IDi the PC claims.
        let (_, other, _) = pki_auth(4);
        let (i, _, _, _) = with(trust.clone(), cipherstage_ike::auth::CertAuth { key: other.key, chain: vec![vpn.chain[0].clone(), vpn.chain[1].clone()] });
        assert!(i.established().is_none(), "a certificate for vpn.example.com does not prove home.example.com");
        // Expired: the same chain checked two years later.
        let late = Trust { roots: vec![pki.root.der.clone()], now: cipherstage_pki::SCENARIO_NOW + 2 * 365 * 86_400 };
        let (_, r, _, _) = with(late, home);
        assert_eq!(r.state(), &ResponderState::Failed { notify: notify::AUTHENTICATION_FAILED });
    }
}

tests! {
    fn a_retransmitted_request_gets_the_same_answer_byte_for_byte() {
        let mut rng = Seeded::new(8);
        let mut i = Initiator::new(initiator_config());
        let mut r = Responder::new(responder_config());
        i.start(&mut rng).unwrap();
        let init = i.take_outgoing().remove(0);
        r.receive(&init.bytes, HOME, &mut rng).unwrap();
        let resp = r.take_outgoing().remove(0);
        i.receive(&resp.bytes, &mut rng).unwrap();
        let auth = i.take_outgoing().remove(0);
        r.receive(&auth.bytes, HOME, &mut rng).unwrap();
        let answer = r.take_outgoing().remove(0);
        // Our answer was lost: the initiator sends IKE_AUTH again, the responder (already
        // established) repeats its answer instead of processing the request twice.
        assert!(i.retransmit());
        let again = i.take_outgoing().remove(0);
        assert_eq!(again.bytes, auth.bytes);
        r.receive(&again.bytes, HOME, &mut rng).unwrap();
        assert_eq!(r.take_outgoing().remove(0).bytes, answer.bytes);
        i.receive(&answer.bytes, &mut rng).unwrap();
        assert!(i.established().is_some());
        assert!(!i.retransmit(), "nothing awaits an answer any more");
    }
}
