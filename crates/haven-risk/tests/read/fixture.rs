//! A hand-built store for the reader's tests: a few people's GP extract,
//! APC episodes, outpatient appointments, ECDS attendances and the LSOA
//! lookup, committed as Parquet loads under the demo agreement, and a
//! session opened by a signed-up analyst's governed grant.
//!
//! The store and grant calls are those of `haven-analytics/tests/indicators.rs`
//! (`commit`, `session_of`); they are test code of another crate, so they
//! cannot be imported, and are repeated here at the size this fixture needs.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef, Date32Array, Int32Array, StringArray};
use arrow::record_batch::RecordBatch;
use haven_governance::dsa::{Dsa, Purpose, Role};
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_model::schema::Table;
use haven_model::Date;
use haven_store::{LoadRecord, LoadStatus, Store, Zone, ZoneCounts, ZoneSession};

pub fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn text(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.iter().map(|s| (!s.is_empty()).then_some(*s)).collect::<Vec<_>>()))
}

fn dates(v: &[&str]) -> ArrayRef {
    Arc::new(Date32Array::from(v.iter().map(|s| (!s.is_empty()).then(|| day(s).days())).collect::<Vec<_>>()))
}

fn ints(v: &[Option<i32>]) -> ArrayRef {
    Arc::new(Int32Array::from(v.to_vec()))
}

/// A batch of `table`'s stored schema (`pseudonymised` drops the
/// identifiable columns): the given columns, nulls elsewhere.
fn batch(table: Table, pseudonymised: bool, cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = if pseudonymised { table.pseudonymised_schema() } else { table.schema() };
    let cols: HashMap<&str, ArrayRef> = cols.into_iter().collect();
    let n = cols.values().next().unwrap().len();
    let arrays = schema.fields().iter().map(|f| cols.get(f.name().as_str()).cloned().unwrap_or_else(|| new_null_array(f.data_type(), n))).collect();
    RecordBatch::try_new(schema, arrays).unwrap()
}

/// Column `k` of each row.
fn col<'a, const N: usize>(rows: &[[&'a str; N]], k: usize) -> Vec<&'a str> {
    rows.iter().map(|r| r[k]).collect()
}

/// APC episodes (the spells the tests work through):
/// epikey, person, SUSSPELLID, PROVSPNOPS, EPIORDER, ADMIMETH, CLASSPAT,
/// ADMIDATE, EPISTART, DISDATE, DIAG_4_01, DIAG_4_02.
pub const EPISODES: [[&str; 12]; 17] = [
    ["E01", "P1", "SUS1", "", "01", "21", "1", "2023-06-10", "2023-06-10", "", "I500", "J449"],
    ["E02", "P1", "SUS1", "", "02", "21", "1", "2023-06-10", "2023-06-12", "2023-06-15", "F03X", "R296"],
    ["E03", "P1", "SUS2", "", "01", "2A", "1", "2024-03-20", "2024-03-20", "2024-03-25", "N390", ""],
    ["E04", "P1", "SUS3", "", "01", "21", "1", "2024-04-01", "2024-04-01", "2024-04-03", "S000", ""],
    ["E05", "P1", "SUS4", "", "01", "11", "1", "2021-12-01", "2021-12-01", "2021-12-05", "C780", ""],
    ["E06", "P2", "SUS5", "", "01", "21", "1", "2024-05-01", "2024-05-01", "2024-05-02", "I500", ""],
    ["E07", "P3", "SUS6", "", "01", "21", "1", "2023-04-01", "2023-04-01", "2023-04-01", "E112", ""],
    ["E08", "P3", "SUS7", "", "01", "21", "1", "2023-04-02", "2023-04-02", "2023-04-02", "", ""],
    ["E09", "P3", "SUS8", "", "01", "22", "1", "2023-09-01", "2023-09-01", "2023-09-01", "", ""],
    ["E10", "P3", "SUS9", "", "01", "23", "1", "2024-01-10", "2024-01-10", "2024-01-10", "", ""],
    ["E11", "P3", "SUS10", "", "01", "21", "1", "2025-03-31", "2025-03-31", "2025-03-31", "", ""],
    ["E12", "P3", "SUS11", "", "01", "21", "1", "2025-04-01", "2025-04-01", "2025-04-01", "", ""],
    ["E13", "P6", "", "SP1", "01", "21", "1", "2023-03-20", "2023-03-20", "", "C780", ""],
    ["E14", "P6", "", "SP1", "02", "21", "1", "2023-03-20", "2023-03-25", "2023-04-12", "", ""],
    ["E15", "P6", "SUS12", "", "01", "12", "1", "2023-10-01", "2023-10-01", "2023-10-04", "", ""],
    ["E16", "P6", "SUS13", "", "01", "13", "3", "2023-11-01", "2023-11-01", "2023-11-01", "", ""],
    ["E17", "P7", "SUS14", "", "01", "21", "1", "2024-05-20", "2024-05-20", "2024-06-01", "I219", ""],
];

