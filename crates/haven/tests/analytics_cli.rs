//! `haven indicators` end to end on the `small` synthetic ICB: a DSCRO
//! loads it, an analyst runs the catalogue, and every table written is
//! disclosure-controlled and every read audited. Outputs are held inside
//! the data directory until two reviewers release them (issue 14 item 2).

use std::path::PathBuf;
use std::process::Output;

mod common;
use common::{text, Haven};

/// The id a run printed for the output it held, and that output's folder.
fn held(h: &Haven, run: &Output) -> (String, PathBuf) {
    let t = text(run);
    let id = t.split_whitespace().find(|w| w.starts_with("OUT-")).unwrap_or_else(|| panic!("no output id in: {t}"));
    let id = id.trim_end_matches(|c: char| !c.is_ascii_digit()).to_owned();
    let dir = h.data.join("outputs").join(&id);
    (id, dir)
}

/// A DSCRO's session after loading the `small` synthetic ICB into `h`.
fn load_small(h: &Haven) -> String {
    let dscro = h.signed("dscro");
    assert!(h.as_(&dscro, &["keys", "init"]).status.success());
    let load = h.as_(&dscro, &["ingest", "--from", common::small_synth().to_str().unwrap()]);
    assert!(load.status.success(), "{}", text(&load));
    dscro
}

