//! Behaviour of the transcript model and the recorder; runs natively and, via
//! wasm-bindgen-test, in Chromium.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use cipherstage_transcript::rand::{fixed, Live, RandomSource, Seeded};
use cipherstage_transcript::*;
use ring::agreement;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use cipherstage_testkit::tests;

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

// The recorder the scenario drivers share.

const EVE: ActorId = 2;
const WIRE: Wire = Wire {
    link: 0,
    protocol: "test",
    layer: Layer::Application,
};

/// Sends `count` messages of `len` bytes (byte i = i) and returns what arrived.
fn send_all(rec: &mut Recorder, count: usize, len: usize) -> Vec<Delivered> {
    (0..count)
        .map(|i| {
            let bytes: Vec<u8> = (0..len).map(|b| b as u8).collect();
            rec.send(WIRE, i % 2, 1 - i % 2, "test.msg", bytes, Vec::new())
        })
        .collect()
}

/// Event `i`, which must be a message.
fn message_at(rec: &Recorder, i: usize) -> &Message {
    match &rec.events[i] {
        Event::Message(m) => m,
        e => panic!("event {i} is not a message: {e:?}"),
    }
}

tests! {
    fn untampered_messages_arrive_as_sent() {
        let mut rec = Recorder::default();
        let got = send_all(&mut rec, 3, 4);
        assert!(got.iter().all(|d| d.bytes == [0, 1, 2, 3] && d.tampered.is_none()));
        assert_eq!(rec.events.len(), 3);
        let m = message_at(&rec, 1);
        assert_eq!((m.from, m.to, m.link), (1, 0, 0));
        assert_eq!((m.protocol.as_str(), m.layer), ("test", Layer::Application));
        assert_eq!((m.label.as_str(), m.bytes.as_slice()), ("test.msg", &[0, 1, 2, 3][..]));
        assert!((0..3).all(|i| message_at(&rec, i).tampered.is_none()));
    }

    fn flips_the_lowest_bit_of_the_named_byte_of_the_named_message() {
        let tamper = TamperAt { message: 1, offset: 2 };
        let mut rec = Recorder::new(Some(tamper), Some(EVE));
        let got = send_all(&mut rec, 3, 4);
        assert_eq!(got[0].bytes, [0, 1, 2, 3]);
        assert_eq!(got[1].bytes, [0, 1, 3, 3]);
        assert_eq!(got[2].bytes, [0, 1, 2, 3]);
        let t = Tamper { by: EVE, offset: 2, original: 2 };
        assert_eq!(got[1].tampered, Some(t));
        assert_eq!(message_at(&rec, 1).bytes, [0, 1, 3, 3]);
        assert_eq!(message_at(&rec, 1).tampered, Some(t));
        assert!(message_at(&rec, 0).tampered.is_none());
        assert!(message_at(&rec, 2).tampered.is_none());
    }

    fn an_offset_past_the_end_flips_the_last_byte() {
        let tamper = TamperAt { message: 0, offset: 999 };
        let mut rec = Recorder::new(Some(tamper), Some(EVE));
        let got = send_all(&mut rec, 1, 4);
        assert_eq!(got[0].bytes, [0, 1, 2, 2]);
        assert_eq!(got[0].tampered, Some(Tamper { by: EVE, offset: 3, original: 3 }));
    }

    fn an_empty_message_is_left_alone_but_counted() {
        let tamper = TamperAt { message: 0, offset: 0 };
        let mut rec = Recorder::new(Some(tamper), Some(EVE));
        let got = rec.send(WIRE, 0, 1, "test.msg", Vec::new(), Vec::new());
        assert_eq!(got, Delivered { bytes: Vec::new(), tampered: None });
        // The tamper named message 0; message 1 is not touched either.
        let got = send_all(&mut rec, 1, 4);
        assert!(got[0].tampered.is_none());
    }

    fn nothing_is_flipped_without_an_attacker() {
        let tamper = TamperAt { message: 1, offset: 0 };
        let mut rec = Recorder::new(Some(tamper), None);
        let got = send_all(&mut rec, 1, 4);
        assert!(got[0].tampered.is_none());
        // Messages sent before the attacker appears still count.
        rec.set_attacker(EVE);
        let got = send_all(&mut rec, 1, 4);
        assert_eq!(got[0].tampered, Some(Tamper { by: EVE, offset: 0, original: 0 }));
    }

    fn the_attacker_changes_nothing_on_a_link_she_is_not_on() {
        let lan = Wire { link: 1, ..WIRE };
        for (message, flipped) in [(0, false), (1, true)] {
            let tamper = TamperAt { message, offset: 0 };
            let mut rec = Recorder::new(Some(tamper), Some(EVE));
            rec.watch_only_named_links();
            rec.watch(0);
            let a = rec.send(lan, 0, 1, "test.msg", vec![7], Vec::new());
            let b = rec.send(WIRE, 0, 1, "test.msg", vec![7], Vec::new());
            // Message 0 crossed the unwatched LAN: counted, never changed.
            assert!(a.tampered.is_none());
            assert_eq!(b.tampered.is_some(), flipped, "message {message}");
        }
    }

    fn records_narration_checks_alerts_and_secrets_in_order() {
        let mut rec = Recorder::default();
        rec.narrate("test.narr.plain", &[]);
        let text = String::from("hi");
        rec.narrate("test.narr.args", &[("text", &text), ("n", &42usize), ("s", &"x")]);
        assert!(rec.check(0, "test.check.a", None));
        assert!(!rec.check(1, "test.check.b", Some(FailReason::TagMismatch)));
        assert!(rec.check(0, "test.check.c", Outcome::Passed));
        assert!(!rec.check(0, "test.check.d", Outcome::Failed(FailReason::Replay)));
        rec.alert(1, "test.alert.x", true);
        let formula = Formula { key: "formula.random".into(), inputs: Vec::new() };
        rec.secret(0, "test.secret.k", vec![1, 2], formula.clone());
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let check = |actor, what: &str, outcome| {
            Event::Check(Check { actor, what: what.into(), outcome })
        };
        assert_eq!(
            rec.events,
            vec![
                Event::Narration(Narration { key: "test.narr.plain".into(), args: Vec::new() }),
                Event::Narration(Narration {
                    key: "test.narr.args".into(),
                    args: vec![pair("text", "hi"), pair("n", "42"), pair("s", "x")],
                }),
                check(0, "test.check.a", Outcome::Passed),
                check(1, "test.check.b", Outcome::Failed(FailReason::TagMismatch)),
                check(0, "test.check.c", Outcome::Passed),
                check(0, "test.check.d", Outcome::Failed(FailReason::Replay)),
                Event::Alert(Alert { from: 1, key: "test.alert.x".into(), fatal: true }),
                Event::Secret(Secret {
                    owner: 0,
                    name: "test.secret.k".into(),
                    bytes: vec![1, 2],
                    formula,
                }),
            ]
        );
    }
}
