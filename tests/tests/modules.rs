//! The rule "no protocol logic in the UI" as a property of the build: the app
//! links the registry's catalogue and the worker boundary, never a core; every
//! family of the registry has its worker module.

use std::process::Command;

use cipherstage_scenarios as scenarios;

/// Every protocol core crate of the workspace (a new core joins this list).
const CORES: &[&str] = &[
    "cipherstage-tls",
    "cipherstage-pki",
    "cipherstage-ssh",
    "cipherstage-ipsec",
    "cipherstage-vpn",
    "cipherstage-smime",
    "cipherstage-hybrid",
    "cipherstage-packets",
    "cipherstage-ike",
    "cipherstage-rdp",
];

fn tree(package: &str, features: &[&str]) -> String {
    let root = cipherstage_tests::root();
    let mut c = Command::new(env!("CARGO"));
    c.current_dir(&root).args([
        "tree",
        "-p",
        package,
        "-e",
        "normal",
        "--target",
        "wasm32-unknown-unknown",
        "--prefix",
        "none",
        "--offline",
    ]);
    if !features.is_empty() {
        c.args(["--no-default-features", "--features", &features.join(",")]);
    }
    let out = c.output().expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn linked(tree: &str) -> Vec<&'static str> {
    CORES
        .iter()
        .copied()
        .filter(|c| tree.lines().any(|l| l.starts_with(&format!("{c} "))))
        .collect()
}

#[test]
fn the_app_links_no_protocol_core() {
    let t = tree("cipherstage-app", &[]);
    assert!(t.contains("cipherstage-scenarios "), "{t}");
    assert_eq!(linked(&t), Vec::<&str>::new(), "{t}");
}

#[test]
fn a_worker_module_links_its_family_and_the_catalogue_check_can_fail() {
    // The check above can fail: the TLS module does link the TLS core.
    let t = tree("cipherstage-worker", &["tls"]);
    let l = linked(&t);
    assert!(
        l.contains(&"cipherstage-tls") && l.contains(&"cipherstage-pki"),
        "{l:?}"
    );
    assert!(
        !l.contains(&"cipherstage-ssh"),
        "one family per module: {l:?}"
    );
    let t = tree("cipherstage-worker", &["ssh"]);
    assert_eq!(linked(&t), vec!["cipherstage-ssh"]);
}

#[test]
fn every_family_has_a_worker_module_and_a_worker_feature() {
    let root = cipherstage_tests::root();
    let xtask = std::fs::read_to_string(root.join("crates/xtask/src/modules.rs")).unwrap();
    let start = xtask
        .find("pub const MODULES")
        .expect("MODULES in crates/xtask/src/modules.rs");
    let list = &xtask[start..];
    let list = &list[..list.find("];").expect("the end of MODULES")];
    let listed: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
    let mut expected: Vec<&str> = scenarios::family_ids().collect();
    expected.push(scenarios::wire::INSPECT_MODULE);
    assert_eq!(
        listed, expected,
        "MODULES must list every family, then inspect"
    );
    let worker = std::fs::read_to_string(root.join("crates/worker/Cargo.toml")).unwrap();
    for m in &expected {
        assert!(
            worker.lines().any(|l| l.starts_with(&format!("{m} = ["))),
            "crates/worker/Cargo.toml has no feature {m}"
        );
    }
    for info in scenarios::all() {
        assert!(expected.contains(&info.protocol), "{}", info.id);
    }
}
