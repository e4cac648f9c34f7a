//! Installing what is missing, checked first so a second run installs nothing.

use std::path::Path;
use std::process::Command;

use crate::{cmd, run};

/// What a command needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Building and serving the app.
    Serve,
    /// Everything the tests use, including browsers and real peers.
    Test,
}

/// Trunk's version; 0.22 needs a newer rustc than this machine kind has.
const TRUNK: &str = "0.21.14";
/// Debian packages and what they are for.
const APT_SERVE: &[&str] = &["clang"];
const APT_TEST: &[&str] = &[
    "clang",           // ring's C code for wasm32
    "chromium",        // headless browser for wasm tests and Playwright
    "chromium-driver", // wasm-bindgen-test-runner drives it
    "fonts-noto-cjk",  // Japanese text in screenshots
    "tshark",          // decrypts our exported captures in interop tests
    "openssh-server",  // sshd -i, a real SSH peer
    "openssh-client",  // ssh, ssh-keygen
    "putty-tools",     // plink, psftp, pscp, puttygen: PuTTY 0.78 as a real SSH client
    "openssl",         // s_server / s_client, a real TLS peer
    // strongSwan's charon and swanctl, a real IKEv2 peer; the plugins it needs (gcm,
    // openssl, curve25519, kernel-libipsec) are only recommended packages, so named.
    "strongswan-charon",
    "strongswan-swanctl",
    "libstrongswan-standard-plugins",
    "libstrongswan-extra-plugins",
    "libcharon-extra-plugins",
    "iproute2",           // ip netns: the strongSwan test runs charon in its own namespace
    "swaks",              // a real SMTP client (STARTTLS, TLS on connect, AUTH PLAIN)
    "libnet-ssleay-perl", // swaks's TLS
    "python3-aiosmtpd",   // a real SMTP server (STARTTLS, implicit TLS) for our client
    "dovecot-imapd",      // a real IMAP server (993) for our IMAP client
    "openvpn",            // openvpn 2.6: a real OpenVPN server (in a namespace, tun) and client
    "xrdp",               // a real RDP server (0.9.21, TLS) for our RDP client
    "poppler-utils",      // pdftoppm: the printed handout PDF turned into PNGs
];

/// PATH with the npm tools (wasm-opt, playwright) and cargo's bin first.
pub fn tool_path() -> String {
    let mut parts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        parts.push(
            cwd.join("tests/e2e/node_modules/.bin")
                .display()
                .to_string(),
        );
    }
    if let Ok(home) = std::env::var("HOME") {
        parts.push(format!("{home}/.cargo/bin"));
    }
    if let Ok(p) = std::env::var("PATH") {
        parts.push(p);
    }
    parts.join(":")
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = cmd(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn dpkg_installed(pkg: &str) -> bool {
    output("dpkg-query", &["-W", "-f=${Status}", pkg])
        .is_some_and(|s| s.contains("install ok installed"))
}

/// The wasm-bindgen version Cargo.lock resolved.
pub fn locked_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string("Cargo.lock").map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// Installs whatever `need` requires and is missing.
pub fn ensure(need: Need) -> Result<(), String> {
    eprintln!(
        "==> checking tools ({})",
        if need == Need::Test { "test" } else { "serve" }
    );
    // Debian packages.
    let wanted = if need == Need::Test {
        APT_TEST
    } else {
        APT_SERVE
    };
    let mut missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if output("node", &["--version"]).is_none() {
        missing.extend(["nodejs", "npm"]);
    }
    if !missing.is_empty() {
        eprintln!("installing Debian packages: {}", missing.join(" "));
        // tshark asks whether non-root users may capture; answer before it asks.
        let mut pre = Command::new("debconf-set-selections");
        pre.stdin(std::process::Stdio::piped());
        if let Ok(mut child) = pre.spawn() {
            if let Some(stdin) = child.stdin.as_mut() {
                use std::io::Write;
                let _ = stdin
                    .write_all(b"wireshark-common wireshark-common/install-setuid boolean false\n");
            }
            let _ = child.wait();
        }
        run(cmd("apt-get").arg("update"))?;
        run(cmd("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }

    // The wasm target.
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        run(cmd("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }

    // Trunk, at the version Trunk.toml's tools section was proven with.
    let trunk = output("trunk", &["--version"]).unwrap_or_default();
    if !trunk.contains(TRUNK) {
        run(cmd("cargo").args(["install", "trunk", "--version", TRUNK, "--locked"]))?;
    }

    // wasm-bindgen-cli exactly at the Cargo.lock version (not --locked: its own
    // lockfile wants a crate the registry lacks).
    let want = locked_wasm_bindgen()?;
    let trunk_toml = std::fs::read_to_string("Trunk.toml").unwrap_or_default();
    if !trunk_toml.contains(&format!("wasm_bindgen = \"{want}\"")) {
        return Err(format!(
            "Trunk.toml [tools] wasm_bindgen must be \"{want}\" (the Cargo.lock version)"
        ));
    }
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if !have.split_whitespace().any(|w| w == want) {
        run(cmd("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={want}"),
        ]))?;
    }

    // npm packages: wasm-opt (binaryen 132) for Trunk, Playwright, axe-core and the QR
    // decoder (jsQR, pngjs) for the tests.
    let bin = Path::new("tests/e2e/node_modules/.bin");
    let modules = Path::new("tests/e2e/node_modules");
    let libs = [
        "axe-core/axe.min.js",
        "jsqr/package.json",
        "pngjs/package.json",
    ];
    if !bin.join("wasm-opt").exists()
        || !bin.join("playwright").exists()
        || libs.iter().any(|l| !modules.join(l).exists())
    {
        run(cmd("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir("tests/e2e")
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))?;
    }
    eprintln!("tools ready");
    Ok(())
}
