//! The store's promises: a load is visible all at once or not at all,
//! debris from a dead load is removed, `--replace` supersedes, a session
//! sees only its zones and runs only queries, and a GP sees only the
//! patients currently registered with the practice.

use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use haven_model::Date;
use haven_store::{LoadRecord, LoadStatus, ReadGrant, Store, StoreError, Zone, ZoneCounts, ZoneSession};

/// A bare grant for the store's own tests; outside them only
/// haven-governance implements `ReadGrant` (xtask tidy).
struct TestGrant(Vec<Zone>);

impl ReadGrant for TestGrant {
    fn zones(&self) -> &[Zone] {
        &self.0
    }
    fn practice(&self) -> Option<&str> {
        None
    }
    fn date(&self) -> Date {
        session_day()
    }
    fn admits(&self, _zone: Zone, _dataset: &str, _agreements: &[Option<String>]) -> bool {
        true
    }
}

/// A grant that opens only data whose every load ran under one agreement.
struct UnderGrant(Vec<Zone>, &'static str);

impl ReadGrant for UnderGrant {
    fn zones(&self) -> &[Zone] {
        &self.0
    }
    fn practice(&self) -> Option<&str> {
        None
    }
    fn date(&self) -> Date {
        session_day()
    }
    fn admits(&self, _zone: Zone, _dataset: &str, agreements: &[Option<String>]) -> bool {
        agreements.iter().all(|a| a.as_deref() == Some(self.1))
    }
}

/// The day the tests' sessions run on: fixed, so no test depends on today.
fn session_day() -> Date {
    Date::from_ymd(2025, 1, 1).unwrap()
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("EPIKEY", DataType::Utf8, false),
        Field::new("N", DataType::Int64, true),
    ]))
}

fn batch(keys: &[&str]) -> RecordBatch {
    let n: Vec<i64> = (0..keys.len() as i64).collect();
    RecordBatch::try_new(
        schema(),
        vec![Arc::new(StringArray::from(keys.to_vec())), Arc::new(Int64Array::from(n))],
    )
    .unwrap()
}

fn record(id: &str, sha: &str) -> LoadRecord {
    LoadRecord {
        id: id.into(),
        dataset: "apc_episode".into(),
        source_path: "/in/apc_episode.psv".into(),
        source_sha256: sha.into(),
        source_bytes: 10,
        dsa: Some("DSA-1".into()),
        dsa_version: Some(1),
        operator: "tester".into(),
        started_at: haven_store::timestamp_now(),
        finished_at: haven_store::timestamp_now(),
        status: LoadStatus::Committed,
        key_ids: "{}".into(),
        summary: "{}".into(),
    }
}

/// Writes `keys` into zone `zone` and commits; returns the load id.
fn load(store: &mut Store, zone: Zone, keys: &[&str], sha: &str, replaces: &[String]) -> String {
    let mut txn = store.begin_load().unwrap();
    let mut w = txn.part_writer(zone, "apc_episode", schema(), 0).unwrap();
    w.write(&batch(keys)).unwrap();
    txn.add_file(w.finish().unwrap());
    let id = txn.id().to_owned();
    let counts = [ZoneCounts { zone: Some(zone), read: keys.len() as u64, written: keys.len() as u64, ..Default::default() }];
    store.commit(txn, &record(&id, sha), &counts, &[], replaces).unwrap();
    id
}

fn count(store: &Store, zone: Zone) -> u64 {
    let session = ZoneSession::open(store, &TestGrant(vec![zone])).unwrap();
    session.count_rows(zone, "apc_episode").unwrap()
}

#[test]
fn a_committed_load_is_visible_with_lineage_and_file_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    let id = load(&mut store, Zone::Pseudonymised, &["1", "2", "3"], "aa", &[]);
    assert_eq!(count(&store, Zone::Pseudonymised), 3);
    let files = store.catalog().load_files(&id).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].rows, 3);
    assert_eq!(files[0].sha256.len(), 64);
    let on_disk = std::fs::read(dir.path().join(&files[0].path)).unwrap();
    assert_eq!(on_disk.len() as u64, files[0].bytes);
    let counts = store.catalog().counts(&id).unwrap();
    assert!(counts[0].reconciles() && counts[0].written == 3);
    assert_eq!(store.catalog().committed_load("apc_episode", "aa").unwrap().unwrap().id, id);
    assert!(store.catalog().committed_load("apc_episode", "bb").unwrap().is_none());
}

