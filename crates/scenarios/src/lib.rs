//! The scenario registry shared by the app, the CLI and the tests.
//!
//! Each scenario has a stable id (kept in URLs), a layer on the seed's map, a
//! list of editable parameters, and a runner into a protocol core. Parameters
//! arrive as text (from a URL or a form) and are parsed here, so a bad value
//! becomes a typed error, never a panic.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

use cipherstage_transcript::{Layer, Transcript};

/// What the picker needs to know about a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioInfo {
    /// Stable id, kept in URLs.
    pub id: &'static str,
    /// Protocol id (`hybrid`).
    pub protocol: &'static str,
    /// Where it sits on the seed's layer map.
    pub layer: Layer,
    /// Its editable parameters.
    pub params: &'static [ParamSpec],
}

impl ScenarioInfo {
    /// Key of the title (`scenario.hybrid.title`).
    pub fn title_key(&self) -> String {
        format!("scenario.{}.title", self.id)
    }

    /// Key of the one-line description.
    pub fn summary_key(&self) -> String {
        format!("scenario.{}.summary", self.id)
    }
}

/// One editable parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// Name in the URL.
    pub name: &'static str,
    /// What kind of value.
    pub kind: ParamKind,
    /// Default, as text.
    pub default: &'static str,
}

impl ParamSpec {
    /// Key of the parameter's label (`param.text`).
    pub fn label_key(&self) -> String {
        format!("param.{}", self.name)
    }
}

/// The kind of a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Free text, at most [`MAX_TEXT`] bytes.
    Text,
    /// `message:offset`, the byte an attacker flips in flight.
    Tamper,
    /// One of a fixed list of stable values (shown translated as `param.NAME.VALUE`).
    Choice(&'static [&'static str]),
    /// A non-negative integer.
    Number,
}

/// Longest text parameter accepted.
pub const MAX_TEXT: usize = 1000;

/// Why a scenario could not be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// No scenario has this id.
    UnknownScenario(String),
    /// A parameter's value does not parse.
    BadParam {
        /// The parameter's name.
        name: String,
    },
    /// This build does not link the scenario's family (its protocol id).
    Absent(String),
}

pub mod catalog;
pub mod formula;
#[cfg(feature = "hybrid")]
mod hybrid;
#[cfg(feature = "ike")]
mod ike;
pub mod inspect;
#[cfg(feature = "ipsec")]
mod ipsec;
#[cfg(feature = "mail")]
mod mail;
#[cfg(feature = "rdp")]
mod rdp;
#[cfg(feature = "smime")]
mod smime;
#[cfg(feature = "ssh")]
mod ssh;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "vpn")]
mod vpn;
pub mod wire;

/// A family left out of this build: its scenarios are listed (from [`catalog`]),
/// but running one is an [`RunError::Absent`] naming the family, so a build that
/// lacks a core says so instead of pretending the scenario does not exist.
macro_rules! absent {
    ($($proto:ident: $feature:literal),*) => {$(
        #[cfg(not(feature = $feature))]
        mod $proto {
            use crate::{RunError, ScenarioInfo, Transcript, Values};
            pub(crate) fn run(
                info: &ScenarioInfo,
                _v: &Values,
                _seed: Option<u64>,
            ) -> Result<Transcript, RunError> {
                Err(RunError::Absent(info.protocol.to_owned()))
            }
            #[allow(dead_code)]
            pub(crate) fn run_with_exports(
                info: &ScenarioInfo,
                _v: &Values,
                _seed: Option<u64>,
            ) -> Result<(Transcript, Vec<crate::ExportFile>), RunError> {
                Err(RunError::Absent(info.protocol.to_owned()))
            }
        }
    )*};
}
absent!(hybrid: "hybrid", ike: "ike", ipsec: "ipsec", mail: "mail", rdp: "rdp", smime: "smime", ssh: "ssh", tls: "tls", vpn: "vpn");

/// A scenario's transcript from its parsed parameters and seed.
type RunFn = fn(&ScenarioInfo, &Values, Option<u64>) -> Result<Transcript, RunError>;
/// The same, with the files made from that run.
type ExportFn =
    fn(&ScenarioInfo, &Values, Option<u64>) -> Result<(Transcript, Vec<ExportFile>), RunError>;

/// One protocol family: its scenarios and the two ways to run one of them. The
/// registry dispatches through this table, never on protocol names.
struct Family {
    /// The family's id: its feature, its worker module, every scenario's `protocol`.
    id: &'static str,
    /// Whether this build links its core.
    linked: bool,
    scenarios: &'static [ScenarioInfo],
    run: RunFn,
    run_with_exports: ExportFn,
}

