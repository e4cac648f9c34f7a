//! The worker boundary: what the app asks a protocol module and what it answers,
//! as JSON text. The app links this module and the [`catalog`](crate::catalog)
//! but no core; a worker module (crates/worker) links one family's core and
//! answers with [`handle`]. Everything the app shows of a run crosses here: the
//! transcript, the files made from the same run, and what only a core can compute
//! (the HkdfLabel bytes of each HKDF-Expand-Label secret).

use cipherstage_transcript::{Field, Transcript};
use serde::{Deserialize, Serialize};

use crate::RunError;

/// The module that answers inspect requests (certificates and SSH keys).
pub const INSPECT_MODULE: &str = "inspect";

/// What the app asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Run a scenario with these parameters and seed (`None`: live randomness).
    Run {
        /// Scenario id.
        id: String,
        /// Given parameters (name, value); missing ones take their default.
        params: Vec<(String, String)>,
        /// Seed, or `None` for a live run.
        seed: Option<u64>,
    },
    /// Read pasted text (a PEM certificate or CSR, an OpenSSH public key).
    Inspect {
        /// The text as pasted.
        text: String,
    },
}

impl Request {
    /// The worker module that answers this request: the scenario's family, or the
    /// inspect module. `None` for a scenario id the catalogue does not list.
    pub fn module(&self) -> Option<&'static str> {
        match self {
            Request::Run { id, .. } => crate::find(id).map(|i| i.protocol),
            Request::Inspect { .. } => Some(INSPECT_MODULE),
        }
    }

    /// As JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A file made from a run, as it crosses the boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    /// Suggested file name.
    pub name: String,
    /// Media type.
    pub mime: String,
    /// Key of the button's label (`ui.export_pcapng`).
    pub label: String,
    /// Contents.
    #[serde(with = "cipherstage_transcript::hexser")]
    pub bytes: Vec<u8>,
}

impl From<crate::ExportFile> for File {
    fn from(f: crate::ExportFile) -> Self {
        File {
            name: f.name,
            mime: f.mime.to_owned(),
            label: f.label.to_owned(),
            bytes: f.bytes,
        }
    }
}

/// A run, with what the app cannot compute without the core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ran {
    /// The transcript.
    pub transcript: Transcript,
    /// The files made from this very run.
    pub files: Vec<File>,
    /// For each HKDF-Expand-Label secret (by event index), the HkdfLabel the key
    /// schedule's own code builds from the recorded label, context and length.
    pub hkdf_labels: Vec<HkdfLabel>,
}

/// The HkdfLabel behind one secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HkdfLabel {
    /// Index of the secret's event.
    pub event: usize,
    /// The bytes.
    #[serde(with = "cipherstage_transcript::hexser")]
    pub bytes: Vec<u8>,
}

/// Everything recognised in pasted text: the certificates of a chain in order, or
/// the keys of the lines (a hashed known_hosts name follows its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// At least one.
    pub items: Vec<Inspected>,
}

/// One thing recognised in pasted text, ready to show like a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspected {
    /// Key of what it is (`inspect.kind.certificate`).
    pub kind: String,
    /// A short name to choose it by (a certificate's common name, a key's type and comment).
    #[serde(default)]
    pub title: String,
    /// The binary form (DER, or the SSH key blob).
    #[serde(with = "cipherstage_transcript::hexser")]
    pub bytes: Vec<u8>,
    /// Every byte explained.
    pub fields: Vec<Field>,
    /// Facts worth a line each: (key of the label, value).
    pub facts: Vec<(String, String)>,
}

/// Why pasted text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectError {
    /// Key of the reason (`inspect.error.bad_base64`).
    pub key: String,
    /// Byte offset in the pasted text where it was noticed.
    pub offset: usize,
    /// What was recognised, for the message's `{what}` (a PEM label, a word).
    #[serde(default)]
    pub what: String,
}

