//! Golden tests: a dozen hand-built spells and five A&E attendances whose
//! indicator values are worked out by hand below, run through the real
//! engine (Parquet in a store, a governed DataFusion session).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef, Date32Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use haven_analytics::{compute, find, Breakdown, Period, Scope, Source, Table};
use haven_governance::disclosure::{Cell, Policy};
use haven_governance::dsa::{Dsa, Purpose, Role};
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_model::schema::Table as Dataset;
use haven_model::Date;
use haven_store::{LoadRecord, LoadStatus, Store, Zone, ZoneCounts, ZoneSession};

#[path = "indicators/real_shape.rs"]
mod real_shape;

fn d(s: &str) -> Option<i32> {
    (!s.is_empty()).then(|| Date::parse(s).unwrap().days())
}

/// A batch of `table`'s pseudonymised schema: the given columns, nulls elsewhere.
fn batch(table: Dataset, cols: HashMap<&str, ArrayRef>) -> RecordBatch {
    let schema = table.pseudonymised_schema();
    let n = cols.values().next().unwrap().len();
    let arrays = schema
        .fields()
        .iter()
        .map(|f| match cols.get(f.name().as_str()) {
            Some(a) => {
                assert_eq!(a.data_type(), f.data_type(), "{}", f.name());
                a.clone()
            }
            None => new_null_array(f.data_type(), n),
        })
        .collect();
    RecordBatch::try_new(schema, arrays).unwrap()
}

fn text(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.iter().map(|s| (!s.is_empty()).then_some(*s)).collect::<Vec<_>>()))
}
fn dates(v: &[&str]) -> ArrayRef {
    Arc::new(Date32Array::from(v.iter().map(|s| d(s)).collect::<Vec<_>>()))
}
fn ints(v: &[Option<i64>], ty: &DataType) -> ArrayRef {
    match ty {
        DataType::Int32 => Arc::new(Int32Array::from(v.iter().map(|x| x.map(|x| x as i32)).collect::<Vec<_>>())),
        _ => Arc::new(Int64Array::from(v.to_vec())),
    }
}

type S = &'static str;
/// spell, person, epiorder, admimeth, classpat, admidate, epiend, disdate,
/// disdest, dismeth, provider, age, elecdur, ready date, mainspef.
type Ep = (S, S, S, S, S, S, S, S, S, S, S, i64, Option<i64>, S, S);

/// Spells S1–S13 (one row per episode; S11 has two). S13 is discharged in
/// 2023-24, outside the period, and only matters as P1's history.
fn apc() -> RecordBatch {
    let schema = Dataset::ApcEpisode.pseudonymised_schema();
    let ty = |c: &str| schema.field_with_name(c).unwrap().data_type().clone();
    //                 spell   person epiorder admimeth classpat admidate      epiend        disdate       disdest dismeth provider age  elecdur ready        mainspef
    let rows: [Ep; 14] = [
        ("S1", "P1", "01", "21", "1", "2024-05-01", "2024-05-04", "2024-05-04", "19", "1", "RAA", 70, None, "", "300"),
        ("S2", "P1", "01", "21", "1", "2024-05-20", "2024-05-20", "2024-05-20", "54", "1", "RAA", 70, None, "", "300"),
        ("S3", "P2", "01", "11", "1", "2024-06-01", "2024-06-03", "2024-06-03", "19", "1", "RBB", 70, Some(40), "", "100"),
        ("S4", "P2", "01", "22", "1", "2024-07-10", "2024-07-15", "2024-07-15", "19", "1", "RBB", 70, None, "", "300"),
        ("S5", "P3", "01", "21", "1", "2024-08-01", "2024-08-01", "2024-08-01", "19", "1", "RAA", 70, None, "", "300"),
        ("S6", "P3", "01", "21", "1", "2024-08-31", "2024-09-02", "2024-09-02", "79", "4", "RAA", 70, None, "", "300"),
        ("S7", "P4", "01", "12", "2", "2024-09-10", "2024-09-10", "2024-09-10", "19", "1", "RBB", 70, Some(10), "", "100"),
        ("S8", "P4", "01", "21", "1", "2024-09-15", "2024-09-25", "2024-09-25", "19", "1", "RBB", 70, None, "2024-09-20", "300"),
        ("S9", "P5", "01", "31", "1", "2024-10-01", "2024-10-03", "2024-10-03", "19", "1", "RAA", 70, None, "", "501"),
        ("S10", "P5", "01", "21", "1", "2024-10-10", "2024-10-12", "2024-10-12", "19", "1", "RAA", 70, None, "", "501"),
        ("S11", "P6", "01", "21", "1", "2024-11-01", "2024-11-03", "", "", "", "RAA", 85, None, "", "300"),
        ("S11", "P6", "02", "21", "1", "2024-11-01", "2024-11-08", "2024-11-08", "65", "1", "RAA", 85, None, "", "300"),
        ("S12", "P6", "01", "2A", "1", "2024-12-07", "2024-12-08", "2024-12-08", "19", "1", "RAA", 85, None, "", "300"),
        ("S13", "P1", "01", "21", "1", "2024-03-15", "2024-03-20", "2024-03-20", "19", "1", "RAA", 69, None, "", "300"),
    ];
    let col = |f: fn(&Ep) -> &'static str| {
        rows.iter().map(f).collect::<Vec<&str>>()
    };
    let mut c: HashMap<&str, ArrayRef> = HashMap::new();
    c.insert("EPIKEY", text(&rows.iter().enumerate().map(|(i, _)| ["E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10", "E11", "E12", "E13", "E14"][i]).collect::<Vec<_>>()));
    c.insert("PROVSPNOPS", text(&col(|r| r.0)));
    c.insert("TOKEN_PERSON_ID", text(&col(|r| r.1)));
    c.insert("EPIORDER", text(&col(|r| r.2)));
    c.insert("ADMIMETH", text(&col(|r| r.3)));
    c.insert("CLASSPAT", text(&col(|r| r.4)));
    c.insert("ADMIDATE", dates(&col(|r| r.5)));
    c.insert("EPIEND", dates(&col(|r| r.6)));
    c.insert("DISDATE", dates(&col(|r| r.7)));
    c.insert("DISDEST", text(&col(|r| r.8)));
    c.insert("DISMETH", text(&col(|r| r.9)));
    c.insert("PROCODE3", text(&col(|r| r.10)));
    c.insert("STARTAGE", ints(&rows.iter().map(|r| Some(r.11)).collect::<Vec<_>>(), &ty("STARTAGE")));
    c.insert("ELECDUR", ints(&rows.iter().map(|r| r.12).collect::<Vec<_>>(), &ty("ELECDUR")));
    c.insert("DISREADYDATE", dates(&col(|r| r.13)));
    c.insert("MAINSPEF", text(&col(|r| r.14)));
    c.insert("SEX", text(&rows.iter().map(|r| if r.1 == "P6" { "2" } else { "1" }).collect::<Vec<_>>()));
    batch(Dataset::ApcEpisode, c)
}