/// The hybrid demo offers no downloads besides its transcript.
fn hybrid_with_exports(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<(Transcript, Vec<ExportFile>), RunError> {
    hybrid::run(info, v, seed).map(|t| (t, Vec::new()))
}

/// The families whose cores this build links (its features).
pub fn linked_families() -> impl Iterator<Item = &'static str> {
    FAMILIES.iter().filter(|f| f.linked).map(|f| f.id)
}

/// Every family id, in picker order: each is one WASM module in the worker.
pub fn family_ids() -> impl Iterator<Item = &'static str> {
    FAMILIES.iter().map(|f| f.id)
}

/// Every family, in the order the picker shows them.
const FAMILIES: &[Family] = &[
    Family {
        id: "hybrid",
        linked: cfg!(feature = "hybrid"),
        scenarios: catalog::hybrid::SCENARIOS,
        run: hybrid::run,
        run_with_exports: hybrid_with_exports,
    },
    Family {
        id: "tls",
        linked: cfg!(feature = "tls"),
        scenarios: catalog::tls::SCENARIOS,
        run: tls::run,
        run_with_exports: tls::run_with_exports,
    },
    Family {
        id: "ssh",
        linked: cfg!(feature = "ssh"),
        scenarios: catalog::ssh::SCENARIOS,
        run: ssh::run,
        run_with_exports: ssh::run_with_exports,
    },
    Family {
        id: "ipsec",
        linked: cfg!(feature = "ipsec"),
        scenarios: catalog::ipsec::SCENARIOS,
        run: ipsec::run,
        run_with_exports: ipsec::run_with_exports,
    },
    Family {
        id: "ike",
        linked: cfg!(feature = "ike"),
        scenarios: catalog::ike::SCENARIOS,
        run: ike::run,
        run_with_exports: ike::run_with_exports,
    },
    Family {
        id: "vpn",
        linked: cfg!(feature = "vpn"),
        scenarios: catalog::vpn::SCENARIOS,
        run: vpn::run,
        run_with_exports: vpn::run_with_exports,
    },
    Family {
        id: "smime",
        linked: cfg!(feature = "smime"),
        scenarios: catalog::smime::SCENARIOS,
        run: smime::run,
        run_with_exports: smime::run_with_exports,
    },
    Family {
        id: "mail",
        linked: cfg!(feature = "mail"),
        scenarios: catalog::mail::SCENARIOS,
        run: mail::run,
        run_with_exports: mail::run_with_exports,
    },
    Family {
        id: "rdp",
        linked: cfg!(feature = "rdp"),
        scenarios: catalog::rdp::SCENARIOS,
        run: rdp::run,
        run_with_exports: rdp::run_with_exports,
    },
];

/// Every scenario, in the order the picker shows them (grouped by protocol).
pub fn all() -> impl Iterator<Item = &'static ScenarioInfo> {
    FAMILIES.iter().flat_map(|f| f.scenarios.iter())
}

/// The scenario with id `id` and its family.
fn lookup(id: &str) -> Result<(&'static Family, &'static ScenarioInfo), RunError> {
    FAMILIES
        .iter()
        .find_map(|f| f.scenarios.iter().find(|s| s.id == id).map(|s| (f, s)))
        .ok_or_else(|| RunError::UnknownScenario(id.to_owned()))
}

/// The optional "flip a byte in flight" parameter of every scenario with an attacker
/// on the path: empty (the default) flips nothing; the `*-tamper` scenarios have their
/// own with a default that shows the effect.
pub(crate) const FLIP_ANY: ParamSpec = ParamSpec {
    name: "flip",
    kind: ParamKind::Tamper,
    default: "",
};

/// The byte to flip, if the scenario has a flip parameter and it is set.
#[cfg_attr(
    not(any(
        feature = "hybrid",
        feature = "tls",
        feature = "ssh",
        feature = "ipsec",
        feature = "ike",
        feature = "vpn",
        feature = "smime",
        feature = "mail",
        feature = "rdp"
    )),
    allow(dead_code)
)]
pub(crate) fn tamper_param(
    info: &ScenarioInfo,
    v: &Values,
) -> Result<Option<cipherstage_transcript::TamperAt>, RunError> {
    if !info.params.iter().any(|p| p.name == "flip") {
        return Ok(None);
    }
    let raw = v.raw("flip");
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse_tamper(raw).map(Some).ok_or_else(|| bad("flip"))
}

