//! Fault injection for the crash tests: `HAVEN_CRASH_AT=<step>` aborts the
//! process at a commit step (`before-publish`, `after-publish`,
//! `after-catalog`), so the tests can prove a killed load changes nothing.
//!
//! Compiled only with the `fault-injection` feature, which only
//! dev-dependencies enable: in a release binary the variable would let
//! anyone commit a load or a destruction with no audit entry (issue 14 §11).

/// Environment variable naming the commit step at which to abort.
pub const CRASH_AT_ENV: &str = "HAVEN_CRASH_AT";

/// Aborts the process if [`CRASH_AT_ENV`] names `step`.
pub(crate) fn crash_point(step: &str) {
    if std::env::var(CRASH_AT_ENV).as_deref() == Ok(step) {
        std::process::abort();
    }
}
