//! IKEv2 scenarios: the remote-access and site-to-site VPNs with keys negotiated by
//! IKE, and one scenario per failure.

use cipherstage_ike::scenario::{Params, Story};
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

/// No downloads yet besides the transcript (pcapng and the tshark IKEv2 decryption
/// table are not written yet).
pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<ExportFile>), RunError> {
    run(info, v, seed).map(|t| (t, Vec::new()))
}

fn params(info: &ScenarioInfo, v: &Values) -> Result<Params, RunError> {
    let mut p = Params::default();
    if has(info, ENCR.name) {
        p.encr = Encr::from_id(v.choice(ENCR.name)?).ok_or_else(|| bad(ENCR.name))?;
    }
    if has(info, GROUP.name) {
        p.group = Group::from_id(v.choice(GROUP.name)?).ok_or_else(|| bad(GROUP.name))?;
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
        assert_eq!(Group::from_id(GROUP.default), Some(Params::default().group));
    }
}