#[test]
fn the_catalogue_runs_on_loaded_data_and_publishes_no_small_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    load_small(&h);

    let list = h.run(&["indicators", "list"]);
    assert!(text(&list).contains("apc.emergency_readmission_30d"));
    let show = h.run(&["indicators", "show", "ae.four_hours"]);
    assert!(text(&show).contains("methods.md §8.3"), "{}", text(&show));

    let ana = h.signed("analyst");
    let run = h.as_(&ana, &["indicators", "run", "--period", "2024-25"]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("apc.los_mean"), "{}", text(&run));
    let (id, out) = held(&h, &run);
    let files: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "csv")).collect();
    assert!(files.len() >= 17 * 5, "{} tables", files.len());
    // Every table but the slope indices and the practices' areas (codes of
    // organisations, no counts: `practice,pcn,sub_icb`).
    for f in files.iter().filter(|f| !f.to_string_lossy().ends_with(".sii.csv") && !f.ends_with("areas.csv")) {
        assert_protected(f, None);
        assert_values_from_published_counts(f);
    }
    let areas = std::fs::read_to_string(out.join("areas.csv")).unwrap();
    assert!(areas.starts_with("practice,pcn,sub_icb\n") && areas.lines().count() > 10, "{areas}");
    for line in areas.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert!(cells.len() == 3 && cells.iter().all(|c| c.len() <= 6 && c.chars().all(|ch| ch.is_ascii_alphanumeric())), "{line}");
    }
    show_renders_every_file(&h, &ana, &id, &out);
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
    let run = h.as_(&ana, &["indicators", "run", "--period", "2024-25", "--from-episodes"]);
    assert!(run.status.success(), "{}", text(&run));
    let (_, reference) = held(&h, &run);
    for f in &files {
        let name = f.file_name().unwrap();
        assert_eq!(std::fs::read_to_string(f).unwrap(), std::fs::read_to_string(reference.join(name)).unwrap(), "{}", name.to_string_lossy());
    }
    assert!(out.join("ae.four_hours.month.spc.svg").is_file());
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
        let mut args = vec!["indicators", "run", "--only", "apc.emergency_readmission_30d", "--by", "total"];
        args.extend_from_slice(extra);
        let run = h.as_(&ana, &args);
        assert!(run.status.success(), "{}", text(&run));
        let (_, dir) = held(&h, &run);
        let body = std::fs::read_to_string(dir.join("apc.emergency_readmission_30d.total.csv")).unwrap();
        body.lines().nth(1).unwrap().split(',').nth(3).unwrap().parse().unwrap()
    };
    // At this scale the published rate (from counts rounded to 5) hides a
    // difference of a readmission or two, so the option is seen reaching the
    // run in its audit entry; the benchmark test sees its effect on England.
    let (default, no_cancer) = (rate(&[]), rate(&["--readmission-cancer-codes", "none"]));
    assert!(no_cancer >= default, "{no_cancer} vs {default}");
    assert!(h.as_(&auditor, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    assert!(log.lines().any(|l| l.contains(",indicators.run,") && l.contains("cancer_codes: []")), "the option reached the run");
}

/// `outputs show` presents every file of the held output `id` (folder
/// `dir`) to a reviewer: its name and hash, each table's rows (CSV as
/// written, JSON and Parquet as rows), each chart's title and the table it
/// plots; `--json` gives the same files rendered.
fn show_renders_every_file(h: &Haven, reviewer: &str, id: &str, dir: &std::path::Path) {
    use sha2::{Digest, Sha256};
    let show = h.as_(reviewer, &["outputs", "show", id]);
    assert!(show.status.success(), "{}", text(&show));
    let body = String::from_utf8_lossy(&show.stdout).into_owned();
    assert!(!body.contains("WARNING"), "{body}");
    let sections: std::collections::BTreeMap<&str, &str> =
        body.split("\n== ").skip(1).map(|s| s.split_once("  ").map_or((s, ""), |(name, rest)| (name, rest))).collect();
    let names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(sections.len(), names.len(), "one section per held file");
    for name in &names {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let section = sections.get(name.as_str()).unwrap_or_else(|| panic!("{name} not shown"));
        let sha: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert!(section.starts_with(&format!("sha256 {sha}  (as written)")), "{name}: {section}");
        let ext = name.rsplit_once('.').unwrap().1;
        match ext {
            "csv" => assert!(section.contains(std::str::from_utf8(&bytes).unwrap()), "{name} printed"),
            "svg" => {
                let svg = String::from_utf8(bytes).unwrap();
                let title = &svg[svg.find("<title>").unwrap() + 7..svg.find("</title>").unwrap()];
                assert!(section.contains(&format!("chart: {}", title.replace("&amp;", "&"))), "{name}: {section}");
                let data = section.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                assert!(names.iter().any(|n| n == data) && data.ends_with(".csv"), "{name} plots {data}");
            }
            "parquet" | "json" => {
                // The same rows as the CSV table of the same stem.
                let csv = std::fs::read_to_string(dir.join(name.replace(&format!(".{ext}"), ".csv"))).unwrap();
                for line in csv.lines().skip(1) {
                    let group = line.split(',').next().unwrap().trim_matches('"');
                    assert!(section.contains(group), "{name} shows group {group}: {section}");
                }
                if ext == "parquet" {
                    assert!(section.contains(&format!("{} rows:", csv.lines().count() - 1)), "{name}: {section}");
                }
            }
            other => panic!("{name}: an output holds no .{other} file"),
        }
    }
    let json = h.as_(reviewer, &["--json", "outputs", "show", id]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&json)));
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), names.len());
    assert!(files.iter().all(|f| f["state"] == "held" && f["rendering"].is_object() && f["sha256"].is_string()), "{v}");
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