/// Six attendances: Monday 3 June 2024 09:00 (200 min, admitted), Monday
/// 19:00 (300 min), Saturday 8 June 10:00 (240 min), Tuesday 18:29 (no
/// departure interval), Wednesday 07:59 (241 min), and Monday 26 August
/// 10:00 — the summer bank holiday (no departure interval).
fn ecds() -> RecordBatch {
    let schema = Dataset::EcdsAttendance.pseudonymised_schema();
    let ty = |c: &str| schema.field_with_name(c).unwrap().data_type().clone();
    let mut c: HashMap<&str, ArrayRef> = HashMap::new();
    c.insert("EC_IDENT", text(&["A1", "A2", "A3", "A4", "A5", "A6"]));
    c.insert("ARRIVAL_DATE", dates(&["2024-06-03", "2024-06-03", "2024-06-08", "2024-06-04", "2024-06-05", "2024-08-26"]));
    c.insert("ARRIVAL_TIME", text(&["09:00", "19:00", "10:00", "18:29", "07:59", "10:00"]));
    c.insert("DEPARTURE_TIME_SINCE_ARRIVAL", ints(&[Some(200), Some(300), Some(240), None, Some(241), None], &ty("DEPARTURE_TIME_SINCE_ARRIVAL")));
    c.insert("DISCHARGE_DESTINATION", text(&["306706006", "", "", "", "", ""]));
    c.insert("DEPARTMENT_TYPE", text(&["01", "01", "01", "01", "01", "01"]));
    c.insert("PROVIDER_CODE", text(&["RAA", "RAA", "RAA", "RAA", "RAA", "RAA"]));
    batch(Dataset::EcdsAttendance, c)
}

struct Fixture {
    _dir: tempfile::TempDir,
    session: ZoneSession,
}

/// The fixture twice: spells derived by the engine's SQL from episodes (the
/// reference definition), and read from the `apc_spell_derived` dataset that
/// ingest derives; every test asserts the same numbers of both.
fn fixture() -> [Fixture; 2] {
    fixtures_of(|| vec![(Dataset::ApcEpisode, apc()), (Dataset::EcdsAttendance, ecds())])
}

fn fixtures_of(batches: impl Fn() -> Vec<(Dataset, RecordBatch)>) -> [Fixture; 2] {
    [fixture_of(batches(), false), fixture_of(batches(), true)]
}

/// A store holding `batches` in the pseudonymised zone, with the derived
/// spells when `derive`, opened for an analyst under the demo agreement.
fn fixture_of(batches: Vec<(Dataset, RecordBatch)>, derive: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    let tables: Vec<(&str, RecordBatch)> = batches.into_iter().map(|(t, b)| (t.name(), b)).collect();
    commit(&mut store, &tables, "fixture", "00");
    if derive {
        let built = haven_ingest::spells::refresh(&mut store).unwrap();
        assert_eq!(built.len(), 1, "the pseudonymised zone's spells");
    }
    let session = session_of(dir.path(), &store);
    assert_eq!(Scope::of(&session, Source::Local, fy()).derived_spells, derive);
    Fixture { _dir: dir, session }
}

