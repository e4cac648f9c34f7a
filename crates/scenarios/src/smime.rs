//! S/MIME signed mail: the certificate attached to a mail, and the spoofing and
//! tampering it stops.

use cipherstage_smime::envelope::Cipher;
use cipherstage_smime::scenario::{Params, Signer};
use cipherstage_smime::scenario_encrypted::{BobCert, Params as EncParams};
use cipherstage_transcript::Transcript;

#[allow(unused_imports)]
use crate::catalog::smime::*;
use crate::{bad, RunError, ScenarioInfo, Values};

/// Subject and body, refused when they could inject header lines or control bytes.
fn letter_text(v: &Values) -> Result<(String, String), RunError> {
    let subject = v.text("subject")?;
    if subject.len() > 200 || subject.chars().any(char::is_control) {
        return Err(bad("subject"));
    }
    let body = v.text("body")?;
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(bad("body"));
    }
    Ok((subject, body))
}

fn params(info: &ScenarioInfo, v: &Values) -> Result<Params, RunError> {
    let (subject, body) = letter_text(v)?;
    Ok(Params {
        signer: match v.choice("signer")? {
            "mallory" => Signer::Mallory,
            _ => Signer::Alice,
        },
        subject,
        body,
        tamper: crate::tamper_param(info, v)?,
    })
}

fn enc_params(info: &ScenarioInfo, v: &Values) -> Result<EncParams, RunError> {
    let (subject, body) = letter_text(v)?;
    let bob = if info.params.iter().any(|p| p.name == "bob_cert") {
        match v.choice("bob_cert")? {
            "missing" => BobCert::Missing,
            "wrong_eku" => BobCert::WrongEku,
            "lost_key" => BobCert::LostKey,
            _ => BobCert::Issued,
        }
    } else {
        BobCert::Issued
    };
    Ok(EncParams {
        bob,
        cipher: match v.choice("content_cipher")? {
            "aes256-gcm" => Cipher::Aes256Gcm,
            _ => Cipher::Aes256Cbc,
        },
        signed: info.id == "smime-signed-encrypted",
        subject,
        body,
        tamper: crate::tamper_param(info, v)?,
    })
}

fn encrypted(info: &ScenarioInfo) -> bool {
    matches!(info.id, "smime-encrypted" | "smime-signed-encrypted")
}

fn spoofing(info: &ScenarioInfo, v: &Values, seed: Option<u64>) -> Result<Transcript, RunError> {
    let (subject, body) = letter_text(v)?;
    let p = cipherstage_smime::scenario_spoofing::Params {
        check_certificate: v.choice("key_check")? == "certificate",
        subject,
        body,
    };
    Ok(cipherstage_smime::scenario_spoofing::run(info.id, &p, seed))
}

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    if info.id == "smime-key-spoofing" {
        return spoofing(info, v, seed);
    }
    if encrypted(info) {
        return Ok(cipherstage_smime::scenario_encrypted::run(
            info.id,
            &enc_params(info, v)?,
            seed,
        ));
    }
    Ok(cipherstage_smime::scenario::run(
        info.id,
        &params(info, v)?,
        seed,
    ))
}

/// The mail as Bob received it, and the CA certificates to check it with.
pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    if info.id == "smime-key-spoofing" {
        return Ok((spoofing(info, v, seed)?, Vec::new()));
    }
    let (t, files) = if encrypted(info) {
        cipherstage_smime::scenario_encrypted::run_with_files(info.id, &enc_params(info, v)?, seed)
    } else {
        cipherstage_smime::scenario::run_with_files(info.id, &params(info, v)?, seed)
    };
    let Some(f) = files else {
        return Ok((t, Vec::new()));
    };
    let file = |name: String, mime, label, bytes| crate::ExportFile {
        name,
        mime,
        label,
        bytes,
    };
    let files = vec![
        file(
            format!("{}-mail.eml", info.id),
            "message/rfc822",
            "ui.export_eml",
            f.eml,
        ),
        file(
            format!("{}-root.pem", info.id),
            "application/x-pem-file",
            "ui.export_root",
            f.root_pem.into_bytes(),
        ),
        file(
            format!("{}-intermediate.pem", info.id),
            "application/x-pem-file",
            "ui.export_intermediate",
            f.intermediate_pem.into_bytes(),
        ),
    ];
    Ok((t, files))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_parameters_are_typed_errors() {
        for (name, value) in [
            ("subject", "a\r\nBcc: eve@example.com"),
            ("body", "nul\u{0}"),
            ("signer", "eve"),
            ("flip", "x"),
        ] {
            assert!(
                crate::run("smime-signed", &[(name.into(), value.into())], Some(1)).is_err(),
                "{name}={value}"
            );
        }
        assert!(crate::run("smime-signed", &[], Some(1)).is_ok());
        for id in ["smime-encrypted", "smime-signed-encrypted"] {
            for (name, value) in [
                ("subject", "a\r\nBcc: eve@example.com"),
                ("content_cipher", "des"),
                ("signer", "alice"),
            ] {
                assert!(
                    crate::run(id, &[(name.into(), value.into())], Some(1)).is_err(),
                    "{id} {name}={value}"
                );
            }
            assert!(crate::run(id, &[], Some(1)).is_ok());
        }
        for (name, value) in [
            ("key_check", "maybe"),
            ("flip", "0:1"),
            ("body", "nul\u{0}"),
        ] {
            assert!(
                crate::run(
                    "smime-key-spoofing",
                    &[(name.into(), value.into())],
                    Some(1)
                )
                .is_err(),
                "{name}={value}"
            );
        }
        assert!(crate::run(
            "smime-key-spoofing",
            &[("key_check".into(), "none".into())],
            Some(1)
        )
        .is_ok());
    }
}
