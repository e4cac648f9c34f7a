//! The story: Alice's client signs a mail, the mail server relays it, Bob's client
//! verifies it; Eve sits on the path between Alice and the server.

use cipherstage_pki::{pem, Pki, SCENARIO_NOW};
use cipherstage_tls::scenario::{build_pki, seeded};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, Field, FieldsBuilder, Layer, Link, Protection, Recorder, Role, TamperAt, Transcript,
    Value, Wire,
};

use crate::annotate::{annotate_cms, remap};
use crate::{cms, mime, sign_as, verify, Letter, Step, FROM, TO};

const SENDER: usize = 0;
const SERVER: usize = 1;
const BOB: usize = 2;
const EVE: usize = 3;
/// Alice's client → the mail server (submission), watched by Eve.
const SUBMIT: Wire = Wire {
    link: 0,
    protocol: "smime",
    layer: Layer::Application,
};
/// The mail server → Bob's client (delivery).
const DELIVER: Wire = Wire {
    link: 1,
    protocol: "smime",
    layer: Layer::Application,
};

/// Who signs the mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// Alice, with the certificate the company's CA issued her.
    Alice,
    /// Mallory, with a certificate for alice@example.com from her own CA.
    Mallory,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Who signs.
    pub signer: Signer,
    /// The subject.
    pub subject: String,
    /// The body text.
    pub body: String,
    /// Eve flips one byte of the mail on its way to the server.
    pub tamper: Option<TamperAt>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            signer: Signer::Alice,
            subject: "Lunch on Friday".into(),
            body: "Hi Bob,\nshall we have lunch on Friday at noon?\nAlice".into(),
            tamper: None,
        }
    }
}

/// The files a run offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// The mail as Bob's client received it (.eml).
    pub eml: Vec<u8>,
    /// The trusted root, PEM.
    pub root_pem: String,
    /// The intermediate CA, PEM.
    pub intermediate_pem: String,
}

pub(crate) fn header_key(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "from" => "from",
        "to" => "to",
        "subject" => "subject",
        "date" => "date",
        "mime-version" => "mime_version",
        "content-type" => "content_type",
        "received" => "received",
        "content-transfer-encoding" => "content_transfer_encoding",
        "content-disposition" => "content_disposition",
        _ => "other",
    }
}

pub(crate) fn line_value(bytes: &[u8]) -> Option<Value> {
    let s = String::from_utf8_lossy(bytes);
    Some(Value::Text(s.trim_end_matches(['\r', '\n']).to_owned()))
}

/// One leaf per line of `range` (what does not parse as a mail).
pub(crate) fn lines(b: &mut FieldsBuilder, mail: &[u8], start: usize, end: usize) {
    let mut at = start;
    while at < end {
        let rest = mail.get(at..end).unwrap_or_default();
        let n = rest
            .iter()
            .position(|c| *c == b'\n')
            .map_or(rest.len(), |p| p + 1);
        let v = line_value(rest.get(..n).unwrap_or_default());
        b.leaf(
            "smime.field.line",
            n,
            v,
            "smime.explain.line",
            Protection::Plaintext,
        );
        at += n;
    }
}

/// A part: its header lines, the empty line, then `body` lays out the rest.
fn part(
    b: &mut FieldsBuilder,
    mail: &[u8],
    range: core::ops::Range<usize>,
    explain_header: &str,
    p: Protection,
    body: impl FnOnce(&mut FieldsBuilder, usize, usize),
) {
    let parsed = mime::headers(mail, range.start).filter(|(_, blank)| blank + 2 <= range.end);
    let Some((hs, blank)) = parsed else {
        lines(b, mail, range.start, range.end);
        return;
    };
    for h in &hs {
        let v = line_value(mail.get(h.range.clone()).unwrap_or_default());
        b.leaf(
            "smime.field.part_header",
            h.range.len(),
            v,
            explain_header,
            p,
        );
    }
    b.leaf(
        "smime.field.blank_line",
        2,
        None,
        "smime.explain.part_blank_line",
        p,
    );
    body(b, blank + 2, range.end);
}

/// The signature part's base64 text, with the CMS it decodes to laid over it: each
/// DER field owns the base64 characters that start inside its bytes.
fn base64_cms(b: &mut FieldsBuilder, mail: &[u8], start: usize, end: usize) {
    let names = ("smime.field.cms", "smime.explain.cms");
    base64_der(
        b,
        mail,
        start..end,
        names,
        Protection::Signature,
        annotate_cms,
    );
}

/// Base64 text in `range` of `mail` as one field named `names`, with the fields
/// `annotate` lays over the DER it decodes to (each owns the characters that start
/// inside its bytes); lines when it does not decode.
pub(crate) fn base64_der(
    b: &mut FieldsBuilder,
    mail: &[u8],
    range: core::ops::Range<usize>,
    names: (&str, &str),
    p: Protection,
    annotate: fn(&mut FieldsBuilder, &[u8]),
) {
    let (start, end) = (range.start, range.end);
    let text = mail.get(start..end).unwrap_or_default();
    let Some(der) = mime::b64_decode(text).filter(|d| !d.is_empty()) else {
        lines(b, mail, start, end);
        return;
    };
    let pos: Vec<usize> = text
        .iter()
        .enumerate()
        .filter(|(_, c)| **c != b'\r' && **c != b'\n')
        .map(|(i, _)| start + i)
        .collect();
    let n = der.len();
    let map = |d: usize| {
        if d == 0 {
            start
        } else if d >= n {
            end
        } else {
            pos.get((4 * d).div_ceil(3)).copied().unwrap_or(end)
        }
    };
    let mut inner = FieldsBuilder::new(0);
    annotate(&mut inner, &der);
    let mut fields = inner.finish();
    remap(&mut fields, &map);
    b.leaf(
        names.0,
        end - start,
        Some(Value::Text(format!("{n} B DER"))),
        names.1,
        p,
    );
    if let Some(f) = b.last_mut() {
        f.children = fields;
    }
}

