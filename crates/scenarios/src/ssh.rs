//! SSH scenarios: our client and our server (crates/ssh) over an in-memory link.

use cipherstage_ssh::scenario::{Params, ScenarioKind};
use cipherstage_ssh::transfer::{run_scp, run_sftp, ScpStory, SftpStory, TransferParams};
use cipherstage_ssh::{kex, run as run_ssh};
use cipherstage_transcript::Transcript;

#[allow(unused_imports)]
use crate::catalog::ssh::*;
use crate::{bad, RunError, ScenarioInfo, Values};

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    if info.id == "ssh-bastion" || info.id == "ssh-docker" {
        return run_bastion(info, v, seed);
    }
    if info.id == "ssh-remote-forward" {
        let user = v.text("user")?;
        if user.is_empty() {
            return Err(bad("user"));
        }
        let p = cipherstage_ssh::remote::RemoteParams {
            cipher: cipher(v)?.into(),
            user,
            tamper: crate::tamper_param(info, v)?,
        };
        return Ok(cipherstage_ssh::remote::run(info.id, &p, seed));
    }
    if info.id == "sftp-bulk" {
        return run_bulk(info, v, seed);
    }
    if let Some(story) = sftp_story(info.id) {
        return run_transfer(info, v, seed, Story::Sftp(story));
    }
    match info.id {
        "scp-upload" => return run_transfer(info, v, seed, Story::Scp(ScpStory::Upload)),
        "scp-download" => return run_transfer(info, v, seed, Story::Scp(ScpStory::Download)),
        _ => {}
    }
    let kind = match info.id {
        "ssh-pubkey" => ScenarioKind::PublicKey,
        "ssh-key-rejected" => ScenarioKind::KeyRejected,
        "ssh-password" => ScenarioKind::Password,
        "ssh-first-connect" => ScenarioKind::FirstConnect,
        "ssh-hostkey-changed" => ScenarioKind::HostKeyChanged,
        "ssh-tamper" => ScenarioKind::Tamper,
        "ssh-bad-signature" => ScenarioKind::BadSignature,
        "ssh-rekey" => ScenarioKind::Rekey,
        other => return Err(RunError::UnknownScenario(other.to_owned())),
    };
    let cipher = cipher(v)?;
    let tamper = crate::tamper_param(info, v)?;
    let user = v.text("user")?;
    if user.is_empty() {
        return Err(bad("user"));
    }
    let defaults = Params::default();
    let has = |name: &str| info.params.iter().any(|p| p.name == name);
    let kex_alg = if has("kex") {
        v.choice("kex")?.to_owned()
    } else {
        defaults.kex.clone()
    };
    let host_key = if has("host_key") {
        v.choice("host_key")?.to_owned()
    } else {
        defaults.host_key.clone()
    };
    let p = Params {
        kind,
        kex: kex_alg,
        host_key,
        cipher: cipher.into(),
        user,
        command: if info.params.iter().any(|p| p.name == "command") {
            v.text("command")?
        } else {
            defaults.command.clone()
        },
        password: if info.params.iter().any(|p| p.name == "password") {
            v.text("password")?
        } else {
            defaults.password.clone()
        },
        tamper,
        strict: !info.params.iter().any(|p| p.name == "strict_kex")
            || v.choice("strict_kex")? == "on",
    };
    Ok(run_ssh(info.id, &p, seed))
}

/// The cipher parameter as the core names it; a choice without a mapping is an error.
fn cipher(v: &Values) -> Result<&'static str, RunError> {
    match v.choice("cipher")? {
        "chacha20-poly1305" => Ok(kex::CHACHA),
        "aes256-gcm" => Ok(kex::AES256_GCM),
        _ => Err(bad("cipher")),
    }
}

