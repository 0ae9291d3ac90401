//! `haven users` and `haven audit`, and the audit trail of every command
//! that changes or reads governed data.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use haven_governance::audit::{AuditLog, Event};
use haven_governance::users::{UserRole, Users};

use haven_governance::dsa::{Dsa, Purpose, Role};
use haven_model::Date;

use haven_governance::disclosure::{Policy, Rule};
use haven_governance::outputs::{Content, Outputs};

use crate::cli::{AuditCommand, Cli, DsaCommand, OutputsCommand, UsersCommand};

/// The demo's synthetic agreement, built in so `haven demo` works from any
/// folder; a file of the same id in the DSA folder takes precedence.
const DEMO_DSA: (&str, &str) = ("DSA-HAVEN-DEMO.toml", include_str!("../../../dsa/DSA-HAVEN-DEMO.toml"));

/// Today's date (UTC).
pub fn today() -> Date {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Date::from_days((secs / 86_400) as i32)
}

/// Every agreement in the DSA folder, plus the built-in demo agreement.
pub fn load_dsas(dir: &Path) -> Result<Vec<Dsa>> {
    let mut all = if dir.is_dir() { Dsa::load_dir(dir)? } else { Vec::new() };
    if !all.iter().any(|d| d.id == "DSA-HAVEN-DEMO") {
        all.push(Dsa::from_toml(DEMO_DSA.0, DEMO_DSA.1)?);
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// One agreement by id.
pub fn find_dsa(dir: &Path, id: &str) -> Result<Dsa> {
    load_dsas(dir)?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| anyhow!("no Data Sharing Agreement {id} in {} (see `haven dsa list`)", dir.display()))
}

pub fn dsa(cli: &Cli, what: &DsaCommand) -> Result<()> {
    match what {
        DsaCommand::List => {
            let all = load_dsas(&cli.dsa_dir)?;
            if cli.json {
                let v: Vec<_> = all
                    .iter()
                    .map(|d| serde_json::json!({"id": d.id, "title": d.title, "controllers": d.controllers,
                        "start": d.start.to_string(), "end": d.end.to_string(), "in_force": d.in_force(today()).is_ok()}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for d in &all {
                    let state = match d.in_force(today()) {
                        Ok(()) => "in force".to_owned(),
                        Err(_) if d.end < today() => "expired".to_owned(),
                        Err(_) => "not started".to_owned(),
                    };
                    println!("{:<24} {} to {}  {:<12} {}", d.id, d.start, d.end, state, d.title);
                }
            }
        }
        DsaCommand::Show { id } => {
            let d = find_dsa(&cli.dsa_dir, id)?;
            println!("{}  {}", d.id, d.title);
            println!("  controllers   {}", d.controllers.join(", "));
            println!("  period        {} to {}", d.start, d.end);
            println!("  datasets      {}", d.datasets.join(", "));
            for t in &d.purposes {
                let roles: Vec<&str> = t.roles.iter().map(|r| r.name()).collect();
                println!(
                    "  purpose       {:<32} opt-out {:<3} roles {:<28} basis: {}",
                    t.purpose.name(),
                    if t.optout_applies { "yes" } else { "no" },
                    roles.join(","),
                    t.legal_basis
                );
            }
            for l in &d.linkages {
                println!("  linkage       {}: {}", l.purpose.name(), l.datasets.join(" + "));
            }
            println!("  minimisation  {}", if d.minimisation.is_empty() { "-".into() } else { d.minimisation.join(", ") });
            println!("  retention     {} years; sublicensing {}; territory {}", d.retention_years, if d.sublicensing { "yes" } else { "no" }, d.territory);
            println!("  source        {}", d.source);
        }
        DsaCommand::Check { id, on, purpose, role } => {
            let d = find_dsa(&cli.dsa_dir, id)?;
            let day = match on {
                Some(s) => Date::parse(s).map_err(|e| anyhow!("--on: {e}"))?,
                None => today(),
            };
            let result = match (purpose, role) {
                (Some(p), Some(r)) => {
                    let p: Purpose = p.parse()?;
                    let r: Role = r.parse()?;
                    d.check(day, p, r).map(|_| ())
                }
                _ => d.in_force(day),
            };
            let outcome = if result.is_ok() { "allowed" } else { "refused" };
            let detail = match &result {
                Ok(()) => serde_json::json!({"on": day.to_string(), "purpose": purpose, "role": role}),
                Err(e) => serde_json::json!({"on": day.to_string(), "purpose": purpose, "role": role, "reason": e.to_string()}),
            };
            audit(&cli.data_dir, event(role.as_deref().unwrap_or(""), purpose.as_deref().unwrap_or(""), id, "dsa.check", id, outcome, detail))?;
            result?;
            println!("{id}: allowed on {day}");
        }
    }
    Ok(())
}

/// Who is running this command: `HAVEN_USER`, else the login name.
pub fn actor() -> String {
    std::env::var("HAVEN_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into())
}

/// Appends an event to the data directory's audit log.
pub fn audit(data_dir: &Path, event: Event) -> Result<()> {
    let mut log = AuditLog::open(data_dir)?;
    log.append(event)?;
    Ok(())
}

/// An audit event by the current actor.
pub fn event(role: &str, purpose: &str, dsa: &str, action: &str, target: &str, outcome: &str, detail: serde_json::Value) -> Event {
    Event {
        actor: actor(),
        role: role.into(),
        purpose: purpose.into(),
        dsa: dsa.into(),
        action: action.into(),
        target: target.into(),
        outcome: outcome.into(),
        detail: detail.to_string(),
    }
}

pub fn users(cli: &Cli, what: &UsersCommand) -> Result<()> {
    let mut users = Users::open(&cli.data_dir)?;
    match what {
        UsersCommand::Add { name, role, practice, password_file } => {
            let password = match password_file {
                Some(f) => std::fs::read_to_string(f)
                    .with_context(|| format!("reading {}", f.display()))?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                None => std::env::var("HAVEN_PASSWORD")
                    .map_err(|_| anyhow!("give the password in --password-file FILE or HAVEN_PASSWORD"))?,
            };
            let result = role.parse::<UserRole>().and_then(|r| users.add(name, r, practice.as_deref(), &password));
            let outcome = if result.is_ok() { "ok" } else { "refused" };
            let detail = match &result {
                Ok(u) => serde_json::json!({"role": u.role, "practice": u.practice}),
                Err(e) => serde_json::json!({"reason": e.to_string()}),
            };
            audit(&cli.data_dir, event("admin", "administration", "", "user.add", name, outcome, detail))?;
            let user = result?;
            println!("added user {} ({}{})", user.name, user.role, user.practice.map(|p| format!(", practice {p}")).unwrap_or_default());
        }
        UsersCommand::List => {
            let list = users.list()?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for u in list {
                    println!(
                        "{:<24} {:<8} {:<8} {}{}",
                        u.name,
                        u.role,
                        u.practice.as_deref().unwrap_or("-"),
                        u.created_at,
                        if u.disabled { "  disabled" } else { "" }
                    );
                }
            }
        }
        UsersCommand::Disable { name } => {
            let result = users.disable(name);
            audit(&cli.data_dir, event("admin", "administration", "", "user.disable", name, if result.is_ok() { "ok" } else { "refused" }, serde_json::json!({})))?;
            result?;
            println!("disabled user {name}");
        }
    }
    Ok(())
}

pub fn audit_command(cli: &Cli, what: &AuditCommand) -> Result<()> {
    let log = AuditLog::open(&cli.data_dir)?;
    match what {
        AuditCommand::Verify => {
            let n = log.verify().map_err(|e| anyhow!("audit log verification failed: {e}"))?;
            if cli.json {
                println!("{}", serde_json::json!({"verified": true, "entries": n}));
            } else {
                println!("audit log verified: {n} entries, chain intact");
            }
        }
        AuditCommand::Export { out, format } => {
            let n = match format.as_str() {
                "csv" => log.export_csv(out)?,
                "json" => log.export_json(out)?,
                other => bail!("--format must be csv or json, not {other:?}"),
            };
            drop(log);
            audit(&cli.data_dir, event("auditor", "audit", "", "audit.export", &out.display().to_string(), "ok", serde_json::json!({"entries": n})))?;
            println!("wrote {n} audit entries to {}", out.display());
        }
    }
    Ok(())
}

/// A labelled table of counts: corner label, row labels, column labels, counts.
type Counts = (String, Vec<String>, Vec<String>, Vec<Vec<u64>>);

/// Reads a counts CSV: header `label,cat1,cat2,...`, then `row,n1,n2,...`.
fn read_counts(path: &Path) -> Result<Counts> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines.next().ok_or_else(|| anyhow!("{}: empty", path.display()))?.split(',').map(|s| s.trim().to_owned()).collect();
    if header.len() < 2 {
        bail!("{}, line 1: expected a label column and at least one count column", path.display());
    }
    let (mut rows, mut counts) = (Vec::new(), Vec::new());
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            bail!("{}, line {}: {} fields, the header has {}", path.display(), i + 2, fields.len(), header.len());
        }
        rows.push(fields[0].to_owned());
        let values = fields[1..]
            .iter()
            .enumerate()
            .map(|(j, f)| f.parse::<u64>().map_err(|_| anyhow!("{}, line {}, field {}: not a count", path.display(), i + 2, header[j + 1])))
            .collect::<Result<Vec<u64>>>()?;
        counts.push(values);
    }
    Ok((header[0].clone(), rows, header[1..].to_vec(), counts))
}

