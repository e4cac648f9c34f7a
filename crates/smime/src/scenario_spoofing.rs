//! The seed's spoofing story (`smime-key-spoofing`): Mallory publishes her own key in
//! the key directory as bob@example.com's. A client that takes any key labelled with
//! the address encrypts to Mallory, and Mallory, watching the path, reads the mail; a
//! client that requires a certificate chaining to a CA it trusts refuses the key, and
//! the mail is never encrypted to the wrong key.

use cipherstage_pki::{Pki, SCENARIO_NOW};
use cipherstage_tls::scenario::{build_pki, seeded};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, FailReason, FieldsBuilder, Formula, FormulaInput, Layer, Link, Protection, Recorder,
    Role, Transcript, Wire,
};

use crate::encrypted::{encrypt_mail, open_mail, Step as EncStep};
use crate::envelope::{Cipher, OpenStep};
use crate::scenario_encrypted::describe;
use crate::{rfc822_names, text_part, verify_email_chain, Letter, FROM, TO};

const ALICE: usize = 0;
const DIRECTORY: usize = 1;
const SERVER: usize = 2;
const BOB: usize = 3;
const MALLORY: usize = 4;
const LOOKUP: Wire = Wire {
    link: 0,
    protocol: "smime",
    layer: Layer::Application,
};
const SUBMIT: Wire = Wire {
    link: 1,
    protocol: "smime",
    layer: Layer::Application,
};
const DELIVER: Wire = Wire {
    link: 2,
    protocol: "smime",
    layer: Layer::Application,
};

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Alice's client requires a certificate that chains to a trusted CA (S/MIME), or
    /// takes any key published for the address.
    pub check_certificate: bool,
    /// The subject.
    pub subject: String,
    /// The body text.
    pub body: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            check_certificate: true,
            subject: "Salary review".into(),
            body: "Hi Bob,\nthe new salary bands are attached to the HR system.\nAlice".into(),
        }
    }
}

/// Runs the story under id `scenario` with `seed` (`None`: live randomness).
pub fn run(scenario: &str, p: &Params, seed: Option<u64>) -> Transcript {
    let mut master = Source::from_seed(seed);
    let mut s = Recorder::new(None, Some(MALLORY));
    match build_pki(&mut master) {
        Ok(pki) => {
            let mut rng = seeded(&mut master);
            story(&mut s, p, &pki, &mut *rng);
        }
        Err(_) => s.narrate("tls.narr.pki_failed", &[]),
    }
    let actor = |role, name: &str| Actor {
        role,
        name: name.to_owned(),
    };
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            actor(Role::Client, "smime.actor.alice"),
            actor(Role::Server, "smime.actor.directory"),
            actor(Role::Server, "smime.actor.server"),
            actor(Role::Client, "smime.actor.bob"),
            actor(Role::Eavesdropper, "smime.actor.mallory_path"),
        ],
        links: vec![
            Link {
                a: ALICE,
                b: DIRECTORY,
                observers: vec![MALLORY],
            },
            Link {
                a: ALICE,
                b: SERVER,
                observers: vec![MALLORY],
            },
            Link {
                a: SERVER,
                b: BOB,
                observers: Vec::new(),
            },
        ],
        events: s.events,
    }
}

fn story(s: &mut Recorder, p: &Params, pki: &Pki, rng: &mut dyn RandomSource) {
    s.narrate("smime.narr.spoof_intro", &[("to", &TO)]);
    let planted = &pki.mallory_as_bob;
    let mut b = FieldsBuilder::new(0);
    cipherstage_pki::der::annotate_certificate(&mut b, &planted.der, Protection::Plaintext);
    let got = s.send(
        LOOKUP,
        DIRECTORY,
        ALICE,
        "smime.msg.directory_answer",
        planted.der.clone(),
        b.finish(),
    );
    if p.check_certificate {
        let chain = [got.bytes.clone()];
        let trusted = verify_email_chain(&chain, std::slice::from_ref(&pki.root.der), SCENARIO_NOW)
            && rfc822_names(&got.bytes).iter().any(|n| n == TO);
        s.check(
            ALICE,
            "smime.check.recipient_cert",
            (!trusted).then_some(FailReason::Untrusted),
        );
        if !trusted {
            s.alert(ALICE, "smime.alert.cannot_encrypt", false);
            s.narrate("smime.narr.spoof_refused", &[("to", &TO)]);
            return;
        }
    } else {
        s.narrate("smime.narr.spoof_no_check", &[("to", &TO)]);
    }
    let letter = Letter {
        from: FROM,
        to: TO,
        subject: &p.subject,
        body: &p.body,
        time: SCENARIO_NOW,
    };
    let entity = text_part(&p.body);
    let recipients: [&[u8]; 2] = [&got.bytes, &pki.alice_mail.der];
    let Ok((mail, sealed)) = encrypt_mail(&letter, &entity, &recipients, Cipher::Aes256Cbc, rng)
    else {
        s.narrate("smime.narr.enc_failed", &[]);
        return;
    };
    s.secret(
        ALICE,
        "smime.secret.cek",
        sealed.cek.to_vec(),
        Formula {
            key: "smime.formula.random_cek".into(),
            inputs: Vec::new(),
        },
    );
    let fields = describe(&mail);
    let sent = s.send(
        SUBMIT,
        ALICE,
        SERVER,
        "smime.msg.encrypted_mail",
        mail,
        fields,
    );
    // Mallory on the path opens the copy meant for "Bob" with her own key.
    let m = open_mail(&sent.bytes, &planted.der, &planted.key.pkcs8);
    if let Some(o) = m.opening.as_ref().filter(|o| o.error.is_none()) {
        s.secret(
            MALLORY,
            "smime.secret.mallory_cek",
            o.cek.clone(),
            Formula {
                key: "smime.formula.key_unwrap".into(),
                inputs: vec![
                    FormulaInput {
                        name: "smime.input.kek".into(),
                        bytes: o.kek.clone(),
                    },
                    FormulaInput {
                        name: "smime.input.wrapped_key".into(),
                        bytes: o.wrapped.clone(),
                    },
                ],
            },
        );
        s.narrate("smime.narr.spoof_mallory_reads", &[("subject", &p.subject)]);
    }
    let mut relayed = format!(
        "Received: from client.example.com by mail.example.com; {}\r\n",
        crate::mime::rfc5322_date(SCENARIO_NOW)
    )
    .into_bytes();
    relayed.extend_from_slice(&sent.bytes);
    let fields = describe(&relayed);
    let delivered = s.send(
        DELIVER,
        SERVER,
        BOB,
        "smime.msg.relayed_encrypted_mail",
        relayed,
        fields,
    );
    let bob = &pki.bob_mail;
    let u = open_mail(&delivered.bytes, &bob.der, &bob.key.pkcs8);
    for (step, fail) in &u.steps {
        s.check(BOB, step.key(), *fail);
    }
    if u.steps.last()
        == Some(&(
            EncStep::Open(OpenStep::Recipient),
            Some(FailReason::Malformed),
        ))
    {
        s.alert(BOB, "smime.alert.cannot_decrypt", false);
        s.narrate("smime.narr.spoof_bob_cannot", &[]);
    }
}
