//! Output release, in the spirit of OpenSAFELY's Airlock: an aggregate
//! output is held as pending until two reviewers who are not its author
//! approve it; only a released output can be exported. Every step is
//! appended to the audit chain by the caller.
//!
//! An output's content can only be built from a [`disclosure::Protected`]
//! table, so nothing that has not passed disclosure control can be stored,
//! reviewed or exported through this path.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::disclosure::Protected;
use crate::dsa::Role;
use crate::csv_field;
use crate::error::GovernanceError;
use crate::users::Users;

/// Approvals needed before release.
pub const APPROVALS_NEEDED: usize = 2;

/// Disclosure-controlled content: a labelled table rendered as CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct Content {
    csv: String,
}

impl Content {
    /// Renders a protected table with its row and column labels; totals are
    /// included as the last row and column.
    pub fn from_protected(corner: &str, rows: &[String], cols: &[String], table: &Protected) -> Content {
        let mut csv = String::new();
        let mut header = vec![csv_field(corner)];
        header.extend(cols.iter().map(|c| csv_field(c)));
        header.push("Total".into());
        csv.push_str(&header.join(","));
        csv.push('\n');
        for (i, label) in rows.iter().enumerate() {
            let mut line = vec![csv_field(label)];
            line.extend(table.cells.get(i).into_iter().flatten().map(|c| c.to_string()));
            line.push(table.row_totals.get(i).map(|c| c.to_string()).unwrap_or_default());
            csv.push_str(&line.join(","));
            csv.push('\n');
        }
        let mut totals = vec!["Total".to_owned()];
        totals.extend(table.col_totals.iter().map(|c| c.to_string()));
        totals.push(table.total.to_string());
        csv.push_str(&totals.join(","));
        csv.push('\n');
        Content { csv }
    }

    /// The CSV text.
    pub fn csv(&self) -> &str {
        &self.csv
    }
}

/// Where an output is in its review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Released,
    Rejected,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Released => "released",
            Status::Rejected => "rejected",
        }
    }
    fn parse(s: &str) -> Status {
        match s {
            "released" => Status::Released,
            "rejected" => Status::Rejected,
            _ => Status::Pending,
        }
    }
}

