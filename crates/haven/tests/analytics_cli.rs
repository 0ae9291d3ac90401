//! `haven indicators` end to end on the `small` synthetic ICB: a DSCRO
//! loads it, an analyst runs the catalogue, and every table written is
//! disclosure-controlled and every read audited.

mod common;
use common::{text, Haven};

#[test]
fn the_catalogue_runs_on_loaded_data_and_publishes_no_small_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let synth = common::small_synth();
    let dscro = h.signed("dscro");
    assert!(h.as_(&dscro, &["keys", "init"]).status.success());
    let load = h.as_(&dscro, &["ingest", "--from", synth.to_str().unwrap()]);
    assert!(load.status.success(), "{}", text(&load));

    let list = h.run(&["indicators", "list"]);
    assert!(text(&list).contains("apc.emergency_readmission_30d"));
    let show = h.run(&["indicators", "show", "ae.four_hours"]);
    assert!(text(&show).contains("methods.md §8.3"), "{}", text(&show));

    let ana = h.signed("analyst");
    let out = tmp.path().join("indicators");
    let run = h.as_(&ana, &["indicators", "run", "--period", "2024-25", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("apc.los_mean"), "{}", text(&run));
    let files: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "csv")).collect();
    assert!(files.len() >= 17 * 5, "{} tables", files.len());
    for f in &files {
        assert_protected(f, None);
    }
    // The whole catalogue on the `small` scale, by the breakdowns that do
    // not depend on pseudonyms, against the reviewed golden file.
    let mut catalogue = String::from("indicator,breakdown,group,numerator,denominator,value,lower_95,upper_95\n");
    let mut names: Vec<_> = files.iter().filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
    names.sort();
    for name in names {
        let Some((id, by)) = name.strip_suffix(".csv").and_then(|s| s.rsplit_once('.')) else { continue };
        if !["total", "month", "sex", "imd_quintile", "admission_type"].contains(&by) {
            continue;
        }
        for line in std::fs::read_to_string(out.join(&name)).unwrap().lines().skip(1) {
            catalogue.push_str(&format!("{id},{by},{line}\n"));
        }
    }
    golden("catalogue_small_2024-25.csv", &catalogue);
    // Spells read from the dataset ingest derived give exactly the tables
    // the reference SQL gives deriving them from episodes, by every
    // breakdown (practice and PCN included).
    let reference = tmp.path().join("reference");
    let run = h.as_(&ana, &["indicators", "run", "--period", "2024-25", "--from-episodes", "--out", reference.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run));
    for f in &files {
        let name = f.file_name().unwrap();
        assert_eq!(std::fs::read_to_string(f).unwrap(), std::fs::read_to_string(reference.join(name)).unwrap(), "{}", name.to_string_lossy());
    }
    assert!(out.join("charts/ae.four_hours.month.spc.svg").is_file());
    assert!(out.join("ae.four_hours.practice.parquet").is_file());
    let auditor = h.signed("auditor");
    let csv = tmp.path().join("audit.csv");
    assert!(h.as_(&auditor, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    // The catalogue read the derived spells; the reference run the episodes.
    for dataset in ["apc_spell_derived", "apc_episode", "ecds_attendance", "op_attendance"] {
        assert!(
            log.lines().any(|l| l.contains(",read,") && l.contains(&format!("pseudonymised.{dataset}")) && l.contains("commissioning")),
            "read of {dataset} audited"
        );
    }
    assert!(log.contains(",indicators.run,"));

    // The readmission choices the source leaves open are options: without
    // the cancer/chemotherapy exclusion more readmissions count.
    let rate = |extra: &[&str]| -> f64 {
        let dir = tmp.path().join(format!("readmissions{}", extra.len()));
        let mut args = vec!["indicators", "run", "--only", "apc.emergency_readmission_30d", "--by", "total", "--out", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let run = h.as_(&ana, &args);
        assert!(run.status.success(), "{}", text(&run));
        let body = std::fs::read_to_string(dir.join("apc.emergency_readmission_30d.total.csv")).unwrap();
        body.lines().nth(1).unwrap().split(',').nth(3).unwrap().parse().unwrap()
    };
    let (default, no_cancer) = (rate(&[]), rate(&["--readmission-cancer-codes", "none"]));
    assert!(no_cancer > default, "{no_cancer} vs {default}");
}

/// Compares `actual` with `tests/golden/<name>`; `UPDATE_GOLDEN=1` rewrites
/// it (review the diff before committing).
fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}; run with UPDATE_GOLDEN=1 to create it", path.display()));
    if expected != actual {
        let diff: Vec<String> = expected.lines().zip(actual.lines()).filter(|(a, b)| a != b).take(5).map(|(a, b)| format!("- {a}\n+ {b}")).collect();
        panic!("{} differs from the golden file ({} vs {} lines):\n{}", name, expected.lines().count(), actual.lines().count(), diff.join("\n"));
    }
}

