//! Integration tests of the generator on the `small` scale: determinism,
//! referential integrity, schema conformance, privacy of the national extract
//! and realism bounds from issue #2.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use haven_model::rules::{self, derive_spells, Episode};
use haven_model::schema::Table;
use haven_model::{Date, NhsNumber};
use haven_synth::{build_key, generate, generate_shared, Scale, SynthConfig};

/// One generated `small` dataset shared by every test in this binary.
fn small() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("haven-synth-tests");
        let key = build_key(&std::env::current_exe().unwrap());
        generate_shared(&SynthConfig { scale: Scale::Small, ..Default::default() }, &root, &key).unwrap()
    })
}

/// A pipe-delimited file as header plus rows of fields.
struct Psv {
    cols: HashMap<String, usize>,
    rows: Vec<Vec<String>>,
}

impl Psv {
    fn read(path: &Path) -> Psv {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('|').collect();
        let cols = header.iter().enumerate().map(|(i, c)| (c.to_string(), i)).collect();
        let rows: Vec<Vec<String>> = lines.map(|l| l.split('|').map(str::to_string).collect()).collect();
        for r in &rows {
            assert_eq!(r.len(), header.len(), "{}: row width differs from header", path.display());
        }
        Psv { cols, rows }
    }
    fn get<'a>(&self, row: &'a [String], col: &str) -> &'a str {
        &row[*self.cols.get(col).unwrap_or_else(|| panic!("no column {col}"))]
    }
    fn column(&self, col: &str) -> impl Iterator<Item = &str> {
        let i = self.cols[col];
        self.rows.iter().map(move |r| r[i].as_str())
    }
}

fn file(rel: &str) -> Psv {
    Psv::read(&small().join(rel))
}