/// Issue 14 item 4: every published value is its own published counts'
/// ratio (a percentage or a mean) at 1 d.p., so value × published
/// denominator gives back the published numerator and nothing finer; the
/// JSON and Parquet beside the CSV carry no more digits.
fn assert_values_from_published_counts(path: &std::path::Path) {
    let body = std::fs::read_to_string(path).unwrap();
    for line in body.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let [num, den, value, lower, upper] = cells[cells.len() - 5..] else { unreachable!() };
        for v in [value, lower, upper].into_iter().filter(|v| !v.is_empty()) {
            assert_eq!(v.split_once('.').map(|(_, d)| d.len()), Some(1), "{}: {line}", path.display());
        }
        if let (Ok(n), Ok(d), Ok(v)) = (num.parse::<f64>(), den.parse::<f64>(), value.parse::<f64>()) {
            let near = |x: f64| (v - x).abs() <= 0.05 + 1e-9;
            assert!(d > 0.0 && (near(100.0 * n / d) || near(n / d)), "{}: {line}", path.display());
        }
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap().iter().chain([&json["total"]]);
    for r in rows {
        for k in ["value", "lower", "upper"] {
            if let Some(x) = r[k].as_f64() {
                assert!(((x * 10.0).round() - x * 10.0).abs() < 1e-6, "{}: {k} {x}", path.display());
            }
        }
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

    let args = ["benchmark", "--icb", "QMJ"];
    // Signed in for commissioning, an analyst cannot open the national extract.
    let commissioning = h.signed("analyst");
    assert_eq!(h.as_(&commissioning, &args).status.code(), Some(3));
    let ana = h.login("analyst.user", Some("population_health_benchmarking"), Some("DSA-HAVEN-DEMO"));
    let run = h.as_(&ana, &args);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("QMJ against England and 10 peers"), "{}", text(&run));
    let (id, out) = held(&h, &run);
    show_renders_every_file(&h, &ana, &id, &out);

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
    let only = ["benchmark", "--icb", "QMJ", "--only", "apc.emergency_readmission_30d", "--readmission-cancer-codes", "none"];
    let run2 = h.as_(&ana, &only);
    assert!(run2.status.success(), "{}", text(&run2));
    let (_, out2) = held(&h, &run2);
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
    assert!(std::fs::read_to_string(out.join("benchmark.spine.svg")).unwrap().contains("QMJ against England"));
    let by_icb: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().contains(".icb.")).collect();
    assert!(by_icb.iter().any(|p| p.to_string_lossy().ends_with("ae.four_hours.icb.funnel.svg")));
    assert!(by_icb.iter().any(|p| p.to_string_lossy().ends_with("ae.four_hours.icb.parquet")));
    for f in by_icb.iter().filter(|p| p.extension().is_some_and(|e| e == "csv")) {
        // England ("All") is protected like the ICBs (issue 14 item 4): an
        // exact England minus the published ICBs would narrow a hidden one.
        assert_protected(f, None);
        assert_values_from_published_counts(f);
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

/// `haven bench iv` compares Haven's whole validation with DuckDB's core
/// join on the same CEfF Parquet: the two must agree on the work before
/// their times mean anything — DuckDB's repricing finds exactly the APC
/// lines Haven challenges for their price, and matches by key no more APC
/// lines than there are.
#[test]
fn the_invoice_validation_benchmark_and_duckdbs_repricing_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let scratch = tmp.path().join("bench");
    let run = h.run(&["--json", "bench", "iv", "--scale", "small", "--duckdb", "--scratch", scratch.to_str().unwrap()]);
    assert!(run.status.success(), "{}", text(&run));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let (apc, matched) = (v["apc_lines"].as_u64().unwrap(), v["duckdb_matched"].as_u64().unwrap());
    assert!(apc > 100 && v["lines"].as_u64().unwrap() > apc, "{v}");
    assert_eq!(v["duckdb_apc_lines"].as_u64(), Some(apc), "{v}");
    assert!(matched > apc * 9 / 10 && matched <= apc, "{v}");
    assert!(v["apc_price_challenged"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["duckdb_price_differs"], v["apc_price_challenged"], "{v}");
    assert!(v["haven_validate_seconds"].as_f64().unwrap() > 0.0 && v["duckdb_core_join_seconds"].as_f64().unwrap() > 0.0);
}

/// `haven bench risk` (issue 18 §7) times every stage of risk
/// stratification on its own and end to end, beside the targets, with the
/// model's held-out AUC and the ground truth's ceiling; `--reuse` runs the
/// same stages again on the store it loaded, with the same answer.
#[test]
fn the_risk_benchmark_times_every_stage_and_reports_auc_beside_the_ceiling() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let scratch = tmp.path().join("bench");
    let bench = |reuse: bool| -> serde_json::Value {
        let mut args = vec!["--json", "bench", "risk", "--scale", "small", "--scratch", scratch.to_str().unwrap()];
        if reuse {
            args.push("--reuse");
        }
        let run = h.run(&args);
        assert!(run.status.success(), "{}", text(&run));
        serde_json::from_slice(&run.stdout).unwrap()
    };
    let v = bench(false);
    let stages: Vec<&str> = v["stages"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(stages, ["read", "score", "features", "fit", "evaluate", "segment"], "{v}");
    for s in v["stages"].as_array().unwrap() {
        assert!(s["seconds"].as_f64().unwrap() > 0.0 && s["peak_rss_mib"].as_f64().unwrap() > 0.0, "{v}");
    }
    let stage_sum: f64 = v["stages"].as_array().unwrap().iter().map(|s| s["seconds"].as_f64().unwrap()).sum();
    assert!(v["total_seconds"].as_f64().unwrap() >= stage_sum * 0.99, "{v}");
    assert!(v["generate_seconds"].as_f64().unwrap() > 0.0 && v["load_seconds"].as_f64().unwrap() > 0.0, "{v}");
    assert_eq!((v["target_seconds"].as_f64(), v["target_peak_rss_mib"].as_f64()), (Some(60.0), Some(4096.0)), "{v}");
    let people = v["people"].as_u64().unwrap();
    assert!(people > 0 && v["held_out"].as_u64().unwrap() > 0 && v["feature_columns"].as_u64().unwrap() > 10, "{v}");
    assert_eq!(v["trained_on"].as_u64().unwrap() + v["held_out"].as_u64().unwrap(), people, "{v}");
    let in_range = |x: &serde_json::Value| x.as_f64().is_some_and(|a| a > 0.5 && a <= 1.0);
    assert!(in_range(&v["auc"]["model"]) && in_range(&v["true_risk_ceiling_auc"]), "{v}");
    assert!(v["truth_matched"].as_u64().unwrap() > 0, "{v}");
    let again = bench(true);
    assert!(again["generate_seconds"].is_null() && again["load_seconds"].is_null(), "{again}");
    for same in ["people", "held_out", "auc", "true_risk_ceiling_auc", "top_risk_people"] {
        assert_eq!(again[same], v[same], "{same}: {again}");
    }
}

/// Issue 14 item 2: record-level data cannot leave through the output
/// release. An analysis has no folder to write to (the old `--out
/// <data-dir>/zones` is refused); a zone Parquet file copied into a held
/// output is flagged to reviewers and blocks export, as does a planted
/// symbolic link; export never writes into the data directory; a clean
/// output exports exactly its manifest.
#[test]
fn issue_14_outputs_stay_in_haven_until_released() {
    use sha2::{Digest, Sha256};
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let dscro = h.signed("dscro");
    assert!(h.as_(&dscro, &["keys", "init"]).status.success());
    let load = h.as_(&dscro, &["ingest", "--from", common::small_synth().to_str().unwrap()]);
    assert!(load.status.success(), "{}", text(&load));
    let ana = h.signed("analyst");
    h.add_user("bea", "analyst", None);
    let bea = h.login("bea", Some("commissioning"), Some("DSA-HAVEN-DEMO"));
    let ida = h.signed("auditor");

    // The old attack: the zone as the output folder. There is no such flag.
    let zones = h.data.join("zones");
    let attack = h.as_(&ana, &["indicators", "run", "--out", zones.to_str().unwrap()]);
    assert_eq!(attack.status.code(), Some(2), "{}", text(&attack));
    assert!(text(&attack).contains("--out"), "{}", text(&attack));
    assert!(!String::from_utf8_lossy(&h.as_(&ida, &["outputs", "list"]).stdout).contains("OUT-"), "nothing held");

    let run = h.as_(&ana, &["indicators", "run", "--only", "ae.four_hours,apc.spells", "--by", "total,month,imd_quintile"]);
    assert!(run.status.success(), "{}", text(&run));
    let (id, folder) = held(&h, &run);
    assert!(folder.starts_with(&h.data));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777, 0o700);
    for e in std::fs::read_dir(&folder).unwrap() {
        assert_eq!(e.unwrap().metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }

    // A zone file copied into the held folder: reviewers see it flagged, export refuses.
    let part = parquet_under(&zones.join("pseudonymised")).expect("the zone holds Parquet");
    std::fs::copy(&part, folder.join("part-0.parquet")).unwrap();
    let show = h.as_(&bea, &["outputs", "show", &id]);
    let body = text(&show);
    assert!(body.contains("WARNING") && body.contains("== part-0.parquet  sha256 -  (NOT IN THE MANIFEST"), "{body}");
    assert!(h.as_(&bea, &["outputs", "approve", &id]).status.success());
    assert!(h.as_(&ida, &["outputs", "approve", &id]).status.success());
    let dest = tmp.path().join("released");
    let export = h.as_(&ana, &["outputs", "export", &id, "--out", dest.to_str().unwrap()]);
    assert!(!export.status.success() && text(&export).contains("part-0.parquet is NOT IN THE MANIFEST"), "{}", text(&export));
    assert!(!dest.exists(), "nothing left Haven");
    std::fs::remove_file(folder.join("part-0.parquet")).unwrap();

    // A planted symbolic link to the zone file: refused.
    std::os::unix::fs::symlink(&part, folder.join("ae.four_hours.extra.parquet")).unwrap();
    let export = h.as_(&ana, &["outputs", "export", &id, "--out", dest.to_str().unwrap()]);
    assert!(!export.status.success() && text(&export).contains("SYMBOLIC LINK"), "{}", text(&export));
    assert!(!dest.exists());
    std::fs::remove_file(folder.join("ae.four_hours.extra.parquet")).unwrap();

    // Not into the data directory (where the zones are) either.
    let inside = h.data.join("zones/pseudonymised/copy");
    let export = h.as_(&ana, &["outputs", "export", &id, "--out", inside.to_str().unwrap()]);
    assert!(!export.status.success() && text(&export).contains("data directory"), "{}", text(&export));
    assert!(!inside.exists());

    // Clean again: exactly the manifest's files leave, byte for byte.
    let export = h.as_(&ana, &["outputs", "export", &id, "--out", dest.to_str().unwrap()]);
    assert!(export.status.success(), "{}", text(&export));
    let mut held_names: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name()).collect();
    let mut out_names: Vec<_> = std::fs::read_dir(&dest).unwrap().map(|e| e.unwrap().file_name()).collect();
    held_names.sort();
    out_names.sort();
    assert_eq!(held_names, out_names);
    assert!(out_names.iter().all(|n| !n.to_string_lossy().starts_with("part-")));
    for n in &out_names {
        assert_eq!(Sha256::digest(std::fs::read(dest.join(n)).unwrap()), Sha256::digest(std::fs::read(folder.join(n)).unwrap()));
    }
    let csv = tmp.path().join("audit.csv");
    assert!(h.as_(&ida, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(log.lines().filter(|l| l.contains(",output.export,") && l.contains(",refused,")).count(), 3, "{log}");
}

/// The first Parquet file under `dir`.
fn parquet_under(dir: &std::path::Path) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = parquet_under(&p) {
                return Some(f);
            }
        } else if p.extension().is_some_and(|x| x == "parquet") {
            return Some(p);
        }
    }
    None
}

