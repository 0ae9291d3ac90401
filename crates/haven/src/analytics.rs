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
use haven_analytics::mortality::MortalityOptions;
use haven_analytics::{catalogue, compute_catalogue, find, Breakdown, Indicator, Period, Scope, Source, Table};
use haven_governance::audit::Event;
use haven_governance::disclosure::Policy;
use haven_governance::dsa::{Dsa, Purpose, Role};
use haven_governance::grant::grant;
use haven_governance::outputs::{Draft, Outputs};
use haven_governance::users::Users;
use haven_store::{Store, ZoneSession};

use crate::cli::{BenchmarkArgs, Cli, IndicatorsCommand, IndicatorsRunArgs};
use crate::governance::{audit, find_dsa, session, today};

/// Who a piece of analytical work runs as: one user in one role, for one
/// purpose, under one agreement.
pub struct Work {
    pub user: String,
    pub role: Role,
    pub purpose: Purpose,
    pub dsa: Dsa,
}

impl Work {
    /// The signed-in session's terms.
    pub fn from_session(cli: &Cli) -> Result<Work> {
        let s = session().ok_or_else(|| anyhow!("this command needs a sign-in"))?;
        let purpose = s.purpose.ok_or_else(|| anyhow!("the session has no purpose"))?;
        let dsa = find_dsa(cli, s.dsa.as_deref().unwrap_or(""))?;
        Ok(Work { user: s.user.clone(), role: s.role, purpose, dsa })
    }

    fn event(&self, action: &str, target: &str, detail: serde_json::Value) -> Event {
        Event {
            actor: self.user.clone(),
            role: self.role.name().into(),
            purpose: self.purpose.name().into(),
            dsa: self.dsa.id.clone(),
            action: action.into(),
            target: target.into(),
            outcome: "ok".into(),
            detail: detail.to_string(),
        }
    }

    /// Runs `f` over the zones this work's grant opens with the scope
    /// `scope` makes of them, audited on both sides of the read: the
    /// attempt (which zones, by whom, for which purpose and what) before
    /// anything is opened, so a read that fails or is killed half-way is
    /// still on the record; then a read of each dataset `indicators` touched
    /// in the scope's source with its rows, or the failure with a fixed
    /// reason (never the error's text).
    fn with_zones<T>(
        &self,
        cli: &Cli,
        indicators: &[Indicator],
        what: &str,
        scope: impl FnOnce(&ZoneSession) -> Result<Scope>,
        f: impl FnOnce(&ZoneSession, &Scope) -> Result<T>,
    ) -> Result<T> {
        let zones: Vec<&str> = haven_governance::grant::zones_for(self.role, self.purpose).unwrap_or_default().iter().map(|z| z.name()).collect();
        let zones = zones.join("+");
        let with = |mut e: Event, outcome: &str| {
            e.outcome = outcome.into();
            e
        };
        audit(&cli.data_dir, with(self.event("read", &zones, serde_json::json!({"for": what, "indicators": indicators.len()})), "attempt"))?;
        let read = || -> Result<(T, Vec<(String, u64)>)> {
            let users = Users::open(&cli.data_dir)?;
            let g = grant(&users, &self.user, self.role, self.purpose, &self.dsa, today())?;
            let store = Store::open(&cli.data_dir)?;
            let zs = ZoneSession::open(&store, &g)?;
            let scope = scope(&zs)?;
            let source = scope.source;
            let datasets: std::collections::BTreeSet<&str> = indicators
                .iter()
                .filter(|i| haven_analytics::engine::available(&zs, source, i))
                .map(|i| haven_analytics::engine::reads(&scope, i))
                .collect();
            let out = f(&zs, &scope)?;
            let mut rows = Vec::new();
            for d in datasets {
                rows.push((format!("{}.{d}", source.schema()), zs.count_rows(source.zone(), d)?));
            }
            Ok((out, rows))
        };
        match read() {
            Ok((out, rows)) => {
                for (target, n) in rows {
                    audit(&cli.data_dir, self.event("read", &target, serde_json::json!({"rows": n, "for": what})))?;
                }
                Ok(out)
            }
            Err(e) => {
                let reason = crate::governance::fixed_reason(&e);
                audit(&cli.data_dir, with(self.event("read", &zones, serde_json::json!({"for": what, "reason": reason})), "failed"))?;
                Err(e)
            }
        }
    }