/// A `flip` parameter, `message:offset` (the byte an attacker flips in flight).
#[cfg_attr(
    not(any(
        feature = "hybrid",
        feature = "tls",
        feature = "ssh",
        feature = "ipsec",
        feature = "ike",
        feature = "vpn",
        feature = "smime",
        feature = "mail",
        feature = "rdp"
    )),
    allow(dead_code)
)]
pub(crate) fn parse_tamper(text: &str) -> Option<cipherstage_transcript::TamperAt> {
    let (m, o) = text.split_once(':')?;
    Some(cipherstage_transcript::TamperAt {
        message: m.trim().parse().ok()?,
        offset: o.trim().parse().ok()?,
    })
}

/// The scenario with this id.
pub fn find(id: &str) -> Option<&'static ScenarioInfo> {
    all().find(|s| s.id == id)
}

/// A scenario's parameter values: given ones over defaults, parsed on request.
#[derive(Debug)]
pub struct Values<'a> {
    info: &'static ScenarioInfo,
    given: &'a [(String, String)],
}

impl Values<'_> {
    /// The raw text of parameter `name` (given, else its default, else empty).
    pub fn raw(&self, name: &str) -> &str {
        self.given
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .or_else(|| {
                self.info
                    .params
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.default)
            })
            .unwrap_or("")
    }

    /// A text parameter.
    pub fn text(&self, name: &str) -> Result<String, RunError> {
        let v = self.raw(name);
        if v.len() > MAX_TEXT {
            return Err(bad(name));
        }
        Ok(v.to_owned())
    }

    /// A choice parameter: one of its spec's options.
    pub fn choice(&self, name: &str) -> Result<&'static str, RunError> {
        let v = self.raw(name);
        self.info
            .params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| match p.kind {
                ParamKind::Choice(options) => options.iter().find(|o| **o == v).copied(),
                _ => None,
            })
            .ok_or_else(|| bad(name))
    }

    /// A number parameter.
    pub fn number(&self, name: &str) -> Result<u64, RunError> {
        self.raw(name).trim().parse().map_err(|_| bad(name))
    }
}

fn bad(name: &str) -> RunError {
    RunError::BadParam {
        name: name.to_owned(),
    }
}

/// Payload bytes per packet in the ESP throughput benchmark (a full-MTU TCP segment).
pub const BENCH_ESP_PAYLOAD: usize = 1400;

/// The file size of a `sftp-bulk:CIPHER` benchmark run (sftp-bulk's default), MiB.
pub const BENCH_BULK_MB: usize = 100;

/// One benchmark iteration by name: a scenario id runs that scenario with `seed`;
/// `esp:ALGORITHM` seals and opens one ESP packet of [`BENCH_ESP_PAYLOAD`] bytes;
/// `sftp-bulk:CIPHER` runs sftp-bulk (a [`BENCH_BULK_MB`] MiB upload) with that
/// cipher. Returns `None` for an unknown name. Native and WASM benchmarks share it.
pub fn bench_once(name: &str, seed: u64) -> Option<()> {
    if let Some(alg) = name.strip_prefix("esp:") {
        return bench_esp(alg);
    }
    if let Some(cipher) = name.strip_prefix("sftp-bulk:") {
        let given = [("cipher".to_owned(), cipher.to_owned())];
        return run("sftp-bulk", &given, Some(seed)).ok().map(|_| ());
    }
    run(name, &[], Some(seed)).ok().map(|_| ())
}

#[cfg(feature = "ipsec")]
fn bench_esp(alg: &str) -> Option<()> {
    let alg = cipherstage_ipsec::Algorithm::from_id(alg)?;
    cipherstage_ipsec::seal_open_round(alg, BENCH_ESP_PAYLOAD, 1)
        .ok()
        .map(|_| ())
}

#[cfg(not(feature = "ipsec"))]
fn bench_esp(_alg: &str) -> Option<()> {
    None
}

/// A file a scenario offers for download: a capture, its keys, certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    /// Suggested file name.
    pub name: String,
    /// Media type.
    pub mime: &'static str,
    /// Key of the button's label (`ui.export_pcapng`).
    pub label: &'static str,
    /// Contents, computed from the same run as the transcript.
    pub bytes: Vec<u8>,
}

/// The files scenario `id` offers besides its transcript JSON (none for most).
pub fn exports(
    id: &str,
    params: &[(String, String)],
    seed: Option<u64>,
) -> Result<Vec<ExportFile>, RunError> {
    run_with_exports(id, params, seed).map(|(_, files)| files)
}

