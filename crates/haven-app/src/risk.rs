//! Risk stratification (issue 18) for a signed-in analyst under an
//! agreement whose risk-stratification purpose allows the SUS+ × GP
//! linkage: the run reads the pseudonymised zone (`haven_risk::read`),
//! scores everyone registered on the index date, fits the
//! emergency-admission model on 70% of people and evaluates it on the
//! other 30% beside published baselines, and holds the evaluation, the
//! model and the cohort counts by practice, PCN and ICB — every count
//! through disclosure control — as an output for two-person release.
//! Nothing person-level leaves: the audit log and the reply carry counts
//! and metrics only.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use haven_governance::disclosure::Policy;
use haven_governance::dsa::Purpose;
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_model::Date;
use haven_risk::cohort::{counts_by_practice, top_risk, CohortOptions, PracticeCount};
use haven_risk::efi::DeficitCodeMap;
use haven_risk::gp_conditions::ConditionCodeMap;
use haven_risk::model::{choose_ridge, evaluate, fit_model, split, EvaluationOptions, EvaluationReport, Features, FitOptions, LogisticModel, NamedRisk, RidgeChoice, Split, SplitOptions};
use haven_risk::person::{features, score, Person, BASELINE_COLUMNS};
use haven_risk::read::{inputs, CodeMaps, Inputs, RiskOptions};
use haven_store::{Store, Zone, ZoneSession};
use serde::Serialize;

use crate::{Actor, App, AppError};

/// The model's score, the published baselines and the ceiling, by name.
pub const MODEL: &str = "model";
/// Prior emergency admissions alone (issue 18 §2's simple baseline).
pub const BASELINE_PRIOR: &str = "prior_emergency_admissions";
/// PARR-30's published terms without its hospital term (riskscores.md §5,
/// [partial]).
pub const BASELINE_PARR30: &str = "parr30_terms_partial";
/// The synthetic ground truth's own risk: the AUC no model can beat.
pub const CEILING: &str = "true_risk_ceiling";

/// What `risk run` does.
#[derive(Clone, Debug)]
pub struct RiskRun {
    /// The population is those registered on this day; history before it,
    /// the outcome year from it.
    pub index_date: Date,
    /// Seed of the held-out split (the same seed, the same model).
    pub seed: u64,
    /// The operator's GP-code → eFI-deficit file (the code sets are not
    /// licensed to ship); without it the eFI is not scored.
    pub efi_map: Option<PathBuf>,
    /// The operator's GP-code → long-term-condition file
    /// (`haven_risk::gp_conditions`); without it the model has no GP-coded
    /// conditions.
    pub condition_map: Option<PathBuf>,
    /// The synthetic ground truth (`ground_truth/persons.psv`): each
    /// person's true log-risk, for the ceiling. Synthetic stores only.
    pub truth: Option<PathBuf>,
    /// The top-risk band counted by cohort (0.05: the top 5%).
    pub top_fraction: f64,
}

impl RiskRun {
    /// The defaults around `index_date`.
    pub fn new(index_date: Date) -> RiskRun {
        RiskRun { index_date, seed: SplitOptions::default().seed, efi_map: None, condition_map: None, truth: None, top_fraction: 0.05 }
    }
}

/// A finished run: counts and metrics only.
#[derive(Clone, Debug, Serialize)]
pub struct RiskSummary {
    /// People registered on the index date.
    pub people: usize,
    /// People fitted on and held out.
    pub trained_on: usize,
    /// The ridge penalty, chosen on a validation split of the training
    /// people, with the validation deviance of each λ tried.
    pub ridge: RidgeChoice,
    pub report: EvaluationReport,
    /// Cohorts and segments over the whole ICB, largest first, protected.
    pub groups: Vec<(String, String)>,
    /// Held-out people the ground truth named, when one was given (the
    /// ceiling scores anyone it does not name as lowest risk).
    pub truth_matched: Option<usize>,
    /// Optional datasets the session did not open.
    pub not_opened: Vec<String>,
    /// The held output.
    pub output: String,
}