/// Commits `tables` to the pseudonymised zone as one load from `source`.
fn commit(store: &mut Store, tables: &[(&str, RecordBatch)], source: &str, sha256: &str) {
    let mut txn = store.begin_load().unwrap();
    for (i, (name, b)) in tables.iter().enumerate() {
        let mut w = txn.part_writer(Zone::Pseudonymised, name, b.schema(), i).unwrap();
        w.write(b).unwrap();
        let f = w.finish().unwrap();
        txn.add_file(f);
    }
    let record = LoadRecord {
        id: txn.id().to_owned(),
        dataset: tables[0].0.into(),
        source_path: source.into(),
        source_sha256: sha256.into(),
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
    let counts = [ZoneCounts { zone: Some(Zone::Pseudonymised), read: 19, written: 19, ..ZoneCounts::default() }];
    store.commit(txn, &record, &counts, &[], &[]).unwrap();
}

/// A session of an analyst under the demo agreement.
fn session_of(dir: &std::path::Path, store: &Store) -> ZoneSession {
    let mut users = Users::open(dir).unwrap();
    if users.get("ana").ok().flatten().is_none() {
        users.add("ana", Role::Analyst, None, "a long enough passphrase").unwrap();
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DSA-HAVEN-DEMO.toml");
    let dsa = Dsa::from_toml("DSA-HAVEN-DEMO.toml", &std::fs::read_to_string(path).unwrap()).unwrap();
    let g = grant(&users, "ana", Role::Analyst, Purpose::Commissioning, &dsa, Date::from_ymd(2026, 11, 23).unwrap()).unwrap();
    ZoneSession::open(store, &g).unwrap()
}

#[test]
fn spells_derived_by_an_older_haven_are_not_read_and_are_derived_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_for_write(dir.path()).unwrap();
    commit(&mut store, &[("apc_episode", apc())], "fixture", "00");
    // An older derivation, current for these episodes but without the CIP
    // columns this version reads.
    let old = RecordBatch::try_from_iter([("spell", text(&["S1"]))]).unwrap();
    let fingerprint = store.fingerprint(Zone::Pseudonymised, "apc_episode").unwrap();
    commit(&mut store, &[("apc_spell_derived", old)], &haven_store::derived_source(Zone::Pseudonymised, "apc_episode"), &fingerprint);
    let session = session_of(dir.path(), &store);
    assert!(!Scope::of(&session, Source::Local, fy()).derived_spells, "the old columns are not read");
    // The episodes answer instead: 2 readmissions of 9 index spells.
    let f = Fixture { _dir: tempfile::tempdir().unwrap(), session };
    let r = total(&f, "apc.emergency_readmission_30d");
    assert_eq!((r.0, r.1), (Some(Cell::Value(2)), Some(Cell::Value(9))));
    // The next refresh derives them again, and then they are read.
    assert_eq!(haven_ingest::spells::refresh(&mut store).unwrap().len(), 1);
    assert!(haven_ingest::spells::refresh(&mut store).unwrap().is_empty(), "and only once");
    assert!(Scope::of(&session_of(dir.path(), &store), Source::Local, fy()).derived_spells);
}

/// National-level HES/ECDS policy publishes exact counts, so the arithmetic
/// can be checked; the sub-national default is checked separately.
fn exact() -> Policy {
    Policy { national: true, ..Policy::default() }
}

fn fy() -> Period {
    Period::parse("2024-25").unwrap()
}

fn run(f: &Fixture, id: &str, by: Breakdown, policy: &Policy) -> Table {
    compute(&f.session, policy, &find(id).unwrap(), by, fy()).unwrap()
}

fn total(f: &Fixture, id: &str) -> (Option<Cell>, Option<Cell>, Option<f64>) {
    let t = run(f, id, Breakdown::Total, &exact()).total;
    (t.numerator, t.denominator, t.value)
}

/// The published value is the hand-worked `b` at the publication's
/// precision (1 d.p.; issue 14 item 4).
fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - haven_analytics::publish::round(b)).abs() < 1e-9)
}

#[test]
fn spell_indicators_match_the_hand_worked_values() {
    for f in fixture() {
        // S1–S12 are discharged in 2024-25 (S13 in 2023-24 is out).
        assert_eq!(total(&f, "apc.spells").0, Some(Cell::Value(12)));
        // LOS: 3,0,2,5,0,2,0,10,2,2,7,1 → 34 bed days (S11 runs 1 to 8 November across two episodes).
        assert_eq!(total(&f, "apc.bed_days").0, Some(Cell::Value(34)));
        assert!(close(total(&f, "apc.los_mean").2, 34.0 / 12.0));
        // Sorted 0,0,0,1,2,2,2,2,3,5,7,10 → median (2+2)/2.
        assert!(close(total(&f, "apc.los_median").2, 2.0));
        // Emergency spells: S1,S2,S4,S5,S6,S8,S10,S11,S12 = 9; same-day: S2, S5.
        let z = total(&f, "apc.zero_los_emergency");
        assert_eq!((z.0, z.1), (Some(Cell::Value(2)), Some(Cell::Value(9))));
        assert!(close(z.2, 200.0 / 9.0));
        // Care homes: S2 (54) and S11 (65, on its last episode) of 11 discharged alive (S6 died).
        let c = total(&f, "apc.discharged_to_care_home");
        assert_eq!((c.0, c.1), (Some(Cell::Value(2)), Some(Cell::Value(11))));
        // Only S8 has a ready date: 20 → 25 September is 5 days.
        assert!(close(total(&f, "apc.delayed_discharge_days").2, 5.0));
        // Elective waits 40 (S3) and 10 (S7): median 25.
        assert!(close(total(&f, "apc.elective_wait_median").2, 25.0));
    }
}

#[test]
fn readmissions_follow_the_index_and_numerator_rules() {
    for f in fixture() {
        // Index spells: S1,S2,S3,S4,S5,S8,S10,S11,S12 = 9 (S6 died, S7 day case,
        // S9 maternity). Readmitted: S1 → S2 after 16 days; S11 → S12 after 29
        // days (8 Nov to 7 Dec). Not: S5 → S6 after 30 days; S3 → S4 after 37;
        // S7 → S8 (5 days) because a day case is not an index spell.
        let r = total(&f, "apc.emergency_readmission_30d");
        assert_eq!((r.0, r.1), (Some(Cell::Value(2)), Some(Cell::Value(9))));
        assert!(close(r.2, 200.0 / 9.0));
    }
}

#[test]
fn ae_indicators_match_the_hand_worked_values() {
    for f in fixture() {
        // Within 240 minutes: 200 and 240 of the four with an interval.
        let four = total(&f, "ae.four_hours");
        assert_eq!((four.0, four.1), (Some(Cell::Value(2)), Some(Cell::Value(4))));
        assert!(close(four.2, 50.0));
        // Out of hours: Monday 19:00, Saturday 10:00, Wednesday 07:59 and
        // 10:00 on the August bank holiday; not Monday 09:00 or Tuesday 18:29.
        let ooh = total(&f, "ae.out_of_hours");
        assert_eq!((ooh.0, ooh.1), (Some(Cell::Value(4)), Some(Cell::Value(6))));
        assert_eq!(total(&f, "ae.conversion").0, Some(Cell::Value(1)));
    }
}

