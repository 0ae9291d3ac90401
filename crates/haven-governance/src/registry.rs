//! The DSA registry: Data Sharing Agreements as versioned, hashed data in the
//! catalog database, so every check reads what an administrator imported and
//! the audit chain recorded — never a file the caller points at.
//!
//! Why: when agreements were read from a folder named on the command line,
//! a copied file with a later end date revived an expired agreement and
//! `optout_applies = false` switched opt-outs off. Now `haven dsa import`
//! (administrators only) is the one way an agreement's text reaches Haven:
//! [`Registry::import`] validates it with [`Dsa::from_toml`] and appends a
//! new version (id, version number, the TOML text, its SHA-256, who, when).
//! Importing the same text again changes nothing. Versions are append-only
//! (SQLite triggers refuse UPDATE and DELETE), and every read recomputes the
//! text's SHA-256 and refuses a version whose text no longer matches the hash
//! recorded at import (and in the audit chain), so an agreement edited in the
//! database outside Haven is refused rather than obeyed.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::dsa::Dsa;
use crate::error::GovernanceError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dsa_versions (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    toml TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TRIGGER IF NOT EXISTS dsa_versions_no_update BEFORE UPDATE ON dsa_versions
BEGIN SELECT RAISE(ABORT, 'agreement versions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS dsa_versions_no_delete BEFORE DELETE ON dsa_versions
BEGIN SELECT RAISE(ABORT, 'agreement versions are append-only'); END;
";

/// One stored version of an agreement, as imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Version {
    /// The agreement's id.
    pub id: String,
    /// 1 for the first import, then one more per changed import.
    pub version: u32,
    /// SHA-256 of `toml`, hex, recorded at import.
    pub sha256: String,
    /// Who imported it.
    pub imported_by: String,
    /// When (UTC timestamp).
    pub imported_at: String,
    /// The agreement's text as imported.
    #[serde(skip)]
    pub toml: String,
}

/// A verified agreement: its terms and the version they come from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Agreement {
    /// The validated terms.
    pub dsa: Dsa,
    /// The stored version they were read from.
    pub version: Version,
}

/// What an import did.
#[derive(Clone, Debug)]
pub enum Import {
    /// A new version was stored.
    New(Agreement),
    /// The latest version already has this text: nothing changed.
    Unchanged(Agreement),
}

impl Import {
    /// The agreement now in force in the registry.
    pub fn agreement(&self) -> &Agreement {
        match self {
            Import::New(a) | Import::Unchanged(a) => a,
        }
    }
}

/// SHA-256 of an agreement's text, hex.
pub fn sha256_hex(text: &str) -> String {
    haven_store::hex(&Sha256::digest(text.as_bytes()))
}

/// The registry in `<data-dir>/catalog.sqlite`.
pub struct Registry {
    conn: crate::pool::CatalogConn,
}

impl Registry {
    /// Opens (creating its table if needed) the registry of a data directory.
    pub fn open(data_dir: &Path) -> Result<Registry, GovernanceError> {
        haven_store::private_data_dir(data_dir)?;
        let conn = crate::open_catalog(data_dir, SCHEMA)?;
        Ok(Registry { conn })
    }

    /// Validates `text` (named `file_name` in errors) and stores it as the
    /// agreement's next version, unless the latest intact version already
    /// has exactly this text.
    pub fn import(&mut self, file_name: &str, text: &str, by: &str) -> Result<Import, GovernanceError> {
        let dsa = Dsa::from_toml(file_name, text)?;
        let sha256 = sha256_hex(text);
        let tx = self.conn.transaction()?;
        let latest = latest_row(&tx, &dsa.id)?;
        if let Some(v) = &latest {
            // A tampered latest version never makes a re-import a no-op.
            if v.sha256 == sha256 && sha256_hex(&v.toml) == sha256 {
                return Ok(Import::Unchanged(Agreement { dsa, version: v.clone() }));
            }
        }
        let version = Version {
            id: dsa.id.clone(),
            version: latest.map_or(1, |v| v.version + 1),
            sha256,
            imported_by: by.to_owned(),
            imported_at: haven_store::timestamp_now(),
            toml: text.to_owned(),
        };
        tx.execute(
            "INSERT INTO dsa_versions (id, version, toml, sha256, imported_by, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![version.id, version.version, version.toml, version.sha256, version.imported_by, version.imported_at],
        )?;
        tx.commit()?;
        Ok(Import::New(Agreement { dsa, version }))
    }

