//! The VPN scenarios: the TLS VPN of the seed (packets inside mutual TLS) and
//! OpenVPN (openvpn 2.6's protocol, address pushed, NAT or routed).

use cipherstage_transcript::Transcript;
use cipherstage_vpn::openvpn::scenario as openvpn;
use cipherstage_vpn::{LaptopCert, Params};

#[allow(unused_imports)]
use crate::catalog::vpn::*;
use crate::{bad, RunError, ScenarioInfo, Values};

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    if info.id == "vpn-openvpn" {
        return Ok(openvpn::run(info.id, &openvpn_params(info, v)?, seed));
    }
    if info.id == "vpn-cloud" {
        let p = cipherstage_vpn::cloud::CloudParams {
            tamper: crate::tamper_param(info, v)?,
        };
        return Ok(cipherstage_vpn::cloud::run(info.id, &p, seed));
    }
    if info.id == "vpn-client-certificate" {
        use cipherstage_vpn::openvpn::client_cert::{self as cc, Failure};
        let failure = match v.choice("vpn_cert_failure")? {
            "none" => Failure::None,
            "no_certificate" => Failure::NoCertificate,
            "another_ca" => Failure::AnotherCa,
            "expired" => Failure::Expired,
            "revoked" => Failure::Revoked,
            _ => return Err(bad("vpn_cert_failure")),
        };
        let p = cc::CertParams {
            failure,
            tamper: crate::tamper_param(info, v)?,
        };
        return Ok(cc::run(info.id, &p, seed));
    }
    let (target, path) = target_and_path(v)?;
    let p = Params {
        cert: cert(v)?,
        target,
        path,
        tamper: crate::tamper_param(info, v)?,
    };
    Ok(cipherstage_vpn::run(info.id, &p, seed))
}

fn target_and_path(v: &Values) -> Result<(std::net::Ipv4Addr, String), RunError> {
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
    Ok((target, path))
}

fn cert(v: &Values) -> Result<LaptopCert, RunError> {
    Ok(match v.choice("vpn_cert")? {
        "none" => LaptopCert::None,
        "untrusted" => LaptopCert::Untrusted,
        "issued" => LaptopCert::Issued,
        _ => return Err(bad("vpn_cert")),
    })
}

fn openvpn_params(info: &ScenarioInfo, v: &Values) -> Result<openvpn::Params, RunError> {
    let (target, path) = target_and_path(v)?;
    Ok(openvpn::Params {
        forwarding: match v.choice("forwarding")? {
            "nat" => openvpn::Forwarding::Nat,
            "routed" => openvpn::Forwarding::Routed,
            _ => return Err(bad("forwarding")),
        },
        protection: match v.choice("control_protection")? {
            "none" => openvpn::Protection::None,
            "tls-auth" => openvpn::Protection::TlsAuth,
            "tls-crypt" => openvpn::Protection::TlsCrypt,
            _ => return Err(bad("control_protection")),
        },
        tamper: crate::tamper_param(info, v)?,
        cert: cert(v)?,
        target,
        path,
    })
}

/// The Internet capture with its TLS key log, and the office LAN capture.
pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    let t = run(info, v, seed)?;
    let c = if info.id == "vpn-openvpn" || info.id == "vpn-client-certificate" {
        let o = openvpn::captures(&t);
        cipherstage_vpn::Captures {
            internet: o.internet,
            keylog: o.keylog,
            lan: o.lan,
        }
    } else {
        cipherstage_vpn::captures(&t)
    };
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
        for (name, value) in [
            ("forwarding", "bridged"),
            ("target", "10.0.0.300"),
            ("path", ""),
            ("control_protection", "tls-crypt-v2"),
            ("flip", "1"),
        ] {
            assert!(
                crate::run("vpn-openvpn", &[(name.into(), value.into())], Some(1)).is_err(),
                "{name}={value}"
            );
        }
        assert!(crate::run(
            "vpn-client-certificate",
            &[("vpn_cert_failure".into(), "stolen".into())],
            Some(1)
        )
        .is_err());
        assert!(crate::run(
            "vpn-openvpn",
            &[("forwarding".into(), "routed".into())],
            Some(1)
        )
        .is_ok());
    }
}
