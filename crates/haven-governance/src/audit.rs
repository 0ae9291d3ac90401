//! The append-only, keyed hash-chained audit log (DESIGN.md §2).
//!
//! Every entry carries the MAC of the previous entry and its own
//! HMAC-SHA-256, under the audit key, over its content and that link, so
//! editing, deleting, inserting or reordering entries breaks the chain at a
//! place [`AuditLog::verify`] names. SQLite triggers refuse UPDATE and DELETE
//! on the table, so an ordinary code path cannot change history; someone
//! with the database file can, and the chain is what catches them. It is
//! keyed (the key in the keys folder, [`AuditKey`]) because a plain hash
//! chain can be recomputed by anyone who can write the database.
//!
//! Removing entries from the end, emptying the table or dropping it leaves
//! no broken link, so:
//! - the head (count, last MAC, and a MAC over both) is written to
//!   `audit.head` beside the database on every append and checked on verify
//!   (the head may lag the log after a crash between the two writes, never
//!   lead it); appending refuses to continue a log shorter than its head, so
//!   an emptied log is not quietly restarted;
//! - an empty or missing log is refused by verify on a store that has loads,
//!   users or a head file — a store that did anything has entries;
//! - [`AuditLog::checkpoint`] gives the auditor a head to keep outside the
//!   data directory, and [`AuditLog::verify_with`] checks the log still
//!   holds it, which catches a log cut back together with its head file.
//!
//! Entries never hold patient values: targets are datasets, zones, loads,
//! users and outputs, and counts.
//!
//! The columns keep the names `prev_hash` and `hash`; they hold HMACs.

mod key;

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

pub use key::{AuditKey, Checkpoint, KEY_FILE};

use crate::csv_field;
use crate::error::GovernanceError;

/// The link a chain starts from.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The domain labels of the two MACs, so an entry's MAC is never a head's.
const ENTRY_LABEL: &str = "haven-audit-entry-v1";
const HEAD_LABEL: &str = "haven-audit-head-v1";

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
-- Every read of an agreement or an output looks up its attesting entries.
CREATE INDEX IF NOT EXISTS audit_action_target ON audit (action, target);
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
    /// `ok`, `refused`, `attempt`, `failed`, …
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
    /// The previous entry's MAC ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's HMAC-SHA-256 under the audit key.
    pub hash: String,
}

impl Entry {
    /// The MAC of this entry's content and its link to the previous one.
    fn compute_mac(&self, key: &AuditKey) -> String {
        let e = &self.event;
        key.mac(
            ENTRY_LABEL,
            &[&self.seq.to_string(), &self.at, &e.actor, &e.role, &e.purpose, &e.dsa, &e.action, &e.target, &e.outcome, &e.detail, &self.prev_hash],
        )
    }
}

/// The head file's content: the last entry's number and MAC, and a MAC
/// over both.
struct Head {
    seq: u64,
    hash: String,
    mac: String,
}

/// The audit log of one data directory.
pub struct AuditLog {
    conn: crate::pool::CatalogConn,
    head: PathBuf,
    keys_dir: PathBuf,
    key: Option<AuditKey>,
    /// Whether the table is absent (never written, or dropped): it is made
    /// by the first append, never by opening, so a dropped table stays
    /// visible as such to [`AuditLog::verify`].
    missing: bool,
}

impl AuditLog {
    /// Opens the log in `<data-dir>/catalog.sqlite`, keyed by
    /// `<keys-dir>/audit.key` (which must lie outside the data directory).
    pub fn open(data_dir: &Path, keys_dir: &Path) -> Result<AuditLog, GovernanceError> {
        // Created owner-only, and refused if others can read it (one rule
        // for every opener of a data directory).
        haven_store::private_data_dir(data_dir)?;
        key::refuse_inside(keys_dir, data_dir)?;
        let conn = crate::pool::CatalogConn::open(&data_dir.join("catalog.sqlite"))?;
        let existed: bool = conn.query_row("SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit')", [], |r| r.get(0))?;
        if existed {
            // Restores the guards if someone dropped them.
            conn.execute_batch(SCHEMA)?;
        }
        let key = AuditKey::load(keys_dir)?;
        Ok(AuditLog { conn, head: data_dir.join(HEAD_FILE), keys_dir: keys_dir.to_path_buf(), key, missing: !existed })
    }

