//! The hybrid-encryption core against published vectors and against itself.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use cipherstage_hybrid::{hkdf, run, wire, Params, TamperAt};
use cipherstage_transcript::rand::fixed;
use cipherstage_transcript::*;
use ring::{aead, agreement};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use cipherstage_testkit::tests;

fn hex(s: &str) -> Vec<u8> {
    hex_decode(s).unwrap()
}

fn secret<'a>(t: &'a Transcript, owner: usize, name: &str) -> &'a [u8] {
    t.events
        .iter()
        .find_map(|e| match e {
            Event::Secret(s) if s.owner == owner && s.name == name => Some(s.bytes.as_slice()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no secret {name} of {owner}"))
}

fn checks(t: &Transcript) -> Vec<(usize, Outcome)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) => Some((c.actor, c.outcome.clone())),
            _ => None,
        })
        .collect()
}

fn messages(t: &Transcript) -> Vec<&Message> {
    t.messages().collect()
}

tests! {
    fn hkdf_matches_rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt = hex("000102030405060708090a0b0c");
        let info = hex("f0f1f2f3f4f5f6f7f8f9");
        let prk = hkdf::extract(&salt, &ikm);
        assert_eq!(prk.to_vec(), hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
        let okm = hkdf::expand(&prk, &info, 42).unwrap();
        assert_eq!(okm, hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
    }

    fn hkdf_matches_ring_for_long_outputs() {
        struct Len(usize);
        impl ring::hkdf::KeyType for Len {
            fn len(&self) -> usize { self.0 }
        }
        let prk = hkdf::extract(b"salt", b"input keying material");
        let ring_prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"salt").extract(b"input keying material");
        for len in [1usize, 16, 32, 33, 100] {
            let mut theirs = vec![0u8; len];
            let info: &[&[u8]] = &[b"label"];
            ring_prk.expand(info, Len(len)).unwrap().fill(&mut theirs).unwrap();
            assert_eq!(hkdf::expand(&prk, b"label", len).unwrap(), theirs);
        }
        assert!(hkdf::expand(&prk, b"x", 255 * 32 + 1).is_none());
    }

    fn aes_128_gcm_matches_gcm_spec_test_case_2() {
        // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 2.
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &[0u8; 16]).unwrap());
        let mut data = vec![0u8; 16];
        let tag = key
            .seal_in_place_separate_tag(aead::Nonce::assume_unique_for_key([0; 12]), aead::Aad::empty(), &mut data)
            .unwrap();
        assert_eq!(data, hex("0388dace60b6a392f328c2b971b2fe78"));
        assert_eq!(tag.as_ref(), &hex("ab6e47d42cec13bdf53a67b21257bddf")[..]);
    }

    fn every_byte_is_explained() {
        let t = run("hybrid", &Params::default(), Some(7));
        assert_eq!(check_coverage(&t), Ok(()));
        assert_eq!(messages(&t).len(), 4);
    }

    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = run("hybrid", &Params::default(), Some(7));
        let b = run("hybrid", &Params::default(), Some(7));
        let c = run("hybrid", &Params::default(), Some(8));
        assert_eq!(a.to_json(), b.to_json());
        assert_ne!(messages(&a)[0].bytes, messages(&c)[0].bytes);
    }

    fn live_runs_differ_and_still_succeed() {
        let a = run("hybrid", &Params::default(), None);
        let b = run("hybrid", &Params::default(), None);
        assert_ne!(messages(&a)[0].bytes, messages(&b)[0].bytes);
        assert_eq!(checks(&a), vec![(2, Outcome::Passed), (0, Outcome::Passed)]);
    }

    fn transcript_secrets_reproduce_with_ring_independently() {
        let p = Params::default();
        let t = run("hybrid", &p, Some(3));
        let m = messages(&t);
        // Public keys on the wire are what X25519 gives for the recorded private keys.
        for (owner, msg) in [(0usize, m[0]), (2, m[1])] {
            let private = secret(&t, owner, "hybrid.secret.private_key");
            let key = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &fixed(private)).unwrap();
            assert_eq!(key.compute_public_key().unwrap().as_ref(), &msg.bytes[3..35]);
        }
        // Both computed the same shared secret and keys.
        for name in ["hybrid.secret.shared", "hybrid.secret.prk", "hybrid.secret.a2b_key", "hybrid.secret.b2a_iv"] {
            assert_eq!(secret(&t, 0, name), secret(&t, 2, name), "{name}");
        }
        // Alice's sealed message opens with the recorded key and IV, sequence 0.
        let key = secret(&t, 2, "hybrid.secret.a2b_key");
        let iv: [u8; 12] = secret(&t, 2, "hybrid.secret.a2b_iv").try_into().unwrap();
        let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, key).unwrap());
        let sealed = &m[2].bytes;
        let mut body = sealed[11..].to_vec();
        let plain = key
            .open_in_place(aead::Nonce::assume_unique_for_key(iv), aead::Aad::from(&sealed[..11]), &mut body)
            .unwrap();
        assert_eq!(plain, p.text.as_bytes());
        // The ciphertext does not contain the plaintext.
        assert!(!sealed.windows(p.text.len()).any(|w| w == p.text.as_bytes()));
        // Bob narrates exactly what was decrypted.
        assert!(t.events.iter().any(|e| matches!(e, Event::Narration(n)
            if n.key == "hybrid.narr.bob_reads" && n.args == vec![("text".to_string(), p.text.clone())])));
    }

    fn flipping_any_byte_of_the_sealed_message_is_detected() {
        let len = messages(&run("hybrid", &Params::default(), Some(5)))[2].bytes.len();
        for offset in 0..len {
            let p = Params { tamper: Some(TamperAt { message: 2, offset }), ..Params::default() };
            let t = run("hybrid-tamper", &p, Some(5));
            let c = checks(&t);
            assert_eq!(c.len(), 1, "offset {offset}");
            let expected = if offset == 0 || (9..11).contains(&offset) {
                FailReason::Malformed // type or length no longer parse
            } else {
                FailReason::TagMismatch // sequence, ciphertext, tag
            };
            assert_eq!(c[0], (2, Outcome::Failed(expected)), "offset {offset}");
            let m = &messages(&t)[2];
            assert_eq!(m.tampered.unwrap().offset, offset);
            assert!(t.events.iter().any(|e| matches!(e, Event::Alert(a) if a.from == 2 && a.fatal)));
            assert!(!t.events.iter().any(|e| matches!(e, Event::Narration(n) if n.key == "hybrid.narr.bob_reads")));
            assert_eq!(check_coverage(&t), Ok(()));
        }
    }

    fn a_changed_public_key_gives_different_keys_and_a_failed_tag() {
        let p = Params { tamper: Some(TamperAt { message: 0, offset: 20 }), ..Params::default() };
        let t = run("hybrid-tamper", &p, Some(5));
        assert_ne!(secret(&t, 0, "hybrid.secret.a2b_key"), secret(&t, 2, "hybrid.secret.a2b_key"));
        assert!(t.events.iter().any(|e| matches!(e, Event::Narration(n) if n.key == "hybrid.narr.keys_differ")));
        assert_eq!(checks(&t), vec![(2, Outcome::Failed(FailReason::TagMismatch))]);
    }

    fn a_changed_share_type_is_a_decode_error() {
        let p = Params { tamper: Some(TamperAt { message: 1, offset: 0 }), ..Params::default() };
        let t = run("hybrid-tamper", &p, Some(5));
        assert!(t.events.iter().any(|e| matches!(e, Event::Alert(a) if a.from == 0 && a.key == "hybrid.alert.decode_error")));
    }

    fn wire_parsers_reject_truncation_and_trailing_bytes() {
        let t = run("hybrid", &Params::default(), Some(9));
        let m = messages(&t);
        let share = &m[0].bytes;
        assert!(wire::KeyShare::parse(share, wire::TYPE_CLIENT_SHARE).is_ok());
        for cut in 0..share.len() {
            assert_eq!(wire::KeyShare::parse(&share[..cut], wire::TYPE_CLIENT_SHARE).unwrap_err().kind, wire::DecodeErrorKind::Truncated, "{cut}");
        }
        let mut long = share.clone();
        long.push(0);
        assert_eq!(wire::KeyShare::parse(&long, wire::TYPE_CLIENT_SHARE).unwrap_err().kind, wire::DecodeErrorKind::TrailingBytes);
        let sealed = &m[2].bytes;
        let parsed = wire::Sealed::parse(sealed).unwrap();
        assert_eq!(parsed.sequence, 0);
        assert_eq!(parsed.payload.len(), sealed.len() - 11);
        for cut in 0..sealed.len() {
            assert!(wire::Sealed::parse(&sealed[..cut]).is_err(), "{cut}");
        }
        let mut long = sealed.clone();
        long.push(0);
        assert_eq!(wire::Sealed::parse(&long).unwrap_err().kind, wire::DecodeErrorKind::TrailingBytes);
        // The reply is sequence 0 of the other direction.
        assert_eq!(wire::Sealed::parse(&m[3].bytes).unwrap().sequence, 0);
    }

    fn emit_then_parse_round_trips() {
        let share = wire::KeyShare { msg_type: wire::TYPE_SERVER_SHARE, public_key: [7; 32] };
        let bytes = share.emit();
        assert_eq!(bytes.len(), share.buffer_len());
        assert_eq!(wire::KeyShare::parse(&bytes, wire::TYPE_SERVER_SHARE).unwrap(), share);
    }

    fn unicode_and_empty_texts_work() {
        for text in ["", "こんにちは、ボブ。共通鍵で暗号化しています。"] {
            let p = Params { text: text.into(), ..Params::default() };
            let t = run("hybrid", &p, Some(1));
            assert_eq!(check_coverage(&t), Ok(()));
            assert!(t.events.iter().any(|e| matches!(e, Event::Narration(n)
                if n.key == "hybrid.narr.bob_reads" && n.args[0].1 == text)));
        }
    }
}
