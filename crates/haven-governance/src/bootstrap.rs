//! Whether a data directory is fresh: the one rule that decides when Haven
//! may act without a sign-in (adding the first administrator, the demo).
//!
//! "No users" is not enough: whoever can write the catalog could empty the
//! users table and re-open unsigned administration (issue 14 §15). A data
//! directory is fresh only if it has never had a load, a user (disabled
//! users are kept, never deleted) or an audit entry, and no audit head file
//! exists (the head outlives a dropped or emptied audit table). Anything
//! that cannot be read counts as used: the rule fails closed.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::GovernanceError;

/// The audit head file beside the catalog (see [`crate::audit`]).
const AUDIT_HEAD: &str = "audit.head";

/// What a data directory has been used for: the store's loads (kept after
/// supersession and retention), its users (disabled ones are kept, never
/// deleted), the entries of the append-only audit log, and whether the
/// audit head file exists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub loads: u64,
    pub users: Vec<String>,
    pub audit_entries: u64,
    pub audit_head: bool,
    /// The distinct actions of the audit entries.
    pub audit_actions: Vec<String>,
}

impl History {
    /// Nothing at all: the directory has never been used.
    pub fn is_empty(&self) -> bool {
        *self == History::default()
    }
}

/// What `data_dir` has been used for. Reads only: nothing is created, so
/// asking does not change the answer; a missing table counts as empty (the
/// audit head still tells a dropped audit table from a new one).
pub fn history(data_dir: &Path) -> Result<History, GovernanceError> {
    let mut h = History { audit_head: data_dir.join(AUDIT_HEAD).exists(), ..History::default() };
    let catalog = data_dir.join("catalog.sqlite");
    if !catalog.exists() {
        return Ok(h);
    }
    let conn = Connection::open_with_flags(&catalog, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let has = |table: &str| -> Result<bool, GovernanceError> {
        let found: Option<i64> = conn
            .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))
            .optional()?;
        Ok(found.is_some())
    };
    if has("loads")? {
        h.loads = conn.query_row("SELECT COUNT(*) FROM loads", [], |r| r.get::<_, i64>(0))? as u64;
    }
    if has("audit")? {
        h.audit_entries = conn.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get::<_, i64>(0))? as u64;
        // A table of another shape is still an audit log: its actions are
        // unknown, never "only the bench's".
        h.audit_actions = match conn.prepare("SELECT DISTINCT action FROM audit ORDER BY action") {
            Ok(mut stmt) => stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?,
            Err(_) => vec!["(unknown)".to_owned()],
        };
    }
    if has("users")? {
        let mut stmt = conn.prepare("SELECT name FROM users ORDER BY name")?;
        h.users = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    }
    Ok(h)
}

/// Whether `data_dir` has never been used (see [`history`]). The caller
/// treats an error as "used": the rule fails closed.
pub fn is_fresh(data_dir: &Path) -> Result<bool, GovernanceError> {
    Ok(history(data_dir)?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::{UserRole, Users};

    #[test]
    fn only_a_never_used_directory_is_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert!(is_fresh(&data).unwrap(), "no directory at all");
        assert!(!data.exists(), "asking creates nothing");
        let mut users = Users::open(&data).unwrap();
        assert!(is_fresh(&data).unwrap(), "an empty catalog");
        users.add("first", UserRole::Admin, None, "long enough password").unwrap();
        assert!(!is_fresh(&data).unwrap(), "a user");
        let raw = Connection::open(data.join("catalog.sqlite")).unwrap();
        raw.execute("DELETE FROM users", []).unwrap();
        assert!(is_fresh(&data).unwrap(), "(nothing else here yet)");
        // The audit log and its head (written as the audit module does, so
        // this test does not depend on how entries are chained).
        raw.execute_batch("CREATE TABLE IF NOT EXISTS audit (seq INTEGER); INSERT INTO audit VALUES (1);").unwrap();
        assert!(!is_fresh(&data).unwrap(), "an audit entry");
        raw.execute_batch("DELETE FROM audit;").unwrap();
        std::fs::write(data.join(AUDIT_HEAD), "1 x\n").unwrap();
        assert!(!is_fresh(&data).unwrap(), "the audit head outlives the entries");
        raw.execute_batch("DROP TABLE audit;").unwrap();
        assert!(!is_fresh(&data).unwrap(), "and the table");
        std::fs::remove_file(data.join(AUDIT_HEAD)).unwrap();
        assert!(is_fresh(&data).unwrap(), "with every trace gone it cannot be told from new");
    }

    #[test]
    fn a_load_alone_makes_it_used() {
        let dir = tempfile::tempdir().unwrap();
        let raw = Connection::open(dir.path().join("catalog.sqlite")).unwrap();
        raw.execute_batch("CREATE TABLE loads (id TEXT); INSERT INTO loads VALUES ('L1');").unwrap();
        assert!(!is_fresh(dir.path()).unwrap());
    }
}
