//! Output release, in the spirit of OpenSAFELY's Airlock: an aggregate
//! output is held as pending until two reviewers who are not its author
//! approve it; only a released output can be exported. Every step is
//! appended to the audit chain by the caller.
//!
//! An output lives inside Haven until it is released (issue 14 item 2): it
//! is a folder `<data-dir>/outputs/<id>/` (owner-only) holding exactly the
//! files Haven's publisher wrote through a [`Draft`], whose SHA-256s the
//! draft records in a manifest kept in the catalog. Nothing is copied in
//! from a folder the caller names, so a zone file cannot become an output;
//! files are created exclusively and never read through a symbolic link.
//! Reviewers see every file rendered ([`Outputs::inspect`], with anything in
//! the folder that is not in the manifest flagged), and
//! [`Outputs::export`] copies exactly the manifest's files after
//! re-checking each hash, refusing if anything else is there.
//!
//! An output's counts content can only be built from a
//! [`disclosure::Protected`] table; the analytics outputs are written only
//! from `haven-analytics`' published tables.

mod render;
mod verified;

pub use verified::Verified;

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::disclosure::Protected;
use crate::dsa::Role;
use crate::csv_field;
use crate::error::GovernanceError;
use crate::users::Users;

pub use render::Rendering;

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
CREATE TABLE IF NOT EXISTS output_files (
    output_id TEXT NOT NULL REFERENCES outputs(id), name TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
    UNIQUE (output_id, name)
);
";

/// The kinds of file an output may hold: tables (CSV, JSON, Parquet) and
/// charts (SVG) — each has a rendering a reviewer can read.
pub const EXTENSIONS: [&str; 4] = ["csv", "json", "parquet", "svg"];

/// One file of an output's manifest, as its writer recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldFile {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Checks a file name a draft is given: one plain name (letters, digits,
/// `.`, `_`, `-`), no path separator, no `..`, not hidden, and a table or
/// chart extension. The reason is fixed; the name is the code's own.
pub fn check_name(name: &str) -> Result<(), GovernanceError> {
    let refuse = |why: &str| Err(GovernanceError::Refused(format!("output file name {name:?}: {why}")));
    if name.is_empty() || name.len() > 200 {
        return refuse("empty or longer than 200 characters");
    }
    if name.contains('/') || name.contains('\\') {
        return refuse("a path separator; an output is one flat folder");
    }
    if name.contains("..") {
        return refuse("contains `..`");
    }
    if name.starts_with('.') {
        return refuse("a hidden file");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return refuse("only letters, digits, `.`, `_` and `-` are allowed");
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && EXTENSIONS.contains(&ext) => Ok(()),
        _ => refuse("not a table or chart (.csv, .json, .parquet or .svg)"),
    }
}

/// An output being written: the only way files get into a held output.
/// Each [`Draft::put`] creates one new file (never overwriting, never
/// through a link) and records its SHA-256; [`Draft::submit`] holds the
/// output for review with that manifest. Dropped unsubmitted, the draft's
/// folder is removed.
#[derive(Debug)]
pub struct Draft {
    id: String,
    dir: PathBuf,
    author: String,
    title: String,
    dsa: String,
    purpose: String,
    files: Vec<HeldFile>,
    submitted: bool,
}

impl Draft {
    /// The id the output will have.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The files written so far.
    pub fn files(&self) -> &[HeldFile] {
        &self.files
    }