#[test]
fn an_abandoned_or_killed_load_leaves_nothing_visible_and_is_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    load(&mut store, Zone::Staging, &["1"], "aa", &[]);
    // A load that is dropped before commit removes its own folder.
    {
        let txn = store.begin_load().unwrap();
        let mut w = txn.part_writer(Zone::Staging, "apc_episode", schema(), 0).unwrap();
        w.write(&batch(&["9"])).unwrap();
    }
    // A load whose process dies (no destructor runs) leaves debris, both in
    // tmp/ and, if it died mid-publish, inside a zone.
    let txn = store.begin_load().unwrap();
    let mut w = txn.part_writer(Zone::Staging, "apc_episode", schema(), 0).unwrap();
    w.write(&batch(&["7", "8"])).unwrap();
    std::mem::forget(w);
    let dead_id = txn.id().to_owned();
    std::mem::forget(txn);
    let fake = dir.path().join("zones/staging/apc_episode").join(&dead_id);
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("part-00000.parquet"), b"partial").unwrap();
    assert_eq!(count(&store, Zone::Staging), 1, "debris is never read");
    drop(store);
    let store = Store::open_for_write(dir.path()).unwrap();
    assert!(!fake.exists());
    assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    assert_eq!(count(&store, Zone::Staging), 1);
}

#[test]
fn replace_supersedes_and_deletes_the_old_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    let old = load(&mut store, Zone::Staging, &["1", "2"], "aa", &[]);
    let old_files = store.catalog().load_files(&old).unwrap();
    load(&mut store, Zone::Staging, &["1", "2", "3"], "aa", std::slice::from_ref(&old));
    assert_eq!(count(&store, Zone::Staging), 3, "not 5: the old load no longer counts");
    assert_eq!(store.catalog().load(&old).unwrap().unwrap().status, LoadStatus::Superseded);
    assert!(!dir.path().join(&old_files[0].path).exists());
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open_for_write(dir.path()).unwrap();
    assert!(matches!(Store::open_for_write(dir.path()), Err(StoreError::Locked(_))));
    let reader = Store::open(dir.path()).unwrap();
    assert!(reader.begin_load().is_err(), "a read-only store cannot load");
}

#[test]
fn a_session_sees_only_its_zones() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    load(&mut store, Zone::Staging, &["1"], "aa", &[]);
    load(&mut store, Zone::Pseudonymised, &["1", "2"], "bb", &[]);
    let session = ZoneSession::open(&store, &TestGrant(vec![Zone::Pseudonymised])).unwrap();
    assert_eq!(session.count_rows(Zone::Pseudonymised, "apc_episode").unwrap(), 2);
    assert!(matches!(
        session.count_rows(Zone::Staging, "apc_episode"),
        Err(StoreError::ZoneNotInScope { .. })
    ));
    let err = session.sql("SELECT * FROM staging.apc_episode").unwrap_err().to_string();
    assert!(err.to_lowercase().contains("staging"), "{err}");
}

// Issue 14 item 5: the store asks the grant about each dataset with the
// agreements its loads ran under, and does not register what it refuses.
#[test]
fn issue_14_a_session_registers_only_datasets_its_grant_admits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    load(&mut store, Zone::Pseudonymised, &["1", "2"], "aa", &[]);
    let under = ZoneSession::open(&store, &UnderGrant(vec![Zone::Pseudonymised], "DSA-1")).unwrap();
    assert_eq!(under.count_rows(Zone::Pseudonymised, "apc_episode").unwrap(), 2);
    let other = ZoneSession::open(&store, &UnderGrant(vec![Zone::Pseudonymised], "DSA-2")).unwrap();
    let err = other.count_rows(Zone::Pseudonymised, "apc_episode").unwrap_err().to_string();
    assert!(err.contains("apc_episode"), "{err}");
}