    /// A data subject as the log may name them: a MAC of their pseudonym
    /// under the audit key (domain `haven-audit-subject-v1`). Who viewed
    /// which patient can then be checked by whoever holds the key and the
    /// pseudonym, while the log, which auditors read and export, carries
    /// neither a pseudonym nor an NHS number. `None` until the log has its
    /// key (made with its first entry).
    pub fn subject(&self, pseudonym: &str) -> Option<String> {
        self.key.as_ref().map(|k| k.mac("haven-audit-subject-v1", &[pseudonym]))
    }

    /// Appends an event and returns its entry.
    pub fn append(&mut self, event: Event) -> Result<Entry, GovernanceError> {
        let missing = self.missing;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = match missing {
            true => None,
            false => tx.query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?,
        };
        let last_seq = last.as_ref().map_or(0, |(s, _)| *s as u64);
        // Never continue (or restart) a log shorter than its head says: that
        // would paper over entries removed, an emptied table or a dropped one.
        if let Some(head) = read_head(&self.head)? {
            if head.seq > last_seq {
                return Err(GovernanceError::Audit(format!(
                    "the log ends at entry {last_seq} but its head records entry {}: entries were removed, or the log was emptied or dropped; nothing more is recorded until an auditor has verified it",
                    head.seq
                )));
            }
        }
        if self.key.is_none() {
            if last.is_some() {
                return Err(no_key(&self.keys_dir));
            }
            // A new log: its key is made with its first entry.
            self.key = Some(AuditKey::create(&self.keys_dir)?);
        }
        if missing {
            tx.execute_batch(SCHEMA)?;
        }
        let key = self.key.as_ref().expect("loaded or created above");
        let (seq, prev_hash) = match last {
            Some((s, h)) => (s as u64 + 1, h),
            None => (1, GENESIS.to_owned()),
        };
        let mut entry = Entry { seq, at: haven_store::timestamp_now(), event, prev_hash, hash: String::new() };
        entry.hash = entry.compute_mac(key);
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
        self.missing = false;
        write_head(&self.head, key, entry.seq, &entry.hash)?;
        Ok(entry)
    }

    fn key(&self) -> Result<&AuditKey, GovernanceError> {
        self.key.as_ref().ok_or_else(|| no_key(&self.keys_dir))
    }

    /// Every entry, in order.
    pub fn entries(&self) -> Result<Vec<Entry>, GovernanceError> {
        self.select("", &[])
    }

