//! LACE index: death or unplanned readmission within 30 days of discharge.
//!
//! Source: van Walraven C, Dhalla IA, Bell C, et al. Derivation and
//! validation of an index to predict early death or unplanned readmission
//! after discharge from hospital to the community. *CMAJ*
//! 2010;182(6):551-7 (PMC2845681), as summarised in
//! `shared/reference/riskscores.md` §5, where it is marked **[partial]**.
//! Integer points, four items:
//!
//! * **L**, length of stay in days: < 1 → 0, 1 → 1, 2 → 2, 3 → 3, 4-6 → 4,
//!   7-13 → 5, ≥ 14 → 7 (MDCalc; [`length_of_stay_points`]).
//! * **A**, acute (emergent) admission → 3 (MDCalc).
//! * **C**, comorbidity: the Charlson index turned into points. How the
//!   original does this is *not* in a stored source: "commonly quoted as
//!   0-3 → 0-3, ≥ 4 → 5", which agrees with the published maximum of 19
//!   (7 + 3 + 5 + 4; OHRI press release 2010). So [`LaceOptions`] holds both
//!   the Charlson weighting (default 1987, the original index) and the
//!   points table (default the quoted one), to change when the paper is
//!   checked.
//! * **E**, emergency department visits in the 6 months before admission: 1
//!   each, at most 4 (albertadoctors.org; BMJ Open "modified LACE" table).
//!
//! Not implemented: the BMJ Open *modified* LACE (per-condition C weights,
//! C capped at 6, ≥ 14 days = 6 points), which riskscores.md §5 says "is
//! not the original"; and risk bands, which the note does not give.

use haven_model::Date;
use serde::{Deserialize, Serialize};

use crate::charlson::{charlson_index, CharlsonWeights};
use crate::window::months_before;

/// A points for an acute (emergent) admission.
pub const ACUTE_ADMISSION_POINTS: u32 = 3;
/// E: ED visits counted up to this many.
pub const ED_VISITS_CAP: u32 = 4;
/// E: the look-back before admission, in calendar months.
pub const ED_LOOK_BACK_MONTHS: u32 = 6;

/// The partial items of riskscores.md §5, configurable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaceOptions {
    /// Which weights give the Charlson index that C is read from.
    pub charlson_weights: CharlsonWeights,
    /// C points for a Charlson index of 0, 1, 2, 3 and 4 or more.
    pub comorbidity_points: [u32; 5],
}

impl Default for LaceOptions {
    /// Charlson 1987; C = 0, 1, 2, 3, then 5 for an index of 4 or more.
    fn default() -> Self {
        LaceOptions { charlson_weights: CharlsonWeights::Charlson1987, comorbidity_points: [0, 1, 2, 3, 5] }
    }
}

/// The admission being discharged, and the patient's history.
#[derive(Clone, Copy, Debug)]
pub struct LaceInput<'a> {
    pub admission: Date,
    pub discharge: Date,
    /// An emergency admission (HES `ADMIMETH` 2x).
    pub emergency: bool,
    /// ICD-10 codes for the Charlson index (any HES form); which spells they
    /// come from is the caller's choice.
    pub diagnoses: &'a [&'a str],
    /// Arrival dates of the patient's ED attendances (any dates: those in
    /// the look-back are picked by [`ed_visits_in_look_back`]).
    pub ed_arrivals: &'a [Date],
}

/// A LACE score by item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lace {
    pub length_of_stay: u32,
    pub acuity: u32,
    pub comorbidity: u32,
    pub emergency_visits: u32,
}

impl Lace {
    /// L + A + C + E, 0-19 with the default options.
    pub fn total(self) -> u32 {
        self.length_of_stay + self.acuity + self.comorbidity + self.emergency_visits
    }
}

/// L: points for a length of stay in whole days (discharge − admission).
pub fn length_of_stay_points(days: u32) -> u32 {
    match days {
        0 => 0,
        1..=3 => days,
        4..=6 => 4,
        7..=13 => 5,
        _ => 7,
    }
}

/// C: points for a Charlson index under `options`.
pub fn comorbidity_points(charlson: u32, options: &LaceOptions) -> u32 {
    options.comorbidity_points[charlson.min(4) as usize]
}

/// E: points for a number of ED visits.
pub fn emergency_visit_points(visits: u32) -> u32 {
    visits.min(ED_VISITS_CAP)
}