    /// Starts a held output of this work: the only place its tables and
    /// charts can be written.
    fn draft(&self, cli: &Cli, title: &str) -> Result<(Outputs, Draft)> {
        let mut outputs = Outputs::open(&cli.data_dir)?;
        let draft = outputs.draft(&self.user, title, &self.dsa.id, self.purpose.name())?;
        Ok((outputs, draft))
    }

    /// Holds the draft as one output pending review, and audits it.
    fn submit(&self, cli: &Cli, outputs: &mut Outputs, draft: Draft, title: &str) -> Result<String> {
        let files = draft.files().len();
        let out = draft.submit(outputs)?;
        audit(&cli.data_dir, self.event("output.submit", &out.id, serde_json::json!({"title": title, "files": files, "sha256": out.sha256})))?;
        Ok(out.id)
    }
}

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
            let (tables, _) = run_indicators(cli, &Work::from_session(cli)?, a)?;
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

fn wanted(only: Option<&str>) -> Result<Vec<Indicator>> {
    match only {
        Some(ids) => ids.split(',').map(|id| find(id.trim()).ok_or_else(|| anyhow!("no indicator {id} (see `haven indicators list`)"))).collect(),
        None => Ok(catalogue()),
    }
}

/// The catalogue over the local zone: tables (CSV, JSON, Parquet) and charts
/// written into a held output for review; returns the tables and its id.
pub fn run_indicators(cli: &Cli, work: &Work, a: &IndicatorsRunArgs) -> Result<(Vec<Table>, String)> {
    let period = Period::parse(&a.period)?;
    let by: Vec<Breakdown> = a.by.split(',').map(|b| Breakdown::parse(b.trim())).collect::<Result<_, _>>()?;
    let wanted = wanted(a.only.as_deref())?;
    let readmissions = a.readmission.options();
    let scope = |zs: &ZoneSession| -> Result<Scope> {
        let mut scope = Scope::of(zs, Source::Local, period);
        scope.readmissions = readmissions.clone();
        if let Some(icb) = &a.icb {
            scope = scope.for_icb(icb)?;
        }
        Ok(if a.from_episodes { scope.from_episodes() } else { scope })
    };
    let tables = work.with_zones(cli, &wanted, "indicators run", scope, |zs, scope| Ok(compute_catalogue(zs, scope, &Policy::default(), &wanted, &by)?))?;
    let title = format!("Indicators {}{}", period.label(), a.icb.as_deref().map(|i| format!(" for {i}")).unwrap_or_default());
    let (mut outputs, mut draft) = work.draft(cli, &title)?;
    for t in &tables {
        haven_analytics::write::table(t, &mut draft)?;
        if let Some(ind) = wanted.iter().find(|i| i.id == t.indicator) {
            haven_analytics::write::charts(ind, t, &mut draft, &[])?;
        }
    }
    let files = draft.files().len();
    let id = work.submit(cli, &mut outputs, draft, &title)?;
    audit(&cli.data_dir, work.event("indicators.run", &id, serde_json::json!({"tables": tables.len(), "files": files, "period": period.label(), "rule": "hes_ecds", "output": id, "readmissions": format!("{readmissions:?}")})))?;
    eprintln!("{} disclosure-controlled tables ({files} files) held for review as {id}: `haven outputs show {id}`", tables.len());
    Ok((tables, id))
}

pub fn benchmark(cli: &Cli, a: &BenchmarkArgs) -> Result<()> {
    let (b, _) = run_benchmark(cli, &Work::from_session(cli)?, a)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&b)?);
    } else {
        print_headline(&b);
    }
    Ok(())
}