#[test]
fn breakdowns_label_groups_and_sum_to_the_total() {
    for f in fixture() {
        let by_age = run(&f, "apc.spells", Breakdown::AgeBand, &exact());
        let groups: Vec<(&str, Option<Cell>)> = by_age.rows.iter().map(|r| (r.group.as_str(), r.numerator)).collect();
        // S11 and S12 are P6's, aged 85; the other ten are 70.
        assert_eq!(groups, [("70-74", Some(Cell::Value(10))), ("85-89", Some(Cell::Value(2)))]);
        let by_sex = run(&f, "apc.spells", Breakdown::Sex, &exact());
        let groups: Vec<&str> = by_sex.rows.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(groups, ["Female", "Male"]);
        let by_type = run(&f, "apc.los_mean", Breakdown::AdmissionType, &exact());
        let elective = by_type.rows.iter().find(|r| r.group == "Elective").unwrap();
        // S3 (2 days) and S7 (0): mean 1.
        assert!(close(elective.value, 1.0));
    }
}

#[test]
fn sub_national_outputs_suppress_small_counts_and_what_would_reveal_them() {
    for f in fixture() {
        let t = run(&f, "apc.spells", Breakdown::Provider, &Policy::default());
        // RAA 8, RBB 4, total 12: 4 is suppressed; RAA is then hidden too, or
        // 12 − 8 would give RBB back; the total rounds to 10.
        let cells: Vec<(&str, Option<Cell>)> = t.rows.iter().map(|r| (r.group.as_str(), r.numerator)).collect();
        assert_eq!(cells, [("RAA", Some(Cell::Suppressed)), ("RBB", Some(Cell::Suppressed))]);
        assert_eq!(t.total.numerator, Some(Cell::Value(10)));
        // Two zero-stay emergencies of nine: the numerator is suppressed, so no rate is published.
        let z = run(&f, "apc.zero_los_emergency", Breakdown::Total, &Policy::default());
        assert_eq!(z.total.numerator, Some(Cell::Suppressed));
        assert_eq!(z.total.value, None);
        assert!(!z.csv().contains("22.2"), "{}", z.csv());
        // Every published count is 0 or at least 8, and a multiple of 5.
        for id in ["apc.spells", "apc.bed_days", "apc.los_mean", "ae.four_hours"] {
            for by in Breakdown::ALL {
                let t = run(&f, id, by, &Policy::default());
                for r in t.rows.iter().chain([&t.total]) {
                    for c in [r.numerator, r.denominator].into_iter().flatten() {
                        if let Cell::Value(v) = c {
                            assert!(v == 0 || (v >= 8 && v % 5 == 0), "{id} {by:?} {}: {v}", r.group);
                        }
                    }
                }
            }
        }
    }
}

/// Nine one-episode emergency or elective admissions in 2024-25, each
/// built to hit or just miss one clinical rule (the rules themselves are
/// unit-tested in haven_model::rules; this checks the SQL passes them the
/// right fields in the right positions).
fn coded() -> RecordBatch {
    // spell, admimeth, admisorc, classpat, age, sex, primary diagnosis, secondary diagnosis, primary procedure
    type Row = (&'static str, &'static str, &'static str, &'static str, i64, &'static str, &'static str, &'static str, &'static str);
    let rows: [Row; 9] = [
        // A1 asthma, emergency, from home: chronic ACSC.
        ("A1", "21", "19", "1", 40, "1", "J459", "", ""),
        // A2 asthma but transferred in (ADMISORC 51): not ACSC.
        ("A2", "21", "51", "1", 40, "1", "J459", "", ""),
        // A3 COPD J44: chronic ACSC and urgent care sensitive (J40-J44).
        ("A3", "22", "19", "1", 70, "2", "J440", "", ""),
        // A4 no primary, asthma only as a secondary: positions are kept, so neither list counts it.
        ("A4", "21", "19", "1", 40, "1", "", "J459", ""),
        // A5 cellulitis L03: urgent care sensitive, not chronic ACSC.
        ("A5", "21", "19", "1", 50, "2", "L039", "", ""),
        // A6 a fall (W01 cause) at 80 with a minor head injury primary: UCS.
        ("A6", "21", "19", "1", 80, "2", "S000", "W010", ""),
        // A7 elective tonsillectomy for tonsillitis: EBI list 1.
        ("A7", "11", "19", "1", 20, "1", "J039", "", "F341"),
        // A8 the same operation as an emergency: not EBI.
        ("A8", "21", "19", "1", 20, "1", "J039", "", "F341"),
        // A9 elective cholecystectomy for K85.1 in an adult: EBI list 2.
        ("A9", "12", "19", "1", 45, "2", "K851", "", "J183"),
    ];
    let schema = Dataset::ApcEpisode.pseudonymised_schema();
    let ty = |c: &str| schema.field_with_name(c).unwrap().data_type().clone();
    let n = rows.len();
    let same = |v: &'static str| text(&vec![v; n]);
    let mut c: HashMap<&str, ArrayRef> = HashMap::new();
    c.insert("EPIKEY", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>()));
    c.insert("PROVSPNOPS", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>()));
    c.insert("TOKEN_PERSON_ID", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>()));
    c.insert("EPIORDER", same("01"));
    c.insert("EPISTAT", same("3"));
    c.insert("EPITYPE", same("1"));
    c.insert("ADMIMETH", text(&rows.iter().map(|r| r.1).collect::<Vec<_>>()));
    c.insert("ADMISORC", text(&rows.iter().map(|r| r.2).collect::<Vec<_>>()));
    c.insert("CLASSPAT", text(&rows.iter().map(|r| r.3).collect::<Vec<_>>()));
    c.insert("STARTAGE", ints(&rows.iter().map(|r| Some(r.4)).collect::<Vec<_>>(), &ty("STARTAGE")));
    c.insert("SEX", text(&rows.iter().map(|r| r.5).collect::<Vec<_>>()));
    c.insert("DIAG_4_01", text(&rows.iter().map(|r| r.6).collect::<Vec<_>>()));
    c.insert("DIAG_4_02", text(&rows.iter().map(|r| r.7).collect::<Vec<_>>()));
    c.insert("OPERTN_4_01", text(&rows.iter().map(|r| r.8).collect::<Vec<_>>()));
    c.insert("ADMIDATE", dates(&vec!["2024-06-01"; n]));
    c.insert("EPIEND", dates(&vec!["2024-06-02"; n]));
    c.insert("DISDATE", dates(&vec!["2024-06-02"; n]));
    batch(Dataset::ApcEpisode, c)
}

