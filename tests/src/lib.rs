//! Workspace-level tests live in `tests/`; the Playwright specs in `e2e/specs/`.
//!
//! Helpers shared by those tests.

use std::path::{Path, PathBuf};

/// The workspace root: the checkout the test runs in (cargo sets
/// `CARGO_MANIFEST_DIR` when it runs a test), else the one it was compiled in. Two
/// checkouts sharing one target directory share the compiled test, so the
/// compile-time path alone could name the other checkout.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(Path::to_path_buf).unwrap_or_default()
}
