#![cfg(not(target_arch = "wasm32"))]
//! Pasted certificates and keys: every byte explained, facts right, errors typed.

use cipherstage_scenarios::{self as scenarios, inspect::inspect};
use cipherstage_transcript::check_fields;

fn covered(i: &scenarios::inspect::Inspected) {
    check_fields(&i.fields, 0, i.bytes.len()).unwrap();
}

fn export(id: &str, name: &str) -> String {
    let files = scenarios::exports(id, &[], Some(1)).unwrap();
    let f = files.iter().find(|f| f.name == name).unwrap();
    String::from_utf8(f.bytes.clone()).unwrap()
}

#[test]
fn a_pasted_certificate_is_explained_byte_by_byte() {
    let pem = export("mtls", "mtls-certificates.pem");
    let first = pem.split("# ").nth(2).unwrap(); // the intermediate CA
    let body = &first[first.find("-----BEGIN").unwrap()..];
    let i = inspect(body).unwrap();
    assert_eq!(i.kind, "inspect.kind.certificate");
    covered(&i);
    assert!(i
        .facts
        .iter()
        .any(|(k, v)| *k == "inspect.fact.not_after" && v.ends_with("UTC")));
}

#[test]
fn a_pasted_ssh_key_shows_the_fingerprint_ssh_keygen_prints() {
    let line = export("ssh-pubkey", "ssh-pubkey-id_ed25519.pub");
    let i = inspect(&format!("  {line}\n")).unwrap();
    covered(&i);
    let fp = &i
        .facts
        .iter()
        .find(|(k, _)| *k == "inspect.fact.fingerprint")
        .unwrap()
        .1;
    let path = std::env::temp_dir().join(format!("cs-fp-{}.pub", std::process::id()));
    std::fs::write(&path, &line).unwrap();
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&path)
        .output()
        .expect("ssh-keygen (openssh-client) must be installed");
    let _ = std::fs::remove_file(&path);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(fp.as_str()), "{printed} vs {fp}");
}

#[test]
fn bad_pastes_are_typed_errors_with_offsets_and_never_panic() {
    assert_eq!(inspect("").unwrap_err().key, "inspect.error.empty");
    assert_eq!(
        inspect("ssh-dss AAAA").unwrap_err().key,
        "inspect.error.unknown_key_type"
    );
    let e = inspect("ssh-ed25519 AAA$AAAA").unwrap_err();
    assert_eq!(e.key, "inspect.error.bad_base64");
    assert_eq!(e.offset, 15);
    let e = inspect("-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap_err();
    assert_eq!(e.key, "inspect.error.pem_no_end");
    let line = export("ssh-pubkey", "ssh-pubkey-id_ed25519.pub");
    let pem = export("mtls", "mtls-certificates.pem");
    let cert = &pem[pem.find("-----BEGIN").unwrap()..pem[1..].find("# ").unwrap() + 1];
    // Every truncation and every single-character change of real inputs: no panic.
    for base in [line.as_str(), cert] {
        for cut in 0..base.len() {
            if base.is_char_boundary(cut) {
                let _ = inspect(&base[..cut]);
            }
        }
        let bytes = base.as_bytes();
        for at in (0..bytes.len()).step_by(3) {
            let mut b = bytes.to_vec();
            b[at] = b'#';
            if let Ok(s) = String::from_utf8(b) {
                if let Ok(i) = inspect(&s) {
                    covered(&i);
                }
            }
        }
    }
}

#[test]
fn a_pasted_csr_is_explained_and_its_signature_checked() {
    let pem = export("tls-certificate", "tls-certificate-server-csr.pem");
    let i = inspect(&pem).unwrap();
    assert_eq!(i.kind, "inspect.kind.csr");
    covered(&i);
    assert!(i
        .facts
        .iter()
        .any(|(k, v)| *k == "inspect.fact.csr_signature" && v == "✓"));
    // A CSR whose signature was changed still shows, with the failed check.
    let der = {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut d = cipherstage_pki_decode(&b64);
        let last = d.len() - 1;
        d[last] ^= 1;
        d
    };
    let bad = cipherstage_pki::pem::encode("CERTIFICATE REQUEST", &der);
    let i = inspect(&bad).unwrap();
    covered(&i);
    assert!(i
        .facts
        .iter()
        .any(|(k, v)| *k == "inspect.fact.csr_signature" && v.starts_with('✗')));
}

fn cipherstage_pki_decode(b64: &str) -> Vec<u8> {
    let pem = format!("-----BEGIN X-----\n{b64}\n-----END X-----\n");
    cipherstage_pki::pem::decode(&pem).unwrap().1
}

// ---------------------------------------------------------------------------
// Forgiving input (issue 11 §4): every form made by the real tools.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cs-inspect-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a tool; a missing tool or a failure fails the test.
fn tool(cmd: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} must be installed: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fact<'a>(i: &'a scenarios::inspect::Inspected, key: &str) -> Option<&'a str> {
    i.facts
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
}