fn apc() -> RecordBatch {
    let e = &EPISODES;
    let names = ["EPIKEY", "TOKEN_PERSON_ID", "SUSSPELLID", "PROVSPNOPS", "EPIORDER", "ADMIMETH", "CLASSPAT"];
    let mut cols: Vec<(&str, ArrayRef)> = names.iter().enumerate().map(|(k, n)| (*n, text(&col(e, k)))).collect();
    cols.extend([("ADMIDATE", dates(&col(e, 7))), ("EPISTART", dates(&col(e, 8))), ("DISDATE", dates(&col(e, 9)))]);
    cols.extend([("DIAG_4_01", text(&col(e, 10))), ("DIAG_4_02", text(&col(e, 11))), ("PROCODE3", text(&["RAA"; 17]))]);
    batch(Table::ApcEpisode, true, cols)
}

/// Outpatient appointments: key, person, APPTDATE, ATTENDED.
const OUTPATIENTS: [[&str; 4]; 6] = [
    ["O1", "P1", "2023-05-01", "5"],
    ["O2", "P1", "2023-08-01", "3"],
    ["O3", "P1", "2024-04-02", "5"],
    ["O4", "P7", "2023-12-01", "6"],
    ["O5", "P7", "2024-02-01", "7"],
    ["O6", "P2", "2023-05-01", "5"],
];

/// ECDS attendances: key, person, ARRIVAL_DATE.
const ATTENDANCES: [[&str; 3]; 4] = [["A1", "P1", "2023-06-10"], ["A2", "P1", "2024-03-20"], ["A3", "P1", "2023-04-01"], ["A4", "P3", "2024-03-31"]];

/// Registrations: person, PRACTICE, REG_START, REG_END.
const REGISTRATIONS: [[&str; 4]; 8] = [
    ["P1", "A81001", "2010-01-01", ""],
    ["P2", "B82002", "2015-01-01", "2023-12-31"],
    ["P3", "B82002", "2000-01-01", "2024-03-31"],
    ["P3", "A81001", "2024-04-01", ""],
    ["P4", "B82002", "2024-02-10", ""],
    ["P5", "A81001", "2000-01-01", ""],
    ["P6", "B82002", "2022-05-01", ""],
    ["P7", "A81001", "2019-01-01", ""],
];

/// Patients: person, YEAR_OF_BIRTH, SEX, LSOA21, DATE_OF_DEATH (P6 has none).
const PATIENTS: [[&str; 5]; 6] = [
    ["P1", "1940", "2", "E01000001", ""],
    ["P2", "1960", "1", "E01000001", ""],
    ["P3", "1990", "1", "E01000002", ""],
    ["P4", "2024", "2", "", ""],
    ["P5", "1950", "1", "E01000002", "2024-02-01"],
    ["P7", "1945", "1", "E01000002", "2024-06-01"],
];

