//! The metadata store: which loads are committed, which files they own, their
//! lineage counts, data-quality rows and the ids (never the values) of the
//! keys they used.
//!
//! [`Catalog`] is the seam for a PostgreSQL backend; [`SqliteCatalog`] is the
//! embedded default. [`Catalog::commit_load`] is the single transaction that
//! makes a load visible.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::error::StoreError;
use crate::zone::Zone;

/// Whether a load's files are the current ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadStatus {
    /// Visible to readers.
    Committed,
    /// Replaced by a later load of the same source (`--replace`); its files
    /// are deleted.
    Superseded,
}

impl LoadStatus {
    fn as_str(self) -> &'static str {
        match self {
            LoadStatus::Committed => "committed",
            LoadStatus::Superseded => "superseded",
        }
    }
    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "committed" => Ok(LoadStatus::Committed),
            "superseded" => Ok(LoadStatus::Superseded),
            other => Err(StoreError::Inconsistent(format!("load status {other:?}"))),
        }
    }
}

/// One load of one source file: the lineage record of issue 3 §2.7.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadRecord {
    pub id: String,
    /// Feed name, e.g. `apc_episode` or `national.apc_episode`.
    pub dataset: String,
    pub source_path: String,
    pub source_sha256: String,
    pub source_bytes: u64,
    pub dsa: Option<String>,
    /// The version of `dsa` (in the agreement registry) the load ran under.
    pub dsa_version: Option<u32>,
    pub operator: String,
    pub started_at: String,
    pub finished_at: String,
    pub status: LoadStatus,
    /// Key fingerprints used, as JSON `{"zone": "key id"}`.
    pub key_ids: String,
    /// Free-form JSON summary (warnings, unused columns, timings).
    pub summary: String,
}

/// A Parquet file owned by a load.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileRecord {
    pub load_id: String,
    pub zone: Zone,
    pub dataset: String,
    /// Relative to the data directory.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Row reconciliation for one zone of one load:
/// `read = rejected + opted_out + out_of_area + written`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ZoneCounts {
    pub zone: Option<Zone>,
    pub read: u64,
    pub rejected: u64,
    pub opted_out: u64,
    pub out_of_area: u64,
    pub written: u64,
}

impl ZoneCounts {
    /// Adds another tally of the same zone.
    pub fn add(&mut self, other: &ZoneCounts) {
        self.read += other.read;
        self.rejected += other.rejected;
        self.opted_out += other.opted_out;
        self.out_of_area += other.out_of_area;
        self.written += other.written;
    }

    /// Whether the counts reconcile.
    pub fn reconciles(&self) -> bool {
        self.read == self.rejected + self.opted_out + self.out_of_area + self.written
    }
}

/// Completeness and validity of one field from one provider in one load.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DqRow {
    pub provider: String,
    pub field: String,
    /// Rows seen from this provider.
    pub rows: u64,
    /// Rows where the field was not blank.
    pub filled: u64,
    /// Filled rows whose value passed validation.
    pub valid: u64,
}

