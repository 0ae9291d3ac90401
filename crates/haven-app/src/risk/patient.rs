//! One patient of a GP's practice for direct care (issue 18 §4–5): their
//! encounters with services on a theograph. The patient is named by NHS
//! number and re-found only through the direct-care zone's registration
//! map, which the GP's session holds for the practice's currently
//! registered patients alone: a patient of another practice, or one who
//! has left, is not there, and the refusal is audited. Every patient viewed
//! is audited too, named by `AuditLog::subject` (a MAC of the pseudonym
//! under the audit key), so the log carries neither NHS number nor
//! pseudonym.

use haven_charts::{ChartText, Encounter, Style, Theograph};
use haven_governance::dsa::Purpose;
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_model::Date;
use haven_risk::read::timeline::encounters;
use haven_store::{Store, ZoneSession};
use serde::Serialize;

use super::gp::{direct_care_gp, model_year_end, nhs_numbers};
use super::risk;
use crate::{Actor, App, AppError};

/// One encounter as a GP reads it.
#[derive(Clone, Debug, Serialize)]
pub struct EncounterRow {
    pub kind: &'static str,
    pub day: String,
    /// Discharge or the end of a critical-care period.
    pub end: Option<String>,
    pub what: String,
}

/// A patient's timeline.
#[derive(Clone, Debug, Serialize)]
pub struct PatientTimeline {
    pub nhs_number: String,
    pub practice: String,
    pub from: String,
    pub to: String,
    pub encounters: Vec<EncounterRow>,
    /// The theograph (`haven_charts::Theograph`), a standalone SVG document.
    #[serde(skip)]
    pub svg: String,
}

/// An NHS number as typed (spaces allowed): ten digits.
fn nhs_number(text: &str) -> Result<String, AppError> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::Invalid("an NHS number is ten digits".into()));
    }
    Ok(digits)
}

impl App {
    /// The GP's patient `nhs`'s encounters over the `years` before `to`
    /// (by default the end of the model's outcome year, else today), with
    /// their theograph.
    pub fn risk_patient(&self, actor: &Actor, nhs: &str, to: Option<Date>, years: u16) -> Result<PatientTimeline, AppError> {
        let (s, own) = direct_care_gp(actor)?;
        let nhs = nhs_number(nhs)?;
        let to = to.or_else(|| model_year_end(&self.data)).unwrap_or_else(crate::today);
        let from = to.add_days(-365 * i32::from(years.clamp(1, 20)));
        let audit = |action: &str, outcome: &str, detail: serde_json::Value| self.audit(actor.event("", "", "", action, &own, outcome, detail));
        audit("read", "attempt", serde_json::json!({"for": "risk patient", "datasets": "direct_care+pseudonymised"}))?;
        let dsa = self.dsa(s.dsa.as_deref().unwrap_or(""))?;
        let g = grant(&Users::open(&self.data)?, &s.user, s.role, Purpose::DirectCare, &dsa, crate::today())?;
        let zs = ZoneSession::open(&Store::open(&self.data)?, &g)?;
        let Some(token) = nhs_numbers(&zs)?.into_iter().find_map(|(t, n)| (n == nhs).then_some(t)) else {
            audit("risk.patient", "refused", serde_json::json!({"reason": "not a patient currently registered with the practice"}))?;
            return Err(AppError::Refused(format!("that NHS number is not a patient currently registered with practice {own}")));
        };
        let found = encounters(&zs, &token, from, to).map_err(risk)?;
        let subject = self.audit_log()?.subject(&token);
        audit("risk.patient", "ok", serde_json::json!({"patient": subject, "encounters": found.len(), "from": from.to_string(), "to": to.to_string()}))?;
        let chart = Theograph {
            text: ChartText { title: "Encounters with services".into(), subtitle: format!("{from} to {to}"), note: "Hospital activity from SUS+; GP events and prescriptions from the practice record".into(), ..ChartText::default() },
            from: from.days(),
            to: to.days(),
            encounters: found.clone(),
        };
        let svg = chart.render(&Style::default());
        Ok(PatientTimeline { nhs_number: nhs, practice: own, from: from.to_string(), to: to.to_string(), encounters: found.iter().map(row).collect(), svg })
    }
}

fn row(e: &Encounter) -> EncounterRow {
    let day = |d: i32| Date::from_days(d).to_string();
    EncounterRow { kind: e.kind.label(), day: day(e.day), end: e.end.map(day), what: e.label.clone() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_nhs_number_is_ten_digits_and_spaces_are_allowed() {
        assert_eq!(super::nhs_number("943 476 5919").unwrap(), "9434765919");
        for bad in ["943476591", "94347659190", "94347659l9", ""] {
            assert!(super::nhs_number(bad).is_err(), "{bad}");
        }
    }
}