/// GP events: person, CODE, EVENT_DATE (SNOMED CT concepts: 1912002 fall,
/// 44054006 diabetes, 84114007 heart failure, 13645005 COPD; 195967001
/// asthma is not in the map).
const EVENTS: [[&str; 3]; 7] = [
    ["P1", "1912002", "2020-01-01"],
    ["P1", "84114007", "2024-05-01"],
    ["P1", "195967001", "2020-01-01"],
    ["P7", "44054006", "2019-02-01"],
    ["P7", "84114007", "2020-02-01"],
    ["P7", "13645005", "2021-02-01"],
    ["P7", "1912002", "2022-02-01"],
];

/// The operator's eFI code map for [`EVENTS`].
pub const MAP: &str = "deficit_number,code,term\n10,1912002,Fall\n7,44054006,Diabetes mellitus\n14,84114007,Heart failure\n28,13645005,COPD\n";

/// The operator's GP condition code map for [`EVENTS`]: asthma is mapped
/// here (though not in the eFI map), falls are not.
pub const CONDITION_MAP: &str = "condition,code,term\ndiabetes,44054006,Diabetes mellitus\nheart_failure,84114007,Heart failure\ncopd,13645005,COPD\nasthma,195967001,Asthma\n";

/// P1's ten chapter-2 substances (0205051F0 … 0205051O0).
pub fn p1_substances() -> Vec<String> {
    (0..10).map(|i| format!("0205051{}0", (b'F' + i) as char)).collect()
}

/// P7's five chapter-5 (infections) substances.
pub const P7_SUBSTANCES: [&str; 5] = ["0501013B0", "0501015P0", "0501021A0", "0501030I0", "0501040H0"];

/// Medicine issues: person, BNF_CODE, ISSUE_DATE.
fn medications() -> Vec<[String; 3]> {
    let mut rows: Vec<[String; 3]> = p1_substances().iter().map(|s| ["P1".into(), format!("{s}AAAAAA"), "2024-03-15".into()]).collect();
    rows.push(["P1".into(), "0205051F0AAABAB".into(), "2024-01-10".into()]);
    rows.push(["P1".into(), "0212000B0AAABAB".into(), "2023-03-01".into()]);
    rows.push(["P1".into(), "0209000A0AAAAAA".into(), "2024-04-02".into()]);
    rows.extend(P7_SUBSTANCES.iter().map(|s| ["P7".into(), format!("{s}AAAAAA"), "2023-06-01".into()]));
    rows
}

fn gp_tables() -> Vec<(Table, RecordBatch)> {
    let r = &REGISTRATIONS;
    let registration = batch(Table::GpRegistration, true, vec![("TOKEN_PERSON_ID", text(&col(r, 0))), ("PRACTICE", text(&col(r, 1))), ("REG_START", dates(&col(r, 2))), ("REG_END", dates(&col(r, 3)))]);
    let p = &PATIENTS;
    let yob: Vec<Option<i32>> = col(p, 1).iter().map(|y| y.parse().ok()).collect();
    let patient = batch(Table::GpPatient, true, vec![("TOKEN_PERSON_ID", text(&col(p, 0))), ("YEAR_OF_BIRTH", ints(&yob)), ("SEX", text(&col(p, 2))), ("LSOA21", text(&col(p, 3))), ("DATE_OF_DEATH", dates(&col(p, 4)))]);
    let e = &EVENTS;
    let event = batch(Table::GpEvent, true, vec![("TOKEN_PERSON_ID", text(&col(e, 0))), ("CODE", text(&col(e, 1))), ("EVENT_DATE", dates(&col(e, 2)))]);
    let m = medications();
    let m: Vec<[&str; 3]> = m.iter().map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str()]).collect();
    let medication = batch(Table::GpMedication, true, vec![("TOKEN_PERSON_ID", text(&col(&m, 0))), ("BNF_CODE", text(&col(&m, 1))), ("ISSUE_DATE", dates(&col(&m, 2)))]);
    vec![(Table::GpRegistration, registration), (Table::GpPatient, patient), (Table::GpEvent, event), (Table::GpMedication, medication)]
}

