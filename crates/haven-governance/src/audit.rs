//! The append-only, hash-chained audit log (DESIGN.md §2).
//!
//! Every entry carries the SHA-256 of the previous entry and a hash over its
//! own content and that link, so editing, deleting, inserting or reordering
//! entries breaks the chain at a place [`AuditLog::verify`] names. SQLite
//! triggers refuse UPDATE and DELETE on the table, so an ordinary code path
//! cannot change history; someone with the database file can, and the chain
//! is what catches them. Removing entries from the end leaves a valid chain,
//! so the head (count and last hash) is also written to `audit.head` beside
//! the database on every append and compared on verify; exporting the log to
//! NHS England regularly gives the external witness that closes the gap.
//!
//! Entries never hold patient values: targets are datasets, zones, loads,
//! users and outputs, and counts.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, TransactionBehavior};
use serde::Serialize;
use haven_store::hex;
use sha2::{Digest, Sha256};

use crate::csv_field;
use crate::error::GovernanceError;

/// The hash a chain starts from.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    purpose TEXT NOT NULL,
    dsa TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// What happened, as the caller describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Event {
    /// The user (or `system`).
    pub actor: String,
    pub role: String,
    pub purpose: String,
    pub dsa: String,
    /// e.g. `ingest`, `read`, `output`, `refusal`, `user.add`, `keys.init`.
    pub action: String,
    /// What was acted on: dataset, zone, load id, user name, output id.
    pub target: String,
    /// `ok`, `refused`, …
    pub outcome: String,
    /// JSON with counts and reasons; never patient values.
    pub detail: String,
}

/// A stored entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub seq: u64,
    pub at: String,
    #[serde(flatten)]
    pub event: Event,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The hash of this entry's content and its link to the previous one.
    fn compute_hash(&self) -> String {
        let e = &self.event;
        let mut h = Sha256::new();
        for part in [
            &self.seq.to_string(),
            &self.at,
            &e.actor,
            &e.role,
            &e.purpose,
            &e.dsa,
            &e.action,
            &e.target,
            &e.outcome,
            &e.detail,
            &self.prev_hash,
        ] {
            // Length-prefixed, so fields cannot be shifted into each other.
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex(&h.finalize())
    }
}

/// The audit log of one data directory.
pub struct AuditLog {
    conn: Connection,
    head: PathBuf,
}

