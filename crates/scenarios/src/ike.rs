//! IKEv2 scenarios: the remote-access and site-to-site VPNs with keys negotiated by
//! IKE, and one scenario per failure.

use cipherstage_ike::scenario::{AuthMode, Params, Story};
use cipherstage_ike::{Encr, Group};
use cipherstage_transcript::Transcript;

#[allow(unused_imports)]
use crate::catalog::ike::*;
use crate::{bad, ExportFile, RunError, ScenarioInfo, Values};

fn has(info: &ScenarioInfo, name: &str) -> bool {
    info.params.iter().any(|p| p.name == name)
}

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    let story =
        Story::from_id(info.id).ok_or_else(|| RunError::UnknownScenario(info.id.to_owned()))?;
    Ok(cipherstage_ike::scenario::run(
        story,
        &params(info, v)?,
        seed,
    ))
}

/// The capture of the Internet link, and the tshark settings that decrypt its IKE_AUTH
/// messages and its ESP (AES-GCM; tshark 4.0 has no ChaCha20-Poly1305 for either).
pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<ExportFile>), RunError> {
    let story =
        Story::from_id(info.id).ok_or_else(|| RunError::UnknownScenario(info.id.to_owned()))?;
    let (t, export) = cipherstage_ike::scenario::run_with_export(story, &params(info, v)?, seed);
    let mut howto = String::from(
        "# Decrypt the capture with tshark: the IKE SA's keys (SK_ei, SK_er) and the ESP SAs.\n\
         tshark -r CAPTURE.pcapng -o esp.enable_authentication_check:TRUE",
    );
    for o in export.tshark_options() {
        if o.contains('"') {
            howto.push_str(&format!(" \\\n  -o '{o}'"));
        } else {
            howto.push_str(&format!(" \\\n  -o {o}"));
        }
    }
    howto.push('\n');
    let files = vec![
        ExportFile {
            name: format!("{}-capture.pcapng", info.id),
            label: "ui.export_pcapng",
            mime: "application/vnd.tcpdump.pcap",
            bytes: export.pcapng(),
        },
        ExportFile {
            name: format!("{}-tshark.txt", info.id),
            label: "ui.export_keys",
            mime: "text/plain",
            bytes: howto.into_bytes(),
        },
    ];
    Ok((t, files))
}

fn params(info: &ScenarioInfo, v: &Values) -> Result<Params, RunError> {
    let mut p = Params::default();
    if has(info, ENCR.name) {
        p.encr = Encr::from_id(v.choice(ENCR.name)?).ok_or_else(|| bad(ENCR.name))?;
    }
    if has(info, GROUP.name) {
        p.group = Group::from_id(v.choice(GROUP.name)?).ok_or_else(|| bad(GROUP.name))?;
    }
    if has(info, AUTH.name) {
        p.auth = AuthMode::from_id(v.choice(AUTH.name)?).ok_or_else(|| bad(AUTH.name))?;
    }
    if has(info, GATEWAY_NAT.name) {
        p.gateway_nat = match v.choice(GATEWAY_NAT.name)? {
            "on" => true,
            "off" => false,
            _ => return Err(bad(GATEWAY_NAT.name)),
        };
    }
    p.tamper = crate::tamper_param(info, v)?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_listed_id_and_choice_is_the_cores() {
        let ids: Vec<_> = SCENARIOS.iter().map(|s| s.id).collect();
        let core: Vec<_> = Story::ALL.iter().map(|s| s.id()).collect();
        assert_eq!(ids, core);
        for s in Story::ALL {
            assert_eq!(Story::from_id(s.id()), Some(s));
        }
        if let crate::ParamKind::Choice(list) = ENCR.kind {
            for e in list {
                assert_eq!(Encr::from_id(e).unwrap().as_str(), *e);
            }
        }
        if let crate::ParamKind::Choice(list) = GROUP.kind {
            for g in list {
                assert_eq!(Group::from_id(g).unwrap().as_str(), *g);
            }
        }
        assert_eq!(Encr::from_id(ENCR.default), Some(Params::default().encr));
        if let crate::ParamKind::Choice(list) = AUTH.kind {
            for a in list {
                assert_eq!(AuthMode::from_id(a).unwrap().as_str(), *a);
            }
        }
        assert_eq!(
            AuthMode::from_id(AUTH.default),
            Some(Params::default().auth)
        );
        assert_eq!(Group::from_id(GROUP.default), Some(Params::default().group));
    }
}