#[test]
fn avoidable_admissions_and_ebi_are_classified_from_the_first_episodes_codes() {
    for f in fixtures_of(|| vec![(Dataset::ApcEpisode, coded())]) {
        let count = |id: &str| run(&f, id, Breakdown::Total, &exact()).total.numerator;
        // Chronic ACSC: A1 (asthma) and A3 (COPD); A2 is a transfer, A4 has no primary.
        assert_eq!(count("apc.acsc_chronic"), Some(Cell::Value(2)));
        // UCS: A3 (COPD), A5 (cellulitis), A6 (head injury / fall at 80).
        assert_eq!(count("apc.ucs"), Some(Cell::Value(3)));
        // EBI: A7 on list 1 (A8 is an emergency); A9 on list 2.
        assert_eq!(count("apc.ebi_list1"), Some(Cell::Value(1)));
        assert_eq!(count("apc.ebi_list2"), Some(Cell::Value(1)));
        // Counted by sex: ACSC A1 is male, A3 female.
        let by_sex = run(&f, "apc.acsc_chronic", Breakdown::Sex, &exact());
        let cells: Vec<(&str, Option<Cell>)> = by_sex.rows.iter().map(|r| (r.group.as_str(), r.numerator)).collect();
        assert_eq!(cells, [("Female", Some(Cell::Value(1))), ("Male", Some(Cell::Value(1)))]);
    }
}

/// The readmission indicator with `opts`, by `by`, exactly (national policy).
fn readmissions(f: &Fixture, opts: haven_model::rules::ReadmissionOptions, by: Breakdown) -> Table {
    let mut scope = Scope::of(&f.session, Source::Local, fy());
    scope.readmissions = opts;
    let ind = find("apc.emergency_readmission_30d").unwrap();
    haven_analytics::compute_catalogue(&f.session, &scope, &exact(), &[ind], &[by]).unwrap().remove(0)
}

/// Four people, each with an emergency index spell and an emergency
/// readmission, to hit one open choice of methods.md §2.1 each:
/// - Q1: R1 (1–5 May) then R2 on 10 May (5 days), whose *second* episode
///   codes C50.9 in its third diagnosis: cancer anywhere in the spell.
/// - Q2: R3 (surgery, 100; 1–2 June) then R4 on 20 June (18 days), benign
///   D25.9: counts.
/// - Q3: R5 (1 July) then R6 on 29 July (28 days, specialty 710): counts
///   within 30 days, not within 28.
/// - Q4: R7 (1–2 August) then R8 on 5 August (3 days) for chemotherapy
///   (Z51.1).
fn readmission_choices() -> RecordBatch {
    readmission_choices_with("")
}

/// [`readmission_choices`] with R3's main procedure (OPERTN_4_01).
fn readmission_choices_with(r3_procedure: S) -> RecordBatch {
    // spell, person, epiorder, admidate, epiend, disdate, mainspef, diag 1, diag 3
    type Row = (S, S, S, S, S, S, S, S, S);
    let rows: [Row; 9] = [
        ("R1", "Q1", "01", "2024-05-01", "2024-05-05", "2024-05-05", "300", "I500", ""),
        ("R2", "Q1", "01", "2024-05-10", "2024-05-11", "", "300", "R69X", ""),
        ("R2", "Q1", "02", "2024-05-10", "2024-05-12", "2024-05-12", "300", "R69X", "C509"),
        ("R3", "Q2", "01", "2024-06-01", "2024-06-02", "2024-06-02", "100", "K359", ""),
        ("R4", "Q2", "01", "2024-06-20", "2024-06-21", "2024-06-21", "300", "D259", ""),
        ("R5", "Q3", "01", "2024-07-01", "2024-07-01", "2024-07-01", "300", "J189", ""),
        ("R6", "Q3", "01", "2024-07-29", "2024-07-30", "2024-07-30", "710", "F329", ""),
        ("R7", "Q4", "01", "2024-08-01", "2024-08-02", "2024-08-02", "300", "J189", ""),
        ("R8", "Q4", "01", "2024-08-05", "2024-08-05", "2024-08-05", "300", "Z511", ""),
    ];
    let schema = Dataset::ApcEpisode.pseudonymised_schema();
    let ty = |c: &str| schema.field_with_name(c).unwrap().data_type().clone();
    let n = rows.len();
    let same = |v: &'static str| text(&vec![v; n]);
    let mut c: HashMap<&str, ArrayRef> = HashMap::new();
    c.insert("EPIKEY", text(&["K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8", "K9"]));
    c.insert("PROVSPNOPS", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>()));
    c.insert("TOKEN_PERSON_ID", text(&rows.iter().map(|r| r.1).collect::<Vec<_>>()));
    c.insert("EPIORDER", text(&rows.iter().map(|r| r.2).collect::<Vec<_>>()));
    c.insert("ADMIDATE", dates(&rows.iter().map(|r| r.3).collect::<Vec<_>>()));
    c.insert("EPIEND", dates(&rows.iter().map(|r| r.4).collect::<Vec<_>>()));
    c.insert("DISDATE", dates(&rows.iter().map(|r| r.5).collect::<Vec<_>>()));
    c.insert("MAINSPEF", text(&rows.iter().map(|r| r.6).collect::<Vec<_>>()));
    c.insert("DIAG_4_01", text(&rows.iter().map(|r| r.7).collect::<Vec<_>>()));
    c.insert("DIAG_4_03", text(&rows.iter().map(|r| r.8).collect::<Vec<_>>()));
    c.insert("ADMIMETH", same("21"));
    c.insert("CLASSPAT", same("1"));
    c.insert("DISMETH", same("1"));
    c.insert("DISDEST", same("19"));
    c.insert("PROCODE3", same("RAA"));
    c.insert("SEX", same("1"));
    c.insert("STARTAGE", ints(&vec![Some(60); n], &ty("STARTAGE")));
    c.insert("OPERTN_4_01", text(&rows.iter().map(|r| if r.0 == "R3" { r3_procedure } else { "" }).collect::<Vec<_>>()));
    batch(Dataset::ApcEpisode, c)
}