/// ED visits with arrival in the 6 calendar months before `admission`: on or
/// after the same day 6 months earlier and before the admission day. The
/// attendance on the day of admission is not counted: it is usually the one
/// that led to this admission, and the item counts visits *before* it.
pub fn ed_visits_in_look_back(ed_arrivals: &[Date], admission: Date) -> u32 {
    let from = months_before(admission, ED_LOOK_BACK_MONTHS);
    ed_arrivals.iter().filter(|&&d| d >= from && d < admission).count() as u32
}

/// The LACE index of one discharge.
pub fn lace(input: &LaceInput<'_>, options: &LaceOptions) -> Lace {
    let days = u32::try_from(input.discharge.days_since(input.admission)).unwrap_or(0);
    Lace {
        length_of_stay: length_of_stay_points(days),
        acuity: if input.emergency { ACUTE_ADMISSION_POINTS } else { 0 },
        comorbidity: comorbidity_points(charlson_index(input.diagnoses, options.charlson_weights), options),
        emergency_visits: emergency_visit_points(ed_visits_in_look_back(input.ed_arrivals, input.admission)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    #[test]
    fn worked_example() {
        // Emergency admission 2025-03-10, discharged 2025-03-15: 5 days → L = 4.
        // Emergency → A = 3.
        // I50.0 chf 1 + E11.2 diabwc 2 + J44.1 copd 1 = Charlson 1987 index 4 → C = 5.
        // ED arrivals: 2024-09-10 (exactly 6 months before: in), 2024-12-01 (in),
        // 2024-09-09 (a day too early: out), 2025-03-10 (the admission day: out) → 2 visits, E = 2.
        // LACE = 4 + 3 + 5 + 2 = 14.
        let arrivals = [date(2024, 9, 10), date(2024, 12, 1), date(2024, 9, 9), date(2025, 3, 10)];
        let input = LaceInput {
            admission: date(2025, 3, 10),
            discharge: date(2025, 3, 15),
            emergency: true,
            diagnoses: &["I50.0", "E11.2", "J44.1"],
            ed_arrivals: &arrivals,
        };
        let score = lace(&input, &LaceOptions::default());
        assert_eq!(score, Lace { length_of_stay: 4, acuity: 3, comorbidity: 5, emergency_visits: 2 });
        assert_eq!(score.total(), 14);
        // Under Quan 2011 weights: chf 2 + diabwc 1 + copd 1 = 4 → C still 5.
        let quan = LaceOptions { charlson_weights: CharlsonWeights::Quan2011, ..LaceOptions::default() };
        assert_eq!(lace(&input, &quan).total(), 14);
        // Elective, same day discharge, no codes, no visits: 0.
        let day_case = LaceInput { discharge: input.admission, emergency: false, diagnoses: &[], ed_arrivals: &[], ..input };
        assert_eq!(lace(&day_case, &LaceOptions::default()).total(), 0);
    }

    #[test]
    fn length_of_stay_table() {
        let points: Vec<u32> = [0, 1, 2, 3, 4, 6, 7, 13, 14, 90].map(length_of_stay_points).into();
        assert_eq!(points, [0, 1, 2, 3, 4, 4, 5, 5, 7, 7]);
    }

    #[test]
    fn comorbidity_and_ed_points() {
        let options = LaceOptions::default();
        let c: Vec<u32> = [0, 1, 2, 3, 4, 12].map(|i| comorbidity_points(i, &options)).into();
        assert_eq!(c, [0, 1, 2, 3, 5, 5]);
        let e: Vec<u32> = [0, 1, 4, 5, 20].map(emergency_visit_points).into();
        assert_eq!(e, [0, 1, 4, 4, 4]);
    }

    #[test]
    fn maximum_is_nineteen() {
        // 14+ days (7) + emergency (3) + Charlson ≥ 4 (5) + 4+ ED visits (4) = 19 (OHRI, 2010).
        let arrivals = [date(2025, 1, 1); 6];
        let input = LaceInput {
            admission: date(2025, 3, 1),
            discharge: date(2025, 4, 1),
            emergency: true,
            diagnoses: &["C78.0", "B20.1"],
            ed_arrivals: &arrivals,
        };
        assert_eq!(lace(&input, &LaceOptions::default()).total(), 19);
    }
}
