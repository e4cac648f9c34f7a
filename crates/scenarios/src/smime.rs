//! S/MIME signed mail: the certificate attached to a mail, and the spoofing and
//! tampering it stops.

use cipherstage_mail::scenario::{Body, Params as MailParams, Port, Story};
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

fn mail_story(info: &ScenarioInfo) -> Option<Story> {
    match info.id {
        "smtp-submission" => Some(Story::Submission),
        "smtp-relay" => Some(Story::Relay),
        _ => None,
    }
}

fn mail_params(info: &ScenarioInfo, v: &Values) -> Result<MailParams, RunError> {
    let (subject, text) = letter_text(v)?;
    let has = |name: &str| info.params.iter().any(|p| p.name == name);
    Ok(MailParams {
        port: match has("port").then(|| v.choice("port")).transpose()? {
            Some("implicit-465") => Port::Implicit465,
            _ => Port::Starttls587,
        },
        strip_starttls: has("strip_starttls") && v.choice("strip_starttls")? == "yes",
        body: match has("mail_body")
            .then(|| v.choice("mail_body"))
            .transpose()?
        {
            Some("plain") => Body::Plain,
            _ => Body::Smime,
        },
        subject,
        text,
        tamper: crate::tamper_param(info, v)?,
    })
}

/// SMTP across the network: the capture, the key log and the mail as received.
fn mail_run(
    info: &ScenarioInfo,
    story: Story,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    let r = cipherstage_mail::scenario::run(info.id, story, &mail_params(info, v)?, seed);
    let mut files = vec![crate::ExportFile {
        name: format!("{}-capture.pcapng", info.id),
        mime: "application/vnd.tcpdump.pcap",
        label: "ui.export_pcapng",
        bytes: r.pcapng,
    }];
    if !r.keylog.is_empty() {
        files.push(crate::ExportFile {
            name: format!("{}-keylog.txt", info.id),
            mime: "text/plain",
            label: "ui.export_keys",
            bytes: r.keylog.into_bytes(),
        });
    }
    if let Some(eml) = r.eml {
        files.push(crate::ExportFile {
            name: format!("{}-mail.eml", info.id),
            mime: "message/rfc822",
            label: "ui.export_eml",
            bytes: eml,
        });
    }
    Ok((r.transcript, files))
}

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    if let Some(story) = mail_story(info) {
        return Ok(
            cipherstage_mail::scenario::run(info.id, story, &mail_params(info, v)?, seed)
                .transcript,
        );
    }
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
    if let Some(story) = mail_story(info) {
        return mail_run(info, story, v, seed);
    }
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
    fn the_catalogue_names_the_mail_cores_hosts_and_choices() {
        use cipherstage_mail::scenario::{Port, MX_HOST, SUBMISSION_HOST};
        assert_eq!(Port::Starttls587.number(), 587);
        assert_eq!(Port::Implicit465.number(), 465);
        assert_eq!(
            crate::catalog::smime::PORT.kind,
            crate::ParamKind::Choice(&["starttls-587", "implicit-465"])
        );
        assert_eq!(
            (SUBMISSION_HOST, MX_HOST),
            ("smtp.example.net", "mx.example.com")
        );
        for (name, value) in [
            ("port", "25"),
            ("subject", "a\r\nBcc: x"),
            ("strip_starttls", "maybe"),
        ] {
            let id = if name == "strip_starttls" {
                "smtp-relay"
            } else {
                "smtp-submission"
            };
            assert!(
                crate::run(id, &[(name.into(), value.into())], Some(1)).is_err(),
                "{name}"
            );
        }
    }

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