    /// The latest version of agreement `id`, verified; `None` if it was
    /// never imported.
    pub fn latest(&self, id: &str) -> Result<Option<Agreement>, GovernanceError> {
        latest_row(&self.conn, id)?.map(verified).transpose()
    }

    /// The latest version of agreement `id`, verified; refused if it was
    /// never imported.
    pub fn get(&self, id: &str) -> Result<Agreement, GovernanceError> {
        self.latest(id)?.ok_or_else(|| {
            GovernanceError::Refused(format!(
                "no Data Sharing Agreement {id} has been imported (an administrator runs `haven dsa import FILE`)"
            ))
        })
    }

    /// The latest version of every agreement, by id. Any version that fails
    /// verification refuses the whole list.
    pub fn list(&self) -> Result<Vec<Agreement>, GovernanceError> {
        let mut stmt = self.conn.prepare("SELECT DISTINCT id FROM dsa_versions ORDER BY id")?;
        let ids: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        ids.iter().map(|id| self.get(id)).collect()
    }

    /// Every version of agreement `id`, oldest first, each verified.
    pub fn history(&self, id: &str) -> Result<Vec<Agreement>, GovernanceError> {
        let mut stmt = self.conn.prepare(&format!("SELECT {COLUMNS} FROM dsa_versions WHERE id = ?1 ORDER BY version"))?;
        let rows: Vec<Version> = stmt.query_map([id], row)?.collect::<Result<_, _>>()?;
        rows.into_iter().map(verified).collect()
    }
}

const COLUMNS: &str = "id, version, toml, sha256, imported_by, imported_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Version> {
    Ok(Version {
        id: r.get(0)?,
        version: r.get(1)?,
        toml: r.get(2)?,
        sha256: r.get(3)?,
        imported_by: r.get(4)?,
        imported_at: r.get(5)?,
    })
}

fn latest_row(conn: &Connection, id: &str) -> Result<Option<Version>, GovernanceError> {
    let sql = format!("SELECT {COLUMNS} FROM dsa_versions WHERE id = ?1 ORDER BY version DESC LIMIT 1");
    Ok(conn.query_row(&sql, [id], row).optional()?)
}

/// Refuses a version whose text no longer hashes to what was recorded at
/// import, then parses it.
fn verified(v: Version) -> Result<Agreement, GovernanceError> {
    if sha256_hex(&v.toml) != v.sha256 {
        return Err(GovernanceError::Refused(format!(
            "DSA {} version {} was changed outside Haven: its text no longer matches the SHA-256 recorded when it \
             was imported; an administrator must import the agreement again",
            v.id, v.version
        )));
    }
    let dsa = Dsa::from_toml(&format!("{} version {}", v.id, v.version), &v.toml)?;
    if dsa.id != v.id {
        return Err(GovernanceError::Refused(format!("DSA {} version {} holds agreement {}", v.id, v.version, dsa.id)));
    }
    Ok(Agreement { dsa, version: v })
}