fn facts<'a>(i: &'a scenarios::inspect::Inspected, key: &str) -> Vec<&'a str> {
    i.facts
        .iter()
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn all(text: &str) -> Vec<scenarios::inspect::Inspected> {
    let items = scenarios::inspect::inspect_all(text).unwrap_or_else(|e| panic!("{e:?}"));
    for i in &items {
        covered(i);
    }
    items
}

/// `ssh-keygen -t … -C comment`, in `dir`: the .pub line.
fn keygen(dir: &Path, name: &str, args: &[&str], comment: &str) -> String {
    let mut a = vec!["-q", "-N", "", "-C", comment, "-f", name];
    a.extend_from_slice(args);
    tool("ssh-keygen", &a, dir);
    std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap()
}

#[test]
fn every_key_type_ssh_keygen_makes_is_read_with_its_fingerprint_line() {
    let dir = scratch("keys");
    for (name, args, blob_len) in [
        ("id_rsa", &["-t", "rsa", "-b", "2048"][..], 279),
        ("id_rsa3072", &["-t", "rsa", "-b", "3072"][..], 407),
        ("id_ecdsa", &["-t", "ecdsa", "-b", "256"][..], 104),
        ("id_ecdsa384", &["-t", "ecdsa", "-b", "384"][..], 136),
        ("id_ecdsa521", &["-t", "ecdsa", "-b", "521"][..], 172),
        ("id_ed25519", &["-t", "ed25519"][..], 51),
    ] {
        let line = keygen(&dir, name, args, &format!("alice@{name}"));
        // The .pub file as saved (with its newline and comment).
        let items = all(&line);
        assert_eq!(items.len(), 1, "{name}");
        let i = &items[0];
        assert_eq!(i.kind, "inspect.kind.ssh_public_key");
        assert_eq!(i.bytes.len(), blob_len, "{name}");
        let printed = tool("ssh-keygen", &["-lf", &format!("{name}.pub")], &dir);
        assert_eq!(
            fact(i, "inspect.fact.keygen_line"),
            Some(printed.trim_end()),
            "{name}"
        );
        assert_eq!(
            fact(i, "inspect.fact.comment"),
            Some(&*format!("alice@{name}"))
        );
        assert_eq!(
            fact(i, "inspect.fact.line_form"),
            Some("inspect.value.form_pub")
        );
        // Without the comment, ssh-keygen says "no comment" and so do we.
        let bare: String = line.split(' ').take(2).collect::<Vec<_>>().join(" ");
        std::fs::write(dir.join("bare.pub"), format!("{bare}\n")).unwrap();
        let printed = tool("ssh-keygen", &["-lf", "bare.pub"], &dir);
        assert_eq!(
            fact(&all(&bare)[0], "inspect.fact.keygen_line"),
            Some(printed.trim_end())
        );
    }
}

#[test]
fn authorized_keys_lines_with_options_are_read_as_sshd_reads_them() {
    let dir = scratch("authkeys");
    let ed = keygen(&dir, "a", &["-t", "ed25519"], "deploy@ci");
    let rsa = keygen(&dir, "b", &["-t", "rsa", "-b", "2048"], "bob@laptop");
    let file = format!(
        "# keys allowed to log in\n\
         from=\"10.0.0.0/8,192.168.1.*\",no-pty,command=\"echo hi there\" {}\
         restrict,port-forwarding {}",
        ed, rsa
    );
    std::fs::write(dir.join("authorized_keys"), &file).unwrap();
    let printed = tool("ssh-keygen", &["-lf", "authorized_keys"], &dir);
    let lines: Vec<&str> = printed.lines().collect();
    let items = all(&file);
    assert_eq!(items.len(), 2);
    for (i, want) in items.iter().zip(&lines) {
        assert_eq!(fact(i, "inspect.fact.keygen_line"), Some(*want));
        assert_eq!(
            fact(i, "inspect.fact.line_form"),
            Some("inspect.value.form_authorized_keys")
        );
    }
    assert_eq!(
        fact(&items[0], "inspect.fact.options"),
        Some("from=\"10.0.0.0/8,192.168.1.*\",no-pty,command=\"echo hi there\"")
    );
    assert_eq!(fact(&items[0], "inspect.fact.comment"), Some("deploy@ci"));
    assert_eq!(
        fact(&items[1], "inspect.fact.options"),
        Some("restrict,port-forwarding")
    );
}

