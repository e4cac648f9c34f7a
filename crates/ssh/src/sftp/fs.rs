//! A small in-memory file system for the SFTP server: a user's home with a few
//! files, owner permission bits that are enforced, and a size limit, so nothing
//! a client sends can make it grow without bound. No real file is touched.
//!
//! Paths are resolved lexically: relative to the home directory, `.` and `..`
//! collapsed, never above `/` (as POSIX resolves `/..`).

use std::collections::BTreeMap;

use super::wire::{status, Attrs, Name};

/// All file contents together may not exceed this (a WRITE past it fails).
pub const MAX_TOTAL: usize = 32 * 1024 * 1024;
/// Files and directories at most.
pub const MAX_NODES: usize = 1024;
/// The owner of every file (uid and gid).
pub const OWNER_ID: u32 = 1000;

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;

/// A status code and its message, as the SFTP server answers a failure.
pub type Fault = (u32, &'static str);

/// Fault: no such file.
pub const NO_SUCH_FILE: Fault = (status::NO_SUCH_FILE, "No such file");
/// Fault: permission denied.
pub const DENIED: Fault = (status::PERMISSION_DENIED, "Permission denied");
/// Fault: a generic failure.
pub const FAILURE: Fault = (status::FAILURE, "Failure");

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir {
        mode: u32,
        mtime: u32,
    },
    File {
        mode: u32,
        mtime: u32,
        data: Vec<u8>,
    },
}

/// A file whose contents are not kept: only its size and the SHA-256 of what was
/// written to it in order (a 100 MB upload fits no in-memory home).
#[derive(Clone)]
struct Sink {
    size: u64,
    sha: ring::digest::Context,
}

impl Sink {
    fn digest(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.sha.clone().finish().as_ref());
        out
    }
}

impl PartialEq for Sink {
    fn eq(&self, other: &Sink) -> bool {
        self.size == other.size && self.digest() == other.digest()
    }
}

impl Eq for Sink {}

impl core::fmt::Debug for Sink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sink").field("size", &self.size).finish()
    }
}

/// The file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemFs {
    nodes: BTreeMap<String, Node>,
    home: String,
    user: String,
    /// What every change is stamped with (seconds since 1970); passed in, never read from a clock.
    now: u32,
    /// Counts changes (so an embedding can tell when to save a copy).
    changes: u64,
    /// Files whose writes are hashed, not stored ([`MemFs::add_sink`]).
    sinks: BTreeMap<String, Sink>,
}

impl MemFs {
    /// An empty file system with `/` and the home directory of `user`.
    pub fn new(user: &str, now: u32) -> MemFs {
        let home = format!("/home/{user}");
        let mut fs = MemFs {
            nodes: BTreeMap::new(),
            home: home.clone(),
            user: user.to_owned(),
            now,
            changes: 0,
            sinks: BTreeMap::new(),
        };
        for d in ["/", "/home", &home] {
            fs.nodes.insert(
                d.to_owned(),
                Node::Dir {
                    mode: 0o755,
                    mtime: now,
                },
            );
        }
        fs
    }

