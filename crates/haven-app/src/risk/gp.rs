//! A GP's at-risk list (issue 18 §5): the practice's currently registered
//! patients ranked by the ICB's latest model, identifiable, for direct
//! care. The session is a GP's under the direct-care purpose, so the zone
//! session already holds only the patients currently registered with the
//! GP's own practice (`ZoneSession`'s semi-join); the NHS number comes from
//! the direct-care zone's re-identification map and nowhere else. The
//! model is the one the ICB's last `risk run` fitted, kept inside Haven
//! (`<data-dir>/risk/model.json`, owner-only), so a practice's patients are
//! ranked on the same scale as everyone else's.

use std::collections::HashMap;

use arrow::array::Array;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use haven_governance::dsa::{Purpose, Role};
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_model::Date;
use haven_risk::cohort::{cohorts, CohortOptions};
use haven_risk::model::LogisticModel;
use haven_risk::person::{features, score};
use haven_risk::read::{inputs, CodeMaps, RiskOptions, Sex};
use haven_store::{Store, Zone, ZoneSession};
use serde::{Deserialize, Serialize};

use super::risk;
use crate::{Actor, App, AppError};

/// The model of the ICB's latest run, as kept in the data directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeptModel {
    /// The run's index date (YYYY-MM-DD): the model learnt the outcome
    /// year from it.
    pub index_date: String,
    /// The held output of the run that fitted it.
    pub output: String,
    /// The eFI code map the run read (the features need the same).
    pub efi_map: Option<PathBuf>,
    /// The GP condition code map the run read (absent in a model kept
    /// before the map existed).
    #[serde(default)]
    pub condition_map: Option<PathBuf>,
    pub model: LogisticModel,
}

/// One patient on a GP's list.
#[derive(Clone, Debug, Serialize)]
pub struct AtRisk {
    pub rank: usize,
    pub nhs_number: String,
    pub age: Option<u8>,
    pub sex: &'static str,
    /// The model's risk of one or more emergency admissions in the next year.
    pub risk: f64,
    pub hfrs: f64,
    pub charlson: u32,
    pub efi: Option<String>,
    pub emergency_admissions: u16,
    pub cohorts: Vec<&'static str>,
}

/// A practice's list.
#[derive(Clone, Debug, Serialize)]
pub struct PracticeList {
    pub practice: String,
    /// Histories read up to (not including) this day (YYYY-MM-DD).
    pub index_date: String,
    /// The run whose model ranks them.
    pub model_from: String,
    /// Patients registered on the index date and now.
    pub registered: usize,
    pub patients: Vec<AtRisk>,
}

/// The signed-in GP under the direct-care purpose, and their practice:
/// the only session that sees patients identifiably.
pub(super) fn direct_care_gp(actor: &Actor) -> Result<(&haven_governance::session::Session, String), AppError> {
    let s = actor.session().ok_or_else(|| AppError::Refused("a patient list needs a sign-in".into()))?;
    if s.role != Role::Gp || s.purpose != Some(Purpose::DirectCare) {
        return Err(AppError::Refused("patients are shown identifiably only to a GP, under the direct_care purpose".into()));
    }
    let own = s.practice.clone().ok_or_else(|| AppError::Refused("the GP is bound to no practice".into()))?;
    Ok((s, own))
}

/// The end of the kept model's outcome year (the latest full year of
/// histories), when an analyst has run the model.
pub(super) fn model_year_end(data: &Path) -> Option<Date> {
    let kept: KeptModel = serde_json::from_slice(&std::fs::read(model_path(data)).ok()?).ok()?;
    let fitted = Date::parse(&kept.index_date).ok()?;
    Some(fitted.add_days(RiskOptions::new(fitted).outcome_days))
}

fn model_path(data: &Path) -> PathBuf {
    data.join("risk").join("model.json")
}

