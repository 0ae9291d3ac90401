//! Integration tests of `haven-risk` through its public API (one test
//! binary for the crate, STYLE.md §12). Here rather than in `src/` because
//! the timing test prints its measurements, and library sources print
//! nothing (xtask tidy).

#[path = "read/fixture.rs"]
mod fixture;
#[path = "read/cases.rs"]
mod read;

use haven_risk::model::{evaluate, fit_model, split, EvaluationOptions, Features, FitOptions, NamedRisk, SplitOptions};

use haven_stats::rng::NormalRng;

fn logistic(eta: f64) -> f64 {
    1.0 / (1.0 + (-eta).exp())
}

/// Fit time at full ICB size (issue 18 §7): 1.5 million people × 30
/// features, 70% fitted. Prints, does not assert. Run with
/// `cargo test --release -p haven-risk -- --ignored --nocapture`.
#[test]
#[ignore = "timing at full size; run in release"]
fn timing_full_icb_fit() {
    use std::time::Instant;
    let (n, p) = (1_500_000, 30);
    let started = Instant::now();
    let mut rng = NormalRng::seeded(2024);
    let beta: Vec<f64> = (0..p).map(|j| 0.4 * ((j as f64 * 0.7).sin())).collect();
    let mut values = Vec::with_capacity(n * p);
    let mut outcome = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..p).map(|j| if j % 3 == 0 { f64::from(u8::from(rng.uniform_open_closed() < 0.2)) } else { rng.standard_normal() }).collect();
        let eta = -2.5 + row.iter().zip(&beta).map(|(x, b)| x * b).sum::<f64>();
        outcome.push(rng.uniform_open_closed() <= logistic(eta));
        values.extend(row);
    }
    let columns = (0..p).map(|j| format!("x{j}")).collect();
    let features = Features::new(columns, values, outcome).unwrap();
    let keys: Vec<[u8; 8]> = (0..n as u64).map(|i| i.to_le_bytes()).collect();
    let generated = started.elapsed();
    let t = Instant::now();
    let s = split(&keys, SplitOptions::default());
    let split_time = t.elapsed();
    let t = Instant::now();
    let model = fit_model(&features, &s.train, FitOptions::default()).unwrap();
    let fit_time = t.elapsed();
    let t = Instant::now();
    let risks = model.predict(&features, &s.held_out).unwrap();
    let outcome = features.outcomes_of(&s.held_out);
    let report = evaluate(&outcome, None, &[NamedRisk { name: "model", risks: &risks }], &EvaluationOptions::default()).unwrap();
    let eval_time = t.elapsed();
    // Peak resident memory of the test process, where Linux reports it.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: unknown").split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
    println!(
        "n = {n}, p = {p}: generate {generated:.2?}, split {split_time:.2?}, fit {fit_time:.2?} ({} rows, {} iterations, converged {}), predict + evaluate {eval_time:.2?} ({} rows, AUC {:.4}); peak memory {peak}",
        s.train.len(),
        model.iterations,
        model.converged,
        s.held_out.len(),
        report.scores[0].auc.auc
    );
}