fn activity_tables() -> Vec<(Table, RecordBatch)> {
    let o = &OUTPATIENTS;
    let op = batch(Table::OpAttendance, true, vec![("ATTENDKEY", text(&col(o, 0))), ("TOKEN_PERSON_ID", text(&col(o, 1))), ("APPTDATE", dates(&col(o, 2))), ("ATTENDED", text(&col(o, 3)))]);
    let a = &ATTENDANCES;
    let ecds = batch(Table::EcdsAttendance, true, vec![("EC_IDENT", text(&col(a, 0))), ("TOKEN_PERSON_ID", text(&col(a, 1))), ("ARRIVAL_DATE", dates(&col(a, 2)))]);
    vec![(Table::ApcEpisode, apc()), (Table::OpAttendance, op), (Table::EcdsAttendance, ecds)]
}

/// The LSOA lookup: E01000001 (decile 3) came from two 2011 LSOAs.
fn lsoa_lookup() -> RecordBatch {
    let lsoa21 = text(&["E01000001", "E01000001", "E01000002"]);
    let lsoa11 = text(&["E01000101", "E01000102", "E01000201"]);
    batch(Table::LsoaLookup, false, vec![("LSOA21", lsoa21), ("LSOA11", lsoa11), ("IMD_DECILE", ints(&[Some(3), Some(3), Some(9)]))])
}

/// Commits `tables` to `zone` as one load under the demo agreement.
fn commit(store: &mut Store, zone: Zone, tables: &[(Table, RecordBatch)]) {
    let mut txn = store.begin_load().unwrap();
    for (i, (table, b)) in tables.iter().enumerate() {
        let mut w = txn.part_writer(zone, table.name(), b.schema(), i).unwrap();
        w.write(b).unwrap();
        let f = w.finish().unwrap();
        txn.add_file(f);
    }
    let record = LoadRecord {
        id: txn.id().to_owned(),
        dataset: tables[0].0.name().into(),
        source_path: format!("fixture-{}", zone.name()),
        source_sha256: zone.name().into(),
        source_bytes: 0,
        dsa: Some("DSA-HAVEN-DEMO".into()),
        dsa_version: Some(1),
        operator: "test".into(),
        started_at: "x".into(),
        finished_at: "x".into(),
        status: LoadStatus::Committed,
        key_ids: "{}".into(),
        summary: "{}".into(),
    };
    let counts = [ZoneCounts { zone: Some(zone), ..ZoneCounts::default() }];
    store.commit(txn, &record, &counts, &[], &[]).unwrap();
}

/// The store, kept alive as long as its sessions.
pub struct Fixture {
    dir: tempfile::TempDir,
    store: Store,
}

impl Fixture {
    pub fn build() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_for_write(dir.path()).unwrap();
        let mut person_level = activity_tables();
        person_level.extend(gp_tables());
        commit(&mut store, Zone::Pseudonymised, &person_level);
        commit(&mut store, Zone::Reference, &[(Table::LsoaLookup, lsoa_lookup())]);
        Fixture { dir, store }
    }

    /// A session of an analyst under the demo agreement for `purpose`.
    pub fn session(&self, purpose: Purpose) -> ZoneSession {
        let mut users = Users::open(self.dir.path()).unwrap();
        if users.get("ana").ok().flatten().is_none() {
            users.add("ana", Role::Analyst, None, "a long enough passphrase").unwrap();
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DSA-HAVEN-DEMO.toml");
        let dsa = Dsa::from_toml("DSA-HAVEN-DEMO.toml", &std::fs::read_to_string(path).unwrap()).unwrap();
        let g = grant(&users, "ana", Role::Analyst, purpose, &dsa, Date::from_ymd(2026, 11, 23).unwrap()).unwrap();
        ZoneSession::open(&self.store, &g).unwrap()
    }
}