    /// Writes `bytes` as the file `name` (see [`check_name`]), created
    /// exclusively with mode 0600, and records its hash.
    pub fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), GovernanceError> {
        check_name(name)?;
        if self.files.iter().any(|f| f.name == name) {
            return Err(GovernanceError::Refused(format!("output file {name} was already written")));
        }
        let path = self.dir.join(name);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(io_err(&path))?;
        f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io_err(&path))?;
        self.files.push(HeldFile { name: name.to_owned(), sha256: haven_store::hex(&Sha256::digest(bytes)), bytes: bytes.len() as u64 });
        Ok(())
    }

    /// Holds the output as pending review, its manifest in the catalog.
    pub fn submit(mut self, outputs: &mut Outputs) -> Result<Output, GovernanceError> {
        if self.dir.parent() != Some(outputs.dir.as_path()) {
            return Err(GovernanceError::Refused(format!("draft {} belongs to another data directory", self.id)));
        }
        if self.files.is_empty() {
            return Err(GovernanceError::Refused(format!("draft {} holds no files", self.id)));
        }
        self.files.sort_by(|a, b| a.name.cmp(&b.name));
        let sha = haven_store::hex(&Sha256::digest(manifest(&self.files).as_bytes()));
        let tx = outputs.conn.transaction()?;
        tx.execute(
            "INSERT INTO outputs (id, title, author, dsa, purpose, created_at, status, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
            params![self.id, self.title, self.author, self.dsa, self.purpose, haven_store::timestamp_now(), sha],
        )?;
        for f in &self.files {
            tx.execute("INSERT INTO output_files (output_id, name, sha256, bytes) VALUES (?1, ?2, ?3, ?4)", params![self.id, f.name, f.sha256, f.bytes as i64])?;
        }
        tx.commit()?;
        self.submitted = true;
        outputs.get(&self.id)?.ok_or_else(|| GovernanceError::Refused(format!("output {} vanished", self.id)))
    }
}

impl Drop for Draft {
    fn drop(&mut self) {
        if !self.submitted {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What a reviewer is told about one file in a held output's folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// In the manifest, and its bytes hash as recorded.
    Held,
    /// In the manifest, but its bytes changed since they were written.
    Changed,
    /// In the manifest, but gone.
    Missing,
    /// In the folder but not in the manifest: not written by the publisher.
    NotInManifest,
    /// A symbolic link (never followed).
    Symlink,
    /// Not a regular file (a folder, a device, …).
    NotAFile,
}

impl FileState {
    /// A fixed sentence for reviewers.
    pub fn describe(self) -> &'static str {
        match self {
            FileState::Held => "as written",
            FileState::Changed => "CHANGED since it was written; export is refused",
            FileState::Missing => "MISSING from the held folder; export is refused",
            FileState::NotInManifest => "NOT IN THE MANIFEST (not written by Haven's publisher); export is refused",
            FileState::Symlink => "A SYMBOLIC LINK (not followed); export is refused",
            FileState::NotAFile => "NOT A REGULAR FILE; export is refused",
        }
    }
}

/// One file of a held output's folder as a reviewer sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Inspected {
    pub name: String,
    /// The SHA-256 the manifest records, when the file is in it.
    pub sha256: Option<String>,
    pub bytes: Option<u64>,
    pub state: FileState,
    /// The file rendered, only for a file that is [`FileState::Held`].
    pub rendering: Option<Rendering>,
}

/// The output store of one data directory.
pub struct Outputs {
    conn: crate::pool::CatalogConn,
    dir: PathBuf,
    data: PathBuf,
}

