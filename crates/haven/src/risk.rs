//! `haven risk …`: the face of `haven_app::risk` (issue 18). Parses,
//! calls, prints counts and metrics; the rules live in the app layer.

use anyhow::{anyhow, Result};
use haven_app::risk::{RiskRun, RiskSummary, CEILING, MODEL};

use crate::cli::{Cli, RiskCommand, RiskRunArgs};
use crate::governance::{app, app_actor};

pub fn risk(cli: &Cli, what: &RiskCommand) -> Result<()> {
    match what {
        RiskCommand::Run(a) => run(cli, a),
        RiskCommand::List { practice, index_date, limit } => list(cli, practice.as_deref(), index_date.as_deref(), *limit),
        RiskCommand::Patient { nhs_number, theograph, to, years } => patient(cli, nhs_number, theograph.as_deref(), to.as_deref(), *years),
    }
}

fn run(cli: &Cli, a: &RiskRunArgs) -> Result<()> {
    let index_date = haven_model::Date::parse(&a.index_date).map_err(|_| anyhow!("--index-date must be a date, YYYY-MM-DD"))?;
    let run = RiskRun { index_date, seed: a.seed, efi_map: a.efi_map.clone(), condition_map: a.condition_map.clone(), truth: a.truth.clone(), top_fraction: a.top };
    let s = app(cli).run_risk(&app_actor(), &run)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print(&s);
    }
    Ok(())
}

fn list(cli: &Cli, practice: Option<&str>, index_date: Option<&str>, limit: usize) -> Result<()> {
    let index_date = index_date.map(haven_model::Date::parse).transpose().map_err(|_| anyhow!("--index-date must be a date, YYYY-MM-DD"))?;
    let l = app(cli).risk_list(&app_actor(), practice, index_date, limit)?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&l)?);
        return Ok(());
    }
    println!("practice {}: {} patients registered, ranked by the model of {} on histories to {}", l.practice, l.registered, l.model_from, l.index_date);
    println!("{:>4} {:<10} {:>3} {:<7} {:>6} {:>5} {:>3} {:<8} {:>3}  cohorts", "rank", "NHS number", "age", "sex", "risk", "HFRS", "CCI", "eFI", "EA");
    for p in &l.patients {
        let age = p.age.map_or_else(|| "-".to_owned(), |a| a.to_string());
        let efi = p.efi.as_deref().unwrap_or("-");
        println!("{:>4} {:<10} {age:>3} {:<7} {:>6.3} {:>5.1} {:>3} {efi:<8} {:>3}  {}", p.rank, p.nhs_number, p.sex, p.risk, p.hfrs, p.charlson, p.emergency_admissions, p.cohorts.join(","));
    }
    Ok(())
}

fn patient(cli: &Cli, nhs: &str, theograph: Option<&std::path::Path>, to: Option<&str>, years: u16) -> Result<()> {
    let to = to.map(haven_model::Date::parse).transpose().map_err(|_| anyhow!("--to must be a date, YYYY-MM-DD"))?;
    let t = app(cli).risk_patient(&app_actor(), nhs, to, years)?;
    if let Some(path) = theograph {
        // The patient's record: the file is the GP's alone from its first byte.
        use std::io::Write;
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        f.write_all(t.svg.as_bytes())?;
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&t)?);
        return Ok(());
    }
    println!("patient {} of practice {}: {} encounters from {} to {}", t.nhs_number, t.practice, t.encounters.len(), t.from, t.to);
    for e in &t.encounters {
        let end = e.end.as_deref().map(|d| format!(" to {d}")).unwrap_or_default();
        println!("  {}{end:<14} {:<26} {}", e.day, e.kind, e.what);
    }
    if let Some(path) = theograph {
        println!("theograph written to {}", path.display());
    }
    Ok(())
}

/// The headline: who was scored, each score's held-out metrics, the model
/// beside the ceiling, the largest cohorts (protected counts).
pub(crate) fn print(s: &RiskSummary) {
    let r = &s.report;
    println!("risk stratification: {} people registered; fitted on {}, evaluated on {} held out ({} admitted in the outcome year)", s.people, s.trained_on, r.rows, r.events);
    println!("  ridge penalty λ = {} (least validation deviance on {} of the fitted people, the model refitted on all of them)", s.ridge.ridge, s.ridge.validated_on);
    println!("  {:<28} {:>7} {:>17} {:>7} {:>7} {:>7} {:>7}", "score", "AUC", "95% interval", "Brier", "top0.5%", "top1%", "top5%");
    for sc in &r.scores {
        let cap: Vec<String> = sc.capture.iter().map(|c| format!("{:>7.3}", c.events_share)).collect();
        println!("  {:<28} {:>7.4} {:>8.4}–{:<8.4} {:>7.4} {}", sc.name, sc.auc.auc, sc.auc.lower, sc.auc.upper, sc.brier, cap.join(" "));
    }
    if let (Some(m), Some(c)) = (r.score(MODEL), r.score(CEILING)) {
        let matched = s.truth_matched.unwrap_or(0);
        println!("  the model's AUC {:.4} beside the true-risk ceiling {:.4} (gap {:.4}; the truth named {matched} of {} held out)", m.auc.auc, c.auc.auc, c.auc.auc - m.auc.auc, r.rows);
    }
    if !s.not_opened.is_empty() {
        println!("  not opened for this run: {}", s.not_opened.join(", "));
    }
    let largest: Vec<String> = s.groups.iter().take(5).map(|(g, n)| format!("{g} {n}")).collect();
    println!("  largest cohorts and segments: {}", largest.join(", "));
    println!("held for review as {} (two reviewers release it)", s.output);
}

