//! The encrypted stories (`smime-encrypted`, `smime-signed-encrypted`): Alice's client
//! encrypts a mail to Bob and to herself, the mail server relays it, Bob's client
//! decrypts it (and, signed first, then verifies the signature inside). Eve watches the
//! path to the server: she cannot read the body, but the header is in clear.

use cipherstage_pki::{pem, Cert, Key, Pki, SCENARIO_NOW};
use cipherstage_tls::scenario::{build_pki, seeded};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, Field, FieldsBuilder, Formula, FormulaInput, Layer, Link, Protection, Recorder, Role,
    TamperAt, Transcript, Wire,
};

use crate::annotate_env::annotate_enveloped;
use crate::crypto::KdfHash;
use crate::encrypted::{encrypt_mail, open_mail, Step as EncStep};
use crate::envelope::{Cipher, OpenStep, RecipientKeys};
use crate::scenario::{base64_der, header_key, line_value, lines, Files};
use crate::{
    cms, mime, rfc822_names, signed_entity, text_part, verify_as, verify_email_chain, Letter, Step,
    FROM, TO,
};

const ALICE: usize = 0;
const SERVER: usize = 1;
const BOB: usize = 2;
const EVE: usize = 3;
const SUBMIT: Wire = Wire {
    link: 0,
    protocol: "smime",
    layer: Layer::Application,
};
const DELIVER: Wire = Wire {
    link: 1,
    protocol: "smime",
    layer: Layer::Application,
};

/// What Alice's client finds for Bob, and what Bob's client still has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BobCert {
    /// Bob's certificate for e-mail protection, and his key.
    Issued,
    /// No certificate for bob@example.com in Alice's address book.
    Missing,
    /// A certificate for bob@example.com without emailProtection.
    WrongEku,
    /// The right certificate, but Bob lost the private key (a new one cannot open it).
    LostKey,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Bob's certificate and key.
    pub bob: BobCert,
    /// AES-256-CBC (EnvelopedData) or AES-256-GCM (AuthEnvelopedData).
    pub cipher: Cipher,
    /// Sign first, then encrypt the signed entity.
    pub signed: bool,
    /// The subject (stays readable).
    pub subject: String,
    /// The body text.
    pub body: String,
    /// Eve flips one byte of the mail on its way to the server.
    pub tamper: Option<TamperAt>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            bob: BobCert::Issued,
            cipher: Cipher::Aes256Cbc,
            signed: false,
            subject: "Salary review".into(),
            body: "Hi Bob,\nthe new salary bands are attached to the HR system.\nAlice".into(),
            tamper: None,
        }
    }
}

/// The field tree of an encrypted mail (with or without the relay's Received line);
/// covers every byte of any input exactly once.
pub fn describe(mail: &[u8]) -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    let Some((hs, blank)) = mime::headers(mail, 0) else {
        lines(&mut b, mail, 0, mail.len());
        return b.finish();
    };
    let p = Protection::Plaintext;
    b.group("smime.field.headers", "smime.explain.enc_headers", p, |b| {
        for h in &hs {
            let k = header_key(&h.name);
            let (name, explain) = match k {
                "from" | "to" | "subject" | "date" | "received" => (
                    format!("smime.field.header_{k}"),
                    format!("smime.explain.enc_header_{k}"),
                ),
                "content_type" => (
                    "smime.field.header_content_type_pkcs7".to_owned(),
                    "smime.explain.header_content_type_pkcs7".to_owned(),
                ),
                _ => (
                    format!("smime.field.header_{k}"),
                    format!("smime.explain.header_{k}"),
                ),
            };
            let v = line_value(mail.get(h.range.clone()).unwrap_or_default());
            b.leaf(&name, h.range.len(), v, &explain, p);
        }
        b.leaf(
            "smime.field.blank_line",
            2,
            None,
            "smime.explain.blank_line",
            p,
        );
    });
    let names = ("smime.field.cms_enveloped", "smime.explain.cms_enveloped");
    base64_der(
        &mut b,
        mail,
        blank + 2..mail.len(),
        names,
        Protection::Encrypted,
        annotate_enveloped,
    );
    b.finish()
}

/// Runs the story under id `scenario` with `seed` (`None`: live randomness).
pub fn run(scenario: &str, p: &Params, seed: Option<u64>) -> Transcript {
    run_with_files(scenario, p, seed).0
}

