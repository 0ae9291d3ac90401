//! `haven bench risk` (issue 18 §7): risk stratification over a full-size
//! ICB. The generator writes two financial years (a base year, then the
//! outcome year) for every resident of the focus ICB (`full-icb`: about
//! 1.5 million people), with their GP extract; the DSCRO flows and
//! reference tables load into a scratch store (the helpers `bench iv`
//! uses); then each stage `haven risk run` takes is timed on its own with
//! the peak resident memory reached during it — read, score, features,
//! fit, evaluate, segment — and end to end, beside issue 18's targets
//! (under 60 s, model fitting included, under 4 GiB).
//!
//! The stages are the run's own functions (`haven_risk` and
//! `haven_app::risk::{fit, evaluate_held_out}`), not `App::run_risk`:
//! that holds an output and audits as a signed-in analyst, and a bench's
//! scratch store must stay free of either for `--reuse`
//! (`bench::Scratch::reuse`). Writing the few protected CSV files of the
//! output is not timed. The true-risk ceiling is computed after the timed
//! stages from the generator's ground truth (a real run has none), in the
//! way `App::run_risk` computes it on a demo store; the scratch store is
//! synthetic data this bench generated itself.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use haven_app::risk::{evaluate_held_out, fit, Fitted, BASELINE_PARR30, BASELINE_PRIOR, CEILING, MODEL};
use haven_governance::dsa::{Purpose, Role};
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_model::Date;
use haven_risk::cohort::{counts_by_practice, top_risk, CohortOptions, PracticeCount};
use haven_risk::model::{EvaluationReport, Features, SplitOptions};
use haven_risk::person::{features, score, Person};
use haven_risk::read::{inputs, CodeMaps, Inputs, RiskOptions};
use haven_risk::{ConditionCodeMap, DeficitCodeMap};
use haven_store::{Store, Zone, ZoneSession};

use crate::bench::{generate_and_load, reset_peak, Prepared, Scratch, BENCH_ANALYST};
use crate::cli::{BenchRiskArgs, Cli};
use crate::commands::peak_rss_mib;

/// Issue 18 §7's targets: end to end, model fitting included.
const TARGET_SECONDS: f64 = 60.0;
const TARGET_PEAK_MIB: f64 = 4096.0;
/// The top-risk band counted by cohort (`haven risk run`'s default).
const TOP_FRACTION: f64 = 0.05;
/// Two financial years: the base year before the index date, the outcome
/// year after it.
const YEARS: u32 = 2;

pub fn bench_risk(cli: &Cli, a: &BenchRiskArgs) -> Result<()> {
    let scale = haven_synth::Scale::parse(&a.scale).ok_or_else(|| anyhow!("--scale must be small, icb or full-icb, not {:?}", a.scale))?;
    let scratch = match (&a.scratch, a.reuse) {
        (Some(path), true) => Scratch::reuse(path)?,
        (given, _) => Scratch::create(given.as_deref(), "haven-bench-risk")?,
    };
    let result = run(cli, a, scale, &scratch);
    if a.scratch.is_none() {
        scratch.remove();
    }
    result
}

fn run(cli: &Cli, a: &BenchRiskArgs, scale: haven_synth::Scale, scratch: &Scratch) -> Result<()> {
    let prepared = generate_and_load(scratch, scale, YEARS, a.reuse, &format!("the {} two years", a.scale))?;
    let synth = scratch.root().join("synth");
    let index_date = index_date(&synth)?;
    let efi = DeficitCodeMap::parse(&crate::risk::synthetic_efi_map())?;
    let conditions = ConditionCodeMap::parse(&crate::risk::synthetic_condition_map())?;
    let maps = CodeMaps { efi: Some(&efi), conditions: Some(&conditions) };
    let zs = open_risk(&scratch.data(), &scratch.keys())?;
    let peak_resets = reset_peak();
    let mut stages = Vec::new();
    let t = Instant::now();
    let timed = pipeline(&zs, index_date, &maps, &mut stages)?;
    let total = t.elapsed().as_secs_f64();
    let ceiling = ceiling(&synth, &scratch.keys(), &timed)?;
    let result = Figures::new(&timed, stages, total, ceiling, peak_resets);
    report(cli, a, &prepared, index_date, &result)
}