/// ssh-bastion and ssh-docker: port forwarding through the bastion to the internal
/// web server (or ProxyJump to its sshd), through the docker host to the container.
fn run_bastion(info: &ScenarioInfo, v: &Values, seed: Option<u64>) -> Result<Transcript, RunError> {
    let cipher = cipher(v)?;
    let user = v.text("user")?;
    if user.is_empty() {
        return Err(bad("user"));
    }
    let forward_host = v.text("forward_host")?.trim().to_owned();
    if forward_host.is_empty() {
        return Err(bad("forward_host"));
    }
    let forward_port = u32::try_from(v.number("forward_port")?)
        .ok()
        .filter(|p| (1..=65535).contains(p))
        .ok_or_else(|| bad("forward_port"))?;
    use cipherstage_ssh::bastion::{Hop, Publish, Scene};
    let has = |name: &str| info.params.iter().any(|p| p.name == name);
    let hop = if has("hop") {
        match v.choice("hop")? {
            "direct" => Hop::Direct,
            "proxyjump" => Hop::ProxyJump,
            _ => return Err(bad("hop")),
        }
    } else {
        Hop::Direct
    };
    let publish = if has("publish") {
        match v.choice("publish")? {
            "ssh-tunnel" => Publish::SshTunnel,
            "docker-p" => Publish::DockerPort,
            _ => return Err(bad("publish")),
        }
    } else {
        Publish::SshTunnel
    };
    let p = cipherstage_ssh::bastion::BastionParams {
        cipher: cipher.into(),
        user,
        forward_host,
        forward_port,
        tamper: crate::tamper_param(info, v)?,
        scene: if info.id == "ssh-docker" {
            Scene::Docker
        } else {
            Scene::Bastion
        },
        hop,
        publish,
    };
    Ok(cipherstage_ssh::bastion::run(info.id, &p, seed))
}

/// sftp-bulk: a large upload, its middle summed up.
fn run_bulk(info: &ScenarioInfo, v: &Values, seed: Option<u64>) -> Result<Transcript, RunError> {
    let mb = usize::try_from(v.number("size_mb")?)
        .ok()
        .filter(|n| (1..=cipherstage_ssh::bulk::MAX_MB).contains(n))
        .ok_or_else(|| bad("size_mb"))?;
    let user = v.text("user")?;
    if user.is_empty()
        || user.contains('/')
        || user.chars().any(char::is_control)
        || user == ".."
        || user == "."
    {
        return Err(bad("user"));
    }
    let p = TransferParams {
        cipher: cipher(v)?.into(),
        user,
        tamper: None,
    };
    // The worker's progress bar hears each whole percent (a no-op outside it).
    Ok(cipherstage_ssh::transfer::run_bulk(
        info.id,
        &p,
        mb,
        seed,
        crate::wire::report_progress,
    ))
}

/// The SFTP story of a scenario id.
fn sftp_story(id: &str) -> Option<SftpStory> {
    match id {
        "sftp-upload" => Some(SftpStory::Upload),
        "sftp-download" => Some(SftpStory::Download),
        "sftp-denied" => Some(SftpStory::Denied),
        "sftp-resume" => Some(SftpStory::Resume),
        _ => None,
    }
}

/// A file transfer story: SFTP, or SCP's classic protocol.
enum Story {
    Sftp(SftpStory),
    Scp(ScpStory),
}

/// sftp-* and scp-*: file transfer on the sftp subsystem or an `scp -t`/`-f` exec.
fn run_transfer(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
    story: Story,
) -> Result<Transcript, RunError> {
    let user = v.text("user")?;
    // The user names the home directory: one path segment of printable characters.
    if user.is_empty()
        || user.contains('/')
        || user.chars().any(char::is_control)
        || user == ".."
        || user == "."
    {
        return Err(bad("user"));
    }
    let p = TransferParams {
        cipher: cipher(v)?.into(),
        user,
        tamper: crate::tamper_param(info, v)?,
    };
    Ok(match story {
        Story::Sftp(s) => run_sftp(info.id, s, &p, seed),
        Story::Scp(s) => run_scp(info.id, s, &p, seed),
    })
}

