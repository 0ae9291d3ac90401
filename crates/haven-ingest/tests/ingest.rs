//! The DSCRO stage end to end on the `small` synthetic scale, and on bad
//! input: every fault named by file, line and field, nothing lost, nothing
//! identifiable where it must not be.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow::array::{Array, StringArray};
use arrow::datatypes::DataType;
use haven_ingest::{dir, ingest, Feed, IngestError, IngestPolicy, IngestReport, IngestRequest, Keys, Outcome};
use haven_model::schema::{is_identifiable, Table};
use haven_store::{Store, Zone};
use haven_synth::{build_key, generate_shared, Scale, SynthConfig};

// Issue 14 regressions (governance hardening of the DSCRO stage).
#[path = "ingest/issue_14.rs"]
mod issue_14;
// Issue 15: reference files as their publishers ship them.
#[path = "ingest/publisher.rs"]
mod publisher;

/// One generated `small` dataset shared by every test in this binary.
fn small() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("haven-ingest-tests");
        let key = build_key(&std::env::current_exe().unwrap());
        generate_shared(&SynthConfig { scale: Scale::Small, ..Default::default() }, &root, &key).unwrap()
    })
}

struct Env {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    keys: PathBuf,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let keys = tmp.path().join("keys");
    Keys::init(&keys).unwrap();
    Env { _tmp: tmp, data, keys }
}

fn request(env: &Env, dataset: &str, path: &Path) -> IngestRequest {
    IngestRequest::new(Feed::parse(dataset).unwrap(), path, IngestPolicy::for_icb("QMJ"), &env.keys)
}

fn load(env: &Env, dataset: &str, path: &Path) -> Result<IngestReport, IngestError> {
    let mut store = Store::open_for_write(&env.data).unwrap();
    ingest(&mut store, &request(env, dataset, path), &mut |_| {})
}

/// Loads the whole small folder; returns the reports.
fn load_all(env: &Env) -> Vec<IngestReport> {
    let plan = dir::plan(small()).unwrap();
    assert_eq!(plan.icb.as_deref(), Some("QMJ"));
    let mut store = Store::open_for_write(&env.data).unwrap();
    plan.files
        .iter()
        .map(|(feed, path)| {
            let req = IngestRequest::new(*feed, path, IngestPolicy::for_icb("QMJ"), &env.keys);
            ingest(&mut store, &req, &mut |_| {}).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

/// A store with reference data and the opt-out list loaded, ready for a
/// local flow.
fn prepared() -> Env {
    let env = env();
    for t in ["org", "lsoa_lookup", "postcode_lookup"] {
        load(&env, t, &small().join(format!("reference/{t}.psv"))).unwrap();
    }
    load(&env, "optout_clean_list", &small().join("dscro/QMJ/optout_clean_list.psv")).unwrap();
    env
}

/// Every string value of every Parquet file under a folder, with the column name.
fn strings_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    each_string(dir, None, |c, v| out.push((c.to_owned(), v.to_owned())));
    out
}

/// Calls `f` with every value (as text) of every Parquet file under a
/// folder, optionally only for the Utf8 columns.
fn each_string(dir: &Path, only_text: Option<bool>, mut f: impl FnMut(&str, &str)) {
    for path in parquet_files(dir) {
        let file = std::fs::File::open(&path).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
                if only_text == Some(true) && field.data_type() != &DataType::Utf8 {
                    continue;
                }
                let text = arrow::compute::cast(col, &DataType::Utf8).unwrap();
                let text = text.as_any().downcast_ref::<StringArray>().unwrap();
                for i in 0..text.len() {
                    if text.is_valid(i) {
                        f(field.name(), text.value(i));
                    }
                }
            }
        }
    }
}

/// Every run of exactly ten ASCII digits in a byte string.
fn ten_digit_runs(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| !b.is_ascii_digit())
        .filter(|run| run.len() == 10)
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn column_of(path: &Path, col: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('|').collect();
    let i = header.iter().position(|h| *h == col).unwrap();
    lines.map(|l| l.split('|').nth(i).unwrap_or("").to_owned()).collect()
}