impl Outputs {
    /// Opens the outputs held in `<data-dir>/outputs` (made owner-only) and
    /// the catalog.
    pub fn open(data_dir: &Path) -> Result<Outputs, GovernanceError> {
        let dir = data_dir.join("outputs");
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(io_err(&dir))?;
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).map_err(io_err(&dir))?;
        let conn = crate::open_catalog(data_dir, SCHEMA)?;
        Ok(Outputs { conn, dir, data: data_dir.to_path_buf() })
    }

    /// Starts a new output: an owner-only folder `<data-dir>/outputs/<id>/`
    /// made here (never one that exists), which only the draft writes to.
    pub fn draft(&mut self, author: &str, title: &str, dsa: &str, purpose: &str) -> Result<Draft, GovernanceError> {
        let n: i64 = self.conn.query_row("SELECT COUNT(*) FROM outputs", [], |r| r.get(0))?;
        for k in n + 1.. {
            let id = format!("OUT-{k:05}");
            if self.get(&id)?.is_some() {
                continue;
            }
            let dir = self.dir.join(&id);
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).map_err(io_err(&dir))?;
                    return Ok(Draft {
                        id,
                        dir,
                        author: author.into(),
                        title: title.into(),
                        dsa: dsa.into(),
                        purpose: purpose.into(),
                        files: Vec::new(),
                        submitted: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(&dir)(e)),
            }
        }
        unreachable!("output ids are unbounded")
    }

    /// Holds a disclosure-controlled table of counts (`outputs submit`) as
    /// a pending output of one file, `table.csv`.
    pub fn submit(&mut self, author: &str, title: &str, dsa: &str, purpose: &str, content: &Content) -> Result<Output, GovernanceError> {
        let mut draft = self.draft(author, title, dsa, purpose)?;
        draft.put("table.csv", content.csv().as_bytes())?;
        draft.submit(self)
    }

    /// The manifest of an output, sorted by name.
    pub fn files(&self, id: &str) -> Result<Vec<HeldFile>, GovernanceError> {
        let mut stmt = self.conn.prepare("SELECT name, sha256, bytes FROM output_files WHERE output_id = ?1 ORDER BY name")?;
        let files = stmt
            .query_map([id], |r| Ok(HeldFile { name: r.get(0)?, sha256: r.get(1)?, bytes: r.get::<_, i64>(2)? as u64 }))?
            .collect::<Result<_, _>>()?;
        Ok(files)
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

    /// Every file of a held output's folder against its manifest, each file
    /// that is as written rendered for review (read once, never through a
    /// link, hashed and rendered from the same bytes). Files in the folder
    /// that are not in the manifest are listed, flagged, and not rendered.
    pub fn inspect(&self, id: &str) -> Result<Vec<Inspected>, GovernanceError> {
        Ok(self.inspect_with_bytes(id)?.into_iter().map(|(i, _)| i).collect())
    }

    /// [`Outputs::inspect`], with the bytes of each file that is as
    /// written (read and hashed once, for a page that shows them).
    pub fn inspect_with_bytes(&self, id: &str) -> Result<Vec<Checked>, GovernanceError> {
        self.inspect_rendered_by(id, |_, name, bytes, names| render::render(name, bytes, names))
    }

    /// [`Outputs::inspect_with_bytes`] with the renderer given: it gets
    /// the manifest's SHA-256 of a file that hashes as written, its name,
    /// its bytes and the manifest's names, so a caller may keep renderings
    /// by content (the bytes are still read and checked on every call).
    pub fn inspect_rendered_by(&self, id: &str, render: impl FnMut(&str, &str, &[u8], &[String]) -> Rendering) -> Result<Vec<Checked>, GovernanceError> {
        self.inspect_verified_by(id, None, |_| true, render)
    }

    /// [`Outputs::inspect_rendered_by`], skipping the read and hash of a
    /// file `verified` saw hash as written and whose stamp (device, inode,
    /// size, mtime, ctime) has not changed since (see [`Verified`]); only
    /// the manifest's files at the positions `shown` accepts come with their
    /// bytes and rendering (a page of a large output), though every file is
    /// checked.
    pub fn inspect_verified_by(
        &self,
        id: &str,
        verified: Option<&Verified>,
        shown: impl Fn(usize) -> bool,
        mut render: impl FnMut(&str, &str, &[u8], &[String]) -> Rendering,
    ) -> Result<Vec<Checked>, GovernanceError> {
        let checked = self.check_with(id, verified, shown)?;
        let names: Vec<String> = checked.iter().filter(|(i, _)| i.sha256.is_some()).map(|(i, _)| i.name.clone()).collect();
        Ok(checked
            .into_iter()
            .map(|(i, bytes)| {
                let sha = i.sha256.clone().unwrap_or_default();
                let rendering = bytes.as_ref().map(|b| render(&sha, &i.name, b, &names));
                (Inspected { rendering, ..i }, bytes)
            })
            .collect())
    }

    /// How Haven renders one held file for review (tables as text, charts
    /// by their title, description and data).
    pub fn render(name: &str, bytes: &[u8], names: &[String]) -> Rendering {
        render::render(name, bytes, names)
    }

    /// The bytes of one file of an output's manifest, only if it is as
    /// written (the web app shows a held chart to its reviewers and a
    /// released file to those who may take it; the caller checks which).
    /// Reads and hashes that one file, not the whole folder.
    pub fn held_bytes(&self, id: &str, name: &str) -> Result<Vec<u8>, GovernanceError> {
        check_name(name)?;
        let mut files = self.held_bytes_where(id, |n| n == name)?;
        files.pop().map(|(_, b)| b).ok_or_else(|| GovernanceError::Refused(format!("output {id} has no file {name}")))
    }

    /// The bytes of each manifest file of output `id` whose name `keep`
    /// accepts, in name order, each read once (never through a link) and
    /// checked against its manifest SHA-256; refused if any is not as
    /// written.
    pub fn held_bytes_where(&self, id: &str, keep: impl Fn(&str) -> bool) -> Result<Vec<(String, Vec<u8>)>, GovernanceError> {
        let folder = self.dir.join(id);
        let mut out = Vec::new();
        for f in self.files(id)?.iter().filter(|f| keep(&f.name)) {
            match check_file(&folder, f, None, true)? {
                (_, Some(bytes)) => out.push((f.name.clone(), bytes)),
                (state, None) => return Err(GovernanceError::Refused(format!("output {id}: {} is {}", f.name, state.describe()))),
            }
        }
        Ok(out)
    }

    /// The folder against the manifest, with the bytes of each file that
    /// is as written.
    fn check(&self, id: &str) -> Result<Vec<Checked>, GovernanceError> {
        self.check_with(id, None, |_| true)
    }

    fn check_with(&self, id: &str, verified: Option<&Verified>, with_bytes: impl Fn(usize) -> bool) -> Result<Vec<Checked>, GovernanceError> {
        let manifest = self.files(id)?;
        let folder = self.dir.join(id);
        let mut out = Vec::new();
        for (i, f) in manifest.iter().enumerate() {
            let (state, bytes) = check_file(&folder, f, verified, with_bytes(i))?;
            out.push((Inspected { name: f.name.clone(), sha256: Some(f.sha256.clone()), bytes: Some(f.bytes), state, rendering: None }, bytes));
        }
        if folder.is_dir() {
            let mut extra = Vec::new();
            for e in std::fs::read_dir(&folder).map_err(io_err(&folder))? {
                let e = e.map_err(io_err(&folder))?;
                let name = e.file_name().to_string_lossy().into_owned();
                if manifest.iter().any(|f| f.name == name) {
                    continue;
                }
                let t = e.file_type().map_err(io_err(&folder))?;
                let state = if t.is_symlink() { FileState::Symlink } else if t.is_file() { FileState::NotInManifest } else { FileState::NotAFile };
                extra.push(Inspected { name, sha256: None, bytes: None, state, rendering: None });
            }
            extra.sort_by(|a, b| a.name.cmp(&b.name));
            out.extend(extra.into_iter().map(|i| (i, None)));
        }
        Ok(out)
    }

    /// Copies exactly the manifest's files of a released output into the
    /// folder `dest` (outside the data directory), after checking every
    /// file hashes as written and that nothing else is in the held folder;
    /// files are created new, never overwriting.
    pub fn export(&self, id: &str, dest: &Path) -> Result<(Output, Vec<HeldFile>), GovernanceError> {
        let out = self.get(id)?.ok_or_else(|| GovernanceError::Refused(format!("no output {id}")))?;
        if out.status != Status::Released {
            return Err(GovernanceError::Refused(format!(
                "output {id} is {}; only an output approved by {APPROVALS_NEEDED} reviewers can be exported",
                out.status.as_str()
            )));
        }
        let checked = self.check(id)?;
        if let Some((bad, _)) = checked.iter().find(|(i, _)| i.state != FileState::Held) {
            return Err(GovernanceError::Refused(format!("output {id}: {} is {}", bad.name, bad.state.describe())));
        }
        let manifest = self.files(id)?;
        if haven_store::hex(&Sha256::digest(self::manifest(&manifest).as_bytes())) != out.sha256 {
            return Err(GovernanceError::Refused(format!("output {id}: its manifest changed after review; export is refused")));
        }
        if inside(dest, &self.data)? {
            return Err(GovernanceError::Refused(format!("output {id}: cannot export into the data directory")));
        }
        std::fs::create_dir_all(dest).map_err(io_err(dest))?;
        for (i, bytes) in checked {
            let path = dest.join(&i.name);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .map_err(io_err(&path))?;
            f.write_all(&bytes.expect("a held file has its bytes")).map_err(io_err(&path))?;
        }
        Ok((out, manifest))
    }
}

