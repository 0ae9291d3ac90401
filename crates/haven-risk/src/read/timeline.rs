//! One person's encounters for a theograph (issue 18 §4): admissions (the
//! derived spells, `haven_model::rules::derive_spells`' output, so a stay is
//! the one spell rule's), critical-care periods, A&E and outpatient
//! attendances with the appointments not attended, GP-coded events and
//! prescriptions, each on its day, within a window. Whose encounters they
//! are is decided by the caller (a GP's own registered patient, re-found
//! through the direct-care map); the session's grant decides what is open.

use arrow::record_batch::RecordBatch;
use haven_charts::{Encounter, EncounterKind};
use haven_model::Date;
use haven_store::{Zone, ZoneSession};

use super::source::{d, each, is_open, s, sql_date, Cols};
use crate::error::{Result, RiskError};

/// HES `ATTENDED` (datasets.md, outpatients): 5 seen on time, 6 seen
/// late; 3 did not attend, 7 arrived too late to be seen. Cancellations
/// (2, 4) are not encounters.
fn attended(code: &str) -> Option<bool> {
    match code {
        "5" | "6" => Some(true),
        "3" | "7" => Some(false),
        _ => None,
    }
}

/// The person's encounters from `from` to `to` (both inclusive), in day
/// order. `pseudonym` must be a pseudonym (letters and digits only), never
/// text from a user: it is written into the queries.
pub fn encounters(zs: &ZoneSession, pseudonym: &str, from: Date, to: Date) -> Result<Vec<Encounter>> {
    if pseudonym.is_empty() || !pseudonym.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(RiskError::Invalid("a timeline is read for a pseudonym".into()));
    }
    let who = format!("\"TOKEN_PERSON_ID\" = '{pseudonym}'");
    let within = |col: &str| format!("{who} AND \"{col}\" >= {} AND \"{col}\" <= {}", sql_date(from), sql_date(to));
    let mut out = Vec::new();
    let open = |ds: &str| is_open(zs, Zone::Pseudonymised, ds);
    if open("apc_spell_derived") {
        let filter = format!("{who} AND \"admidate\" <= {} AND (\"disdate\" IS NULL OR \"disdate\" >= {})", sql_date(to), sql_date(from));
        each(zs, Zone::Pseudonymised, "apc_spell_derived", &["admidate", "disdate", "kind", "provider", "mainspef", "los"], &filter, |b| admissions(b, &mut out))?;
    }
    if open("cc_period") && open("apc_episode") {
        critical_care(zs, &who, (from, to), &mut out)?;
    }
    if open("op_attendance") {
        each(zs, Zone::Pseudonymised, "op_attendance", &["APPTDATE", "ATTENDED", "TRETSPEF", "PROCODE3"], &within("APPTDATE"), |b| outpatients(b, &mut out))?;
    }
    if open("ecds_attendance") {
        each(zs, Zone::Pseudonymised, "ecds_attendance", &["ARRIVAL_DATE", "DEPARTMENT_TYPE", "PROVIDER_CODE"], &within("ARRIVAL_DATE"), |b| {
            let c = Cols { b, dataset: "ecds_attendance" };
            let (day, dept, provider) = (c.dates("ARRIVAL_DATE")?, c.text("DEPARTMENT_TYPE")?, c.text("PROVIDER_CODE")?);
            for i in 0..b.num_rows() {
                let Some(day) = d(&day, i) else { continue };
                out.push(point(EncounterKind::AandE, day, format!("A&E attendance at {}, department type {}", s(&provider, i).unwrap_or("?"), s(&dept, i).unwrap_or("?"))));
            }
            Ok(())
        })?;
    }
    if open("gp_event") {
        each(zs, Zone::Pseudonymised, "gp_event", &["EVENT_DATE", "CODE"], &within("EVENT_DATE"), |b| {
            let c = Cols { b, dataset: "gp_event" };
            let (day, code) = (c.dates("EVENT_DATE")?, c.text("CODE")?);
            for i in 0..b.num_rows() {
                let Some(day) = d(&day, i) else { continue };
                out.push(point(EncounterKind::GpEvent, day, format!("coded event {}", s(&code, i).unwrap_or("?"))));
            }
            Ok(())
        })?;
    }
    if open("gp_medication") {
        each(zs, Zone::Pseudonymised, "gp_medication", &["ISSUE_DATE", "BNF_CODE"], &within("ISSUE_DATE"), |b| {
            let c = Cols { b, dataset: "gp_medication" };
            let (day, bnf) = (c.dates("ISSUE_DATE")?, c.text("BNF_CODE")?);
            for i in 0..b.num_rows() {
                let Some(day) = d(&day, i) else { continue };
                out.push(point(EncounterKind::Prescription, day, format!("issue of BNF {}", s(&bnf, i).unwrap_or("?"))));
            }
            Ok(())
        })?;
    }
    // Day order, then lane, then text: the same records give the same chart
    // whatever order the batches arrived in.
    out.sort_by(|a, b| (a.day, a.kind, &a.label, a.end).cmp(&(b.day, b.kind, &b.label, b.end)));
    Ok(out)
}

