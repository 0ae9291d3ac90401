//! Governance core (DESIGN.md §2): the rules that no code path may break.
//!
//! - [`bootstrap`]: whether a data directory has never been used, the one
//!   rule for acting without a sign-in.
//! - [`disclosure`]: the one choke point every aggregate passes before it
//!   leaves (methods.md §1).
//! - [`dsa`]: Data Sharing Agreements written as reviewed TOML and enforced
//!   as policy.
//! - [`registry`]: the agreements Haven obeys, as versioned, hashed data in
//!   the catalog database (imported by an administrator, never read from a
//!   folder).
//! - [`audit`]: the append-only, hash-chained audit log and its verifier.
//! - [`users`]: users, roles and Argon2id password hashes.
//! - [`grant`]: access grants, the only way to open a zone for reading.
//! - [`outputs`]: output release after two independent reviews.
//! - [`session`]: sign-in sessions, the form a grant takes between processes.
//! - [`retention`]: deleting data outside an agreement's retention window,
//!   with a destruction certificate.

pub mod audit;
pub mod bootstrap;
pub mod disclosure;
pub mod dsa;
mod error;
pub mod grant;
pub mod lockout;
pub mod mfa;
pub mod outputs;
mod pool;
pub mod registry;
pub mod retention;
pub mod session;
pub mod users;

pub use error::GovernanceError;

/// One CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The metadata database of `data_dir` with `schema` applied: every
/// governance table lives in `<data-dir>/catalog.sqlite`, opened with the
/// same ten-second wait for a concurrent writer.
/// The connection may be one this thread used before ([`pool`]); the
/// schema is applied on every open all the same, so a dropped table is
/// made again as it always was.
pub(crate) fn open_catalog(data_dir: &std::path::Path, schema: &str) -> Result<pool::CatalogConn, GovernanceError> {
    let conn = pool::CatalogConn::open(&data_dir.join("catalog.sqlite"))?;
    conn.execute_batch(schema)?;
    Ok(conn)
}
