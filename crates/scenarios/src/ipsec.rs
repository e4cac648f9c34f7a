//! IPsec scenarios: ESP in transport and tunnel mode, replay, tampering, AH vs NAT,
//! and NAT traversal (ESP in UDP 4500).

use std::net::Ipv4Addr;

use cipherstage_ipsec::{Algorithm, Inner, Mode, Params};
use cipherstage_transcript::Transcript;

#[allow(unused_imports)]
use crate::catalog::ipsec::*;
use crate::{bad, ExportFile, RunError, ScenarioInfo, Values};

fn has(info: &ScenarioInfo, name: &str) -> bool {
    info.params.iter().any(|p| p.name == name)
}

/// The core's story for this scenario (every id listed here has one).
fn story(info: &ScenarioInfo) -> Result<cipherstage_ipsec::Story, RunError> {
    cipherstage_ipsec::Story::from_id(info.id)
        .ok_or_else(|| RunError::UnknownScenario(info.id.to_owned()))
}

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    Ok(cipherstage_ipsec::run(
        story(info)?,
        &params(info, v)?,
        seed,
    ))
}

/// The capture of the run, and the Wireshark/tshark settings that decrypt it.
pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<ExportFile>), RunError> {
    let (t, export) = cipherstage_ipsec::run_with_export(story(info)?, &params(info, v)?, seed);
    let mut howto = String::from(
        "# Decrypt the capture with tshark (one -o per ESP SA; AES-GCM key then 4-byte salt):\n\
         tshark -r CAPTURE.pcapng -o esp.enable_encryption_decode:TRUE \\\n  \
         -o esp.enable_authentication_check:TRUE",
    );
    for row in export.sas.iter().filter_map(|sa| sa.uat_row()) {
        howto.push_str(&format!(" \\\n  -o 'uat:esp_sa:{row}'"));
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
    if has(info, ALGORITHM.name) {
        p.algorithm =
            Algorithm::from_id(v.choice(ALGORITHM.name)?).ok_or_else(|| bad(ALGORITHM.name))?;
    }
    if has(info, MODE.name) {
        p.mode = match v.choice(MODE.name)? {
            "tunnel" => Mode::Tunnel,
            "transport" => Mode::Transport,
            _ => return Err(bad(MODE.name)),
        };
    }
    if has(info, INNER.name) {
        p.inner = match v.choice(INNER.name)? {
            "ping" => Inner::Ping,
            "http" => Inner::Http,
            _ => return Err(bad(INNER.name)),
        };
    }
    if has(info, PAYLOAD.name) {
        p.payload = v.text(PAYLOAD.name)?;
    }
    for (name, slot) in [("addr_a", &mut p.addr_a), ("addr_b", &mut p.addr_b)] {
        if has(info, name) {
            let text = v.text(name)?;
            *slot = Some(text.trim().parse::<Ipv4Addr>().map_err(|_| bad(name))?);
        }
    }
    if has(info, MTU.name) {
        let mtu = v.number(MTU.name)?;
        if !(68..=65535).contains(&mtu) {
            return Err(bad(MTU.name));
        }
        p.mtu = mtu as usize;
    }
    p.tamper = crate::tamper_param(info, v)?;
    if has(info, NAT.name) {
        p.nat = v.choice(NAT.name)? == "on";
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn args(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn every_ipsec_scenario_runs_from_the_registry_with_defaults_deterministically() {
        for info in SCENARIOS {
            let a = crate::run(info.id, &[], Some(1)).unwrap();
            let b = crate::run(info.id, &[], Some(1)).unwrap();
            assert_eq!(a.to_json(), b.to_json());
            assert_eq!(cipherstage_transcript::check_coverage(&a), Ok(()));
            assert_eq!(a.scenario, info.id);
        }
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        for (name, value) in [
            ("mtu", "12"),
            ("mtu", "x"),
            ("esp_alg", "des"),
            ("esp_mode", "beet"),
            ("flip", "a:b"),
        ] {
            let r = crate::run("ipsec-tamper", &args(&[(name, value)]), Some(1));
            assert_eq!(
                r.unwrap_err(),
                RunError::BadParam {
                    name: name.to_owned()
                }
            );
        }
        let t = crate::run("ipsec-ah", &args(&[("nat", "off")]), Some(1)).unwrap();
        assert!(t.actors.iter().any(|a| a.name == "ipsec.actor.router"));
    }

    /// Every key the picker and the transcripts use has English and Japanese text.
    #[test]
    fn every_registry_key_has_english_and_japanese_text() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/i18n");
        for lang in ["en", "ja"] {
            let mut keys = std::collections::HashSet::new();
            for entry in std::fs::read_dir(format!("{dir}/{lang}")).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                for line in text.lines() {
                    if let Some((k, _)) = line.split_once('=') {
                        if !line.trim_start().starts_with('#') {
                            keys.insert(k.trim().to_owned());
                        }
                    }
                }
            }
            for info in SCENARIOS {
                let mut need = vec![info.title_key(), info.summary_key()];
                for p in info.params {
                    need.push(p.label_key());
                    if let crate::ParamKind::Choice(options) = p.kind {
                        need.extend(options.iter().map(|o| format!("param.{}.{o}", p.name)));
                    }
                }
                for k in need {
                    assert!(keys.contains(&k), "{lang}: missing {k}");
                }
            }
        }
    }
}