struct GpGrant(Vec<Zone>, &'static str);

impl ReadGrant for GpGrant {
    fn zones(&self) -> &[Zone] {
        &self.0
    }
    fn practice(&self) -> Option<&str> {
        Some(self.1)
    }
    fn date(&self) -> Date {
        session_day()
    }
    fn admits(&self, _zone: Zone, _dataset: &str, _agreements: &[Option<String>]) -> bool {
        true
    }
}

/// Writes a two-column string dataset and commits it.
fn load_pairs(store: &mut Store, zone: Zone, dataset: &str, cols: [&str; 2], rows: &[(&str, &str)], sha: &str) {
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new(cols[0], DataType::Utf8, true),
        Field::new(cols[1], DataType::Utf8, true),
    ]));
    let a: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let b: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(a)), Arc::new(StringArray::from(b))]).unwrap();
    let mut txn = store.begin_load().unwrap();
    let mut w = txn.part_writer(zone, dataset, schema, 0).unwrap();
    w.write(&batch).unwrap();
    txn.add_file(w.finish().unwrap());
    let id = txn.id().to_owned();
    let mut rec = record(&id, sha);
    rec.dataset = dataset.into();
    store.commit(txn, &rec, &[], &[], &[]).unwrap();
}

#[test]
fn a_gp_grant_sees_only_its_practices_patients() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    // The re-identification map: tokens t1, t2 at A81001; t3 at B82002.
    let map = [("t1", "A81001", "2020-01-01", None), ("t2", "A81001", "2020-01-01", None), ("t3", "B82002", "2020-01-01", None)];
    load_batch(&mut store, Zone::DirectCare, "gp_registration", registrations(&map), "m");
    // Pseudonymised activity: two rows for t1, one each for t3 and t4.
    load_pairs(&mut store, Zone::Pseudonymised, "apc_episode", ["TOKEN_PERSON_ID", "EPIKEY"], &[("t1", "1"), ("t1", "2"), ("t3", "3"), ("t4", "4")], "a");
    load_pairs(&mut store, Zone::Reference, "org", ["ORG_CODE", "ORG_TYPE"], &[("A81001", "GP_PRACTICE"), ("B82002", "GP_PRACTICE")], "o");
    let gp = GpGrant(vec![Zone::Pseudonymised, Zone::DirectCare, Zone::Reference], "A81001");
    let session = ZoneSession::open(&store, &gp).unwrap();
    assert_eq!(session.count_rows(Zone::Pseudonymised, "apc_episode").unwrap(), 2, "only t1's two rows");
    assert_eq!(session.count_rows(Zone::DirectCare, "gp_registration").unwrap(), 2, "only A81001's map rows");
    assert_eq!(session.count_rows(Zone::Reference, "org").unwrap(), 2, "reference data is not person-level");
    let all = ZoneSession::open(&store, &TestGrant(vec![Zone::Pseudonymised])).unwrap();
    assert_eq!(all.count_rows(Zone::Pseudonymised, "apc_episode").unwrap(), 4);
}

fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Commits one batch as a load of `zone`.`dataset`.
fn load_batch(store: &mut Store, zone: Zone, dataset: &str, batch: RecordBatch, sha: &str) {
    let mut txn = store.begin_load().unwrap();
    let mut w = txn.part_writer(zone, dataset, batch.schema(), 0).unwrap();
    w.write(&batch).unwrap();
    txn.add_file(w.finish().unwrap());
    let id = txn.id().to_owned();
    let mut rec = record(&id, sha);
    rec.dataset = dataset.into();
    store.commit(txn, &rec, &[], &[], &[]).unwrap();
}