fn hmac_sha1(salt: &[u8], host: &str) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, salt);
    ring::hmac::sign(&key, host.as_bytes()).as_ref().to_vec()
}

#[test]
fn known_hosts_lines_plain_ported_listed_marked_and_hashed() {
    let dir = scratch("known");
    let ed = keygen(&dir, "h1", &["-t", "ed25519"], "");
    let ec = keygen(&dir, "h2", &["-t", "ecdsa", "-b", "384"], "");
    let ca = keygen(&dir, "ca", &["-t", "rsa", "-b", "2048"], "");
    let old = keygen(&dir, "h3", &["-t", "ecdsa", "-b", "256"], "");
    let key = |l: &str| l.split(' ').take(2).collect::<Vec<_>>().join(" ");
    let file = format!(
        "example.com,192.0.2.7 {}\n[git.example.com]:2222 {}\n@cert-authority *.example.com {}\n@revoked old.example.com {}\n",
        key(&ed),
        key(&ec),
        key(&ca),
        key(&old)
    );
    std::fs::write(dir.join("known_hosts"), &file).unwrap();
    let printed = tool("ssh-keygen", &["-lf", "known_hosts"], &dir);
    let items = all(&file);
    assert_eq!(items.len(), 4);
    for (i, want) in items.iter().zip(printed.lines()) {
        // ssh-keygen prints the host names where a .pub line has its comment.
        let fp = fact(i, "inspect.fact.fingerprint").unwrap();
        assert!(want.contains(fp), "{want} vs {fp}");
        assert_eq!(
            fact(i, "inspect.fact.line_form"),
            Some("inspect.value.form_known_hosts")
        );
    }
    assert_eq!(
        facts(&items[0], "inspect.fact.host"),
        ["example.com", "192.0.2.7"]
    );
    assert_eq!(facts(&items[1], "inspect.fact.host"), ["git.example.com"]);
    assert_eq!(fact(&items[1], "inspect.fact.port"), Some("2222"));
    assert_eq!(fact(&items[1], "inspect.fact.bits"), Some("384"));
    assert_eq!(
        fact(&items[2], "inspect.fact.marker"),
        Some("inspect.value.marker_cert_authority")
    );
    assert_eq!(fact(&items[2], "inspect.fact.host"), Some("*.example.com"));
    assert_eq!(
        fact(&items[3], "inspect.fact.marker"),
        Some("inspect.value.marker_revoked")
    );

    // ssh-keygen -H hashes every name (one line per name; lines with a marker
    // stay as they are); each hash is HMAC-SHA1 keyed with its salt over the
    // name, and both are shown as bytes.
    tool("ssh-keygen", &["-H", "-f", "known_hosts"], &dir);
    let hashed = std::fs::read_to_string(dir.join("known_hosts")).unwrap();
    assert!(hashed.contains("|1|"), "{hashed}");
    let printed = tool("ssh-keygen", &["-lf", "known_hosts"], &dir);
    let items = all(&hashed);
    let keys: Vec<_> = items
        .iter()
        .filter(|i| i.kind == "inspect.kind.ssh_public_key")
        .collect();
    assert_eq!(keys.len(), 5);
    // ssh-keygen -l lists the lines without a marker.
    let keys: Vec<_> = keys
        .into_iter()
        .filter(|i| fact(i, "inspect.fact.marker").is_none())
        .collect();
    assert_eq!(keys.len(), printed.lines().count());
    for (i, want) in keys.iter().zip(printed.lines()) {
        assert!(want.contains(fact(i, "inspect.fact.fingerprint").unwrap()));
    }
    let names: Vec<_> = items
        .iter()
        .filter(|i| i.kind == "inspect.kind.hashed_host")
        .collect();
    let hashed_lines = hashed.lines().filter(|l| l.starts_with("|1|")).count();
    // Ten key lines are read (a hashed name adds its own item); eleven are not.
    assert_eq!(all(&hashed.repeat(2)).len(), 16);
    let e = scenarios::inspect::inspect_all(&format!("{hashed}{hashed}{}", key(&ed))).unwrap_err();
    assert_eq!((e.key, e.what.as_str()), ("inspect.error.too_many", "11"));
    assert_eq!(names.len(), hashed_lines);
    assert_eq!(hashed_lines, 3, "{hashed}");
    // Every truncation of the hashed file: an answer, every byte explained, no panic.
    for cut in (0..hashed.len()).filter(|c| hashed.is_char_boundary(*c)) {
        if let Ok(items) = scenarios::inspect::inspect_all(&hashed[..cut]) {
            items.iter().for_each(covered);
        }
    }
    let mut matched = Vec::new();
    for n in &names {
        assert_eq!(n.bytes.len(), 40, "20-byte salt, 20-byte HMAC-SHA1");
        assert_eq!(n.fields[0].name, "inspect.field.hash_salt");
        assert_eq!(n.fields[1].name, "inspect.field.host_hash");
        let (salt, hash) = n.bytes.split_at(20);
        for host in [
            "example.com",
            "192.0.2.7",
            "[git.example.com]:2222",
            "old.example.com",
        ] {
            if hmac_sha1(salt, host) == hash {
                matched.push(host);
            }
        }
    }
    matched.sort();
    assert_eq!(
        matched,
        ["192.0.2.7", "[git.example.com]:2222", "example.com"]
    );
    for k in &keys {
        assert_eq!(facts(k, "inspect.fact.host"), ["inspect.value.hashed_host"]);
    }
}

