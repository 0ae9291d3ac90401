//! Issue 15 item 1: the catalogue on NHS Digital's artificial HES (the
//! files in `shared/external-data/artificial-hes`), loaded as a new user
//! would load a national extract. The files have no SUSSPELLID or
//! PROVSPNOPS, so every spell is keyed by person + provider + admission
//! date; their fields are generated independently (SOURCE.md), so the
//! checks are of plausibility, not of exact values.

use std::path::{Path, PathBuf};

use haven_analytics::{compute_catalogue, find, Breakdown, Period, Scope, Source};
use haven_governance::disclosure::{Cell, Policy};
use haven_governance::dsa::{Dsa, Purpose, Role};
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_ingest::{ingest, Feed, IngestPolicy, IngestRequest, Keys};
use haven_model::Date;
use haven_store::{Store, ZoneSession};

fn artificial(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/external-data/artificial-hes").join(file)
}

struct Loaded {
    _tmp: tempfile::TempDir,
    session: ZoneSession,
    spells_keyed: haven_ingest::spells::Keyed,
    placeholders: u64,
    faults: std::collections::BTreeMap<String, u64>,
}

/// The APC, OP and A&E files in the national zone under the demo agreement, and
/// an analyst's benchmarking session over them.
fn loaded() -> Loaded {
    let tmp = tempfile::tempdir().unwrap();
    let (data, keys) = (tmp.path().join("data"), tmp.path().join("keys"));
    Keys::init(&keys).unwrap();
    let mut store = Store::open_for_write(&data).unwrap();
    let (mut keyed, mut placeholders, mut faults) = (None, 0, std::collections::BTreeMap::new());
    for (dataset, file) in [
        ("national.apc_episode", "artificial_hes_apc_0102_truncated.csv"),
        ("national.op_attendance", "artificial_hes_op_0304_truncated.csv"),
        ("national.ae_attendance", "artificial_hes_ae_0708_truncated.csv"),
    ] {
        let mut policy = IngestPolicy::for_icb("QMJ");
        policy.dsa = Some("DSA-HAVEN-DEMO".into());
        policy.dsa_version = Some(1);
        let req = IngestRequest::new(Feed::parse(dataset).unwrap(), &artificial(file), policy, &keys);
        let r = ingest(&mut store, &req, &mut |_| {}).unwrap();
        placeholders += r.placeholders;
        faults.extend(r.faults.clone());
        if let Some(s) = r.spells.first() {
            keyed = Some(s.keyed);
        }
    }
    let mut users = Users::open(&data).unwrap();
    users.add("ana", Role::Analyst, None, "a long enough passphrase").unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dsa/DSA-HAVEN-DEMO.toml");
    let dsa = Dsa::from_toml("DSA-HAVEN-DEMO.toml", &std::fs::read_to_string(path).unwrap()).unwrap();
    let g = grant(&users, "ana", Role::Analyst, Purpose::PopulationHealthBenchmarking, &dsa, Date::from_ymd(2026, 11, 23).unwrap()).unwrap();
    let session = ZoneSession::open(&store, &g).unwrap();
    Loaded { _tmp: tmp, session, spells_keyed: keyed.expect("the APC load derives spells as it streams"), placeholders, faults }
}

fn total(l: &Loaded, period: &str, id: &str) -> (u64, u64, Option<f64>) {
    let scope = Scope::of(&l.session, Source::National, Period::parse(period).unwrap());
    let t = compute_catalogue(&l.session, &scope, &Policy { national: true, ..Policy::default() }, &[find(id).unwrap()], &[Breakdown::Total]).unwrap().remove(0).total;
    let n = |c: Option<Cell>| match c {
        Some(Cell::Value(v)) => v,
        _ => 0,
    };
    (n(t.numerator), n(t.denominator), t.value)
}

#[test]
fn the_catalogue_gives_plausible_answers_on_artificial_hes() {
    let l = loaded();
    // No spell identifier in the file: every episode but the one rejected
    // (EPISTART 1801-01-01, the invalid-date sentinel) is keyed by person,
    // provider and admission date: 2,075 − 1 = 2,074.
    let k = l.spells_keyed;
    assert_eq!((k.sus_spell_id, k.provider_spell_number, k.person_provider_admission, k.unkeyed), (0, 0, 2_074, 0));
    // `-` in DIAG_4_02 (776 rows) and DIAG_4_07 (3) are placeholders, not
    // faults; the file's three codes that are not ICD-10 (`7999` in
    // DIAG_4_01, `0000` in DIAG_4_02 and DIAG_4_06) still are.
    assert!(l.placeholders >= 779, "{}", l.placeholders);
    let diag_faults: u64 = l.faults.iter().filter(|(f, _)| f.starts_with("DIAG_4_")).map(|(_, n)| n).sum();
    assert_eq!(diag_faults, 3, "{:?}", l.faults);

    // 2001-02, worked independently from the CSV (Python: group the 2,074
    // rows by PSEUDO_HESID, PROCODE3, ADMIDATE; discharge = latest valid
    // DISDATE; keep those discharged 1 April 2001 – 31 March 2002): each of
    // the 2,074 keys is its own spell (the generator does not keep a
    // spell's episodes together), 1,994 of them discharged in the year,
    // with 237,260 days between admission and discharge. The mean, 119.0
    // days, is not a real length of stay: the file's dates are drawn
    // independently of each other (SOURCE.md).
    assert_eq!(total(&l, "2001-02", "apc.spells").0, 1_994);
    assert_eq!(total(&l, "2001-02", "apc.bed_days").0, 237_260);
    let (_, _, mean) = total(&l, "2001-02", "apc.los_mean");
    assert_eq!(mean, Some(119.0), "237,260 / 1,994 = 118.99");
    // The median of the same 1,994 intervals (Python: statistics.median).
    assert_eq!(total(&l, "2001-02", "apc.los_median").2, Some(92.5));
    // Readmissions: a proportion with a non-empty denominator.
    let (num, den, _) = total(&l, "2001-02", "apc.emergency_readmission_30d");
    assert!(den > 1_000 && num > 0 && num * 5 < den, "{num}/{den}");
    // Urgent-care-sensitive admissions, falls among them through CAUSE_4.
    let (ucs, _, _) = total(&l, "2001-02", "apc.ucs");
    assert!(ucs > 0, "UCS admissions");
    // 2003-04 outpatients: attendances with a DNA rate below a half.
    let (dna, appts, _) = total(&l, "2003-04", "op.dna_rate");
    assert!(appts > 500 && dna * 2 < appts, "{dna}/{appts}");
    // 2007-08 A&E from HES A&E (no ECDS then), worked from the CSV: all
    // 1,000 attendances arrive in the year; DEPDUR ≤ 240 in 952 of them;
    // AEATTENDDISP 01 (admitted) in 202.
    assert_eq!(total(&l, "2007-08", "ae.attendances").0, 1_000);
    assert_eq!(total(&l, "2007-08", "ae.four_hours").0, 952);
    assert_eq!(total(&l, "2007-08", "ae.conversion").0, 202);
}

