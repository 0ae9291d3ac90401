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
        let body = std::fs::read_to_string(f).unwrap();
        for line in body.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            // numerator and denominator: `*`, empty, 0, or a multiple of 5 above 7.
            for c in &cells[cells.len() - 5..cells.len() - 3] {
                if let Ok(n) = c.parse::<u64>() {
                    assert!(n == 0 || (n > 7 && n % 5 == 0), "{}: {line}", f.display());
                }
            }
        }
    }
    let auditor = h.signed("auditor");
    let csv = tmp.path().join("audit.csv");
    assert!(h.as_(&auditor, &["audit", "export", "--out", csv.to_str().unwrap()]).status.success());
    let log = std::fs::read_to_string(&csv).unwrap();
    for dataset in ["apc_episode", "ecds_attendance", "op_attendance"] {
        assert!(
            log.lines().any(|l| l.contains(",read,") && l.contains(&format!("pseudonymised.{dataset}")) && l.contains("commissioning")),
            "read of {dataset} audited"
        );
    }
    assert!(log.contains(",indicators.run,"));
}
