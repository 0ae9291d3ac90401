//! `haven indicators` and `haven benchmark`: the catalogue, and running it
//! under a grant — the local pseudonymised zone for commissioning, the
//! national extract for benchmarking. Reads of patient data are audited per
//! dataset (zone, rows, purpose); every table and chart has passed
//! disclosure control and is written only into a held output (a
//! `haven_governance::outputs::Draft` under the data directory), which
//! leaves Haven by `haven outputs export` after two reviewers release it.

use std::path::Path;

use anyhow::{anyhow, Result};
use haven_analytics::benchmark::Benchmark;
use haven_analytics::{catalogue, find, Breakdown, Table};
use haven_app::analyses::{BenchmarkRun, IndicatorsRun};
use haven_app::Actor;
use haven_governance::audit::Event;
use haven_governance::dsa::{Purpose, Role};
use haven_governance::session::Session;
use haven_governance::users::Users;

use crate::cli::{BenchmarkArgs, Cli, IndicatorsCommand, IndicatorsRunArgs};
use crate::governance::{app, app_actor, audit};

pub fn indicators(cli: &Cli, what: &IndicatorsCommand) -> Result<()> {
    match what {
        IndicatorsCommand::List => {
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&catalogue())?);
            } else {
                for i in catalogue() {
                    println!("{:<32} {:<11} {:<16} {}", i.id, format!("{:?}", i.method).to_lowercase(), i.base.dataset(), i.title);
                }
            }
            Ok(())
        }
        IndicatorsCommand::Show { id } => {
            let i = find(id).ok_or_else(|| anyhow!("no indicator {id} (see `haven indicators list`)"))?;
            println!("{}  {}", i.id, i.title);
            println!("  numerator    {}", i.numerator);
            println!("  denominator  {}", i.denominator);
            println!("  data         pseudonymised.{} (national.{} when benchmarking)", i.base.dataset(), i.base.dataset());
            println!("  method       {:?}, unit {}, polarity {:?}", i.method, i.unit, i.polarity);
            println!("  source       {}", i.citation);
            if !i.choices.is_empty() {
                println!("  choices      {}", i.choices);
            }
            Ok(())
        }
        IndicatorsCommand::Run(a) => {
            let (tables, _) = run_indicators(cli, &app_actor(), a)?;
            if !cli.json {
                for t in tables.iter().filter(|t| t.breakdown == Breakdown::Total) {
                    let v = t.total.value.map(|v| format!("{v:.2} {}", t.unit)).unwrap_or_else(|| "suppressed".into());
                    println!("{:<32} {:<14} {}", t.indicator, v, t.title);
                }
            }
            Ok(())
        }
    }
}

/// The catalogue over the local zone, held for review
/// (`haven_app::App::run_indicators`); returns the tables and the output's id.
pub fn run_indicators(cli: &Cli, actor: &Actor, a: &IndicatorsRunArgs) -> Result<(Vec<Table>, String)> {
    let run = IndicatorsRun {
        period: a.period.clone(),
        only: a.only.clone(),
        icb: a.icb.clone(),
        by: a.by.clone(),
        from_episodes: a.from_episodes,
        readmissions: a.readmission.options(),
    };
    let ran = app(cli).run_indicators(actor, &run)?;
    eprintln!("{} disclosure-controlled tables ({} files) held for review as {}: `haven outputs show {}`", ran.result.len(), ran.files, ran.output, ran.output);
    Ok((ran.result, ran.output))
}

pub fn benchmark(cli: &Cli, a: &BenchmarkArgs) -> Result<()> {
    let (b, _) = run_benchmark(cli, &app_actor(), a)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&b)?);
    } else {
        print_headline(&b);
    }
    Ok(())
}

/// The benchmark of `a.icb` against England and its peers, held for review
/// (`haven_app::App::run_benchmark`); returns it and the output's id.
pub fn run_benchmark(cli: &Cli, actor: &Actor, a: &BenchmarkArgs) -> Result<(Benchmark, String)> {
    let run = BenchmarkRun { icb: a.icb.clone(), period: a.period.clone(), peers: a.peers, only: a.only.clone(), readmissions: a.readmission.options() };
    let ran = app(cli).run_benchmark(actor, &run)?;
    let (b, m) = ran.result;
    if !cli.json {
        let band = |n: u8| m.providers.iter().filter(|p| p.band == Some(n)).count();
        println!(
            "SHMI-style mortality, {} providers ({} diagnosis-group models): {} higher than expected, {} as expected, {} lower",
            m.providers.len(),
            m.models,
            band(1),
            band(2),
            band(3)
        );
    }
    eprintln!("the benchmark of {} ({} files) is held for review as {}: `haven outputs show {}`", b.icb, ran.files, ran.output, ran.output);
    Ok((b, ran.output))
}

