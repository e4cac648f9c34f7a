//! Remote desktop: the laptop's RDP client reaches the office desktop over TLS;
//! the desktop's bitmaps, as the laptop drew them, come as pictures.

use cipherstage_rdp::scenario::Params;
use cipherstage_transcript::Transcript;

use crate::{bad, RunError, ScenarioInfo, Values};

fn params(info: &ScenarioInfo, v: &Values) -> Result<Params, RunError> {
    Ok(Params {
        require_nla: match v.choice("desktop_security")? {
            "tls" => false,
            "nla" => true,
            _ => return Err(bad("desktop_security")),
        },
        self_signed: match v.choice("desktop_cert")? {
            "issued" => false,
            "self-signed" => true,
            _ => return Err(bad("desktop_cert")),
        },
        tamper: crate::tamper_param(info, v)?,
    })
}

/// The run, and each picture the laptop drew as a bitmap file named as the
/// step that drew it says (its narration's `picture`).
fn rdp_run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    if info.id != "rdp-direct" {
        return Err(RunError::UnknownScenario(info.id.to_owned()));
    }
    let r = cipherstage_rdp::scenario::run(info.id, &params(info, v)?, seed);
    let files = r
        .pictures
        .iter()
        .filter_map(|(name, fb)| {
            Some(crate::ExportFile {
                name: name.clone(),
                mime: "image/bmp",
                label: "rdp.export.desktop",
                bytes: fb.to_bmp()?,
            })
        })
        .collect();
    Ok((r.transcript, files))
}

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    Ok(rdp_run(info, v, seed)?.0)
}

pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    rdp_run(info, v, seed)
}

#[cfg(test)]
mod tests {
    use cipherstage_transcript::Event;

    #[test]
    fn the_picture_of_the_drawing_step_is_among_the_files() {
        let (t, files) = crate::run_with_exports("rdp-direct", &[], Some(1)).unwrap();
        let named: Vec<&str> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Narration(n) => n
                    .args
                    .iter()
                    .find(|(k, _)| k == "picture")
                    .map(|(_, v)| v.as_str()),
                _ => None,
            })
            .collect();
        assert!(!named.is_empty());
        for name in named {
            let f = files.iter().find(|f| f.name == name).unwrap();
            assert_eq!(f.mime, "image/bmp");
            assert_eq!(&f.bytes[..2], b"BM");
        }
        for (name, value) in [("desktop_security", "rdp"), ("desktop_cert", "x")] {
            assert!(
                crate::run("rdp-direct", &[(name.into(), value.into())], Some(1)).is_err(),
                "{name}"
            );
        }
    }
}