#[test]
fn readmission_choices_left_open_by_the_source_are_options() {
    use haven_model::rules::ReadmissionOptions;
    for f in fixtures_of(|| vec![(Dataset::ApcEpisode, readmission_choices())]) {
        let rate = |opts: ReadmissionOptions| {
            let t = readmissions(&f, opts, Breakdown::Total).total;
            (t.numerator, t.denominator)
        };
        let v = |n: u64, d: u64| (Some(Cell::Value(n)), Some(Cell::Value(d)));
        // Every spell is an emergency discharged alive, so all eight are
        // index spells. Default: R3 → R4 (benign D25.9) and R5 → R6 (28
        // days) count; R2 (C50.9 in its second episode) and R8 (Z51.1) are
        // cancer or chemotherapy.
        assert_eq!(rate(ReadmissionOptions::default()), v(2, 8));
        // No cancer exclusion: R1, R3, R5 and R7 all count.
        assert_eq!(rate(ReadmissionOptions { cancer_codes: vec![], ..Default::default() }), v(4, 8));
        // Chemotherapy only (a list the derived spells do not carry, applied
        // to the episodes): R1's readmission now counts, R7's still not.
        assert_eq!(rate(ReadmissionOptions { cancer_codes: vec!["Z511".into()], ..Default::default() }), v(3, 8));
        // Within 28 days (0–27): R5 → R6 after 28 days no longer counts.
        assert_eq!(rate(ReadmissionOptions { days: 28, ..Default::default() }), v(1, 8));
        // Readmissions to mental health (710) excluded as well: R6 no longer counts.
        let mh = ReadmissionOptions { excluded_specialties: vec!["501".into(), "710".into()], ..Default::default() };
        assert_eq!(rate(mh), v(1, 8));
        // Index spells in general medicine (300) only: R3 (surgery) and R6
        // (710) are not index spells; of the six left only R5 → R6 counts.
        assert_eq!(rate(ReadmissionOptions { index_specialties: Some(vec!["300".into()]), ..Default::default() }), v(1, 6));
    }
}

/// Five people whose spells chain across providers, for the readmission
/// indicator's unit, the continuous inpatient (CIP) spell (methods.md §2.1;
/// linkage datasets.md §11.2):
/// - T1: C1 at RAA (1–4 May) discharged to another hospital (51); C2 at RBB
///   admitted the same day by transfer (2B from 51) to 10 May: one CIP.
///   C3, an emergency on 20 May, is 10 days after the CIP ends.
/// - T2: D1 (1–3 June, to 51) then D2, a transfer in (81) two days later,
///   who dies (DISMETH 4): one CIP ending in death, no index spell.
/// - T3: E1 (1–2 July) home; E2 an emergency on 10 July sent on to 51 the
///   next day, and E3 (2B from 51) coding C50.9: the readmitting CIP
///   [E2, E3] has cancer in its second spell.
/// - T4: F1 (1–2 June) home (19); F2 the next day is an emergency (21)
///   recorded as from another hospital (51): the A&E exception, a new CIP.
/// - T5: G1 (1–2 August) to 51; G2 by transfer (2B) 3 days later: past the
///   2-day window, a new CIP.
fn transfers() -> RecordBatch {
    // spell, person, admimeth, admisorc, admidate, disdate, disdest, dismeth, provider, diag 1
    type Row = (S, S, S, S, S, S, S, S, S, S);
    let rows: [Row; 12] = [
        ("C1", "T1", "21", "19", "2024-05-01", "2024-05-04", "51", "1", "RAA", "I500"),
        ("C2", "T1", "2B", "51", "2024-05-04", "2024-05-10", "19", "1", "RBB", "I500"),
        ("C3", "T1", "21", "19", "2024-05-20", "2024-05-22", "19", "1", "RAA", "J189"),
        ("D1", "T2", "21", "19", "2024-06-01", "2024-06-03", "51", "1", "RAA", "I219"),
        ("D2", "T2", "81", "19", "2024-06-05", "2024-06-08", "79", "4", "RBB", "I219"),
        ("E1", "T3", "21", "19", "2024-07-01", "2024-07-02", "19", "1", "RAA", "J189"),
        ("E2", "T3", "21", "19", "2024-07-10", "2024-07-11", "51", "1", "RAA", "R69X"),
        ("E3", "T3", "2B", "51", "2024-07-11", "2024-07-15", "19", "1", "RBB", "C509"),
        ("F1", "T4", "21", "19", "2024-06-01", "2024-06-02", "19", "1", "RAA", "J189"),
        ("F2", "T4", "21", "51", "2024-06-03", "2024-06-04", "19", "1", "RAA", "J189"),
        ("G1", "T5", "21", "19", "2024-08-01", "2024-08-02", "51", "1", "RAA", "J189"),
        ("G2", "T5", "2B", "51", "2024-08-05", "2024-08-06", "19", "1", "RBB", "J189"),
    ];
    let schema = Dataset::ApcEpisode.pseudonymised_schema();
    let ty = |c: &str| schema.field_with_name(c).unwrap().data_type().clone();
    let n = rows.len();
    let same = |v: &'static str| text(&vec![v; n]);
    let col = |f: fn(&Row) -> S| text(&rows.iter().map(f).collect::<Vec<_>>());
    let mut c: HashMap<&str, ArrayRef> = HashMap::new();
    c.insert("EPIKEY", col(|r| r.0));
    c.insert("PROVSPNOPS", col(|r| r.0));
    c.insert("TOKEN_PERSON_ID", col(|r| r.1));
    c.insert("ADMIMETH", col(|r| r.2));
    c.insert("ADMISORC", col(|r| r.3));
    c.insert("ADMIDATE", dates(&rows.iter().map(|r| r.4).collect::<Vec<_>>()));
    c.insert("EPIEND", dates(&rows.iter().map(|r| r.5).collect::<Vec<_>>()));
    c.insert("DISDATE", dates(&rows.iter().map(|r| r.5).collect::<Vec<_>>()));
    c.insert("DISDEST", col(|r| r.6));
    c.insert("DISMETH", col(|r| r.7));
    c.insert("PROCODE3", col(|r| r.8));
    c.insert("DIAG_4_01", col(|r| r.9));
    c.insert("EPIORDER", same("01"));
    c.insert("MAINSPEF", same("300"));
    c.insert("CLASSPAT", same("1"));
    c.insert("SEX", same("1"));
    c.insert("STARTAGE", ints(&vec![Some(60); n], &ty("STARTAGE")));
    batch(Dataset::ApcEpisode, c)
}

