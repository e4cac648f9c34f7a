//! Behaviour of the transcript model; runs natively and, via wasm-bindgen-test, in Chromium.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use cipherstage_transcript::rand::{fixed, Live, RandomSource, Seeded};
use cipherstage_transcript::*;
use ring::agreement;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

macro_rules! tests {
    ($($(#[$m:meta])* fn $name:ident() $body:block)*) => {$(
        $(#[$m])*
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        fn $name() $body
    )*};
}

fn hex(s: &str) -> Vec<u8> {
    hex_decode(s).unwrap()
}

fn message(len: usize, fields: Vec<Field>) -> Transcript {
    Transcript {
        scenario: "test".into(),
        seed: Some(1),
        actors: vec![
            Actor {
                role: Role::Client,
                name: "actor.alice".into(),
            },
            Actor {
                role: Role::Server,
                name: "actor.bob".into(),
            },
        ],
        links: vec![Link {
            a: 0,
            b: 1,
            observers: vec![],
        }],
        events: vec![Event::Message(Message {
            from: 0,
            to: 1,
            link: 0,
            protocol: "test".into(),
            layer: Layer::Application,
            label: "m".into(),
            bytes: vec![0xab; len],
            fields,
            tampered: None,
        })],
    }
}

fn nested_fields() -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    b.leaf("a", 2, Some(Value::Uint(7)), "x.a", Protection::Plaintext);
    b.group("g", "x.g", Protection::Encrypted, |b| {
        b.leaf("c", 3, None, "x.c", Protection::Encrypted);
        b.leaf(
            "d",
            1,
            Some(Value::Key("k.d".into())),
            "x.d",
            Protection::Encrypted,
        );
    });
    b.finish()
}

tests! {
    fn same_seed_gives_same_bytes_and_other_seeds_differ() {
        let mut a = Seeded::new(42);
        let mut b = Seeded::new(42);
        let mut c = Seeded::new(43);
        let (x, y, z): ([u8; 100], [u8; 100], [u8; 100]) =
            (a.array().unwrap(), b.array().unwrap(), c.array().unwrap());
        assert_eq!(x, y);
        assert_ne!(x, z);
        // Drawing in pieces gives the same stream as drawing at once.
        let mut d = Seeded::new(42);
        let mut pieces = Vec::new();
        for n in [1usize, 31, 33, 35] {
            let mut buf = vec![0; n];
            d.fill(&mut buf).unwrap();
            pieces.extend(buf);
        }
        assert_eq!(pieces, x);
    }

    fn live_source_gives_fresh_bytes() {
        let x: [u8; 32] = Live.array().unwrap();
        let y: [u8; 32] = Live.array().unwrap();
        assert_ne!(x, y);
    }

    fn ring_driven_by_fixed_bytes_matches_rfc7748_x25519() {
        // RFC 7748 §6.1.
        let alice_priv = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let bob_pub = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        let key = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &fixed(&alice_priv)).unwrap();
        let public = key.compute_public_key().unwrap();
        assert_eq!(
            public.as_ref(),
            &hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")[..]
        );
        let shared = agreement::agree_ephemeral(
            key,
            &agreement::UnparsedPublicKey::new(&agreement::X25519, &bob_pub),
            |k| k.to_vec(),
        )
        .unwrap();
        assert_eq!(shared, hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
    }

    fn exact_tiling_passes_coverage() {
        assert_eq!(check_coverage(&message(6, nested_fields())), Ok(()));
    }

    fn unexplained_tail_is_a_gap() {
        let err = check_coverage(&message(8, nested_fields())).unwrap_err();
        assert_eq!(err.offset, 6);
        assert_eq!(err.kind, CoverageErrorKind::Gap { end: 8 });
    }

    fn field_past_the_message_is_an_overrun() {
        let err = check_coverage(&message(5, nested_fields())).unwrap_err();
        assert_eq!(err.kind, CoverageErrorKind::Overrun);
        assert_eq!(err.offset, 2);
    }

    fn overlapping_leaves_are_rejected() {
        let mut fields = nested_fields();
        fields[1].children[1].start = 4;
        let err = check_coverage(&message(6, fields)).unwrap_err();
        assert_eq!((err.offset, err.kind), (4, CoverageErrorKind::Overlap));
    }

    fn a_hole_inside_a_group_is_a_gap() {
        let mut fields = nested_fields();
        fields[1].children.remove(1);
        let err = check_coverage(&message(6, fields)).unwrap_err();
        assert_eq!((err.offset, err.kind), (5, CoverageErrorKind::Gap { end: 6 }));
    }

    fn a_leaf_without_explanation_is_rejected() {
        let mut fields = nested_fields();
        fields[0].explain.clear();
        let err = check_coverage(&message(6, fields)).unwrap_err();
        assert_eq!(err.kind, CoverageErrorKind::NoExplanation);
    }

    fn json_round_trip_keeps_everything() {
        let mut t = message(6, nested_fields());
        t.events.push(Event::Secret(Secret {
            owner: 0,
            name: "s".into(),
            bytes: vec![0, 1, 0xfe],
            formula: Formula { key: "f".into(), inputs: vec![FormulaInput { name: "i".into(), bytes: vec![9] }] },
        }));
        t.events.push(Event::Check(Check { actor: 1, what: "c".into(), outcome: Outcome::Failed(FailReason::TagMismatch) }));
        t.events.push(Event::Alert(Alert { from: 1, key: "a".into(), fatal: true }));
        t.events.push(Event::Narration(Narration { key: "n".into(), args: vec![("x".into(), "1".into())] }));
        let json = t.to_json();
        assert!(json.contains("\"bytes\": \"ababababab"));
        assert_eq!(Transcript::from_json(&json).unwrap(), t);
    }

    fn malformed_json_reports_where() {
        let err = Transcript::from_json("{\n  \"scenario\": 5").unwrap_err();
        assert_eq!(err.line, 2);
        let bad_hex = message(1, vec![]).to_json().replace("\"ab\"", "\"zz\"");
        assert!(Transcript::from_json(&bad_hex).unwrap_err().detail.contains("hex"));
    }

    fn import_refuses_references_to_missing_actors_or_links() {
        let mut t = message(6, nested_fields());
        assert!(Transcript::from_json(&t.to_json()).is_ok());
        if let Event::Message(m) = &mut t.events[0] {
            m.to = 9;
        }
        assert!(Transcript::from_json(&t.to_json()).unwrap_err().detail.contains("actor 9"));
        let mut t = message(6, nested_fields());
        if let Event::Message(m) = &mut t.events[0] {
            m.link = 3;
        }
        assert!(Transcript::from_json(&t.to_json()).unwrap_err().detail.contains("link 3"));
    }

    fn text_keys_list_every_key() {
        let t = message(6, nested_fields());
        let keys = t.text_keys();
        for k in ["actor.alice", "m", "a", "x.a", "g", "x.c", "k.d"] {
            assert!(keys.contains(&k), "{k}");
        }
    }
}
