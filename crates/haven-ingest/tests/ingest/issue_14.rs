//! Issue 14 (governance hardening), the DSCRO stage's items: no value from a
//! data row in anything Haven prints or records (item 1), the newest opt-out
//! list supersedes older ones (item 7), record identifiers keyed per zone
//! (item 8). Key location, mode and rotation are tested in `keys.rs` and
//! through the binary in `haven/tests/ingest_cli.rs` (item 6).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use haven_model::schema::{is_record_key_sentinel, record_key_space, Table};
use haven_store::{Store, Zone};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::*;

/// One generated row: a person, a record key, a date and what is wrong
/// with the row.
#[derive(Clone, Debug)]
struct Row {
    nhs: String,
    key: String,
    date: String,
    fault: u8,
}

/// A ten-digit number; valid as an NHS number (modulus 11) when `valid`.
fn ten_digits(n: u64, valid: bool) -> String {
    let body = format!("{:09}", 100_000_000 + n % 899_999_999);
    if !valid {
        return format!("{body}{}", n % 10);
    }
    let sum: u32 = body.bytes().enumerate().map(|(i, b)| (b - b'0') as u32 * (10 - i as u32)).sum();
    match 11 - sum % 11 {
        11 => format!("{body}0"),
        10 => format!("{}1{}", &body[..8], 0), // not valid, still ten digits
        c => format!("{body}{c}"),
    }
}

/// Dates before 2021 in the forms extracts use, so none can coincide with
/// the timestamps in load ids (which are today's).
fn date_text(y: u16, m: u8, d: u8, form: u8) -> String {
    match form {
        0 => format!("{y:04}-{m:02}-{d:02}"),
        1 => format!("{d:02}/{m:02}/{y:04}"),
        2 => format!("{y:04}{m:02}{d:02}"),
        // Not a real date, but a value of the row all the same.
        _ => format!("{y:04}-{m:02}-{}", 30 + d % 2),
    }
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    proptest::collection::vec(
        (any::<u64>(), any::<bool>(), any::<u64>(), 1900u16..2021, 1u8..=12, 1u8..=28, 0u8..4, 0u8..7).prop_map(
            |(n, valid, k, y, m, d, form, fault)| Row {
                nhs: ten_digits(n, valid),
                key: ten_digits(k, false),
                date: date_text(y, m, d, form),
                fault,
            },
        ),
        1..12,
    )
}

/// Writes the rows as `table` (death or op_attendance), malformed as each
/// row says, with or without the header row.
fn file_text(death: bool, header: bool, rows: &[Row]) -> String {
    let mut out = String::new();
    if header {
        out.push_str(if death {
            "DEC_NHS_NUMBER|DOB|REG_DATE_OF_DEATH|GP_PRACTICE_CODE|DEC_SEX\n"
        } else {
            "NEWNHSNO|ATTENDKEY|APPTDATE|DOB|PROCODE3|GPPRAC\n"
        });
    }
    for r in rows {
        let mut f: Vec<String> = if death {
            vec![r.nhs.clone(), r.date.clone(), r.date.clone(), "A81001".into(), "1".into()]
        } else {
            vec![r.nhs.clone(), r.key.clone(), r.date.clone(), r.date.clone(), "RJ1".into(), "A81001".into()]
        };
        let last = f.len() - 1;
        match r.fault {
            1 => drop(f.pop()),
            2 => f.push(r.key.clone()),
            3 => f[last] = r.nhs.clone(),  // an NHS number where a code belongs
            4 => f[last - 1] = r.date.clone(), // a date where a code belongs
            5 => f.swap(0, 1),            // a shifted row
            _ => {}
        }
        out.push_str(&f.join("|"));
        out.push('\n');
    }
    out
}