impl AuditLog {
    /// Opens the log in `<data-dir>/catalog.sqlite`.
    pub fn open(data_dir: &Path) -> Result<AuditLog, GovernanceError> {
        std::fs::create_dir_all(data_dir).map_err(|source| GovernanceError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
        let conn = Connection::open(data_dir.join("catalog.sqlite"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        Ok(AuditLog { conn, head: data_dir.join("audit.head") })
    }

    /// Appends an event and returns its entry.
    pub fn append(&mut self, event: Event) -> Result<Entry, GovernanceError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = tx
            .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .ok();
        let (seq, prev_hash) = match last {
            Some((s, h)) => (s as u64 + 1, h),
            None => (1, GENESIS.to_owned()),
        };
        let mut entry = Entry { seq, at: haven_store::timestamp_now(), event, prev_hash, hash: String::new() };
        entry.hash = entry.compute_hash();
        let e = &entry.event;
        tx.execute(
            "INSERT INTO audit (seq, at, actor, role, purpose, dsa, action, target, outcome, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                entry.seq as i64,
                entry.at,
                e.actor,
                e.role,
                e.purpose,
                e.dsa,
                e.action,
                e.target,
                e.outcome,
                e.detail,
                entry.prev_hash,
                entry.hash
            ],
        )?;
        tx.commit()?;
        self.write_head(entry.seq, &entry.hash)?;
        Ok(entry)
    }

    fn write_head(&self, seq: u64, hash: &str) -> Result<(), GovernanceError> {
        let tmp = self.head.with_extension("head.tmp");
        let io = |source| GovernanceError::Io { path: self.head.display().to_string(), source };
        std::fs::write(&tmp, format!("{seq} {hash}\n")).map_err(io)?;
        std::fs::rename(&tmp, &self.head).map_err(io)
    }

    /// Every entry, in order.
    pub fn entries(&self) -> Result<Vec<Entry>, GovernanceError> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, actor, role, purpose, dsa, action, target, outcome, detail, prev_hash, hash \
             FROM audit ORDER BY rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Entry {
                seq: r.get::<_, i64>(0)? as u64,
                at: r.get(1)?,
                event: Event {
                    actor: r.get(2)?,
                    role: r.get(3)?,
                    purpose: r.get(4)?,
                    dsa: r.get(5)?,
                    action: r.get(6)?,
                    target: r.get(7)?,
                    outcome: r.get(8)?,
                    detail: r.get(9)?,
                },
                prev_hash: r.get(10)?,
                hash: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Checks the whole chain; returns the number of entries, or says at
    /// which entry it breaks and how.
    pub fn verify(&self) -> Result<u64, GovernanceError> {
        let entries = self.entries()?;
        let mut prev = GENESIS.to_owned();
        for (i, e) in entries.iter().enumerate() {
            let expected_seq = i as u64 + 1;
            if e.seq != expected_seq {
                return Err(GovernanceError::Audit(format!(
                    "entry {expected_seq} is missing or out of place (found entry {} there): entries were deleted, inserted or reordered",
                    e.seq
                )));
            }
            if e.prev_hash != prev {
                return Err(GovernanceError::Audit(format!(
                    "entry {} does not link to entry {}: entries were deleted, inserted or reordered",
                    e.seq,
                    e.seq - 1
                )));
            }
            if e.compute_hash() != e.hash {
                return Err(GovernanceError::Audit(format!("entry {} was edited: its content does not match its hash", e.seq)));
            }
            prev = e.hash.clone();
        }
        self.check_head(entries.len() as u64, &prev)?;
        Ok(entries.len() as u64)
    }

    fn check_head(&self, count: u64, last: &str) -> Result<(), GovernanceError> {
        let Ok(text) = std::fs::read_to_string(&self.head) else {
            return if count == 0 {
                Ok(())
            } else {
                Err(GovernanceError::Audit(format!("{} is missing: the head of the chain cannot be checked", self.head.display())))
            };
        };
        let mut parts = text.split_whitespace();
        let seq: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let hash = parts.next().unwrap_or("");
        if seq != count || hash != last {
            return Err(GovernanceError::Audit(format!(
                "the log ends at entry {count} but its head records entry {seq}: entries were removed from the end"
            )));
        }
        Ok(())
    }

    /// Writes the log as CSV (for an NHS England audit).
    pub fn export_csv(&self, path: &Path) -> Result<u64, GovernanceError> {
        let entries = self.entries()?;
        let mut out = String::from("seq,at,actor,role,purpose,dsa,action,target,outcome,detail,prev_hash,hash\n");
        for e in &entries {
            let v = &e.event;
            let fields = [
                e.seq.to_string(),
                e.at.clone(),
                v.actor.clone(),
                v.role.clone(),
                v.purpose.clone(),
                v.dsa.clone(),
                v.action.clone(),
                v.target.clone(),
                v.outcome.clone(),
                v.detail.clone(),
                e.prev_hash.clone(),
                e.hash.clone(),
            ];
            out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        std::fs::write(path, out).map_err(|source| GovernanceError::Io { path: path.display().to_string(), source })?;
        Ok(entries.len() as u64)
    }

    /// Writes the log as a JSON array.
    pub fn export_json(&self, path: &Path) -> Result<u64, GovernanceError> {
        let entries = self.entries()?;
        let text = serde_json::to_string_pretty(&entries).map_err(|e| GovernanceError::Audit(e.to_string()))?;
        std::fs::write(path, text).map_err(|source| GovernanceError::Io { path: path.display().to_string(), source })?;
        Ok(entries.len() as u64)
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, target: &str) -> Event {
        Event {
            actor: "alice".into(),
            role: "dscro".into(),
            purpose: "commissioning".into(),
            dsa: "DSA-HAVEN-DEMO".into(),
            action: action.into(),
            target: target.into(),
            outcome: "ok".into(),
            detail: "{}".into(),
        }
    }

    /// A log with five entries, and a raw connection for tampering.
    fn log() -> (tempfile::TempDir, AuditLog, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(dir.path()).unwrap();
        for i in 1..=5 {
            log.append(event("ingest", &format!("dataset{i}"))).unwrap();
        }
        let raw = Connection::open(dir.path().join("catalog.sqlite")).unwrap();
        // A tamperer with the file can drop the guards; the chain still tells.
        raw.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
        (dir, log, raw)
    }

    #[test]
    fn an_untouched_chain_verifies_and_links_every_entry() {
        let (_d, log, _) = log();
        assert_eq!(log.verify().unwrap(), 5);
        let e = log.entries().unwrap();
        assert_eq!(e[0].prev_hash, GENESIS);
        for w in e.windows(2) {
            assert_eq!(w[1].prev_hash, w[0].hash);
        }
    }

    #[test]
    fn the_guards_refuse_update_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(dir.path()).unwrap();
        log.append(event("ingest", "x")).unwrap();
        let err = log.conn.execute("UPDATE audit SET target = 'y'", []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{err}");
        assert!(log.conn.execute("DELETE FROM audit", []).is_err());
        assert_eq!(log.verify().unwrap(), 1);
    }

    #[test]
    fn an_edit_is_found_at_its_entry() {
        let (_d, log, raw) = log();
        raw.execute("UPDATE audit SET target = 'other' WHERE seq = 3", []).unwrap();
        let err = log.verify().unwrap_err().to_string();
        assert!(err.contains("entry 3 was edited"), "{err}");
    }

    #[test]
    fn a_deletion_is_found() {
        let (_d, log, raw) = log();
        raw.execute("DELETE FROM audit WHERE seq = 2", []).unwrap();
        let err = log.verify().unwrap_err().to_string();
        assert!(err.contains("entry 2 is missing"), "{err}");
    }

    #[test]
    fn removing_the_tail_is_found_by_the_head() {
        let (_d, log, raw) = log();
        raw.execute("DELETE FROM audit WHERE seq = 5", []).unwrap();
        let err = log.verify().unwrap_err().to_string();
        assert!(err.contains("removed from the end"), "{err}");
    }

    #[test]
    fn an_insertion_with_a_recomputed_hash_is_found_by_its_link() {
        let (_d, log, raw) = log();
        // Renumber entries 4 and 5 up by one and insert a forged entry 4
        // whose own hash is consistent: its link to entry 3 is what fails.
        raw.execute("UPDATE audit SET seq = seq + 10 WHERE seq >= 4", []).unwrap();
        let mut forged = Entry { seq: 4, at: "2026-01-01T00:00:00Z".into(), event: event("read", "forged"), prev_hash: "f".repeat(64), hash: String::new() };
        forged.hash = forged.compute_hash();
        raw.execute(
            "INSERT INTO audit VALUES (4, ?1, 'alice', 'dscro', 'commissioning', 'D', 'read', 'forged', 'ok', '{}', ?2, ?3)",
            params![forged.at, forged.prev_hash, forged.hash],
        )
        .unwrap();
        let err = log.verify().unwrap_err().to_string();
        assert!(err.contains("entry 4"), "{err}");
    }

    #[test]
    fn reordering_is_found() {
        let (_d, log, raw) = log();
        raw.execute_batch("UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 100;").unwrap();
        let err = log.verify().unwrap_err().to_string();
        assert!(err.contains("entry 2") || err.contains("entry 3"), "{err}");
    }

    #[test]
    fn exports_hold_every_entry() {
        let (d, log, _) = log();
        let csv = d.path().join("audit.csv");
        assert_eq!(log.export_csv(&csv).unwrap(), 5);
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(text.lines().count(), 6);
        assert!(text.lines().nth(3).unwrap().starts_with("3,"));
        let json = d.path().join("audit.json");
        log.export_json(&json).unwrap();
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 5);
        assert_eq!(v[4]["target"], "dataset5");
    }
}
