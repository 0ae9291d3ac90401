//! Hospital use per person: APC episodes gathered into provider spells,
//! outpatient appointments and ECDS attendances.
//!
//! Spells are keyed by `haven_model::rules::spell_key` (the one spell
//! rule) and put together as `rules::derive_spells` does for what is read
//! here: admission date the earliest of the episodes', discharge date the
//! latest, patient class the least, the admission method that of the
//! episode with EPIORDER 01 (the earliest such by EPISTART; none, so no
//! admission group, when the spell has no such episode), and every
//! diagnosis position of every episode.

use hashbrown::HashMap;
use haven_model::rules::{is_birth, is_elective, is_emergency, is_maternity, is_regular_attender, op_attended, op_dna, spell_key_into, SpellKeyFields};
use haven_model::Date;
use haven_store::{Zone, ZoneSession};

use super::source::{d, each, key_hash, s, sql_date, Cols, PersonIndex};
use super::{Diagnosis, PriorUse, RiskOptions};
use crate::error::Result;

/// Per person, in population order.
pub(crate) struct Hospital {
    pub prior: Vec<PriorUse>,
    pub outcome: Vec<u16>,
    pub diagnoses: Vec<Box<[Diagnosis]>>,
}

/// The admission groups of an admission method, as bits.
const EMERGENCY: u8 = 1;
const ELECTIVE: u8 = 2;
const MATERNITY: u8 = 4;

fn groups(admimeth: &str) -> u8 {
    let mut g = 0;
    if is_emergency(admimeth) {
        g |= EMERGENCY;
    }
    if is_elective(admimeth) {
        g |= ELECTIVE;
    }
    if is_maternity(admimeth) || is_birth(admimeth) {
        g |= MATERNITY;
    }
    g
}

/// One spell as its episodes arrive.
struct SpellAcc {
    person: u32,
    admidate: Option<Date>,
    disdate: Option<Date>,
    /// The admitting episode (EPIORDER 01): its start, then its groups.
    admitting: Option<(Option<Date>, u8)>,
    classpat: Option<u8>,
    diagnoses: Vec<Diagnosis>,
}

const EPISODE: [&str; 9] = ["TOKEN_PERSON_ID", "SUSSPELLID", "PROCODE3", "PROVSPNOPS", "ADMIDATE", "DISDATE", "EPISTART", "EPIORDER", "ADMIMETH"];

fn diag_names() -> Vec<String> {
    (1..=20).map(|k| format!("DIAG_4_{k:02}")).collect()
}

/// Reads hospital use; `op` and `ecds` say which optional datasets are open.
pub(crate) fn read(zs: &ZoneSession, options: &RiskOptions, index: &mut PersonIndex<'_>, op: bool, ecds: bool, people: usize) -> Result<Hospital> {
    let spells = spells(zs, options, index)?;
    let mut h = Hospital { prior: vec![PriorUse::default(); people], outcome: vec![0; people], diagnoses: Vec::new() };
    let mut codes: Vec<(u32, Diagnosis)> = Vec::new();
    for spell in spells {
        count(&mut h, &spell, options);
        if spell.disdate.is_some_and(|dis| dis >= options.index_date.add_days(-options.lookback_days) && dis < options.index_date) {
            codes.extend(spell.diagnoses.iter().map(|&dx| (spell.person, dx)));
        }
    }
    h.diagnoses = per_person(codes, people);
    if op {
        outpatients(zs, options, index, &mut h.prior)?;
    }
    if ecds {
        emergency_care(zs, options, index, &mut h.prior)?;
    }
    Ok(h)
}

/// The spells of the population admitted from a year before the look-back
/// (so a long stay discharged inside it is read whole) to the end of the
/// outcome window. Episodes without an admission date place nothing in
/// time and are not read.
fn spells(zs: &ZoneSession, options: &RiskOptions, index: &mut PersonIndex<'_>) -> Result<Vec<SpellAcc>> {
    let on = options.index_date;
    let from = on.add_days(-options.lookback_days.max(options.base_days) - 365);
    let filter = format!("\"ADMIDATE\" >= {} AND \"ADMIDATE\" < {}", sql_date(from), sql_date(on.add_days(options.outcome_days)));
    let diags = diag_names();
    let wanted: Vec<&str> = EPISODE.iter().copied().chain(["CLASSPAT"]).chain(diags.iter().map(String::as_str)).collect();
    let mut by_key: HashMap<(u32, u64), u32> = HashMap::new();
    let mut spells: Vec<SpellAcc> = Vec::new();
    let mut key = String::new();
    each(zs, Zone::Pseudonymised, "apc_episode", &wanted, &filter, |b| {
        let c = Cols { b, dataset: "apc_episode" };
        let text = EPISODE.iter().filter(|n| !matches!(**n, "ADMIDATE" | "DISDATE" | "EPISTART")).map(|n| c.text(n)).collect::<Result<Vec<_>>>()?;
        let [person, susspellid, procode3, provspno, epiorder, admimeth] = &text[..] else { unreachable!("six text columns") };
        let (admidate, disdate, epistart) = (c.dates("ADMIDATE")?, c.dates("DISDATE")?, c.dates("EPISTART")?);
        let classpat = c.text("CLASSPAT")?;
        let positions = diags.iter().filter(|n| b.column_by_name(n).is_some()).map(|n| c.text(n)).collect::<Result<Vec<_>>>()?;
        for i in 0..b.num_rows() {
            let Some(row) = s(person, i).and_then(|p| index.get(p)) else { continue };
            let fields = SpellKeyFields { susspellid: s(susspellid, i), procode3: s(procode3, i), provspno: s(provspno, i), person: s(person, i), admidate: d(&admidate, i) };
            if spell_key_into(&fields, &mut key).is_none() {
                continue;
            }
            let at = *by_key.entry((row, key_hash(&key))).or_insert_with(|| {
                spells.push(SpellAcc { person: row, admidate: None, disdate: None, admitting: None, classpat: None, diagnoses: Vec::new() });
                spells.len() as u32 - 1
            });
            let spell = &mut spells[at as usize];
            spell.admidate = least(spell.admidate, d(&admidate, i));
            spell.disdate = spell.disdate.max(d(&disdate, i));
            spell.classpat = least(spell.classpat, s(&classpat, i).map(|c| c.as_bytes()[0]));
            if s(epiorder, i).and_then(|o| o.parse::<u8>().ok()) == Some(1) {
                let this = (d(&epistart, i), groups(s(admimeth, i).unwrap_or("")));
                spell.admitting = Some(spell.admitting.map_or(this, |held| held.min(this)));
            }
            spell.diagnoses.extend(positions.iter().filter_map(|a| s(a, i)).filter_map(Diagnosis::from_code));
        }
        Ok(())
    })?;
    Ok(spells)
}