/// The field tree of a mail (with or without the relay's Received line); covers
/// every byte of any input exactly once.
pub fn describe(mail: &[u8]) -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    let Some(l) = mime::split(mail) else {
        lines(&mut b, mail, 0, mail.len());
        return b.finish();
    };
    let p = Protection::Plaintext;
    b.group("smime.field.headers", "smime.explain.headers", p, |b| {
        for h in &l.headers {
            let k = header_key(&h.name);
            let v = line_value(mail.get(h.range.clone()).unwrap_or_default());
            b.leaf(
                &format!("smime.field.header_{k}"),
                h.range.len(),
                v,
                &format!("smime.explain.header_{k}"),
                p,
            );
        }
        b.leaf(
            "smime.field.blank_line",
            2,
            None,
            "smime.explain.blank_line",
            p,
        );
    });
    if !l.preamble.is_empty() {
        let v = line_value(mail.get(l.preamble.clone()).unwrap_or_default());
        b.leaf(
            "smime.field.preamble",
            l.preamble.len(),
            v,
            "smime.explain.preamble",
            p,
        );
    }
    let v = line_value(mail.get(l.open.clone()).unwrap_or_default());
    b.leaf(
        "smime.field.boundary",
        l.open.len(),
        v,
        "smime.explain.boundary",
        p,
    );
    let ip = Protection::IntegrityOnly;
    b.group(
        "smime.field.signed_part",
        "smime.explain.signed_part",
        ip,
        |b| {
            part(
                b,
                mail,
                l.signed.clone(),
                "smime.explain.text_part_header",
                ip,
                |b, s, e| {
                    if e > s {
                        let v = Some(Value::Text(
                            String::from_utf8_lossy(mail.get(s..e).unwrap_or_default())
                                .into_owned(),
                        ));
                        b.leaf(
                            "smime.field.text_body",
                            e - s,
                            v,
                            "smime.explain.text_body",
                            ip,
                        );
                    }
                },
            );
        },
    );
    let v = line_value(mail.get(l.middle.clone()).unwrap_or_default());
    b.leaf(
        "smime.field.boundary",
        l.middle.len(),
        v,
        "smime.explain.boundary_middle",
        p,
    );
    b.group(
        "smime.field.signature_part",
        "smime.explain.signature_part",
        p,
        |b| {
            part(
                b,
                mail,
                l.signature.clone(),
                "smime.explain.signature_part_header",
                p,
                |b, s, e| {
                    base64_cms(b, mail, s, e);
                },
            );
        },
    );
    let v = line_value(mail.get(l.close.clone()).unwrap_or_default());
    b.leaf(
        "smime.field.close_boundary",
        l.close.len(),
        v,
        "smime.explain.close_boundary",
        p,
    );
    b.finish()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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
            match p.signer {
                Signer::Alice => actor(Role::Client, "smime.actor.alice"),
                Signer::Mallory => actor(Role::Client, "smime.actor.mallory"),
            },
            actor(Role::Server, "smime.actor.server"),
            actor(Role::Client, "smime.actor.bob"),
            actor(Role::Eavesdropper, "smime.actor.eve"),
        ],
        links: vec![
            Link {
                a: SENDER,
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
        "smime.narr.intro",
        &[("from", &FROM), ("to", &TO), ("subject", &p.subject)],
    );
    let (cert, issuer) = match p.signer {
        Signer::Alice => {
            s.narrate("smime.narr.alice_cert", &[("from", &FROM)]);
            (&pki.alice_mail, &pki.intermediate.der)
        }
        Signer::Mallory => {
            s.narrate("smime.narr.mallory_cert", &[("from", &FROM)]);
            (&pki.mallory_mail, &pki.rogue_root.der)
        }
    };
    let Ok(mail) = sign_as(&letter, cert, issuer, rng) else {
        s.narrate("smime.narr.sign_failed", &[]);
        return None;
    };
    let digest = cms::sha256(&crate::text_part(&p.body));
    let short = hex(digest.get(..8).unwrap_or_default());
    s.narrate("smime.narr.signed", &[("digest", &short)]);
    let fields = describe(&mail);
    let d = s.send(
        SUBMIT,
        SENDER,
        SERVER,
        "smime.msg.signed_mail",
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
    s.narrate("smime.narr.relay", &[]);
    let fields = describe(&relayed);
    let got = s.send(
        DELIVER,
        SERVER,
        BOB,
        "smime.msg.relayed_mail",
        relayed,
        fields,
    );
    let v = verify(
        &got.bytes,
        std::slice::from_ref(&pki.root.der),
        SCENARIO_NOW,
    );
    for (step, fail) in &v.steps {
        s.check(BOB, step.key(), *fail);
    }
    if v.ok() {
        s.narrate("smime.narr.verified", &[("from", &v.from)]);
        if d.tampered.is_some() {
            s.narrate("smime.narr.tamper_unnoticed", &[]);
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