/// The eFI code map of the synthetic GP extract, which codes each deficit
/// with one concept (`haven_synth::clinical::EFI_DEFICIT_CODES`); a real
/// deployment supplies its own licensed map. Shared by the demo and
/// `haven bench risk`.
pub(crate) fn synthetic_efi_map() -> String {
    use std::fmt::Write as _;
    let mut map = String::from("deficit_number,code\n");
    for (deficit, code) in haven_synth::clinical::EFI_DEFICIT_CODES {
        let _ = writeln!(map, "{deficit},{code}");
    }
    map
}

/// **Synthetic.** The GP condition code map of the synthetic GP extract,
/// which records each of the generator's conditions with one SNOMED CT
/// concept (`haven_synth::clinical::FACTS`' `snomed`); a real deployment
/// supplies its own map of the QOF cluster codes. Each generator condition
/// is named here as the `haven_risk::gp_conditions` condition it stands
/// for (asthma and COPD kept apart, as their QOF registers are). Shared by
/// the demo and `haven bench risk`.
pub(crate) fn synthetic_condition_map() -> String {
    use haven_risk::gp_conditions::GpCondition as G;
    use haven_synth::clinical::{facts, Condition as C, CONDITIONS};
    use std::fmt::Write as _;
    let mut map = String::from("condition,code,term\n# Synthetic: the codes of Haven's generated GP extract, not a clinical code list.\n");
    for c in CONDITIONS {
        let condition = match c {
            C::Hypertension => G::Hypertension,
            C::Diabetes => G::Diabetes,
            C::Asthma => G::Asthma,
            C::Copd => G::Copd,
            C::Chd => G::CoronaryHeartDisease,
            C::HeartFailure => G::HeartFailure,
            C::AtrialFibrillation => G::AtrialFibrillation,
            C::Ckd => G::ChronicKidneyDisease,
            C::Dementia => G::Dementia,
            C::Cancer => G::Cancer,
            C::Depression => G::Depression,
            C::Stroke => G::StrokeOrTia,
        };
        let f = facts(c);
        let _ = writeln!(map, "{},{},{} (synthetic)", condition.name(), f.snomed, f.name);
    }
    map
}

/// The demo's risk stratification: as its analyst, on the store it made,
/// with an eFI code map and a GP condition code map of the synthetic GP
/// codes (each labelled synthetic) and the ground truth for
/// the ceiling. Prints the model's AUC beside the ceiling and the largest
/// cohorts.
pub fn demo(cli: &Cli, synth: &std::path::Path) -> Result<()> {
    use haven_governance::dsa::{Purpose, Role};
    let session = haven_governance::session::Session {
        user: crate::analytics::DEMO_ANALYST.into(),
        role: Role::Analyst,
        purpose: Some(Purpose::RiskStratification),
        dsa: Some("DSA-HAVEN-DEMO".into()),
        practice: None,
        expires_at: u64::MAX,
    };
    let map_path = synth.join("ground_truth/efi_code_map.csv");
    std::fs::write(&map_path, synthetic_efi_map())?;
    let condition_map = synth.join("ground_truth/gp_condition_code_map.csv");
    std::fs::write(&condition_map, synthetic_condition_map())?;
    let truth = synth.join("ground_truth/persons.psv");
    // Two years from April 2024: a base year, then the outcome year.
    let index_date = haven_model::Date::from_ymd(2025, 4, 1).map_err(|_| anyhow!("the demo's index date"))?;
    // The ceiling needs the ground truth, which only a store the demo made
    // may read (an administrator's demo on another store runs without it).
    let truth = (truth.is_file() && crate::commands::is_demo_store(&cli.data_dir)).then_some(truth);
    let run = RiskRun { efi_map: Some(map_path), condition_map: Some(condition_map), truth, ..RiskRun::new(index_date) };
    let s = app(cli).run_risk(&haven_app::Actor::Signed(session), &run)?;
    if !cli.json {
        let auc = |name: &str| s.report.score(name).map_or_else(|| "n/a".to_owned(), |r| format!("{:.4}", r.auc.auc));
        let largest: Vec<String> = s.groups.iter().take(3).map(|(g, n)| format!("{g} {n}")).collect();
        println!(
            "Risk stratification: {} people scored; emergency-admission model AUC {} beside the true-risk ceiling {} on {} held-out people ({} named by the ground truth); largest cohorts {}; held for review as {}",
            s.people,
            auc(MODEL),
            auc(CEILING),
            s.report.rows,
            s.truth_matched.unwrap_or(0),
            largest.join(", "),
            s.output
        );
    }
    Ok(())
}