/// Issue 17: invoice validation on the `small` synthetic ICB, by a finance
/// validator (role ceff, purpose invoice_validation) and nobody else; the
/// record-level outcomes stay inside the CEfF and the reply and the audit
/// log carry counts only.
#[test]
fn issue_17_invoice_validation_finds_the_deliberate_errors_and_only_the_ceff_runs_it() {
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let synth = common::small_synth();
    let dscro = load_small(&h);
    let auditor = h.signed("auditor");
    for role in ["analyst", "viewer", "gp", "auditor", "dscro"] {
        let t = match role {
            "dscro" => dscro.clone(),
            "auditor" => auditor.clone(),
            _ => h.signed(role),
        };
        let out = h.as_(&t, &["iv", "run"]);
        assert!(!out.status.success() && text(&out).contains("refused"), "{role}: {}", text(&out));
    }
    assert!(!std::fs::exists(h.data.join("ceff")).unwrap(), "a refused run writes nothing");

    let ceff = h.signed("ceff");
    let truth = synth.join("ground_truth/invoice_errors.psv");
    let out = h.as_(&ceff, &["--json", "iv", "run", "--report", "--truth", truth.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The reports are held for release, each count rounded to 5 or `*`
    // and each amount published only past the magnitude rules.
    let id = s["output"].as_str().unwrap();
    let held = h.data.join("outputs").join(id);
    for name in ["iv_summary.csv", "iv_accuracy_by_provider_month.csv", "iv_budget_by_practice_month.csv", "iv_budget_by_provider_pod_month.csv", "iv_nca_by_commissioner.csv"] {
        let report = std::fs::read_to_string(held.join(name)).unwrap();
        assert!(report.lines().count() > 2, "{name}");
        if name.starts_with("iv_accuracy") {
            for row in report.lines().skip(1) {
                for n in row.split(',').skip(2).take(2) {
                    assert!(n == "*" || n.parse::<u64>().unwrap() % 5 == 0, "{row}");
                }
            }
        }
        // Small practices' budget lines are withheld.
        assert!(!name.contains("practice") || report.contains(",*"), "{name}: {report}");
    }
    let (lines, challenged) = (s["lines"].as_u64().unwrap(), s["challenged"].as_u64().unwrap());
    // ACM: each contracted invoice whose ACM return the generator made
    // short is found, and no other (one contracted invoice per provider
    // and month, so one finding each); every other one agrees.
    let acm_wrong = std::fs::read_to_string(synth.join("ground_truth/acm_errors.psv")).unwrap().lines().count() as u64 - 1;
    assert!(acm_wrong > 0);
    assert_eq!(s["invoice_findings"]["ACM_TOTAL_MISMATCH"].as_u64(), Some(acm_wrong), "{}", s["invoice_findings"]);
    assert!(s["invoice_findings"].get("NO_ACM_TOTAL").is_none(), "{}", s["invoice_findings"]);
    let q = &s["quality"];
    // Every line of the file is checked (the header row is not a line).
    let file_lines = std::fs::read_to_string(synth.join("dscro/QMJ/invoice_line.psv")).unwrap().lines().count() as u64 - 1;
    assert_eq!(lines, file_lines);
    assert!(challenged > 0 && challenged < lines / 5, "{challenged} of {lines}");
    assert!(q["precision"].as_f64().unwrap() >= PRECISION && q["recall"].as_f64().unwrap() >= RECALL, "{q}");
    // No NHS number (ten digits) in what the command printed.
    assert!(!text(&out).split(|c: char| !c.is_ascii_digit()).any(|w| w.len() == 10), "a ten-digit number was printed");
    // The lines' outcomes: one row per line, inside the data directory, owner-only.
    let csv = std::path::PathBuf::from(s["lines_csv"].as_str().unwrap());
    assert!(csv.starts_with(h.data.join("ceff/iv")), "{}", csv.display());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&csv).unwrap().permissions().mode() & 0o077, 0);
    let rows = std::fs::read_to_string(&csv).unwrap();
    // Every kind of deliberate error is found with the reason that names it.
    let kinds: Vec<&str> = q["kinds"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 9, "every kind the generator makes is in the small ICB: {kinds:?}");
    for k in q["kinds"].as_array().unwrap() {
        assert_eq!(k["with_reason"], k["lines"], "{k}");
    }
    assert_eq!(rows.lines().count() as u64, lines + 1);
    assert_eq!(rows.lines().filter(|r| r.contains(",challenged,")).count() as u64, challenged);
    // The audit log has the run with its counts, and its reads.
    let audit = tmp.path().join("audit.csv");
    assert!(h.as_(&auditor, &["audit", "export", "--out", audit.to_str().unwrap()]).status.success());
    let audit = std::fs::read_to_string(&audit).unwrap();
    assert!(audit.contains("iv.run") && audit.contains("ceff+reference"), "{audit}");

    // The challenge log: each challenged line raised once; a second run
    // keeps what is open rather than raising it again.
    assert_eq!(s["challenges"]["raised"].as_u64(), Some(challenged));
    let again: serde_json::Value = serde_json::from_slice(&h.as_(&ceff, &["--json", "iv", "run"]).stdout).unwrap();
    assert_eq!((again["challenges"]["raised"].as_u64(), again["challenges"]["kept"].as_u64()), (Some(0), Some(challenged)));
    let list: serde_json::Value = serde_json::from_slice(&h.as_(&auditor, &["--json", "iv", "challenges", "list"]).stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len() as u64, challenged, "the auditor reads the log");
    let c = &list[0];
    let id = c["id"].to_string();
    // Nothing is resolved before the provider has it; sent, then disputed by the provider's file.
    let early = h.as_(&ceff, &["iv", "challenges", "update", &id, "--status", "resolved"]);
    assert!(!early.status.success() && text(&early).contains("cannot become resolved"), "{}", text(&early));
    assert!(h.as_(&ceff, &["iv", "challenges", "update", &id, "--status", "sent", "--note", "letter 12"]).status.success());
    let responses = tmp.path().join("responses.csv");
    let row = format!("invoice_number,line_no,response,reason\n{},{},dispute,coded correctly\nNOPE-1,1,accept,\nbad row\n", c["invoice_number"].as_str().unwrap(), c["line_no"]);
    std::fs::write(&responses, row).unwrap();
    let import = h.as_(&ceff, &["iv", "import-responses", responses.to_str().unwrap()]);
    assert!(text(&import).contains("0 accepted, 1 disputed, 1 naming no challenge") && text(&import).contains("line 4: fewer than three fields"), "{}", text(&import));
    let show: serde_json::Value = serde_json::from_slice(&h.as_(&ceff, &["--json", "iv", "challenges", "show", &id]).stdout).unwrap();
    let history: Vec<&str> = show["history"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(history, ["Raised", "Sent", "Disputed"]);
    // Auditors read the log but do not move it.
    assert!(!h.as_(&auditor, &["iv", "challenges", "update", &id, "--status", "upheld"]).status.success());
    // The dispute is settled: more than was challenged is refused, a part
    // is recorded, and the recovery report counts it.
    let amount = c["amount"].as_i64().unwrap();
    let too_much = format!("{}.{:02}", (amount + 1) / 100, (amount + 1) % 100);
    let refused = h.as_(&ceff, &["iv", "challenges", "update", &id, "--status", "resolved", "--recovered", &too_much]);
    assert!(!refused.status.success() && text(&refused).contains("must be between"), "{}", text(&refused));
    let part = amount / 2;
    let pounds = format!("{}.{:02}", part / 100, part % 100);
    assert!(h.as_(&ceff, &["iv", "challenges", "update", &id, "--status", "resolved", "--recovered", &pounds]).status.success());
    let show: serde_json::Value = serde_json::from_slice(&h.as_(&auditor, &["--json", "iv", "challenges", "show", &id]).stdout).unwrap();
    assert_eq!(show["challenge"]["recovered"].as_i64(), Some(part), "{show}");
    let report: serde_json::Value = serde_json::from_slice(&h.as_(&ceff, &["--json", "iv", "report"]).stdout).unwrap();
    let recovery = report["reports"]["iv_recovery_by_provider_month.csv"].as_str().unwrap();
    assert!(recovery.starts_with("provider,month,challenges,value_challenged,upheld,value_upheld,value_recovered\n"), "{recovery}");
}

/// What `iv run` must reach on the small synthetic ICB (issue 17 §3 asks
/// 0.99 of both at the `icb` scale).
const PRECISION: f64 = 0.99;
const RECALL: f64 = 0.99;

/// Issue 17 §3 at the `icb` scale (one person in 50): precision and recall
/// of the challenges against the generator's ground truth, printed for the
/// note. By hand: `cargo nextest run -p haven -E 'test(issue_17_at_icb)' --run-ignored only --no-capture`.
#[test]
#[ignore = "generates and loads the icb scale (minutes)"]
fn issue_17_at_icb_scale() {
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("iv-icb");
    let synth = root.join("synth");
    if !synth.join("manifest.json").exists() {
        let tmp = tempfile::tempdir().unwrap();
        let out = Haven::new(tmp.path()).run(&["synth", "--out", synth.to_str().unwrap(), "--scale", "icb"]);
        assert!(out.status.success(), "{}", text(&out));
    }
    // The DSCRO's flows and the reference tables only: not the national extract.
    let local = tempfile::tempdir().unwrap();
    for part in ["reference", "dscro", "ground_truth", "manifest.json"] {
        std::os::unix::fs::symlink(synth.join(part), local.path().join(part)).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let h = Haven::new(tmp.path());
    let dscro = h.signed("dscro");
    assert!(h.as_(&dscro, &["keys", "init"]).status.success());
    let started = std::time::Instant::now();
    let load = h.as_(&dscro, &["ingest", "--from", local.path().to_str().unwrap()]);
    assert!(load.status.success(), "{}", text(&load));
    eprintln!("loaded in {:.0} s", started.elapsed().as_secs_f64());
    let ceff = h.signed("ceff");
    let truth = synth.join("ground_truth/invoice_errors.psv");
    let started = std::time::Instant::now();
    let out = h.as_(&ceff, &["iv", "run", "--truth", truth.to_str().unwrap()]);
    eprintln!("{}\nvalidated in {:.1} s", text(&out), started.elapsed().as_secs_f64());
    assert!(out.status.success());
    // The deliberate errors challenged without the reason that names them,
    // with the reasons they were given (for the note).
    let csv = text(&out).lines().find_map(|l| l.split_once("is in ").map(|(_, p)| p.trim_end_matches(" (inside the CEfF)").to_owned())).unwrap();
    let rows = std::fs::read_to_string(csv).unwrap();
    let by_line: std::collections::HashMap<(String, String), &str> = rows
        .lines()
        .map(|r| {
            let c: Vec<&str> = r.splitn(4, ',').collect();
            ((c[0].to_owned(), c[2].to_owned()), r)
        })
        .collect();
    for t in std::fs::read_to_string(&truth).unwrap().lines().skip(1) {
        let f: Vec<&str> = t.split('|').collect();
        let reason = match f[2] {
            "PRICE_ABOVE_TARIFF" => "PRICE_DIFFERENCE",
            "NCA_WRONG_COMMISSIONER" => "RESPONSIBLE_COMMISSIONER",
            other => other,
        };
        let row = by_line[&(f[0].to_owned(), f[1].to_owned())];
        let reasons = row.split(',').nth(8).unwrap_or("");
        if !reasons.contains(reason) && !reasons.contains("NHSE") {
            eprintln!("{t}: {row}");
        }
    }
}