    /// The demo home: notes, a CSV report, a file only root may read, a
    /// read-only system directory, an upload directory.
    pub fn demo(user: &str, now: u32) -> MemFs {
        let mut fs = MemFs::new(user, now);
        let h = fs.home.clone();
        fs.add_dir("/etc", 0o755);
        fs.add_file("/etc/motd", 0o444, b"Welcome to server.example.\n".to_vec());
        fs.add_dir("/srv", 0o555);
        fs.add_file(
            &format!("{h}/notes.txt"),
            0o644,
            b"Meeting at 10:00 in room 3.\nBring the SSH slides.\n".to_vec(),
        );
        let mut csv = b"month,visitors\n".to_vec();
        for (i, m) in ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]
            .iter()
            .enumerate()
        {
            csv.extend(format!("{m},{}\n", 1200 + i * 137).bytes());
        }
        fs.add_file(&format!("{h}/report.csv"), 0o644, csv);
        fs.add_file(&format!("{h}/secret.txt"), 0o000, b"root only\n".to_vec());
        fs.add_dir(&format!("{h}/upload"), 0o755);
        fs
    }

    /// How many changes were made so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    fn changed(&mut self) {
        self.changes = self.changes.wrapping_add(1);
    }

    /// The home directory.
    pub fn home(&self) -> &str {
        &self.home
    }

    /// Adds (or replaces) a directory.
    pub fn add_dir(&mut self, path: &str, mode: u32) {
        let p = self.resolve(path);
        self.nodes.insert(
            p,
            Node::Dir {
                mode: mode & 0o7777,
                mtime: self.now,
            },
        );
    }

    /// Adds (or replaces) a file.
    pub fn add_file(&mut self, path: &str, mode: u32, data: Vec<u8>) {
        let p = self.resolve(path);
        self.nodes.insert(
            p,
            Node::File {
                mode: mode & 0o7777,
                mtime: self.now,
                data,
            },
        );
    }

    /// A file's contents.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match self.nodes.get(&self.resolve(path)) {
            Some(Node::File { data, .. }) => Some(data),
            _ => None,
        }
    }

    /// Every file, by absolute path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.nodes.iter().filter_map(|(p, n)| match n {
            Node::File { data, .. } => Some((p.as_str(), data.as_slice())),
            Node::Dir { .. } => None,
        })
    }

    fn used(&self) -> usize {
        self.files().map(|(_, d)| d.len()).sum()
    }

    /// The absolute, normalised form of `path` (relative to the home directory).
    pub fn resolve(&self, path: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        let start = if path.starts_with('/') {
            ""
        } else {
            self.home.as_str()
        };
        for seg in start.split('/').chain(path.split('/')) {
            match seg {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        format!("/{}", parts.join("/"))
    }

    fn parent(path: &str) -> &str {
        match path.rfind('/') {
            Some(0) | None => "/",
            Some(i) => path.get(..i).unwrap_or("/"),
        }
    }

    fn mode_of(&self, path: &str) -> Option<(bool, u32)> {
        self.nodes.get(path).map(|n| match n {
            Node::Dir { mode, .. } => (true, *mode),
            Node::File { mode, .. } => (false, *mode),
        })
    }

    /// The directory `path` must exist and let its owner write into it.
    fn writable_dir(&self, path: &str) -> Result<(), Fault> {
        match self.mode_of(path) {
            None => Err(NO_SUCH_FILE),
            Some((false, _)) => Err(FAILURE),
            Some((true, m)) if m & 0o200 == 0 => Err(DENIED),
            Some(_) => Ok(()),
        }
    }

    /// A new name must be printable: no control characters (and not empty).
    fn check_name(path: &str) -> Result<(), Fault> {
        let name = path.rsplit('/').next().unwrap_or_default();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err((status::FAILURE, "Invalid file name"));
        }
        Ok(())
    }

    /// Attributes of `path`.
    pub fn stat(&self, path: &str) -> Result<Attrs, Fault> {
        let p = self.resolve(path);
        let n = self.nodes.get(&p).ok_or(NO_SUCH_FILE)?;
        let (kind, mode, mtime, size) = match n {
            Node::Dir { mode, mtime } => (S_IFDIR, *mode, *mtime, 4096),
            Node::File { mode, mtime, data } => (S_IFREG, *mode, *mtime, data.len() as u64),
        };
        Ok(Attrs {
            size: Some(size),
            uid_gid: Some((OWNER_ID, OWNER_ID)),
            permissions: Some(kind | mode),
            times: Some((mtime, mtime)),
            extended: Vec::new(),
        })
    }

    /// Checks an OPEN: reading needs the owner's read bit, writing its write bit;
    /// CREAT makes the file in a writable directory, EXCL refuses an existing one,
    /// TRUNC empties it. Returns the resolved path.
    pub fn open(
        &mut self,
        path: &str,
        read: bool,
        write: bool,
        creat: bool,
        excl: bool,
        trunc: bool,
    ) -> Result<String, Fault> {
        let p = self.resolve(path);
        match self.mode_of(&p) {
            Some((true, _)) => Err(FAILURE),
            Some((false, m)) => {
                if excl && creat {
                    return Err(FAILURE);
                }
                if (read && m & 0o400 == 0) || (write && m & 0o200 == 0) {
                    return Err(DENIED);
                }
                if trunc && write {
                    if let Some(Node::File { data, mtime, .. }) = self.nodes.get_mut(&p) {
                        data.clear();
                        *mtime = self.now;
                    }
                    self.changed();
                }
                Ok(p)
            }
            None if creat && write => {
                self.writable_dir(Self::parent(&p))?;
                Self::check_name(&p)?;
                if self.nodes.len() >= MAX_NODES {
                    return Err(FAILURE);
                }
                self.nodes.insert(
                    p.clone(),
                    Node::File {
                        mode: 0o644,
                        mtime: self.now,
                        data: Vec::new(),
                    },
                );
                self.changed();
                Ok(p)
            }
            None => Err(NO_SUCH_FILE),
        }
    }

    /// Up to `len` bytes of the file at `offset`; EOF at or past its end.
    pub fn read(&self, path: &str, offset: u64, len: usize) -> Result<Vec<u8>, Fault> {
        match self.nodes.get(path) {
            Some(Node::File { data, .. }) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                if start >= data.len() {
                    return Err((status::EOF, "End of file"));
                }
                let end = start.saturating_add(len).min(data.len());
                Ok(data.get(start..end).unwrap_or_default().to_vec())
            }
            _ => Err(NO_SUCH_FILE),
        }
    }

    /// Makes the file at `path` (once created) a sink: writes to it, which must
    /// come in order, are counted and hashed but not stored, so an upload larger
    /// than [`MAX_TOTAL`] can be checked (its size and SHA-256, [`MemFs::sink`]).
    pub fn add_sink(&mut self, path: &str) {
        let p = self.resolve(path);
        self.sinks.insert(
            p,
            Sink {
                size: 0,
                sha: ring::digest::Context::new(&ring::digest::SHA256),
            },
        );
    }

    /// A sink's size and the SHA-256 of its contents so far.
    pub fn sink(&self, path: &str) -> Option<(u64, [u8; 32])> {
        self.sinks
            .get(&self.resolve(path))
            .map(|s| (s.size, s.digest()))
    }

    /// Writes `bytes` at `offset` (the end for `append`), zero-filling a gap; fails
    /// rather than grow past [`MAX_TOTAL`].
    pub fn write(
        &mut self,
        path: &str,
        offset: u64,
        bytes: &[u8],
        append: bool,
    ) -> Result<(), Fault> {
        let now = self.now;
        if let Some(sink) = self.sinks.get_mut(path) {
            let Some(Node::File { mtime, .. }) = self.nodes.get_mut(path) else {
                return Err(NO_SUCH_FILE);
            };
            if !append && offset != sink.size {
                return Err((status::FAILURE, "Sink file takes writes in order"));
            }
            sink.sha.update(bytes);
            sink.size = sink.size.saturating_add(bytes.len() as u64);
            *mtime = now;
            self.changed();
            return Ok(());
        }
        let used = self.used();
        let Some(Node::File { data, mtime, .. }) = self.nodes.get_mut(path) else {
            return Err(NO_SUCH_FILE);
        };
        let start = if append {
            data.len()
        } else {
            usize::try_from(offset).unwrap_or(usize::MAX)
        };
        let end = start.checked_add(bytes.len()).ok_or(FAILURE)?;
        let growth = end.saturating_sub(data.len());
        if used.saturating_add(growth) > MAX_TOTAL {
            return Err((status::FAILURE, "No space left on device"));
        }
        if data.len() < end {
            data.resize(end, 0);
        }
        if let Some(dst) = data.get_mut(start..end) {
            dst.copy_from_slice(bytes);
        }
        *mtime = now;
        self.changed();
        Ok(())
    }

    /// SETSTAT: the owner may change permissions, size (truncate or zero-extend
    /// within the limit) and times.
    pub fn setstat(&mut self, path: &str, a: &Attrs) -> Result<(), Fault> {
        let p = self.resolve(path);
        if !self.nodes.contains_key(&p) {
            return Err(NO_SUCH_FILE);
        }
        if let Some(size) = a.size {
            let cur = self.file(&p).map(<[u8]>::len).ok_or(FAILURE)?;
            let size = usize::try_from(size).map_err(|_| FAILURE)?;
            if size > cur && self.used() + (size - cur) > MAX_TOTAL {
                return Err((status::FAILURE, "No space left on device"));
            }
            if let Some(Node::File { data, .. }) = self.nodes.get_mut(&p) {
                data.resize(size, 0);
            }
        }
        if let Some(n) = self.nodes.get_mut(&p) {
            let (mode, mtime) = match n {
                Node::Dir { mode, mtime } | Node::File { mode, mtime, .. } => (mode, mtime),
            };
            if let Some(perm) = a.permissions {
                *mode = perm & 0o7777;
            }
            if let Some((_, m)) = a.times {
                *mtime = m;
            }
        }
        self.changed();
        Ok(())
    }

    /// The entries of directory `path`, with `ls -l` lines.
    pub fn list(&self, path: &str) -> Result<Vec<Name>, Fault> {
        let p = self.resolve(path);
        match self.mode_of(&p) {
            None => return Err(NO_SUCH_FILE),
            Some((false, _)) => return Err(FAILURE),
            Some((true, m)) if m & 0o400 == 0 => return Err(DENIED),
            Some(_) => {}
        }
        let prefix = if p == "/" {
            "/".to_owned()
        } else {
            format!("{p}/")
        };
        let mut out = Vec::new();
        for (child, _) in self.nodes.range(prefix.clone()..) {
            let Some(rest) = child.strip_prefix(&prefix) else {
                break;
            };
            if rest.is_empty() || rest.contains('/') {
                continue;
            }
            let attrs = self.stat(child)?;
            out.push(Name {
                filename: rest.to_owned(),
                longname: self.longname(rest, &attrs),
                attrs,
            });
        }
        Ok(out)
    }

    /// An `ls -l` line as OpenSSH's sftp-server writes it.
    pub fn longname(&self, name: &str, a: &Attrs) -> String {
        let mode = a.permissions.unwrap_or(0);
        let mut s = String::with_capacity(10);
        s.push(if mode & S_IFDIR != 0 { 'd' } else { '-' });
        for shift in [6, 3, 0] {
            let bits = (mode >> shift) & 7;
            s.push(if bits & 4 != 0 { 'r' } else { '-' });
            s.push(if bits & 2 != 0 { 'w' } else { '-' });
            s.push(if bits & 1 != 0 { 'x' } else { '-' });
        }
        let (y, mo, d) = civil(a.times.map_or(0, |t| t.1));
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = MONTHS.get(mo.saturating_sub(1) as usize).unwrap_or(&"Jan");
        format!(
            "{s}    1 {:<8} {:<8} {:>8} {month} {d:>2}  {y} {name}",
            self.user,
            self.user,
            a.size.unwrap_or(0)
        )
    }

    /// MKDIR in a writable directory.
    pub fn mkdir(&mut self, path: &str) -> Result<(), Fault> {
        let p = self.resolve(path);
        if self.nodes.contains_key(&p) {
            return Err(FAILURE);
        }
        self.writable_dir(Self::parent(&p))?;
        Self::check_name(&p)?;
        if self.nodes.len() >= MAX_NODES {
            return Err(FAILURE);
        }
        self.nodes.insert(
            p,
            Node::Dir {
                mode: 0o755,
                mtime: self.now,
            },
        );
        self.changed();
        Ok(())
    }

    /// RMDIR of an empty directory.
    pub fn rmdir(&mut self, path: &str) -> Result<(), Fault> {
        let p = self.resolve(path);
        match self.mode_of(&p) {
            None => return Err(NO_SUCH_FILE),
            Some((false, _)) => return Err(FAILURE),
            _ => {}
        }
        self.writable_dir(Self::parent(&p))?;
        if !self.list(&p)?.is_empty() || p == "/" {
            return Err(FAILURE);
        }
        self.nodes.remove(&p);
        self.changed();
        Ok(())
    }

    /// REMOVE of a file.
    pub fn remove(&mut self, path: &str) -> Result<(), Fault> {
        let p = self.resolve(path);
        match self.mode_of(&p) {
            None => return Err(NO_SUCH_FILE),
            Some((true, _)) => return Err(FAILURE),
            _ => {}
        }
        self.writable_dir(Self::parent(&p))?;
        self.nodes.remove(&p);
        self.changed();
        Ok(())
    }

    /// RENAME; an existing target is refused unless `overwrite`
    /// (posix-rename@openssh.com). Files only.
    pub fn rename(&mut self, from: &str, to: &str, overwrite: bool) -> Result<(), Fault> {
        let (f, t) = (self.resolve(from), self.resolve(to));
        match self.mode_of(&f) {
            None => return Err(NO_SUCH_FILE),
            Some((true, _)) => return Err((status::OP_UNSUPPORTED, "Operation unsupported")),
            _ => {}
        }
        if self.mode_of(&t).is_some() && !overwrite {
            return Err(FAILURE);
        }
        self.writable_dir(Self::parent(&f))?;
        self.writable_dir(Self::parent(&t))?;
        Self::check_name(&t)?;
        if let Some(n) = self.nodes.remove(&f) {
            self.nodes.insert(t, n);
        }
        self.changed();
        Ok(())
    }

    /// Whether `path` is a directory.
    pub fn is_dir(&self, path: &str) -> bool {
        matches!(self.mode_of(path), Some((true, _)))
    }
}

