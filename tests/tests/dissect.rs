//! Wireshark reads every capture we offer: tshark dissects each scenario's pcapng
//! (decrypted with the key log or SA settings exported beside it, so the inner
//! protocols are dissected too) and reports no malformed packet and no expert
//! error or warning, except the known dissector quirks the README lists.

use std::path::{Path, PathBuf};
use std::process::Command;

use cipherstage_scenarios::{self as scenarios, ExportFile};

const TSHARK: &str = "/usr/bin/tshark";

/// One expert-info row tshark reported: severity, protocol, summary.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    severity: String,
    protocol: String,
    summary: String,
}

/// A finding the README expects: in every scenario, or in one.
#[derive(Debug)]
struct Quirk {
    scenario: Option<String>,
    protocol: String,
    summary: String,
}

/// The quirks the README lists under "Known dissector quirks":
/// `PROTOCOL: summary` (any scenario) or `SCENARIO PROTOCOL: summary`.
fn known_quirks() -> Vec<Quirk> {
    let readme =
        std::fs::read_to_string(cipherstage_tests::root().join("README.md")).expect("README.md");
    let section = readme
        .split("### Known dissector quirks")
        .nth(1)
        .expect("the README has a \"### Known dissector quirks\" section");
    section
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split_once('`'))
        .filter_map(|(q, _)| q.split_once(": "))
        .map(|(head, summary)| {
            let (scenario, protocol) = match head.split_once(' ') {
                Some((s, p)) => (Some(s.to_owned()), p.to_owned()),
                None => (None, head.to_owned()),
            };
            Quirk {
                scenario,
                protocol,
                summary: summary.to_owned(),
            }
        })
        .collect()
}

/// The `-o` options of an exported tshark settings file (the ESP SAs).
fn settings_options(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let commands: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = commands.as_str();
    while let Some(i) = rest.find("-o ") {
        rest = &rest[i + 3..];
        let (value, tail) = if let Some(q) = rest.strip_prefix('\'') {
            match q.split_once('\'') {
                Some(v) => v,
                None => break,
            }
        } else {
            rest.split_once(char::is_whitespace).unwrap_or((rest, ""))
        };
        out.push("-o".to_owned());
        out.push(value.to_owned());
        rest = tail;
    }
    out
}

/// The options that decrypt `capture` with the files exported beside it.
fn decryption_options(id: &str, files: &[ExportFile], dir: &Path) -> Vec<String> {
    // By family, not by id: sftp-* and scp-* are SSH too.
    let ssh = scenarios::find(id).is_some_and(|i| i.protocol == "ssh");
    let mut opts = Vec::new();
    for f in files {
        let path = dir.join(&f.name);
        if f.name.ends_with("-keylog.txt") {
            let key = if ssh {
                "ssh.keylog_file"
            } else {
                "tls.keylog_file"
            };
            opts.push("-o".to_owned());
            opts.push(format!("{key}:{}", path.display()));
        } else if f.name.ends_with("-tshark.txt") {
            opts.extend(settings_options(&String::from_utf8_lossy(&f.bytes)));
        }
    }
    if ssh {
        // Our SSH captures use port 22, which tshark already dissects as SSH.
        opts.push("-d".to_owned());
        opts.push("tcp.port==22,ssh".to_owned());
    }
    opts
}

/// The expert rows (errors and warnings) tshark reports for `capture`.
fn expert(capture: &Path, opts: &[String]) -> Vec<Finding> {
    assert!(
        Path::new(TSHARK).exists(),
        "{TSHARK} is missing: install tshark (the README's test command does)"
    );
    let out = Command::new(TSHARK)
        .arg("-r")
        .arg(capture)
        .args(opts)
        .args(["-q", "-z", "expert,warn"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_expert(&String::from_utf8_lossy(&out.stdout))
}

/// The rows of tshark's `-z expert` tables, with the severity of their table.
fn parse_expert(text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut severity: Option<&str> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some((head, _)) = t.split_once(" (") {
            if matches!(head, "Errors" | "Warns" | "Notes" | "Chats" | "Comments") {
                severity = Some(head);
                continue;
            }
        }
        let Some(sev) = severity else { continue };
        // Frequency, group, protocol (neither has spaces), then the summary.
        let mut cols = t.split_whitespace();
        let (Some(freq), Some(_group), Some(protocol)) = (cols.next(), cols.next(), cols.next())
        else {
            continue;
        };
        if freq.parse::<u32>().is_err() {
            continue;
        }
        let summary = cols.collect::<Vec<_>>().join(" ");
        findings.push(Finding {
            severity: sev.to_owned(),
            protocol: protocol.to_owned(),
            summary,
        });
    }
    findings
}

fn scratch(id: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cs-dissect-{}-{id}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn tshark_dissects_every_capture_without_errors() {
    let quirks = known_quirks();
    let mut captures = 0;
    let mut unexpected = Vec::new();
    let mut quirks_seen = 0;
    for info in scenarios::all() {
        let (_, files) =
            scenarios::run_with_exports(info.id, &[], Some(1)).expect("the scenario runs");
        if !files.iter().any(|f| f.name.ends_with(".pcapng")) {
            continue;
        }
        let dir = scratch(info.id);
        for f in &files {
            std::fs::write(dir.join(&f.name), &f.bytes).expect("write export");
        }
        let opts = decryption_options(info.id, &files, &dir);
        for f in files.iter().filter(|f| f.name.ends_with(".pcapng")) {
            captures += 1;
            for finding in expert(&dir.join(&f.name), &opts) {
                let known = quirks.iter().any(|q| {
                    q.scenario.as_deref().is_none_or(|s| s == info.id)
                        && q.protocol == finding.protocol
                        && finding.summary.starts_with(q.summary.as_str())
                });
                if known {
                    quirks_seen += 1;
                } else {
                    unexpected.push(format!("{}: {} {finding:?}", info.id, f.name));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(captures >= 20, "only {captures} captures were dissected");
    assert!(!quirks.is_empty(), "the README's quirk list was not read");
    assert!(
        unexpected.is_empty(),
        "tshark reports {} problems not listed as known quirks in the README:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    eprintln!("{captures} captures dissected; {quirks_seen} known quirk rows");
}

#[test]
fn the_expert_parser_reads_tshark_tables() {
    // tshark 4.0's layout, so the check above cannot pass by reading nothing.
    let sample = "\nErrors (1)\n=============\n   Frequency      Group           Protocol  Summary\n           2   Malformed          SSH  Malformed Packet (Exception occurred)\n\nWarns (1)\n=============\n   Frequency      Group           Protocol  Summary\n           1   Protocol                SSH  Decoded 19 bytes, but packet legnth is 83 bytes\n";
    let rows = parse_expert(sample);
    assert_eq!(
        rows,
        vec![
            Finding {
                severity: "Errors".into(),
                protocol: "SSH".into(),
                summary: "Malformed Packet (Exception occurred)".into(),
            },
            Finding {
                severity: "Warns".into(),
                protocol: "SSH".into(),
                summary: "Decoded 19 bytes, but packet legnth is 83 bytes".into(),
            },
        ]
    );
}
