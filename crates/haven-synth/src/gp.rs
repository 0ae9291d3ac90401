//! The GP extract for risk stratification (datasets.md §5.2 and §10.8):
//! patients, registration periods, coded events (conditions, frailty
//! deficits, observations) and medication issues, for everyone registered
//! with one of the focus ICB's practices during the period.

// `*rng.pick(&[...])` names the element type that inference needs here.
#![allow(clippy::explicit_auto_deref)]

use haven_model::Date;

use crate::activity::ChunkOut;
use crate::clinical::{self, CONDITIONS, EFI_DEFICIT_CODES};
use crate::geography::Geography;
use crate::people::Person;
use crate::rng::Rng;
use crate::sink::Sink;
use crate::Out;

/// Writes one person's GP records if any focus practice held them.
#[allow(clippy::too_many_arguments)]
pub fn write(p: &Person, death: Option<Date>, start: Date, end: Date, focus: usize, geo: &Geography, rng: &mut Rng, out: &mut ChunkOut) {
    let periods = registrations(p, start, end, death);
    if !periods.iter().any(|(pr, _, _)| geo.practices[*pr].icb == focus) {
        return;
    }
    let nhs = p.nhs.expose();
    let lsoa = p.lsoa_on(end.min(death.unwrap_or(end)));
    let postcode = geo.postcode(lsoa, (p.idx % 5) as usize);
    let mut row = out.row(Out::GpPatient);
    patient(&mut row, Some((p, &nhs, &postcode, &geo.lsoas[lsoa].code, death)));
    row.end();
    for (pr, from, to) in &periods {
        let mut row = out.row(Out::GpRegistration);
        registration(&mut row, Some((&nhs, &geo.practices[*pr].code, *from, *to)));
        row.end();
    }
    let practice = &geo.practices[periods.last().unwrap().0].code;
    let age = p.age_on(start);
    // Conditions recorded at onset, some years before the period.
    for c in CONDITIONS {
        if p.has(c) {
            let onset = start.add_days(-(rng.range(30, 365 * 12.min(age.max(1) as i64)) as i32));
            event(out, &nhs, practice, clinical::facts(c).snomed, onset.max(p.dob), None);
        }
    }
    // Frailty deficits: one code per deficit up to the person's count.
    for (_, code) in EFI_DEFICIT_CODES.iter().take(usize::from(p.deficits).min(EFI_DEFICIT_CODES.len())) {
        let d = start.add_days(-(rng.range(10, 1500) as i32));
        event(out, &nhs, practice, code, d.max(p.dob), None);
    }
    if age >= 18 {
        let bmi = (rng.lognormal(27.0, 0.15) * 10.0).round() / 10.0;
        event(out, &nhs, practice, clinical::BMI_SNOMED, start.add_days(rng.range(0, 300) as i32), Some((bmi, None)));
    }
    if p.has(clinical::Condition::Hypertension) {
        let sys = (135.0 + 12.0 * rng.normal()).round();
        event(out, &nhs, practice, clinical::BP_SNOMED, start.add_days(rng.range(0, 300) as i32), Some((sys, Some((sys * 0.6).round()))));
    }
    medications(p, &nhs, practice, start, end.min(death.unwrap_or(end)), rng, out);
}

/// Registration periods: (practice, from, to) clipped to the period.
fn registrations(p: &Person, start: Date, end: Date, death: Option<Date>) -> Vec<(usize, Date, Option<Date>)> {
    let mut v = Vec::new();
    let stop = death.filter(|d| *d <= end);
    let first_from = start.add_days(-((p.idx % 3000) as i32)).max(p.dob);
    match (&p.moved, p.practice) {
        (Some(m), Some(a)) if m.practice.is_some() && m.on <= end => {
            v.push((a, first_from, Some(m.on.add_days(-1))));
            v.push((m.practice.unwrap(), m.on, stop));
        }
        (_, Some(a)) => v.push((a, first_from, stop)),
        (Some(m), None) if m.practice.is_some() => v.push((m.practice.unwrap(), m.on, stop)),
        _ => {}
    }
    v
}