/// The metadata store.
pub trait Catalog: Send {
    /// The committed load of `dataset` from a source with this hash, if any.
    fn committed_load(&self, dataset: &str, sha256: &str) -> Result<Option<LoadRecord>, StoreError>;
    /// Committed loads of `dataset` whose source had this file name.
    fn committed_loads_named(&self, dataset: &str, file_name: &str) -> Result<Vec<LoadRecord>, StoreError>;
    /// Makes a load visible and supersedes `replaces`, in one transaction.
    fn commit_load(
        &mut self,
        load: &LoadRecord,
        files: &[FileRecord],
        counts: &[ZoneCounts],
        dq: &[DqRow],
        replaces: &[String],
    ) -> Result<(), StoreError>;
    /// Every load, oldest first.
    fn loads(&self) -> Result<Vec<LoadRecord>, StoreError>;
    /// One load.
    fn load(&self, id: &str) -> Result<Option<LoadRecord>, StoreError>;
    /// Files of committed loads in a zone's dataset, in load then path order.
    fn files(&self, zone: Zone, dataset: &str) -> Result<Vec<FileRecord>, StoreError>;
    /// Files of one load, whatever its status.
    fn load_files(&self, load_id: &str) -> Result<Vec<FileRecord>, StoreError>;
    /// Datasets with committed files in a zone.
    fn datasets(&self, zone: Zone) -> Result<Vec<String>, StoreError>;
    /// Lineage counts of one load.
    fn counts(&self, load_id: &str) -> Result<Vec<ZoneCounts>, StoreError>;
    /// Data-quality rows of one load.
    fn dq(&self, load_id: &str) -> Result<Vec<DqRow>, StoreError>;
    /// Ids of committed loads (anything else on disk is debris).
    fn committed_ids(&self) -> Result<HashSet<String>, StoreError>;
    /// A setting, e.g. the controller ICB.
    fn setting(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Stores a setting.
    fn set_setting(&mut self, name: &str, value: &str) -> Result<(), StoreError>;
}

/// The embedded SQLite catalog.
pub struct SqliteCatalog {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS loads (
    id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    source_path TEXT NOT NULL,
    source_name TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    source_bytes INTEGER NOT NULL,
    dsa TEXT,
    operator TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    status TEXT NOT NULL,
    key_ids TEXT NOT NULL,
    summary TEXT NOT NULL,
    seq INTEGER NOT NULL,
    dsa_version INTEGER
);
CREATE INDEX IF NOT EXISTS loads_by_source ON loads(dataset, source_sha256);
CREATE TABLE IF NOT EXISTS files (
    load_id TEXT NOT NULL REFERENCES loads(id),
    zone TEXT NOT NULL,
    dataset TEXT NOT NULL,
    path TEXT NOT NULL PRIMARY KEY,
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_dataset ON files(zone, dataset);
CREATE TABLE IF NOT EXISTS counts (
    load_id TEXT NOT NULL REFERENCES loads(id),
    zone TEXT,
    read INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    opted_out INTEGER NOT NULL,
    out_of_area INTEGER NOT NULL,
    written INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dq (
    load_id TEXT NOT NULL REFERENCES loads(id),
    provider TEXT NOT NULL,
    field TEXT NOT NULL,
    rows INTEGER NOT NULL,
    filled INTEGER NOT NULL,
    valid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dq_by_load ON dq(load_id);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
";

impl SqliteCatalog {
    /// Opens (creating if needed) the catalog at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        // WAL keeps readers working while a load commits; FULL sync makes a
        // committed load survive power loss, not only a killed process.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        Ok(SqliteCatalog { conn })
    }

    fn query_loads(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<LoadRecord>, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                LoadRecord {
                    id: r.get(0)?,
                    dataset: r.get(1)?,
                    source_path: r.get(2)?,
                    source_sha256: r.get(3)?,
                    source_bytes: r.get::<_, i64>(4)? as u64,
                    dsa: r.get(5)?,
                    dsa_version: r.get(12)?,
                    operator: r.get(6)?,
                    started_at: r.get(7)?,
                    finished_at: r.get(8)?,
                    status: LoadStatus::Committed,
                    key_ids: r.get(10)?,
                    summary: r.get(11)?,
                },
                r.get::<_, String>(9)?,
            ))
        })?;
        rows.map(|row| {
            let (mut load, status) = row?;
            load.status = LoadStatus::parse(&status)?;
            Ok(load)
        })
        .collect()
    }

    fn query_files(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<FileRecord>, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, String>(1)?,
                FileRecord {
                    load_id: r.get(0)?,
                    zone: Zone::Staging,
                    dataset: r.get(2)?,
                    path: r.get(3)?,
                    rows: r.get::<_, i64>(4)? as u64,
                    bytes: r.get::<_, i64>(5)? as u64,
                    sha256: r.get(6)?,
                },
            ))
        })?;
        rows.map(|row| {
            let (zone, mut file) = row?;
            file.zone = Zone::from_name(&zone)
                .ok_or_else(|| StoreError::Inconsistent(format!("zone {zone:?}")))?;
            Ok(file)
        })
        .collect()
    }
}

const LOAD_COLUMNS: &str = "id, dataset, source_path, source_sha256, source_bytes, dsa, operator, \
                            started_at, finished_at, status, key_ids, summary, dsa_version";

