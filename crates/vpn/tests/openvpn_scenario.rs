//! The vpn-openvpn story: every byte explained, what the office server sees under
//! NAT and routed forwarding, and the certificate failures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use cipherstage_transcript::{check_coverage, Event, Transcript};
use cipherstage_vpn::openvpn::scenario::{run, Forwarding, Params, Protection};
use cipherstage_vpn::LaptopCert;

fn narrations(t: &Transcript) -> Vec<(String, Vec<(String, String)>)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Narration(n) => Some((n.key.clone(), n.args.clone())),
            _ => None,
        })
        .collect()
}

fn arg(t: &Transcript, key: &str, name: &str) -> Option<String> {
    narrations(t)
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, a)| a.into_iter().find(|(n, _)| n == name).map(|(_, v)| v))
}

#[test]
fn nat_and_routed_show_the_server_different_sources() {
    for (fw, seen) in [
        (Forwarding::Nat, "10.0.0.1"),
        (Forwarding::Routed, "10.8.0.2"),
    ] {
        let p = Params {
            forwarding: fw,
            ..Params::default()
        };
        let t = run("vpn-openvpn", &p, Some(1));
        check_coverage(&t).unwrap();
        let keys: Vec<String> = narrations(&t).into_iter().map(|(k, _)| k).collect();
        for k in [
            "vpn.ovpn.narr.tls_up",
            "vpn.ovpn.narr.pushed",
            "vpn.narr.laptop_reads",
            "vpn.ovpn.narr.exit_received",
            "vpn.ovpn.narr.done",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k}: {keys:#?}");
        }
        assert_eq!(
            arg(&t, "vpn.narr.server_reads", "src").as_deref(),
            Some(seen)
        );
        assert_eq!(
            arg(&t, "vpn.ovpn.narr.pushed", "address").as_deref(),
            Some("10.8.0.2")
        );
        let labels: Vec<&str> = t.messages().map(|m| m.label.as_str()).collect();
        for l in [
            "vpn.ovpn.msg.hard_reset_client",
            "vpn.ovpn.msg.hard_reset_server",
            "tls.msg.client_hello",
            "vpn.ovpn.msg.key_method",
            "vpn.ovpn.msg.push_request",
            "vpn.ovpn.msg.push_reply",
            "vpn.ovpn.msg.data",
            "vpn.ovpn.msg.exit",
            "vpn.msg.forwarded_packet",
        ] {
            assert!(labels.contains(&l), "{l}: {labels:#?}");
        }
        // Both ends derived the same data-channel keys from the TLS exporter.
        let key2: Vec<&Vec<u8>> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Secret(s) if s.name == "vpn.ovpn.secret.key2" => Some(&s.bytes),
                _ => None,
            })
            .collect();
        assert_eq!(key2.len(), 2);
        assert_eq!(key2[0], key2[1]);
        assert_eq!(key2[0].len(), 256);
        // No check failed in a clean run.
        assert!(!t.events.iter().any(
            |e| matches!(e, Event::Check(c) if c.outcome != cipherstage_transcript::Outcome::Passed)
        ));
    }
}

#[test]
fn a_missing_or_foreign_certificate_ends_in_the_authentication_error() {
    for cert in [LaptopCert::None, LaptopCert::Untrusted] {
        let p = Params {
            cert,
            ..Params::default()
        };
        let t = run("vpn-openvpn", &p, Some(1));
        check_coverage(&t).unwrap();
        let keys: Vec<String> = narrations(&t).into_iter().map(|(k, _)| k).collect();
        assert!(keys.iter().any(|k| k == "vpn.narr.auth_error"), "{keys:#?}");
        assert!(!keys.iter().any(|k| k == "vpn.ovpn.narr.pushed"));
        assert!(t.events.iter().any(|e| matches!(e, Event::Alert(_))));
    }
}

