//! Retention and destruction (DESIGN.md §2: "data older than the DSA's
//! retention window is destroyed by a command that writes a destruction
//! certificate").
//!
//! The window keeps the agreement's `retention_years` whole financial years
//! before the current one, plus the current year: with ten years on
//! 2026-11-23 (financial year 2026-27) rows dated before 2016-04-01 go. Once
//! an agreement has ended, nothing may be kept under it, so every row loaded
//! under it goes (DARS agreements require destruction or renewal at the end;
//! the NCL agreement DARS-NIC-615974-Y3R7Q ended 2025-11-27). A row is placed
//! in time by its table's activity date ([`haven_model::Table::activity_date`]);
//! undated rows, and tables that describe a state rather than an event, are
//! kept until the agreement ends.
//!
//! Destruction reuses the store's atomic load commit: each affected load is
//! rewritten as a new load that carries untouched files by hard link, writes
//! filtered copies of partly expired files, and supersedes the old load in
//! one catalog transaction, after which the old files are deleted. A crash
//! leaves either the old load or the new one, never a mixture, and a rerun
//! finishes the job. The certificate records what, which years, row counts
//! and content hashes before and after, when and by whom — never a value
//! from a row.
//!
//! A destruction runs as of today only ([`Run::Destroy`]): a later date
//! would destroy rows the agreement still allows (as if it had ended), an
//! earlier one would certify a destruction on a day that has passed. A dry
//! run may look ahead to see what a later run will take, never back.
//! "Today" is the caller's argument, so tests set the clock.

use std::collections::BTreeSet;
use std::path::Path;

use arrow::array::{Array, BooleanArray, Date32Array};
use arrow::compute::filter_record_batch;
use arrow::record_batch::RecordBatch;
use haven_model::schema::Table;
use haven_model::Date;
use haven_store::{FileRecord, LoadRecord, LoadStatus, Store, StoreError, ZoneCounts};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::dsa::Dsa;
use crate::error::GovernanceError;

/// Where a retention run draws the line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Window {
    /// Rows dated before this go; `None` when the agreement has ended and
    /// everything goes.
    pub keep_from: Option<String>,
    /// Why, in words, for the certificate.
    pub reason: String,
}

impl Window {
    /// The window of `dsa` on `on`.
    pub fn of(dsa: &Dsa, on: Date) -> Window {
        if on > dsa.end {
            return Window { keep_from: None, reason: format!("agreement {} ended on {}: nothing may be kept under it", dsa.id, dsa.end) };
        }
        let first_fy = on.financial_year() - dsa.retention_years as i32;
        let from = Date::from_ymd(first_fy, 4, 1).expect("1 April exists");
        Window {
            keep_from: Some(from.to_string()),
            reason: format!(
                "agreement {} keeps {} years plus the current year: rows dated before {from} go",
                dsa.id, dsa.retention_years
            ),
        }
    }

    fn cutoff_days(&self) -> Option<i32> {
        self.keep_from.as_deref().map(|d| Date::parse(d).expect("formatted by Window::of").days())
    }
}

/// One file's part in a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileDestruction {
    pub load_id: String,
    pub zone: String,
    pub dataset: String,
    pub path: String,
    pub sha256_before: String,
    pub rows_before: u64,
    pub rows_destroyed: u64,
    /// Financial years (e.g. `2014-15`) of the rows destroyed; `undated`
    /// when the whole file went because the agreement ended.
    pub years: Vec<String>,
    /// The file that replaces it, if any rows stay.
    pub sha256_after: Option<String>,
}

/// One load's part in a run, all its files together: a load has a part
/// per writer and zone (a derived spells load two parts, an episode load
/// one per zone), so a per-file listing shows one load many times.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadDestruction {
    pub load_id: String,
    pub zones: Vec<String>,
    pub datasets: Vec<String>,
    pub files: usize,
    pub rows_before: u64,
    pub rows_destroyed: u64,
    pub years: Vec<String>,
}