/// Why a run did not happen, as it crosses the boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Refusal {
    /// No scenario has this id.
    UnknownScenario {
        /// The id asked for.
        id: String,
    },
    /// A parameter's value does not parse.
    BadParam {
        /// The parameter's name.
        name: String,
    },
    /// The module asked does not link the scenario's family.
    Absent {
        /// The family.
        family: String,
    },
    /// The request was not one this module understands (a stale app, a bug).
    Malformed,
}

impl From<RunError> for Refusal {
    fn from(e: RunError) -> Self {
        match e {
            RunError::UnknownScenario(id) => Refusal::UnknownScenario { id },
            RunError::BadParam { name } => Refusal::BadParam { name },
            RunError::Absent(family) => Refusal::Absent { family },
        }
    }
}

/// What a module answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Response {
    /// The run.
    Ran(Box<Ran>),
    /// The run was refused.
    Refused(Refusal),
    /// The pasted text, explained.
    Inspected(Box<Found>),
    /// The pasted text could not be read.
    InspectFailed(InspectError),
}

impl Response {
    /// As JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// From JSON text; `None` if it is not a response (never a panic).
    pub fn from_json(text: &str) -> Option<Response> {
        serde_json::from_str(text).ok()
    }
}

/// Answers one request with this build's cores.
pub fn answer(req: Request) -> Response {
    match req {
        Request::Run { id, params, seed } => match crate::run_with_exports(&id, &params, seed) {
            Ok((transcript, files)) => {
                let hkdf_labels = hkdf_labels(&transcript);
                Response::Ran(Box::new(Ran {
                    transcript,
                    files: files.into_iter().map(File::from).collect(),
                    hkdf_labels,
                }))
            }
            Err(e) => Response::Refused(e.into()),
        },
        Request::Inspect { text } => inspect(&text),
    }
}

/// Who hears a run's progress.
type Reporter = Box<dyn FnMut(f64)>;

thread_local! {
    static PROGRESS: std::cell::RefCell<Option<Reporter>> = const { std::cell::RefCell::new(None) };
}

/// Reports how far the run in progress is (0 to 1): a heavy scene's runner calls
/// this as it goes, and the worker posts it to the page's progress bar. Outside
/// [`handle_reporting`] it does nothing.
pub fn report_progress(fraction: f64) {
    PROGRESS.with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if let Some(f) = p.as_mut() {
                f(fraction.clamp(0.0, 1.0));
            }
        }
    });
}

/// [`handle`], with `report` hearing each [`report_progress`] of the run.
pub fn handle_reporting(request: &str, report: impl FnMut(f64) + 'static) -> String {
    PROGRESS.with(|p| *p.borrow_mut() = Some(Box::new(report)));
    let answer = handle(request);
    PROGRESS.with(|p| *p.borrow_mut() = None);
    answer
}

/// Answers a request given as JSON text, with JSON text (what the worker calls).
pub fn handle(request: &str) -> String {
    match serde_json::from_str::<Request>(request) {
        Ok(req) => answer(req),
        Err(_) => Response::Refused(Refusal::Malformed),
    }
    .to_json()
}