pub fn outputs(cli: &Cli, what: &OutputsCommand) -> Result<()> {
    let mut outputs = Outputs::open(&cli.data_dir)?;
    let me = actor();
    match what {
        OutputsCommand::Submit { title, counts, rule, dsa, purpose } => {
            let rule = match rule.as_str() {
                "hes_ecds" => Rule::HesEcds,
                "midpoint6" => Rule::Midpoint6,
                other => bail!("--rule must be hes_ecds or midpoint6, not {other:?}"),
            };
            let (corner, rows, cols, table) = read_counts(counts)?;
            let policy = Policy { rule, ..Policy::default() };
            let content = Content::from_protected(&corner, &rows, &cols, &policy.table(&table));
            let out = outputs.submit(&me, title, dsa, purpose, &content)?;
            audit(&cli.data_dir, event("analyst", purpose, dsa, "output.submit", &out.id, "ok", serde_json::json!({"title": title, "sha256": out.sha256})))?;
            println!("{} held for review (needs {} approvals from reviewers other than {me})", out.id, haven_governance::outputs::APPROVALS_NEEDED);
        }
        OutputsCommand::List => {
            let all = outputs.list()?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for o in all {
                    println!("{}  {:<9} {:<12} {}  ({} reviews)", o.id, format!("{:?}", o.status).to_lowercase(), o.author, o.title, o.reviews.len());
                }
            }
        }
        OutputsCommand::Show { id } => {
            let o = outputs.get(id)?.ok_or_else(|| anyhow!("no output {id}"))?;
            println!("{}  {}  by {} under {} for {}  status {:?}", o.id, o.title, o.author, o.dsa, o.purpose, o.status);
            for (who, decision, reason, at) in &o.reviews {
                println!("  {at} {who}: {decision} {reason}");
            }
            let held = cli.data_dir.join("outputs").join(format!("{id}.csv"));
            print!("{}", std::fs::read_to_string(held).unwrap_or_default());
        }
        OutputsCommand::Approve { id } | OutputsCommand::Reject { id, .. } => {
            let (approve, reason) = match what {
                OutputsCommand::Reject { reason, .. } => (false, reason.as_str()),
                _ => (true, ""),
            };
            let users = Users::open(&cli.data_dir)?;
            let result = outputs.review(&users, id, &me, approve, reason);
            let action = if approve { "output.approve" } else { "output.reject" };
            let detail = match &result {
                Ok(o) => serde_json::json!({"status": o.status, "reason": reason}),
                Err(e) => serde_json::json!({"reason": e.to_string()}),
            };
            audit(&cli.data_dir, event("reviewer", "output_release", "", action, id, if result.is_ok() { "ok" } else { "refused" }, detail))?;
            let o = result?;
            println!("{id}: {:?}", o.status);
        }
        OutputsCommand::Export { id, out } => {
            let result = outputs.export(id, out);
            let detail = match &result {
                Ok(o) => serde_json::json!({"to": out, "sha256": o.sha256}),
                Err(e) => serde_json::json!({"reason": e.to_string()}),
            };
            audit(&cli.data_dir, event("analyst", "output_release", "", "output.export", id, if result.is_ok() { "ok" } else { "refused" }, detail))?;
            result?;
            println!("exported {id} to {}", out.display());
        }
    }
    Ok(())
}