/// The files of a plan grouped by load, in the plan's order.
pub fn by_load(files: &[FileDestruction]) -> Vec<LoadDestruction> {
    let mut out: Vec<LoadDestruction> = Vec::new();
    for f in files {
        let i = match out.iter().position(|l| l.load_id == f.load_id) {
            Some(i) => i,
            None => {
                out.push(LoadDestruction { load_id: f.load_id.clone(), zones: vec![], datasets: vec![], files: 0, rows_before: 0, rows_destroyed: 0, years: vec![] });
                out.len() - 1
            }
        };
        let l = &mut out[i];
        let add = |list: &mut Vec<String>, item: &String| {
            if !list.contains(item) {
                list.push(item.clone());
                list.sort();
            }
        };
        add(&mut l.zones, &f.zone);
        add(&mut l.datasets, &f.dataset);
        f.years.iter().for_each(|y| add(&mut l.years, y));
        l.files += 1;
        l.rows_before += f.rows_before;
        l.rows_destroyed += f.rows_destroyed;
    }
    out
}

/// What a run does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Run {
    /// Destroy what lies outside the window today, and certify it.
    Destroy,
    /// Report what a run on `on` (today or later) would destroy; change nothing.
    DryRun { on: Date },
}

impl Run {
    /// The run a request asks for on `today`: a dry run on `on` (default
    /// today) if `dry_run`, else a destruction, which takes no date.
    pub fn requested(today: Date, dry_run: bool, on: Option<Date>) -> Result<Run, GovernanceError> {
        match (dry_run, on) {
            (false, None) => Ok(Run::Destroy),
            (false, Some(_)) => Err(GovernanceError::Refused(
                "a destruction runs as of today only; another date is for a dry run (--dry-run --on DATE)".into(),
            )),
            (true, on) => Run::DryRun { on: on.unwrap_or(today) }.check(today),
        }
    }

    /// Refuses a dry run that looks back.
    fn check(self, today: Date) -> Result<Run, GovernanceError> {
        match self {
            Run::DryRun { on } if on < today => Err(GovernanceError::Refused(format!(
                "a dry run looks ahead, not back: {on} is before today ({today}), and rows destroyed then would be gone already"
            ))),
            run => Ok(run),
        }
    }

    /// The day the window is drawn on.
    fn on(self, today: Date) -> Date {
        match self {
            Run::Destroy => today,
            Run::DryRun { on } => on,
        }
    }
}

/// A destruction certificate: the plan of a dry run, or the record of a real one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Certificate {
    pub id: String,
    pub dsa: String,
    /// The day the window was drawn on: the run's day for a destruction.
    pub on: String,
    pub window: Window,
    pub run_by: String,
    pub role: String,
    pub at: String,
    pub dry_run: bool,
    pub loads_rewritten: Vec<(String, String)>,
    /// Each load once, its files summed.
    pub loads: Vec<LoadDestruction>,
    pub files: Vec<FileDestruction>,
    pub rows_destroyed: u64,
}

/// Works out what a run would destroy, touching nothing.
pub fn plan(store: &Store, dsa: &Dsa, on: Date) -> Result<Vec<FileDestruction>, GovernanceError> {
    let window = Window::of(dsa, on);
    let mut out = Vec::new();
    for load in loads_under(store, &dsa.id)? {
        for file in store.catalog().load_files(&load.id)? {
            if let Some(f) = file_plan(store, &file, window.cutoff_days())? {
                out.push(f);
            }
        }
    }
    Ok(out)
}

