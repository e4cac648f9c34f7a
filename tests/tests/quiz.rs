//! Quiz questions are computed from the run, and the run proves them: for every
//! scenario (its default run, and runs with a byte flipped in flight), every
//! question's right option is what a separate run of the same scenario sends at
//! that step, and no wrong option is what it sends.

use cipherstage_app::i18n::{has, keys_with_prefix, Lang};
use cipherstage_scenarios as scenarios;
use cipherstage_scenarios::ParamKind;
use cipherstage_transcript::quiz::{question, sent_key, QuizKind};
use cipherstage_transcript::Transcript;

fn runs(id: &str, params: &[(String, String)]) -> Option<(Transcript, Transcript)> {
    let a = scenarios::run(id, params, Some(3)).ok()?;
    let b = scenarios::run(id, params, Some(3)).ok()?;
    Some((a, b))
}

#[test]
fn every_question_is_answered_by_a_run_of_its_own_and_no_wrong_option_is_right() {
    let keys = |prefix: &str| keys_with_prefix(Lang::En, prefix);
    let (mut messages, mut alerts, mut runs_seen) = (0, 0, 0);
    for info in scenarios::all() {
        let mut cases: Vec<Vec<(String, String)>> = vec![Vec::new()];
        if info
            .params
            .iter()
            .any(|p| p.name == "flip" && matches!(p.kind, ParamKind::Tamper))
        {
            for m in 1..5 {
                cases.push(vec![("flip".to_owned(), format!("{m}:5"))]);
            }
        }
        for params in cases {
            let Some((t, proof)) = runs(info.id, &params) else {
                continue;
            };
            runs_seen += 1;
            for step in 0..t.events.len() {
                let Some(q) = question(&t, step, &keys) else {
                    continue;
                };
                let at = format!("{} {params:?} step {step}", info.id);
                assert!((3..=4).contains(&q.options.len()), "{at}: {:?}", q.options);
                let mut distinct = q.options.clone();
                distinct.sort();
                distinct.dedup();
                assert_eq!(distinct.len(), q.options.len(), "{at}: options repeat");
                for o in &q.options {
                    assert!(
                        has(Lang::En, o) && has(Lang::Ja, o),
                        "{at}: {o} has no text"
                    );
                }
                // The separate run decides what is sent after this step.
                let truth =
                    sent_key(&proof, q.about).unwrap_or_else(|| panic!("{at}: nothing sent"));
                assert_eq!(q.options[q.right], truth, "{at}");
                for (i, o) in q.options.iter().enumerate() {
                    if i != q.right {
                        assert_ne!(o, truth, "{at}: a wrong option is right");
                    }
                }
                match q.kind {
                    QuizKind::NextMessage => messages += 1,
                    QuizKind::NextAlert => alerts += 1,
                }
            }
        }
    }
    eprintln!("{runs_seen} runs: {messages} next-message questions, {alerts} next-alert questions");
    assert!(messages > 500, "{messages}");
    assert!(alerts > 20, "{alerts}");
}
