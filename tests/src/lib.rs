//! Workspace-level tests live in `tests/`; the Playwright specs in `e2e/specs/`.
//!
//! Helpers shared by those tests.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}