fn least<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn bump(n: &mut u16) {
    *n = n.saturating_add(1);
}

/// Adds one spell to its person's base-year use and outcome.
fn count(h: &mut Hospital, spell: &SpellAcc, options: &RiskOptions) {
    let on = options.index_date;
    let base_from = on.add_days(-options.base_days);
    let Some(admitted) = spell.admidate else { return };
    let group = spell.admitting.map_or(0, |(_, g)| g);
    let prior = &mut h.prior[spell.person as usize];
    if admitted >= base_from && admitted < on {
        if group & EMERGENCY != 0 {
            bump(&mut prior.emergency_admissions);
            prior.emergency_last_30_days |= admitted >= on.add_days(-30);
        }
        let regular = spell.classpat.is_some_and(|c| is_regular_attender(std::str::from_utf8(&[c]).unwrap_or("")));
        if group & ELECTIVE != 0 && !regular {
            bump(&mut prior.elective_admissions);
        }
        if group & MATERNITY != 0 {
            bump(&mut prior.maternity_admissions);
        }
    }
    // Bed days inside the base year: the nights from admission to
    // discharge (or to I, if still in hospital or discharged after it).
    let stay_end = spell.disdate.unwrap_or(on).min(on);
    let nights = stay_end.days_since(admitted.max(base_from)).max(0);
    prior.bed_days = prior.bed_days.saturating_add(u16::try_from(nights).unwrap_or(u16::MAX));
    if group & EMERGENCY != 0 && admitted >= on && admitted < on.add_days(options.outcome_days) {
        bump(&mut h.outcome[spell.person as usize]);
    }
}

/// (person, code) pairs as each person's distinct codes, ascending.
fn per_person(mut pairs: Vec<(u32, Diagnosis)>, people: usize) -> Vec<Box<[Diagnosis]>> {
    pairs.sort_unstable();
    pairs.dedup();
    let mut out: Vec<Box<[Diagnosis]>> = vec![Box::default(); people];
    for run in pairs.chunk_by(|a, b| a.0 == b.0) {
        out[run[0].0 as usize] = run.iter().map(|(_, dx)| *dx).collect();
    }
    out
}

/// The base year's filter on a date column.
fn base_year(column: &str, options: &RiskOptions) -> String {
    let on = options.index_date;
    format!("\"{column}\" >= {} AND \"{column}\" < {}", sql_date(on.add_days(-options.base_days)), sql_date(on))
}

fn outpatients(zs: &ZoneSession, options: &RiskOptions, index: &mut PersonIndex<'_>, prior: &mut [PriorUse]) -> Result<()> {
    each(zs, Zone::Pseudonymised, "op_attendance", &["TOKEN_PERSON_ID", "ATTENDED"], &base_year("APPTDATE", options), |b| {
        let c = Cols { b, dataset: "op_attendance" };
        let (person, attended) = (c.text("TOKEN_PERSON_ID")?, c.text("ATTENDED")?);
        for i in 0..b.num_rows() {
            let Some(row) = s(&person, i).and_then(|p| index.get(p)) else { continue };
            let code = s(&attended, i).unwrap_or("");
            let p = &mut prior[row as usize];
            if op_attended(code) {
                bump(&mut p.op_attendances);
            } else if op_dna(code) {
                bump(&mut p.op_dnas);
            }
        }
        Ok(())
    })
}

fn emergency_care(zs: &ZoneSession, options: &RiskOptions, index: &mut PersonIndex<'_>, prior: &mut [PriorUse]) -> Result<()> {
    each(zs, Zone::Pseudonymised, "ecds_attendance", &["TOKEN_PERSON_ID"], &base_year("ARRIVAL_DATE", options), |b| {
        let person = Cols { b, dataset: "ecds_attendance" }.text("TOKEN_PERSON_ID")?;
        for i in 0..b.num_rows() {
            if let Some(row) = s(&person, i).and_then(|p| index.get(p)) {
                bump(&mut prior[row as usize].ae_attendances);
            }
        }
        Ok(())
    })
}
