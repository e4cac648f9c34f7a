//! File transfer scenarios: our SSH client and server over the in-memory link,
//! the client running SFTP jobs on the "sftp" subsystem against the server's
//! in-memory file system. Every SFTP packet is a field tree inside the
//! CHANNEL_DATA inside the encrypted SSH packet; Eve on the link sees only that
//! the packets exist.

use std::collections::VecDeque;

use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Actor, Endpoint, Event, FailReason, Flow, Link, Recorder, Role, Stop, TamperAt,
    Transcript, Transmit,
};

use crate::client::Client;
use crate::scenario::{fail, peers, Params, Peer, EVE_WATCHES, MAX_ROUNDS, WIRE};
use crate::scp::ScpClient;
use crate::server::Server;
use crate::sftp::wire::status;
use crate::sftp::{Job, MemFs, Outcome, SftpClient};
use crate::transport::Outgoing;
use crate::Error;

const CLIENT: usize = 0;
const SERVER: usize = 1;
const EVE: usize = 2;

/// The time the demo file system stamps on files (2025-12-02 00:00 UTC).
pub const DEMO_TIME: u32 = 1_764_633_600;
/// Bytes per SFTP READ or WRITE in the scenarios (small, so a transfer shows several).
pub const CHUNK: usize = 256;
/// Driver rounds for a bulk upload (one packet each way per round): room for 1 GiB.
const BULK_ROUNDS: usize = 200_000;

/// Which SFTP story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SftpStory {
    /// A file from the laptop to `upload/`, then a listing of that directory.
    Upload,
    /// A listing of the home directory, then a download of the CSV report.
    Download,
    /// Three refusals: a file only root may read, a read-only file, a missing file.
    Denied,
    /// An upload interrupted earlier is continued at the size the server has.
    Resume,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferParams {
    /// The cipher the client offers (alone).
    pub cipher: String,
    /// The user name (the home directory is /home/USER).
    pub user: String,
    /// Eve's change, if any.
    pub tamper: Option<TamperAt>,
}

impl Default for TransferParams {
    fn default() -> Self {
        TransferParams {
            cipher: crate::kex::CHACHA.into(),
            user: "alice".into(),
            tamper: None,
        }
    }
}

/// The laptop's file for the upload stories: a short text, several chunks long.
pub fn local_file() -> Vec<u8> {
    let mut s = String::from("Quarterly report, Q3\n====================\n\n");
    for (i, region) in ["North", "East", "South", "West", "Online"]
        .iter()
        .enumerate()
    {
        for m in ["July", "August", "September"] {
            s.push_str(&format!(
                "{region:<7} {m:<9} orders {:>5}  returns {:>3}\n",
                1000 + i * 311 + m.len() * 17,
                12 + i * 3 + m.len()
            ));
        }
    }
    s.push_str("\nAll figures are invented for this demonstration.\n");
    s.into_bytes()
}

/// Where the resumed upload stopped last time (bytes the server already has).
pub const RESUME_AT: usize = 700;

/// The jobs of a story, and the file system the server starts with.
pub fn story(story: SftpStory, user: &str) -> (Vec<Job>, MemFs) {
    let mut fs = MemFs::demo(user, DEMO_TIME);
    let data = local_file();
    let jobs = match story {
        SftpStory::Upload => vec![
            Job::Upload {
                remote: "upload/report-q3.txt".into(),
                data,
                resume: false,
            },
            Job::List {
                dir: "upload".into(),
            },
        ],
        SftpStory::Download => vec![
            Job::List { dir: ".".into() },
            Job::Download {
                remote: "report.csv".into(),
                have: Vec::new(),
            },
        ],
        SftpStory::Denied => vec![
            Job::Download {
                remote: "secret.txt".into(),
                have: Vec::new(),
            },
            Job::Upload {
                remote: "/etc/motd".into(),
                data: b"Hacked.\n".to_vec(),
                resume: false,
            },
            Job::Download {
                remote: "no-such-file.txt".into(),
                have: Vec::new(),
            },
        ],
        SftpStory::Resume => {
            fs.add_file(
                "upload/report-q3.txt",
                0o644,
                data.get(..RESUME_AT).unwrap_or_default().to_vec(),
            );
            vec![Job::Upload {
                remote: "upload/report-q3.txt".into(),
                data,
                resume: true,
            }]
        }
    };
    (jobs, fs)
}