/// tshark's OpenVPN dissector reads every packet of the Internet capture (UDP 1194)
/// without a malformed one, and with the key log decrypts the TLS handshake and
/// the control messages the control channel carries.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn tshark_reads_the_openvpn_capture_and_decrypts_its_control_channel() {
    use std::process::Command;
    let tshark = "/usr/bin/tshark";
    assert!(
        std::path::Path::new(tshark).exists(),
        "{tshark} is required (apt-get install tshark)"
    );
    let t = run("vpn-openvpn", &Params::default(), Some(1));
    let c = cipherstage_vpn::openvpn::scenario::captures(&t);
    let dir = std::env::temp_dir().join(format!("cipherstage-ovpn-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inet = dir.join("internet.pcapng");
    let keys = dir.join("keys.txt");
    std::fs::write(&inet, &c.internet).unwrap();
    std::fs::write(&keys, &c.keylog).unwrap();
    let out = Command::new(tshark)
        .args(["-r", inet.to_str().unwrap(), "-o"])
        .arg(format!("tls.keylog_file:{}", keys.display()))
        .args([
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-E",
            "separator=|",
        ])
        .args([
            "-e",
            "openvpn.type",
            "-e",
            "tls.handshake.type",
            "-e",
            "_ws.malformed",
        ])
        .args(["-e", "_ws.expert.severity"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    let internet = t.messages().filter(|m| m.link == 0).count();
    assert_eq!(rows.len(), internet, "{text}");
    // Every packet is OpenVPN (its opcode read), none malformed.
    assert!(
        rows.iter().all(|r| !r[0].is_empty() && r[2].is_empty()),
        "{text}"
    );
    // Decrypted with the key log: ClientHello (1), ServerHello (2), and the
    // encrypted EncryptedExtensions (8), Certificate (11), CertificateVerify (15),
    // Finished (20).
    let hs: Vec<&str> = rows
        .iter()
        .flat_map(|r| r[1].split(','))
        .filter(|s| !s.is_empty())
        .collect();
    for want in ["1", "2", "8", "11", "15", "20"] {
        assert!(hs.contains(&want), "handshake type {want}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn protected(protection: Protection) -> Transcript {
    let p = Params {
        protection,
        ..Params::default()
    };
    run("vpn-openvpn", &p, Some(1))
}

fn leaves(fields: &[cipherstage_transcript::Field], out: &mut Vec<cipherstage_transcript::Field>) {
    for f in fields {
        if f.children.is_empty() {
            out.push(f.clone());
        } else {
            leaves(&f.children, out);
        }
    }
}

/// With tls-auth and tls-crypt the story runs to the end the same way, both sides
/// hold the same static key, and every control packet carries the wrapping: with
/// tls-auth the TLS handshake is still readable (authenticated, not encrypted),
/// with tls-crypt Eve reads nothing of a control packet but its opcode, session id,
/// replay id, time and tag.
#[test]
fn tls_auth_and_tls_crypt_wrap_every_control_packet() {
    use cipherstage_transcript::Protection as P;
    for prot in [Protection::TlsAuth, Protection::TlsCrypt] {
        let t = protected(prot);
        check_coverage(&t).unwrap();
        let keys: Vec<String> = narrations(&t).into_iter().map(|(k, _)| k).collect();
        let done = match prot {
            Protection::TlsAuth => "vpn.ovpn.narr.done_tls_auth",
            _ => "vpn.ovpn.narr.done_tls_crypt",
        };
        assert!(keys.iter().any(|k| k == done), "{keys:#?}");
        assert!(keys.iter().any(|k| k == "vpn.ovpn.narr.exit_received"));
        assert!(!t.events.iter().any(
            |e| matches!(e, Event::Check(c) if c.outcome != cipherstage_transcript::Outcome::Passed)
        ));
        let statics: Vec<&Vec<u8>> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Secret(s) if s.name == "vpn.ovpn.secret.static_key" => Some(&s.bytes),
                _ => None,
            })
            .collect();
        assert_eq!(statics.len(), 2);
        assert_eq!(statics[0], statics[1]);
        let mut control = 0;
        for m in t.messages().filter(|m| m.link == 0) {
            let op = m.bytes[0] >> 3;
            if op == 9 {
                continue; // P_DATA_V2: not wrapped
            }
            control += 1;
            let mut l = Vec::new();
            leaves(&m.fields, &mut l);
            let names: Vec<&str> = l.iter().map(|f| f.name.as_str()).collect();
            assert!(
                names.contains(&"vpn.ovpn.field.wrap_packet_id"),
                "{names:?}"
            );
            assert!(names.contains(&"vpn.ovpn.field.wrap_time"), "{names:?}");
            let readable: Vec<&str> = l
                .iter()
                .filter(|f| f.protection == P::Plaintext)
                .map(|f| f.name.as_str())
                .collect();
            match prot {
                Protection::TlsAuth => {
                    assert!(names.contains(&"vpn.ovpn.field.tls_auth_hmac"));
                    // Nothing is plain: what is not the HMAC is covered by it.
                    assert!(readable.is_empty(), "{} {readable:?}", m.label);
                }
                _ => {
                    assert!(names.contains(&"vpn.ovpn.field.tls_crypt_tag"));
                    assert_eq!(
                        readable,
                        ["vpn.ovpn.field.opcode", "vpn.ovpn.field.session_id"],
                        "{}",
                        m.label
                    );
                    assert!(!l
                        .iter()
                        .any(|f| f.name.starts_with("tls.") && f.protection != P::Encrypted));
                }
            }
        }
        assert!(control > 20, "{control}");
    }
}

/// Under tls-auth and tls-crypt every flipped byte of a control packet is caught by
/// the wrapping (`vpn.ovpn.check.wrap` fails) and the sender's retransmission
/// carries the session on; a flipped data packet fails its AEAD tag.
#[test]
fn under_tls_auth_and_tls_crypt_every_flipped_control_byte_is_caught() {
    for prot in [Protection::TlsAuth, Protection::TlsCrypt] {
        let base = protected(prot);
        let n = base.messages().count();
        for (mi, m) in base.messages().enumerate().take(n) {
            if m.link != 0 {
                continue;
            }
            let control = m.bytes[0] >> 3 != 9;
            for off in [0, m.bytes.len() / 2, m.bytes.len() - 1] {
                let p = Params {
                    protection: prot,
                    tamper: Some(cipherstage_transcript::TamperAt {
                        message: mi,
                        offset: off,
                    }),
                    ..Params::default()
                };
                let t = run("vpn-openvpn", &p, Some(1));
                check_coverage(&t).unwrap();
                let failed: Vec<&str> = t
                    .events
                    .iter()
                    .filter_map(|e| match e {
                        Event::Check(c) if c.outcome != cipherstage_transcript::Outcome::Passed => {
                            Some(c.what.as_str())
                        }
                        _ => None,
                    })
                    .collect();
                let want = if control {
                    "vpn.ovpn.check.wrap"
                } else {
                    "vpn.ovpn.check.packet"
                };
                // The opcode byte of a control packet may turn it into a data packet.
                if off == 0 && control {
                    assert!(!failed.is_empty(), "{prot:?} {mi}:{off}");
                    continue;
                }
                assert!(
                    failed.contains(&want),
                    "{prot:?} {mi}:{off} {}: {failed:?}",
                    m.label
                );
                let keys: Vec<String> = narrations(&t).into_iter().map(|(k, _)| k).collect();
                assert!(!keys.iter().any(|k| k.ends_with("tamper_unnoticed")));
                if control {
                    // Dropped silently, sent again, and the story reaches its end.
                    assert!(
                        keys.iter().any(|k| k == "vpn.ovpn.narr.exit_received"),
                        "{prot:?} {mi}:{off} {}: {keys:#?}",
                        m.label
                    );
                }
            }
        }
    }
}

/// tshark reads the tls-auth capture (told the HMAC is 32 bytes: SHA-256) with the
/// replay ids we wrote, without a malformed packet, and still decrypts the TLS
/// handshake with the key log: tls-auth hides nothing. The tls-crypt capture it
/// reads as tls-crypt (replay id, time), none malformed, and no TLS handshake at
/// all: not even the ClientHello is visible.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn tshark_reads_the_tls_auth_and_tls_crypt_captures() {
    use std::process::Command;
    let tshark = "/usr/bin/tshark";
    assert!(
        std::path::Path::new(tshark).exists(),
        "{tshark} is required (apt-get install tshark)"
    );
    for (prot, prefs) in [
        (
            Protection::TlsAuth,
            &[
                "openvpn.tls_auth_detection_override:TRUE",
                "openvpn.tls_auth:TRUE",
                "openvpn.tls_auth_hmac_size:32",
            ][..],
        ),
        (Protection::TlsCrypt, &["openvpn.tls_crypt:TRUE"][..]),
    ] {
        let t = protected(prot);
        let c = cipherstage_vpn::openvpn::scenario::captures(&t);
        let dir = std::env::temp_dir().join(format!(
            "cipherstage-ovpn-tshark-{prot:?}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let inet = dir.join("internet.pcapng");
        let keys = dir.join("keys.txt");
        std::fs::write(&inet, &c.internet).unwrap();
        std::fs::write(&keys, &c.keylog).unwrap();
        let mut cmd = Command::new(tshark);
        cmd.args(["-r", inet.to_str().unwrap(), "-o"])
            .arg(format!("tls.keylog_file:{}", keys.display()));
        for p in prefs {
            cmd.args(["-o", p]);
        }
        let out = cmd
            .args(["-T", "fields", "-E", "separator=|"])
            .args(["-e", "openvpn.type", "-e", "openvpn.pid", "-e"])
            .args(["tls.handshake.type", "-e", "_ws.malformed"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
        let internet: Vec<_> = t.messages().filter(|m| m.link == 0).collect();
        assert_eq!(rows.len(), internet.len(), "{text}");
        assert!(rows.iter().all(|r| r[3].is_empty()), "{prot:?}: {text}");
        // The replay ids tshark reads are the ones our field trees show.
        let mut ours = Vec::new();
        for m in &internet {
            let mut l = Vec::new();
            leaves(&m.fields, &mut l);
            ours.push(
                l.iter()
                    .find(|f| f.name == "vpn.ovpn.field.wrap_packet_id")
                    .and_then(|f| match &f.value {
                        Some(cipherstage_transcript::Value::Uint(v)) => Some(v.to_string()),
                        _ => None,
                    })
                    .unwrap_or_default(),
            );
        }
        let theirs: Vec<String> = rows.iter().map(|r| r[1].to_owned()).collect();
        assert_eq!(theirs, ours, "{prot:?}: {text}");
        let hs: Vec<&str> = rows
            .iter()
            .flat_map(|r| r[2].split(','))
            .filter(|s| !s.is_empty())
            .collect();
        match prot {
            Protection::TlsAuth => {
                for want in ["1", "2", "8", "11", "15", "20"] {
                    assert!(hs.contains(&want), "handshake type {want}: {text}");
                }
            }
            _ => assert!(hs.is_empty(), "{text}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// vpn-client-certificate: the leaf the VPN CA issued from the laptop's CSR gets
/// it in; each failure ends in its own alert, sent by the gateway, and the
/// authentication error; every byte (CA certificate, CSR, leaf, CRL) explained.
#[test]
fn the_vpn_ca_issues_the_laptop_certificate_and_the_gateway_refuses_each_failure() {
    use cipherstage_vpn::openvpn::client_cert::{run as cc_run, CertParams, Failure};
    for (failure, alert) in [
        (Failure::None, None),
        (
            Failure::NoCertificate,
            Some("tls.alert.certificate_required"),
        ),
        (Failure::AnotherCa, Some("tls.alert.unknown_ca")),
        (Failure::Expired, Some("tls.alert.certificate_expired")),
        (Failure::Revoked, Some("tls.alert.certificate_revoked")),
    ] {
        let p = CertParams {
            failure,
            ..CertParams::default()
        };
        let t = cc_run("vpn-client-certificate", &p, Some(1));
        check_coverage(&t).unwrap();
        let labels: Vec<&str> = t.messages().map(|m| m.label.as_str()).collect();
        assert!(labels.contains(&"vpn.cc.msg.ca_certificate"));
        assert!(labels.contains(&"vpn.cc.msg.crl"));
        let enrolled = matches!(failure, Failure::None | Failure::Expired | Failure::Revoked);
        assert_eq!(labels.contains(&"vpn.cc.msg.csr"), enrolled, "{failure:?}");
        assert_eq!(labels.contains(&"vpn.cc.msg.leaf"), enrolled, "{failure:?}");
        let alerts: Vec<(usize, String)> = t
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Alert(a) => Some((a.from, a.key.clone())),
                _ => None,
            })
            .collect();
        let keys: Vec<String> = narrations(&t).into_iter().map(|(k, _)| k).collect();
        match alert {
            None => {
                assert!(alerts.is_empty(), "{alerts:?}");
                assert!(keys.iter().any(|k| k == "vpn.ovpn.narr.exit_received"));
            }
            Some(a) => {
                assert_eq!(alerts.first(), Some(&(1, a.to_owned())), "{failure:?}");
                assert!(keys.iter().any(|k| k == "vpn.narr.auth_error"), "{keys:#?}");
                assert!(!keys.iter().any(|k| k == "vpn.ovpn.narr.pushed"));
            }
        }
    }
}
