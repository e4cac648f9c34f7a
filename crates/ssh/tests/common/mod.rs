//! What the interop tests with real peers share: a missing peer fails, a private
//! scratch directory per test, a key file only its owner may read.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Fails the test when peer binary `bin` is missing (a missing peer never skips).
pub fn require(bin: &str) {
    assert!(
        Path::new(bin).exists(),
        "{bin} is missing: `cargo xtask setup` installs every peer the tests use"
    );
}

/// A fresh directory under the system's temp dir, unique to this process and moment.
pub fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let d = std::env::temp_dir().join(format!("cs-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `text` to `path` readable by its owner only (OpenSSH refuses others).
pub fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
