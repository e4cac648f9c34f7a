//! Mail across the network: SMTP submission and relay, with STARTTLS or TLS
//! from the first byte, carrying the S/MIME core's encrypted mail.

use cipherstage_mail::scenario::{Body, Params as MailParams, Port, Story};
use cipherstage_transcript::Transcript;

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

/// The core's story for a scenario of this family.
fn mail_story(info: &ScenarioInfo) -> Option<Story> {
    match info.id {
        "smtp-submission" => Some(Story::Submission),
        "smtp-relay" => Some(Story::Relay),
        "imap-fetch" => Some(Story::ImapFetch),
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
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    let story = mail_story(info).ok_or_else(|| RunError::UnknownScenario(info.id.to_owned()))?;
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
    Ok(mail_run(info, v, seed)?.0)
}

pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    mail_run(info, v, seed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalogue_names_the_mail_cores_hosts_and_choices() {
        use cipherstage_mail::scenario::{Port, MX_HOST, SUBMISSION_HOST};
        assert_eq!(Port::Starttls587.number(), 587);
        assert_eq!(Port::Implicit465.number(), 465);
        assert_eq!(
            crate::catalog::mail::PORT.kind,
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
}
