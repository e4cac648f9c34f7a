//! End-to-end tests live in `tests/`; Playwright specs in `e2e/`.