/// A held file as inspected, and its bytes when it is as written.
pub type Checked = (Inspected, Option<Vec<u8>>);

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> GovernanceError {
    let path = path.display().to_string();
    move |source| GovernanceError::Io { path, source }
}

/// A file's bytes, refusing a symbolic link at the last component.
fn read_nofollow(path: &Path) -> Result<Vec<u8>, GovernanceError> {
    let mut f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path).map_err(io_err(path))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(io_err(path))?;
    Ok(bytes)
}

/// Whether `path` (which need not exist yet) resolves inside `dir`.
fn inside(path: &Path, dir: &Path) -> Result<bool, GovernanceError> {
    let dir = dir.canonicalize().map_err(io_err(dir))?;
    let absolute = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().map_err(io_err(path))?.join(path) };
    // The nearest existing ancestor, resolved, then the rest as named.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(p), Some(n)) => {
                rest.push(n.to_owned());
                existing = p;
            }
            _ => break,
        }
    }
    let mut resolved = existing.canonicalize().map_err(io_err(existing))?;
    resolved.extend(rest.iter().rev());
    Ok(resolved.starts_with(&dir))
}

/// `<sha256>  <name>` per file, sorted by name (the `sha256sum` format).
fn manifest(files: &[HeldFile]) -> String {
    let mut sorted: Vec<&HeldFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    sorted.iter().map(|f| format!("{}  {}\n", f.sha256, f.name)).collect()
}