/// Brings a catalog made by an older Haven up to this schema: loads gained
/// `dsa_version` (the agreement version a load ran under; unknown, so NULL,
/// for older loads).
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('loads')")?;
    let columns: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    if !columns.iter().any(|c| c == "dsa_version") {
        conn.execute_batch("ALTER TABLE loads ADD COLUMN dsa_version INTEGER")?;
    }
    Ok(())
}
const FILE_COLUMNS: &str = "f.load_id, f.zone, f.dataset, f.path, f.rows, f.bytes, f.sha256";

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl Catalog for SqliteCatalog {
    fn committed_load(&self, dataset: &str, sha256: &str) -> Result<Option<LoadRecord>, StoreError> {
        let sql = format!(
            "SELECT {LOAD_COLUMNS} FROM loads WHERE dataset = ?1 AND source_sha256 = ?2 \
             AND status = 'committed' ORDER BY seq LIMIT 1"
        );
        Ok(self.query_loads(&sql, params![dataset, sha256])?.pop())
    }

    fn committed_loads_named(&self, dataset: &str, name: &str) -> Result<Vec<LoadRecord>, StoreError> {
        let sql = format!(
            "SELECT {LOAD_COLUMNS} FROM loads WHERE dataset = ?1 AND source_name = ?2 \
             AND status = 'committed' ORDER BY seq"
        );
        self.query_loads(&sql, params![dataset, file_name(name)])
    }

    fn commit_load(
        &mut self,
        load: &LoadRecord,
        files: &[FileRecord],
        counts: &[ZoneCounts],
        dq: &[DqRow],
        replaces: &[String],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for old in replaces {
            tx.execute("UPDATE loads SET status = 'superseded' WHERE id = ?1", [old])?;
        }
        let seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM loads", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO loads (id, dataset, source_path, source_name, source_sha256, source_bytes, dsa, \
             operator, started_at, finished_at, status, key_ids, summary, seq, dsa_version) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                load.id,
                load.dataset,
                load.source_path,
                file_name(&load.source_path),
                load.source_sha256,
                load.source_bytes as i64,
                load.dsa,
                load.operator,
                load.started_at,
                load.finished_at,
                load.status.as_str(),
                load.key_ids,
                load.summary,
                seq,
                load.dsa_version,
            ],
        )?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO files (load_id, zone, dataset, path, rows, bytes, sha256) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for f in files {
                stmt.execute(params![
                    f.load_id,
                    f.zone.name(),
                    f.dataset,
                    f.path,
                    f.rows as i64,
                    f.bytes as i64,
                    f.sha256
                ])?;
            }
            let mut stmt = tx.prepare(
                "INSERT INTO counts (load_id, zone, read, rejected, opted_out, out_of_area, written) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for c in counts {
                stmt.execute(params![
                    load.id,
                    c.zone.map(Zone::name),
                    c.read as i64,
                    c.rejected as i64,
                    c.opted_out as i64,
                    c.out_of_area as i64,
                    c.written as i64
                ])?;
            }
            let mut stmt = tx.prepare(
                "INSERT INTO dq (load_id, provider, field, rows, filled, valid) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for d in dq {
                stmt.execute(params![
                    load.id,
                    d.provider,
                    d.field,
                    d.rows as i64,
                    d.filled as i64,
                    d.valid as i64
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn loads(&self) -> Result<Vec<LoadRecord>, StoreError> {
        self.query_loads(&format!("SELECT {LOAD_COLUMNS} FROM loads ORDER BY seq"), [])
    }

    fn load(&self, id: &str) -> Result<Option<LoadRecord>, StoreError> {
        let sql = format!("SELECT {LOAD_COLUMNS} FROM loads WHERE id = ?1");
        Ok(self.query_loads(&sql, [id])?.pop())
    }

    fn files(&self, zone: Zone, dataset: &str) -> Result<Vec<FileRecord>, StoreError> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files f JOIN loads l ON l.id = f.load_id \
             WHERE f.zone = ?1 AND f.dataset = ?2 AND l.status = 'committed' ORDER BY l.seq, f.path"
        );
        self.query_files(&sql, params![zone.name(), dataset])
    }

    fn load_files(&self, load_id: &str) -> Result<Vec<FileRecord>, StoreError> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files f WHERE f.load_id = ?1 ORDER BY f.path");
        self.query_files(&sql, [load_id])
    }

    fn datasets(&self, zone: Zone) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT f.dataset FROM files f JOIN loads l ON l.id = f.load_id \
             WHERE f.zone = ?1 AND l.status = 'committed' ORDER BY f.dataset",
        )?;
        let names = stmt.query_map([zone.name()], |r| r.get(0))?;
        Ok(names.collect::<Result<_, _>>()?)
    }

    fn counts(&self, load_id: &str) -> Result<Vec<ZoneCounts>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT zone, read, rejected, opted_out, out_of_area, written FROM counts WHERE load_id = ?1 \
             ORDER BY rowid",
        )?;
        let rows = stmt.query_map([load_id], |r| {
            let zone: Option<String> = r.get(0)?;
            Ok(ZoneCounts {
                zone: zone.as_deref().and_then(Zone::from_name),
                read: r.get::<_, i64>(1)? as u64,
                rejected: r.get::<_, i64>(2)? as u64,
                opted_out: r.get::<_, i64>(3)? as u64,
                out_of_area: r.get::<_, i64>(4)? as u64,
                written: r.get::<_, i64>(5)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn dq(&self, load_id: &str) -> Result<Vec<DqRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT provider, field, rows, filled, valid FROM dq WHERE load_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([load_id], |r| {
            Ok(DqRow {
                provider: r.get(0)?,
                field: r.get(1)?,
                rows: r.get::<_, i64>(2)? as u64,
                filled: r.get::<_, i64>(3)? as u64,
                valid: r.get::<_, i64>(4)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn committed_ids(&self) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id FROM loads WHERE status = 'committed'")?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| r.get(0))
            .optional()?)
    }

    fn set_setting(&mut self, name: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO settings (name, value) VALUES (?1, ?2) \
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }
}