/// Tokens in a zone's dataset.
fn tokens(data: &Path, zone: Zone, dataset: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    each_string(&data.join("zones").join(zone.name()).join(dataset), Some(true), |c, v| {
        if c == "TOKEN_PERSON_ID" {
            out.insert(v.to_owned());
        }
    });
    out
}

#[test]
fn the_small_folder_loads_with_counts_that_reconcile_and_no_identifiers_outside_their_zones() {
    let env = env();
    let reports = load_all(&env);
    assert!(reports.len() >= 20, "{} loads", reports.len());
    for r in &reports {
        assert_eq!(r.outcome, Outcome::Loaded);
        for c in &r.counts {
            assert!(c.reconciles(), "{} {:?}: {c:?}", r.dataset, c.zone);
            assert_eq!(c.read, r.rows_read, "{}: every zone sees every row", r.dataset);
        }
    }
    // The synthetic files are clean: nothing rejected.
    let apc = reports.iter().find(|r| r.dataset == "apc_episode").unwrap();
    let by_zone: HashMap<Zone, &haven_store::ZoneCounts> = apc.counts.iter().map(|c| (c.zone.unwrap(), c)).collect();
    assert_eq!(by_zone[&Zone::Staging].rejected, 0);
    assert_eq!(by_zone[&Zone::Staging].written, apc.rows_read);
    // Opt-outs remove rows from the pseudonymised zone only, never from CEfF.
    assert!(by_zone[&Zone::Pseudonymised].opted_out > 0);
    assert_eq!(by_zone[&Zone::Ceff].opted_out, 0);

    // The identifiers the DSCRO received (dates of birth are checked by
    // column below: as bare values they coincide with other dates) ...
    let mut secrets: HashSet<String> = HashSet::new();
    for (t, col) in [("apc_episode", "NEWNHSNO"), ("apc_episode", "POSTCODE"), ("gp_patient", "NHS_NUMBER"), ("gp_patient", "POSTCODE"), ("death", "DEC_NHS_NUMBER"), ("invoice_line", "NEWNHSNO")] {
        secrets.extend(column_of(&small().join(format!("dscro/QMJ/{t}.psv")), col).into_iter().filter(|v| !v.is_empty()));
    }
    // ... never appear in the pseudonymised or national zones: not as decoded
    // values, not as raw bytes, and no column there is marked identifiable.
    for zone in [Zone::Pseudonymised, Zone::National] {
        let root = env.data.join("zones").join(zone.name());
        let mut values = 0;
        each_string(&root, Some(true), |col, v| {
            values += 1;
            assert!(!secrets.contains(v), "{zone}: an identifier in column {col}");
        });
        assert!(values > 0);
        for path in parquet_files(&root) {
            let bytes = std::fs::read(&path).unwrap();
            for run in ten_digit_runs(&bytes) {
                let run = std::str::from_utf8(run).unwrap();
                assert!(!secrets.contains(run), "{}: raw bytes hold an NHS number", path.display());
            }
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
            for f in reader.schema().fields() {
                assert!(!is_identifiable(f), "{}: column {} is identifiable", path.display(), f.name());
                assert!(!["NEWNHSNO", "DOB", "MYDOB", "POSTCODE", "NHS_NUMBER", "DEC_NHS_NUMBER", "PROVSPNO"].contains(&f.name().as_str()));
            }
        }
    }
    // Tokens differ across zones for the same people.
    let pseudo = tokens(&env.data, Zone::Pseudonymised, "apc_episode");
    let ceff = tokens(&env.data, Zone::Ceff, "apc_episode");
    let national = tokens(&env.data, Zone::National, "apc_episode");
    assert!(pseudo.len() > 100 && ceff.len() > 100);
    assert!(pseudo.is_disjoint(&ceff));
    assert!(pseudo.is_disjoint(&national));
    assert!(ceff.is_disjoint(&national));
    // Direct care maps the pseudonymised zone's tokens back to NHS numbers.
    let direct = tokens(&env.data, Zone::DirectCare, "gp_registration");
    let gp_pseudo = tokens(&env.data, Zone::Pseudonymised, "gp_registration");
    assert!(gp_pseudo.is_subset(&direct));

    // Nobody who opted out is in the pseudonymised zone: recompute their
    // tokens with the zone key and look for them.
    let keys = Keys::load(&env.keys, &[Zone::Pseudonymised]).unwrap();
    let key = keys.get(Zone::Pseudonymised).unwrap();
    let persons = small().join("ground_truth/persons.psv");
    let opted: Vec<u64> = column_of(&persons, "NEWNHSNO")
        .into_iter()
        .zip(column_of(&persons, "OPTED_OUT"))
        .filter(|(_, o)| o == "true")
        .map(|(n, _)| n.parse().unwrap())
        .collect();
    assert!(!opted.is_empty());
    for dataset in ["apc_episode", "op_attendance", "gp_patient", "gp_event"] {
        let present = tokens(&env.data, Zone::Pseudonymised, dataset);
        for n in &opted {
            assert!(!present.contains(&key.person_token(*n)), "an opted-out person is in pseudonymised.{dataset}");
        }
    }

    // Loading the same folder again changes nothing.
    let store = Store::open(&env.data).unwrap();
    let before = store.catalog().loads().unwrap().len();
    drop(store);
    for r in load_all(&env) {
        assert_eq!(r.outcome, Outcome::AlreadyLoaded, "{}", r.dataset);
    }
    assert_eq!(Store::open(&env.data).unwrap().catalog().loads().unwrap().len(), before);
}