/// One manifest file of `folder`: its state, and its bytes when it is as
/// written (read once, never through a link, hashed from the same bytes).
fn check_file(folder: &Path, f: &HeldFile, verified: Option<&Verified>, want_bytes: bool) -> Result<(FileState, Option<Vec<u8>>), GovernanceError> {
    let path = folder.join(&f.name);
    Ok(match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (FileState::Missing, None),
        Err(e) => return Err(io_err(&path)(e)),
        Ok(m) if m.file_type().is_symlink() => (FileState::Symlink, None),
        Ok(m) if !m.is_file() => (FileState::NotAFile, None),
        Ok(m) => {
            if let Some(v) = verified.filter(|v| v.holds(&path, &m, &f.sha256)) {
                return Ok((FileState::Held, if want_bytes { v.get(&path, &m, &f.sha256) } else { None }));
            }
            let bytes = read_nofollow(&path)?;
            if haven_store::hex(&Sha256::digest(&bytes)) == f.sha256 {
                if let Some(v) = verified {
                    v.put(&path, &m, &f.sha256, &bytes);
                }
                (FileState::Held, want_bytes.then_some(bytes))
            } else {
                (FileState::Changed, None)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

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

    /// A fresh folder outside the data directory, removed when the test ends.
    fn outside() -> PathBuf {
        thread_local!(static DIRS: std::cell::RefCell<Vec<tempfile::TempDir>> = const { std::cell::RefCell::new(Vec::new()) });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        DIRS.with(|d| d.borrow_mut().push(dir));
        path
    }

    /// A released two-file output (a table and a chart), as the publisher writes one.
    fn released(_d: &tempfile::TempDir, users: &Users, outputs: &mut Outputs) -> Output {
        let mut draft = outputs.draft("ana", "Benchmark", "DSA-HAVEN-DEMO", "population_health_benchmarking").unwrap();
        draft.put("benchmark.csv", b"indicator,value\nae.four_hours,74.1\n").unwrap();
        draft.put("benchmark.spine.svg", b"<svg><title>QMJ against England</title><desc>Spine chart</desc></svg>").unwrap();
        let out = draft.submit(outputs).unwrap();
        let dest = outside().join("early");
        assert!(outputs.export(&out.id, &dest).unwrap_err().to_string().contains("pending"));
        outputs.review(users, &out.id, "bea", true, "").unwrap();
        outputs.review(users, &out.id, "ida", true, "").unwrap();
        out
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
        let dest = outside().join("export");
        assert!(outputs.export(&out.id, &dest).unwrap_err().to_string().contains("pending"));
        assert!(outputs.review(&users, &out.id, "ana", true, "").unwrap_err().to_string().contains("cannot review it"));
        assert!(outputs.review(&users, &out.id, "vic", true, "").unwrap_err().to_string().contains("viewer"));
        assert_eq!(outputs.review(&users, &out.id, "bea", true, "").unwrap().status, Status::Pending);
        assert!(outputs.review(&users, &out.id, "bea", true, "").unwrap_err().to_string().contains("already reviewed"));
        assert_eq!(outputs.review(&users, &out.id, "ida", true, "").unwrap().status, Status::Released);
        outputs.export(&out.id, &dest).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("table.csv")).unwrap(), content.csv());
        // Tampering with the held file after review blocks export.
        std::fs::write(d.path().join("outputs").join(&out.id).join("table.csv"), "ICB,A\nQMJ,3\n").unwrap();
        let err = outputs.export(&out.id, &outside().join("again")).unwrap_err().to_string();
        assert!(err.contains("table.csv is CHANGED"), "{err}");
    }

    #[test]
    fn a_rejection_needs_a_reason_and_ends_the_review() {
        let (_d, users, mut outputs, content) = setup();
        let out = outputs.submit("ana", "t", "D", "commissioning", &content).unwrap();
        assert!(outputs.review(&users, &out.id, "bea", false, " ").unwrap_err().to_string().contains("reason"));
        assert_eq!(outputs.review(&users, &out.id, "bea", false, "disclosive margin").unwrap().status, Status::Rejected);
        assert!(outputs.review(&users, &out.id, "ida", true, "").unwrap_err().to_string().contains("already rejected"));
    }

    // issue 14 item 2: a draft takes only plain table and chart names.
    #[test]
    fn issue_14_a_draft_refuses_paths_dot_dot_hidden_and_other_kinds_of_file() {
        let (d, _u, mut outputs, _c) = setup();
        let mut draft = outputs.draft("ana", "t", "D", "commissioning").unwrap();
        for bad in ["../zones/x.csv", "a/b.csv", "..csv", "a..b.csv", ".hidden.csv", "", "x.sh", "part-0.parquet/", "x.csv\n", "/etc/passwd"] {
            assert!(draft.put(bad, b"x").is_err(), "{bad:?} accepted");
        }
        draft.put("ae.four_hours.month.csv", b"group\n").unwrap();
        assert!(draft.put("ae.four_hours.month.csv", b"again").is_err(), "a file is written once");
        // Nothing escaped the draft's folder.
        assert!(!d.path().join("zones").exists() && !d.path().join("outputs/x.csv").exists());
        let folder = d.path().join("outputs").join(draft.id());
        assert_eq!(std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(folder.join("ae.four_hours.month.csv")).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(d.path().join("outputs")).unwrap().permissions().mode() & 0o777, 0o700);
        // Dropped unsubmitted, the draft leaves nothing.
        drop(draft);
        assert!(!folder.exists());
    }

    // issue 14 item 2: a file planted where the draft will write is not overwritten or followed.
    #[test]
    fn issue_14_a_draft_never_writes_through_a_planted_link() {
        let (d, _u, mut outputs, _c) = setup();
        let mut draft = outputs.draft("ana", "t", "D", "commissioning").unwrap();
        let target = d.path().join("elsewhere.csv");
        std::os::unix::fs::symlink(&target, d.path().join("outputs").join(draft.id()).join("t.csv")).unwrap();
        assert!(draft.put("t.csv", b"x").is_err());
        assert!(!target.exists());
    }

    // issue 14 item 2: a symlink planted in a held output is refused at export.
    #[test]
    fn issue_14_export_refuses_a_symlink_planted_in_a_held_output() {
        let (d, users, mut outputs, _c) = setup();
        let out = released(&d, &users, &mut outputs);
        let held = d.path().join("outputs").join(&out.id);
        std::fs::write(d.path().join("secret.parquet"), b"PAR1 rows").unwrap();
        std::os::unix::fs::symlink(d.path().join("secret.parquet"), held.join("zone.parquet")).unwrap();
        let x = outside().join("x");
        let err = outputs.export(&out.id, &x).unwrap_err().to_string();
        assert!(err.contains("zone.parquet is A SYMBOLIC LINK"), "{err}");
        assert!(!x.exists(), "nothing was copied");
        // A manifest file replaced by a link is refused too.
        std::fs::remove_file(held.join("zone.parquet")).unwrap();
        std::fs::remove_file(held.join("benchmark.csv")).unwrap();
        std::os::unix::fs::symlink(d.path().join("secret.parquet"), held.join("benchmark.csv")).unwrap();
        let err = outputs.export(&out.id, &x).unwrap_err().to_string();
        assert!(err.contains("benchmark.csv is A SYMBOLIC LINK"), "{err}");
    }

    // issue 14 item 2: a zone file copied into a held output is flagged to reviewers and refused at export.
    #[test]
    fn issue_14_a_copied_zone_file_is_flagged_and_blocks_export() {
        let (d, users, mut outputs, _c) = setup();
        let out = released(&d, &users, &mut outputs);
        let held = d.path().join("outputs").join(&out.id);
        std::fs::write(held.join("part-0.parquet"), b"PAR1 pseudonymised rows").unwrap();
        std::fs::create_dir(held.join("zones")).unwrap();
        let seen = outputs.inspect(&out.id).unwrap();
        let state = |n: &str| seen.iter().find(|i| i.name == n).map(|i| i.state);
        assert_eq!(state("part-0.parquet"), Some(FileState::NotInManifest));
        assert_eq!(state("zones"), Some(FileState::NotAFile));
        assert!(seen.iter().find(|i| i.name == "part-0.parquet").unwrap().rendering.is_none(), "not rendered");
        assert_eq!(state("benchmark.csv"), Some(FileState::Held));
        let x = outside().join("x");
        let err = outputs.export(&out.id, &x).unwrap_err().to_string();
        assert!(err.contains("NOT A REGULAR FILE") || err.contains("NOT IN THE MANIFEST"), "{err}");
        std::fs::remove_dir(held.join("zones")).unwrap();
        let err = outputs.export(&out.id, &x).unwrap_err().to_string();
        assert!(err.contains("part-0.parquet is NOT IN THE MANIFEST"), "{err}");
        // Taken away again, the output exports exactly its manifest.
        std::fs::remove_file(held.join("part-0.parquet")).unwrap();
        let (_, files) = outputs.export(&out.id, &x).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&x).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, files.iter().map(|f| f.name.clone()).collect::<Vec<_>>());
        // Never over an existing file, and never into the data directory.
        assert!(outputs.export(&out.id, &x).is_err());
        let err = outputs.export(&out.id, &d.path().join("outputs/copy")).unwrap_err().to_string();
        assert!(err.contains("data directory"), "{err}");
    }

    #[test]
    fn a_held_table_and_chart_are_rendered_for_review() {
        let (d, users, mut outputs, _c) = setup();
        let out = released(&d, &users, &mut outputs);
        let seen = outputs.inspect(&out.id).unwrap();
        assert_eq!(seen.len(), 2);
        let table = seen[0].rendering.as_ref().unwrap();
        assert_eq!(table.kind, "table");
        assert!(table.text.contains("ae.four_hours,74.1"), "{table:?}");
        let chart = seen[1].rendering.as_ref().unwrap();
        assert_eq!((chart.kind, chart.title.as_deref(), chart.data.as_deref()), ("chart", Some("QMJ against England"), Some("benchmark.csv")));
        assert_eq!(seen[1].sha256.as_deref(), Some(haven_store::hex(&Sha256::digest(b"<svg><title>QMJ against England</title><desc>Spine chart</desc></svg>")).as_str()));
    }
}
