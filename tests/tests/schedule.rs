//! The key schedule graph finds real derivation edges from the transcript.

use cipherstage_app::components::schedule::{graph, owner};
use cipherstage_scenarios as scenarios;
use cipherstage_transcript::Event;

fn names(
    t: &cipherstage_transcript::Transcript,
    nodes: &[cipherstage_app::components::schedule::Node],
) -> Vec<String> {
    nodes
        .iter()
        .map(|n| match &t.events[n.event] {
            Event::Secret(s) => s.name.clone(),
            _ => unreachable!("nodes are secrets"),
        })
        .collect()
}

#[test]
fn hybrid_keys_hang_off_the_prk_which_hangs_off_the_shared_secret() {
    let t = scenarios::run("hybrid", &[], Some(1)).unwrap();
    let last = t.events.len() - 1;
    let nodes = graph(&t, last, 0);
    let n = names(&t, &nodes);
    let at = |name: &str| n.iter().position(|x| x == name).unwrap();
    let prk = at("hybrid.secret.prk");
    assert!(nodes[prk].from.contains(&at("hybrid.secret.shared")));
    assert!(nodes[prk]
        .from
        .contains(&at("hybrid.secret.transcript_hash")));
    assert_eq!(nodes[at("hybrid.secret.a2b_key")].from, vec![prk]);
    assert_eq!(
        nodes[at("hybrid.secret.a2b_key")].depth,
        nodes[prk].depth + 1
    );
    assert!(nodes[at("hybrid.secret.shared")]
        .from
        .contains(&at("hybrid.secret.private_key")));
}

#[test]
fn the_tls_schedule_is_a_deep_chain_from_the_shared_secret() {
    let t = scenarios::run("tls13", &[], Some(1)).unwrap();
    let last = t.events.len() - 1;
    let client = owner(&t, 0).unwrap();
    let nodes = graph(&t, last, client);
    let depth = nodes.iter().map(|n| n.depth).max().unwrap();
    assert!(
        depth >= 4,
        "early → handshake → master → traffic secrets: depth {depth}"
    );
    assert!(nodes.iter().filter(|n| !n.from.is_empty()).count() >= nodes.len() / 2);
}

#[test]
fn the_graph_grows_with_the_step() {
    let t = scenarios::run("ssh-pubkey", &[], Some(1)).unwrap();
    let o = owner(&t, t.events.len() - 1).unwrap();
    let early = graph(&t, t.events.len() / 3, o).len();
    let all = graph(&t, t.events.len() - 1, o).len();
    assert!(early < all);
}