impl App {
    /// Runs risk stratification (module docs).
    pub fn run_risk(&self, actor: &Actor, run: &RiskRun) -> Result<RiskSummary, AppError> {
        let s = actor.session().ok_or_else(|| AppError::Refused("risk stratification needs a sign-in".into()))?;
        if s.purpose != Some(Purpose::RiskStratification) {
            return Err(AppError::Refused("risk stratification runs only under the risk_stratification purpose".into()));
        }
        if !(0.0..=1.0).contains(&run.top_fraction) || run.top_fraction == 0.0 {
            return Err(AppError::Invalid("the top-risk band is a share of people above 0 and at most 1".into()));
        }
        let (efi_map, condition_map) = read_maps(run.efi_map.as_deref(), run.condition_map.as_deref())?;
        let truth = match &run.truth {
            Some(path) => Some(self.true_log_risks(path)?),
            None => None,
        };
        let inputs = self.read_risk_inputs(actor, run, &CodeMaps { efi: efi_map.as_ref(), conditions: condition_map.as_ref() })?;
        let people = score(&inputs);
        let x = features(&people).map_err(risk)?;
        let fitted = fit(&inputs, &people, &x, run.seed)?;
        let (report, truth_matched) = evaluate_held_out(&inputs, &people, &x, &fitted, truth.as_ref())?;
        drop(x);
        let (model, ridge, top) = (fitted.model, fitted.ridge, top_risk(&fitted.risks, run.top_fraction));
        let counts = counts_by_practice(&people, &top, &inputs.practices, &CohortOptions::default());
        let areas = self.practice_areas(actor)?;
        let title = format!("Risk stratification, index date {}", run.index_date);
        let policy = Policy::default();
        let (output, files) = self.hold(actor, &title, |draft| write_output(draft, &policy, &report, &model, &counts, &areas))?;
        let groups = largest_groups(&policy, &counts);
        let kept = gp::KeptModel { index_date: run.index_date.to_string(), output: output.clone(), efi_map: run.efi_map.clone(), condition_map: run.condition_map.clone(), model };
        gp::keep(&self.data, &kept)?;
        let trained_on = people.len() - report.rows;
        let detail = serde_json::json!({"people": people.len(), "held_out": report.rows, "events": report.events, "files": files, "output": output, "index_date": run.index_date.to_string(), "seed": run.seed});
        self.audit(actor.event("", "", "", "risk.run", &output, "ok", detail))?;
        Ok(RiskSummary { people: people.len(), trained_on, ridge, report, groups, truth_matched, not_opened: inputs.not_opened, output })
    }

    /// Reads the inputs under the actor's grant, audited on both sides of
    /// the read (the attempt first, then each dataset with its rows, or the
    /// failure with a fixed reason).
    fn read_risk_inputs(&self, actor: &Actor, run: &RiskRun, maps: &CodeMaps<'_>) -> Result<Inputs, AppError> {
        let s = actor.session().expect("checked by the caller");
        let audit_read = |target: &str, outcome: &str, detail: serde_json::Value| self.audit(actor.event("", "", "", "read", target, outcome, detail));
        audit_read("pseudonymised+reference", "attempt", serde_json::json!({"for": "risk run"}))?;
        let read = || -> Result<(Inputs, Vec<(String, u64)>), AppError> {
            let dsa = self.dsa(s.dsa.as_deref().unwrap_or(""))?;
            let users = Users::open(&self.data)?;
            let g = grant(&users, &s.user, s.role, Purpose::RiskStratification, &dsa, crate::today())?;
            let zs = ZoneSession::open(&Store::open(&self.data)?, &g)?;
            let inputs = inputs(&zs, &RiskOptions::new(run.index_date), maps).map_err(risk)?;
            let mut rows = Vec::new();
            for d in READS {
                if !zs.columns(Zone::Pseudonymised, d).is_empty() {
                    rows.push((format!("pseudonymised.{d}"), zs.count_rows(Zone::Pseudonymised, d)?));
                }
            }
            Ok((inputs, rows))
        };
        match read() {
            Ok((inputs, rows)) => {
                for (target, n) in rows {
                    audit_read(&target, "ok", serde_json::json!({"rows": n, "for": "risk run"}))?;
                }
                Ok(inputs)
            }
            Err(e) => {
                audit_read("pseudonymised+reference", "failed", serde_json::json!({"for": "risk run", "reason": e.fixed_reason()}))?;
                Err(e)
            }
        }
    }