/// Issue 14 item 1: whatever the rows — valid or not, with or without a
/// header, fields missing or extra, dates and NHS numbers in the wrong
/// columns — no ten-digit value and no date of the input appears in the
/// error, the report (JSON), the quarantine file or the data-quality rows.
#[test]
fn issue_14_no_value_of_a_row_reaches_errors_reports_quarantine_or_dq() {
    let env = prepared();
    let dir = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::new(Config { cases: 40, ..Config::default() });
    let strategy = (any::<bool>(), any::<bool>(), rows());
    let case = std::cell::Cell::new(0);
    runner
        .run(&strategy, |(death, header, rows)| {
            case.set(case.get() + 1);
            let case = case.get();
            let table = if death { "death" } else { "op_attendance" };
            let path = dir.path().join(format!("case-{case}.psv"));
            std::fs::write(&path, file_text(death, header, &rows)).unwrap();
            let mut said = String::new();
            let mut store = Store::open_for_write(&env.data).unwrap();
            match ingest(&mut store, &request(&env, table, &path), &mut |_| {}) {
                Err(e) => said.push_str(&format!("{e}\n{e:?}\n")),
                Ok(r) => {
                    said.push_str(&serde_json::to_string(&r).unwrap());
                    if let Some(q) = &r.quarantine {
                        said.push_str(&std::fs::read_to_string(env.data.join(q)).unwrap());
                    }
                    for dq in store.catalog().dq(&r.load_id).unwrap() {
                        said.push_str(&format!("{dq:?}\n"));
                    }
                    let record = store.catalog().load(&r.load_id).unwrap().unwrap();
                    said.push_str(&record.summary);
                }
            }
            let values: HashSet<&str> = rows.iter().flat_map(|r| [r.nhs.as_str(), r.key.as_str()]).collect();
            for run in ten_digit_runs(said.as_bytes()) {
                let run = std::str::from_utf8(run).unwrap();
                prop_assert!(!values.contains(run), "a ten-digit value of the input was repeated: {said}");
            }
            for r in &rows {
                prop_assert!(!said.contains(&r.date), "a date of the input was repeated: {said}");
            }
            Ok::<(), TestCaseError>(())
        })
        .unwrap();
}

/// Issue 14 item 7: list A opts X out, list B (loaded later) opts Y out and
/// not X. The next load applies B alone: X's rows reach the pseudonymised
/// zone, Y's do not, and the load names list B (load id, file hash, date).
#[test]
fn issue_14_the_newest_opt_out_list_supersedes_older_ones() {
    let env = prepared();
    let apc = small().join("dscro/QMJ/apc_episode.psv");
    let list_a = small().join("dscro/QMJ/optout_clean_list.psv");
    let first = load(&env, "apc_episode", &apc).unwrap();
    let keys = Keys::load(&env.keys, &[Zone::Pseudonymised, Zone::Ceff]).unwrap();
    let (pk, ck) = (keys.get(Zone::Pseudonymised).unwrap(), keys.get(Zone::Ceff).unwrap());
    let pseudo = tokens(&env.data, Zone::Pseudonymised, "apc_episode");
    let ceff = tokens(&env.data, Zone::Ceff, "apc_episode");
    let people: Vec<u64> = column_of(&apc, "NEWNHSNO").iter().filter_map(|n| n.parse().ok()).collect();
    // X: in the ICB's population (in CEfF, which takes no opt-outs) yet
    // kept out of the pseudonymised zone by list A. Y: on list A, present.
    let x = *people.iter().find(|n| ceff.contains(&ck.person_token(**n)) && !pseudo.contains(&pk.person_token(**n))).unwrap();
    let y = *people.iter().find(|n| pseudo.contains(&pk.person_token(**n))).unwrap();
    assert_eq!(first.optout_list.as_ref().map(|l| l.sha256.len()), Some(64));

    let text = std::fs::read_to_string(&list_a).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let y_text = y.to_string();
    let y_rows: Vec<String> = lines.iter().filter(|l| l.split('|').nth(1) == Some(y_text.as_str())).cloned().collect();
    assert!(!y_rows.is_empty());
    lines.retain(|l| l.split('|').nth(1) != Some(y_text.as_str()));
    lines.extend(y_rows.iter().map(|l| l.replacen(&y.to_string(), &x.to_string(), 1)));
    let dir = tempfile::tempdir().unwrap();
    let list_b = dir.path().join("optout_clean_list_b.psv");
    std::fs::write(&list_b, lines.join("\n") + "\n").unwrap();
    let b = load(&env, "optout_clean_list", &list_b).unwrap();

    let mut req = request(&env, "apc_episode", &apc);
    req.replace = true;
    let mut store = Store::open_for_write(&env.data).unwrap();
    let again = ingest(&mut store, &req, &mut |_| {}).unwrap();
    let pseudo = tokens(&env.data, Zone::Pseudonymised, "apc_episode");
    assert!(pseudo.contains(&pk.person_token(x)), "X withdrew the opt-out on list B");
    assert!(!pseudo.contains(&pk.person_token(y)), "Y opted out on list B; list A must not keep Y flowing");
    let applied = again.optout_list.clone().unwrap();
    assert_eq!(applied.load, b.load_id);
    assert_eq!(applied.sha256, b.sha256);
    let record = store.catalog().load(&b.load_id).unwrap().unwrap();
    assert_eq!(applied.loaded_at, record.finished_at);
    // The lineage of the load says so too.
    let summary = store.catalog().load(&again.load_id).unwrap().unwrap().summary;
    assert!(summary.contains(&b.load_id) && summary.contains(&b.sha256), "{summary}");
}