#[test]
fn minimisation_keeps_only_the_icbs_population() {
    let env = prepared();
    let r = load(&env, "op_attendance", &small().join("dscro/QMJ/op_attendance.psv")).unwrap();
    let pseudo = r.counts.iter().find(|c| c.zone == Some(Zone::Pseudonymised)).unwrap();
    // The synthetic flow includes patients of hosted providers from other ICBs
    // and people who moved away; the hosted-provider link keeps the first.
    assert!(pseudo.written > 0 && pseudo.reconciles());
    let mut strict = request(&env, "op_attendance", &small().join("dscro/QMJ/op_attendance.psv"));
    strict.policy.minimisation = haven_ingest::Minimisation::parse("registered").unwrap();
    strict.replace = true;
    let mut store = Store::open_for_write(&env.data).unwrap();
    let s = ingest(&mut store, &strict, &mut |_| {}).unwrap();
    let strict_pseudo = s.counts.iter().find(|c| c.zone == Some(Zone::Pseudonymised)).unwrap();
    assert!(strict_pseudo.out_of_area >= pseudo.out_of_area);
    assert!(strict_pseudo.written <= pseudo.written);
    assert_eq!(s.replaced, std::slice::from_ref(&r.load_id));
}

/// Writes an APC file from the synthetic header and the first `n` rows,
/// with `edit` applied to the lines (index 0 is the header).
fn apc_variant(dir: &Path, name: &str, n: usize, edit: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let text = std::fs::read_to_string(small().join("dscro/QMJ/apc_episode.psv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(n + 1).map(str::to_owned).collect();
    edit(&mut lines);
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn col(lines: &[String], name: &str) -> usize {
    lines[0].split('|').position(|c| c == name).unwrap()
}

fn set(lines: &mut [String], row: usize, name: &str, value: &str) {
    let i = col(lines, name);
    let mut f: Vec<String> = lines[row].split('|').map(str::to_owned).collect();
    f[i] = value.to_owned();
    lines[row] = f.join("|");
}

fn quarantine(env: &Env, r: &IngestReport) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(env.data.join(r.quarantine.as_ref().expect("a quarantine file"))).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("file,line,field,reason,action"));
    lines.map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

#[test]
fn bad_rows_are_quarantined_by_line_and_field_without_their_values() {
    let env = prepared();
    let tmp = tempfile::tempdir().unwrap();
    let mut nhs_values = Vec::new();
    let path = apc_variant(tmp.path(), "bad_apc.psv", 12, |l| {
        nhs_values.push(l[1].split('|').nth(col(l, "NEWNHSNO")).unwrap().to_owned());
        set(l, 1, "NEWNHSNO", "9434765918"); // wrong check digit (…919 is valid)
        set(l, 2, "EPISTART", "2024-02-30"); // no such date
        set(l, 3, "EPIEND", "2000-01-01"); // before EPISTART
        let dup = l[4].split('|').next().unwrap().to_owned();
        set(l, 5, "EPIKEY", &dup); // duplicate key of line 5 (row 4)
        set(l, 6, "GPPRAC", "Q99999"); // well-formed, unknown practice
        set(l, 7, "DIAG_4_01", "NOTACODE"); // not ICD-10
        let extra = format!("{}|extra", l[8]);
        l[8] = extra; // too many fields
        let short: Vec<&str> = l[9].split('|').take(5).collect();
        l[9] = short.join("|"); // too few fields
        let mut bytes = l[10].clone().into_bytes();
        let i = l[10].find("|3|").unwrap() + 1; // EPISTAT
        bytes[i] = 0xff;
        l[10] = String::from_utf8_lossy(&bytes).into_owned(); // not UTF-8 (made lossy below)
    });
    // Put a real invalid byte back (from_utf8_lossy replaced it).
    let mut raw = std::fs::read(&path).unwrap();
    let pos = raw.windows(3).position(|w| w == "\u{fffd}".as_bytes()).unwrap();
    raw.splice(pos..pos + 3, [0xff]);
    std::fs::write(&path, &raw).unwrap();

    let r = load(&env, "apc_episode", &path).unwrap();
    assert_eq!(r.rows_read, 12);
    let q = quarantine(&env, &r);
    let find = |line: u64| -> Vec<&Vec<String>> { q.iter().filter(|f| f[1] == line.to_string()).collect() };
    // Header is line 1, so data row k is line k + 1.
    assert_eq!(find(2)[0][2..], ["NEWNHSNO", "is not a valid NHS number (format or check digit)", "rejected"]);
    assert_eq!(find(3)[0][2], "EPISTART");
    assert_eq!(find(3)[0][4], "rejected", "EPISTART is required");
    assert_eq!(find(4)[0][2..], ["EPIEND", "EPIEND is before EPISTART", "rejected"]);
    assert_eq!(find(6)[0][2], "EPIKEY");
    assert!(find(6)[0][3].starts_with("duplicate record key"));
    assert_eq!(find(7)[0][2..], ["GPPRAC", "is not an organisation code in the reference data", "kept"]);
    assert_eq!(find(8)[0][2..], ["DIAG_4_01", "is not an ICD-10 code", "nulled"]);
    assert!(find(9)[0][3].contains("too many"));
    assert!(find(10)[0][3].contains("too few"));
    assert_eq!(find(11)[0][2..], ["EPISTAT", "is not valid UTF-8 text", "nulled"]);
    assert!(q.iter().all(|f| f[0] == "bad_apc.psv"));
    // Rejected: lines 2, 3, 4, 6, 9, 10.
    let staging = r.counts.iter().find(|c| c.zone == Some(Zone::Staging)).unwrap();
    assert_eq!((staging.rejected, staging.written), (6, 6));
    // The quarantine file holds no patient values.
    let text = std::fs::read_to_string(env.data.join(r.quarantine.as_ref().unwrap())).unwrap();
    assert!(!text.contains("9434765918") && !text.contains(&nhs_values[0]));
}

#[test]
fn a_truncated_last_line_is_quarantined_and_the_rest_loads() {
    let env = prepared();
    let tmp = tempfile::tempdir().unwrap();
    let path = apc_variant(tmp.path(), "truncated.psv", 5, |_| {});
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 200);
    std::fs::write(&path, &bytes).unwrap();
    let r = load(&env, "apc_episode", &path).unwrap();
    assert_eq!(r.rows_read, 5);
    let q = quarantine(&env, &r);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0][1], "6");
    assert!(q[0][3].contains("truncated"));
}

