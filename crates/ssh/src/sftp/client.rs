//! An SFTP client that runs a list of jobs (upload, download, list, resume) one
//! request at a time over an "sftp" subsystem channel. Sans-IO: it returns the
//! packets to send and takes the channel's bytes; the SSH client carries them.
//!
//! ```text
//! INIT ─► VERSION, REALPATH "." ─► NAME, then per job:
//! upload:   [STAT ─► ATTRS size (resume)] OPEN ─► HANDLE, WRITE … ─► STATUS, CLOSE
//! download: STAT ─► ATTRS, OPEN ─► HANDLE, READ … ─► DATA … STATUS EOF, CLOSE
//! list:     OPENDIR ─► HANDLE, READDIR ─► NAME, READDIR ─► STATUS EOF, CLOSE
//! ```

use std::collections::VecDeque;

use super::wire::{pflags, status, Attrs, Framer, HandleOp, Name, Packet, PathOp, VERSION};
use crate::wire::DecodeError;

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Write `data` to `remote`; with `resume`, continue after what is already
    /// there (STAT for its size, OPEN without TRUNC, WRITE from that offset).
    Upload {
        /// Remote path.
        remote: String,
        /// The local file's bytes.
        data: Vec<u8>,
        /// Continue an interrupted upload.
        resume: bool,
    },
    /// Read `remote`; `have` is a local partial copy to continue (READ from its length).
    Download {
        /// Remote path.
        remote: String,
        /// Bytes already downloaded (empty for a fresh download).
        have: Vec<u8>,
    },
    /// List a directory.
    List {
        /// Remote directory.
        dir: String,
    },
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The upload's CLOSE was answered OK; `from` is where writing started.
    Uploaded {
        /// Remote path.
        remote: String,
        /// Offset of the first WRITE (0 unless resumed).
        from: u64,
        /// Bytes written.
        written: u64,
    },
    /// The whole file (the partial copy plus what was read).
    Downloaded {
        /// Remote path.
        remote: String,
        /// Its bytes.
        data: Vec<u8>,
        /// Offset of the first READ.
        from: u64,
    },
    /// The directory's entries.
    Listed {
        /// Remote directory.
        dir: String,
        /// Entries.
        names: Vec<Name>,
    },
    /// The server answered a request with a failure STATUS.
    Failed {
        /// The path the job was about.
        path: String,
        /// The status code.
        code: u32,
        /// The server's message.
        message: String,
    },
}

#[derive(Debug)]
enum Step {
    Init,
    Realpath,
    /// Waiting for the reply to the job's first request.
    Stat,
    Open,
    Transfer,
    Close,
    Idle,
}

/// The client.
#[derive(Debug)]
pub struct SftpClient {
    jobs: VecDeque<Job>,
    current: Option<Job>,
    step: Step,
    framer: Framer,
    next_id: u32,
    handle: Vec<u8>,
    offset: u64,
    from: u64,
    got: Vec<u8>,
    names: Vec<Name>,
    /// Bytes per WRITE or READ.
    chunk: usize,
    /// A failure to report once the handle is closed.
    failed: Option<Outcome>,
    outcomes: Vec<Outcome>,
    /// The server's home directory (REALPATH ".").
    pub home: Option<String>,
    /// The server's extensions from VERSION.
    pub extensions: Vec<String>,
}

impl SftpClient {
    /// Where the current upload or download has got to (the next request's offset).
    pub fn progress(&self) -> u64 {
        self.offset
    }

    /// A client that will run `jobs` in order, moving `chunk` bytes per request.
    pub fn new(jobs: Vec<Job>, chunk: usize) -> Self {
        SftpClient {
            jobs: jobs.into(),
            current: None,
            step: Step::Init,
            framer: Framer::default(),
            next_id: 0,
            handle: Vec::new(),
            offset: 0,
            from: 0,
            got: Vec::new(),
            names: Vec::new(),
            chunk: chunk.clamp(1, super::server::MAX_READ as usize),
            failed: None,
            outcomes: Vec::new(),
            home: None,
            extensions: Vec::new(),
        }
    }

    /// The first packet: INIT, version 3.
    pub fn start(&mut self) -> Packet {
        Packet::Init {
            version: VERSION,
            extensions: Vec::new(),
        }
    }

    /// Whether every job has ended.
    pub fn done(&self) -> bool {
        matches!(self.step, Step::Idle) && self.current.is_none() && self.jobs.is_empty()
    }

