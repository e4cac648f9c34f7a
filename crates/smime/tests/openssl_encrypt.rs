//! OpenSSL 3 and our S/MIME encryption, both ways: `openssl cms -decrypt` reads our
//! EnvelopedData (AES-256-CBC) and AuthEnvelopedData (AES-256-GCM) with Bob's key and
//! with Alice's (she is a recipient too); `openssl cms -encrypt` to Bob's certificate,
//! with OpenSSL's default SHA-1 X9.63 KDF and with `-keyopt ecdh_kdf_md:sha256`, gives
//! mail our client decrypts; sign-then-encrypt round trips both ways. A missing
//! openssl is a failure, not a skip.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cipherstage_pki::{pem, Cert, Pki, SCENARIO_NOW};
use cipherstage_smime::crypto::KdfHash;
use cipherstage_smime::encrypted::{encrypt_mail, open_mail, Step};
use cipherstage_smime::envelope::{self, Cipher, OpenStep};
use cipherstage_smime::scenario_encrypted::describe;
use cipherstage_smime::{signed_entity, text_part, verify_as, Letter, FROM, TO};
use cipherstage_transcript::rand::Seeded;
use cipherstage_transcript::{check_fields, FailReason};

const OPENSSL: &str = "/usr/bin/openssl";
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