/// [`run`], and the files it offers (none when the PKI could not be built).
pub fn run_with_files(
    scenario: &str,
    p: &Params,
    seed: Option<u64>,
) -> (Transcript, Option<Files>) {
    let mut master = Source::from_seed(seed);
    let mut s = Recorder::new(p.tamper, Some(EVE));
    s.watch(SUBMIT.link);
    let mut files = None;
    match build_pki(&mut master) {
        Ok(pki) => {
            let mut rng = seeded(&mut master);
            if let Some(eml) = story(&mut s, p, &pki, &mut *rng) {
                files = Some(Files {
                    eml,
                    root_pem: pem::encode("CERTIFICATE", &pki.root.der),
                    intermediate_pem: pem::encode("CERTIFICATE", &pki.intermediate.der),
                });
            }
        }
        Err(_) => s.narrate("tls.narr.pki_failed", &[]),
    }
    let actor = |role, name: &str| Actor {
        role,
        name: name.to_owned(),
    };
    let t = Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            actor(Role::Client, "smime.actor.alice"),
            actor(Role::Server, "smime.actor.server"),
            actor(Role::Client, "smime.actor.bob"),
            actor(Role::Eavesdropper, "smime.actor.eve"),
        ],
        links: vec![
            Link {
                a: ALICE,
                b: SERVER,
                observers: vec![EVE],
            },
            Link {
                a: SERVER,
                b: BOB,
                observers: Vec::new(),
            },
        ],
        events: s.events,
    };
    (t, files)
}

fn input(name: &str, bytes: &[u8]) -> FormulaInput {
    FormulaInput {
        name: name.to_owned(),
        bytes: bytes.to_vec(),
    }
}

fn formula(key: &str, inputs: Vec<FormulaInput>) -> Formula {
    Formula {
        key: key.to_owned(),
        inputs,
    }
}

fn kdf_formula(kdf: KdfHash) -> &'static str {
    match kdf {
        KdfHash::Sha256 => "smime.formula.x963_kdf_sha256",
        KdfHash::Sha1 => "smime.formula.x963_kdf_sha1",
    }
}

/// Alice's secrets for one recipient (`who`: `bob` or `alice`).
fn recipient_secrets(s: &mut Recorder, who: &str, r: &RecipientKeys) {
    s.secret(
        ALICE,
        &format!("smime.secret.ephemeral_{who}"),
        r.ephemeral_private.to_vec(),
        formula("smime.formula.random_scalar", Vec::new()),
    );
    s.secret(
        ALICE,
        &format!("smime.secret.z_{who}"),
        r.z.clone(),
        formula(
            "smime.formula.ecdh",
            vec![
                input("smime.input.ephemeral_private", &r.ephemeral_private),
                input("smime.input.recipient_public", &r.recipient_point),
            ],
        ),
    );
    s.secret(
        ALICE,
        &format!("smime.secret.kek_{who}"),
        r.kek.to_vec(),
        formula(
            kdf_formula(KdfHash::Sha256),
            vec![
                input("smime.input.z", &r.z),
                input("smime.input.counter", &1u32.to_be_bytes()),
                input("smime.input.shared_info", &r.shared_info),
            ],
        ),
    );
}

/// Alice's client checks a recipient's certificate before encrypting to its key.
fn recipient_ok(pki: &Pki, cert: &Cert, address: &str) -> bool {
    let chain = [cert.der.clone(), pki.intermediate.der.clone()];
    verify_email_chain(&chain, std::slice::from_ref(&pki.root.der), SCENARIO_NOW)
        && rfc822_names(&cert.der).iter().any(|n| n == address)
}

fn cipher_name(c: Cipher) -> &'static str {
    match c {
        Cipher::Aes256Cbc => "AES-256-CBC",
        Cipher::Aes256Gcm => "AES-256-GCM",
    }
}