/// An output and its reviews.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Output {
    pub id: String,
    pub title: String,
    pub author: String,
    pub dsa: String,
    pub purpose: String,
    pub created_at: String,
    pub status: Status,
    pub sha256: String,
    /// (reviewer, decision, reason, at)
    pub reviews: Vec<(String, String, String, String)>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outputs (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, author TEXT NOT NULL, dsa TEXT NOT NULL, purpose TEXT NOT NULL,
    created_at TEXT NOT NULL, status TEXT NOT NULL, sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS output_reviews (
    output_id TEXT NOT NULL REFERENCES outputs(id), reviewer TEXT NOT NULL, decision TEXT NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL, UNIQUE (output_id, reviewer)
);
";

/// The output store of one data directory.
pub struct Outputs {
    conn: Connection,
    dir: PathBuf,
}

impl Outputs {
    /// Opens the outputs held in `<data-dir>/outputs` and the catalog.
    pub fn open(data_dir: &Path) -> Result<Outputs, GovernanceError> {
        let dir = data_dir.join("outputs");
        std::fs::create_dir_all(&dir).map_err(|source| GovernanceError::Io { path: dir.display().to_string(), source })?;
        let conn = Connection::open(data_dir.join("catalog.sqlite"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Outputs { conn, dir })
    }

    /// Holds a new output as pending and returns its id.
    pub fn submit(&mut self, author: &str, title: &str, dsa: &str, purpose: &str, content: &Content) -> Result<Output, GovernanceError> {
        use sha2::{Digest, Sha256};
        let n: i64 = self.conn.query_row("SELECT COUNT(*) FROM outputs", [], |r| r.get(0))?;
        let id = format!("OUT-{:05}", n + 1);
        let path = self.dir.join(format!("{id}.csv"));
        std::fs::write(&path, content.csv()).map_err(|source| GovernanceError::Io { path: path.display().to_string(), source })?;
        let sha = haven_store::hex(&Sha256::digest(content.csv().as_bytes()));
        self.conn.execute(
            "INSERT INTO outputs (id, title, author, dsa, purpose, created_at, status, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
            params![id, title, author, dsa, purpose, haven_store::timestamp_now(), sha],
        )?;
        self.get(&id)?.ok_or_else(|| GovernanceError::Refused(format!("output {id} vanished")))
    }

    /// Holds a folder of disclosure-controlled files (the tables and charts
    /// `haven indicators run` and `haven benchmark` write; only the
    /// analytics engine's publish step produces them) as one pending output.
    /// The files are copied in, and the output's hash is that of a manifest
    /// listing every file's SHA-256, so any later change is detected.
    pub fn submit_folder(&mut self, author: &str, title: &str, dsa: &str, purpose: &str, src: &Path) -> Result<Output, GovernanceError> {
        use sha2::{Digest, Sha256};
        let n: i64 = self.conn.query_row("SELECT COUNT(*) FROM outputs", [], |r| r.get(0))?;
        let id = format!("OUT-{:05}", n + 1);
        let held = self.dir.join(&id);
        copy_tree(src, &held)?;
        let sha = haven_store::hex(&Sha256::digest(manifest(&held)?.as_bytes()));
        self.conn.execute(
            "INSERT INTO outputs (id, title, author, dsa, purpose, created_at, status, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
            params![id, title, author, dsa, purpose, haven_store::timestamp_now(), sha],
        )?;
        self.get(&id)?.ok_or_else(|| GovernanceError::Refused(format!("output {id} vanished")))
    }

    /// One output.
    pub fn get(&self, id: &str) -> Result<Option<Output>, GovernanceError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, title, author, dsa, purpose, created_at, status, sha256 FROM outputs WHERE id = ?1",
                [id],
                |r| {
                    Ok(Output {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        author: r.get(2)?,
                        dsa: r.get(3)?,
                        purpose: r.get(4)?,
                        created_at: r.get(5)?,
                        status: Status::parse(&r.get::<_, String>(6)?),
                        sha256: r.get(7)?,
                        reviews: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut out) = row else { return Ok(None) };
        let mut stmt = self
            .conn
            .prepare("SELECT reviewer, decision, reason, at FROM output_reviews WHERE output_id = ?1 ORDER BY rowid")?;
        out.reviews = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        Ok(Some(out))
    }

    /// Every output, oldest first.
    pub fn list(&self) -> Result<Vec<Output>, GovernanceError> {
        let mut stmt = self.conn.prepare("SELECT id FROM outputs ORDER BY id")?;
        let ids: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        ids.iter().filter_map(|id| self.get(id).transpose()).collect()
    }

    /// Records a reviewer's decision; the second approval releases it.
    pub fn review(&mut self, users: &Users, id: &str, reviewer: &str, approve: bool, reason: &str) -> Result<Output, GovernanceError> {
        let out = self.get(id)?.ok_or_else(|| GovernanceError::Refused(format!("no output {id}")))?;
        if out.status != Status::Pending {
            return Err(GovernanceError::Refused(format!("output {id} is already {}", out.status.as_str())));
        }
        if reviewer == out.author {
            return Err(GovernanceError::Refused(format!("{reviewer} wrote output {id} and cannot review it")));
        }
        let user = users.get(reviewer)?.filter(|u| !u.disabled).ok_or_else(|| {
            GovernanceError::Refused(format!("{reviewer} is not an enabled user"))
        })?;
        if !matches!(user.role, Role::Analyst | Role::Auditor) {
            return Err(GovernanceError::Refused(format!("a {} user cannot review outputs (analysts and auditors can)", user.role)));
        }
        if out.reviews.iter().any(|r| r.0 == reviewer) {
            return Err(GovernanceError::Refused(format!("{reviewer} has already reviewed output {id}")));
        }
        if !approve && reason.trim().is_empty() {
            return Err(GovernanceError::Refused("a rejection needs a reason".into()));
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO output_reviews (output_id, reviewer, decision, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, reviewer, if approve { "approve" } else { "reject" }, reason, haven_store::timestamp_now()],
        )?;
        let approvals: i64 =
            tx.query_row("SELECT COUNT(*) FROM output_reviews WHERE output_id = ?1 AND decision = 'approve'", [id], |r| r.get(0))?;
        let status = if !approve {
            Status::Rejected
        } else if approvals as usize >= APPROVALS_NEEDED {
            Status::Released
        } else {
            Status::Pending
        };
        tx.execute("UPDATE outputs SET status = ?1 WHERE id = ?2", params![status.as_str(), id])?;
        tx.commit()?;
        self.get(id)?.ok_or_else(|| GovernanceError::Refused(format!("output {id} vanished")))
    }

    /// Copies a released output to `dest`, checking it is unchanged since
    /// review.
    pub fn export(&self, id: &str, dest: &Path) -> Result<Output, GovernanceError> {
        use sha2::{Digest, Sha256};
        let out = self.get(id)?.ok_or_else(|| GovernanceError::Refused(format!("no output {id}")))?;
        if out.status != Status::Released {
            return Err(GovernanceError::Refused(format!(
                "output {id} is {}; only an output approved by {APPROVALS_NEEDED} reviewers can be exported",
                out.status.as_str()
            )));
        }
        let folder = self.dir.join(id);
        if folder.is_dir() {
            if haven_store::hex(&Sha256::digest(manifest(&folder)?.as_bytes())) != out.sha256 {
                return Err(GovernanceError::Refused(format!("output {id} changed after review; it cannot be exported")));
            }
            copy_tree(&folder, dest)?;
            return Ok(out);
        }
        let src = self.dir.join(format!("{id}.csv"));
        let bytes = std::fs::read(&src).map_err(|source| GovernanceError::Io { path: src.display().to_string(), source })?;
        let sha = haven_store::hex(&Sha256::digest(&bytes));
        if sha != out.sha256 {
            return Err(GovernanceError::Refused(format!("output {id} changed after review; it cannot be exported")));
        }
        std::fs::write(dest, &bytes).map_err(|source| GovernanceError::Io { path: dest.display().to_string(), source })?;
        Ok(out)
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> GovernanceError {
    let path = path.display().to_string();
    move |source| GovernanceError::Io { path, source }
}

/// Every file under `dir`, relative and sorted.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, GovernanceError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(io_err(&d))? {
            let p = e.map_err(io_err(&d))?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `<sha256>  <path>` per file, sorted by path (the `sha256sum` format).
fn manifest(dir: &Path) -> Result<String, GovernanceError> {
    use sha2::{Digest, Sha256};
    let mut m = String::new();
    for rel in files_under(dir)? {
        let p = dir.join(&rel);
        let bytes = std::fs::read(&p).map_err(io_err(&p))?;
        m.push_str(&format!("{}  {}\n", haven_store::hex(&Sha256::digest(&bytes)), rel.display()));
    }
    Ok(m)
}

fn copy_tree(src: &Path, dest: &Path) -> Result<(), GovernanceError> {
    for rel in files_under(src)? {
        let to = dest.join(&rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        std::fs::copy(src.join(&rel), &to).map_err(io_err(&to))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::Policy;

    fn setup() -> (tempfile::TempDir, Users, Outputs, Content) {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::open(dir.path()).unwrap();
        for (n, r) in [("ana", Role::Analyst), ("bea", Role::Analyst), ("ida", Role::Auditor), ("vic", Role::Viewer)] {
            users.add(n, r, None, "long enough password").unwrap();
        }
        let outputs = Outputs::open(dir.path()).unwrap();
        // 3 is suppressed; 40 and 12 round to 40 and 10; totals from unrounded values.
        let table = Policy::default().table(&[vec![40, 3, 12]]);
        let content = Content::from_protected("ICB", &["QMJ".into()], &["A".into(), "B".into(), "C".into()], &table);
        (dir, users, outputs, content)
    }

    #[test]
    fn content_is_the_disclosure_controlled_table() {
        let (_d, _u, _o, content) = setup();
        let text = content.csv();
        assert!(text.starts_with("ICB,A,B,C,Total\n"));
        // 3 is primary-suppressed; 12 (the next smallest) is suppressed so 3 cannot be recovered from the total 55.
        assert!(text.contains("QMJ,40,*,*,55"), "{text}");
        assert!(!text.contains(",3,") && !text.contains(",12,"));
    }

    #[test]
    fn two_reviewers_who_are_not_the_author_release_an_output() {
        let (d, users, mut outputs, content) = setup();
        let out = outputs.submit("ana", "Admissions by type", "DSA-HAVEN-DEMO", "commissioning", &content).unwrap();
        assert_eq!(out.status, Status::Pending);
        let dest = d.path().join("export.csv");
        assert!(outputs.export(&out.id, &dest).unwrap_err().to_string().contains("pending"));
        assert!(outputs.review(&users, &out.id, "ana", true, "").unwrap_err().to_string().contains("cannot review it"));
        assert!(outputs.review(&users, &out.id, "vic", true, "").unwrap_err().to_string().contains("viewer"));
        assert_eq!(outputs.review(&users, &out.id, "bea", true, "").unwrap().status, Status::Pending);
        assert!(outputs.review(&users, &out.id, "bea", true, "").unwrap_err().to_string().contains("already reviewed"));
        assert_eq!(outputs.review(&users, &out.id, "ida", true, "").unwrap().status, Status::Released);
        outputs.export(&out.id, &dest).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), content.csv());
        // Tampering with the held file after review blocks export.
        std::fs::write(d.path().join("outputs").join(format!("{}.csv", out.id)), "ICB,A\nQMJ,3\n").unwrap();
        assert!(outputs.export(&out.id, &dest).unwrap_err().to_string().contains("changed after review"));
    }

    #[test]
    fn a_rejection_needs_a_reason_and_ends_the_review() {
        let (_d, users, mut outputs, content) = setup();
        let out = outputs.submit("ana", "t", "D", "commissioning", &content).unwrap();
        assert!(outputs.review(&users, &out.id, "bea", false, " ").unwrap_err().to_string().contains("reason"));
        assert_eq!(outputs.review(&users, &out.id, "bea", false, "disclosive margin").unwrap().status, Status::Rejected);
        assert!(outputs.review(&users, &out.id, "ida", true, "").unwrap_err().to_string().contains("already rejected"));
    }

    #[test]
    fn a_folder_output_is_released_whole_and_any_changed_file_blocks_export() {
        let (d, users, mut outputs, _content) = setup();
        let src = d.path().join("run");
        std::fs::create_dir_all(src.join("by_icb")).unwrap();
        std::fs::write(src.join("benchmark.csv"), "indicator,value\nae.four_hours,74.10\n").unwrap();
        std::fs::write(src.join("by_icb/ae.four_hours.icb.csv"), "group,numerator\nQMJ,1235\n").unwrap();
        let out = outputs.submit_folder("ana", "Benchmark", "DSA-HAVEN-DEMO", "population_health_benchmarking", &src).unwrap();
        // Changing the source after submission changes nothing held.
        std::fs::write(src.join("benchmark.csv"), "changed").unwrap();
        let dest = d.path().join("export");
        assert!(outputs.export(&out.id, &dest).unwrap_err().to_string().contains("pending"));
        outputs.review(&users, &out.id, "bea", true, "").unwrap();
        outputs.review(&users, &out.id, "ida", true, "").unwrap();
        outputs.export(&out.id, &dest).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("benchmark.csv")).unwrap(), "indicator,value\nae.four_hours,74.10\n");
        assert!(dest.join("by_icb/ae.four_hours.icb.csv").is_file());
        // A file added to, or edited in, the held folder blocks export.
        std::fs::write(d.path().join("outputs").join(&out.id).join("extra.csv"), "x").unwrap();
        assert!(outputs.export(&out.id, &d.path().join("again")).unwrap_err().to_string().contains("changed after review"));
    }
}