#[test]
fn readmissions_count_continuous_inpatient_spells_not_transfers() {
    use haven_model::rules::ReadmissionOptions;
    for f in fixtures_of(|| vec![(Dataset::ApcEpisode, transfers())]) {
        let rate = |opts: ReadmissionOptions| {
            let t = readmissions(&f, opts, Breakdown::Total).total;
            (t.numerator, t.denominator)
        };
        let v = |n: u64, d: u64| (Some(Cell::Value(n)), Some(Cell::Value(d)));
        // Index CIP spells and their readmissions:
        //   T1 [C1,C2] → C3 after 10 days (from C2's discharge): 1; C3: 0.  1/2
        //   T2 [D1,D2] ends in death: no index.                             0/0
        //   T3 [E1] → [E2,E3] after 8 days, cancer in E3: 0; [E2,E3]: 0.    0/2
        //   T4 [F1] → [F2] after 1 day: 1; [F2]: 0.                         1/2
        //   T5 [G1] → [G2] after 3 days (2B is an emergency method): 1.     1/2
        // 3/8. Counting provider spells instead would give 5/11: C1 → C2
        // and E2 → E3 (same-day 2B transfers) as readmissions, D1 as an
        // index.
        assert_eq!(rate(ReadmissionOptions::default()), v(3, 8));
        // Without the cancer exclusion [E2,E3] counts as T3's readmission.
        assert_eq!(rate(ReadmissionOptions { cancer_codes: vec![], ..Default::default() }), v(4, 8));
        // Provider spells are unchanged: all twelve are discharged in the year.
        assert_eq!(total(&f, "apc.spells").0, Some(Cell::Value(12)));
    }
}

#[test]
fn readmissions_are_standardised_within_diagnosis_and_procedure_groups() {
    // The strata of the indirect standardisation (never published; exact
    // policy here): ICB × age band × sex × admission type × the index CIP's
    // case-mix group. The transfers fixture's eight index CIP spells are
    // medical (300), so each group is the ICD-10 chapter of the first
    // spell's primary diagnosis: [C1,C2] I50.0 → IX (9); C3, E1, F1, F2,
    // G1, G2 J18.9 → X (10); [E2,E3] R69X → XVIII (18). Readmitted:
    // [C1,C2] (ch. 9), F1 and G1 (ch. 10).
    for f in fixtures_of(|| vec![(Dataset::ApcEpisode, transfers())]) {
        let t = readmissions(&f, Default::default(), Breakdown::Stratum);
        let mut cells: Vec<(String, Option<Cell>, Option<Cell>)> = t.rows.iter().map(|r| (r.group.clone(), r.numerator, r.denominator)).collect();
        cells.sort_by(|a, b| a.0.cmp(&b.0));
        let v = |n| Some(Cell::Value(n));
        assert_eq!(
            cells,
            [
                ("Unknown|60-64|Male|Emergency|ICD 10".to_owned(), v(2), v(6)),
                ("Unknown|60-64|Male|Emergency|ICD 18".to_owned(), v(0), v(1)),
                ("Unknown|60-64|Male|Emergency|ICD 9".to_owned(), v(1), v(1)),
            ]
        );
    }
}

#[test]
fn surgical_index_spells_are_grouped_by_their_procedures_chapter() {
    // R3 (Q2, main specialty 100, general surgery) has no procedure in the
    // choices fixture, so it stays in its diagnosis chapter (K35.9 → XI);
    // with an appendicectomy (H01.1) it moves to OPCS-4 chapter H.
    for (r3_procedure, group, not) in [("", "ICD 11", "OPCS H"), ("H011", "OPCS H", "ICD 11")] {
        for f in fixtures_of(|| vec![(Dataset::ApcEpisode, readmission_choices_with(r3_procedure))]) {
            let t = readmissions(&f, Default::default(), Breakdown::Stratum);
            let groups: Vec<&str> = t.rows.iter().map(|r| r.group.rsplit('|').next().unwrap()).collect();
            // R3 is the only spell in specialty 100 and the only one in chapter XI.
            assert!(groups.contains(&group) && !groups.contains(&not), "{groups:?}");
        }
    }
}

