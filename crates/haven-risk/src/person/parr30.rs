//! PARR-30-style terms: a comparison score for the emergency-admission
//! model (issue 18 §2, "PARR-30-style terms").
//!
//! **Partial, and not PARR-30.** PARR-30 (Billings et al., *BMJ Open*
//! 2012;2:e001667) predicts an emergency *readmission within 30 days of a
//! discharge*; here its terms are applied to a registered population to
//! rank people for an emergency admission in the following year. The
//! coefficients are riskscores.md §5's, marked **[partial]** there: they
//! come from one third-party implementation
//! (`robert-waggott/Parr-30-Implementation`, commit 4b2d4eab), not checked
//! against the paper. Left out, so the score is mis-calibrated and only its
//! ranking is worth comparing:
//!
//! * the hospital (trust) term — **[not found]** in the sources, hence the
//!   name [`PARR30_NAME`];
//! * the IMD *score* band term — the zone holds IMD deciles, not the score
//!   the bands are cut on;
//! * "current admission is an emergency" — there is no current admission
//!   in a population (the term is 0).
//!
//! The eleven conditions are mapped to the Charlson groups whose names they
//! carry (riskscores.md §5: "the names are Charlson-type groups"; the
//! Nuffield Trust's own ICD-10 mapping was not found), after Charlson's
//! hierarchy, so "other liver disease" is mild liver disease without
//! moderate/severe and "other malignant cancer" any malignancy without
//! metastases. An unknown age adds nothing.

use crate::read::PriorUse;

/// The name to report the score under.
pub const PARR30_NAME: &str = "PARR-30 terms (partial: no hospital term)";

/// riskscores.md §5 table: constant.
const CONSTANT: f64 = -2.91821;
/// × age² (years²).
const AGE_SQUARED: f64 = 0.000060581;
/// × emergency admissions in the last year.
const EMERGENCY_ADMISSIONS: f64 = 0.1215;
/// An emergency admission in the last 30 days.
const EMERGENCY_LAST_30_DAYS: f64 = 0.5258;

/// The conditions: (Charlson condition id, coefficient).
const CONDITIONS: [(&str, f64); 11] = [
    ("chf", 0.0950),
    ("pvd", 0.1043),
    ("copd", 0.2243),
    ("diabwc", 0.1457),
    ("rend", 0.1977),
    ("metacanc", 0.2762),
    ("canc", 0.5069),
    ("msld", 0.2673),
    ("mld", 0.2133),
    ("hp", 0.1061),
    ("dementia", 0.0467),
];

/// The log-odds z of the terms above for a person of `age` with base-year
/// `prior` use and the Charlson conditions `charlson` (ids as
/// [`crate::charlson::charlson_conditions`] gives them) of the look-back.
pub fn parr30_terms(age: Option<u8>, prior: &PriorUse, charlson: &[&str]) -> f64 {
    let age = f64::from(age.unwrap_or(0));
    let conditions: f64 = CONDITIONS.iter().filter(|(id, _)| charlson.contains(id)).map(|(_, b)| b).sum();
    CONSTANT
        + AGE_SQUARED * age * age
        + EMERGENCY_ADMISSIONS * f64::from(prior.emergency_admissions)
        + if prior.emergency_last_30_days { EMERGENCY_LAST_30_DAYS } else { 0.0 }
        + conditions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_add_as_the_table_says() {
        // Nobody: the constant alone.
        assert_eq!(parr30_terms(None, &PriorUse::default(), &[]), CONSTANT);
        // 80 years: 6400 × 0.000060581 = 0.3877184; 2 admissions, one in
        // the last 30 days: 0.243 + 0.5258; chf 0.0950 + metacanc 0.2762.
        let prior = PriorUse { emergency_admissions: 2, emergency_last_30_days: true, ..PriorUse::default() };
        let z = parr30_terms(Some(80), &prior, &["chf", "metacanc", "ami"]);
        let expected = -2.91821 + 0.3877184 + 0.243 + 0.5258 + 0.0950 + 0.2762;
        assert!((z - expected).abs() < 1e-12, "{z} vs {expected}");
    }
}