fn verdicts(items: &[scenarios::inspect::Inspected]) -> Vec<(&str, &str)> {
    items
        .iter()
        .map(|i| {
            i.facts
                .iter()
                .find(|(k, _)| {
                    *k == "inspect.fact.signed_by_next" || *k == "inspect.fact.self_signed"
                })
                .map(|(k, v)| (*k, v.as_str()))
                .unwrap_or(("", ""))
        })
        .collect()
}

/// The PEM blocks of the mtls scenario's export, by their `# ` heading.
fn mtls_pems() -> Vec<(String, String)> {
    let pem = export("mtls", "mtls-certificates.pem");
    pem.split("# ")
        .skip(1)
        .map(|p| {
            let (title, rest) = p.split_once('\n').unwrap();
            (title.to_owned(), rest.to_owned())
        })
        .collect()
}

#[test]
fn a_whole_chain_is_each_certificate_checked_against_the_next() {
    // The scenario's own export, pasted whole: its "# …" notes around the PEM.
    let whole = export("mtls", "mtls-certificates.pem");
    let items = all(&whole);
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| i.kind == "inspect.kind.certificate"));
    let p = mtls_pems();
    let (root, inter, leaf) = (&p[0].1, &p[1].1, &p[2].1);
    // Leaf, intermediate, root: each signed by the next; the root by itself.
    let chain = format!("{leaf}{inter}{root}");
    let items = all(&chain);
    assert_eq!(
        verdicts(&items),
        [
            ("inspect.fact.signed_by_next", "inspect.value.signed_yes"),
            ("inspect.fact.signed_by_next", "inspect.value.signed_yes"),
            ("inspect.fact.self_signed", "inspect.value.signed_yes"),
        ]
    );
    assert_eq!(items[0].title, "www.example.com");
    // Every truncation and every changed character of the chain: no panic.
    for cut in (0..chain.len()).filter(|c| chain.is_char_boundary(*c)) {
        if let Ok(items) = scenarios::inspect::inspect_all(&chain[..cut]) {
            items.iter().for_each(covered);
        }
    }
    for at in (0..chain.len()).step_by(7) {
        let mut b = chain.as_bytes().to_vec();
        b[at] = b'#';
        if let Ok(items) = scenarios::inspect::inspect_all(&String::from_utf8(b).unwrap()) {
            items.iter().for_each(covered);
        }
    }
    // The wrong order: the root did not sign the leaf.
    let items = all(&format!("{root}{leaf}{inter}"));
    assert_eq!(verdicts(&items)[0].1, "inspect.value.signed_no");
    assert_eq!(verdicts(&items)[1].1, "inspect.value.signed_yes");
    assert_eq!(verdicts(&items)[2].1, "inspect.value.last_in_chain");
    // openssl agrees on the chain.
    let dir = scratch("chain");
    std::fs::write(dir.join("root.pem"), root).unwrap();
    std::fs::write(dir.join("inter.pem"), inter).unwrap();
    std::fs::write(dir.join("leaf.pem"), leaf).unwrap();
    let ok = Command::new("openssl")
        .args([
            "verify",
            "-no_check_time",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "inter.pem",
            "leaf.pem",
        ])
        .current_dir(&dir)
        .output()
        .expect("openssl must be installed");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    // More than ten is refused, saying how many.
    let many: String = std::iter::repeat_n(leaf.as_str(), 11).collect();
    let e = scenarios::inspect::inspect_all(&many).unwrap_err();
    assert_eq!(e.key, "inspect.error.too_many");
    assert_eq!(e.what, "11");
    assert_eq!(
        all(&std::iter::repeat_n(leaf.as_str(), 10).collect::<String>()).len(),
        10
    );
}