/// Which SCP story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScpStory {
    /// `scp -O report-q3.txt server:upload/`: the remote runs `scp -t upload/`.
    Upload,
    /// `scp -O server:report.csv .`: the remote runs `scp -f report.csv`.
    Download,
}

/// What runs on the laptop's channel.
enum App {
    Sftp(SftpClient),
    Scp(ScpClient),
}

/// The laptop: our SSH client with an SFTP or SCP client on its channel.
struct Laptop {
    ssh: Client,
    app: App,
    queue: VecDeque<Outgoing>,
    eof_sent: bool,
    reported: usize,
    /// sftp-bulk: the middle of the upload summed up instead of recorded.
    bulk: Option<crate::bulk::Summary>,
}

impl Laptop {
    fn send_noted(
        &mut self,
        bytes: &[u8],
        label: &'static str,
        fields: Vec<cipherstage_transcript::Field>,
        rng: &mut dyn RandomSource,
    ) -> Result<(), Error> {
        let out = self.ssh.send_noted(bytes, label, fields, rng)?;
        self.queue.extend(out);
        Ok(())
    }

    /// Takes the channel's bytes into the application; sends its answer.
    fn on_data(&mut self, data: &[u8], rng: &mut dyn RandomSource) -> Result<(), Error> {
        let pieces: Vec<(Vec<u8>, &'static str, Vec<cipherstage_transcript::Field>)> =
            match &mut self.app {
                App::Sftp(sftp) => sftp
                    .receive(data)
                    .map_err(Error::Decode)?
                    .into_iter()
                    .map(|p| {
                        let (b, f) = p.emit();
                        (b, p.label(), f)
                    })
                    .collect(),
                App::Scp(scp) => scp
                    .receive(data)
                    .into_iter()
                    .map(|p| (p.bytes, p.label, p.fields))
                    .collect(),
            };
        for (b, label, f) in pieces {
            self.send_noted(&b, label, f, rng)?;
        }
        Ok(())
    }

    fn done(&self) -> bool {
        match &self.app {
            App::Sftp(s) => s.done(),
            App::Scp(s) => s.done(),
        }
    }

    /// Narrates each job's outcome once.
    fn report(&mut self, d: &mut Recorder) {
        let App::Sftp(sftp) = &self.app else {
            return;
        };
        let all = sftp.outcomes();
        for o in all.get(self.reported..).unwrap_or_default() {
            match o {
                Outcome::Uploaded {
                    remote,
                    from,
                    written,
                } if *from > 0 => d.narrate(
                    "sftp.narr.resumed",
                    &[("path", remote), ("from", from), ("bytes", written)],
                ),
                Outcome::Uploaded {
                    remote, written, ..
                } => d.narrate(
                    "sftp.narr.uploaded",
                    &[("path", remote), ("bytes", written)],
                ),
                Outcome::Downloaded { remote, data, .. } => d.narrate(
                    "sftp.narr.downloaded",
                    &[("path", remote), ("bytes", &data.len())],
                ),
                Outcome::Listed { dir, names } => {
                    let list = names
                        .iter()
                        .map(|n| n.filename.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    d.narrate("sftp.narr.listed", &[("dir", dir), ("names", &list)])
                }
                Outcome::Failed {
                    path,
                    code,
                    message,
                } => d.narrate(
                    match *code {
                        status::PERMISSION_DENIED => "sftp.narr.denied",
                        status::NO_SUCH_FILE => "sftp.narr.no_such_file",
                        _ => "sftp.narr.failed",
                    },
                    &[("path", path), ("code", code), ("message", message)],
                ),
            }
        }
        self.reported = all.len();
    }
}

impl Endpoint for Laptop {
    fn actor(&self) -> usize {
        CLIENT
    }

    fn transmit(&mut self, _d: &mut Recorder) -> Vec<Transmit> {
        self.queue
            .pop_front()
            .map(|o| Transmit {
                to: SERVER,
                wire: WIRE,
                label: o.label.to_owned(),
                bytes: o.bytes,
                fields: o.fields,
            })
            .into_iter()
            .collect()
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        rng: &mut dyn RandomSource,
    ) -> Flow {
        let r = (|| {
            let out = self.ssh.receive(bytes, rng, &mut d.events)?;
            self.queue.extend(out);
            let data = self.ssh.take_output();
            if !data.is_empty() {
                self.on_data(&data, rng)?;
            }
            if self.done() && !self.eof_sent && self.ssh.forward_open() {
                self.eof_sent = true;
                let key = match self.app {
                    App::Sftp(_) => "sftp.narr.done",
                    App::Scp(_) => "scp.narr.done",
                };
                d.narrate(key, &[]);
                let out = self.ssh.send_eof(rng)?;
                self.queue.extend(out);
            }
            Ok::<(), Error>(())
        })();
        self.report(d);
        if let (Some(b), App::Sftp(sftp)) = (&mut self.bulk, &self.app) {
            b.compact(d, sftp.progress());
        }
        match r {
            Ok(()) => Flow::Continue,
            Err(e) => {
                fail(d, CLIENT, &e);
                Flow::Halt
            }
        }
    }
}

/// Runs an SFTP story with `seed` (`None`: live randomness).
pub fn run_sftp(
    scenario: &str,
    which: SftpStory,
    p: &TransferParams,
    seed: Option<u64>,
) -> Transcript {
    let (jobs, fs) = story(which, &p.user);
    run_app(scenario, p, seed, Plan::Sftp(jobs), fs, None)
}

/// Runs sftp-bulk: an upload of `mb` MiB ([`crate::bulk`]) with `seed`; `report`
/// hears the fraction uploaded at each whole percent (the page's progress bar).
pub fn run_bulk(
    scenario: &str,
    p: &TransferParams,
    mb: usize,
    seed: Option<u64>,
    report: impl FnMut(f64) + 'static,
) -> Transcript {
    let data = crate::bulk::file(mb);
    let (jobs, fs) = crate::bulk::story(&p.user, data, DEMO_TIME);
    run_app(
        scenario,
        p,
        seed,
        Plan::Bulk(jobs),
        fs,
        Some(Box::new(report)),
    )
}

/// Runs an SCP story (`scp -O`) with `seed`.
pub fn run_scp(
    scenario: &str,
    which: ScpStory,
    p: &TransferParams,
    seed: Option<u64>,
) -> Transcript {
    let fs = MemFs::demo(&p.user, DEMO_TIME);
    let plan = match which {
        ScpStory::Upload => Plan::ScpUpload {
            target: "upload/".into(),
            name: "report-q3.txt".into(),
            data: local_file(),
        },
        ScpStory::Download => Plan::ScpDownload {
            path: "report.csv".into(),
        },
    };
    run_app(scenario, p, seed, plan, fs, None)
}

/// What the laptop is to do.
#[derive(Debug, Clone)]
enum Plan {
    Sftp(Vec<Job>),
    /// One large upload, its middle summed up.
    Bulk(Vec<Job>),
    ScpUpload {
        target: String,
        name: String,
        data: Vec<u8>,
    },
    ScpDownload {
        path: String,
    },
}

fn run_app(
    scenario: &str,
    p: &TransferParams,
    seed: Option<u64>,
    plan: Plan,
    fs: MemFs,
    report: Option<crate::bulk::Reporter>,
) -> Transcript {
    let mut rng = Source::from_seed(seed);
    let mut d = Recorder::new(p.tamper, Some(EVE));
    let (laptop, server) = match plan {
        Plan::Sftp(_) | Plan::Bulk(_) => ("sftp.actor.laptop", "sftp.actor.server"),
        _ => ("scp.actor.laptop", "scp.actor.server"),
    };
    let _ = exchange(&mut d, &mut rng, p, plan, fs, report);
    let tampered = d
        .events
        .iter()
        .any(|e| matches!(e, Event::Message(m) if m.tampered.is_some()));
    if tampered && !d.events.iter().any(|e| matches!(e, Event::Alert(_))) {
        d.narrate("ssh.narr.tamper_unnoticed", &[]);
    }
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            Actor {
                role: Role::Client,
                name: laptop.into(),
            },
            Actor {
                role: Role::Server,
                name: server.into(),
            },
            Actor {
                role: Role::Eavesdropper,
                name: "ssh.actor.eve".into(),
            },
        ],
        links: vec![Link {
            a: CLIENT,
            b: SERVER,
            observers: vec![EVE],
        }],
        events: d.events,
    }
}