/// The run as a pcapng capture (TCP port 22) and the key-log line that lets
/// Wireshark/tshark decrypt it (`ssh.keylog_file`).
pub(crate) fn run_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
    let shown = run(info, v, seed)?;
    let mut t = shown.clone();
    // Only the SSH connection on the first link goes into the capture (ssh-bastion's
    // private HTTP link, or ProxyJump's inner SSH there, is another TCP connection).
    t.events.retain(|e| {
        !matches!(e, cipherstage_transcript::Event::Message(m) if m.protocol != "ssh" || m.link != 0)
    });
    let client = t
        .actors
        .iter()
        .position(|a| a.role == cipherstage_transcript::Role::Client)
        .unwrap_or(0);
    // sftp-bulk's transcript leaves out the middle of the upload, so a capture made
    // from it would jump over thousands of packets (and their sequence numbers, so
    // Wireshark's decryption would fail there): it offers no capture or key log.
    let whole = info.id != "sftp-bulk";
    let mut files = Vec::new();
    if whole {
        files.push(crate::ExportFile {
            name: format!("{}-capture.pcapng", info.id),
            label: "ui.export_pcapng",
            mime: "application/vnd.tcpdump.pcap",
            bytes: cipherstage_ssh::pcap::to_pcapng(&t, client, 22),
        });
    }
    // The demo user key the client logs in with, as ssh-keygen would write it.
    if let Some(user) = cipherstage_ssh::scenario::demo_key("cipherstage demo user key") {
        files.push(crate::ExportFile {
            name: format!("{}-id_ed25519", info.id),
            label: "ui.export_private_key",
            mime: "text/plain",
            bytes: user
                .to_openssh_private("cipherstage-demo-user")
                .into_bytes(),
        });
        files.push(crate::ExportFile {
            name: format!("{}-id_ed25519.pub", info.id),
            label: "ui.export_public_key",
            mime: "text/plain",
            bytes: format!("{}\n", user.public().to_openssh("cipherstage-demo-user")).into_bytes(),
        });
    }
    // Only the key-log line: `tshark -d tcp.port==22,ssh -o ssh.keylog_file:FILE`
    // (tshark 4.0 decrypts chacha20-poly1305 only with strict_kex=off).
    if let Some(line) = cipherstage_ssh::pcap::keylog(&t, client).filter(|_| whole) {
        files.push(crate::ExportFile {
            name: format!("{}-keylog.txt", info.id),
            label: "ui.export_keys",
            mime: "text/plain",
            bytes: line.into_bytes(),
        });
    }
    Ok((shown, files))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::collections::{BTreeMap, BTreeSet};

    use cipherstage_transcript::{check_coverage, Event};

    use super::SCENARIOS;
    use crate::ParamKind;

    /// Every `key = value` line of every catalogue file of `lang`, with its file.
    fn catalogue(lang: &str) -> BTreeMap<String, (String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../app/i18n/").to_owned() + lang;
        let mut out = BTreeMap::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (k, v) = line
                    .split_once(" = ")
                    .unwrap_or_else(|| panic!("{name}: not `key = value`: {line}"));
                let prev = out.insert(k.trim().to_owned(), (name.clone(), v.to_owned()));
                assert!(prev.is_none(), "{lang}: key {k} defined twice ({name})");
            }
        }
        out
    }

    fn placeholders(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            let after = &rest[i + 1..];
            let Some(j) = after.find('}') else { break };
            out.insert(after[..j].to_owned());
            rest = &after[j + 1..];
        }
        out
    }

    /// Runs every ssh scenario with several parameter sets.
    fn transcripts() -> Vec<cipherstage_transcript::Transcript> {
        let mut out = Vec::new();
        for info in SCENARIOS {
            for cipher in super::CIPHERS {
                let mut sets = vec![vec![("cipher".to_owned(), (*cipher).to_owned())]];
                if info.params.iter().any(|p| p.name == "command") {
                    sets.push(vec![("command".into(), "whoami".into())]);
                }
                if info.id == "ssh-pubkey" {
                    sets.push(vec![("strict_kex".into(), "off".into())]);
                }
                if info.params.iter().any(|p| p.name == "host_key") {
                    let mut set = vec![("host_key".to_owned(), "ecdsa-sha2-nistp256".to_owned())];
                    if info.params.iter().any(|p| p.name == "kex") {
                        set.push(("kex".into(), "ecdh-sha2-nistp256".into()));
                    }
                    sets.push(set);
                }
                if info.id == "ssh-password" {
                    sets.push(vec![("password".into(), "wrong".into())]);
                }
                if info.id == "ssh-bastion" {
                    sets.push(vec![("forward_host".into(), "192.168.1.10".into())]);
                    sets.push(vec![("forward_host".into(), "intranet".into())]);
                    sets.push(vec![("forward_port".into(), "22".into())]);
                    for flip in ["5:10", "20:3", "22:5", "23:40"] {
                        sets.push(vec![("flip".into(), flip.into())]);
                    }
                    sets.push(vec![("hop".into(), "proxyjump".into())]);
                    sets.push(vec![
                        ("hop".into(), "proxyjump".into()),
                        ("forward_host".into(), "192.168.1.10".into()),
                    ]);
                    sets.push(vec![
                        ("hop".into(), "proxyjump".into()),
                        ("forward_host".into(), "10.0.0.9".into()),
                    ]);
                    sets.push(vec![
                        ("hop".into(), "proxyjump".into()),
                        ("flip".into(), "40:30".into()),
                    ]);
                }
                if info.id == "ssh-docker" {
                    sets.push(vec![("publish".into(), "docker-p".into())]);
                    sets.push(vec![("forward_host".into(), "172.17.0.3".into())]);
                    sets.push(vec![("flip".into(), "25:20".into())]);
                }
                if info.id == "ssh-tamper" {
                    for flip in ["2:10", "2:1000", "5:60", "0:3", "8:1", "14:30", "20:9"] {
                        sets.push(vec![("flip".into(), flip.into())]);
                    }
                }
                for (i, set) in sets.iter().enumerate() {
                    let t = crate::run(info.id, set, Some(i as u64 + 1))
                        .unwrap_or_else(|e| panic!("{} {set:?}: {e:?}", info.id));
                    check_coverage(&t).unwrap_or_else(|e| panic!("{}: {e}", info.id));
                    out.push(t);
                }
            }
        }
        out
    }

    #[test]
    fn every_ssh_scenario_is_explained_and_deterministic() {
        for info in SCENARIOS {
            let a = crate::run(info.id, &[], Some(5)).unwrap();
            let b = crate::run(info.id, &[], Some(5)).unwrap();
            check_coverage(&a).unwrap();
            assert_eq!(a, b, "{}", info.id);
            assert!(a.messages().count() >= 6, "{}", info.id);
        }
        let bad = crate::run("ssh-pubkey", &[("cipher".into(), "rc4".into())], Some(1));
        assert!(bad.is_err());
        let bad = crate::run("ssh-tamper", &[("flip".into(), "x".into())], Some(1));
        assert!(bad.is_err());
    }

    fn narration_keys(t: &cipherstage_transcript::Transcript) -> Vec<&str> {
        t.events
            .iter()
            .filter_map(|e| match e {
                Event::Narration(n) => Some(n.key.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn bastion_forwards_inside_the_private_network_only() {
        let ok = crate::run("ssh-bastion", &[], Some(3)).unwrap();
        let keys = narration_keys(&ok);
        assert!(keys.contains(&"ssh.narr.bastion.done"), "{keys:?}");
        // Eve's link carries only SSH; the private link only the plain HTTP exchange.
        for m in ok.messages() {
            assert_eq!(m.protocol == "ssh", m.link == 0, "{}", m.label);
        }
        let http: Vec<_> = ok.messages().filter(|m| m.link == 1).collect();
        assert_eq!(http.len(), 2);
        assert!(http[0]
            .bytes
            .starts_with(b"GET / HTTP/1.1\r\nHost: 10.0.0.5\r\n"));
        assert!(http[1].bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert_eq!(ok.links[0].observers, vec![3]);
        assert!(ok.links[1].observers.is_empty());
        for (host, port, reason) in [
            ("192.168.1.10", "80", "administratively prohibited"),
            ("10.0.0.5", "22", "connect failed"),
        ] {
            let t = crate::run(
                "ssh-bastion",
                &[
                    ("forward_host".into(), host.into()),
                    ("forward_port".into(), port.into()),
                ],
                Some(3),
            )
            .unwrap();
            check_coverage(&t).unwrap();
            assert!(t.messages().all(|m| m.link == 0));
            assert!(t
                .messages()
                .any(|m| m.label == "ssh.msg.channel_open_failure"));
            let refused = t.events.iter().any(|e| {
                matches!(e, Event::Narration(n) if n.key == "ssh.narr.bastion.client_refused"
                    && n.args.iter().any(|(k, v)| k == "reason" && v == reason))
            });
            assert!(refused, "{host}:{port}");
            let policy_failed = t.events.iter().any(|e| {
                matches!(e, Event::Check(c) if c.what == "ssh.check.forward_policy"
                    && c.outcome != cipherstage_transcript::Outcome::Passed)
            });
            assert_eq!(policy_failed, host != "10.0.0.5");
        }
        for bad in [
            ("forward_port", "0"),
            ("forward_port", "70000"),
            ("forward_host", " "),
        ] {
            let r = crate::run("ssh-bastion", &[(bad.0.into(), bad.1.into())], Some(1));
            assert!(r.is_err(), "{bad:?}");
        }
        // Eve flips a byte of the bastion's encrypted answer: the laptop's tag check fails.
        let n = ok
            .messages()
            .position(|m| m.label == "ssh.msg.channel_data" && m.from == 1)
            .unwrap();
        let t = crate::run(
            "ssh-bastion",
            &[("flip".into(), format!("{n}:20"))],
            Some(3),
        )
        .unwrap();
        assert!(t
            .events
            .iter()
            .any(|e| matches!(e, Event::Alert(a) if a.key == "ssh.alert.mac_error")));
        // A flip counted onto the private link changes nothing: Eve is not there.
        let lan = ok.messages().position(|m| m.link == 1).unwrap();
        let t = crate::run(
            "ssh-bastion",
            &[("flip".into(), format!("{lan}:3"))],
            Some(3),
        )
        .unwrap();
        assert_eq!(t, ok);
    }

    #[test]
    fn docker_forwarding_hides_from_eve_what_the_published_port_shows() {
        let ok = crate::run("ssh-docker", &[], Some(2)).unwrap();
        check_coverage(&ok).unwrap();
        let keys = narration_keys(&ok);
        assert!(keys.contains(&"ssh.narr.docker.done"), "{keys:?}");
        assert!(keys.contains(&"ssh.narr.docker.contrast"), "{keys:?}");
        // On the Internet only SSH; on the docker0 bridge the plain HTTP to 172.17.0.2.
        for m in ok.messages() {
            assert_eq!(m.protocol == "ssh", m.link == 0, "{}", m.label);
        }
        let http: Vec<_> = ok.messages().filter(|m| m.link == 1).collect();
        assert_eq!(http.len(), 2);
        assert!(http[0]
            .bytes
            .starts_with(b"GET / HTTP/1.1\r\nHost: 172.17.0.2\r\n"));
        assert!(http[1].bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(http[1].bytes.ends_with(b"docker0 bridge.</p>\n"));
        // The reply the container sent is what the laptop's channel delivered, inside
        // an encrypted CHANNEL_DATA Eve saw but cannot read.
        assert!(!ok
            .messages()
            .filter(|m| m.link == 0)
            .any(|m| m.bytes.windows(8).any(|w| w == b"HTTP/1.1")));
        // Docker's published port: the same request crosses Eve's link in the clear.
        let p = crate::run(
            "ssh-docker",
            &[("publish".into(), "docker-p".into())],
            Some(2),
        )
        .unwrap();
        check_coverage(&p).unwrap();
        let eve: Vec<_> = p.messages().filter(|m| m.link == 0).collect();
        assert_eq!(eve.len(), 2);
        assert!(eve.iter().all(|m| m.protocol == "http"));
        assert!(eve[0]
            .bytes
            .starts_with(b"GET / HTTP/1.1\r\nHost: docker-host.example:8080\r\n"));
        assert!(eve[1].bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
        // No container at another bridge address: connect failed, no policy check.
        let t = crate::run(
            "ssh-docker",
            &[("forward_host".into(), "172.17.0.3".into())],
            Some(2),
        )
        .unwrap();
        assert!(t
            .messages()
            .any(|m| m.label == "ssh.msg.channel_open_failure"));
        assert!(!t
            .events
            .iter()
            .any(|e| matches!(e, Event::Check(c) if c.what == "ssh.check.forward_policy")));
    }

    #[test]
    fn proxyjump_carries_a_whole_inner_connection_in_the_outer_channel() {
        let t = crate::run(
            "ssh-bastion",
            &[("hop".into(), "proxyjump".into())],
            Some(3),
        )
        .unwrap();
        check_coverage(&t).unwrap();
        let keys = narration_keys(&t);
        assert!(keys.contains(&"ssh.narr.jump.done"), "{keys:?}");
        assert_eq!(t.actors[2].name, "ssh.actor.jump_target");
        // The private link carries the inner SSH connection, from its version line on.
        let lan: Vec<_> = t.messages().filter(|m| m.link == 1).collect();
        assert!(lan.iter().all(|m| m.protocol == "ssh"));
        assert_eq!(lan[0].label, "ssh.msg.version");
        assert!(lan.iter().any(|m| m.label == "ssh.msg.kex_ecdh_init"));
        assert!(lan
            .iter()
            .any(|m| m.label == "ssh.msg.channel_request_exec"));
        // Every inner packet the bastion wrote to the private link came out of an
        // outer CHANNEL_DATA: its bytes sit inside a field named inner_ssh_packet.
        fn inner(f: &[cipherstage_transcript::Field], out: &mut Vec<(usize, usize)>) {
            for x in f {
                if x.name == "ssh.field.inner_ssh_packet" {
                    out.push((x.start, x.end));
                }
                inner(&x.children, out);
            }
        }
        let mut carried = 0;
        for m in t.messages().filter(|m| m.link == 0) {
            let mut spans = Vec::new();
            inner(&m.fields, &mut spans);
            carried += spans.len();
        }
        assert_eq!(carried, lan.len());
        // Two key exchanges: the laptop's and the target's secrets of the inner one.
        let ks = |owner: usize| {
            t.events
                .iter()
                .filter(|e| matches!(e, Event::Secret(s) if s.owner == owner && s.name == "ssh.secret.shared_k"))
                .count()
        };
        assert_eq!(ks(0), 2);
        assert_eq!(ks(1), 1);
        assert_eq!(ks(2), 1);
        // The bastion's policy still holds for the second hop.
        let r = crate::run(
            "ssh-bastion",
            &[
                ("hop".into(), "proxyjump".into()),
                ("forward_host".into(), "192.168.1.10".into()),
            ],
            Some(3),
        )
        .unwrap();
        assert!(narration_keys(&r).contains(&"ssh.narr.jump.refused"));
        assert!(r.messages().all(|m| m.link == 0));
        assert_eq!(
            t,
            crate::run(
                "ssh-bastion",
                &[("hop".into(), "proxyjump".into())],
                Some(3)
            )
            .unwrap()
        );
    }

    #[test]
    fn sftp_bulk_shows_both_ends_and_sums_up_the_middle_of_100_mib() {
        let t = crate::run("sftp-bulk", &[], Some(1)).unwrap();
        check_coverage(&t).unwrap();
        assert_eq!(t, crate::run("sftp-bulk", &[], Some(1)).unwrap());
        let writes: Vec<_> = t
            .messages()
            .filter(|m| m.label == "sftp.msg.write" && m.bytes.len() > 32 * 1024)
            .collect();
        // Two whole WRITEs at each end; the rest is summed up.
        assert_eq!(writes.len(), 4);
        assert!(t.messages().count() < 100);
        let json = t.to_json();
        assert!(json.len() < 1_000_000, "{}", json.len());
        let arg = |n: &cipherstage_transcript::Narration, k: &str| {
            n.args
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let summary = t
            .events
            .iter()
            .find_map(|e| match e {
                Event::Narration(n) if n.key == "sftp.narr.bulk.summary" => Some(n),
                _ => None,
            })
            .unwrap();
        assert_eq!(arg(summary, "size"), "100.0");
        assert_eq!(arg(summary, "writes"), "3200");
        assert_eq!(arg(summary, "rekeys"), "3");
        let packets: u64 = arg(summary, "packets").parse().unwrap();
        let bytes: u64 = arg(summary, "bytes").parse().unwrap();
        assert!(packets > 9000, "{packets}");
        // More on the wire than the file: headers, MACs, STATUS answers.
        assert!(bytes > 100 * 1024 * 1024, "{bytes}");
        // The re-keys are in the transcript where they happened, with new secrets.
        let kexinits = t
            .messages()
            .filter(|m| m.label == "ssh.msg.kexinit")
            .count();
        assert_eq!(kexinits, 2 * 4);
        // The server checked the whole file's SHA-256.
        assert!(t.events.iter().any(|e| matches!(e, Event::Check(c)
            if c.what == "sftp.check.file_identical"
                && c.outcome == cipherstage_transcript::Outcome::Passed)));
        let small = crate::run("sftp-bulk", &[("size_mb".into(), "2".into())], Some(1)).unwrap();
        check_coverage(&small).unwrap();
        // Through the worker's entry point, the run reports its progress.
        let heard = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let h = std::rc::Rc::clone(&heard);
        let req = crate::wire::Request::Run {
            id: "sftp-bulk".into(),
            params: vec![("size_mb".into(), "3".into())],
            seed: Some(1),
        }
        .to_json();
        let out = crate::wire::handle_reporting(&req, move |f| h.borrow_mut().push(f));
        assert!(out.contains("sftp.narr.bulk.summary"), "{out:.300}");
        let heard = heard.borrow();
        assert!(heard.len() >= 90, "{}", heard.len());
        assert!(heard.windows(2).all(|w| w[0] < w[1]));
        assert!(heard.last().is_some_and(|f| *f > 0.99));
        for bad in ["0", "1025", "x"] {
            assert!(crate::run("sftp-bulk", &[("size_mb".into(), bad.into())], Some(1)).is_err());
        }
    }

    #[test]
    fn every_ssh_text_key_exists_in_english_and_japanese() {
        let en = catalogue("en");
        let ja = catalogue("ja");
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for info in SCENARIOS {
            keys.insert(info.title_key());
            keys.insert(info.summary_key());
            for p in info.params {
                keys.insert(p.label_key());
                if let ParamKind::Choice(options) = p.kind {
                    for o in options {
                        keys.insert(format!("param.{}.{o}", p.name));
                    }
                }
            }
        }
        // Keys the core can emit outside these runs (other failures, pasted-key errors).
        for k in [
            "ssh.alert.protocol_error",
            "ssh.alert.mac_error",
            "ssh.alert.key_exchange_failed",
            "ssh.alert.bad_host_signature",
            "ssh.alert.host_key_changed",
            "ssh.alert.host_key_not_verifiable",
            "ssh.alert.no_more_auth_methods",
            "ssh.alert.peer_disconnected",
            "ssh.alert.internal_error",
            "ssh.keyerr.empty",
            "ssh.keyerr.unknown_type",
            "ssh.keyerr.missing_data",
            "ssh.keyerr.bad_base64",
            "ssh.keyerr.bad_blob",
            "ssh.keyerr.type_mismatch",
            "ssh.keyerr.bad_length",
            "ssh.narr.strict_off",
            "ssh.narr.neg.kex_skipped",
            "ssh.narr.neg.host_key_skipped",
            "ssh.narr.neg.cipher_c2s_skipped",
            "ssh.narr.neg.cipher_s2c_skipped",
            "ssh.narr.neg.comp_skipped",
        ] {
            keys.insert(k.to_owned());
        }
        let mut args: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for t in transcripts() {
            keys.extend(t.text_keys().into_iter().map(str::to_owned));
            for e in &t.events {
                if let Event::Narration(n) = e {
                    args.entry(n.key.clone())
                        .or_default()
                        .extend(n.args.iter().map(|(k, _)| k.clone()));
                }
            }
        }
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !en.contains_key(*k) || !ja.contains_key(*k))
            .map(|k| {
                format!(
                    "{k} (en: {}, ja: {})",
                    en.contains_key(k),
                    ja.contains_key(k)
                )
            })
            .collect();
        assert!(missing.is_empty(), "missing keys:\n{}", missing.join("\n"));
        // Placeholders: the same set in both languages, and exactly what the core passes.
        for (k, (file, v)) in &en {
            if file != "ssh.txt" {
                continue;
            }
            let (_, j) = ja.get(k).unwrap_or_else(|| panic!("{k} missing in ja"));
            assert_eq!(placeholders(v), placeholders(j), "{k}");
            if let Some(given) = args.get(k) {
                assert_eq!(&placeholders(v), given, "{k}");
            }
        }
        for (k, (file, _)) in &ja {
            if file == "ssh.txt" {
                assert!(en.contains_key(k), "{k} only in ja");
            }
        }
    }
}
