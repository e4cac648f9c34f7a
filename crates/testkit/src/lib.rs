//! What the cores' tests share.
//!
//! [`tests!`] declares tests that run natively (`#[test]`) and, compiled to wasm32,
//! in headless Chromium (`#[wasm_bindgen_test]`; the test crate depends on
//! `wasm-bindgen-test` and calls [`in_browser!`] once). A plain `#[test]` is skipped
//! on wasm32, so a core's browser run would pass by running nothing; this macro is
//! how each test exists in both places.
#![forbid(unsafe_code)]

/// Tests that run natively and in the browser:
///
/// ```ignore
/// cipherstage_testkit::tests! {
///     fn adds() { assert_eq!(1 + 1, 2); }
/// }
/// ```
#[macro_export]
macro_rules! tests {
    ($($(#[$m:meta])* fn $name:ident() $body:block)*) => {$(
        $(#[$m])*
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        fn $name() $body
    )*};
}

/// Runs this test binary's wasm32 tests in the browser (once per test file).
#[macro_export]
macro_rules! in_browser {
    () => {
        #[cfg(target_arch = "wasm32")]
        wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
    };
}
