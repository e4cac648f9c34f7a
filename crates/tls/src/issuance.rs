//! Where a server certificate comes from, told as messages between a root CA, an
//! intermediate CA, the server and a browser: the root in the browser's trust
//! store, the intermediate's certificate, the server's key and CSR, the certificate
//! the intermediate issues over the CSR's key, and the chain the browser checks
//! link by link. Every certificate and the CSR are real DER made in the run.

use cipherstage_pki::der::{annotate_certificate, annotate_csr, validity};
use cipherstage_pki::issue::{
    certificate_spki, issue_for, make_csr, read_csr, self_signed, spki_key, verify_signed_by,
};
use cipherstage_pki::{verify_chain, verify_name, Key, KeyKind, Pki, Usage, SCENARIO_NOW};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    Actor, FailReason, FieldsBuilder, Formula, Layer, Link, Protection, Recorder, Role, Transcript,
    Wire,
};

const BROWSER: usize = 0;
const SERVER: usize = 1;
const INTERMEDIATE: usize = 2;
const ROOT: usize = 3;
/// Root CA → intermediate CA (the root signs the intermediate).
const L_CAS: usize = 0;
/// Server ↔ intermediate CA (CSR and certificate).
const L_ORDER: usize = 1;
/// Server ↔ browser (the chain, as TLS carries it).
const L_WEB: usize = 2;
/// Root CA → browser (the trust store, shipped with the browser or the OS).
const L_STORE: usize = 3;

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueParams {
    /// The name the server asks a certificate for.
    pub host: String,
    /// The name the browser visits.
    pub visit: String,
    /// The server's key.
    pub key: KeyKind,
    /// Whether the server skips the CA and signs its own certificate.
    pub self_signed: bool,
}

impl Default for IssueParams {
    fn default() -> Self {
        IssueParams {
            host: "www.example.com".into(),
            visit: "www.example.com".into(),
            key: KeyKind::Ed25519,
            self_signed: false,
        }
    }
}

/// Sends certificates (or a CSR) as one message, annotated down to DER primitives.
fn send(
    s: &mut Recorder,
    from: usize,
    to: usize,
    link: usize,
    label: &str,
    ders: &[&[u8]],
    csr: bool,
) {
    let mut b = FieldsBuilder::new(0);
    let mut bytes = Vec::new();
    for der in ders {
        if csr {
            annotate_csr(&mut b, der, Protection::Plaintext);
        } else {
            annotate_certificate(&mut b, der, Protection::Plaintext);
        }
        bytes.extend_from_slice(der);
    }
    let wire = Wire {
        link,
        protocol: "x509",
        layer: Layer::Transport,
    };
    s.send(wire, from, to, label, bytes, b.finish());
}

fn fail(r: &Result<(), cipherstage_pki::VerifyError>, reason: FailReason) -> Option<FailReason> {
    r.as_ref().err().map(|_| reason)
}

/// Runs the story under id `scenario` with `seed` (`None`: live randomness).
pub fn run_issuance(scenario: &str, p: &IssueParams, seed: Option<u64>) -> Transcript {
    let mut master = Source::from_seed(seed);
    let mut s = Recorder::default();
    match crate::scenario::build_pki(&mut master) {
        Ok(pki) => {
            let mut rng = crate::scenario::seeded(&mut master);
            story(&mut s, p, &pki, &mut *rng);
        }
        Err(_) => s.narrate("tls.narr.pki_failed", &[]),
    }
    let actor = |role, name: &str| Actor {
        role,
        name: name.to_owned(),
    };
    let link = |a, b| Link {
        a,
        b,
        observers: Vec::new(),
    };
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            actor(Role::Client, "tls.actor.browser"),
            actor(Role::Server, "tls.actor.server"),
            actor(Role::Ca, "pki.actor.intermediate_ca"),
            actor(Role::Ca, "pki.actor.root_ca"),
        ],
        links: vec![
            link(ROOT, INTERMEDIATE),
            link(SERVER, INTERMEDIATE),
            link(BROWSER, SERVER),
            link(ROOT, BROWSER),
        ],
        events: s.events,
    }
}