/// One line per indicator: the ICB, England, the peer median, the flag and
/// any opportunity.
pub fn print_headline(b: &Benchmark) {
    println!("{} against England and {} peers ({}), {}", b.icb, b.peers.len(), b.peers.iter().map(|p| p.icb.as_str()).collect::<Vec<_>>().join(" "), b.period);
    println!("{:<44} {:>10} {:>10} {:>10}  {:<12} opportunity", "indicator", b.icb, "England", "peers", "vs England");
    let f = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
    for c in &b.comparisons {
        let opp = c.opportunity.filter(|o| *o > 0.0).map(|o| format!("{o:.0} {}", c.opportunity_unit)).unwrap_or_default();
        let title: String = c.title.chars().take(44).collect();
        println!("{title:<44} {:>10} {:>10} {:>10}  {:<12} {opp}", f(c.value), f(c.england), f(c.peer_median), c.vs_england.label());
    }
}

/// Adds analyst `name` with a random password unless it exists; returns the
/// password when it was created. For the demo and the catalogue bench,
/// which work as an analyst without anyone signing in.
pub fn ensure_tool_analyst(data_dir: &Path, name: &str) -> Result<Option<String>> {
    ensure_tool_user(data_dir, name, Role::Analyst)
}

/// A user of `role` for a tool's own work, made with a random password on
/// first use (returned then, `None` after).
pub fn ensure_tool_user(data_dir: &Path, name: &str, role: Role) -> Result<Option<String>> {
    let mut users = Users::open(data_dir)?;
    if users.get(name)?.is_some() {
        return Ok(None);
    }
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(|e| anyhow!("no randomness for a password: {e}"))?;
    let password = haven_store::hex(&secret);
    users.add(name, role, None, &password)?;
    Ok(Some(password))
}

/// The analyst `haven demo` works as.
pub(crate) const DEMO_ANALYST: &str = "demo.analyst";

/// The demo's analytical step: as a demo analyst (created on first run, its
/// random password written to `<data-dir>/demo-credentials.txt`, mode
/// 0600, so the user can sign in and look around), run the catalogue for
/// commissioning and the benchmark of `icb`, then print the headline
/// indicators against England and where the outputs are held (they leave
/// only by `haven outputs export` once two reviewers release them).
pub fn demo(cli: &Cli, icb: &str) -> Result<()> {
    ensure_demo_analyst(cli)?;
    // The demo works as its analyst on the store it made, without anyone
    // signing in: a session's terms, never a token.
    let as_ = |purpose: Purpose| {
        let s = Session { user: DEMO_ANALYST.into(), role: Role::Analyst, purpose: Some(purpose), dsa: Some("DSA-HAVEN-DEMO".into()), practice: None, expires_at: u64::MAX };
        Actor::Signed(s)
    };
    let run = IndicatorsRunArgs {
        period: "2024-25".into(),
        only: None,
        icb: None,
        by: haven_app::analyses::DEFAULT_BREAKDOWNS.into(),
        from_episodes: false,
        readmission: Default::default(),
    };
    let (_, indicators) = run_indicators(cli, &as_(Purpose::Commissioning), &run)?;
    let bench = BenchmarkArgs { icb: icb.into(), period: "2024-25".into(), peers: 10, only: None, readmission: Default::default() };
    let (b, benchmark) = run_benchmark(cli, &as_(Purpose::PopulationHealthBenchmarking), &bench)?;
    // The ICB's own responsible population (Who Pays?) by month, practice
    // and provider: a third output, left held for a reviewer to try.
    let own = IndicatorsRunArgs { icb: Some(icb.to_ascii_uppercase()), by: "total,month,practice,provider".into(), ..run };
    let (_, responsible) = run_indicators(cli, &as_(Purpose::Commissioning), &own)?;
    if !cli.json {
        print_headline(&b);
        println!(
            "Outputs held for review in {}: {indicators} (indicators), {benchmark} (benchmark) and {responsible} (indicators for {icb}'s responsible population); see `haven outputs show ID`",
            cli.data_dir.join("outputs").display()
        );
    }
    Ok(())
}

fn ensure_demo_analyst(cli: &Cli) -> Result<()> {
    let Some(password) = ensure_tool_analyst(&cli.data_dir, DEMO_ANALYST)? else { return Ok(()) };
    let path = cli.data_dir.join("demo-credentials.txt");
    std::fs::write(&path, format!("{DEMO_ANALYST} {password}\n"))?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let detail = serde_json::json!({"role": "analyst", "for": "demo", "credentials": path.display().to_string()});
    audit(&cli.data_dir, Event { actor: crate::governance::actor(), role: "admin".into(), purpose: "administration".into(), dsa: String::new(), action: "user.add".into(), target: DEMO_ANALYST.into(), outcome: "ok".into(), detail: detail.to_string() })?;
    Ok(())
}