#[test]
fn whole_file_problems_are_refused_with_the_file_named_and_nothing_loaded() {
    let env = prepared();
    let tmp = tempfile::tempdir().unwrap();
    let before = Store::open(&env.data).unwrap().catalog().loads().unwrap().len();
    let write = |name: &str, body: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let cases: Vec<(PathBuf, &str)> = vec![
        (write("empty.psv", b""), "empty"),
        (write("semicolons.psv", b"EPIKEY;FYEAR;EPISTART\n1;2425;2024-04-01\n"), "wrong delimiter"),
        (write("other.psv", b"NAME|COLOUR\nx|y\n"), "no column matches table apc_episode"),
        (write("nokey.psv", b"FYEAR|EPISTART\n2425|2024-04-01\n"), "lacks required column(s) EPIKEY"),
        (write("badheader.psv", b"EPIKEY|\xff\xfe|EPISTART\n"), "not valid UTF-8"),
        (tmp.path().join("missing.psv"), "No such file"),
    ];
    for (path, expect) in cases {
        let err = load(&env, "apc_episode", &path).unwrap_err().to_string();
        assert!(err.contains(expect), "{}: {err}", path.display());
        assert!(err.contains(path.file_name().unwrap().to_str().unwrap()), "names the file: {err}");
    }
    assert_eq!(Store::open(&env.data).unwrap().catalog().loads().unwrap().len(), before);
    // A header alone is a valid, empty delivery; unknown columns are reported.
    let header_only = apc_variant(tmp.path(), "header_only.psv", 0, |l| l[0].push_str("|LOCAL_EXTRA"));
    let r = load(&env, "apc_episode", &header_only).unwrap();
    assert_eq!(r.rows_read, 0);
    assert!(r.warnings.iter().any(|w| w.contains("no rows")));
    assert_eq!(r.unused_columns, ["LOCAL_EXTRA"]);
}

