//! What every scenario is, without what runs it: ids, layers and parameters of
//! every family, always compiled. The app lists and describes scenarios from
//! here and links no protocol core; the runners (one module per family, each
//! behind its feature) live beside this module and run in the worker.

pub(crate) mod hybrid;
pub(crate) mod ike;
pub(crate) mod ipsec;
pub(crate) mod mail;
pub(crate) mod rdp;
pub(crate) mod smime;
pub(crate) mod ssh;
pub(crate) mod tls;
pub(crate) mod vpn;

/// The catalogue chunks (files under `crates/app/i18n/<lang>/`, by stem) each
/// worker module's transcripts use besides the base every page has: the app
/// fetches them when a scenario of the family opens, so the map page carries
/// titles only, however many protocols join. A test runs every scenario and
/// checks each key it shows is in the base or in these.
pub const TEXTS: &[(&str, &[&str])] = &[
    ("hybrid", &["hybrid"]),
    ("tls", &["tls", "pki"]),
    ("ssh", &["ssh"]),
    ("ipsec", &["ipsec"]),
    ("vpn", &["vpn", "tls", "pki", "ipsec"]),
    ("smime", &["smime", "pki", "tls"]),
    ("mail", &["mail", "tls", "pki", "smime"]),
    ("rdp", &["rdp", "tls", "pki"]),
    ("ike", &["ike", "ipsec", "pki"]),
    ("inspect", &["inspect", "pki", "ssh"]),
];

/// The chunks module `module` needs (none for an unknown one).
pub fn texts(module: &str) -> &'static [&'static str] {
    TEXTS
        .iter()
        .find(|(m, _)| *m == module)
        .map_or(&[], |(_, t)| t)
}
