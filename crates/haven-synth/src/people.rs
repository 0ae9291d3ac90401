//! People: demographics, registration, residence, long-term conditions,
//! frailty and a personal risk that drives their activity.
//!
//! Distributions: age bands from ONS Census 2021 (England), ethnicity from
//! Census 2021 (England, 2001-style ETHNOS categories), condition prevalence
//! by age from QOF registers (see `clinical::FACTS`). Deprivation raises the
//! prevalence of most conditions and the rate of emergency care, so that
//! inequality indicators have a real gradient to find.

use haven_model::{Date, NhsNumber};

use crate::clinical::{self, CONDITIONS};
use crate::geography::{Geography, ICBS};
use crate::rng::Rng;

/// Share of England's population in each ESP2013 five-year band (Census 2021).
pub const AGE_BAND_SHARE: [f64; 19] =
    [5.4, 5.9, 6.0, 5.6, 6.0, 6.6, 6.9, 6.6, 6.3, 6.4, 6.9, 6.7, 5.8, 4.9, 5.0, 3.7, 2.5, 1.5, 0.9];

/// ETHNOS codes and England shares (Census 2021; `Z` not stated in records).
pub const ETHNOS: [(&str, f64); 17] = [
    ("A", 73.5), ("B", 0.9), ("C", 6.4), ("D", 0.9), ("E", 0.4), ("F", 0.8), ("G", 0.7), ("H", 3.1), ("J", 2.7),
    ("K", 1.1), ("L", 1.6), ("M", 1.1), ("N", 2.5), ("P", 0.5), ("R", 0.7), ("S", 2.2), ("Z", 0.9),
];

/// A change of home (and perhaps practice) during the period.
#[derive(Clone, Debug)]
pub struct Move {
    pub on: Date,
    pub lsoa: usize,
    pub practice: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Person {
    /// Global index: fixes the NHS number and the national token.
    pub idx: u64,
    pub nhs: NhsNumber,
    pub dob: Date,
    /// `1` male, `2` female.
    pub sex: u8,
    pub ethnos: &'static str,
    pub lsoa: usize,
    /// `None`: not registered with a practice.
    pub practice: Option<usize>,
    pub moved: Option<Move>,
    /// Bit set over `clinical::CONDITIONS`.
    pub conditions: u16,
    /// Electronic Frailty Index deficit count (0–36).
    pub deficits: u8,
    /// Log relative rate of emergency admission (ground truth for risk models).
    pub log_risk: f64,
    pub in_care_home: bool,
    pub opted_out: bool,
}

impl Person {
    pub fn has(&self, c: clinical::Condition) -> bool {
        self.conditions & (1 << c as u16) != 0
    }

    pub fn condition_count(&self) -> u32 {
        self.conditions.count_ones()
    }

    pub fn age_on(&self, d: Date) -> i32 {
        d.age_on(self.dob)
    }

    /// Home LSOA on a date.
    pub fn lsoa_on(&self, d: Date) -> usize {
        match &self.moved {
            Some(m) if d >= m.on => m.lsoa,
            _ => self.lsoa,
        }
    }