/// Published counts: `*`, empty, 0, or a multiple of 5 above 7.
fn assert_protected(path: &std::path::Path, skip_group: Option<&str>) {
    let body = std::fs::read_to_string(path).unwrap();
    for line in body.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if Some(cells[0]) == skip_group {
            continue;
        }
        for c in &cells[cells.len() - 5..cells.len() - 3] {
            if let Ok(n) = c.parse::<u64>() {
                assert!(n == 0 || (n > 7 && n % 5 == 0), "{}: {line}", path.display());
            }
        }
    }
}

#[test]
fn the_benchmark_compares_an_icb_with_england_and_its_peers_from_the_national_extract_only() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let dscro = h.signed("dscro");
    assert!(h.as_(&dscro, &["keys", "init"]).status.success());
    let load = h.as_(&dscro, &["ingest", "--from", common::small_synth().to_str().unwrap()]);
    assert!(load.status.success(), "{}", text(&load));

    let out = tmp.path().join("bm");
    let args = ["benchmark", "--icb", "QMJ", "--out", out.to_str().unwrap()];
    // Signed in for commissioning, an analyst cannot open the national extract.
    let commissioning = h.signed("analyst");
    assert_eq!(h.as_(&commissioning, &args).status.code(), Some(3));
    let ana = h.login("analyst.user", Some("population_health_benchmarking"), Some("DSA-HAVEN-DEMO"));
    let run = h.as_(&ana, &args);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("QMJ against England and 10 peers"), "{}", text(&run));

    let peers = std::fs::read_to_string(out.join("peers.csv")).unwrap();
    assert_eq!(peers.lines().count(), 11, "{peers}");
    assert!(!peers.contains(",QMJ,"), "the focus ICB is not its own peer");
    let bench = std::fs::read_to_string(out.join("benchmark.csv")).unwrap();
    assert!(bench.lines().any(|l| l.starts_with("ae.four_hours,")), "{bench}");
    golden("benchmark_small_QMJ_2024-25.csv", &bench);
    golden("peers_small_QMJ_2024-25.csv", &peers);
    // The readmission flags reach the benchmark: without the cancer
    // exclusion England's readmission rate is higher.
    let england = |body: &str| -> f64 {
        let line = body.lines().find(|l| l.starts_with("apc.emergency_readmission_30d,")).unwrap();
        // value, lower, upper, england follow the quoted method.
        line.rsplit_once('"').unwrap().1.split(',').nth(4).unwrap().parse().unwrap()
    };
    let out2 = tmp.path().join("bm-no-cancer");
    let only = ["benchmark", "--icb", "QMJ", "--only", "apc.emergency_readmission_30d", "--readmission-cancer-codes", "none", "--out", out2.to_str().unwrap()];
    let run2 = h.as_(&ana, &only);
    assert!(run2.status.success(), "{}", text(&run2));
    let (with, without) = (england(&bench), england(&std::fs::read_to_string(out2.join("benchmark.csv")).unwrap()));
    assert!(without > with, "{without} vs {with}");
    // SHMI-style mortality for every provider in the national extract.
    assert!(text(&run).contains("SHMI-style mortality"), "{}", text(&run));
    let shmi = std::fs::read_to_string(out.join("shmi.csv")).unwrap();
    assert!(shmi.lines().count() > 20, "{shmi}");
    for line in shmi.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        // Observed deaths published only when 0 or above 7 (rounded to 5); then a ratio and band.
        match c[2].parse::<u64>() {
            Ok(n) => {
                assert!(n == 0 || (n > 7 && n % 5 == 0) && !c[4].is_empty() && ["1", "2", "3"].contains(&c[9]), "{line}");
                // The ratio is of the rounded count, so it gives back nothing finer.
                let (ratio, expected): (f64, f64) = (c[4].parse().unwrap(), c[3].parse().unwrap());
                assert!((ratio * expected - n as f64).abs() < 0.5, "{line}");
            }
            Err(_) => assert!(c[2] == "*" && c[4].is_empty() && c[9].is_empty(), "{line}"),
        }
    }
    golden("shmi_small_2024-25.csv", &shmi);
    assert!(out.join("shmi.funnel.svg").is_file());
    assert!(std::fs::read_to_string(out.join("spine.svg")).unwrap().contains("QMJ against England"));
    let by_icb: Vec<_> = std::fs::read_dir(out.join("by_icb")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(by_icb.iter().any(|p| p.to_string_lossy().ends_with("ae.four_hours.icb.funnel.svg")));
    assert!(by_icb.iter().any(|p| p.to_string_lossy().ends_with("ae.four_hours.icb.parquet")));
    for f in by_icb.iter().filter(|p| p.extension().is_some_and(|e| e == "csv")) {
        // England ("All") is national and published exactly; ICBs are not.
        assert_protected(f, Some("All"));
        let body = std::fs::read_to_string(f).unwrap();
        assert!(body.lines().filter(|l| !l.starts_with("All,") && !l.starts_with("Unknown,")).count() > 30, "{}: one row per ICB", f.display());
    }

    let outputs = h.as_(&ana, &["outputs", "list"]);
    assert!(text(&outputs).contains("Benchmark QMJ 2024-25") && text(&outputs).contains("pending"), "{}", text(&outputs));
    let auditor = h.signed("auditor");
    let csv = tmp.path().join("audit.csv");
    assert!(h.as_(&auditor, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    assert!(log.lines().any(|l| l.contains(",read,") && l.contains("national.apc_spell_derived") && l.contains("population_health_benchmarking")));
    assert!(!log.lines().any(|l| l.contains(",read,") && l.contains("pseudonymised.") && l.contains("population_health_benchmarking")), "no local data read for benchmarking");
    assert!(log.contains(",benchmark.run,") && log.contains(",output.submit,"));
    assert!(log.lines().any(|l| l.contains(",read,") && l.contains("national.death")), "registered deaths read for mortality, audited");
}

/// The benchmark's DuckDB side runs the engine's reference SQL (translated
/// to DuckDB's dialect) on the episode Parquet, on the derived spells and
/// from the CSV: all three must answer exactly as Haven does, or the
/// timings would compare different work.
#[test]
fn the_catalogue_benchmark_gets_duckdbs_answers_from_the_same_definitions() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let scratch = tmp.path().join("bench");
    let from = common::small_synth().to_str().unwrap();
    let run = h.run(&["--json", "bench", "catalogue", "--from", from, "--duckdb", "--scratch", scratch.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run));
    let out = String::from_utf8_lossy(&run.stdout);
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let haven = &v["haven_answer"];
    assert!(haven["rows"].as_u64().unwrap() > 10, "{v}");
    assert!(haven["sum"].as_i64().unwrap() > 1000, "{v}");
    let duck = v["duckdb_answers"].as_array().unwrap();
    assert_eq!(duck.len(), 3);
    for d in duck {
        assert_eq!(d, haven, "{v}");
    }
    assert_eq!(v["answers_agree"], true);
}