    /// Practice → (PCN, sub-ICB) from the reference zone, which every grant
    /// opens.
    fn practice_areas(&self, actor: &Actor) -> Result<HashMap<String, (String, String)>, AppError> {
        let s = actor.session().expect("checked by the caller");
        let dsa = self.dsa(s.dsa.as_deref().unwrap_or(""))?;
        let users = Users::open(&self.data)?;
        let g = grant(&users, &s.user, s.role, Purpose::RiskStratification, &dsa, crate::today())?;
        let zs = ZoneSession::open(&Store::open(&self.data)?, &g)?;
        let unknown = || "unknown".to_owned();
        Ok(haven_analytics::insight::areas(&zs).into_iter().map(|a| (a.practice, (a.pcn.unwrap_or_else(unknown), a.sub_icb.unwrap_or_else(unknown)))).collect())
    }

    /// The ground truth's log-risk by the pseudonym this store gives each
    /// NHS number (the pseudonymised zone's key). Only on a store the demo
    /// made: the file holds NHS numbers, which only synthetic ones may be.
    fn true_log_risks(&self, path: &std::path::Path) -> Result<HashMap<String, f64>, AppError> {
        if !self.is_demo_store() {
            return Err(AppError::Refused("a ground-truth file is read only on a store the demo made (synthetic data)".into()));
        }
        let keys = haven_ingest::Keys::load(&self.keys, &[Zone::Pseudonymised]).map_err(|e| AppError::Invalid(format!("the pseudonymisation key: {e}")))?;
        let key = keys.get(Zone::Pseudonymised).ok_or_else(|| AppError::Invalid("no pseudonymisation key".into()))?;
        let text = std::fs::read_to_string(path).map_err(|e| AppError::Invalid(format!("cannot read the ground truth file: {e}")))?;
        truth::parse(&text, |nhs| key.person_token(nhs))
    }
}

/// The pseudonymised datasets a run reads, for the audit log's row counts.
const READS: &[&str] = &["gp_registration", "gp_patient", "gp_event", "gp_medication", "apc_episode", "op_attendance", "ecds_attendance"];

/// The operator's code maps, each read when its file is given (a map that
/// cannot be read is the operator's error, named with its file).
pub(crate) fn read_maps(efi: Option<&std::path::Path>, conditions: Option<&std::path::Path>) -> Result<(Option<DeficitCodeMap>, Option<ConditionCodeMap>), AppError> {
    let invalid = |e: haven_risk::RiskError| AppError::Invalid(e.to_string());
    let efi = efi.map(DeficitCodeMap::read).transpose().map_err(invalid)?;
    let conditions = conditions.map(ConditionCodeMap::read).transpose().map_err(invalid)?;
    Ok((efi, conditions))
}

fn risk(e: haven_risk::RiskError) -> AppError {
    match e {
        haven_risk::RiskError::Store(s) => AppError::Store(s),
        other => AppError::Invalid(other.to_string()),
    }
}

/// The model fitted on the training 70% of a split by pseudonym and seed,
/// and everyone's risk under it (the top band is drawn from all of them).
/// Public, with [`evaluate_held_out`], so `haven bench risk` times the very
/// steps a run takes.
pub struct Fitted {
    pub parts: Split,
    pub ridge: RidgeChoice,
    pub model: LogisticModel,
    pub risks: Vec<f64>,
}

/// Splits `people` by pseudonym and `seed`, chooses the ridge penalty on a
/// validation split of the training rows (`haven_risk::model::tune`), fits
/// the model on every training row with it and predicts everyone.
pub fn fit(inputs: &Inputs, people: &[Person], x: &Features, seed: u64) -> Result<Fitted, AppError> {
    let keys: Vec<&[u8]> = people.iter().map(|p| inputs.people[p.row as usize].pseudonym.as_bytes()).collect();
    let parts = split(&keys, SplitOptions { seed, ..SplitOptions::default() });
    if parts.train.is_empty() || parts.held_out.is_empty() {
        return Err(AppError::Invalid("too few people registered on the index date to fit and evaluate a model".into()));
    }
    let ridge = choose_ridge(x, &keys, &parts.train, seed).map_err(risk)?;
    let model = fit_model(x, &parts.train, FitOptions { ridge: ridge.ridge, ..FitOptions::default() }).map_err(risk)?;
    let all: Vec<usize> = (0..people.len()).collect();
    let risks = model.predict(x, &all).map_err(risk)?;
    Ok(Fitted { parts, ridge, model, risks })
}

