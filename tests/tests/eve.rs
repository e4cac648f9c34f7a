//! The eavesdropper's view lists only what Eve knows, decided from what she saw.
#![allow(clippy::unwrap_used)]

use cipherstage_app::components::eve_knows;
use cipherstage_scenarios as scenarios;
use cipherstage_transcript::Event;

fn known_names(id: &str) -> Vec<String> {
    let t = scenarios::run(id, &[], Some(1)).unwrap();
    let last = t.events.len() - 1;
    eve_knows(&t, last)
        .into_iter()
        .filter_map(|i| match &t.events[i] {
            Event::Secret(s) => Some(s.name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn eve_knows_the_tls_randoms_and_none_of_the_keys() {
    let k = known_names("tls13");
    assert!(k.contains(&"tls.secret.client_random".to_owned()), "{k:?}");
    assert!(k.contains(&"tls.secret.server_random".to_owned()), "{k:?}");
    assert!(
        k.iter().all(|n| n.ends_with("_random")),
        "Eve knows more than the randoms: {k:?}"
    );
}

#[test]
fn eve_knows_the_hybrid_transcript_hash_but_not_the_shared_secret() {
    let k = known_names("hybrid");
    assert!(
        k.contains(&"hybrid.secret.transcript_hash".to_owned()),
        "{k:?}"
    );
    assert!(!k.contains(&"hybrid.secret.shared".to_owned()), "{k:?}");
    assert!(!k.contains(&"hybrid.secret.prk".to_owned()), "{k:?}");
}

#[test]
fn in_no_scenario_does_eve_know_a_private_key_a_shared_secret_or_a_derived_key() {
    let mut known = 0;
    for info in scenarios::all() {
        let t = scenarios::run(info.id, &[], Some(1)).unwrap();
        let last = t.events.len() - 1;
        for i in eve_knows(&t, last) {
            let Event::Secret(s) = &t.events[i] else {
                panic!("{}: event {i} is not a secret", info.id)
            };
            let owner_is_eve = t.actors[s.owner].role == cipherstage_transcript::Role::Eavesdropper;
            let f = s.formula.key.as_str();
            assert!(
                owner_is_eve
                    || !(s.name.contains("private")
                        || f.contains("x25519")
                        || f.contains("ecdh")
                        || f.contains("dh_")
                        || f.contains("expand")
                        || f.contains("derive")
                        || f.contains("extract")
                        || f.contains("kdf")
                        || f.contains("unwrap")),
                "{}: Eve would know {} ({f})",
                info.id,
                s.name
            );
            known += 1;
        }
    }
    assert!(known > 20, "{known}");
}