/// Destroys what [`plan`] finds on `today` and returns the certificate, also
/// written to `<data-dir>/certificates/<id>.json`. A [`Run::DryRun`]
/// changes nothing and returns the certificate unsaved.
pub fn apply(store: &mut Store, dsa: &Dsa, today: Date, run: Run, run_by: &str, role: &str) -> Result<Certificate, GovernanceError> {
    let on = run.check(today)?.on(today);
    let dry_run = run != Run::Destroy;
    let window = Window::of(dsa, on);
    let mut files = plan(store, dsa, on)?;
    let id = certificate_id()?;
    let mut loads_rewritten = Vec::new();
    if !dry_run {
        let loads: BTreeSet<String> = files.iter().map(|f| f.load_id.clone()).collect();
        for old in loads {
            let new = rewrite_load(store, &old, window.cutoff_days(), &id, &mut files)?;
            loads_rewritten.push((old, new));
        }
    }
    let cert = Certificate {
        id,
        dsa: dsa.id.clone(),
        on: on.to_string(),
        window,
        run_by: run_by.to_owned(),
        role: role.to_owned(),
        at: haven_store::timestamp_now(),
        dry_run,
        loads_rewritten,
        rows_destroyed: files.iter().map(|f| f.rows_destroyed).sum(),
        loads: by_load(&files),
        files,
    };
    if !dry_run {
        save(store.root(), &cert)?;
    }
    Ok(cert)
}

/// `DC-<UTC time>-<random>`: sortable, and unique even within a second.
fn certificate_id() -> Result<String, GovernanceError> {
    let mut salt = [0u8; 4];
    getrandom::fill(&mut salt).map_err(|e| GovernanceError::Refused(format!("no randomness for an id: {e}")))?;
    Ok(format!("DC-{}-{}", haven_store::timestamp_now().replace([':', '-'], ""), haven_store::hex(&salt)))
}

/// Committed loads made under the agreement.
fn loads_under(store: &Store, dsa: &str) -> Result<Vec<LoadRecord>, GovernanceError> {
    Ok(store
        .catalog()
        .loads()?
        .into_iter()
        .filter(|l| l.status == LoadStatus::Committed && l.dsa.as_deref() == Some(dsa))
        .collect())
}

/// What one file loses; `None` when it keeps every row.
fn file_plan(store: &Store, file: &FileRecord, cutoff: Option<i32>) -> Result<Option<FileDestruction>, GovernanceError> {
    let date_col = Table::from_name(&file.dataset).and_then(Table::activity_date);
    let mut years = BTreeSet::new();
    let destroyed = match (cutoff, date_col) {
        (None, _) => {
            years.insert("all".to_owned());
            file.rows
        }
        (Some(_), None) => 0,
        (Some(cut), Some(col)) => {
            let mut n = 0u64;
            store.read_file(file, Some(&[col]), |batch| {
                let dates = date_column(batch, col)?;
                for d in dates.iter().flatten().filter(|&d| d < cut) {
                    n += 1;
                    let fy = Date::from_days(d).financial_year();
                    years.insert(format!("{fy}-{:02}", (fy + 1) % 100));
                }
                Ok(())
            })?;
            n
        }
    };
    if destroyed == 0 {
        return Ok(None);
    }
    Ok(Some(FileDestruction {
        load_id: file.load_id.clone(),
        zone: file.zone.name().to_owned(),
        dataset: file.dataset.clone(),
        path: file.path.clone(),
        sha256_before: file.sha256.clone(),
        rows_before: file.rows,
        rows_destroyed: destroyed,
        years: years.into_iter().collect(),
        sha256_after: None,
    }))
}

fn date_column<'a>(batch: &'a RecordBatch, col: &str) -> Result<&'a Date32Array, StoreError> {
    batch
        .column_by_name(col)
        .and_then(|c| c.as_any().downcast_ref::<Date32Array>())
        .ok_or_else(|| StoreError::Inconsistent(format!("column {col} is missing or not a date")))
}

