//! `haven iv`: invoice validation for a signed-in finance validator
//! (`haven_app::App::run_iv`), and the reason-code table.

use anyhow::Result;
use haven_finance::{Config, REASONS};

use crate::cli::{ChallengesCommand, Cli, IvCommand, IvRunArgs};
use crate::governance::{app, app_actor};

pub fn iv(cli: &Cli, what: &IvCommand) -> Result<()> {
    match what {
        IvCommand::Run(a) => run(cli, a),
        IvCommand::Reasons => {
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&REASONS)?);
            } else {
                for r in REASONS {
                    println!("{:<30} {}\n{:<30} rule {}; source: {}", r.code, r.meaning, "", r.rule, r.source);
                }
            }
            Ok(())
        }
        IvCommand::Challenges { what } => challenges(cli, what),
        IvCommand::Report { run } => {
            let app = app(cli);
            let run = match run {
                Some(r) => r.clone(),
                None => app.iv_runs()?.first().map(|s| s.run.clone()).ok_or_else(|| anyhow::anyhow!("no validation run yet: `haven iv run` first"))?,
            };
            let reports = app.iv_reports(&run)?;
            if cli.json {
                let v: serde_json::Map<String, serde_json::Value> = reports.into_iter().map(|(n, csv)| (n, csv.into())).collect();
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"run": run, "reports": v}))?);
            } else {
                for (name, csv) in reports {
                    println!("# {run} {name}\n{csv}");
                }
            }
            Ok(())
        }
        IvCommand::ImportResponses { file } => {
            let text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let r = app(cli).import_responses(&app_actor(), &text)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!("{} accepted, {} disputed, {} naming no challenge awaiting a response", r.accepted, r.disputed, r.not_awaiting);
                for (line, why) in &r.unreadable {
                    println!("  line {line}: {why} (not applied)");
                }
            }
            Ok(())
        }
    }
}

fn challenges(cli: &Cli, what: &ChallengesCommand) -> Result<()> {
    let app = app(cli);
    let print = |c: &haven_finance::challenge::Challenge| {
        println!("{:>6} {:<10} {:<18} line {:>5} {:<6} {:>12} {}", c.id, c.status.name(), c.invoice_number, c.line_no, c.provider, pounds(c.amount), c.reasons);
    };
    match what {
        ChallengesCommand::List { status } => {
            let list = app.challenges(status.as_deref())?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                list.iter().for_each(print);
            }
        }
        ChallengesCommand::Show { id } => {
            let (c, events) = app.challenge(*id)?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({"challenge": c, "history": events}))?);
            } else {
                print(&c);
                for e in events {
                    println!("  {} {:<10} by {} {}", e.at, e.status.name(), e.by, e.note);
                }
            }
        }
        ChallengesCommand::Update { id, status, note, recovered } => {
            let recovered = recovered.as_deref().map(haven_finance::challenge::parse_pounds).transpose()?;
            let c = app.update_challenge(&app_actor(), *id, status, note, recovered)?;
            print(&c);
            if let Some(r) = c.recovered {
                println!("       recovered {}", pounds(r));
            }
        }
    }
    Ok(())
}

fn pounds(pence: i64) -> String {
    format!("£{:.2}", pence as f64 / 100.0)
}

fn run(cli: &Cli, a: &IvRunArgs) -> Result<()> {
    let mut cfg = Config::for_icb(a.icb.as_deref().unwrap_or(""));
    cfg.tolerance_pence = a.tolerance_pence;
    if let Some(path) = &a.health_and_justice {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        cfg.health_and_justice = Config::practice_list(&text);
    }
    let run = haven_app::finance::IvRun { month: a.period.clone(), truth: a.truth.as_ref().map(|p| p.display().to_string()), report: a.report };
    let s = app(cli).run_iv(&app_actor(), &run, &cfg)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!(
        "invoice validation {}: {} lines on {} invoices checked, {} challenged; {} billed, {} challenged",
        s.run,
        s.lines,
        s.invoices,
        s.challenged,
        pounds(s.value_billed),
        pounds(s.value_challenged)
    );
    if !s.not_opened.is_empty() {
        println!("  not opened for this run (the checks that need them did not run): {}", s.not_opened.join(", "));
    }
    for (how, n) in &s.matched_by {
        println!("  matched {how:<22} {n:>8}");
    }
    for (reason, n) in &s.by_reason {
        println!("  {reason:<30} {n:>8} lines");
    }
    for (reason, n) in &s.invoice_findings {
        println!("  {reason:<30} {n:>8} invoices");
    }
    if let Some(q) = &s.quality {
        println!("against the ground truth: precision {:.4}, recall {:.4} ({} true, {} false positives, {} missed)", q.precision, q.recall, q.true_positives, q.false_positives, q.false_negatives);
        for k in &q.kinds {
            println!("  {:<30} {:>6} lines, {:>6} challenged, {:>6} with its reason", k.kind, k.lines, k.challenged, k.with_reason);
        }
        for (reason, n) in &q.false_positive_reasons {
            println!("  clean lines challenged for {reason}: {n}");
        }
    }
    eprintln!("every line's outcome, with its evidence, is in {} (inside the CEfF)", s.lines_csv.display());
    let c = &s.challenges;
    println!("challenge log: {} raised, {} already open, {} superseded (`haven iv challenges list`)", c.raised, c.kept, c.superseded);
    if let Some(out) = &s.output {
        eprintln!("the accuracy and budget reports are held for review as {out}: `haven outputs show {out}`");
    }
    Ok(())
}

/// The finance validator `haven demo` works as.
const DEMO_FINANCE: &str = "demo.finance";

/// The demo's invoice-validation step: as a demo finance validator (role
/// ceff, purpose invoice_validation, made on first run), validate the
/// synthetic invoices and print the headline with precision and recall
/// against the generator's ground truth in `synth`.
pub fn demo(cli: &Cli, synth: &std::path::Path) -> Result<()> {
    use haven_governance::dsa::{Purpose, Role};
    if let Some(password) = crate::analytics::ensure_tool_user(&cli.data_dir, DEMO_FINANCE, Role::Ceff)? {
        let path = cli.data_dir.join("demo-credentials.txt");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&format!("{DEMO_FINANCE} {password}\n"));
        std::fs::write(&path, text)?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    }
    let session = haven_governance::session::Session {
        user: DEMO_FINANCE.into(),
        role: Role::Ceff,
        purpose: Some(Purpose::InvoiceValidation),
        dsa: Some("DSA-HAVEN-DEMO".into()),
        practice: None,
        expires_at: u64::MAX,
    };
    let truth = synth.join("ground_truth/invoice_errors.psv");
    let run = haven_app::finance::IvRun { month: None, truth: truth.is_file().then(|| truth.display().to_string()), report: true };
    let s = app(cli).run_iv(&haven_app::Actor::Signed(session), &run, &Config::for_icb(""))?;
    if !cli.json {
        let q = s.quality.as_ref().map(|q| format!("; against the ground truth precision {:.3}, recall {:.3}", q.precision, q.recall)).unwrap_or_default();
        println!(
            "Invoice validation: {} lines checked, {} challenged, {} of {} challenged{q}",
            s.lines,
            s.challenged,
            pounds(s.value_challenged),
            pounds(s.value_billed)
        );
        if let Some(out) = &s.output {
            println!("Invoice validation reports (summary, accuracy, budget by practice and by point of delivery) held for review as {out}");
        }
    }
    Ok(())
}