/// Keeps `kept` as the model GPs' lists use: written aside, then renamed
/// over the old one, so a reader sees the old model or the new, whole.
pub(super) fn keep(data: &Path, kept: &KeptModel) -> Result<(), AppError> {
    let dir = data.join("risk");
    let io = |e: std::io::Error| AppError::Invalid(format!("cannot keep the risk model in {}: {e}", dir.display()));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(io)?;
    let tmp = dir.join("model.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(kept).expect("a model serialises")).map_err(io)?;
    std::fs::rename(&tmp, model_path(data)).map_err(io)
}

impl App {
    /// The GP's practice list ranked by risk, at most `limit` patients.
    /// `practice`, when given, must be the GP's own (a GP who edits it is
    /// refused, and the refusal audited by the face); `index_date` defaults
    /// to the end of the model's outcome year, the latest full year.
    pub fn risk_list(&self, actor: &Actor, practice: Option<&str>, index_date: Option<Date>, limit: usize) -> Result<PracticeList, AppError> {
        let (s, own) = direct_care_gp(actor)?;
        if practice.is_some_and(|p| !p.eq_ignore_ascii_case(&own)) {
            return Err(AppError::Refused(format!("{} may see only practice {own}'s patients", s.user)));
        }
        let text = std::fs::read(model_path(&self.data)).map_err(|_| AppError::NotFound("no risk model yet: an analyst runs `haven risk run` first".into()))?;
        let kept: KeptModel = serde_json::from_slice(&text).map_err(|_| AppError::Invalid("the kept risk model cannot be read; run `haven risk run` again".into()))?;
        let fitted = Date::parse(&kept.index_date).map_err(|_| AppError::Invalid("the kept risk model has no index date; run `haven risk run` again".into()))?;
        let index_date = index_date.unwrap_or_else(|| fitted.add_days(RiskOptions::new(fitted).outcome_days));
        let (efi_map, condition_map) = super::read_maps(kept.efi_map.as_deref(), kept.condition_map.as_deref())?;
        let audit_read = |target: &str, outcome: &str, detail: serde_json::Value| self.audit(actor.event("", "", "", "read", target, outcome, detail));
        audit_read("direct_care+pseudonymised+reference", "attempt", serde_json::json!({"for": "risk list", "practice": own}))?;
        let read = || -> Result<_, AppError> {
            let dsa = self.dsa(s.dsa.as_deref().unwrap_or(""))?;
            let g = grant(&Users::open(&self.data)?, &s.user, s.role, Purpose::DirectCare, &dsa, crate::today())?;
            let zs = ZoneSession::open(&Store::open(&self.data)?, &g)?;
            let inputs = inputs(&zs, &RiskOptions::new(index_date), &CodeMaps { efi: efi_map.as_ref(), conditions: condition_map.as_ref() }).map_err(risk)?;
            Ok((inputs, nhs_numbers(&zs)?))
        };
        let (inputs, nhs) = read().inspect_err(|e| {
            let _ = audit_read("direct_care+pseudonymised+reference", "failed", serde_json::json!({"for": "risk list", "reason": e.fixed_reason()}));
        })?;
        let people = score(&inputs);
        let x = features(&people).map_err(risk)?;
        let all: Vec<usize> = (0..people.len()).collect();
        let risks = kept.model.predict(&x, &all).map_err(risk)?;
        let mut order = all;
        order.sort_by(|&a, &b| risks[b].total_cmp(&risks[a]).then(a.cmp(&b)));
        let options = CohortOptions::default();
        let patients: Vec<AtRisk> = order
            .into_iter()
            .take(limit)
            .enumerate()
            .map(|(rank, i)| {
                let p = &people[i];
                let token = &*inputs.people[p.row as usize].pseudonym;
                AtRisk {
                    rank: rank + 1,
                    nhs_number: nhs.get(token).cloned().unwrap_or_default(),
                    age: p.age,
                    sex: match p.sex {
                        Sex::Male => "male",
                        Sex::Female => "female",
                        Sex::Unknown => "unknown",
                    },
                    risk: risks[i],
                    hfrs: f64::from(p.hfrs_tenths) / 10.0,
                    charlson: p.charlson_1987,
                    efi: p.efi.map(|e| format!("{:?}", e.category()).to_lowercase()),
                    emergency_admissions: p.prior.emergency_admissions,
                    cohorts: cohorts(p, &options).into_iter().map(|c| c.name()).collect(),
                }
            })
            .collect();
        audit_read("direct_care.gp_registration", "ok", serde_json::json!({"for": "risk list", "practice": own, "registered": people.len()}))?;
        self.audit(actor.event("", "", "", "risk.list", &own, "ok", serde_json::json!({"patients_shown": patients.len(), "index_date": index_date.to_string(), "model_from": kept.output})))?;
        Ok(PracticeList { practice: own, index_date: index_date.to_string(), model_from: kept.output, registered: people.len(), patients })
    }
}

/// Pseudonym → NHS number from the direct-care zone's re-identification
/// map (the GP's session holds only the practice's current patients).
pub(super) fn nhs_numbers(zs: &ZoneSession) -> Result<HashMap<String, String>, AppError> {
    if zs.columns(Zone::DirectCare, "gp_registration").is_empty() {
        return Err(AppError::Refused("the direct-care zone's registration map is not open to this session".into()));
    }
    let mut out = HashMap::new();
    let q = "SELECT DISTINCT \"TOKEN_PERSON_ID\", \"NHS_NUMBER\" FROM direct_care.gp_registration";
    for b in zs.sql(q)? {
        // Strings arrive as views (`Utf8View`): cast to plain strings.
        let col = |i: usize| -> Result<arrow::array::StringArray, AppError> {
            let plain = arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Utf8).map_err(|_| AppError::Invalid("the registration map has an unexpected column type".into()))?;
            Ok(plain.as_any().downcast_ref::<arrow::array::StringArray>().cloned().expect("cast to Utf8"))
        };
        let (t, n) = (col(0)?, col(1)?);
        for r in 0..b.num_rows() {
            if !t.is_null(r) && !n.is_null(r) {
                out.insert(t.value(r).to_owned(), n.value(r).to_owned());
            }
        }
    }
    Ok(out)
}