fn story(s: &mut Recorder, p: &IssueParams, pki: &Pki, rng: &mut dyn RandomSource) {
    let host = &p.host;
    s.narrate("pki.narr.intro", &[("host", host)]);
    // 1. The root: self-signed, trusted because the browser ships it.
    send(
        s,
        ROOT,
        BROWSER,
        L_STORE,
        "pki.msg.root_in_store",
        &[&pki.root.der],
        false,
    );
    let r = verify_signed_by(&pki.root.der, &pki.root.der);
    s.check(
        BROWSER,
        "pki.check.root_self_signed",
        fail(&r, FailReason::BadSignature),
    );
    s.narrate("pki.narr.root", &[]);
    // 2. The root signs the intermediate (the root key stays offline afterwards).
    send(
        s,
        ROOT,
        INTERMEDIATE,
        L_CAS,
        "pki.msg.intermediate_certificate",
        &[&pki.intermediate.der],
        false,
    );
    s.narrate("pki.narr.intermediate", &[]);
    // 3. The server makes a key pair; the private key never leaves it.
    let key = match p.key {
        KeyKind::Ed25519 => Key::generate(rng),
        KeyKind::EcdsaP256 => Key::generate_ecdsa_p256(rng),
        // ring cannot generate RSA keys.
        KeyKind::Rsa => Err(cipherstage_pki::PkiError::Key),
    };
    let Ok(key) = key else {
        s.narrate("tls.narr.pki_failed", &[]);
        return;
    };
    let public = key.public_key().unwrap_or_default();
    let formula = Formula {
        key: match key.kind {
            KeyKind::Ed25519 => "pki.formula.generate_ed25519".into(),
            KeyKind::EcdsaP256 | KeyKind::Rsa => "pki.formula.generate_p256".into(),
        },
        inputs: Vec::new(),
    };
    s.secret(
        SERVER,
        "pki.secret.server_private_key",
        key.pkcs8_v1(),
        formula,
    );
    if p.self_signed {
        self_signed_story(s, p, pki, &key, rng);
        return;
    }
    // 4. The CSR: name and public key, signed with the private key.
    let Ok(csr_der) = make_csr(&key, host, rng) else {
        s.narrate("tls.narr.pki_failed", &[]);
        return;
    };
    send(
        s,
        SERVER,
        INTERMEDIATE,
        L_ORDER,
        "pki.msg.csr",
        &[&csr_der],
        true,
    );
    let csr = match read_csr(&csr_der) {
        Ok(c) => c,
        Err(_) => {
            s.check(
                INTERMEDIATE,
                "pki.check.csr_signature",
                Some(FailReason::Malformed),
            );
            s.alert(INTERMEDIATE, "pki.alert.csr_rejected", true);
            return;
        }
    };
    let pop = fail(&csr.proof_of_possession, FailReason::BadSignature);
    if !s.check(INTERMEDIATE, "pki.check.csr_signature", pop) {
        s.alert(INTERMEDIATE, "pki.alert.csr_rejected", true);
        return;
    }
    s.narrate("pki.narr.domain_validation", &[("host", host)]);
    // 5. The intermediate issues the certificate over the CSR's key.
    let Ok(cert) = issue_for(&csr, host, &pki.intermediate) else {
        s.narrate("tls.narr.pki_failed", &[]);
        return;
    };
    send(
        s,
        INTERMEDIATE,
        SERVER,
        L_ORDER,
        "pki.msg.issued_certificate",
        &[&cert],
        false,
    );
    let mine = certificate_spki(&cert)
        .and_then(spki_key)
        .is_some_and(|(kind, k)| kind == key.kind && k == public);
    s.check(
        SERVER,
        "pki.check.key_matches",
        (!mine).then_some(FailReason::Malformed),
    );
    // 6. The server sends the chain (in TLS: the Certificate message); the browser
    //    checks every link, the validity period and the name.
    send(
        s,
        SERVER,
        BROWSER,
        L_WEB,
        "pki.msg.chain",
        &[&cert, &pki.intermediate.der],
        false,
    );
    s.narrate("pki.narr.chain", &[("visit", &p.visit)]);
    let leaf = verify_signed_by(&cert, &pki.intermediate.der);
    s.check(
        BROWSER,
        "pki.check.leaf_signature",
        fail(&leaf, FailReason::BadSignature),
    );
    let inter = verify_signed_by(&pki.intermediate.der, &pki.root.der);
    s.check(
        BROWSER,
        "pki.check.intermediate_signature",
        fail(&inter, FailReason::BadSignature),
    );
    let now = i64::try_from(SCENARIO_NOW).unwrap_or(i64::MAX);
    let in_time = validity(&cert).is_some_and(|(from, until)| from <= now && now <= until);
    s.check(
        BROWSER,
        "pki.check.validity",
        (!in_time).then_some(FailReason::Untrusted),
    );
    let name = verify_name(&cert, &p.visit);
    let name_ok = s.check(
        BROWSER,
        "pki.check.name",
        fail(&name, FailReason::Untrusted),
    );
    // rustls-webpki builds and checks the same path independently.
    let chain = [cert.clone(), pki.intermediate.der.clone()];
    let roots = [pki.root.der.clone()];
    let all = verify_chain(&chain, &roots, SCENARIO_NOW, Usage::Server, Some(&p.visit));
    s.check(
        BROWSER,
        "pki.check.webpki",
        fail(&all, FailReason::Untrusted),
    );
    if name_ok && all.is_ok() {
        s.narrate("pki.narr.trusted", &[("visit", &p.visit)]);
    } else {
        s.alert(BROWSER, "tls.alert.bad_certificate", true);
        s.narrate(
            "pki.narr.name_mismatch",
            &[("visit", &p.visit), ("host", host)],
        );
    }
}

/// The server signs its own certificate: the signature is genuine, but no root in
/// the browser's store vouches for the key, and the browser shows its warning.
fn self_signed_story(
    s: &mut Recorder,
    p: &IssueParams,
    pki: &Pki,
    key: &Key,
    rng: &mut dyn RandomSource,
) {
    let Ok(cert) = self_signed(key, &p.host, rng) else {
        s.narrate("tls.narr.pki_failed", &[]);
        return;
    };
    s.narrate("pki.narr.self_signed", &[("host", &p.host)]);
    send(
        s,
        SERVER,
        BROWSER,
        L_WEB,
        "pki.msg.self_signed_certificate",
        &[&cert],
        false,
    );
    let own = verify_signed_by(&cert, &cert);
    s.check(
        BROWSER,
        "pki.check.self_signature",
        fail(&own, FailReason::BadSignature),
    );
    let roots = [pki.root.der.clone()];
    let all = verify_chain(
        std::slice::from_ref(&cert),
        &roots,
        SCENARIO_NOW,
        Usage::Server,
        Some(&p.visit),
    );
    s.check(
        BROWSER,
        "pki.check.webpki",
        fail(&all, FailReason::Untrusted),
    );
    s.alert(BROWSER, "tls.alert.unknown_ca", true);
    s.narrate("pki.narr.untrusted", &[]);
}