/// What changed from `old` to `new` in the terms that decide processing:
/// dates, datasets, purposes (added, removed, roles) and opt-out flags.
pub fn changes(old: &Dsa, new: &Dsa) -> Vec<String> {
    let mut out = Vec::new();
    if old.start != new.start {
        out.push(format!("start {} -> {}", old.start, new.start));
    }
    if old.end != new.end {
        out.push(format!("end {} -> {}", old.end, new.end));
    }
    for d in new.datasets.iter().filter(|d| !old.datasets.contains(d)) {
        out.push(format!("dataset {d} added"));
    }
    for d in old.datasets.iter().filter(|d| !new.datasets.contains(d)) {
        out.push(format!("dataset {d} removed"));
    }
    for t in &new.purposes {
        match old.terms(t.purpose) {
            None => out.push(format!("purpose {} added", t.purpose)),
            Some(o) => {
                if o.optout_applies != t.optout_applies {
                    out.push(format!("opt-out for {} {} -> {}", t.purpose, o.optout_applies, t.optout_applies));
                }
                if o.roles != t.roles {
                    let names = |r: &[crate::dsa::Role]| r.iter().map(|r| r.name()).collect::<Vec<_>>().join(",");
                    out.push(format!("roles for {} {} -> {}", t.purpose, names(&o.roles[..]), names(&t.roles[..])));
                }
            }
        }
    }
    for t in old.purposes.iter().filter(|t| new.terms(t.purpose).is_none()) {
        out.push(format!("purpose {} removed", t.purpose));
    }
    if old.linkages != new.linkages {
        out.push("linkages changed".to_owned());
    }
    if old.minimisation != new.minimisation {
        out.push(format!("minimisation {} -> {}", old.minimisation.join(","), new.minimisation.join(",")));
    }
    if old.retention_years != new.retention_years {
        out.push(format!("retention {} -> {} years", old.retention_years, new.retention_years));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_text() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DSA-HAVEN-DEMO.toml")).unwrap()
    }

    #[test]
    fn an_import_is_versioned_and_the_same_text_again_is_a_no_op() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Registry::open(dir.path()).unwrap();
        assert!(reg.latest("DSA-HAVEN-DEMO").unwrap().is_none());
        let text = demo_text();
        let first = reg.import("demo.toml", &text, "admin").unwrap();
        assert!(matches!(first, Import::New(_)));
        assert_eq!(first.agreement().version.version, 1);
        assert_eq!(first.agreement().version.sha256, sha256_hex(&text));
        assert!(matches!(reg.import("again.toml", &text, "admin").unwrap(), Import::Unchanged(_)));
        let later = text.replace("end = \"2031-03-31\"", "end = \"2032-03-31\"").replace(
            "purpose = \"commissioning\"\nlegal_basis = \"Health and Social Care Act 2012 s261(2)(b)(ii)\"\noptout_applies = true",
            "purpose = \"commissioning\"\nlegal_basis = \"Health and Social Care Act 2012 s261(2)(b)(ii)\"\noptout_applies = false",
        );
        assert_ne!(later, text);
        let second = reg.import("later.toml", &later, "admin2").unwrap();
        assert_eq!(second.agreement().version.version, 2);
        let history = reg.history("DSA-HAVEN-DEMO").unwrap();
        assert_eq!(history.iter().map(|a| a.version.imported_by.as_str()).collect::<Vec<_>>(), ["admin", "admin2"]);
        assert_eq!(
            changes(&history[0].dsa, &history[1].dsa),
            ["end 2031-03-31 -> 2032-03-31", "opt-out for commissioning true -> false"]
        );
        assert_eq!(reg.get("DSA-HAVEN-DEMO").unwrap().dsa.end.to_string(), "2032-03-31");
        assert_eq!(reg.list().unwrap().len(), 1);
        let e = reg.get("DSA-NONE").unwrap_err().to_string();
        assert!(e.contains("no Data Sharing Agreement DSA-NONE has been imported"), "{e}");
        // An invalid file is refused by the same validation as before, and stores nothing.
        let bad = text.replace("retention_years = 10", "retention_years = 0");
        assert!(matches!(reg.import("bad.toml", &bad, "admin"), Err(GovernanceError::Dsa { .. })));
        assert_eq!(reg.history("DSA-HAVEN-DEMO").unwrap().len(), 2);
    }

    #[test]
    fn issue_14_an_agreement_edited_in_the_database_is_refused_by_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = Registry::open(dir.path()).unwrap();
        let text = demo_text();
        reg.import("demo.toml", &text, "admin").unwrap();
        let raw = Connection::open(dir.path().join("catalog.sqlite")).unwrap();
        // The table is append-only while its guards stand.
        let e = raw.execute("UPDATE dsa_versions SET toml = 'x'", []).unwrap_err().to_string();
        assert!(e.contains("append-only"), "{e}");
        assert!(raw.execute("DELETE FROM dsa_versions", []).is_err());
        // Someone with the file drops the guards and extends the agreement.
        raw.execute_batch("DROP TRIGGER dsa_versions_no_update;").unwrap();
        let revived = text.replace("end = \"2031-03-31\"", "end = \"2099-03-31\"");
        raw.execute("UPDATE dsa_versions SET toml = ?1", [&revived]).unwrap();
        let e = reg.get("DSA-HAVEN-DEMO").unwrap_err().to_string();
        assert!(e.contains("changed outside Haven"), "{e}");
        assert!(reg.list().is_err());
        assert!(reg.history("DSA-HAVEN-DEMO").is_err());
        // Re-importing the reviewed text is not a no-op: it stores a new, intact version.
        let again = reg.import("demo.toml", &text, "admin").unwrap();
        assert!(matches!(again, Import::New(_)));
        assert_eq!(reg.get("DSA-HAVEN-DEMO").unwrap().version.version, 2);
    }
}