fn medications(p: &Person, nhs: &str, practice: &str, start: Date, end: Date, rng: &mut Rng, out: &mut ChunkOut) {
    let mut repeats: Vec<&str> = Vec::new();
    for c in CONDITIONS {
        if p.has(c) {
            for code in clinical::facts(c).bnf {
                if !repeats.contains(code) {
                    repeats.push(code);
                }
            }
        }
    }
    // Multimorbid older people accumulate further repeats (PPI, statin, laxative…),
    // so that polypharmacy (10+ medicines) occurs.
    if p.condition_count() >= 3 {
        for code in ["0103050P0AAAAAA", "0212000Y0AAAAAA", "0106020C0AAAAAA", "0906040G0AAAEAE", "0407010H0AAAMAM"] {
            if rng.chance(0.6) {
                repeats.push(code);
            }
        }
    }
    for code in repeats {
        let mut d = start.add_days(rng.range(0, 55) as i32);
        while d <= end {
            medication(out, nhs, practice, code, d, "REPEAT", 56.0);
            d = d.add_days(56);
        }
    }
    for _ in 0..rng.poisson(1.5) {
        let d = start.add_days(rng.below(end.days_since(start).max(1) as u64) as i32);
        medication(out, nhs, practice, *rng.pick(&clinical::ACUTE_BNF), d, "ACUTE", 14.0);
    }
}

fn event(out: &mut ChunkOut, nhs: &str, practice: &str, code: &str, on: Date, values: Option<(f64, Option<f64>)>) {
    let mut row = out.row(Out::GpEvent);
    event_row(&mut row, Some((nhs, practice, code, on, values)));
    row.end();
}

fn medication(out: &mut ChunkOut, nhs: &str, practice: &str, bnf: &str, on: Date, kind: &str, qty: f64) {
    let mut row = out.row(Out::GpMedication);
    medication_row(&mut row, Some((nhs, practice, bnf, on, kind, qty)));
    row.end();
}

type PatientFields<'a> = (&'a Person, &'a str, &'a str, &'a str, Option<Date>);

pub fn patient<S: Sink>(s: &mut S, f: Option<PatientFields<'_>>) {
    s.str("NHS_NUMBER", f.map_or("", |f| f.1));
    s.date("DOB", f.map(|f| f.0.dob));
    s.str("POSTCODE", f.map_or("", |f| f.2));
    s.int("YEAR_OF_BIRTH", f.map(|f| i64::from(f.0.dob.year())));
    s.str("SEX", f.map_or("", |f| if f.0.sex == 1 { "1" } else { "2" }));
    s.str("ETHNIC", f.map_or("", |f| f.0.ethnos));
    s.str("LSOA21", f.map_or("", |f| f.3));
    s.date("DATE_OF_DEATH", f.and_then(|f| f.4));
}

pub fn registration<S: Sink>(s: &mut S, f: Option<(&str, &str, Date, Option<Date>)>) {
    s.str("NHS_NUMBER", f.map_or("", |f| f.0));
    s.str("PRACTICE", f.map_or("", |f| f.1));
    s.date("REG_START", f.map(|f| f.2));
    s.date("REG_END", f.and_then(|f| f.3));
}

type EventFields<'a> = (&'a str, &'a str, &'a str, Date, Option<(f64, Option<f64>)>);

pub fn event_row<S: Sink>(s: &mut S, f: Option<EventFields<'_>>) {
    s.str("NHS_NUMBER", f.map_or("", |f| f.0));
    s.str("PRACTICE", f.map_or("", |f| f.1));
    s.str("CODE", f.map_or("", |f| f.2));
    s.date("EVENT_DATE", f.map(|f| f.3));
    s.date("RECORD_DATE", f.map(|f| f.3));
    s.float("VALUE1", f.and_then(|f| f.4).map(|v| v.0));
    s.float("VALUE2", f.and_then(|f| f.4).and_then(|v| v.1));
}

pub fn medication_row<S: Sink>(s: &mut S, f: Option<(&str, &str, &str, Date, &str, f64)>) {
    s.str("NHS_NUMBER", f.map_or("", |f| f.0));
    s.str("PRACTICE", f.map_or("", |f| f.1));
    s.str("BNF_CODE", f.map_or("", |f| f.2));
    s.date("ISSUE_DATE", f.map(|f| f.3));
    s.float("QUANTITY", f.map(|f| f.5));
    s.str("QUANTITY_UNIT", f.map_or("", |_| "tablet"));
    s.str("ISSUE_TYPE", f.map_or("", |f| f.4));
}
