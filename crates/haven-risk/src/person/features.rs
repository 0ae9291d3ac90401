//! The emergency-admission model's design matrix (issue 18 §2: "age, sex,
//! deprivation, prior emergency admissions/A&E/outpatient use and bed
//! days, the scores above, conditions, medicines"), one row per person in
//! the order given, outcome one or more emergency admissions in the
//! outcome window.
//!
//! An unknown age or IMD decile is 0 with its own indicator column, so the
//! fit estimates what "unknown" means rather than an imputed value.
//! Every long-term condition is a 0/1 column named `ltc_<condition>`; a
//! condition nobody has is a constant column, which the standardiser
//! centres to zero and the ridge penalty keeps at zero.

use super::Person;
use crate::error::Result;
use crate::model::Features;
use crate::multimorbidity::LongTermCondition;
use crate::read::Sex;

/// The published baseline (issue 18 §2, "prior emergency admissions
/// alone"): fit it on `features.select(&BASELINE_COLUMNS)`.
pub const BASELINE_COLUMNS: [&str; 1] = ["emergency_admissions"];

/// The columns before the conditions, in order.
const COLUMNS: [&str; 20] = [
    "age",
    // age² / 100, so the two age terms have similar scales before standardising.
    "age_squared_100",
    "age_unknown",
    "female",
    "imd_decile",
    "imd_unknown",
    "emergency_admissions",
    "emergency_last_30_days",
    "bed_days",
    "elective_admissions",
    "ae_attendances",
    "op_attendances",
    "op_dnas",
    "hfrs_points",
    "charlson_1987",
    "elixhauser_vw",
    "efi_deficits",
    "medicines",
    "multimorbidity",
    "maternity_admissions",
];

fn flag(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// One person's values, in [`COLUMNS`] order, then the conditions.
fn row(p: &Person, out: &mut Vec<f64>) {
    let age = f64::from(p.age.unwrap_or(0));
    let u = &p.prior;
    out.extend([
        age,
        age * age / 100.0,
        flag(p.age.is_none()),
        flag(p.sex == Sex::Female),
        f64::from(p.imd_decile.unwrap_or(0)),
        flag(p.imd_decile.is_none()),
        f64::from(u.emergency_admissions),
        flag(u.emergency_last_30_days),
        f64::from(u.bed_days),
        f64::from(u.elective_admissions),
        f64::from(u.ae_attendances),
        f64::from(u.op_attendances),
        f64::from(u.op_dnas),
        f64::from(p.hfrs_tenths) / 10.0,
        f64::from(p.charlson_1987),
        f64::from(p.elixhauser_vw),
        f64::from(p.efi.map_or(0, |e| e.deficits)),
        f64::from(p.medicines),
        f64::from(p.multimorbidity()),
        f64::from(u.maternity_admissions),
    ]);
    out.extend(LongTermCondition::all().map(|ltc| flag(p.conditions.contains(ltc))));
}

/// The model's features for `people`, in that order.
pub fn features(people: &[Person]) -> Result<Features> {
    let columns: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).chain(LongTermCondition::all().map(|ltc| format!("ltc_{}", ltc.name()))).collect();
    let mut values = Vec::with_capacity(people.len() * columns.len());
    for p in people {
        row(p, &mut values);
    }
    Features::new(columns, values, people.iter().map(Person::outcome).collect())
}