fn sha_of_tree(dir: &Path) -> Vec<(String, String)> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let digest = Sha256::digest(std::fs::read(&p).unwrap());
                out.push((p.strip_prefix(dir).unwrap().display().to_string(), format!("{digest:x}")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_gives_byte_identical_files_and_another_seed_does_not() {
    let a = sha_of_tree(small());
    let again = tempfile::tempdir().unwrap();
    generate(&SynthConfig { scale: Scale::Small, ..Default::default() }, again.path()).unwrap();
    assert_eq!(a, sha_of_tree(again.path()));
    let other = tempfile::tempdir().unwrap();
    generate(&SynthConfig { scale: Scale::Small, seed: 7, ..Default::default() }, other.path()).unwrap();
    let b = sha_of_tree(other.path());
    let apc = |v: &[(String, String)]| v.iter().find(|(f, _)| f == "national/apc_episode.psv").unwrap().1.clone();
    assert_ne!(apc(&a), apc(&b));
}

#[test]
fn every_header_is_a_subset_of_its_canonical_schema() {
    for (dir, names) in [("national", vec!["apc_episode", "op_attendance", "ecds_attendance", "cc_period", "death"]),
        ("dscro/QMJ", vec!["apc_episode", "op_attendance", "ecds_attendance", "cc_period", "death", "gp_patient", "gp_registration", "gp_event", "gp_medication", "invoice_header", "invoice_line", "mhsds_summary", "optout_clean_list"]),
        ("reference", vec!["org", "lsoa_lookup", "postcode_lookup", "population", "tariff_apc", "mff"])]
    {
        for name in names {
            let table = Table::from_name(name).unwrap();
            let schema = table.schema();
            let psv = file(&format!("{dir}/{name}.psv"));
            for col in psv.cols.keys() {
                assert!(schema.field_with_name(col).is_ok(), "{dir}/{name}: column {col} is not in the canonical schema");
            }
            if dir == "national" {
                for col in table.identifiable_columns() {
                    assert!(!psv.cols.contains_key(col), "national/{name} must not carry {col}");
                }
            }
        }
    }
}

#[test]
fn codes_resolve_against_the_reference_tables() {
    let org = file("reference/org.psv");
    let codes: HashMap<&str, &str> = org.rows.iter().map(|r| (org.get(r, "ORG_CODE"), org.get(r, "ORG_TYPE"))).collect();
    let parents: Vec<(&str, &str, &str)> = org.rows.iter().map(|r| (org.get(r, "ORG_CODE"), org.get(r, "ORG_TYPE"), org.get(r, "PARENT_CODE"))).collect();
    let practices = parents.iter().filter(|p| p.1 == "GP_PRACTICE").count();
    let trusts = parents.iter().filter(|p| p.1 == "TRUST").count();
    let lsoa = file("reference/lsoa_lookup.psv");
    assert!((6_000..=6_700).contains(&practices), "{practices} practices");
    assert!((130..=170).contains(&trusts), "{trusts} acute trusts");
    assert!((32_000..=36_000).contains(&lsoa.rows.len()), "{} LSOAs", lsoa.rows.len());
    assert_eq!(parents.iter().filter(|p| p.1 == "ICB").count(), 42);
    for (code, kind, parent) in &parents {
        if !parent.is_empty() && *parent != "13Q" {
            assert!(codes.contains_key(parent), "{kind} {code}: parent {parent} unknown");
        }
    }
    let lsoas: HashSet<&str> = lsoa.column("LSOA21").collect();
    for l in &lsoa.rows {
        assert!(codes.get(lsoa.get(l, "SUB_ICB")) == Some(&"SUB_ICB"));
        let d: u8 = lsoa.get(l, "IMD_DECILE").parse().unwrap();
        assert!((1..=10).contains(&d));
    }
    for rel in ["national/apc_episode.psv", "dscro/QMJ/apc_episode.psv", "national/op_attendance.psv"] {
        let t = file(rel);
        for r in &t.rows {
            let prac = t.get(r, "GPPRAC");
            assert!(prac == "V81997" || codes.get(prac) == Some(&"GP_PRACTICE"), "{rel}: practice {prac}");
            assert!(lsoas.contains(t.get(r, "LSOA11")), "{rel}: LSOA");
            let pro = t.get(r, "PROCODE3");
            assert!(matches!(codes.get(pro), Some(&"TRUST") | Some(&"INDEPENDENT_PROVIDER")), "{rel}: provider {pro}");
            assert_eq!(codes.get(t.get(r, "SITETRET")), Some(&"SITE"));
        }
    }
    let postcodes: HashMap<&str, &str> = {
        let p = Box::leak(Box::new(file("reference/postcode_lookup.psv")));
        p.rows.iter().map(|r| (p.get(r, "POSTCODE"), p.get(r, "LSOA21"))).collect()
    };
    let local = file("dscro/QMJ/apc_episode.psv");
    for r in &local.rows {
        assert!(postcodes.contains_key(local.get(r, "POSTCODE")), "postcode resolves");
        NhsNumber::parse(local.get(r, "NEWNHSNO")).expect("valid NHS number");
    }
}

#[test]
fn the_national_extract_holds_no_identifier_of_the_local_flow() {
    let local = file("dscro/QMJ/apc_episode.psv");
    let nhs: HashSet<&str> = local.column("NEWNHSNO").collect();
    let postcodes: HashSet<&str> = local.column("POSTCODE").collect();
    for rel in ["national/apc_episode.psv", "national/op_attendance.psv", "national/ecds_attendance.psv", "national/death.psv"] {
        let bytes = std::fs::read_to_string(small().join(rel)).unwrap();
        let t = file(rel);
        for tok in t.column("TOKEN_PERSON_ID") {
            assert!(tok.len() == 32 && tok.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        for n in nhs.iter().take(200) {
            assert!(!bytes.contains(n), "{rel} contains a local NHS number");
        }
        for p in postcodes.iter().take(50) {
            assert!(!bytes.contains(p), "{rel} contains a postcode");
        }
    }
}

fn d(s: &str) -> Option<Date> {
    (!s.is_empty()).then(|| Date::parse(s).unwrap())
}

/// Provider spells of the national extract, through the shared rule.
fn national_spells() -> Vec<rules::Spell> {
    let t = file("national/apc_episode.psv");
    let eps: Vec<Episode> = t
        .rows
        .iter()
        .map(|r| Episode {
            epikey: t.get(r, "EPIKEY").into(),
            person: t.get(r, "TOKEN_PERSON_ID").into(),
            susspellid: Some(t.get(r, "SUSSPELLID").into()),
            procode3: t.get(r, "PROCODE3").into(),
            provspno: Some(t.get(r, "PROVSPNOPS").into()),
            epistat: t.get(r, "EPISTAT").into(),
            epiorder: t.get(r, "EPIORDER").parse().ok(),
            epistart: d(t.get(r, "EPISTART")),
            epiend: d(t.get(r, "EPIEND")),
            admidate: d(t.get(r, "ADMIDATE")),
            disdate: d(t.get(r, "DISDATE")),
            admimeth: t.get(r, "ADMIMETH").into(),
            admisorc: t.get(r, "ADMISORC").into(),
            classpat: t.get(r, "CLASSPAT").into(),
            dismeth: t.get(r, "DISMETH").into(),
            disdest: t.get(r, "DISDEST").into(),
            spelend: t.get(r, "SPELEND") == "Y",
            diag_4_01: Some(t.get(r, "DIAG_4_01").into()),
        })
        .collect();
    derive_spells(&eps)
}

#[test]
fn thirty_day_emergency_readmissions_are_twelve_to_fifteen_percent() {
    let spells = national_spells();
    let mut by_person: HashMap<&str, Vec<&rules::Spell>> = HashMap::new();
    for s in &spells {
        by_person.entry(s.person.as_str()).or_default().push(s);
    }
    let (mut index, mut readmitted) = (0u32, 0u32);
    for list in by_person.values_mut() {
        list.sort_by_key(|s| s.admidate);
        for (i, s) in list.iter().enumerate() {
            // Index: emergency discharges alive, not transferred out.
            let Some(dis) = s.disdate else { continue };
            if !rules::is_emergency(&s.admimeth) || rules::died_in_hospital(&s.dismeth) || s.disdest == "51" {
                continue;
            }
            index += 1;
            // Readmission: a new emergency admission 0–29 days after discharge.
            if list[i + 1..].iter().any(|t| {
                rules::is_emergency(&t.admimeth) && !rules::is_transfer_in(&t.admimeth) && (0..=29).contains(&t.admidate.unwrap().days_since(dis))
            }) {
                readmitted += 1;
            }
        }
    }
    let share = f64::from(readmitted) / f64::from(index);
    assert!(index > 5_000, "{index} index discharges");
    assert!((0.12..=0.15).contains(&share), "readmission share {share:.3}");
}

#[test]
fn activity_has_the_structure_and_shares_the_issue_asks_for() {
    let spells = national_spells();
    let n = spells.len() as f64;
    let count = |f: &dyn Fn(&rules::Spell) -> bool| spells.iter().filter(|s| f(s)).count();
    let multi = count(&|s| s.episode_count > 1);
    assert!(multi as f64 / n > 0.08, "multi-episode spells {multi}");
    assert!(count(&|s| rules::is_transfer_in(&s.admimeth)) > 20, "transfers");
    assert!(count(&|s| rules::died_in_hospital(&s.dismeth)) > 100, "in-hospital deaths");
    assert!(count(&|s| rules::to_care_home(&s.disdest)) > 50, "discharges to care homes");
    assert!(count(&|s| rules::is_elective(&s.admimeth) && s.classpat == "2") > 5_000, "day cases");
    // Per-year England equivalents at 1 in 1,000: about 20M APC episodes.
    let apc = file("national/apc_episode.psv").rows.len() as f64 / 2.0 * 1000.0;
    assert!((17e6..=23e6).contains(&apc), "APC episodes per national year {apc}");

    let op = file("national/op_attendance.psv");
    let dna = op.column("ATTENDED").filter(|a| rules::op_dna(a)).count() as f64 / op.rows.len() as f64;
    assert!((0.06..=0.08).contains(&dna), "DNA share {dna:.3}");
    assert!(op.column("ATTENDED").any(|a| a == "2") && op.column("ATTENDED").any(|a| a == "4"), "cancellations");

    let ecds = file("national/ecds_attendance.psv");
    let within = ecds.column("DEPARTURE_TIME_SINCE_ARRIVAL").filter(|m| m.parse::<u32>().unwrap() <= 240).count() as f64;
    let share = within / ecds.rows.len() as f64;
    assert!((0.6..=0.85).contains(&share), "four-hour share {share:.3}");
    let out_of_hours = ecds.column("ARRIVAL_TIME").filter(|t| *t < "08:00" || *t >= "18:30").count();
    assert!(out_of_hours as f64 / ecds.rows.len() as f64 > 0.2, "out-of-hours arrivals");

    let apc_rows = file("national/apc_episode.psv");
    let delayed = apc_rows.rows.iter().filter(|r| {
        let (ready, dis) = (apc_rows.get(r, "DISREADYDATE"), apc_rows.get(r, "DISDATE"));
        !ready.is_empty() && ready < dis
    });
    assert!(delayed.count() > 100, "delayed discharges");
    let waits: Vec<i64> = apc_rows.column("ELECDUR").filter(|w| !w.is_empty()).map(|w| w.parse().unwrap()).collect();
    assert!(waits.iter().all(|w| *w > 0) && waits.len() > 5_000, "elective waits");
}

#[test]
fn deprived_areas_have_more_emergency_admissions() {
    let t = file("national/apc_episode.psv");
    let pop = file("reference/population.psv");
    let mut adm = [0f64; 11];
    for r in &t.rows {
        if t.get(r, "EPIORDER") == "01" && rules::is_emergency(t.get(r, "ADMIMETH")) {
            adm[t.get(r, "IMD_DECILE").parse::<usize>().unwrap()] += 1.0;
        }
    }
    let lsoa = file("reference/lsoa_lookup.psv");
    let decile: HashMap<&str, usize> = lsoa.rows.iter().map(|r| (lsoa.get(r, "LSOA21"), lsoa.get(r, "IMD_DECILE").parse().unwrap())).collect();
    let mut people = [0f64; 11];
    for r in &pop.rows {
        if pop.get(r, "AREA_TYPE") == "LSOA" && pop.get(r, "FYEAR") == "2425" {
            people[decile[pop.get(r, "AREA_CODE")]] += pop.get(r, "POPULATION").parse::<f64>().unwrap();
        }
    }
    let rate = |k: usize| adm[k] / people[k];
    assert!(rate(1) > 1.5 * rate(10), "most deprived {:.4} vs least {:.4}", rate(1), rate(10));
}

#[test]
fn invoices_reconcile_and_ground_truth_names_every_error() {
    let header = file("dscro/QMJ/invoice_header.psv");
    let lines = file("dscro/QMJ/invoice_line.psv");
    let mut totals: HashMap<&str, i64> = HashMap::new();
    for r in &lines.rows {
        *totals.entry(lines.get(r, "INVOICE_ID")).or_default() += lines.get(r, "LINE_AMOUNT").parse::<i64>().unwrap();
    }
    for r in &header.rows {
        assert_eq!(totals[header.get(r, "INVOICE_ID")], header.get(r, "TOTAL_NET").parse::<i64>().unwrap());
    }
    let truth = file("ground_truth/invoice_errors.psv");
    let kinds: HashSet<&str> = truth.column("ERROR_KIND").collect();
    for k in [
        "NOT_RESPONSIBLE_COMMISSIONER",
        "DUPLICATE",
        "PRICE_ABOVE_TARIFF",
        "NO_SUS_RECORD",
        "ACTIVITY_AFTER_DEATH",
        "NCA_WRONG_COMMISSIONER",
        "NO_PRIOR_APPROVAL",
        "EBI_NO_PRIOR_APPROVAL",
        "INSIDE_SPELL",
    ] {
        assert!(kinds.contains(k), "no {k} error injected");
    }
    let share = truth.rows.len() as f64 / lines.rows.len() as f64;
    assert!((0.02..=0.08).contains(&share), "error share {share:.3}");
    let numbers: HashSet<(&str, &str)> = {
        let id_to_no: HashMap<&str, &str> = header.rows.iter().map(|r| (header.get(r, "INVOICE_ID"), header.get(r, "INVOICE_NUMBER"))).collect();
        lines.rows.iter().map(|r| (id_to_no[lines.get(r, "INVOICE_ID")], lines.get(r, "LINE_NO"))).collect()
    };
    for r in &truth.rows {
        assert!(numbers.contains(&(truth.get(r, "INVOICE_NUMBER"), truth.get(r, "LINE_NO"))), "truth names a real line");
    }
}

#[test]
fn people_move_some_are_unregistered_some_opt_out_and_polypharmacy_occurs() {
    let reg = file("dscro/QMJ/gp_registration.psv");
    let mut periods: HashMap<&str, u32> = HashMap::new();
    for n in reg.column("NHS_NUMBER") {
        *periods.entry(n).or_default() += 1;
    }
    assert!(periods.values().any(|&k| k >= 2), "someone changed practice");
    assert!(file("national/apc_episode.psv").column("GPPRAC").any(|p| p == "V81997"), "unregistered people");
    let truth = file("ground_truth/persons.psv");
    let opted = truth.column("OPTED_OUT").filter(|o| *o == "true").count() as f64 / truth.rows.len() as f64;
    assert!((0.03..=0.08).contains(&opted), "opt-out share {opted:.3}");
    let meds = file("dscro/QMJ/gp_medication.psv");
    let mut distinct: HashMap<&str, HashSet<&str>> = HashMap::new();
    for r in &meds.rows {
        distinct.entry(meds.get(r, "NHS_NUMBER")).or_default().insert(meds.get(r, "BNF_CODE"));
    }
    assert!(distinct.values().any(|s| s.len() >= 10), "polypharmacy (10+ medicines)");
}