/// A `gp_registration` batch: (token, practice, REG_START, REG_END).
fn registrations(rows: &[(&str, &str, &str, Option<&str>)]) -> RecordBatch {
    let day = |s: &str| Date::parse(s).unwrap().days();
    let schema = Arc::new(Schema::new(vec![
        Field::new("TOKEN_PERSON_ID", DataType::Utf8, true),
        Field::new("PRACTICE", DataType::Utf8, true),
        Field::new("REG_START", DataType::Date32, true),
        Field::new("REG_END", DataType::Date32, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        strings(&rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        strings(&rows.iter().map(|r| r.1).collect::<Vec<_>>()),
        Arc::new(Date32Array::from(rows.iter().map(|r| Some(day(r.2))).collect::<Vec<_>>())),
        Arc::new(Date32Array::from(rows.iter().map(|r| r.3.map(day)).collect::<Vec<_>>())),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// The sorted values of one text column of a query's result.
fn column(session: &ZoneSession, sql: &str) -> Vec<String> {
    let mut out: Vec<String> = session
        .sql(sql)
        .unwrap()
        .iter()
        .flat_map(|b| {
            // DataFusion may read text as Utf8View; compare as plain strings.
            let c = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
            let c = c.as_any().downcast_ref::<StringArray>().unwrap().clone();
            c.iter().map(|v| v.unwrap_or_default().to_owned()).collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out
}

// issue 14 §9: a GP saw patients who had left the practice, and every row
// of tables without TOKEN_PERSON_ID (critical care periods).
#[test]
fn issue_14_a_gp_sees_only_current_patients_in_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    // The session runs on 2025-01-01. "cur" is registered at A81001 with no
    // end; "ends" until the end of 2025 (still registered); "left" left
    // A81001 in 2023 for B82002; "other" has only ever been at B82002;
    // "future" registers at A81001 only in 2026.
    let map = [
        ("cur", "A81001", "2020-01-01", None),
        ("ends", "A81001", "2018-05-01", Some("2025-12-31")),
        ("left", "A81001", "2019-01-01", Some("2023-06-30")),
        ("left", "B82002", "2023-07-01", None),
        ("other", "B82002", "2021-03-01", None),
        ("future", "A81001", "2026-02-01", None),
    ];
    load_batch(&mut store, Zone::DirectCare, "gp_registration", registrations(&map), "m");
    let episodes = RecordBatch::try_from_iter(vec![
        ("TOKEN_PERSON_ID", strings(&["cur", "cur", "ends", "left", "other", "future"])),
        ("EPIKEY", strings(&["e1", "e2", "e3", "e4", "e5", "e6"])),
    ])
    .unwrap();
    load_batch(&mut store, Zone::Pseudonymised, "apc_episode", episodes, "a");
    // Critical care periods carry no person token: they belong to patients
    // through their APC episode.
    let cc = RecordBatch::try_from_iter(vec![
        ("SUSRECID", strings(&["s1", "s3", "s4", "s5", "s6"])),
        ("EPIKEY", strings(&["e1", "e3", "e4", "e5", "e6"])),
        ("CCPERNUM", strings(&["1", "1", "1", "1", "1"])),
    ])
    .unwrap();
    load_batch(&mut store, Zone::Pseudonymised, "cc_period", cc, "c");
    // A person-level table the filter has no way into.
    let unlinked = RecordBatch::try_from_iter(vec![("SOME_PERSON", strings(&["cur", "left"]))]).unwrap();
    load_batch(&mut store, Zone::Pseudonymised, "unlinked", unlinked, "u");
    load_pairs(&mut store, Zone::Reference, "org", ["ORG_CODE", "ORG_TYPE"], &[("A81001", "GP_PRACTICE"), ("B82002", "GP_PRACTICE")], "o");

    let gp = ZoneSession::open(&store, &GpGrant(vec![Zone::Pseudonymised, Zone::DirectCare, Zone::Reference], "A81001")).unwrap();
    assert_eq!(column(&gp, "SELECT \"EPIKEY\" FROM pseudonymised.apc_episode"), ["e1", "e2", "e3"]);
    assert_eq!(column(&gp, "SELECT \"EPIKEY\" FROM pseudonymised.cc_period"), ["e1", "e3"]);
    assert_eq!(column(&gp, "SELECT \"TOKEN_PERSON_ID\" FROM direct_care.gp_registration"), ["cur", "ends"]);
    let err = gp.sql("SELECT * FROM pseudonymised.unlinked").unwrap_err().to_string();
    assert!(err.contains("unlinked"), "a table the GP filter cannot reach is not there: {err}");
    assert_eq!(gp.count_rows(Zone::Reference, "org").unwrap(), 2, "reference data is not person-level");

    // The other practice sees its own current patients, "left" included.
    let other = ZoneSession::open(&store, &GpGrant(vec![Zone::Pseudonymised, Zone::DirectCare], "B82002")).unwrap();
    assert_eq!(column(&other, "SELECT \"EPIKEY\" FROM pseudonymised.cc_period"), ["e4", "e5"]);
    // Without a practice nothing is filtered.
    let all = ZoneSession::open(&store, &TestGrant(vec![Zone::Pseudonymised])).unwrap();
    assert_eq!(all.count_rows(Zone::Pseudonymised, "cc_period").unwrap(), 5);
    assert_eq!(all.count_rows(Zone::Pseudonymised, "unlinked").unwrap(), 2);
}

// issue 14 §12: a session ran any SQL, so `CREATE EXTERNAL TABLE` or `COPY`
// reached files outside its zones and the GP filter.
#[test]
fn issue_14_a_session_runs_queries_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    load(&mut store, Zone::Staging, &["1"], "aa", &[]);
    load(&mut store, Zone::Pseudonymised, &["1", "2"], "bb", &[]);
    let staging_file = store.dataset_files(Zone::Staging, "apc_episode").unwrap().remove(0);
    let session = ZoneSession::open(&store, &TestGrant(vec![Zone::Pseudonymised])).unwrap();
    let copy_to = dir.path().join("copied.parquet");
    let refused = [
        format!("CREATE EXTERNAL TABLE leak STORED AS PARQUET LOCATION '{}'", staging_file.display()),
        "CREATE VIEW v AS SELECT * FROM pseudonymised.apc_episode".to_owned(),
        "CREATE TABLE t AS SELECT * FROM pseudonymised.apc_episode".to_owned(),
        "DROP TABLE pseudonymised.apc_episode".to_owned(),
        "INSERT INTO pseudonymised.apc_episode VALUES ('3', 3)".to_owned(),
        format!("COPY (SELECT * FROM pseudonymised.apc_episode) TO '{}' STORED AS PARQUET", copy_to.display()),
        "SET datafusion.execution.batch_size = 1".to_owned(),
    ];
    for sql in &refused {
        match session.sql(sql) {
            Err(StoreError::NotAQuery(_)) => {}
            other => panic!("{sql}: expected NotAQuery, got {:?}", other.map(|b| b.len())),
        }
    }
    assert!(!copy_to.exists(), "COPY wrote nothing");
    assert!(session.sql("SELECT * FROM leak").is_err(), "no external table was created");
    assert!(session.sql(&format!("SELECT * FROM '{}'", staging_file.display())).is_err(), "a file path is not a table");
    assert_eq!(session.count_rows(Zone::Pseudonymised, "apc_episode").unwrap(), 2, "nothing dropped or inserted");
    let rows: usize = session.sql("SELECT \"EPIKEY\" FROM pseudonymised.apc_episode WHERE \"N\" >= 0").unwrap().iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 2, "a plain SELECT still works");
}

// issue 14 §10: the data directory is created owner-only, and one that
// group or others can open is refused.
#[test]
fn issue_14_the_data_directory_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("new");
    drop(Store::open(&root).unwrap());
    for d in [root.clone(), root.join("zones"), root.join("quarantine"), root.join("tmp")] {
        assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700, "{}", d.display());
    }
    // A new, empty folder made with the usual umask is made owner-only; a
    // group- or world-writable one is refused even when empty.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o755)).unwrap();
    drop(Store::open(&empty).unwrap());
    assert_eq!(std::fs::metadata(&empty).unwrap().permissions().mode() & 0o777, 0o700);
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(Store::open(&shared), Err(StoreError::OpenToOthers { .. })));
    // A data directory with contents is never loosened into use.
    for mode in [0o755, 0o750, 0o701, 0o720] {
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(mode)).unwrap();
        assert!(matches!(Store::open(&root), Err(StoreError::OpenToOthers { .. })), "{mode:o}");
        assert!(matches!(Store::open_for_write(&root), Err(StoreError::OpenToOthers { .. })), "{mode:o}");
    }
}

// Issue 14 item 5: a catalog made before loads recorded their agreement
// version gains the column on open; its loads read as version unknown.
#[test]
fn issue_14_an_older_catalog_gains_dsa_version_on_open() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let db = rusqlite::Connection::open(dir.path().join("catalog.sqlite")).unwrap();
    db.execute_batch(
        "CREATE TABLE loads (id TEXT PRIMARY KEY, dataset TEXT NOT NULL, source_path TEXT NOT NULL, \
         source_name TEXT NOT NULL, source_sha256 TEXT NOT NULL, source_bytes INTEGER NOT NULL, dsa TEXT, \
         operator TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, status TEXT NOT NULL, \
         key_ids TEXT NOT NULL, summary TEXT NOT NULL, seq INTEGER NOT NULL); \
         INSERT INTO loads VALUES ('L-OLD', 'apc_episode', '/in/a.psv', 'a.psv', 'aa', 1, 'DSA-1', 'op', 'x', 'x', \
         'committed', '{}', '{}', 1);",
    )
    .unwrap();
    drop(db);
    let mut store = Store::open_for_write(dir.path()).unwrap();
    let old = store.catalog().load("L-OLD").unwrap().unwrap();
    assert_eq!((old.dsa.as_deref(), old.dsa_version), (Some("DSA-1"), None));
    let id = load(&mut store, Zone::Pseudonymised, &["1"], "bb", &[]);
    assert_eq!(store.catalog().load(&id).unwrap().unwrap().dsa_version, Some(1));
}