/// Eight emergency admissions for a heart attack (ICD-10 chapter IX), all
/// men aged 70 with no comorbidity, so the national model is the crude
/// death rate; and the deaths registered for them.
fn mortality_fixture() -> Vec<(Dataset, RecordBatch)> {
    // spell, person, provider, classpat, disdate, dismeth
    let rows: [(S, S, S, S, S, S); 8] = [
        ("M1", "Q1", "RAA", "1", "2024-05-10", "4"), // died in hospital
        ("M2", "Q2", "RAA", "1", "2024-06-01", "1"), // registered death 19 days later
        ("M3", "Q3", "RAA", "1", "2024-06-01", "1"), // death 31 days later: not counted
        ("M4", "Q4", "RAA", "1", "2024-07-01", "1"), // readmitted (M5) before dying
        ("M5", "Q4", "RBB", "1", "2024-07-12", "1"), // the death 3 days after is M5's
        ("M6", "Q5", "RAA", "1", "2024-08-01", "1"),
        ("M7", "Q6", "RBB", "1", "2024-09-01", "1"),
        ("M8", "Q7", "RBB", "2", "2024-09-02", "1"), // a day case: not a SHMI spell
    ];
    let schema = Dataset::ApcEpisode.pseudonymised_schema();
    let ty = |c: &str| schema.field_with_name(c).unwrap().data_type().clone();
    let n = rows.len();
    let same = |v: &'static str| text(&vec![v; n]);
    let admitted: Vec<&str> = rows.iter().map(|r| if r.0 == "M5" { "2024-07-10" } else { r.4 }).collect();
    let mut c: HashMap<&str, ArrayRef> = HashMap::new();
    c.insert("EPIKEY", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>()));
    c.insert("PROVSPNOPS", text(&rows.iter().map(|r| r.0).collect::<Vec<_>>()));
    c.insert("TOKEN_PERSON_ID", text(&rows.iter().map(|r| r.1).collect::<Vec<_>>()));
    c.insert("PROCODE3", text(&rows.iter().map(|r| r.2).collect::<Vec<_>>()));
    c.insert("CLASSPAT", text(&rows.iter().map(|r| r.3).collect::<Vec<_>>()));
    c.insert("DISDATE", dates(&rows.iter().map(|r| r.4).collect::<Vec<_>>()));
    c.insert("EPIEND", dates(&rows.iter().map(|r| r.4).collect::<Vec<_>>()));
    c.insert("ADMIDATE", dates(&admitted));
    c.insert("DISMETH", text(&rows.iter().map(|r| r.5).collect::<Vec<_>>()));
    c.insert("EPIORDER", same("01"));
    c.insert("EPISTAT", same("3"));
    c.insert("ADMIMETH", same("21"));
    c.insert("SEX", same("1"));
    c.insert("DIAG_4_01", same("I219"));
    c.insert("STARTAGE", ints(&vec![Some(70); n], &ty("STARTAGE")));
    let apc = batch(Dataset::ApcEpisode, c);
    let mut d: HashMap<&str, ArrayRef> = HashMap::new();
    d.insert("TOKEN_PERSON_ID", text(&["Q2", "Q3", "Q4"]));
    d.insert("REG_DATE_OF_DEATH", dates(&["2024-06-20", "2024-07-02", "2024-07-15"]));
    vec![(Dataset::ApcEpisode, apc), (Dataset::Death, batch(Dataset::Death, d))]
}

#[test]
fn shmi_compares_each_provider_with_the_expected_deaths_of_its_spells() {
    use haven_analytics::mortality::{shmi, MortalityOptions};
    for f in fixtures_of(mortality_fixture) {
        let scope = Scope::of(&f.session, Source::Local, fy());
        let m = shmi(&f.session, &scope, &exact(), &MortalityOptions::default()).unwrap();
        assert!(m.post_discharge_deaths);
        // SHMI spells: M1–M7 (M8 is a day case); deaths M1 (in hospital),
        // M2 (19 days), M5 (3 days); M3's death is 31 days on and M4's
        // patient was readmitted first. One covariate pattern, so expected =
        // spells × 3/7: RAA 5 × 3/7 = 2.142857, RBB 2 × 3/7 = 0.857143.
        assert_eq!((m.england_spells, m.england_deaths), (Cell::Value(7), Cell::Value(3)));
        let p = |code: &str| m.providers.iter().find(|p| p.provider == code).unwrap().clone();
        let (raa, rbb) = (p("RAA"), p("RBB"));
        assert_eq!((raa.spells, raa.observed, raa.expected), (Cell::Value(5), Cell::Value(2), 2.14));
        assert_eq!((rbb.spells, rbb.observed, rbb.expected), (Cell::Value(2), Cell::Value(1), 0.86));
        // SHMI, over the published expected deaths, at 4 d.p.: 2 ÷ 2.14 =
        // 0.9346 (14/15 exactly); 1 ÷ 0.86 = 1.1628 (7/6 exactly).
        assert_eq!((raa.ratio, rbb.ratio), (Some(0.9346), Some(1.1628)), "{raa:?} {rbb:?}");
        assert_eq!(m.models, 1);
        // Both within limits that widen as the expected count falls.
        assert_eq!((raa.band, rbb.band), (Some(2), Some(2)));
        assert!(rbb.upper_95 > raa.upper_95 && raa.upper_998 > raa.upper_95);
    }
}