    /// Registered practice on a date.
    pub fn practice_on(&self, d: Date) -> Option<usize> {
        match &self.moved {
            Some(m) if d >= m.on => m.practice,
            _ => self.practice,
        }
    }
}

/// The NHS number of person `idx`.
///
/// Synthetic numbers use first digits 8 and 9, which are never issued (England
/// issues 3, 4, 6 and 7; Scotland's CHI and Northern Ireland use 0–3; see
/// datasets.md §8.1 — the never-issued claim is marked partial there). Within
/// each block of ten consecutive nine-digit prefixes at most two are invalid
/// (check digit 10, or a pattern HES rejects), so taking the eighth valid one
/// of each block gives a bijection for up to 160 million people.
pub fn nhs_number(idx: u64) -> NhsNumber {
    let block = idx / 8;
    let offset = idx % 8;
    let base = 800_000_000 + block * 10;
    (0..10)
        .filter_map(|k| NhsNumber::from_first_nine(base + k))
        .nth(offset as usize)
        .expect("every block of ten prefixes holds at least eight valid NHS numbers")
}

/// Draws one person of ICB `icb` alive at `on` (the period start).
pub fn draw(idx: u64, icb: usize, on: Date, period_end: Date, geo: &Geography, rng: &mut Rng) -> Person {
    let profile = &ICBS[icb];
    let band = rng.weighted(&age_weights(profile.age_shift));
    let years = if band == 18 { 90 + rng.below(14) as i32 } else { band as i32 * 5 + rng.below(5) as i32 };
    let dob = on.add_days(-(years * 365 + rng.below(365) as i32) - 1);
    let sex = if rng.chance(0.508) { 2 } else { 1 };
    let ethnos = ETHNOS[rng.weighted(&ethnic_weights(profile.diversity))].0;
    let lsoa = geo.lsoa_in(icb, rng);
    // 1.5% are not registered with a practice (V81997 in SUS).
    let practice = if rng.chance(0.015) { None } else { Some(geo.practice_near(lsoa, rng)) };
    let decile = geo.lsoas[lsoa].imd_decile;
    let conditions = draw_conditions(years, decile, rng);
    let n_cond = conditions.count_ones();
    let deficits = draw_deficits(years, n_cond, rng);
    let log_risk = log_risk(years, conditions, deficits, decile, rng);
    let in_care_home = years >= 75 && deficits >= 10 && rng.chance(0.25);
    let moved = draw_move(icb, on, period_end, geo, rng);
    Person {
        idx,
        nhs: nhs_number(idx),
        dob,
        sex,
        ethnos,
        lsoa,
        practice,
        moved,
        conditions,
        deficits,
        log_risk,
        in_care_home,
        opted_out: rng.chance(0.054),
    }
}

fn age_weights(shift: f64) -> [f64; 19] {
    let mut w = AGE_BAND_SHARE;
    for (b, x) in w.iter_mut().enumerate() {
        let mid = b as f64 * 5.0 + 2.5;
        *x *= (shift * (mid - 40.0) / 600.0).exp();
    }
    w
}

fn ethnic_weights(diversity: f64) -> [f64; 17] {
    let mut w = [0.0; 17];
    for (i, (code, share)) in ETHNOS.iter().enumerate() {
        w[i] = if matches!(*code, "A" | "Z") { *share } else { share * diversity };
    }
    w
}

fn age_group(years: i32) -> usize {
    match years {
        ..=17 => 0,
        18..=39 => 1,
        40..=59 => 2,
        60..=74 => 3,
        _ => 4,
    }
}

/// Deprivation multiplier: decile 1 (most deprived) × (1 + g), decile 10 × (1 − g).
pub fn deprivation_factor(decile: u8, gradient: f64) -> f64 {
    1.0 + gradient * (5.5 - f64::from(decile)) / 4.5
}

fn draw_conditions(years: i32, decile: u8, rng: &mut Rng) -> u16 {
    let g = age_group(years);
    let mut bits = 0u16;
    for c in CONDITIONS {
        let f = clinical::facts(c);
        let mut p = f.prevalence[g] * deprivation_factor(decile, f.deprivation_gradient);
        if c == clinical::Condition::Dementia && years >= 85 {
            p *= 2.0;
        }
        if rng.chance(p.min(0.95)) {
            bits |= 1 << c as u16;
        }
    }
    bits
}

fn draw_deficits(years: i32, n_cond: u32, rng: &mut Rng) -> u8 {
    let age_part = if years >= 60 { f64::from(years - 60) / 6.0 } else { 0.0 };
    let mean = 0.3 + 0.9 * f64::from(n_cond) + age_part;
    rng.poisson(mean).min(36) as u8
}

/// Baseline log rate of emergency admission by age, per person-year.
fn base_emergency_log_rate(years: i32) -> f64 {
    let rate: f64 = match years {
        0..=4 => 0.085,
        5..=14 => 0.028,
        15..=24 => 0.045,
        25..=44 => 0.045,
        45..=64 => 0.048,
        65..=74 => 0.070,
        75..=84 => 0.110,
        _ => 0.190,
    };
    rate.ln()
}

fn log_risk(years: i32, conditions: u16, deficits: u8, decile: u8, rng: &mut Rng) -> f64 {
    let sigma = 0.5;
    let mut x = base_emergency_log_rate(years) + 0.08 * (5.5 - f64::from(decile)) + 0.03 * f64::from(deficits);
    for c in CONDITIONS {
        if conditions & (1 << c as u16) != 0 {
            x += clinical::facts(c).emergency_log_rr;
        }
    }
    x + sigma * rng.normal() - sigma * sigma / 2.0
}

fn draw_move(icb: usize, on: Date, end: Date, geo: &Geography, rng: &mut Rng) -> Option<Move> {
    let span = end.days_since(on);
    // About 9% of people move home in two years (ONS internal migration).
    if !rng.chance(0.045 * f64::from(span) / 365.0) {
        return None;
    }
    let when = on.add_days(rng.below(span as u64) as i32);
    let dest_icb = if rng.chance(0.15) { geo.neighbour(icb, rng) } else { icb };
    let lsoa = geo.lsoa_in(dest_icb, rng);
    let practice = if dest_icb != icb || rng.chance(0.5) { Some(geo.practice_near(lsoa, rng)) } else { None };
    Some(Move { on: when, lsoa, practice })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_valid_distinct_and_never_issued() {
        let mut seen = std::collections::HashSet::new();
        for idx in (0..20_000).chain(159_999_000..160_000_000) {
            let n = nhs_number(idx);
            let digits = n.expose();
            assert!(digits.starts_with('8') || digits.starts_with('9'));
            assert!(NhsNumber::parse(&digits).is_ok());
            assert!(seen.insert(n), "duplicate NHS number");
        }
    }
}