/// The catalogue over the national extract for every ICB, compared for
/// `a.icb` with England and its peers, written into a held output for
/// review; returns the benchmark and the output's id.
pub fn run_benchmark(cli: &Cli, work: &Work, a: &BenchmarkArgs) -> Result<(Benchmark, String)> {
    let period = Period::parse(&a.period)?;
    let wanted = wanted(a.only.as_deref())?;
    let icb = a.icb.to_ascii_uppercase();
    let readmissions = a.readmission.options();
    let scope = |zs: &ZoneSession| {
        let mut scope = Scope::of(zs, Source::National, period);
        scope.readmissions = readmissions.clone();
        Ok(scope)
    };
    let (b, m) = work.with_zones(cli, &wanted, "benchmark", scope, |zs, scope| {
        let b = haven_analytics::benchmark::benchmark(zs, scope, &Policy::default(), &wanted, &icb, a.peers)?;
        let m = haven_analytics::mortality::shmi(zs, scope, &Policy::default(), &MortalityOptions::default())?;
        Ok((b, m))
    })?;
    if m.post_discharge_deaths {
        audit(&cli.data_dir, work.event("read", "national.death", serde_json::json!({"for": "benchmark (deaths within 30 days of discharge)"})))?;
    }
    let title = format!("Benchmark {icb} {}", period.label());
    let (mut outputs, mut draft) = work.draft(cli, &title)?;
    haven_analytics::write::benchmark(&b, &wanted, &mut draft)?;
    haven_analytics::write::mortality(&m, &mut draft)?;
    let files = draft.files().len();
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
    let id = work.submit(cli, &mut outputs, draft, &title)?;
    audit(&cli.data_dir, work.event("benchmark.run", &id, serde_json::json!({"icb": icb, "period": period.label(), "peers": b.peers.len(), "files": files, "output": id, "readmissions": format!("{readmissions:?}")})))?;
    eprintln!("the benchmark of {icb} ({files} files) is held for review as {id}: `haven outputs show {id}`");
    Ok((b, id))
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
    let mut users = Users::open(data_dir)?;
    if users.get(name)?.is_some() {
        return Ok(None);
    }
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(|e| anyhow!("no randomness for a password: {e}"))?;
    let password = haven_store::hex(&secret);
    users.add(name, Role::Analyst, None, &password)?;
    Ok(Some(password))
}

/// The analyst `haven demo` works as.
const DEMO_ANALYST: &str = "demo.analyst";

/// The demo's analytical step: as a demo analyst (created on first run, its
/// random password written to `<data-dir>/demo-credentials.txt`, mode
/// 0600, so the user can sign in and look around), run the catalogue for
/// commissioning and the benchmark of `icb`, then print the headline
/// indicators against England and where the outputs are held (they leave
/// only by `haven outputs export` once two reviewers release them).
pub fn demo(cli: &Cli, icb: &str) -> Result<()> {
    ensure_demo_analyst(cli)?;
    let dsa = find_dsa(cli, "DSA-HAVEN-DEMO")?;
    let as_ = |purpose| Work { user: DEMO_ANALYST.into(), role: Role::Analyst, purpose, dsa: dsa.clone() };
    let run = IndicatorsRunArgs {
        period: "2024-25".into(),
        only: None,
        icb: None,
        by: "total,month,sub_icb,pcn,practice,provider,age_band,sex,ethnicity,imd_quintile,admission_type".into(),
        from_episodes: false,
        readmission: Default::default(),
    };
    let (_, indicators) = run_indicators(cli, &as_(Purpose::Commissioning), &run)?;
    let bench = BenchmarkArgs { icb: icb.into(), period: "2024-25".into(), peers: 10, only: None, readmission: Default::default() };
    let (b, benchmark) = run_benchmark(cli, &as_(Purpose::PopulationHealthBenchmarking), &bench)?;
    if !cli.json {
        print_headline(&b);
        println!(
            "Outputs held for review in {}: {indicators} (indicators) and {benchmark} (benchmark); see `haven outputs show ID`",
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
