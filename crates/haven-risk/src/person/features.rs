//! The emergency-admission model's design matrix (issue 18 §2: "age, sex,
//! deprivation, prior emergency admissions/A&E/outpatient use and bed
//! days, the scores above, conditions, medicines"), one row per person in
//! the order given, outcome one or more emergency admissions in the
//! outcome window.
//!
//! An unknown age or IMD decile is 0 with its own indicator column, so the
//! fit estimates what "unknown" means rather than an imputed value.
//! Every long-term condition is a 0/1 column named `ltc_<condition>`, and
//! every GP-coded condition ([`crate::gp_conditions`]) one named
//! `gp_<condition>`, with their count `gp_conditions`; a condition nobody
//! has is a constant column, which the standardiser centres to zero and
//! the ridge penalty keeps at zero.
//!
//! Age enters as age and age² and also as 0/1 five-year bands (0–4, …,
//! 80–84, 85+: the Office for National Statistics' standard bands), so the
//! fit can follow a risk that is not quadratic in age — emergency
//! admission rates are high in infancy, lowest in later childhood and
//! climb steeply after 65 (NHS Digital, *Hospital Admitted Patient Care
//! Activity*, admissions by age). An unknown age is in no band.

use super::Person;
use crate::error::Result;
use crate::model::Features;
use crate::gp_conditions::GpCondition;
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

/// Five-year age bands: the lower bounds 0, 5, …, 80, then 85 and over.
const AGE_BAND_WIDTH: u8 = 5;
const AGE_BANDS: u8 = 18;

/// The band of an age: `min(age / 5, 17)`.
fn age_band(age: u8) -> u8 {
    (age / AGE_BAND_WIDTH).min(AGE_BANDS - 1)
}

/// The band columns' names, `age_0_4` … `age_80_84`, `age_85_plus`.
fn age_band_columns() -> impl Iterator<Item = String> {
    (0..AGE_BANDS).map(|b| {
        let from = b * AGE_BAND_WIDTH;
        if b + 1 == AGE_BANDS {
            format!("age_{from}_plus")
        } else {
            format!("age_{from}_{}", from + AGE_BAND_WIDTH - 1)
        }
    })
}

/// One person's values, in [`COLUMNS`] order, then the age bands, the
/// long-term conditions, the GP-coded conditions and their count.
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
    let band = p.age.map(age_band);
    out.extend((0..AGE_BANDS).map(|b| flag(band == Some(b))));
    out.extend(LongTermCondition::all().map(|ltc| flag(p.conditions.contains(ltc))));
    out.extend(GpCondition::all().map(|c| flag(p.gp_conditions.contains(c))));
    out.push(f64::from(p.gp_conditions.len()));
}

/// Every column's name, in [`row`]'s order.
pub fn columns() -> Vec<String> {
    let fixed = COLUMNS.iter().map(|c| (*c).to_owned()).chain(age_band_columns());
    let conditions = LongTermCondition::all().map(|ltc| format!("ltc_{}", ltc.name())).chain(GpCondition::all().map(|c| format!("gp_{}", c.name())));
    fixed.chain(conditions).chain(["gp_conditions".to_owned()]).collect()
}

/// The model's features for `people`, in that order.
pub fn features(people: &[Person]) -> Result<Features> {
    let columns = columns();
    let mut values = Vec::with_capacity(people.len() * columns.len());
    for p in people {
        row(p, &mut values);
    }
    Features::new(columns, values, people.iter().map(Person::outcome).collect())
}