#[test]
fn pem_with_text_around_it_a_bom_and_openssl_x509_text_output() {
    let p = mtls_pems();
    let inter = &p[1].1;
    let dir = scratch("text");
    std::fs::write(dir.join("inter.pem"), inter).unwrap();
    // openssl x509 -text prints the decoded fields, then the PEM.
    let text = tool("openssl", &["x509", "-in", "inter.pem", "-text"], &dir);
    assert!(text.starts_with("Certificate:"), "{text}");
    let der = {
        let d = all(inter);
        d[0].bytes.clone()
    };
    let items = all(&text);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].bytes, der);
    // A note above, a BOM, Windows line ends.
    let noted = format!(
        "\u{feff}Here is our intermediate, as the admin sent it:\r\n\r\n{}\r\nthanks!\r\n",
        inter.replace('\n', "\r\n")
    );
    assert_eq!(all(&noted)[0].bytes, der);
    let bom = format!("\u{feff}{inter}");
    assert_eq!(all(&bom)[0].bytes, der);
    // A BOM before a key line, too.
    let line = export("ssh-pubkey", "ssh-pubkey-id_ed25519.pub");
    assert_eq!(all(&format!("\u{feff}{line}"))[0].bytes.len(), 51);
}

#[test]
fn rsa_and_p384_chains_made_by_openssl_are_checked_with_ring() {
    let dir = scratch("openssl");
    let sh = |args: &[&str]| tool("openssl", args, &dir);
    for (name, key) in [
        ("rsa", &["-newkey", "rsa:2048"][..]),
        (
            "p384",
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"][..],
        ),
    ] {
        let ca = format!("{name}-ca");
        let mut a = vec!["req", "-x509", "-nodes", "-days", "2", "-subj"];
        let subj = format!("/CN={name} test CA");
        a.push(&subj);
        a.extend_from_slice(key);
        let (k, c) = (format!("{ca}.key"), format!("{ca}.pem"));
        a.extend_from_slice(&["-keyout", &k, "-out", &c]);
        sh(&a);
        let lk = format!("{name}-leaf.key");
        let lcsr = format!("{name}-leaf.csr");
        let lsubj = format!("/CN={name}.example.com");
        let mut a = vec!["req", "-new", "-nodes", "-subj", &lsubj];
        a.extend_from_slice(key);
        a.extend_from_slice(&["-keyout", &lk, "-out", &lcsr]);
        sh(&a);
        let lc = format!("{name}-leaf.pem");
        sh(&[
            "x509",
            "-req",
            "-in",
            &lcsr,
            "-CA",
            &c,
            "-CAkey",
            &k,
            "-days",
            "2",
            "-out",
            &lc,
            "-set_serial",
            "7",
        ]);
        let leaf = std::fs::read_to_string(dir.join(&lc)).unwrap();
        let root = std::fs::read_to_string(dir.join(&c)).unwrap();
        let csr = std::fs::read_to_string(dir.join(&lcsr)).unwrap();
        let items = all(&format!("{leaf}{root}"));
        assert_eq!(
            verdicts(&items),
            [
                ("inspect.fact.signed_by_next", "inspect.value.signed_yes"),
                ("inspect.fact.self_signed", "inspect.value.signed_yes"),
            ],
            "{name}"
        );
        assert_ne!(
            items[0].fields[0].name, "inspect.field.unparsed",
            "{name}: annotated element by element"
        );
        assert_eq!(items[0].title, format!("{name}.example.com"));
        // A changed signature byte: no.
        let mut der = items[0].bytes.clone();
        let last = der.len() - 1;
        der[last] ^= 1;
        let bad = cipherstage_pki::pem::encode("CERTIFICATE", &der);
        assert_eq!(
            verdicts(&all(&format!("{bad}{root}")))[0].1,
            "inspect.value.signed_no",
            "{name}"
        );
        assert_eq!(all(&csr)[0].kind, "inspect.kind.csr");
        // The private key is refused, and says so.
        let key = std::fs::read_to_string(dir.join(&k)).unwrap();
        let e = scenarios::inspect::inspect_all(&format!("{leaf}{key}")).unwrap_err();
        assert_eq!(e.key, "inspect.error.private_key");
        assert_eq!(e.what, "PRIVATE KEY");
    }
}