    /// How each job ended, in order.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    fn id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// Takes channel bytes; returns the packets to send.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Vec<Packet>, DecodeError> {
        self.framer.feed(bytes);
        let mut out = Vec::new();
        while let Some(body) = self.framer.next_body()? {
            let p = Packet::parse(&body)?;
            out.extend(self.on_reply(p));
        }
        Ok(out)
    }

    fn path(&self) -> String {
        match &self.current {
            Some(Job::Upload { remote, .. } | Job::Download { remote, .. }) => remote.clone(),
            Some(Job::List { dir }) => dir.clone(),
            None => String::new(),
        }
    }

    fn on_reply(&mut self, p: Packet) -> Option<Packet> {
        match (&self.step, p) {
            (Step::Init, Packet::Version { extensions, .. }) => {
                self.extensions = extensions.into_iter().map(|(n, _)| n).collect();
                self.step = Step::Realpath;
                let id = self.id();
                Some(Packet::Path {
                    op: PathOp::Realpath,
                    id,
                    path: ".".into(),
                })
            }
            (Step::Realpath, Packet::Name { names, .. }) => {
                self.home = names.into_iter().next().map(|n| n.filename);
                self.next_job()
            }
            // Resuming an upload the server has none of yet: start at 0.
            (Step::Stat, Packet::Status { code, .. })
                if code == status::NO_SUCH_FILE
                    && matches!(self.current, Some(Job::Upload { .. })) =>
            {
                self.after_stat(None)
            }
            (_, Packet::Status { code, message, .. })
                if code != status::OK && !(code == status::EOF && self.at_eof_point()) =>
            {
                let failure = Outcome::Failed {
                    path: self.path(),
                    code,
                    message,
                };
                if self.handle.is_empty() || matches!(self.step, Step::Close) {
                    let first = self.failed.take().unwrap_or(failure);
                    self.outcomes.push(first);
                    self.current = None;
                    self.next_job()
                } else {
                    self.failed = Some(failure);
                    self.close()
                }
            }
            (Step::Stat, Packet::AttrsReply { attrs, .. }) => self.after_stat(attrs.size),
            (Step::Open, Packet::HandleReply { handle, .. }) => {
                self.handle = handle;
                self.transfer()
            }
            (Step::Transfer, Packet::Status { code, .. }) if code == status::OK => self.transfer(),
            (Step::Transfer, Packet::Data { data, .. }) => {
                self.offset = self.offset.saturating_add(data.len() as u64);
                self.got.extend_from_slice(&data);
                self.transfer()
            }
            (Step::Transfer, Packet::Name { names, .. }) => {
                self.names.extend(names);
                self.transfer()
            }
            // EOF: the download or the listing is complete.
            (Step::Transfer, Packet::Status { .. }) => self.close(),
            (Step::Close, Packet::Status { .. }) => {
                let job = self.current.take();
                let outcome = self.failed.take().or(match job {
                    Some(Job::Upload { remote, .. }) => Some(Outcome::Uploaded {
                        remote,
                        from: self.from,
                        written: self.offset.saturating_sub(self.from),
                    }),
                    Some(Job::Download { remote, .. }) => Some(Outcome::Downloaded {
                        remote,
                        data: core::mem::take(&mut self.got),
                        from: self.from,
                    }),
                    Some(Job::List { dir }) => Some(Outcome::Listed {
                        dir,
                        names: core::mem::take(&mut self.names),
                    }),
                    None => None,
                });
                self.outcomes.extend(outcome);
                self.handle.clear();
                self.next_job()
            }
            _ => None,
        }
    }

    /// An EOF status is the expected end of a READ or READDIR loop.
    fn at_eof_point(&self) -> bool {
        matches!(self.step, Step::Transfer)
            && matches!(self.current, Some(Job::Download { .. } | Job::List { .. }))
    }

    fn next_job(&mut self) -> Option<Packet> {
        self.handle.clear();
        let Some(job) = self.jobs.pop_front() else {
            self.step = Step::Idle;
            return None;
        };
        let id = self.id();
        let first = match &job {
            Job::Upload {
                remote,
                resume: true,
                ..
            }
            | Job::Download { remote, .. } => {
                self.step = Step::Stat;
                Packet::Path {
                    op: PathOp::Stat,
                    id,
                    path: remote.clone(),
                }
            }
            Job::Upload { remote, .. } => {
                self.step = Step::Open;
                self.from = 0;
                self.offset = 0;
                Packet::Open {
                    id,
                    path: remote.clone(),
                    pflags: pflags::WRITE | pflags::CREAT | pflags::TRUNC,
                    attrs: Attrs {
                        permissions: Some(0o644),
                        ..Attrs::default()
                    },
                }
            }
            Job::List { dir } => {
                self.step = Step::Open;
                self.names.clear();
                Packet::Path {
                    op: PathOp::Opendir,
                    id,
                    path: dir.clone(),
                }
            }
        };
        self.current = Some(job);
        Some(first)
    }

    fn after_stat(&mut self, size: Option<u64>) -> Option<Packet> {
        let id = self.id();
        self.step = Step::Open;
        match &self.current {
            Some(Job::Upload { remote, data, .. }) => {
                // Continue after what the server has (never past our own length).
                self.from = size.unwrap_or(0).min(data.len() as u64);
                self.offset = self.from;
                Some(Packet::Open {
                    id,
                    path: remote.clone(),
                    pflags: pflags::WRITE | pflags::CREAT,
                    attrs: Attrs::default(),
                })
            }
            Some(Job::Download { remote, have }) => {
                self.from = have.len() as u64;
                self.offset = self.from;
                self.got = have.clone();
                Some(Packet::Open {
                    id,
                    path: remote.clone(),
                    pflags: pflags::READ,
                    attrs: Attrs::default(),
                })
            }
            _ => None,
        }
    }

    fn transfer(&mut self) -> Option<Packet> {
        self.step = Step::Transfer;
        let id = self.id();
        let handle = self.handle.clone();
        match &self.current {
            Some(Job::Upload { data, .. }) => {
                let start = usize::try_from(self.offset).unwrap_or(usize::MAX);
                if start >= data.len() {
                    return self.close();
                }
                let end = start.saturating_add(self.chunk).min(data.len());
                let chunk = data.get(start..end).unwrap_or_default().to_vec();
                let offset = self.offset;
                self.offset = end as u64;
                Some(Packet::Write {
                    id,
                    handle,
                    offset,
                    data: chunk,
                })
            }
            Some(Job::Download { .. }) => Some(Packet::Read {
                id,
                handle,
                offset: self.offset,
                len: self.chunk as u32,
            }),
            Some(Job::List { .. }) => Some(Packet::Handle {
                op: HandleOp::Readdir,
                id,
                handle,
            }),
            None => None,
        }
    }

    fn close(&mut self) -> Option<Packet> {
        self.step = Step::Close;
        let id = self.id();
        Some(Packet::Handle {
            op: HandleOp::Close,
            id,
            handle: self.handle.clone(),
        })
    }
}