/// Year, month, day of a Unix time (Howard Hinnant's civil_from_days).
fn civil(t: u32) -> (i64, u32, u32) {
    let z = i64::from(t / 86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_resolve_lexically_and_never_above_root() {
        let fs = MemFs::new("alice", 0);
        assert_eq!(fs.resolve("notes.txt"), "/home/alice/notes.txt");
        assert_eq!(fs.resolve("."), "/home/alice");
        assert_eq!(fs.resolve("../../../../etc/motd"), "/etc/motd");
        assert_eq!(fs.resolve("/../.."), "/");
        assert_eq!(fs.resolve("a//b/./c/.."), "/home/alice/a/b");
    }

    #[test]
    fn permissions_are_enforced_and_growth_is_capped() {
        let mut fs = MemFs::demo("alice", 1_764_633_600);
        assert_eq!(
            fs.open("secret.txt", true, false, false, false, false),
            Err(DENIED)
        );
        assert_eq!(
            fs.open("/etc/motd", false, true, false, false, false),
            Err(DENIED)
        );
        assert_eq!(
            fs.open("/srv/x", false, true, true, false, false),
            Err(DENIED)
        );
        assert_eq!(
            fs.open("nope", true, false, false, false, false),
            Err(NO_SUCH_FILE)
        );
        assert_eq!(
            fs.open("bad\u{1b}[2Jname", false, true, true, false, false)
                .unwrap_err()
                .0,
            status::FAILURE
        );
        let p = fs
            .open("upload/a.bin", false, true, true, false, true)
            .unwrap();
        assert_eq!(fs.write(&p, u64::MAX - 2, b"xyz", false), Err(FAILURE));
        assert!(fs.write(&p, 1 << 40, b"x", false).is_err());
        fs.write(&p, 3, b"abc", false).unwrap();
        assert_eq!(fs.file("upload/a.bin").unwrap(), b"\0\0\0abc");
        assert_eq!(civil(1_764_633_600), (2025, 12, 2));
    }

    #[test]
    fn a_sink_hashes_writes_in_order_and_keeps_no_bytes() {
        let mut fs = MemFs::demo("alice", 0);
        fs.add_sink("upload/big.bin");
        let p = fs
            .open("upload/big.bin", false, true, true, false, true)
            .unwrap();
        fs.write(&p, 0, b"hello ", false).unwrap();
        fs.write(&p, 6, b"world", false).unwrap();
        // Out of order: refused, nothing counted.
        assert!(fs.write(&p, 3, b"x", false).is_err());
        let (size, sha) = fs.sink("upload/big.bin").unwrap();
        assert_eq!(size, 11);
        assert_eq!(
            sha.as_slice(),
            ring::digest::digest(&ring::digest::SHA256, b"hello world").as_ref()
        );
        assert_eq!(fs.file(&p), Some(&b""[..]));
    }
}
