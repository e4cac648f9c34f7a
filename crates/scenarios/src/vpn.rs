//! The TLS VPN of the seed: packets to the office LAN inside mutual TLS.

use cipherstage_transcript::Transcript;
use cipherstage_vpn::{LaptopCert, Params};

#[allow(unused_imports)]
use crate::catalog::vpn::*;
use crate::{bad, RunError, ScenarioInfo, Values};

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    let target = v
        .text("target")?
        .trim()
        .parse()
        .map_err(|_| bad("target"))?;
    let path = v.text("path")?;
    if !path.starts_with('/')
        || path.len() > 200
        || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad("path"));
    }
    let p = Params {
        cert: match v.choice("vpn_cert")? {
            "none" => LaptopCert::None,
            "untrusted" => LaptopCert::Untrusted,
            "issued" => LaptopCert::Issued,
            _ => return Err(bad("vpn_cert")),
        },
        target,
        path,
        tamper: crate::tamper_param(info, v)?,
    };
    Ok(cipherstage_vpn::run(info.id, &p, seed))
}

/// The Internet capture with its TLS key log, and the office LAN capture.
pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    let t = run(info, v, seed)?;
    let c = cipherstage_vpn::captures(&t);
    let file = |name: String, mime, label, bytes| crate::ExportFile {
        name,
        mime,
        label,
        bytes,
    };
    let files = vec![
        file(
            format!("{}-internet.pcapng", info.id),
            "application/vnd.tcpdump.pcap",
            "ui.export_pcapng_internet",
            c.internet,
        ),
        file(
            format!("{}-keylog.txt", info.id),
            "text/plain",
            "ui.export_keys",
            c.keylog.into_bytes(),
        ),
        file(
            format!("{}-lan.pcapng", info.id),
            "application/vnd.tcpdump.pcap",
            "ui.export_pcapng_lan",
            c.lan,
        ),
    ];
    Ok((t, files))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_parameters_are_typed_errors() {
        for (name, value) in [
            ("target", "10.0.0"),
            ("target", "www.example.com"),
            ("path", "no-slash"),
            ("path", "/a b"),
            ("vpn_cert", "stolen"),
        ] {
            assert!(
                crate::run("vpn-tls", &[(name.into(), value.into())], Some(1)).is_err(),
                "{name}={value}"
            );
        }
        assert!(crate::run("vpn-tls", &[], Some(1)).is_ok());
    }
}