#[test]
fn a_local_flow_is_refused_until_the_opt_out_list_and_reference_data_are_loaded() {
    let env = env();
    let err = load(&env, "apc_episode", &small().join("dscro/QMJ/apc_episode.psv")).unwrap_err().to_string();
    assert!(err.contains("opt-out") || err.contains("reference"), "{err}");
    for t in ["org", "lsoa_lookup", "postcode_lookup"] {
        load(&env, t, &small().join(format!("reference/{t}.psv"))).unwrap();
    }
    let err = load(&env, "apc_episode", &small().join("dscro/QMJ/apc_episode.psv")).unwrap_err().to_string();
    assert!(err.contains("optout_clean_list"), "{err}");
    // Missing keys are refused too.
    load(&env, "optout_clean_list", &small().join("dscro/QMJ/optout_clean_list.psv")).unwrap();
    let mut req = request(&env, "apc_episode", &small().join("dscro/QMJ/apc_episode.psv"));
    req.keys_dir = env._tmp.path().join("no-keys-here");
    let mut store = Store::open_for_write(&env.data).unwrap();
    let err = ingest(&mut store, &req, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("haven keys init"), "{err}");
}

#[test]
fn a_file_that_disappears_mid_read_loads_nothing() {
    let env = prepared();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("op.psv");
    std::fs::copy(small().join("dscro/QMJ/op_attendance.psv"), &path).unwrap();
    let mut req = request(&env, "op_attendance", &path);
    req.chunk_bytes = 4096;
    let mut store = Store::open_for_write(&env.data).unwrap();
    let before = store.catalog().loads().unwrap().len();
    let mut first = true;
    let err = ingest(&mut store, &req, &mut |_| {
        if std::mem::take(&mut first) {
            std::fs::remove_file(&path).unwrap();
        }
    })
    .unwrap_err();
    assert!(matches!(err, IngestError::SourceChanged { .. }), "{err}");
    assert!(err.to_string().contains("op.psv"));
    assert_eq!(store.catalog().loads().unwrap().len(), before);
    assert!(store.catalog().datasets(Zone::Pseudonymised).unwrap().is_empty());
    assert_eq!(std::fs::read_dir(env.data.join("tmp")).unwrap().count(), 0, "the load's scratch is gone");
}