/// The story; returns the mail as Bob received it.
fn story(s: &mut Recorder, p: &Params, pki: &Pki, rng: &mut dyn RandomSource) -> Option<Vec<u8>> {
    let letter = Letter {
        from: FROM,
        to: TO,
        subject: &p.subject,
        body: &p.body,
        time: SCENARIO_NOW,
    };
    s.narrate(
        "smime.narr.enc_intro",
        &[("from", &FROM), ("to", &TO), ("subject", &p.subject)],
    );
    let entity = if p.signed {
        let Ok(e) = signed_entity(
            &letter,
            &pki.alice_mail.der,
            &[&pki.intermediate.der],
            &pki.alice_mail.key,
            rng,
        ) else {
            s.narrate("smime.narr.sign_failed", &[]);
            return None;
        };
        let digest = cms::sha256(&text_part(&p.body));
        let short = crate::annotate::hex(digest.get(..8).unwrap_or_default());
        s.narrate("smime.narr.signed", &[("digest", &short)]);
        s.narrate("smime.narr.enc_signed_inside", &[]);
        e
    } else {
        text_part(&p.body)
    };
    let found = match p.bob {
        BobCert::Missing => None,
        BobCert::WrongEku => Some(&pki.bob_mail_wrong_eku),
        BobCert::Issued | BobCert::LostKey => Some(&pki.bob_mail),
    };
    let bob_ok = found.is_some_and(|c| recipient_ok(pki, c, TO));
    s.check(
        ALICE,
        "smime.check.recipient_cert",
        (!bob_ok).then_some(cipherstage_transcript::FailReason::Untrusted),
    );
    if !bob_ok {
        s.alert(ALICE, "smime.alert.cannot_encrypt", false);
        let key = if found.is_some() {
            "smime.narr.wrong_eku"
        } else {
            "smime.narr.no_certificate"
        };
        s.narrate(key, &[("to", &TO)]);
        return None;
    }
    s.narrate("smime.narr.enc_recipients", &[("to", &TO), ("from", &FROM)]);
    let recipients: [&[u8]; 2] = [&pki.bob_mail.der, &pki.alice_mail.der];
    let Ok((mail, sealed)) = encrypt_mail(&letter, &entity, &recipients, p.cipher, rng) else {
        s.narrate("smime.narr.enc_failed", &[]);
        return None;
    };
    s.secret(
        ALICE,
        "smime.secret.cek",
        sealed.cek.to_vec(),
        formula("smime.formula.random_cek", Vec::new()),
    );
    let (iv_name, iv_formula, content_narr) = match p.cipher {
        Cipher::Aes256Cbc => (
            "smime.secret.iv",
            "smime.formula.random_iv",
            "smime.narr.enc_content_cbc",
        ),
        Cipher::Aes256Gcm => (
            "smime.secret.gcm_nonce",
            "smime.formula.random_nonce",
            "smime.narr.enc_content_gcm",
        ),
    };
    s.secret(
        ALICE,
        iv_name,
        sealed.iv.clone(),
        formula(iv_formula, Vec::new()),
    );
    s.narrate(
        content_narr,
        &[("bytes", &entity.len()), ("cipher", &cipher_name(p.cipher))],
    );
    for (who, addr, r) in [("bob", TO, 0usize), ("alice", FROM, 1)] {
        if let Some(keys) = sealed.recipients.get(r) {
            s.narrate("smime.narr.enc_kari", &[("who", &addr)]);
            recipient_secrets(s, who, keys);
        }
    }
    s.narrate(
        "smime.narr.enc_headers_visible",
        &[
            ("from", &FROM),
            ("to", &TO),
            ("subject", &p.subject),
            ("date", &mime::rfc5322_date(SCENARIO_NOW)),
        ],
    );
    let fields = describe(&mail);
    let d = s.send(
        SUBMIT,
        ALICE,
        SERVER,
        "smime.msg.encrypted_mail",
        mail,
        fields,
    );
    if let Some(t) = d.tampered {
        s.narrate("smime.narr.eve_flipped", &[("offset", &t.offset)]);
    }
    let mut relayed = format!(
        "Received: from client.example.com by mail.example.com; {}\r\n",
        mime::rfc5322_date(SCENARIO_NOW)
    )
    .into_bytes();
    relayed.extend_from_slice(&d.bytes);
    s.narrate("smime.narr.enc_relay", &[]);
    let fields = describe(&relayed);
    let got = s.send(
        DELIVER,
        SERVER,
        BOB,
        "smime.msg.relayed_encrypted_mail",
        relayed,
        fields,
    );
    let bob = &pki.bob_mail;
    let lost = if p.bob == BobCert::LostKey {
        // The key on his new laptop: a fresh P-256 key, not the one in the certificate.
        let Ok(k) = Key::generate_ecdsa_p256(rng) else {
            s.narrate("smime.narr.enc_failed", &[]);
            return None;
        };
        s.narrate("smime.narr.lost_key", &[]);
        Some(k)
    } else {
        None
    };
    let key = lost.as_ref().unwrap_or(&bob.key);
    let u = open_mail(&got.bytes, &bob.der, &key.pkcs8);
    s.narrate("smime.narr.enc_bob_opens", &[]);
    for (step, fail) in &u.steps {
        s.check(BOB, step.key(), *fail);
        if fail.is_some() {
            break;
        }
        let Some(o) = u.opening.as_ref() else {
            continue;
        };
        match step {
            EncStep::Open(OpenStep::OriginatorKey) => {
                s.secret(
                    BOB,
                    "smime.secret.bob_z",
                    o.z.clone(),
                    formula(
                        "smime.formula.ecdh_static",
                        vec![
                            input("smime.input.bob_private", &o.private),
                            input("smime.input.originator_public", &o.originator),
                        ],
                    ),
                );
                s.secret(
                    BOB,
                    "smime.secret.bob_kek",
                    o.kek.clone(),
                    formula(
                        kdf_formula(o.kdf.unwrap_or(KdfHash::Sha256)),
                        vec![
                            input("smime.input.z", &o.z),
                            input("smime.input.counter", &1u32.to_be_bytes()),
                            input("smime.input.shared_info", &o.shared_info),
                        ],
                    ),
                );
            }
            EncStep::Open(OpenStep::KeyUnwrap) => {
                s.secret(
                    BOB,
                    "smime.secret.bob_cek",
                    o.cek.clone(),
                    formula(
                        "smime.formula.key_unwrap",
                        vec![
                            input("smime.input.kek", &o.kek),
                            input("smime.input.wrapped_key", &o.wrapped),
                        ],
                    ),
                );
            }
            _ => {}
        }
    }
    if !u.ok() {
        s.alert(BOB, "smime.alert.cannot_decrypt", false);
        let key = match u.steps.last().map(|(st, _)| *st) {
            Some(EncStep::Mime) | None => "smime.narr.fail_enc_mime",
            Some(EncStep::Open(OpenStep::Cms)) => "smime.narr.fail_env_cms",
            Some(EncStep::Open(OpenStep::Recipient)) => "smime.narr.fail_recipient",
            Some(EncStep::Open(OpenStep::OriginatorKey)) => "smime.narr.fail_originator_key",
            Some(EncStep::Open(OpenStep::KeyUnwrap)) if lost.is_some() => {
                "smime.narr.fail_lost_key"
            }
            Some(EncStep::Open(OpenStep::KeyUnwrap)) => "smime.narr.fail_key_unwrap",
            Some(EncStep::Open(OpenStep::Padding)) => "smime.narr.fail_padding",
            Some(EncStep::Open(OpenStep::Tag)) => "smime.narr.fail_gcm_tag",
            Some(EncStep::Inner) => "smime.narr.fail_inner_mime",
        };
        s.narrate(key, &[]);
        return Some(got.bytes);
    }
    let changed = u.content() != entity.as_slice();
    if !p.signed || u.inner_type != "multipart/signed" {
        s.narrate("smime.narr.enc_read", &[("cipher", &cipher_name(p.cipher))]);
        if d.tampered.is_some() {
            s.narrate(
                if changed {
                    "smime.narr.enc_content.tamper_unnoticed"
                } else {
                    "smime.narr.enc_outside.tamper_unnoticed"
                },
                &[],
            );
        }
        return Some(got.bytes);
    }
    s.narrate("smime.narr.enc_then_verify", &[]);
    let v = verify_as(
        u.content(),
        Some(&u.from),
        std::slice::from_ref(&pki.root.der),
        SCENARIO_NOW,
    );
    for (step, fail) in &v.steps {
        s.check(BOB, step.key(), *fail);
    }
    if v.ok() {
        s.narrate("smime.narr.enc_verified", &[("from", &v.from)]);
        if d.tampered.is_some() {
            s.narrate(
                if changed {
                    "smime.narr.enc_signed_outside.tamper_unnoticed"
                } else {
                    "smime.narr.enc_outside.tamper_unnoticed"
                },
                &[],
            );
        }
    } else {
        s.alert(BOB, "smime.alert.not_trusted", false);
        let key = match v.steps.last().map(|(st, _)| *st) {
            Some(Step::Mime) | None => "smime.narr.fail_mime",
            Some(Step::Cms) => "smime.narr.fail_cms",
            Some(Step::Digest) => "smime.narr.fail_digest",
            Some(Step::Signature) => "smime.narr.fail_signature",
            Some(Step::Chain) => "smime.narr.fail_chain",
            Some(Step::Sender) => "smime.narr.fail_sender",
        };
        s.narrate(key, &[("from", &FROM)]);
    }
    Some(got.bytes)
}