fn point(kind: EncounterKind, day: Date, label: String) -> Encounter {
    Encounter { kind, day: day.days(), end: None, label }
}

fn admissions(b: &RecordBatch, out: &mut Vec<Encounter>) -> Result<()> {
    let c = Cols { b, dataset: "apc_spell_derived" };
    let (adm, dis, kind, provider, spec, los) = (c.dates("admidate")?, c.dates("disdate")?, c.text("kind")?, c.text("provider")?, c.text("mainspef")?, c.ints("los")?);
    for i in 0..b.num_rows() {
        let Some(day) = d(&adm, i) else { continue };
        let what = s(&kind, i).unwrap_or("Other");
        let lane = if what == "Emergency" { EncounterKind::EmergencyAdmission } else { EncounterKind::OtherAdmission };
        let stay = super::source::n(&los, i).map_or("still in hospital".to_string(), |n| format!("{n} days"));
        let label = format!("{} admission at {}, specialty {}, {stay}", what.to_lowercase(), s(&provider, i).unwrap_or("?"), s(&spec, i).unwrap_or("?"));
        out.push(Encounter { kind: lane, day: day.days(), end: d(&dis, i).map(Date::days), label });
    }
    Ok(())
}

fn outpatients(b: &RecordBatch, out: &mut Vec<Encounter>) -> Result<()> {
    let c = Cols { b, dataset: "op_attendance" };
    let (day, att, spec, provider) = (c.dates("APPTDATE")?, c.text("ATTENDED")?, c.text("TRETSPEF")?, c.text("PROCODE3")?);
    for i in 0..b.num_rows() {
        let (Some(day), Some(seen)) = (d(&day, i), s(&att, i).and_then(attended)) else { continue };
        let (kind, how) = if seen { (EncounterKind::Outpatient, "attended") } else { (EncounterKind::OutpatientDna, "did not attend") };
        out.push(point(kind, day, format!("outpatient appointment at {}, specialty {}, {how}", s(&provider, i).unwrap_or("?"), s(&spec, i).unwrap_or("?"))));
    }
    Ok(())
}

/// Critical-care periods of the person's episodes (`cc_period` carries no
/// pseudonym: it joins to its episode by `EPIKEY`).
fn critical_care(zs: &ZoneSession, who: &str, (from, to): (Date, Date), out: &mut Vec<Encounter>) -> Result<()> {
    let q = format!(
        "SELECT c.\"CCSTARTDATE\", c.\"CCDISDATE\", c.\"CCUNITFUN\" FROM pseudonymised.cc_period c \
         JOIN (SELECT DISTINCT \"EPIKEY\" FROM pseudonymised.apc_episode WHERE {who}) e ON c.\"EPIKEY\" = e.\"EPIKEY\" \
         WHERE c.\"CCSTARTDATE\" <= {} AND (c.\"CCDISDATE\" IS NULL OR c.\"CCDISDATE\" >= {})",
        sql_date(to),
        sql_date(from)
    );
    for b in zs.sql(&q)? {
        let c = Cols { b: &b, dataset: "cc_period" };
        let (start, end, unit) = (c.dates("CCSTARTDATE")?, c.dates("CCDISDATE")?, c.text("CCUNITFUN")?);
        for i in 0..b.num_rows() {
            let Some(day) = d(&start, i) else { continue };
            out.push(Encounter { kind: EncounterKind::CriticalCare, day: day.days(), end: d(&end, i).map(Date::days), label: format!("critical care, unit function {}", s(&unit, i).unwrap_or("?")) });
        }
    }
    Ok(())
}