/// The index date of the generated period: the start of its second
/// financial year (history before it, the outcome year from it). Read from
/// the manifest, so a reused scratch is checked to hold two years.
fn index_date(synth: &Path) -> Result<Date> {
    let path = synth.join("manifest.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let m: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let (start, years) = (m["config"]["start_fy"].as_i64(), m["config"]["years"].as_u64());
    let (Some(start), Some(years)) = (start, years) else { bail!("{} names no start year and years", path.display()) };
    if years < u64::from(YEARS) {
        bail!("the scratch holds {years} generated year(s); risk stratification needs a base year and an outcome year (a `bench iv` scratch holds one)");
    }
    Date::from_ymd(i32::try_from(start)? + 1, 4, 1).map_err(|_| anyhow!("the index date of the generated period"))
}

/// An analyst of the demo agreement in the scratch store, and the session
/// a risk-stratification grant opens (pseudonymised and reference zones).
fn open_risk(data: &Path, keys: &Path) -> Result<ZoneSession> {
    crate::analytics::ensure_tool_analyst(data, BENCH_ANALYST)?;
    let users = Users::open(data)?;
    let (name, text) = crate::governance::DEMO_DSA;
    let dsa = crate::governance::import_dsa(data, keys, name, text)?.agreement().dsa.clone();
    let g = grant(&users, BENCH_ANALYST, Role::Analyst, Purpose::RiskStratification, &dsa, crate::governance::today())?;
    Ok(ZoneSession::open(&Store::open(data)?, &g)?)
}

/// One timed stage: its wall time and the peak resident memory reached
/// during it (with what earlier stages left resident).
#[derive(serde::Serialize)]
struct Stage {
    name: &'static str,
    seconds: f64,
    peak_rss_mib: f64,
}

/// Runs `f` as the stage `name`, the peak mark reset first so the peak is
/// the stage's own.
fn timed<T>(stages: &mut Vec<Stage>, name: &'static str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    reset_peak();
    let t = Instant::now();
    let out = f()?;
    stages.push(Stage { name, seconds: t.elapsed().as_secs_f64(), peak_rss_mib: peak_rss_mib().unwrap_or(f64::NAN) });
    Ok(out)
}

/// What the timed stages made, kept for the (untimed) ceiling.
struct Timed {
    inputs: Inputs,
    people: Vec<Person>,
    x: Features,
    fitted: Fitted,
    report: EvaluationReport,
    counts: Vec<PracticeCount>,
    top: usize,
}

/// The stages of `haven risk run`, in its order, each timed.
fn pipeline(zs: &ZoneSession, index_date: Date, maps: &CodeMaps<'_>, stages: &mut Vec<Stage>) -> Result<Timed> {
    let inputs = timed(stages, "read", || Ok(inputs(zs, &RiskOptions::new(index_date), maps)?))?;
    let people = timed(stages, "score", || Ok(score(&inputs)))?;
    let x = timed(stages, "features", || Ok(features(&people)?))?;
    let fitted = timed(stages, "fit", || Ok(fit(&inputs, &people, &x, SplitOptions::default().seed)?))?;
    // The evaluation fits the prior-admissions baseline too, as a run does.
    let (report, _) = timed(stages, "evaluate", || Ok(evaluate_held_out(&inputs, &people, &x, &fitted, None)?))?;
    let (counts, top) = timed(stages, "segment", || {
        let top = top_risk(&fitted.risks, TOP_FRACTION);
        let counts = counts_by_practice(&people, &top, &inputs.practices, &CohortOptions::default());
        Ok((counts, top.iter().filter(|&&t| t).count()))
    })?;
    Ok(Timed { inputs, people, x, fitted, report, counts, top })
}

/// The true-risk ceiling's AUC on the same held-out people and how many of
/// them the ground truth named, or `None` without a ground truth file.
fn ceiling(synth: &Path, keys: &Path, t: &Timed) -> Result<Option<(f64, usize)>> {
    let path = synth.join("ground_truth/persons.psv");
    if !path.is_file() {
        return Ok(None);
    }
    let keys = haven_ingest::Keys::load(keys, &[Zone::Pseudonymised])?;
    let key = keys.get(Zone::Pseudonymised).ok_or_else(|| anyhow!("the scratch store has no pseudonymisation key"))?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let truth = haven_app::risk::parse_truth(&text, |nhs| key.person_token(nhs))?;
    drop(text);
    let (report, matched) = evaluate_held_out(&t.inputs, &t.people, &t.x, &t.fitted, Some(&truth))?;
    Ok(report.score(CEILING).map(|s| (s.auc.auc, matched.unwrap_or(0))))
}

/// The figures reported.
struct Figures {
    stages: Vec<Stage>,
    total: f64,
    peak: f64,
    peak_resets: bool,
    people: usize,
    trained_on: usize,
    held_out: usize,
    events: usize,
    columns: usize,
    ridge: f64,
    practices: usize,
    top: usize,
    cohort_rows: usize,
    aucs: Vec<(String, f64)>,
    ceiling: Option<(f64, usize)>,
}

impl Figures {
    fn new(t: &Timed, stages: Vec<Stage>, total: f64, ceiling: Option<(f64, usize)>, peak_resets: bool) -> Figures {
        // With the mark reset before each stage, the run's peak is the
        // largest stage peak; without, every peak is the process's.
        let peak = stages.iter().map(|s| s.peak_rss_mib).fold(f64::NAN, f64::max);
        let aucs = [MODEL, BASELINE_PRIOR, BASELINE_PARR30].iter().filter_map(|n| t.report.score(n).map(|s| (n.to_string(), s.auc.auc))).collect();
        Figures {
            stages,
            total,
            peak,
            peak_resets,
            people: t.people.len(),
            trained_on: t.fitted.parts.train.len(),
            held_out: t.report.rows,
            events: t.report.events,
            columns: t.x.columns().len(),
            ridge: t.fitted.ridge.ridge,
            practices: t.inputs.practices.len(),
            top: t.top,
            cohort_rows: t.counts.len(),
            aucs,
            ceiling,
        }
    }
}

fn report(cli: &Cli, a: &BenchRiskArgs, p: &Prepared, index_date: Date, f: &Figures) -> Result<()> {
    if cli.json {
        let aucs: serde_json::Map<String, serde_json::Value> = f.aucs.iter().map(|(n, v)| (n.clone(), (*v).into())).collect();
        let v = serde_json::json!({
            "bench": "risk", "scale": a.scale, "index_date": index_date.to_string(), "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "generate_seconds": p.generate, "load_seconds": p.load,
            "stages": f.stages, "total_seconds": f.total, "peak_rss_mib": f.peak, "peak_reset_per_stage": f.peak_resets,
            "target_seconds": TARGET_SECONDS, "target_peak_rss_mib": TARGET_PEAK_MIB,
            "within_target": f.total < TARGET_SECONDS && f.peak < TARGET_PEAK_MIB,
            "people": f.people, "trained_on": f.trained_on, "held_out": f.held_out, "held_out_events": f.events,
            "feature_columns": f.columns, "ridge": f.ridge, "practices": f.practices, "top_risk_people": f.top, "cohort_count_rows": f.cohort_rows,
            "auc": aucs, "true_risk_ceiling_auc": f.ceiling.map(|c| c.0), "truth_matched": f.ceiling.map(|c| c.1),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    print_table(a, p, index_date, f);
    Ok(())
}

fn print_table(a: &BenchRiskArgs, p: &Prepared, index_date: Date, f: &Figures) {
    println!("haven bench risk, scale {} (index date {index_date}), figures as measured on this machine", a.scale);
    if let Some(g) = p.generate {
        println!("  generate (two years)               {g:>8.1} s");
    }
    if let Some(l) = p.load {
        println!("  load (DSCRO flows, GP, reference)  {l:>8.1} s");
    }
    for s in &f.stages {
        println!("  {:<34} {:>8.2} s  peak {:>6.0} MiB", s.name, s.seconds, s.peak_rss_mib);
    }
    let verdict = if f.total < TARGET_SECONDS && f.peak < TARGET_PEAK_MIB { "within" } else { "OUTSIDE" };
    println!("  {:<34} {:>8.2} s  peak {:>6.0} MiB  (target under {TARGET_SECONDS:.0} s and {:.0} GiB: {verdict})", "end to end", f.total, f.peak, TARGET_PEAK_MIB / 1024.0);
    if !f.peak_resets {
        println!("  (the kernel refused to reset the peak mark: each peak is the process's, generation and loading included)");
    }
    println!("  {} people registered, {} practices; {} feature columns; fitted on {} (ridge λ = {} chosen on a validation split of them), evaluated on {} held out ({} admitted)", f.people, f.practices, f.columns, f.trained_on, f.ridge, f.held_out, f.events);
    for (name, auc) in &f.aucs {
        println!("  held-out AUC {name:<28} {auc:.4}");
    }
    match f.ceiling {
        Some((c, matched)) => println!("  held-out AUC {CEILING:<28} {c:.4}  (the truth named {matched} of {} held out)", f.held_out),
        None => println!("  no ground truth in the scratch: no ceiling"),
    }
    println!("  top {:.0}% band: {} people; {} cohort count rows by practice", TOP_FRACTION * 100.0, f.top, f.cohort_rows);
}
