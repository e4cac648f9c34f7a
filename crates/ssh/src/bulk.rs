//! sftp-bulk: a large upload through the whole SFTP + SSH stack, every packet
//! really encrypted, with a transcript a page can hold.
//!
//! The first and the last WRITEs are recorded in full, as are the key exchanges
//! in between (re-keying every [`REKEY_BYTES`], RFC 4253 §9). The repetitive
//! middle — WRITE requests, their STATUS answers and WINDOW_ADJUSTs — is counted
//! and dropped from the transcript as the run goes, a narration summing up each
//! stretch (packets, bytes on the wire, file offsets) where it was, and one at
//! the end summing up the whole transfer. The server keeps no copy of the file:
//! it hashes what arrives ([`MemFs::add_sink`]) and checks the SHA-256 against the
//! laptop's.

use cipherstage_transcript::{Event, Recorder};

use crate::sftp::{Job, MemFs};

/// The default file size (100 MiB).
pub const DEFAULT_MB: usize = 100;
/// The largest size the scenario accepts (MiB).
pub const MAX_MB: usize = 1024;
/// Bytes per WRITE: OpenSSH sftp's default request size (`-B 32768`).
pub const CHUNK: usize = 32 * 1024;
/// The client re-keys after this many bytes sent and received (`RekeyLimit 32M`).
pub const REKEY_BYTES: u64 = 32 * 1024 * 1024;
/// WRITEs recorded in full at each end of the transfer.
pub const SHOWN_WRITES: u64 = 2;
/// Where the file goes on the server.
pub const REMOTE: &str = "upload/backup.tar";
/// Labels of the packets a stretch of the middle is summed up from.
const REPEATED: &[&str] = &[
    "sftp.msg.write",
    "sftp.msg.status",
    "ssh.msg.channel_window_adjust",
];

/// The laptop's file: `mb` MiB of deterministic bytes that do not compress (an
/// xorshift64 stream from a fixed start; the scenario's seed is not used, so the
/// file is the same in every run).
pub fn file(mb: usize) -> Vec<u8> {
    let len = mb.min(MAX_MB) * 1024 * 1024;
    let mut out = Vec::with_capacity(len);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The upload job and the server's file system (the demo home, with the target
/// file a sink).
pub fn story(user: &str, data: Vec<u8>, now: u32) -> (Vec<Job>, MemFs) {
    let mut fs = MemFs::demo(user, now);
    fs.add_sink(REMOTE);
    let jobs = vec![Job::Upload {
        remote: REMOTE.into(),
        data,
        resume: false,
    }];
    (jobs, fs)
}

/// A stretch of the middle being summed up.
#[derive(Debug, Default, Clone, Copy)]
struct Stretch {
    packets: u64,
    bytes: u64,
    from: u64,
    to: u64,
}

/// Who hears how far the upload is (0 to 1): the worker's progress bar.
pub type Reporter = Box<dyn FnMut(f64)>;

/// The summary kept while the run goes.
pub(crate) struct Summary {
    size: u64,
    /// The middle starts when the next WRITE's offset passes this.
    start: u64,
    /// Events before this index have been looked at.
    seen: usize,
    stretch: Stretch,
    packets: u64,
    bytes: u64,
    stretches: u32,
    report: Reporter,
    /// The last whole percent reported.
    reported: u64,
}

impl core::fmt::Debug for Summary {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Summary")
            .field("size", &self.size)
            .field("packets", &self.packets)
            .finish()
    }
}

impl Summary {
    /// For an upload of `size` bytes in `chunk`-byte WRITEs; `report` hears the
    /// fraction done at each whole percent.
    pub(crate) fn new(size: u64, chunk: u64, report: Reporter) -> Self {
        Summary {
            size,
            // Looked at when an answer arrives, by which time the next WRITE is
            // queued: the first SHOWN_WRITES stay whole.
            start: (SHOWN_WRITES + 1).saturating_mul(chunk),
            seen: 0,
            stretch: Stretch::default(),
            packets: 0,
            bytes: 0,
            stretches: 0,
            report,
            reported: 0,
        }
    }

    /// Looks at the events recorded since the last call: while the upload is in
    /// its middle (`progress`, the next WRITE's offset), the repeated packets are
    /// counted and removed; anything else (a key exchange) closes the stretch.
    pub(crate) fn compact(&mut self, d: &mut Recorder, progress: u64) {
        let percent = progress.saturating_mul(100) / self.size.max(1);
        if percent > self.reported {
            self.reported = percent;
            (self.report)(progress as f64 / self.size.max(1) as f64);
        }
        // The last WRITE's offset reaches the size one answer before it is sent,
        // so the last SHOWN_WRITES stay whole too.
        let middle = progress > self.start && progress < self.size;
        let fresh = d.events.split_off(self.seen.min(d.events.len()));
        for e in fresh {
            if let Event::Message(m) = &e {
                if middle && REPEATED.contains(&m.label.as_str()) {
                    if self.stretch.packets == 0 {
                        self.stretch.from = progress;
                    }
                    self.stretch.packets += 1;
                    self.stretch.bytes += m.bytes.len() as u64;
                    self.stretch.to = progress;
                    continue;
                }
            }
            // Anything else (a key exchange's packets, secrets and narrations) ends
            // the stretch and stays where it happened.
            self.close(d);
            d.events.push(e);
        }
        if !middle {
            self.close(d);
        }
        self.seen = d.events.len();
    }

    /// Ends the current stretch with its narration.
    fn close(&mut self, d: &mut Recorder) {
        let s = core::mem::take(&mut self.stretch);
        if s.packets == 0 {
            return;
        }
        self.packets += s.packets;
        self.bytes += s.bytes;
        self.stretches += 1;
        d.narrate(
            "sftp.narr.bulk.stretch",
            &[
                ("packets", &s.packets),
                ("bytes", &s.bytes),
                ("from", &mib(s.from)),
                ("to", &mib(s.to)),
            ],
        );
    }

    /// The whole transfer summed up: `rekeys` re-exchanges happened on the way.
    pub(crate) fn finish(&mut self, d: &mut Recorder, rekeys: u32, writes: u64) {
        self.close(d);
        d.narrate(
            "sftp.narr.bulk.summary",
            &[
                ("size", &mib(self.size)),
                ("writes", &writes),
                ("packets", &self.packets),
                ("bytes", &self.bytes),
                ("stretches", &self.stretches),
                ("rekeys", &rekeys),
            ],
        );
    }
}

/// Bytes as MiB with one decimal.
fn mib(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10) / (1024 * 1024);
    format!("{}.{}", tenths / 10, tenths % 10)
}
