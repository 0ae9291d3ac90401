//! The population: everyone registered with a practice on the index date
//! and not dead before it, with their practice, age, sex and deprivation.

use std::collections::HashMap;

use haven_model::Date;
use haven_store::{Zone, ZoneSession};

use super::hospital::Hospital;
use super::source::{d, each, n, s, sql_date, Cols, Interner, PersonIndex};
use super::{DeficitSet, Inputs, Issue, PersonInputs, RiskOptions, Sex};
use crate::error::Result;
use crate::gp_conditions::GpConditionSet;

/// The registered population as parallel columns, sorted by pseudonym.
pub(crate) struct Population {
    pub keys: Vec<Box<str>>,
    practice: Vec<u32>,
    practices: Vec<String>,
    age: Vec<Option<u8>>,
    sex: Vec<Sex>,
    imd_decile: Vec<Option<u8>>,
    death: Vec<Option<Date>>,
}

/// What the GP extract's patient rows say of one person: the least value
/// of each field over their rows (a person may have one row per practice
/// extract), so the answer does not depend on row order.
#[derive(Clone, Default)]
struct Patient {
    year_of_birth: Option<i32>,
    sex: Option<Sex>,
    lsoa: Option<u32>,
    death: Option<Date>,
}

fn least<T: Ord + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Reads the population; `lsoa` says whether `reference.lsoa_lookup` is open.
pub(crate) fn read(zs: &ZoneSession, options: &RiskOptions, lsoa: bool) -> Result<Population> {
    let (keys, practice, practices) = registered(zs, options.index_date)?;
    let mut index = PersonIndex::new(&keys);
    let mut patients = vec![Patient::default(); keys.len()];
    let mut lsoas = Interner::default();
    each(zs, Zone::Pseudonymised, "gp_patient", &["TOKEN_PERSON_ID", "YEAR_OF_BIRTH", "SEX", "LSOA21", "DATE_OF_DEATH"], "", |b| {
        let c = Cols { b, dataset: "gp_patient" };
        let (person, yob, sex, area, death) = (c.text("TOKEN_PERSON_ID")?, c.ints("YEAR_OF_BIRTH")?, c.text("SEX")?, c.text("LSOA21")?, c.dates("DATE_OF_DEATH")?);
        for i in 0..b.num_rows() {
            let Some(row) = s(&person, i).and_then(|p| index.get(p)) else { continue };
            let p = &mut patients[row as usize];
            p.year_of_birth = least(p.year_of_birth, n(&yob, i));
            p.sex = least(p.sex, s(&sex, i).map(Sex::from_code));
            p.lsoa = match (p.lsoa, s(&area, i)) {
                (Some(old), Some(new)) if lsoas.name(old) <= new => Some(old),
                (old, new) => new.map(|a| lsoas.id(a)).or(old),
            };
            p.death = least(p.death, d(&death, i));
        }
        Ok(())
    })?;
    let deciles = if lsoa { imd_deciles(zs, &lsoas)? } else { HashMap::new() };
    let on = options.index_date;
    let alive: Vec<bool> = patients.iter().map(|p| p.death.is_none_or(|death| death >= on)).collect();
    let patients = keep(patients, &alive);
    Ok(Population {
        keys: keep(keys, &alive),
        practice: keep(practice, &alive),
        practices,
        age: patients.iter().map(|p| p.year_of_birth.and_then(|y| age_on(on, y))).collect(),
        sex: patients.iter().map(|p| p.sex.unwrap_or_default()).collect(),
        imd_decile: patients.iter().map(|p| p.lsoa.and_then(|l| deciles.get(&l).copied())).collect(),
        death: patients.iter().map(|p| p.death).collect(),
    })
}

/// Whole years on `on` of someone born in `year`, taking a 1 July birthday
/// (mid-year: the extract holds no month); `None` if born after `on`.
fn age_on(on: Date, year: i32) -> Option<u8> {
    if year > on.year() {
        return None;
    }
    u8::try_from(on.age_on(Date::from_ymd(year, 7, 1).ok()?).max(0)).ok()
}

/// The items whose `alive` is true.
fn keep<T>(items: Vec<T>, alive: &[bool]) -> Vec<T> {
    items.into_iter().zip(alive).filter(|(_, a)| **a).map(|(x, _)| x).collect()
}

/// Pseudonyms (sorted), practice of each (an index), practice codes (sorted).
type Registered = (Vec<Box<str>>, Vec<u32>, Vec<String>);