fn run_ok(dir: &Path, args: &[&str]) -> Output {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn write_cert(dir: &Path, name: &str, c: &Cert) {
    std::fs::write(
        dir.join(format!("{name}.pem")),
        pem::encode("CERTIFICATE", &c.der),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{name}.key")),
        pem::encode("PRIVATE KEY", &c.key.pkcs8_v1()),
    )
    .unwrap();
}

fn setup(name: &str) -> (PathBuf, Pki) {
    assert_eq!(AT, SCENARIO_NOW.to_string());
    let dir = std::env::temp_dir().join(format!(
        "cipherstage-smime-enc-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = Pki::build(&mut Seeded::new(1)).unwrap();
    write_cert(&dir, "bob", &pki.bob_mail);
    write_cert(&dir, "alice", &pki.alice_mail);
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

fn decrypt_as(dir: &Path, who: &str) -> Output {
    openssl(
        dir,
        &[
            "cms",
            "-decrypt",
            "-in",
            "mail.eml",
            "-recip",
            &format!("{who}.pem"),
            "-inkey",
            &format!("{who}.key"),
            "-binary",
            "-out",
            &format!("out-{who}.txt"),
        ],
    )
}

#[test]
fn openssl_decrypts_our_enveloped_and_auth_enveloped_data_for_bob_and_alice() {
    let (dir, pki) = setup("decrypt");
    let entity = text_part(letter().body);
    for (cipher, alg, ty) in [
        (Cipher::Aes256Cbc, "aes-256-cbc", "pkcs7-envelopedData"),
        (
            Cipher::Aes256Gcm,
            "aes-256-gcm",
            "id-smime-ct-authEnvelopedData",
        ),
    ] {
        let recips: [&[u8]; 2] = [&pki.bob_mail.der, &pki.alice_mail.der];
        let (mail, sealed) =
            encrypt_mail(&letter(), &entity, &recips, cipher, &mut Seeded::new(5)).unwrap();
        std::fs::write(dir.join("mail.eml"), &mail).unwrap();
        let printed = String::from_utf8_lossy(
            &run_ok(&dir, &["cms", "-cmsout", "-print", "-in", "mail.eml"]).stdout,
        )
        .into_owned();
        for want in [
            ty,
            "dhSinglePass-stdDH-sha256kdf-scheme",
            ":id-aes256-wrap",
            alg,
            "id-ecPublicKey",
        ] {
            assert!(printed.contains(want), "missing {want:?} in\n{printed}");
        }
        assert_eq!(printed.matches("d.kari:").count(), 2, "{printed}");
        for who in ["bob", "alice"] {
            let out = decrypt_as(&dir, who);
            assert!(
                out.status.success(),
                "{who} {alg}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got = std::fs::read(dir.join(format!("out-{who}.txt"))).unwrap();
            assert_eq!(got, entity, "{who} {alg}");
        }
        // Mallory is no recipient: OpenSSL finds no RecipientInfo for her.
        write_cert(&dir, "mallory", &pki.mallory_mail);
        assert!(!decrypt_as(&dir, "mallory").status.success());
        // The last byte of the DER changed (the GCM tag, or the last CBC block whose
        // padding then breaks): OpenSSL refuses, and so do we.
        let mut der = sealed.der.clone();
        *der.last_mut().unwrap() ^= 1;
        std::fs::write(dir.join("bad.der"), &der).unwrap();
        let bad = openssl(
            &dir,
            &[
                "cms", "-decrypt", "-inform", "DER", "-in", "bad.der", "-recip", "bob.pem",
                "-inkey", "bob.key",
            ],
        );
        assert!(
            !bad.status.success(),
            "{alg}: a changed last byte decrypted"
        );
        let ours = envelope::open(&der, &pki.bob_mail.der, &pki.bob_mail.key.pkcs8);
        let want = match cipher {
            Cipher::Aes256Cbc => (OpenStep::Padding, Some(FailReason::Malformed)),
            Cipher::Aes256Gcm => (OpenStep::Tag, Some(FailReason::TagMismatch)),
        };
        assert_eq!(ours.steps.last(), Some(&want));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sign_then_encrypt_round_trips_through_openssl_both_ways() {
    let (dir, pki) = setup("signenc");
    let roots = [pki.root.der.clone()];
    let l = letter();
    let mut rng = Seeded::new(6);
    let entity = signed_entity(
        &l,
        &pki.alice_mail.der,
        &[&pki.intermediate.der],
        &pki.alice_mail.key,
        &mut rng,
    )
    .unwrap();
    let recips: [&[u8]; 2] = [&pki.bob_mail.der, &pki.alice_mail.der];
    for cipher in [Cipher::Aes256Cbc, Cipher::Aes256Gcm] {
        let (mail, _) = encrypt_mail(&l, &entity, &recips, cipher, &mut rng).unwrap();
        std::fs::write(dir.join("mail.eml"), &mail).unwrap();
        // OpenSSL unwraps the encryption, then verifies the signed entity inside.
        let out = decrypt_as(&dir, "bob");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(dir.join("out-bob.txt")).unwrap(), entity);
        let v = run_ok(
            &dir,
            &[
                "cms",
                "-verify",
                "-in",
                "out-bob.txt",
                "-CAfile",
                "root.pem",
                "-purpose",
                "smimesign",
                "-attime",
                AT,
                "-text",
            ],
        );
        assert!(String::from_utf8_lossy(&v.stderr).contains("Verification successful"));
        assert!(String::from_utf8_lossy(&v.stdout).contains("lunch on Friday at noon?"));
    }
    // OpenSSL signs as Alice, then encrypts to Bob (SHA-256 KDF, GCM); our client
    // unwraps both layers in order.
    std::fs::write(dir.join("body.txt"), l.body).unwrap();
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
            "-out",
            "signed.eml",
        ],
    );
    // -sign wrote MIME-Version and the multipart/signed entity: drop the first line so
    // what is encrypted is the entity itself.
    let signed = std::fs::read(dir.join("signed.eml")).unwrap();
    let at = signed.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    assert!(signed.starts_with(b"MIME-Version: 1.0\r\n"));
    std::fs::write(dir.join("entity.eml"), &signed[at..]).unwrap();
    run_ok(
        &dir,
        &[
            "cms",
            "-encrypt",
            "-in",
            "entity.eml",
            "-binary",
            "-recip",
            "bob.pem",
            "-keyopt",
            "ecdh_kdf_md:sha256",
            "-aes-256-gcm",
            "-crlfeol",
            "-from",
            FROM,
            "-to",
            TO,
            "-subject",
            "Lunch",
            "-out",
            "enc.eml",
        ],
    );
    let mail = std::fs::read(dir.join("enc.eml")).unwrap();
    let u = open_mail(&mail, &pki.bob_mail.der, &pki.bob_mail.key.pkcs8);
    assert!(u.ok(), "{:?}", u.steps);
    assert_eq!(u.inner_type, "multipart/signed");
    let v = verify_as(u.content(), Some(&u.from), &roots, SCENARIO_NOW);
    assert!(v.ok(), "{:?}", v.steps);
    assert_eq!(v.from, FROM);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn we_decrypt_what_openssl_encrypts_to_bob_with_either_kdf_and_either_cipher() {
    let (dir, pki) = setup("encrypt");
    let entity = text_part(letter().body);
    std::fs::write(dir.join("entity.txt"), &entity).unwrap();
    for (cipher_arg, kdf_opt, kdf, step) in [
        ("-aes256", None, KdfHash::Sha1, OpenStep::Padding),
        (
            "-aes256",
            Some("ecdh_kdf_md:sha256"),
            KdfHash::Sha256,
            OpenStep::Padding,
        ),
        ("-aes-256-gcm", None, KdfHash::Sha1, OpenStep::Tag),
        (
            "-aes-256-gcm",
            Some("ecdh_kdf_md:sha256"),
            KdfHash::Sha256,
            OpenStep::Tag,
        ),
    ] {
        let mut args = vec![
            "cms",
            "-encrypt",
            "-in",
            "entity.txt",
            "-binary",
            "-recip",
            "bob.pem",
        ];
        if let Some(k) = kdf_opt {
            args.extend(["-keyopt", k]);
        }
        args.extend([
            cipher_arg, "-crlfeol", "-from", FROM, "-to", TO, "-subject", "Lunch", "-out",
            "enc.eml",
        ]);
        run_ok(&dir, &args);
        let mail = std::fs::read(dir.join("enc.eml")).unwrap();
        // Every byte of OpenSSL's mail is explained too, down to its CMS fields.
        let fields = describe(&mail);
        check_fields(&fields, 0, mail.len()).unwrap();
        assert!(format!("{fields:?}").contains("smime.field.wrapped_key"));
        let u = open_mail(&mail, &pki.bob_mail.der, &pki.bob_mail.key.pkcs8);
        assert!(u.ok(), "{cipher_arg} {kdf_opt:?}: {:?}", u.steps);
        assert_eq!(u.content(), entity);
        let o = u.opening.as_ref().unwrap();
        // Which KDF this mail used, read from its keyEncryptionAlgorithm.
        assert_eq!(o.kdf, Some(kdf), "{cipher_arg} {kdf_opt:?}");
        assert!(u.steps.contains(&(Step::Open(step), None)));
        // The KEK we derived unwraps OpenSSL's wrapped key: one derivation, two codes.
        assert_eq!(o.cek.len(), 32);
        // Alice is no recipient of this one.
        let not = open_mail(&mail, &pki.alice_mail.der, &pki.alice_mail.key.pkcs8);
        assert_eq!(
            not.steps.last(),
            Some(&(Step::Open(OpenStep::Recipient), Some(FailReason::Malformed)))
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