    /// The entries matching a `WHERE` clause (empty for all), in order.
    fn select(&self, filter: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<Entry>, GovernanceError> {
        if self.missing {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT seq, at, actor, role, purpose, dsa, action, target, outcome, detail, prev_hash, hash \
             FROM audit {filter} ORDER BY rowid"
        ))?;
        let rows = stmt.query_map(params, |r| {
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

    /// The entries for `action` on `target` with outcome `ok` whose MAC
    /// verifies under the audit key. Data kept beside the log (an
    /// agreement's text and SHA-256, an output's manifest and reviews) can be
    /// rewritten by whoever can write the database; an entry MAC'd at the
    /// time cannot be forged without the key, so callers tie that data to the
    /// keyed chain on every use, not only at `audit verify`.
    pub fn attested(&self, action: &str, target: &str) -> Result<Vec<Entry>, GovernanceError> {
        let key = self.key()?;
        let mut found = self.select("WHERE action = ?1 AND target = ?2 AND outcome = 'ok'", &[&action, &target])?;
        found.retain(|e| e.hash == e.compute_mac(key));
        Ok(found)
    }

    /// Whether an [`attested`](AuditLog::attested) entry for `action` on
    /// `target` names `sha256` in its detail.
    pub fn attests(&self, action: &str, target: &str, sha256: &str) -> Result<bool, GovernanceError> {
        let named = format!("\"sha256\":\"{sha256}\"");
        Ok(self.attested(action, target)?.iter().any(|e| e.event.detail.contains(&named)))
    }

    /// Checks the whole chain; returns the number of entries, or says at
    /// which entry it breaks and how.
    pub fn verify(&self) -> Result<u64, GovernanceError> {
        self.verify_with(None)
    }

    /// [`AuditLog::verify`], and that the log still holds `checkpoint`: at
    /// least its number of entries, the last of them with its MAC.
    pub fn verify_with(&self, checkpoint: Option<&Checkpoint>) -> Result<u64, GovernanceError> {
        let entries = self.entries()?;
        let count = entries.len() as u64;
        if let Some(cp) = checkpoint {
            if !cp.is_made_by(self.key()?) {
                return Err(GovernanceError::Audit("the checkpoint was not made with this log's audit key: it was altered, or is another deployment's".into()));
            }
            if count < cp.entries {
                let how = if self.missing { "the audit table was dropped" } else if count == 0 { "the log was emptied" } else { "entries were removed from the end" };
                return Err(GovernanceError::Audit(format!("the log holds {count} entries but the checkpoint records {}: {how}", cp.entries)));
            }
        }
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
            if e.compute_mac(self.key()?) != e.hash {
                return Err(GovernanceError::Audit(format!("entry {} was edited: its content does not match its MAC", e.seq)));
            }
            prev = e.hash.clone();
        }
        if let Some(cp) = checkpoint {
            let at = if cp.entries == 0 { GENESIS } else { entries[cp.entries as usize - 1].hash.as_str() };
            if at != cp.last {
                return Err(GovernanceError::Audit(format!("entry {} is not the one the checkpoint records: the log was rewritten", cp.entries)));
            }
        }
        self.check_head(&entries)?;
        if count == 0 {
            self.refuse_empty()?;
        }
        Ok(count)
    }

    /// The log's head now, after verifying the chain: for an auditor to keep
    /// outside the data directory and give back to [`AuditLog::verify_with`].
    pub fn checkpoint(&self) -> Result<Checkpoint, GovernanceError> {
        self.verify()?;
        let entries = self.entries()?;
        let last = entries.last().map_or(GENESIS, |e| e.hash.as_str());
        Ok(Checkpoint::new(self.key()?, entries.len() as u64, last))
    }

    fn check_head(&self, entries: &[Entry]) -> Result<(), GovernanceError> {
        let count = entries.len() as u64;
        let Some(head) = read_head(&self.head)? else {
            return if count == 0 {
                Ok(())
            } else {
                Err(GovernanceError::Audit(format!("{} is missing: the head of the chain cannot be checked", self.head.display())))
            };
        };
        if self.key()?.mac(HEAD_LABEL, &[&head.seq.to_string(), &head.hash]) != head.mac {
            return Err(GovernanceError::Audit(format!("{} was altered: its MAC does not match", self.head.display())));
        }
        if head.seq > count {
            let how = if self.missing { "the audit table was dropped" } else if count == 0 { "the log was emptied" } else { "entries were removed from the end" };
            return Err(GovernanceError::Audit(format!("the log ends at entry {count} but its head records entry {}: {how}", head.seq)));
        }
        if head.seq > 0 && entries[head.seq as usize - 1].hash != head.hash {
            return Err(GovernanceError::Audit(format!("entry {} is not the one the head records: the log was rewritten", head.seq)));
        }
        Ok(())
    }

    /// An empty log is only believable on a store that has done nothing:
    /// every load, user and head file comes with entries.
    fn refuse_empty(&self) -> Result<(), GovernanceError> {
        let mut found = Vec::new();
        for (table, what) in [("loads", "loads"), ("users", "users")] {
            let exists: bool = self.conn.query_row("SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)", [table], |r| r.get(0))?;
            if exists && self.conn.query_row(&format!("SELECT EXISTS(SELECT 1 FROM {table})"), [], |r| r.get::<_, bool>(0))? {
                found.push(what);
            }
        }
        if self.head.exists() {
            found.push("an audit head file");
        }
        if found.is_empty() {
            return Ok(());
        }
        let state = if self.missing { "missing (the audit table was dropped)" } else { "empty" };
        Err(GovernanceError::Audit(format!("the log is {state} but the store has {}: its entries were removed", found.join(" and "))))
    }

/// Writes the log as CSV (for an NHS England audit).
    pub fn export_csv(&self, path: &Path) -> Result<u64, GovernanceError> {
        let (out, n) = self.to_csv()?;
        std::fs::write(path, out).map_err(|source| GovernanceError::Io { path: path.display().to_string(), source })?;
        Ok(n)
    }

    /// The whole log as CSV text (the export's content), with its count.
    pub fn to_csv(&self) -> Result<(String, u64), GovernanceError> {
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
        Ok((out, entries.len() as u64))
    }

    /// Writes the log as a JSON array.
    pub fn export_json(&self, path: &Path) -> Result<u64, GovernanceError> {
        let entries = self.entries()?;
        let text = serde_json::to_string_pretty(&entries).map_err(|e| GovernanceError::Audit(e.to_string()))?;
        std::fs::write(path, text).map_err(|source| GovernanceError::Io { path: path.display().to_string(), source })?;
        Ok(entries.len() as u64)
    }
}


fn no_key(keys_dir: &Path) -> GovernanceError {
    GovernanceError::Audit(format!(
        "no audit key {}: the log cannot be checked or extended without the key it was made with",
        keys_dir.join(KEY_FILE).display()
    ))
}

/// Writes the head file (atomically, by rename).
/// The chain's head file in the data directory: its last entry's number
/// and hash under the audit key, rewritten by every append.
pub const HEAD_FILE: &str = "audit.head";

fn write_head(path: &Path, key: &AuditKey, seq: u64, hash: &str) -> Result<(), GovernanceError> {
    let tmp = path.with_extension("head.tmp");
    let io = |source| GovernanceError::Io { path: path.display().to_string(), source };
    let mac = key.mac(HEAD_LABEL, &[&seq.to_string(), hash]);
    std::fs::write(&tmp, format!("{seq} {hash} {mac}\n")).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The head file, if there is one.
fn read_head(path: &Path) -> Result<Option<Head>, GovernanceError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(GovernanceError::Io { path: path.display().to_string(), source }),
    };
    let parts: Vec<&str> = text.split_whitespace().collect();
    match parts.as_slice() {
        [seq, hash, mac] => match seq.parse() {
            Ok(seq) => Ok(Some(Head { seq, hash: (*hash).to_owned(), mac: (*mac).to_owned() })),
            Err(_) => Err(GovernanceError::Audit(format!("{} is not a head this Haven wrote", path.display()))),
        },
        _ => Err(GovernanceError::Audit(format!("{} is not a head this Haven wrote", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

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

    /// A data directory and its keys folder, side by side.
    struct Dirs {
        _tmp: tempfile::TempDir,
        data: PathBuf,
        keys: PathBuf,
    }

    impl Dirs {
        fn new() -> Dirs {
            let tmp = tempfile::tempdir().unwrap();
            let (data, keys) = (tmp.path().join("data"), tmp.path().join("keys"));
            Dirs { _tmp: tmp, data, keys }
        }

        fn open(&self) -> AuditLog {
            AuditLog::open(&self.data, &self.keys).unwrap()
        }

        fn raw(&self) -> rusqlite::Connection {
            rusqlite::Connection::open(self.data.join("catalog.sqlite")).unwrap()
        }
    }

    /// A log with five entries, and a raw connection for tampering.
    fn log() -> (Dirs, AuditLog, rusqlite::Connection) {
        let dirs = Dirs::new();
        let mut log = dirs.open();
        for i in 1..=5 {
            log.append(event("ingest", &format!("dataset{i}"))).unwrap();
        }
        let raw = dirs.raw();
        // A tamperer with the file can drop the guards; the chain still tells.
        raw.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
        (dirs, log, raw)
    }

    /// The chain as Haven computed it before it was keyed: plain SHA-256,
    /// which anyone with the database can recompute.
    fn plain_sha256(e: &Entry) -> String {
        let v = &e.event;
        let mut h = Sha256::new();
        for part in [&e.seq.to_string(), &e.at, &v.actor, &v.role, &v.purpose, &v.dsa, &v.action, &v.target, &v.outcome, &v.detail, &e.prev_hash] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        haven_store::hex(&h.finalize())
    }

    /// A store that has done something: one user.
    fn add_user(dirs: &Dirs) {
        let mut users = crate::users::Users::open(&dirs.data).unwrap();
        users.add("ann", crate::users::UserRole::Admin, None, "a long enough passphrase").unwrap();
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
        let dirs = Dirs::new();
        let mut log = dirs.open();
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

    // Issue 14 item 13: an edit with the chain recomputed as plain SHA-256
    // (all an attacker without the audit key can do) is still found.
    #[test]
    fn issue_14_an_edit_with_a_recomputed_sha256_chain_is_found() {
        let (_d, log, raw) = log();
        let mut entries = log.entries().unwrap();
        entries[2].event.target = "other".into();
        for i in 2..entries.len() {
            entries[i].prev_hash = if i == 0 { GENESIS.into() } else { entries[i - 1].hash.clone() };
            entries[i].hash = plain_sha256(&entries[i]);
            raw.execute(
                "UPDATE audit SET target = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
                params![entries[i].event.target, entries[i].prev_hash, entries[i].hash, entries[i].seq as i64],
            )
            .unwrap();
        }
        let err = log.verify().unwrap_err().to_string();
        assert!(err.contains("entry 3 was edited"), "{err}");
    }

    #[test]
    fn issue_14_the_key_is_private_outside_the_data_directory_and_required() {
        let dirs = Dirs::new();
        let inside = AuditLog::open(&dirs.data, &dirs.data.join("keys")).err().unwrap().to_string();
        assert!(inside.contains("inside the data directory"), "{inside}");
        let mut log = dirs.open();
        log.append(event("ingest", "x")).unwrap();
        let path = dirs.keys.join(KEY_FILE);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let open = AuditLog::open(&dirs.data, &dirs.keys).err().unwrap().to_string();
        assert!(open.contains("group or others"), "{open}");
        // Without its key a log with entries can be neither checked nor extended.
        std::fs::remove_file(&path).unwrap();
        let mut log = dirs.open();
        assert!(log.verify().unwrap_err().to_string().contains("no audit key"));
        assert!(log.append(event("ingest", "y")).unwrap_err().to_string().contains("no audit key"));
        assert!(!path.exists(), "no new key is made for an old log");
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
    fn a_head_file_written_without_the_key_is_found() {
        let (d, log, raw) = log();
        raw.execute("DELETE FROM audit WHERE seq = 5", []).unwrap();
        let e4 = &log.entries().unwrap()[3];
        std::fs::write(d.data.join("audit.head"), format!("4 {} {}\n", e4.hash, "0".repeat(64))).unwrap();
        let err = log.verify().unwrap_err().to_string();
        assert!(err.contains("was altered"), "{err}");
    }

    // Issue 14 item 13: cutting the log back to an older state together
    // with its head file (kept from then) passes every check inside the data
    // directory; the auditor's checkpoint finds it.
    #[test]
    fn issue_14_a_truncation_with_an_old_head_is_found_by_the_checkpoint() {
        let dirs = Dirs::new();
        let mut log = dirs.open();
        for i in 1..=3 {
            log.append(event("ingest", &format!("dataset{i}"))).unwrap();
        }
        let old_head = std::fs::read(dirs.data.join("audit.head")).unwrap();
        log.append(event("read", "pseudonymised.apc_episode")).unwrap();
        log.append(event("read", "pseudonymised.op_attendance")).unwrap();
        let cp = log.checkpoint().unwrap();
        assert_eq!(cp.entries, 5);
        assert_eq!(Checkpoint::parse(&cp.to_string()).unwrap(), cp);
        assert_eq!(log.verify_with(Some(&cp)).unwrap(), 5);

        let raw = dirs.raw();
        raw.execute_batch("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > 3;").unwrap();
        std::fs::write(dirs.data.join("audit.head"), old_head).unwrap();
        assert_eq!(log.verify().unwrap(), 3, "without a checkpoint the cut is invisible");
        let err = log.verify_with(Some(&cp)).unwrap_err().to_string();
        assert!(err.contains("holds 3 entries but the checkpoint records 5"), "{err}");

        // A checkpoint edited to claim fewer entries is not the auditor's.
        let forged = Checkpoint { entries: 3, last: log.entries().unwrap()[2].hash.clone(), mac: cp.mac.clone() };
        let err = log.verify_with(Some(&forged)).unwrap_err().to_string();
        assert!(err.contains("not made with this log's audit key"), "{err}");
    }

    // Issue 14 item 13: recomputing the chain with another key after an
    // edit (the attacker's own) is found, and so is a checkpoint's entry
    // that was replaced.
    #[test]
    fn issue_14_a_rewritten_log_is_found_by_the_checkpoint() {
        let (d, log, raw) = log();
        let cp = log.checkpoint().unwrap();
        // Rewrite entry 5 under another key, with a head to match.
        let other = Dirs::new();
        let mut forged = other.open();
        for i in 1..=5 {
            forged.append(event("ingest", &format!("dataset{i}"))).unwrap();
        }
        raw.execute("DELETE FROM audit", []).unwrap();
        let fake = forged.entries().unwrap();
        for e in &fake {
            let v = &e.event;
            raw.execute(
                "INSERT INTO audit VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![e.seq as i64, e.at, v.actor, v.role, v.purpose, v.dsa, v.action, v.target, v.outcome, v.detail, e.prev_hash, e.hash],
            )
            .unwrap();
        }
        std::fs::copy(other.data.join("audit.head"), d.data.join("audit.head")).unwrap();
        assert!(log.verify().unwrap_err().to_string().contains("entry 1 was edited"));
        assert!(log.verify_with(Some(&cp)).is_err());
    }

    // Issue 14 item 13: DELETE of every entry and DROP TABLE no longer read
    // as "0 entries, intact".
    #[test]
    fn issue_14_an_emptied_or_dropped_log_is_refused() {
        for attack in ["DELETE FROM audit", "DROP TABLE audit"] {
            let (d, log, raw) = log();
            add_user(&d);
            let cp = log.checkpoint().unwrap();
            drop(log);
            raw.execute_batch(attack).unwrap();
            let dropped = attack.starts_with("DROP");
            let how = if dropped { "the audit table was dropped" } else { "the log was emptied" };

            let log = d.open();
            let err = log.verify().unwrap_err().to_string();
            assert!(err.contains("head records entry 5") && err.contains(how), "{attack}: {err}");
            let err = log.verify_with(Some(&cp)).unwrap_err().to_string();
            assert!(err.contains("checkpoint records 5") && err.contains(how), "{attack}: {err}");
            // Nothing new starts a fresh chain over the removed one.
            let mut log = d.open();
            let err = log.append(event("ingest", "after")).unwrap_err().to_string();
            assert!(err.contains("emptied or dropped"), "{attack}: {err}");

            // With the head file gone too, the store's users still tell.
            std::fs::remove_file(d.data.join("audit.head")).unwrap();
            let log = d.open();
            let err = log.verify().unwrap_err().to_string();
            assert!(err.contains("the store has users"), "{attack}: {err}");
            assert!(err.contains(if dropped { "missing" } else { "empty" }), "{attack}: {err}");
        }
        // A store that has done nothing has an empty log, and that is fine.
        assert_eq!(Dirs::new().open().verify().unwrap(), 0);
    }

    #[test]
    fn an_insertion_with_a_recomputed_hash_is_found_by_its_link() {
        let (d, log, raw) = log();
        // Renumber entries 4 and 5 up by one and insert a forged entry 4
        // whose own MAC is consistent (made with the real key, which the
        // attacker lacks — the strongest case): its link to entry 3 fails.
        raw.execute("UPDATE audit SET seq = seq + 10 WHERE seq >= 4", []).unwrap();
        let key = AuditKey::load(&d.keys).unwrap().unwrap();
        let mut forged = Entry { seq: 4, at: "2026-01-01T00:00:00Z".into(), event: event("read", "forged"), prev_hash: "f".repeat(64), hash: String::new() };
        forged.hash = forged.compute_mac(&key);
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
        let csv = d.data.join("audit.csv");
        assert_eq!(log.export_csv(&csv).unwrap(), 5);
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(text.lines().count(), 6);
        assert!(text.lines().nth(3).unwrap().starts_with("3,"));
        let json = d.data.join("audit.json");
        log.export_json(&json).unwrap();
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 5);
        assert_eq!(v[4]["target"], "dataset5");
    }
}