/// Pseudonyms registered on `on` (sorted), each one's practice (an index
/// into the sorted practice codes) and the codes. A person registered with
/// two practices on the day is counted with the later registration (then
/// the lesser practice code).
fn registered(zs: &ZoneSession, on: Date) -> Result<Registered> {
    let mut practices = Interner::default();
    let mut current: HashMap<Box<str>, (Date, u32)> = HashMap::new();
    let filter = format!("\"REG_START\" <= {day} AND (\"REG_END\" IS NULL OR \"REG_END\" >= {day})", day = sql_date(on));
    each(zs, Zone::Pseudonymised, "gp_registration", &["TOKEN_PERSON_ID", "PRACTICE", "REG_START", "REG_END"], &filter, |b| {
        let c = Cols { b, dataset: "gp_registration" };
        let (person, practice, start) = (c.text("TOKEN_PERSON_ID")?, c.text("PRACTICE")?, c.dates("REG_START")?);
        for i in 0..b.num_rows() {
            let (Some(p), Some(code), Some(from)) = (s(&person, i), s(&practice, i), d(&start, i)) else { continue };
            let id = practices.id(code);
            match current.get_mut(p) {
                Some(held) => {
                    let later = (from, std::cmp::Reverse(code)) > (held.0, std::cmp::Reverse(practices.name(held.1)));
                    if later {
                        *held = (from, id);
                    }
                }
                None => {
                    current.insert(p.into(), (from, id));
                }
            }
        }
        Ok(())
    })?;
    let (codes, remap) = practices.finish();
    let mut people: Vec<(Box<str>, u32)> = current.into_iter().map(|(k, (_, p))| (k, remap[p as usize])).collect();
    people.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let (keys, practice): (Vec<Box<str>>, Vec<u32>) = people.into_iter().unzip();
    Ok((keys, practice, codes))
}

/// The IMD decile of each LSOA seen (the least, should the lookup give an
/// LSOA two: it has a row per 2011 LSOA it came from).
fn imd_deciles(zs: &ZoneSession, seen: &Interner) -> Result<HashMap<u32, u8>> {
    let mut out: HashMap<u32, u8> = HashMap::new();
    each(zs, Zone::Reference, "lsoa_lookup", &["LSOA21", "IMD_DECILE"], "", |b| {
        let c = Cols { b, dataset: "lsoa_lookup" };
        let (area, decile) = (c.text("LSOA21")?, c.ints("IMD_DECILE")?);
        for i in 0..b.num_rows() {
            let Some(id) = s(&area, i).and_then(|a| seen.find(a)) else { continue };
            let Some(dec) = n(&decile, i).and_then(|v| u8::try_from(v).ok()) else { continue };
            let e = out.entry(id).or_insert(dec);
            *e = (*e).min(dec);
        }
        Ok(())
    })?;
    Ok(out)
}

/// What was read of the GP record, per person in population order.
pub(crate) struct Gp {
    pub deficits: Vec<DeficitSet>,
    pub conditions: Vec<GpConditionSet>,
    /// The medicine table of [`Inputs::medicines`].
    pub medicines: Vec<String>,
    pub issues: Vec<Vec<Issue>>,
    pub efi_read: bool,
    pub gp_conditions_read: bool,
}

impl Population {
    /// Joins the population with what was read of each person.
    pub fn assemble(self, options: RiskOptions, hospital: Hospital, gp: Gp, mut not_opened: Vec<String>) -> Inputs {
        not_opened.sort();
        let mut people = Vec::with_capacity(self.keys.len());
        let parts = hospital.prior.into_iter().zip(hospital.outcome).zip(hospital.diagnoses).zip(gp.deficits).zip(gp.conditions).zip(gp.issues);
        for (i, (((((prior, outcome), diagnoses), deficits), gp_conditions), issues)) in parts.enumerate() {
            people.push(PersonInputs {
                pseudonym: self.keys[i].clone(),
                practice: self.practice[i],
                age: self.age[i],
                sex: self.sex[i],
                imd_decile: self.imd_decile[i],
                death: self.death[i],
                prior,
                outcome_admissions: outcome,
                diagnoses,
                deficits,
                gp_conditions,
                medicines: issues.into_boxed_slice(),
            });
        }
        Inputs { options, people, practices: self.practices, medicines: gp.medicines, efi_read: gp.efi_read, gp_conditions_read: gp.gp_conditions_read, not_opened }
    }
}