#[test]
fn refusals_name_what_was_recognised() {
    let e = |t: &str| scenarios::inspect::inspect_all(t).unwrap_err();
    let html = e("<!DOCTYPE html>\n<html><body>-</body></html>");
    assert_eq!(html.key, "inspect.error.html");
    let random = e("the quick brown fox\njumps over");
    assert_eq!(
        (random.key, random.what.as_str()),
        ("inspect.error.unknown", "the")
    );
    let dss = e("ssh-dss AAAAB3NzaC1kc3MAAACBAP== old");
    assert_eq!(
        (dss.key, dss.what.as_str()),
        ("inspect.error.unknown_key_type", "ssh-dss")
    );
    let pubkey = e("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n");
    assert_eq!(
        (pubkey.key, pubkey.what.as_str()),
        ("inspect.error.not_a_certificate", "PUBLIC KEY")
    );
    let ossh = e("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n");
    assert_eq!(
        (ossh.key, ossh.what.as_str()),
        ("inspect.error.private_key", "OPENSSH PRIVATE KEY")
    );
    let line = export("ssh-pubkey", "ssh-pubkey-id_ed25519.pub");
    let marker = e(&format!("@trusted host.example {line}"));
    assert_eq!(
        (marker.key, marker.what.as_str()),
        ("inspect.error.bad_marker", "@trusted")
    );
    let words = e(&format!("my key is {line}"));
    assert_eq!(words.key, "inspect.error.words_before_key");
    let many: String = std::iter::repeat_n(format!("{line}\n"), 11).collect();
    assert_eq!(e(&many).key, "inspect.error.too_many");
    assert_eq!(e("\u{feff}  \n").key, "inspect.error.empty");
    // Garbage of every kind: an answer, never a panic.
    for t in [
        "|1|",
        "@revoked",
        "[x]:22 ssh-rsa",
        "from=\"a ssh-ed25519 AAAA",
        "-----BEGIN ",
        "-----BEGIN X-----",
        "\u{feff}",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQ==",
    ] {
        let _ = scenarios::inspect::inspect_all(t);
    }
}

#[test]
fn an_rfc4716_block_from_ssh_keygen_e_is_read_and_a_putty_private_key_refused() {
    let dir = scratch("ssh2");
    for (name, args) in [
        ("e", &["-t", "ecdsa", "-b", "521"][..]),
        ("r", &["-t", "rsa", "-b", "2048"][..]),
        ("d", &["-t", "ed25519"][..]),
    ] {
        let line = keygen(&dir, name, args, "carol@desk");
        let block = tool("ssh-keygen", &["-e", "-f", &format!("{name}.pub")], &dir);
        assert!(
            block.starts_with("---- BEGIN SSH2 PUBLIC KEY ----"),
            "{block}"
        );
        let items = all(&format!("Here is my key:\n{block}"));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].bytes, all(&line)[0].bytes, "{name}");
        assert_eq!(
            fact(&items[0], "inspect.fact.line_form"),
            Some("inspect.value.form_rfc4716")
        );
        // ssh-keygen -i reads it back to the same key.
        std::fs::write(dir.join("block"), &block).unwrap();
        let back = tool("ssh-keygen", &["-i", "-f", "block"], &dir);
        std::fs::write(dir.join("back.pub"), &back).unwrap();
        let printed = tool("ssh-keygen", &["-lf", "back.pub"], &dir);
        assert!(printed.contains(fact(&items[0], "inspect.fact.fingerprint").unwrap()));
    }
    let e = scenarios::inspect::inspect_all(
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 2\n",
    )
    .unwrap_err();
    assert_eq!(e.key, "inspect.error.private_key");
}