#[cfg(feature = "tls")]
fn hkdf_labels(t: &Transcript) -> Vec<HkdfLabel> {
    t.events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            cipherstage_transcript::Event::Secret(s) => {
                crate::formula::Expansion::of(s).map(|x| HkdfLabel {
                    event: i,
                    bytes: x.hkdf_label(),
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(not(feature = "tls"))]
fn hkdf_labels(_t: &Transcript) -> Vec<HkdfLabel> {
    Vec::new()
}

#[cfg(any(feature = "pki", feature = "ssh"))]
fn inspect(text: &str) -> Response {
    match crate::inspect::inspect_all(text) {
        Ok(found) => Response::Inspected(Box::new(Found {
            items: found
                .into_iter()
                .map(|i| Inspected {
                    kind: i.kind.to_owned(),
                    title: i.title,
                    bytes: i.bytes,
                    fields: i.fields,
                    facts: i
                        .facts
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                })
                .collect(),
        })),
        Err(e) => Response::InspectFailed(InspectError {
            key: e.key.to_owned(),
            offset: e.offset,
            what: e.what,
        }),
    }
}

#[cfg(not(any(feature = "pki", feature = "ssh")))]
fn inspect(_text: &str) -> Response {
    Response::Refused(Refusal::Absent {
        family: INSPECT_MODULE.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_crosses_the_boundary_unchanged() {
        let req = Request::Run {
            id: "tls13".into(),
            params: vec![("sni".into(), "shop.example.com".into())],
            seed: Some(u64::MAX),
        };
        assert_eq!(req.module(), Some("tls"));
        let back: Request = serde_json::from_str(&req.to_json()).unwrap();
        assert_eq!(
            back, req,
            "a seed above 2^53 survives (JSON numbers in Rust, not JS)"
        );
        let Some(Response::Ran(ran)) = Response::from_json(&handle(&req.to_json())) else {
            panic!("no run");
        };
        let (t, files) = crate::run_with_exports(
            "tls13",
            &[("sni".into(), "shop.example.com".into())],
            Some(u64::MAX),
        )
        .unwrap();
        assert_eq!(ran.transcript, t);
        assert_eq!(ran.files.len(), files.len());
        for (a, b) in ran.files.iter().zip(&files) {
            assert_eq!(
                (a.name.as_str(), a.bytes.as_slice()),
                (b.name.as_str(), b.bytes.as_slice())
            );
        }
        assert!(ran.hkdf_labels.len() > 5, "{}", ran.hkdf_labels.len());
    }

    #[test]
    fn refusals_and_garbage_are_answers_not_panics() {
        let bad = Request::Run {
            id: "tls13".into(),
            params: vec![("suite".into(), "ROT13".into())],
            seed: Some(1),
        };
        assert_eq!(
            Response::from_json(&handle(&bad.to_json())),
            Some(Response::Refused(Refusal::BadParam {
                name: "suite".into()
            }))
        );
        for junk in ["", "{", "null", "{\"op\":\"run\"}", "{\"op\":\"fly\"}"] {
            assert_eq!(
                Response::from_json(&handle(junk)),
                Some(Response::Refused(Refusal::Malformed)),
                "{junk}"
            );
        }
        let unknown = Request::Run {
            id: "no-such".into(),
            params: vec![],
            seed: None,
        };
        assert_eq!(unknown.module(), None);
        assert!(matches!(
            Response::from_json(&handle(&unknown.to_json())),
            Some(Response::Refused(Refusal::UnknownScenario { .. }))
        ));
    }

    #[test]
    fn progress_reaches_the_reporter_only_while_it_listens() {
        use std::cell::RefCell;
        use std::rc::Rc;
        let heard = Rc::new(RefCell::new(Vec::new()));
        report_progress(0.5); // nobody listens: nothing happens
        let h = heard.clone();
        let req = Request::Inspect {
            text: String::new(),
        }
        .to_json();
        let out = handle_reporting(&req, move |f| h.borrow_mut().push(f));
        assert!(out.contains("inspect_failed"), "{out}");
        report_progress(2.0);
        assert!(
            heard.borrow().is_empty(),
            "no runner reported; none after the run"
        );
        PROGRESS.with(|p| {
            *p.borrow_mut() = Some(Box::new({
                let h = heard.clone();
                move |f| h.borrow_mut().push(f)
            }))
        });
        report_progress(2.0);
        report_progress(-1.0);
        PROGRESS.with(|p| *p.borrow_mut() = None);
        assert_eq!(*heard.borrow(), vec![1.0, 0.0], "clamped to 0..1");
    }

    #[test]
    fn inspect_answers_with_the_explained_bytes_or_the_offset() {
        let r = answer(Request::Inspect {
            text: "ssh-ed25519 AAAA!".into(),
        });
        assert!(
            matches!(r, Response::InspectFailed(ref e) if e.key.starts_with("inspect.error.")),
            "{r:?}"
        );
        let r = answer(Request::Inspect {
            text: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host".into(),
        });
        let Response::Inspected(found) = r else {
            panic!("{r:?}")
        };
        assert_eq!(found.items.len(), 1);
        assert_eq!(found.items[0].kind, "inspect.kind.ssh_public_key");
        assert_eq!(found.items[0].bytes.len(), 51);
    }
}
