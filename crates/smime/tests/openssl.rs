//! OpenSSL 3 verifies our signed mail with `openssl cms -verify`, and our verifier
//! accepts the mail `openssl cms -sign` makes with Alice's exported key. A missing
//! openssl is a failure, not a skip.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cipherstage_pki::{pem, Pki, SCENARIO_NOW};
use cipherstage_smime::{cms, mime, sign_as, verify, Letter, Step, FROM, TO};
use cipherstage_transcript::rand::Seeded;
use cipherstage_transcript::FailReason;

const OPENSSL: &str = "/usr/bin/openssl";
/// SCENARIO_NOW (2026-11-01T00:00:00Z), for `-attime`.
const AT: &str = "1793491200";

fn openssl(dir: &Path, args: &[&str]) -> Output {
    assert!(
        Path::new(OPENSSL).exists(),
        "{OPENSSL} is required (apt-get install openssl)"
    );
    Command::new(OPENSSL)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn setup(name: &str) -> (PathBuf, Pki) {
    assert_eq!(AT, SCENARIO_NOW.to_string());
    let dir = std::env::temp_dir().join(format!("cipherstage-smime-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = Pki::build(&mut Seeded::new(1)).unwrap();
    std::fs::write(
        dir.join("root.pem"),
        pem::encode("CERTIFICATE", &pki.root.der),
    )
    .unwrap();
    std::fs::write(
        dir.join("intermediate.pem"),
        pem::encode("CERTIFICATE", &pki.intermediate.der),
    )
    .unwrap();
    (dir, pki)
}

fn letter() -> Letter<'static> {
    Letter {
        from: FROM,
        to: TO,
        subject: "Lunch on Friday",
        body: "Hi Bob,\nshall we have lunch on Friday at noon?\nAlice",
        time: SCENARIO_NOW,
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_ok(dir: &Path, args: &[&str]) -> Output {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        text(&out.stderr)
    );
    out
}

/// The CMS DER of a mail's signature part.
fn cms_of(mail: &[u8]) -> Vec<u8> {
    let l = mime::split(mail).unwrap();
    let part = &mail[l.signature.clone()];
    let at = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    mime::b64_decode(&part[at..]).unwrap()
}

/// The mail with the first "lunch" in its signed part changed to "Lunch".
fn change_body(mail: &[u8]) -> Vec<u8> {
    let l = mime::split(mail).unwrap();
    let at = l.signed.start
        + mail[l.signed.clone()]
            .windows(5)
            .position(|w| w == b"lunch")
            .unwrap();
    let mut changed = mail.to_vec();
    changed[at] = b'L';
    changed
}

/// `openssl cms -verify` of mail.eml against the root, for S/MIME signing, at the
/// scenario's time; `-text` strips the text part's MIME header from the output.
const VERIFY: &[&str] = &[
    "cms",
    "-verify",
    "-in",
    "mail.eml",
    "-CAfile",
    "root.pem",
    "-certfile",
    "intermediate.pem",
    "-purpose",
    "smimesign",
    "-attime",
    AT,
    "-text",
];

#[test]
fn openssl_cms_verifies_our_mail_and_refuses_a_changed_body_and_mallory() {
    let (dir, pki) = setup("verify");
    let roots = [pki.root.der.clone()];
    let mut rng = Seeded::new(3);
    let mail = sign_as(&letter(), &pki.alice_mail, &pki.intermediate.der, &mut rng).unwrap();
    assert!(verify(&mail, &roots, SCENARIO_NOW).ok());
    std::fs::write(dir.join("mail.eml"), &mail).unwrap();
    // OpenSSL's S/MIME reader takes the multipart/signed mail and its CMS apart.
    let printed = text(&run_ok(&dir, &["cms", "-cmsout", "-print", "-in", "mail.eml"]).stdout);
    for want in [
        "contentType: pkcs7-signedData",
        "eContentType: pkcs7-data",
        "algorithm: sha256",
        "algorithm: ecdsa-with-SHA256",
        "object: contentType",
        "object: messageDigest",
        "object: signingTime",
        "UTCTIME:Nov  1 00:00:00 2026 GMT",
    ] {
        assert!(printed.contains(want), "missing {want:?} in\n{printed}");
    }
    // (ED25519 still appears: the CAs sign the certificates with it.)
    assert!(!printed.contains("sha512"));
    let p = cms::parse(&cms_of(&mail)).unwrap();
    assert_eq!(
        p.certificates,
        vec![pki.alice_mail.der.clone(), pki.intermediate.der.clone()]
    );
    // The whole check: digest, ECDSA signature over the signed attributes, chain
    // to the root for S/MIME signing at the scenario's time.
    let ok = run_ok(&dir, VERIFY);
    assert!(
        text(&ok.stderr).contains("Verification successful"),
        "{}",
        text(&ok.stderr)
    );
    assert_eq!(
        // OpenSSL's text output ends the last line with a newline.
        text(&ok.stdout)
            .replace("\r\n", "\n")
            .trim_end_matches('\n'),
        "Hi Bob,\nshall we have lunch on Friday at noon?\nAlice"
    );
    // The intermediate travels inside the CMS: OpenSSL needs no -certfile.
    let without: Vec<&str> = VERIFY
        .iter()
        .copied()
        .filter(|a| *a != "-certfile" && *a != "intermediate.pem")
        .collect();
    run_ok(&dir, &without);
    // One body byte changed: OpenSSL's digest check fails, and so does ours.
    let changed = change_body(&mail);
    std::fs::write(dir.join("mail.eml"), &changed).unwrap();
    let bad = openssl(&dir, VERIFY);
    assert!(!bad.status.success(), "changed body verified");
    // OpenSSL 3.0 reports the messageDigest mismatch from the content check.
    let err = text(&bad.stderr);
    assert!(
        err.contains("CMS_SignerInfo_verify_content") && err.contains("content verify error"),
        "{err}"
    );
    assert_eq!(
        verify(&changed, &roots, SCENARIO_NOW).steps.last(),
        Some(&(Step::Digest, Some(FailReason::BadSignature)))
    );
    // Mallory's mail, signed with her own key and CA: the signature is sound, the
    // certificate does not chain to the root.
    let rogue = sign_as(&letter(), &pki.mallory_mail, &pki.rogue_root.der, &mut rng).unwrap();
    std::fs::write(dir.join("mail.eml"), &rogue).unwrap();
    let bad = openssl(&dir, VERIFY);
    assert!(!bad.status.success(), "mallory's mail verified");
    let err = text(&bad.stderr);
    assert!(err.contains("certificate verify error"), "{err}");
    assert!(!err.contains("content verify error"), "{err}");
    // Trusting her root instead, OpenSSL accepts her signature: only the chain failed.
    std::fs::write(
        dir.join("rogue.pem"),
        pem::encode("CERTIFICATE", &pki.rogue_root.der),
    )
    .unwrap();
    let trusting: Vec<&str> = VERIFY
        .iter()
        .map(|a| if *a == "root.pem" { "rogue.pem" } else { a })
        .collect();
    run_ok(&dir, &trusting);
    assert_eq!(
        verify(&rogue, &roots, SCENARIO_NOW).steps.last(),
        Some(&(Step::Chain, Some(FailReason::Untrusted)))
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn openssl_cms_signs_with_alices_exported_key_and_we_verify_it() {
    let (dir, pki) = setup("sign");
    let roots = [pki.root.der.clone()];
    let key = &pki.alice_mail.key;
    std::fs::write(
        dir.join("alice.key"),
        pem::encode("PRIVATE KEY", &key.pkcs8_v1()),
    )
    .unwrap();
    std::fs::write(
        dir.join("alice.pem"),
        pem::encode("CERTIFICATE", &pki.alice_mail.der),
    )
    .unwrap();
    std::fs::write(dir.join("body.txt"), letter().body).unwrap();
    // Detached (the cms default), S/MIME output with CRLF line ends, the body
    // wrapped as text/plain, Alice's certificate and the intermediate attached.
    run_ok(
        &dir,
        &[
            "cms",
            "-sign",
            "-md",
            "sha256",
            "-signer",
            "alice.pem",
            "-inkey",
            "alice.key",
            "-certfile",
            "intermediate.pem",
            "-in",
            "body.txt",
            "-text",
            "-crlfeol",
            "-from",
            FROM,
            "-to",
            TO,
            "-subject",
            "Lunch on Friday",
            "-out",
            "mail.eml",
        ],
    );
    let mail = std::fs::read(dir.join("mail.eml")).unwrap();
    let l = mime::split(&mail).unwrap();
    assert_eq!(l.micalg, "sha-256");
    assert_eq!(l.protocol, "application/pkcs7-signature");
    let p = cms::parse(&cms_of(&mail)).unwrap();
    assert_eq!(p.digest_alg, cms::OID_SHA256);
    assert_eq!(p.sig_alg, cms::OID_ECDSA_SHA256);
    // OpenSSL puts the -certfile certificates before the signer's.
    assert_eq!(
        p.certificates,
        vec![pki.intermediate.der.clone(), pki.alice_mail.der.clone()]
    );
    // Our verifier: every check passes on OpenSSL's mail.
    let v = verify(&mail, &roots, SCENARIO_NOW);
    assert!(v.ok(), "{:?}", v.steps);
    assert_eq!(v.from, FROM);
    assert!(text(&v.text).ends_with("shall we have lunch on Friday at noon?\r\nAlice"));
    // OpenSSL agrees with itself.
    run_ok(&dir, VERIFY);
    // One body byte changed: the digest no longer matches.
    let changed = change_body(&mail);
    assert_eq!(
        verify(&changed, &roots, SCENARIO_NOW).steps.last(),
        Some(&(Step::Digest, Some(FailReason::BadSignature)))
    );
    // Signed by OpenSSL with mallory's key and certificate: refused as untrusted.
    std::fs::write(
        dir.join("mallory.key"),
        pem::encode("PRIVATE KEY", &pki.mallory_mail.key.pkcs8_v1()),
    )
    .unwrap();
    std::fs::write(
        dir.join("mallory.pem"),
        pem::encode("CERTIFICATE", &pki.mallory_mail.der),
    )
    .unwrap();
    run_ok(
        &dir,
        &[
            "cms",
            "-sign",
            "-md",
            "sha256",
            "-signer",
            "mallory.pem",
            "-inkey",
            "mallory.key",
            "-in",
            "body.txt",
            "-text",
            "-crlfeol",
            "-from",
            FROM,
            "-out",
            "rogue.eml",
        ],
    );
    let rogue = std::fs::read(dir.join("rogue.eml")).unwrap();
    assert_eq!(
        verify(&rogue, &roots, SCENARIO_NOW).steps.last(),
        Some(&(Step::Chain, Some(FailReason::Untrusted)))
    );
    std::fs::remove_dir_all(&dir).ok();
}