/// Evaluates the fitted model on the held-out 30% beside the baselines
/// and, given the truth, the ceiling; returns the report and how many
/// held-out people the truth named.
pub fn evaluate_held_out(inputs: &Inputs, people: &[Person], x: &Features, fitted: &Fitted, truth: Option<&HashMap<String, f64>>) -> Result<(EvaluationReport, Option<usize>), AppError> {
    let held = &fitted.parts.held_out;
    let pick = |f: &dyn Fn(usize) -> f64| -> Vec<f64> { held.iter().map(|&i| f(i)).collect() };
    let model_risk = pick(&|i| fitted.risks[i]);
    // The simple published baseline, prior emergency admissions alone,
    // fitted on the same training rows so its risks are calibrated too.
    let base_x = x.select(&BASELINE_COLUMNS).map_err(risk)?;
    let prior = fit_model(&base_x, &fitted.parts.train, FitOptions::default()).and_then(|m| m.predict(&base_x, held)).map_err(risk)?;
    let parr = pick(&|i| people[i].parr30());
    let mut scores = vec![NamedRisk { name: MODEL, risks: &model_risk }, NamedRisk { name: BASELINE_PRIOR, risks: &prior }, NamedRisk { name: BASELINE_PARR30, risks: &parr }];
    let ceiling = truth.map(|t| pick(&|i| ceiling_risk(t, pseudonym(inputs, people, i))));
    let truth_matched = truth.map(|t| held.iter().filter(|&&i| t.contains_key(pseudonym(inputs, people, i))).count());
    if let Some(c) = &ceiling {
        scores.push(NamedRisk { name: CEILING, risks: c });
    }
    let outcome: Vec<bool> = held.iter().map(|&i| people[i].outcome()).collect();
    let admissions: Vec<f64> = held.iter().map(|&i| f64::from(people[i].outcome_admissions)).collect();
    let report = evaluate(&outcome, Some(&admissions), &scores, &EvaluationOptions::default()).map_err(risk)?;
    Ok((report, truth_matched))
}

/// The pseudonym of `people[i]`.
pub fn pseudonym<'a>(inputs: &'a Inputs, people: &[Person], i: usize) -> &'a str {
    &inputs.people[people[i].row as usize].pseudonym
}

/// The ceiling's risk for a pseudonym: the truth's log-risk as a
/// probability, or 0 (lowest) for anyone it does not name. Any increasing
/// function of the log-risk ranks as it does: only the ceiling's AUC is
/// meant, not its calibration.
pub fn ceiling_risk(truth: &HashMap<String, f64>, pseudonym: &str) -> f64 {
    truth.get(pseudonym).map_or(0.0, |lr| 1.0 - (-lr.exp()).exp())
}

/// The cohorts and segments over the whole ICB, largest first, as
/// published (protected counts).
fn largest_groups(policy: &Policy, counts: &[PracticeCount]) -> Vec<(String, String)> {
    let mut total: BTreeMap<String, u64> = BTreeMap::new();
    for c in counts.iter().filter(|c| c.group != haven_risk::cohort::Group::All) {
        *total.entry(c.group.name()).or_default() += c.people;
    }
    let mut v: Vec<(String, u64)> = total.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().map(|(g, n)| (g, policy.count(n).to_string())).collect()
}

mod gp;
mod patient;
pub use patient::{EncounterRow, PatientTimeline};
mod truth;
/// The ground truth's log-risk by pseudonym, for a caller that holds the
/// synthetic data it generated (`haven bench risk`'s own scratch store);
/// [`App::run_risk`] reads it only on a store the demo made.
pub use truth::parse as parse_truth;
mod write;
pub use gp::{AtRisk, KeptModel, PracticeList};
/// The cohorts, for the faces' filters.
pub use haven_risk::cohort::Cohort;
use write::write_output;