#[test]
fn csv_and_parquet_sources_give_the_same_rows_as_pipe_delimited() {
    let env = prepared();
    let tmp = tempfile::tempdir().unwrap();
    let psv = small().join("dscro/QMJ/death.psv");
    let text = std::fs::read_to_string(&psv).unwrap();
    let csv_path = tmp.path().join("death.csv");
    std::fs::write(&csv_path, text.lines().map(|l| l.split('|').map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(",")).collect::<Vec<_>>().join("\r\n")).unwrap();
    let a = load(&env, "death", &psv).unwrap();
    let b = load(&env, "death", &csv_path).unwrap();
    assert_eq!(a.rows_read, b.rows_read);
    assert_eq!(a.counts.iter().map(|c| c.written).collect::<Vec<_>>(), b.counts.iter().map(|c| c.written).collect::<Vec<_>>());
    // The staging Parquet of the first load, read back as a source.
    let store = Store::open(&env.data).unwrap();
    let staged = store.dataset_files(Zone::Staging, "death").unwrap();
    drop(store);
    let c = load(&env, "death", &staged[0]);
    let c = c.unwrap();
    assert!(c.rows_read > 0);
    assert_eq!(c.counts.iter().map(|c| c.rejected).sum::<u64>(), 0);
}

#[test]
fn the_artificial_hes_samples_load_into_the_national_zone() {
    let env = env();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/external-data/artificial-hes");
    for (dataset, file, rows) in [
        ("national.apc_episode", "artificial_hes_apc_0102_truncated.csv", 2075),
        ("national.op_attendance", "artificial_hes_op_0304_truncated.csv", 1000),
        ("national.ae_attendance", "artificial_hes_ae_0708_truncated.csv", 1000),
    ] {
        let r = load(&env, dataset, &base.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(r.rows_read, rows, "{file}");
        let national = &r.counts[0];
        assert_eq!(national.zone, Some(Zone::National));
        assert!(national.reconciles());
        // Relationships between fields are not preserved in artificial data
        // (SOURCE.md), so some rows fail date-order checks, but most load.
        assert!(national.written * 2 > rows, "{file}: {national:?}");
        assert!(!r.unused_columns.is_empty(), "{file}: reports the HES columns it does not use");
    }
    let apc = Store::open(&env.data).unwrap();
    let values = strings_under(&env.data.join("zones/national/apc_episode"));
    assert!(values.iter().any(|(c, v)| c == "TOKEN_PERSON_ID" && v.starts_with("TEST")), "PSEUDO_HESID becomes the token");
    assert!(!values.iter().any(|(c, _)| c == "MYDOB"));
    drop(apc);
}

#[test]
fn table_names_of_the_plan_are_known_feeds() {
    for (feed, path) in dir::plan(small()).unwrap().files {
        assert!(path.exists());
        assert_eq!(Feed::parse(&feed.name()).unwrap(), feed);
        assert!(Table::from_name(feed.table.name()).is_some());
    }
}

/// Every row of a zone's derived spells, each as text, sorted.
fn spell_rows(store: &Store, zone: Zone) -> Vec<String> {
    use arrow::util::display::array_value_to_string;
    let schema = haven_ingest::spells::schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut rows = Vec::new();
    store
        .scan(zone, haven_ingest::spells::DATASET, &names, |b| {
            for i in 0..b.num_rows() {
                let cells: Vec<String> = b.columns().iter().map(|c| array_value_to_string(c, i).unwrap()).collect();
                rows.push(cells.join("|"));
            }
            Ok(())
        })
        .unwrap();
    rows.sort();
    rows
}

#[test]
fn spells_are_derived_per_zone_and_rebuilt_only_when_the_episodes_change() {
    use haven_ingest::spells::{rebuild, refresh, DATASET};
    let env = env();
    // A zone's first APC load gathers its spells as the episodes stream
    // past, so nothing is left for refresh.
    let built: Vec<_> = load_all(&env).into_iter().flat_map(|r| r.spells).collect();
    let mut store = Store::open_for_write(&env.data).unwrap();
    let mut zones: Vec<&str> = built.iter().map(|r| r.zone.as_str()).collect();
    zones.sort();
    assert_eq!(zones, ["national", "pseudonymised"]);
    assert!(built.iter().all(|r| r.streamed_seconds.is_some()));
    assert!(refresh(&mut store).unwrap().is_empty());
    for r in &built {
        // One spell per distinct provider spell number among the zone's episodes.
        let zone = Zone::from_name(&r.zone).unwrap();
        let mut spells: HashSet<String> = HashSet::new();
        let mut episodes = 0u64;
        store
            .scan(zone, "apc_episode", &["PROVSPNOPS"], |b| {
                let a = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
                let a = a.as_any().downcast_ref::<StringArray>().unwrap();
                episodes += a.iter().flatten().count() as u64;
                spells.extend(a.iter().flatten().map(str::to_owned));
                Ok(())
            })
            .unwrap();
        assert_eq!((r.episodes, r.spells), (episodes, spells.len() as u64), "{}", r.zone);
        assert!(r.spells > 100 && r.spells < r.episodes, "{r:?}");
        assert!(store.is_current(zone, DATASET).unwrap());
        // Gathered while loading or rebuilt from the committed parts: the
        // same rows.
        let streamed = spell_rows(&store, zone);
        let again = rebuild(&mut store, zone).unwrap();
        assert_eq!((again.episodes, again.spells), (r.episodes, r.spells));
        assert_eq!(spell_rows(&store, zone), streamed, "{}", r.zone);
    }
    let built_local = built.iter().find(|r| r.zone == "pseudonymised").unwrap().episodes;
    // Nothing changed: nothing is rebuilt.
    assert!(refresh(&mut store).unwrap().is_empty());

    // More local episodes: the local derivation is stale (sessions stop
    // reading it) until the next refresh; the national one is untouched.
    let extra = env.data.parent().unwrap().join("apc_extra.psv");
    let text = std::fs::read_to_string(small().join("dscro/QMJ/apc_episode.psv")).unwrap();
    std::fs::write(&extra, text.lines().take(40).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    drop(store);
    let mut store = Store::open_for_write(&env.data).unwrap();
    ingest(&mut store, &IngestRequest::new(Feed::parse("apc_episode").unwrap(), &extra, IngestPolicy::for_icb("QMJ"), &env.keys), &mut |_| {}).unwrap();
    assert!(!store.is_current(Zone::Pseudonymised, DATASET).unwrap());
    assert!(store.is_current(Zone::National, DATASET).unwrap());
    let rebuilt = refresh(&mut store).unwrap();
    assert_eq!(rebuilt.len(), 1);
    assert_eq!(rebuilt[0].zone, "pseudonymised");
    assert!(rebuilt[0].episodes > built_local);
    assert!(store.is_current(Zone::Pseudonymised, DATASET).unwrap());
    // The superseded derivation's files are gone: one load of spells per zone.
    assert_eq!(store.dataset_loads(Zone::Pseudonymised, DATASET).unwrap().len(), 1);
}

#[test]
fn a_load_told_not_to_derive_spells_leaves_them_to_refresh() {
    use haven_ingest::spells::{refresh, DATASET};
    let env = env();
    let mut store = Store::open_for_write(&env.data).unwrap();
    let mut req = request(&env, "national.apc_episode", &small().join("national/apc_episode.psv"));
    req.derive_spells = false;
    let r = ingest(&mut store, &req, &mut |_| {}).unwrap();
    assert!(r.spells.is_empty());
    assert!(store.dataset_loads(Zone::National, DATASET).unwrap().is_empty());
    let built = refresh(&mut store).unwrap();
    assert_eq!(built.len(), 1);
    assert!(built[0].streamed_seconds.is_none() && built[0].spells > 100);
}