type Opening = Vec<(Vec<u8>, &'static str, Vec<cipherstage_transcript::Field>)>;

fn exchange(
    d: &mut Recorder,
    rng: &mut Source,
    p: &TransferParams,
    plan: Plan,
    fs: MemFs,
    report: Option<crate::bulk::Reporter>,
) -> Result<(), ()> {
    let params = Params {
        cipher: p.cipher.clone(),
        user: p.user.clone(),
        ..Params::default()
    };
    let (mut ssh, mut server) = peers(&params).map_err(|e| fail(d, CLIENT, &e))?;
    server.serve_sftp(fs);
    let host: &dyn core::fmt::Display = &crate::scenario::HOST;
    let mut bulk = None;
    let (app, opening): (App, Opening) = match &plan {
        Plan::Sftp(jobs) => {
            ssh.subsystem("sftp");
            d.narrate("sftp.narr.intro", &[("user", &p.user), ("host", host)]);
            let mut sftp = SftpClient::new(jobs.clone(), CHUNK);
            let init = sftp.start();
            let (b, f) = init.emit();
            (App::Sftp(sftp), vec![(b, init.label(), f)])
        }
        Plan::Bulk(jobs) => {
            use crate::bulk::{Summary, CHUNK as BULK_CHUNK, REKEY_BYTES};
            ssh.subsystem("sftp");
            ssh.rekey_after_bytes(REKEY_BYTES);
            let size: usize = jobs
                .iter()
                .map(|j| match j {
                    Job::Upload { data, .. } => data.len(),
                    _ => 0,
                })
                .sum();
            d.narrate(
                "sftp.narr.bulk.intro",
                &[
                    ("user", &p.user),
                    ("host", host),
                    ("size", &(size / (1024 * 1024))),
                    ("chunk", &BULK_CHUNK),
                    ("rekey", &(REKEY_BYTES / (1024 * 1024))),
                ],
            );
            let report = report.unwrap_or_else(|| Box::new(|_| {}));
            bulk = Some(Summary::new(size as u64, BULK_CHUNK as u64, report));
            let mut sftp = SftpClient::new(jobs.clone(), BULK_CHUNK);
            let init = sftp.start();
            let (b, f) = init.emit();
            (App::Sftp(sftp), vec![(b, init.label(), f)])
        }
        Plan::ScpUpload { target, name, data } => {
            let command = format!("scp -t {target}");
            ssh.exec_stream(&command);
            d.narrate(
                "scp.narr.intro_upload",
                &[
                    ("user", &p.user),
                    ("host", host),
                    ("file", name),
                    ("command", &command),
                ],
            );
            (App::Scp(ScpClient::upload(name, data.clone())), Vec::new())
        }
        Plan::ScpDownload { path } => {
            let command = format!("scp -f {path}");
            ssh.exec_stream(&command);
            d.narrate(
                "scp.narr.intro_download",
                &[
                    ("user", &p.user),
                    ("host", host),
                    ("file", path),
                    ("command", &command),
                ],
            );
            let scp = ScpClient::download();
            let first = scp
                .start()
                .into_iter()
                .map(|p| (p.bytes, p.label, p.fields))
                .collect();
            (App::Scp(scp), first)
        }
    };
    let mut first = ssh.start(rng).map_err(|e| fail(d, CLIENT, &e))?;
    // The first bytes wait in the channel's queue until the subsystem or command has started.
    for (b, label, f) in opening {
        first.extend(
            ssh.send_noted(&b, label, f, rng)
                .map_err(|e| fail(d, CLIENT, &e))?,
        );
    }
    let mut laptop = Laptop {
        ssh,
        app,
        queue: first.into(),
        eof_sent: false,
        reported: 0,
        bulk,
    };
    let first = server.start(rng).map_err(|e| fail(d, SERVER, &e))?;
    let mut server = Peer::new(server, (SERVER, CLIENT), first);
    // A bulk upload takes a round per packet: 100 MiB is ~6,500 WRITE fragments.
    let rounds = if laptop.bulk.is_some() {
        BULK_ROUNDS
    } else {
        MAX_ROUNDS
    };
    let stop = drive(
        &mut [&mut laptop, &mut server],
        &mut { EVE_WATCHES },
        d,
        rng,
        rounds,
    );
    if let Some(b) = &mut laptop.bulk {
        let writes = match &plan {
            Plan::Bulk(jobs) => jobs
                .iter()
                .map(|j| match j {
                    Job::Upload { data, .. } => data.len().div_ceil(crate::bulk::CHUNK) as u64,
                    _ => 0,
                })
                .sum(),
            _ => 0,
        };
        b.finish(d, laptop.ssh.key_exchanges().saturating_sub(1), writes);
    }
    if let Stop::Halted { .. } = stop {
        return Err(());
    }
    if laptop.ssh.subsystem_refused() {
        d.narrate("sftp.narr.subsystem_refused", &[]);
    }
    match (&plan, &laptop.app) {
        (Plan::Sftp(jobs) | Plan::Bulk(jobs), App::Sftp(sftp)) => {
            verify(d, &server.machine, jobs, sftp.outcomes());
        }
        (Plan::ScpUpload { target, name, data }, App::Scp(scp)) => match &scp.error {
            Some(e) => d.narrate("scp.narr.error", &[("message", e)]),
            None => {
                d.narrate(
                    "scp.narr.uploaded",
                    &[("file", name), ("bytes", &data.len())],
                );
                let path = format!("{}/{name}", target.trim_end_matches('/'));
                let same =
                    server.machine.files().and_then(|fs| fs.file(&path)) == Some(data.as_slice());
                d.check(
                    SERVER,
                    "sftp.check.file_identical",
                    (!same).then_some(FailReason::Malformed),
                );
            }
        },
        (Plan::ScpDownload { path }, App::Scp(scp)) => match &scp.error {
            Some(e) => d.narrate("scp.narr.error", &[("message", e)]),
            None => d.narrate(
                "scp.narr.downloaded",
                &[("file", path), ("bytes", &scp.received.len())],
            ),
        },
        _ => {}
    }
    Ok(())
}

/// The server's checks: each upload's file now holds exactly the laptop's bytes.
fn verify(d: &mut Recorder, server: &Server, jobs: &[Job], outcomes: &[Outcome]) {
    let Some(fs) = server.files() else {
        return;
    };
    for (job, outcome) in jobs.iter().zip(outcomes) {
        if let (Job::Upload { remote, data, .. }, Outcome::Uploaded { .. }) = (job, outcome) {
            // A sink keeps only the size and SHA-256 of what it was sent.
            let same = match fs.sink(remote) {
                Some((size, sha)) => {
                    size == data.len() as u64
                        && sha.as_slice()
                            == ring::digest::digest(&ring::digest::SHA256, data).as_ref()
                }
                None => fs.file(remote) == Some(data.as_slice()),
            };
            d.check(
                SERVER,
                "sftp.check.file_identical",
                (!same).then_some(FailReason::Malformed),
            );
        }
    }
}