/// Record-identifier columns of a dataset folder's table.
fn record_columns(dataset: &str) -> Vec<arrow::datatypes::FieldRef> {
    Table::from_name(dataset)
        .map(|t| t.schema().fields().iter().filter(|f| record_key_space(f).is_some()).cloned().collect())
        .unwrap_or_default()
}

/// Every record-identifier value (sentinels left out) in a zone, with where
/// it was seen.
fn record_values(data: &Path, zone: Zone) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let root = data.join("zones").join(zone.name());
    for e in std::fs::read_dir(&root).unwrap().flatten() {
        let dataset = e.file_name().to_string_lossy().into_owned();
        let fields = record_columns(&dataset);
        each_string(&e.path(), Some(true), |c, v| {
            if let Some(f) = fields.iter().find(|f| f.name() == c) {
                if !is_record_key_sentinel(f, v) {
                    out.insert(v.to_owned(), format!("{zone}.{dataset}.{c}"));
                }
            }
        });
    }
    out
}

/// Issue 14 item 8: record identifiers (EPIKEY, SUSRECID, ATTENDKEY,
/// EC_IDENT, spell ids, invoice ids, ...) are keyed per zone, so no value of
/// one in an identifiable zone (staging, CEfF, direct care) appears anywhere
/// in the pseudonymised zone — in any of its text columns, derived spells
/// included. Within a zone they still join.
#[test]
fn issue_14_no_record_identifier_is_shared_between_the_pseudonymised_and_an_identifiable_zone() {
    let env = env();
    load_all(&env);
    let mut identifiable = HashMap::new();
    for zone in [Zone::Staging, Zone::Ceff, Zone::DirectCare] {
        identifiable.extend(record_values(&env.data, zone));
    }
    assert!(identifiable.len() > 1_000, "{} record identifiers", identifiable.len());
    let staging = record_values(&env.data, Zone::Staging);
    let ceff = record_values(&env.data, Zone::Ceff);
    assert!(ceff.len() > 100);
    for (v, at) in &ceff {
        assert!(!staging.contains_key(v), "{at} holds a clear record identifier of staging");
    }
    let root = env.data.join("zones").join(Zone::Pseudonymised.name());
    let mut seen = 0;
    each_string(&root, Some(true), |c, v| {
        seen += 1;
        if let Some(at) = identifiable.get(v) {
            panic!("pseudonymised column {c} holds a record identifier also in {at}");
        }
    });
    assert!(seen > 1_000);
    // Equality within the zone survives: A&E attendances that led to an
    // admission still find their episode, critical-care periods their
    // episode, and SUSSPELLID's -1 sentinel is kept as it is.
    let epikeys = |dataset: &str| {
        let mut out = HashSet::new();
        each_string(&root.join(dataset), Some(true), |c, v| {
            if c == "EPIKEY" {
                out.insert(v.to_owned());
            }
        });
        out
    };
    let episodes = epikeys("apc_episode");
    let linked: usize = ["cc_period", "ae_attendance", "ecds_attendance"]
        .iter()
        .map(|d| epikeys(d).intersection(&episodes).count())
        .sum();
    assert!(linked > 0, "no attendance or critical-care period joins its episode in the zone");
    let mut sentinels = 0;
    each_string(&root.join("apc_episode"), Some(true), |c, v| sentinels += usize::from(c == "SUSSPELLID" && v == "-1"));
    let mut clear_sentinels = 0;
    each_string(&env.data.join("zones/staging/apc_episode"), Some(true), |c, v| {
        clear_sentinels += usize::from(c == "SUSSPELLID" && v == "-1")
    });
    assert_eq!(sentinels > 0, clear_sentinels > 0, "the -1 sentinel survives where the flow has it");
}
