//! Command implementations: each turns parsed arguments into calls on the
//! library crates and prints a result. `anyhow` lives only here, at the edge.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use haven_store::Store;

use crate::cli::{BenchCommand, Cli, Command, DemoArgs, IngestArgs, SynthArgs};
use crate::ingest;
use haven_synth::{Manifest, Scale, SynthConfig};

pub fn run(cli: Cli) -> ExitCode {
    // Before anything is audited (a refusal included): the audit key lives
    // in the keys folder.
    crate::governance::set_keys_dir(ingest::keys_dir(&cli));
    match crate::access::authorize(&cli) {
        Ok(session) => crate::governance::set_session(session),
        Err(refusal) => return refuse(&cli, &refusal),
    }
    let result = match &cli.command {
        Command::Synth(a) => synth(a, cli.json).map(|_| ()),
        Command::Demo(a) => demo(&cli, a),
        Command::Ingest(a) => ingest::run_ingest(&cli, a).map(|_| ()),
        Command::Keys { what } => ingest::keys(&cli, what),
        Command::Loads(a) => ingest::loads(&cli, a),
        Command::Dq(a) => ingest::dq(&cli, a),
        Command::Users { what } => crate::governance::users(&cli, what),
        Command::Audit { what } => crate::governance::audit_command(&cli, what),
        Command::Dsa { what } => crate::governance::dsa(&cli, what),
        Command::Outputs { what } => crate::governance::outputs(&cli, what),
        Command::Login(a) => crate::governance::login(&cli, a),
        Command::Logout => crate::governance::logout(&cli),
        Command::Whoami => crate::governance::whoami(&cli),
        Command::Retention { what } => crate::governance::retention(&cli, what),
        Command::Indicators { what } => crate::analytics::indicators(&cli, what),
        Command::Benchmark(a) => crate::analytics::benchmark(&cli, a),
        Command::Iv { what } => crate::finance::iv(&cli, what),
        Command::Risk { what } => crate::risk::risk(&cli, what),
        Command::Serve(a) => crate::serve::serve(&cli, a.bind, a.tls_cert.as_deref().zip(a.tls_key.as_deref())),
        Command::Bench { what: BenchCommand::Synth(a) } => bench_synth(a, cli.json),
        Command::Bench { what: BenchCommand::Ingest(a) } => ingest::bench_ingest(&cli, a),
        Command::Bench { what: BenchCommand::Catalogue(a) } => crate::bench::bench_catalogue(&cli, a),
        Command::Bench { what: BenchCommand::Serve(a) } => crate::bench_serve::bench_serve(&cli, a),
        Command::Bench { what: BenchCommand::Iv(a) } => crate::bench_iv::bench_iv(&cli, a),
        Command::Bench { what: BenchCommand::Risk(a) } => crate::bench_risk::bench_risk(&cli, a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exit status of a command refused by access control.
pub const REFUSED: u8 = 3;

/// Reports and audits a refusal by the access table.
fn refuse(cli: &Cli, refusal: &crate::access::Refusal) -> ExitCode {
    let session = crate::access::session(cli).ok().flatten();
    let detail = crate::governance::refusal_detail(cli, &refusal.0);
    let mut e = crate::governance::event("", "", "", "refusal", crate::access::path(&cli.command), "refused", detail);
    if let Some(s) = &session {
        e.actor = s.user.clone();
        e.role = s.role.name().into();
        e.purpose = s.purpose.map(|p| p.name()).unwrap_or_default().into();
        e.dsa = s.dsa.clone().unwrap_or_default();
    }
    if let Err(err) = crate::governance::audit(&cli.data_dir, e) {
        eprintln!("error: could not audit the refusal: {err:#}");
    }
    eprintln!("error: {refusal}");
    ExitCode::from(REFUSED)
}

fn config(a: &SynthArgs) -> Result<SynthConfig> {
    let scale = Scale::parse(&a.scale).ok_or_else(|| anyhow!("--scale must be small, icb, quarter or national, not {:?}", a.scale))?;
    Ok(SynthConfig { seed: a.seed, scale, icb: a.icb.to_uppercase(), start_fy: a.start_fy, years: a.years, apc_only: a.apc_only })
}

fn generate(cfg: &SynthConfig, out: &Path, quiet: bool) -> Result<Manifest> {
    let mut last = Instant::now();
    let mut progress = |done: u64, total: u64| {
        if !quiet && (last.elapsed().as_millis() > 500 || done == total) {
            eprint!("\rgenerating people: {done}/{total} ({:.0}%)", 100.0 * done as f64 / total.max(1) as f64);
            last = Instant::now();
        }
    };
    let m = haven_synth::generate_with_progress(cfg, out, &mut progress).with_context(|| format!("generating into {}", out.display()))?;
    if !quiet {
        eprintln!();
    }
    Ok(m)
}

fn synth(a: &SynthArgs, json: bool) -> Result<Manifest> {
    let cfg = config(a)?;
    let started = Instant::now();
    let m = generate(&cfg, &a.out, json)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else {
        print_summary(&m, &a.out, started.elapsed().as_secs_f64());
    }
    Ok(m)
}

fn print_summary(m: &Manifest, out: &Path, secs: f64) {
    println!("Synthetic England written to {} in {secs:.1} s", out.display());
    println!(
        "  scale {:?} (1 person in {:.0}), seed {}, period {} to {}, {} people",
        m.config.scale,
        1.0 / m.population_fraction,
        m.config.seed,
        m.period_start,
        m.period_end,
        m.people
    );
    println!("  {:<48} {:>12}", "file", "rows");
    for (file, rows) in &m.files {
        println!("  {file:<48} {rows:>12}");
    }
    if !m.invoice_errors.is_empty() {
        let total: u64 = m.invoice_errors.values().sum();
        println!("  deliberate invoice errors (ground truth): {total}");
        for (kind, n) in &m.invoice_errors {
            println!("    {kind:<32} {n:>8}");
        }
    }
}

/// Whether `data_dir` is a store the demo made (the rule is
/// [`haven_app::App::is_demo_store`]).
pub(crate) fn is_demo_store(data_dir: &Path) -> bool {
    // Without a known keys folder the mark cannot be checked: not one.
    crate::governance::KEYS_DIR.get().is_some_and(|keys| haven_app::App::new(data_dir, keys.clone()).is_demo_store())
}

/// Marks a new store as the demo's: the mark in the catalog and in the
/// keyed audit chain.
fn mark_demo_store(data_dir: &Path) -> Result<()> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| anyhow!("no randomness for the demo store's mark: {e}"))?;
    let mark = haven_store::hex(&random);
    Store::open_for_write(data_dir)?.catalog_mut().set_setting(haven_app::DEMO_STORE, &mark)?;
    let detail = serde_json::json!({"synthetic": true}).to_string();
    crate::governance::audit(
        data_dir,
        haven_governance::audit::Event { actor: crate::governance::actor(), role: "admin".into(), purpose: "administration".into(), dsa: String::new(), action: haven_app::DEMO_STORE_ACTION.into(), target: mark, outcome: "ok".into(), detail },
    )
}

/// Generates the synthetic ICB and national extract, creates the zone keys
/// if missing, and ingests everything. On a store the demo made before, the
/// same seed gives the same files, so the loads are no-ops and the
/// analyses run again; `--fresh` rebuilds it from nothing.
fn demo(cli: &Cli, a: &DemoArgs) -> Result<()> {
    let out = a.out.clone().unwrap_or_else(|| cli.data_dir.join("synth"));
    let args = SynthArgs { out: out.clone(), seed: a.seed, scale: a.scale.clone(), icb: a.icb.clone(), start_fy: 2024, years: 2, apc_only: false };
    // Arguments first: a refused run marks and removes nothing.
    config(&args)?;
    let again = is_demo_store(&cli.data_dir);
    // Only a store the demo starts from nothing becomes the demo's: an
    // administrator's demo on another store never marks it.
    let new = haven_governance::bootstrap::is_fresh(&cli.data_dir).unwrap_or(false);
    if a.fresh && again {
        std::fs::remove_dir_all(&cli.data_dir).with_context(|| format!("removing the demo store {}", cli.data_dir.display()))?;
    } else if a.fresh && cli.data_dir.exists() && !haven_governance::bootstrap::is_fresh(&cli.data_dir).unwrap_or(false) {
        bail!("refused: --fresh removes only a store the demo made, and {} is not one", cli.data_dir.display());
    }
    if new || a.fresh {
        mark_demo_store(&cli.data_dir)?;
    }
    if again && !a.fresh && !cli.json {
        println!("Reopening the demo store {} (synthetic data; `--fresh` rebuilds it)", cli.data_dir.display());
    }
    synth(&args, cli.json)?;
    haven_ingest::Keys::init(&ingest::keys_dir(cli))?;
    // The demo's agreement enters the registry like any other: imported, audited.
    let (name, text) = crate::governance::DEMO_DSA;
    crate::governance::import_dsa(&cli.data_dir, &ingest::keys_dir(cli), name, text)?;
    let started = Instant::now();
    let ingest_args = IngestArgs {
        dataset: None,
        file: None,
        from: Some(out),
        dsa: Some("DSA-HAVEN-DEMO".into()),
        icb: Some(a.icb.clone()),
        minimise: "registered,resident,hosted".into(),
        null_placeholders: None,
        published: None,
        replace: false,
        operator: Some("haven-demo".into()),
    };
    let reports = ingest::run_ingest(cli, &ingest_args)?;
    if !cli.json {
        let rows: u64 = reports.iter().map(|r| r.rows_read).sum();
        println!("Ingested {} files ({rows} rows) into {} in {:.1} s", reports.len(), cli.data_dir.display(), started.elapsed().as_secs_f64());
    }
    let started = Instant::now();
    crate::analytics::demo(cli, &a.icb)?;
    if !cli.json {
        println!("Indicators and benchmark in {:.1} s", started.elapsed().as_secs_f64());
    }
    crate::finance::demo(cli, ingest_args.from.as_deref().expect("the demo ingests a folder"))?;
    crate::risk::demo(cli, ingest_args.from.as_deref().expect("the demo ingests a folder"))?;
    crate::demo_web::finish(cli, a)
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn bench_synth(a: &SynthArgs, json: bool) -> Result<()> {
    let cfg = config(a)?;
    let started = Instant::now();
    let m = generate(&cfg, &a.out, json)?;
    let secs = started.elapsed().as_secs_f64();
    let apc = m.files.get("national/apc_episode.psv").copied().unwrap_or(0);
    let total: u64 = m.files.values().sum();
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if json {
        println!(
            "{}",
            serde_json::json!({"bench": "synth", "scale": a.scale, "years": a.years, "apc_only": a.apc_only,
                "seconds": secs, "national_apc_episodes": apc, "rows_written": total,
                "apc_episodes_per_second": apc as f64 / secs, "peak_rss_mib": peak, "threads": threads})
        );
    } else {
        println!("bench synth: scale {} years {} apc_only {} on {threads} threads", a.scale, a.years, a.apc_only);
        println!("  wall time            {secs:>10.1} s");
        println!("  national APC episodes {apc:>10}  ({:.0} per second)", apc as f64 / secs);
        println!("  all rows written     {total:>10}  ({:.0} per second)", total as f64 / secs);
        println!("  peak memory (VmHWM)  {peak:>10.0} MiB");
    }
    Ok(())
}