/// Rewrites one load without its expired rows; returns the new load's id
/// and fills in `sha256_after` for its partly kept files.
fn rewrite_load(store: &mut Store, old_id: &str, cutoff: Option<i32>, cert_id: &str, plan: &mut [FileDestruction]) -> Result<String, GovernanceError> {
    let old = store.catalog().load(old_id)?.ok_or_else(|| StoreError::Inconsistent(format!("load {old_id} vanished")))?;
    let mut txn = store.begin_load()?;
    let mut kept_by_zone: Vec<ZoneCounts> = Vec::new();
    for (part, file) in store.catalog().load_files(old_id)?.into_iter().enumerate() {
        let entry = plan.iter_mut().find(|f| f.path == file.path);
        let kept = match entry {
            None => {
                store.carry_file(&mut txn, &file)?;
                file.rows
            }
            Some(entry) if entry.rows_destroyed == file.rows => 0,
            Some(entry) => {
                let record = write_kept(store, &txn, &file, cutoff.expect("partial only with a cutoff"), part)?;
                entry.sha256_after = Some(record.sha256.clone());
                let rows = record.rows;
                txn.add_file(record);
                rows
            }
        };
        tally(&mut kept_by_zone, file.zone, kept);
    }
    store.carry_quarantine(&txn, old_id)?;
    let destroyed: u64 = plan.iter().filter(|f| f.load_id == old_id).map(|f| f.rows_destroyed).sum();
    let record = LoadRecord {
        id: txn.id().to_owned(),
        operator: format!("retention {cert_id}"),
        started_at: haven_store::timestamp_now(),
        finished_at: haven_store::timestamp_now(),
        summary: serde_json::json!({"retention": {"certificate": cert_id, "replaces": old_id, "rows_destroyed": destroyed}}).to_string(),
        ..old.clone()
    };
    let dq = store.catalog().dq(old_id)?;
    let new_id = record.id.clone();
    store.commit(txn, &record, &kept_by_zone, &dq, &[old_id.to_owned()])?;
    Ok(new_id)
}

fn tally(counts: &mut Vec<ZoneCounts>, zone: haven_store::Zone, kept: u64) {
    let entry = match counts.iter_mut().find(|c| c.zone == Some(zone)) {
        Some(e) => e,
        None => {
            counts.push(ZoneCounts { zone: Some(zone), ..ZoneCounts::default() });
            counts.last_mut().expect("just pushed")
        }
    };
    // The new load's lineage describes what it holds: read = written = kept.
    entry.read += kept;
    entry.written += kept;
}

/// Writes the rows of `file` dated on or after the cutoff (or undated).
fn write_kept(store: &Store, txn: &haven_store::LoadTxn, file: &FileRecord, cutoff: i32, part: usize) -> Result<FileRecord, GovernanceError> {
    let col = Table::from_name(&file.dataset).and_then(Table::activity_date).expect("planned files are dated");
    let mut writer = None;
    store.read_file(file, None, |batch| {
        let dates = date_column(batch, col)?;
        let keep: BooleanArray = dates.iter().map(|d| Some(d.is_none_or(|d| d >= cutoff))).collect();
        let kept = filter_record_batch(batch, &keep).map_err(|e| StoreError::Inconsistent(e.to_string()))?;
        if writer.is_none() {
            writer = Some(txn.part_writer(file.zone, &file.dataset, batch.schema(), part)?);
        }
        writer.as_mut().expect("opened above").write(&kept)
    })?;
    match writer {
        Some(w) => Ok(w.finish()?),
        None => Err(StoreError::Inconsistent(format!("{} has no batches", file.path)).into()),
    }
}

/// Saves a certificate as JSON with its own SHA-256 beside it.
fn save(root: &Path, cert: &Certificate) -> Result<(), GovernanceError> {
    let dir = root.join("certificates");
    let io = |source| GovernanceError::Io { path: dir.display().to_string(), source };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let json = serde_json::to_string_pretty(cert).expect("certificates serialise");
    let sha = haven_store::hex(&Sha256::digest(json.as_bytes()));
    std::fs::write(dir.join(format!("{}.json", cert.id)), &json).map_err(io)?;
    std::fs::write(dir.join(format!("{}.json.sha256", cert.id)), format!("{sha}  {}.json\n", cert.id)).map_err(io)?;
    Ok(())
}