/// Runs scenario `id` once and returns its transcript with the files made from that
/// very run (so a live run's capture and keys match what is on screen).
pub fn run_with_exports(
    id: &str,
    params: &[(String, String)],
    seed: Option<u64>,
) -> Result<(Transcript, Vec<ExportFile>), RunError> {
    let (family, info) = lookup(id)?;
    let values = checked(info, params)?;
    (family.run_with_exports)(info, &values, seed)
}

fn checked<'a>(
    info: &'static ScenarioInfo,
    params: &'a [(String, String)],
) -> Result<Values<'a>, RunError> {
    for (name, _) in params {
        if !info.params.iter().any(|p| p.name == name) {
            return Err(bad(name));
        }
    }
    Ok(Values {
        info,
        given: params,
    })
}

/// Runs scenario `id` with `params` (name, value; missing ones take their default)
/// and `seed` (`None`: live randomness).
pub fn run(
    id: &str,
    params: &[(String, String)],
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    let (family, info) = lookup(id)?;
    let values = checked(info, params)?;
    (family.run)(info, &values, seed)
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    #[test]
    fn every_family_scenario_is_found_and_unknown_ids_are_typed_errors() {
        for info in all() {
            let (_, found) = lookup(info.id).unwrap();
            assert_eq!(found.id, info.id);
        }
        assert_eq!(
            run("no-such-scenario", &[], Some(1)).unwrap_err(),
            RunError::UnknownScenario("no-such-scenario".into())
        );
        assert_eq!(
            run_with_exports("no-such-scenario", &[], Some(1)).unwrap_err(),
            RunError::UnknownScenario("no-such-scenario".into())
        );
    }

    #[cfg(feature = "tls")]
    #[test]
    fn every_tls_story_has_its_scenario_and_back() {
        for k in cipherstage_tls::Kind::ALL {
            assert!(find(k.id()).is_some(), "{k:?}");
        }
        for info in catalog::tls::SCENARIOS
            .iter()
            .filter(|s| s.id != "tls-certificate")
        {
            assert!(
                cipherstage_tls::Kind::from_id(info.id).is_some(),
                "{}",
                info.id
            );
        }
    }

    #[cfg(feature = "ssh")]
    #[test]
    fn the_ssh_catalogue_defaults_are_the_cores_values() {
        // The catalogue writes them as literals so it links no core.
        let default = |id: &str, name: &str| {
            find(id)
                .and_then(|i| i.params.iter().find(|p| p.name == name))
                .map(|p| p.default)
        };
        assert_eq!(
            default("ssh-password", "password"),
            Some(cipherstage_ssh::scenario::SERVER_PASSWORD)
        );
        assert_eq!(
            default("ssh-bastion", "forward_host"),
            Some(cipherstage_ssh::bastion::WEB_ADDR)
        );
    }

    #[test]
    fn every_family_is_linked_in_the_full_build_and_every_scenario_names_one() {
        let ids: Vec<_> = family_ids().collect();
        for info in all() {
            assert!(
                ids.contains(&info.protocol),
                "{}: {}",
                info.id,
                info.protocol
            );
        }
        if cfg!(all(
            feature = "hybrid",
            feature = "tls",
            feature = "ssh",
            feature = "ipsec",
            feature = "ike",
            feature = "vpn",
            feature = "smime",
            feature = "mail",
            feature = "rdp"
        )) {
            assert_eq!(linked_families().count(), ids.len());
        }
    }

    #[cfg(feature = "ipsec")]
    #[test]
    fn every_ipsec_story_has_its_scenario_and_back() {
        for s in cipherstage_ipsec::Story::ALL {
            assert!(find(s.id()).is_some(), "{s}");
        }
        for info in catalog::ipsec::SCENARIOS {
            assert!(
                cipherstage_ipsec::Story::from_id(info.id).is_some(),
                "{}",
                info.id
            );
        }
    }

    #[test]
    fn every_choice_of_every_scenario_runs_or_is_refused_by_name() {
        // A choice the registry lists but does not map is a BadParam naming it,
        // never a silent default; every listed choice maps today.
        for info in all() {
            for p in info.params {
                if let ParamKind::Choice(options) = p.kind {
                    for o in options {
                        let given = [(p.name.to_owned(), (*o).to_owned())];
                        let r = run(info.id, &given, Some(1));
                        assert!(r.is_ok(), "{} {}={o}: {r:?}", info.id, p.name);
                    }
                    let given = [(p.name.to_owned(), "no-such-choice".to_owned())];
                    assert_eq!(
                        run(info.id, &given, Some(1)).unwrap_err(),
                        RunError::BadParam {
                            name: p.name.to_owned()
                        }
                    );
                }
            }
        }
    }
}
