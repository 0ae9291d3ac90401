//! `haven indicators`: the catalogue, and running it under the signed-in
//! analyst's grant. Reads of patient data are audited per dataset (zone,
//! rows, purpose); every table written has passed disclosure control.

use anyhow::{anyhow, Result};
use haven_analytics::{catalogue, compute_all, find, Breakdown, Period};
use haven_governance::disclosure::Policy;
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_store::{Store, Zone, ZoneSession};

use crate::cli::{Cli, IndicatorsCommand, IndicatorsRunArgs};
use crate::governance::{audit, event, find_dsa, session, today};

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
            println!("  data         pseudonymised.{}", i.base.dataset());
            println!("  method       {:?}, unit {}, polarity {:?}", i.method, i.unit, i.polarity);
            println!("  source       {}", i.citation);
            if !i.choices.is_empty() {
                println!("  choices      {}", i.choices);
            }
            Ok(())
        }
        IndicatorsCommand::Run(a) => run(cli, a),
    }
}

fn run(cli: &Cli, a: &IndicatorsRunArgs) -> Result<()> {
    let s = session().ok_or_else(|| anyhow!("running indicators needs a sign-in"))?;
    let purpose = s.purpose.ok_or_else(|| anyhow!("the session has no purpose"))?;
    let dsa = find_dsa(&cli.dsa_dir, s.dsa.as_deref().unwrap_or(""))?;
    let users = Users::open(&cli.data_dir)?;
    let g = grant(&users, &s.user, s.role, purpose, &dsa, today())?;
    let store = Store::open(&cli.data_dir)?;
    let zs = ZoneSession::open(&store, &g)?;
    let period = Period::parse(&a.period)?;
    let by: Vec<Breakdown> = a.by.split(',').map(|b| Breakdown::parse(b.trim())).collect::<Result<_, _>>()?;
    let wanted = match &a.only {
        Some(ids) => ids.split(',').map(|id| find(id.trim()).ok_or_else(|| anyhow!("no indicator {id}"))).collect::<Result<Vec<_>>>()?,
        None => catalogue(),
    };
    let policy = Policy::default();
    let mut written = 0;
    let mut datasets = std::collections::BTreeSet::new();
    for ind in wanted.iter().filter(|i| haven_analytics::engine::available(&zs, i)) {
        datasets.insert(ind.base.dataset());
        for table in compute_all(&zs, &policy, ind, &by, period)? {
            haven_analytics::write(&table, &a.out)?;
            written += 1;
            if table.breakdown == Breakdown::Total && !cli.json {
                let t = &table.total;
                let v = t.value.map(|v| format!("{v:.2} {}", table.unit)).unwrap_or_else(|| "suppressed".into());
                println!("{:<32} {:<12} {}", ind.id, v, ind.title);
            }
        }
    }
    for d in &datasets {
        let rows = zs.count_rows(Zone::Pseudonymised, d)?;
        audit(&cli.data_dir, event("", "", "", "read", &format!("pseudonymised.{d}"), "ok", serde_json::json!({"rows": rows, "for": "indicators run", "period": period.label()})))?;
    }
    audit(&cli.data_dir, event("", "", "", "indicators.run", &a.out.display().to_string(), "ok", serde_json::json!({"tables": written, "period": period.label(), "rule": "hes_ecds"})))?;
    eprintln!("wrote {written} disclosure-controlled tables to {}", a.out.display());
    Ok(())
}