/// Every saved certificate, oldest first.
pub fn certificates(root: &Path) -> Result<Vec<(String, String)>, GovernanceError> {
    let dir = root.join("certificates");
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(out) };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".json") {
            let text = std::fs::read_to_string(e.path()).map_err(|source| GovernanceError::Io { path: e.path().display().to_string(), source })?;
            out.push((id.to_owned(), text));
        }
    }
    out.sort();
    Ok(out)
}

/// The SHA-256 of a saved certificate's JSON, as the audit entry records it.
pub fn certificate_sha256(root: &Path, id: &str) -> Result<String, GovernanceError> {
    let path = root.join("certificates").join(format!("{id}.json"));
    let text = std::fs::read(&path).map_err(|source| GovernanceError::Io { path: path.display().to_string(), source })?;
    Ok(haven_store::hex(&Sha256::digest(&text)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use haven_store::Zone;

    use super::*;

    fn demo() -> Dsa {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DSA-HAVEN-DEMO.toml");
        Dsa::from_toml("DSA-HAVEN-DEMO.toml", &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    /// Commits one load of `apc_episode` rows (EPIKEY, EPIEND) under `dsa`
    /// into the pseudonymised zone, plus an undated `gp_registration` file.
    fn load(store: &mut Store, dsa: &str, rows: &[(i64, Option<Date>)]) -> String {
        let schema = Arc::new(Schema::new(vec![Field::new("EPIKEY", DataType::Int64, false), Field::new("EPIEND", DataType::Date32, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())),
                Arc::new(Date32Array::from(rows.iter().map(|r| r.1.map(Date::days)).collect::<Vec<_>>())),
            ],
        )
        .unwrap();
        let mut txn = store.begin_load().unwrap();
        let mut w = txn.part_writer(Zone::Pseudonymised, "apc_episode", schema, 0).unwrap();
        w.write(&batch).unwrap();
        let f = w.finish().unwrap();
        txn.add_file(f);
        let reg_schema = Arc::new(Schema::new(vec![Field::new("PRACTICE", DataType::Int64, false)]));
        let reg = RecordBatch::try_new(reg_schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2]))]).unwrap();
        let mut w = txn.part_writer(Zone::Pseudonymised, "gp_registration", reg_schema, 1).unwrap();
        w.write(&reg).unwrap();
        let f = w.finish().unwrap();
        txn.add_file(f);
        let record = LoadRecord {
            id: txn.id().to_owned(),
            dataset: "apc_episode".into(),
            source_path: "apc.psv".into(),
            source_sha256: "00".into(),
            source_bytes: 1,
            dsa: Some(dsa.into()),
            dsa_version: Some(1),
            operator: "test".into(),
            started_at: "x".into(),
            finished_at: "x".into(),
            status: LoadStatus::Committed,
            key_ids: "{}".into(),
            summary: "{}".into(),
        };
        let id = record.id.clone();
        let n = rows.len() as u64 + 2;
        let counts = [ZoneCounts { zone: Some(Zone::Pseudonymised), read: n, written: n, ..ZoneCounts::default() }];
        store.commit(txn, &record, &counts, &[], &[]).unwrap();
        id
    }

    fn epikeys(store: &Store) -> Vec<i64> {
        let mut keys = Vec::new();
        store
            .scan(Zone::Pseudonymised, "apc_episode", &["EPIKEY"], |b| {
                let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                keys.extend(a.values().iter().copied());
                Ok(())
            })
            .unwrap();
        keys.sort();
        keys
    }

    #[test]
    fn the_window_keeps_the_retention_years_plus_the_current_year() {
        let dsa = demo(); // ten years, ends 2031-03-31
        // 2026-11-23 is in 2026-27; ten whole years before it start in 2016-17.
        assert_eq!(Window::of(&dsa, day(2026, 11, 23)).keep_from.as_deref(), Some("2016-04-01"));
        // On 31 March the current year is still 2026-27's predecessor.
        assert_eq!(Window::of(&dsa, day(2026, 3, 31)).keep_from.as_deref(), Some("2015-04-01"));
        let ended = Window::of(&dsa, day(2031, 4, 1));
        assert_eq!(ended.keep_from, None);
        assert!(ended.reason.contains("ended on 2031-03-31"));
    }

    #[test]
    fn expired_rows_are_destroyed_with_a_certificate_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_for_write(dir.path()).unwrap();
        let dsa = demo();
        // On 2026-11-23 the window starts 2016-04-01: keys 1 and 2 (2014-15
        // and 2016-03-31, the last day of 2015-16) go; 3 (the first day
        // kept), 4 (recent) and 5 (undated) stay.
        let old = load(
            &mut store,
            &dsa.id,
            &[(1, Some(day(2014, 6, 1))), (2, Some(day(2016, 3, 31))), (3, Some(day(2016, 4, 1))), (4, Some(day(2025, 1, 1))), (5, None)],
        );
        // A load under another agreement is not touched.
        let other = load(&mut store, "DSA-OTHER", &[(9, Some(day(2001, 1, 1)))]);
        let on = day(2026, 11, 23);

        let dry = apply(&mut store, &dsa, on, Run::DryRun { on }, "dee", "dscro").unwrap();
        assert!(dry.dry_run);
        assert_eq!(dry.rows_destroyed, 2);
        assert_eq!(dry.files.len(), 1, "the undated registration file keeps every row");
        assert_eq!(dry.files[0].years, ["2014-15", "2015-16"]);
        assert_eq!(dry.loads.len(), 1);
        assert_eq!((dry.loads[0].files, dry.loads[0].rows_destroyed), (1, 2));
        assert_eq!(epikeys(&store), [1, 2, 3, 4, 5, 9], "a dry run changes nothing");
        assert!(certificates(dir.path()).unwrap().is_empty());

        let cert = apply(&mut store, &dsa, on, Run::Destroy, "dee", "dscro").unwrap();
        assert_eq!(cert.rows_destroyed, 2);
        assert_eq!(epikeys(&store), [3, 4, 5, 9]);
        assert_eq!(cert.loads_rewritten.len(), 1);
        assert_eq!(cert.loads_rewritten[0].0, old);
        let f = &cert.files[0];
        assert_eq!((f.rows_before, f.rows_destroyed), (5, 2));
        assert_ne!(f.sha256_after.as_deref(), Some(f.sha256_before.as_str()));
        // The old load is superseded, its folder gone; the other agreement's load is intact.
        let loads = store.catalog().loads().unwrap();
        assert_eq!(loads.iter().find(|l| l.id == old).unwrap().status, LoadStatus::Superseded);
        assert!(!dir.path().join("zones/pseudonymised/apc_episode").join(&old).exists());
        assert!(loads.iter().any(|l| l.id == other && l.status == LoadStatus::Committed));
        // The registration file was carried over, not lost.
        let new = &cert.loads_rewritten[0].1;
        let files = store.catalog().load_files(new).unwrap();
        assert!(files.iter().any(|f| f.dataset == "gp_registration" && f.rows == 2));
        // The certificate is saved, hash-addressable, and holds no row values.
        let saved = certificates(dir.path()).unwrap();
        assert_eq!(saved.len(), 1);
        let json: serde_json::Value = serde_json::from_str(&saved[0].1).unwrap();
        assert_eq!(json["rows_destroyed"], 2);
        assert_eq!(json["files"][0]["sha256_after"].as_str(), f.sha256_after.as_deref());
        assert_eq!(certificate_sha256(dir.path(), &cert.id).unwrap().len(), 64);

        // A rerun finds nothing more to destroy.
        let again = apply(&mut store, &dsa, on, Run::Destroy, "dee", "dscro").unwrap();
        assert_eq!(again.rows_destroyed, 0);
        assert_eq!(epikeys(&store), [3, 4, 5, 9]);
    }

    // Issue 14 item 14: a load with several parts (a derived spells load has
    // two) or zones is listed once, its files summed.
    #[test]
    fn issue_14_a_plan_lists_each_load_once() {
        let f = |load: &str, zone: &str, part: u32, rows: u64| FileDestruction {
            load_id: load.into(),
            zone: zone.into(),
            dataset: "apc_spell_derived".into(),
            path: format!("zones/{zone}/x/{load}/part-{part}.parquet"),
            sha256_before: String::new(),
            rows_before: rows,
            rows_destroyed: rows,
            years: vec!["all".into()],
            sha256_after: None,
        };
        let files = [f("L1", "pseudonymised", 0, 430), f("L1", "pseudonymised", 1, 430), f("L2", "staging", 0, 5), f("L1", "national", 0, 1)];
        let loads = by_load(&files);
        assert_eq!(loads.len(), 2);
        assert_eq!((loads[0].load_id.as_str(), loads[0].files, loads[0].rows_destroyed), ("L1", 3, 861));
        assert_eq!(loads[0].zones, ["national", "pseudonymised"]);
        assert_eq!(loads[1].rows_before, 5);
    }

    // Issue 14 item 14: a destruction takes no date but today; a dry run no
    // date before today. "Today" is an argument, so no test depends on the
    // real date.
    #[test]
    fn issue_14_a_destruction_runs_as_of_today_and_a_plan_looks_only_ahead() {
        let today = day(2026, 11, 23);
        assert_eq!(Run::requested(today, false, None).unwrap(), Run::Destroy);
        let later = Run::requested(today, false, Some(day(2099, 1, 1))).unwrap_err().to_string();
        assert!(later.contains("as of today only"), "{later}");
        assert_eq!(Run::requested(today, true, None).unwrap(), Run::DryRun { on: today });
        assert_eq!(Run::requested(today, true, Some(day(2099, 1, 1))).unwrap(), Run::DryRun { on: day(2099, 1, 1) });
        let past = Run::requested(today, true, Some(day(2026, 11, 22))).unwrap_err().to_string();
        assert!(past.contains("looks ahead, not back"), "{past}");

        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_for_write(dir.path()).unwrap();
        let dsa = demo();
        load(&mut store, &dsa.id, &[(1, Some(day(2014, 6, 1))), (2, Some(day(2025, 1, 1)))]);
        // The library refuses a plan that looks back, whoever calls it.
        assert!(apply(&mut store, &dsa, today, Run::DryRun { on: day(2020, 1, 1) }, "dee", "dscro").is_err());
        // Looking ahead past the agreement's end plans everything, and changes nothing.
        let ahead = apply(&mut store, &dsa, today, Run::DryRun { on: day(2099, 1, 1) }, "dee", "dscro").unwrap();
        assert_eq!((ahead.rows_destroyed, ahead.on.as_str()), (4, "2099-01-01"));
        assert_eq!(epikeys(&store), [1, 2]);
        // A destruction draws the window on today: only the 2014 row goes.
        let cert = apply(&mut store, &dsa, today, Run::Destroy, "dee", "dscro").unwrap();
        assert_eq!((cert.rows_destroyed, cert.on.as_str()), (1, "2026-11-23"));
        assert_eq!(epikeys(&store), [2]);
    }

    #[test]
    fn an_ended_agreement_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_for_write(dir.path()).unwrap();
        let dsa = demo();
        load(&mut store, &dsa.id, &[(1, Some(day(2030, 6, 1))), (2, None)]);
        let cert = apply(&mut store, &dsa, day(2031, 4, 1), Run::Destroy, "dee", "dscro").unwrap();
        // Two episodes and two registrations: every row loaded under it.
        assert_eq!(cert.rows_destroyed, 4);
        assert!(epikeys(&store).is_empty());
        assert!(store.catalog().files(Zone::Pseudonymised, "gp_registration").unwrap().is_empty());
    }
}
