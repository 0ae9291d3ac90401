//! Lock-out after repeated failed sign-ins (issue 16 §2): after
//! [`MAX_FAILURES`] failures in a row an account is locked for
//! [`LOCK_SECONDS`], and sign-in is refused during that time even with the
//! right password and code, so guessing is throttled to a few tries an hour.
//! A success resets the count; an administrator can unlock at once. NCSC's
//! password guidance ("allow between 5 and 10 login attempts before
//! locking out") sets the count at its strict end.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::GovernanceError;

/// Failures in a row that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts, in seconds.
pub const LOCK_SECONDS: u64 = 15 * 60;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sign_in_failures (
    name TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until INTEGER
);
";

/// Refuses a sign-in to an account locked at `now`.
pub(crate) fn check(conn: &Connection, name: &str, now: u64) -> Result<(), GovernanceError> {
    conn.execute_batch(SCHEMA)?;
    let until: Option<Option<i64>> = conn.query_row("SELECT locked_until FROM sign_in_failures WHERE name = ?1", [name], |r| r.get(0)).optional()?;
    match until.flatten() {
        Some(t) if (t as u64) > now => Err(GovernanceError::Locked(format!(
            "sign-in refused for {name}: the account is locked after {MAX_FAILURES} failed sign-ins, until {} (or an administrator unlocks it)",
            haven_store::format_timestamp(t as u64)
        ))),
        _ => Ok(()),
    }
}

/// Counts a failed sign-in; returns whether it locked the account.
pub(crate) fn failed(conn: &Connection, name: &str, now: u64) -> Result<bool, GovernanceError> {
    conn.execute_batch(SCHEMA)?;
    conn.execute(
        "INSERT INTO sign_in_failures (name, failures, locked_until) VALUES (?1, 1, NULL) \
         ON CONFLICT(name) DO UPDATE SET failures = failures + 1",
        [name],
    )?;
    let failures: i64 = conn.query_row("SELECT failures FROM sign_in_failures WHERE name = ?1", [name], |r| r.get(0))?;
    if failures >= MAX_FAILURES {
        conn.execute("UPDATE sign_in_failures SET failures = 0, locked_until = ?2 WHERE name = ?1", params![name, (now + LOCK_SECONDS) as i64])?;
        return Ok(true);
    }
    Ok(false)
}

/// A successful sign-in clears the count.
pub(crate) fn succeeded(conn: &Connection, name: &str) -> Result<(), GovernanceError> {
    conn.execute_batch(SCHEMA)?;
    conn.execute("DELETE FROM sign_in_failures WHERE name = ?1", [name])?;
    Ok(())
}

/// An administrator's unlock of `name` (its failures forgotten).
pub fn unlock(data_dir: &Path, name: &str) -> Result<(), GovernanceError> {
    succeeded(&*crate::open_catalog(data_dir, SCHEMA)?, name)
}
