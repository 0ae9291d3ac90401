//! Charlson comorbidity index, per patient, with the optional age points.
//!
//! The condition table (Quan 2005 ICD-10 codes), both weightings (Charlson
//! 1987 and Quan 2011 with AIDS/HIV = 4) and the three hierarchy rules
//! (mild liver disease under moderate/severe, diabetes without under with
//! chronic complications, any malignancy under metastatic solid tumour) are
//! `haven_model::rules::comorbidity`, the one implementation the other
//! crates share (riskscores.md §2); this module re-exports them and adds only
//! what the risk workload needs beyond them:
//!
//! * the age points of the combined age-comorbidity score — Charlson M,
//!   Szatrowski TP, Peterson J, Gold J. Validation of a combined comorbidity
//!   index. *J Clin Epidemiol* 1994;47(11):1245-51 — one point per decade
//!   from 50: < 50 → 0, 50-59 → 1, 60-69 → 2, 70-79 → 3, ≥ 80 → 4
//!   (riskscores.md §2 "Age points");
//! * [`charlson_age_combined`], which adds them to the 1987 index only:
//!   the combined score was published with the 1987 weights, and comorbidipy
//!   computes it "only with the 1987 weights" (riskscores.md §2). A Quan
//!   2011 score with age points is not a published score, so there is no
//!   function for it.

pub use haven_model::rules::comorbidity::{charlson_conditions, charlson_index, CharlsonWeights};

/// Points for age in completed years at the index date (Charlson 1994):
/// `(age − 40) / 10` rounded down, kept within 0-4 (comorbidipy's rule,
/// riskscores.md §2).
pub fn charlson_age_points(age_years: u32) -> u32 {
    (age_years.saturating_sub(40) / 10).min(4)
}

/// The combined age-comorbidity score of Charlson 1994: the 1987-weighted
/// index of `diagnoses` plus [`charlson_age_points`].
pub fn charlson_age_combined(diagnoses: &[&str], age_years: u32) -> u32 {
    charlson_index(diagnoses, CharlsonWeights::Charlson1987) + charlson_age_points(age_years)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use CharlsonWeights::{Charlson1987, Quan2011};

    /// The conditions present and the index under both weightings.
    fn check(diagnoses: &[&str], conditions: &[&str], charlson_1987: u32, quan_2011: u32) {
        assert_eq!(charlson_conditions(diagnoses), conditions, "{diagnoses:?}");
        assert_eq!(charlson_index(diagnoses, Charlson1987), charlson_1987, "1987 {diagnoses:?}");
        assert_eq!(charlson_index(diagnoses, Quan2011), quan_2011, "2011 {diagnoses:?}");
    }

    #[test]
    fn aids_weighs_six_in_1987_and_four_in_2011() {
        // B20.1 HIV disease resulting in bacterial infection: aids. 1987: 6; Quan 2011: 4 (not comorbidipy's 2).
        check(&["B20.1"], &["aids"], 6, 4);
        // B24X unspecified HIV disease, same condition.
        check(&["B24X"], &["aids"], 6, 4);
    }

    #[test]
    fn hierarchy_liver_disease() {
        // K70.3 alcoholic cirrhosis (mld) alone: 1987 1; 2011 2.
        check(&["K70.3"], &["mld"], 1, 2);
        // I85.0 oesophageal varices with bleeding (msld) alone: 1987 3; 2011 4.
        check(&["I85.0"], &["msld"], 3, 4);
        // Both: mld set to 0. 1987 3 (not 1 + 3 = 4); 2011 4 (not 2 + 4 = 6).
        check(&["K70.3", "I85.0"], &["msld"], 3, 4);
    }

    #[test]
    fn hierarchy_diabetes() {
        // E11.9 type 2 diabetes without complications (diab): 1987 1; 2011 0.
        check(&["E11.9"], &["diab"], 1, 0);
        // E11.2 with renal complications (diabwc): 1987 2; 2011 1.
        check(&["E11.2"], &["diabwc"], 2, 1);
        // Both: diab set to 0. 1987 2 (not 3); 2011 1.
        check(&["E11.9", "E11.2"], &["diabwc"], 2, 1);
    }

    #[test]
    fn hierarchy_cancer() {
        // C50.9 breast (canc): 2 under both.
        check(&["C50.9"], &["canc"], 2, 2);
        // C79.5 secondary bone (metacanc): 6 under both.
        check(&["C79.5"], &["metacanc"], 6, 6);
        // Both: canc set to 0. 6 (not 8) under both.
        check(&["C50.9", "C79.5"], &["metacanc"], 6, 6);
    }

    #[test]
    fn hierarchy_drops_only_the_mild_form_of_its_own_pair() {
        // K70.3 mld, E11.2 diabwc, C79.5 metacanc: no pair complete, nothing dropped.
        // 1987: 1 + 2 + 6 = 9; 2011: 2 + 1 + 6 = 9.
        check(&["K70.3", "E11.2", "C79.5"], &["mld", "diabwc", "metacanc"], 9, 9);
    }

    #[test]
    fn age_points_by_decade_from_fifty() {
        let points: Vec<u32> = [0, 49, 50, 59, 60, 69, 70, 79, 80, 104].map(charlson_age_points).into();
        assert_eq!(points, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    }

    #[test]
    fn age_combined_uses_the_1987_weights() {
        // I50.0 chf 1 + E11.2 diabwc 2 (1987) = 3, aged 72: + 3 = 6.
        // (Quan 2011 would give chf 2 + diabwc 1 = 3 as well; AIDS tells them apart:)
        assert_eq!(charlson_age_combined(&["I50.0", "E11.2"], 72), 6);
        // B20.1 aids 6 (1987, not 2011's 4), aged 49: + 0 = 6.
        assert_eq!(charlson_age_combined(&["B20.1"], 49), 6);
        // No codes, aged 85: 0 + 4 = 4.
        assert_eq!(charlson_age_combined(&[], 85), 4);
    }

    /// One code from each Charlson condition, plus codes that match none.
    fn any_code() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(&[
            "I21.9", "I50.0", "I70.2", "I63.9", "F01.9", "J44.1", "M05.3", "K25.4", "K70.3", "E11.9", "E11.2", "G81.1", "N18.5",
            "C50.9", "I85.0", "C79.5", "B20.1", "J06.9", "R69X", "-",
        ][..])
    }

    proptest! {
        #[test]
        fn adding_a_diagnosis_never_lowers_either_index(codes in proptest::collection::vec(any_code(), 0..10), extra in any_code()) {
            let mut more = codes.clone();
            more.push(extra);
            for weights in [Charlson1987, Quan2011] {
                prop_assert!(charlson_index(&more, weights) >= charlson_index(&codes, weights));
            }
        }

        #[test]
        fn hierarchy_never_counts_both_forms(codes in proptest::collection::vec(any_code(), 0..10)) {
            let found = charlson_conditions(&codes);
            for (mild, severe) in [("mld", "msld"), ("diab", "diabwc"), ("canc", "metacanc")] {
                prop_assert!(!(found.contains(&mild) && found.contains(&severe)), "{mild} with {severe}: {found:?}");
            }
            prop_assert!(charlson_index(&codes, Charlson1987) <= 29);
            prop_assert!(charlson_index(&codes, Quan2011) <= 24);
        }
    }
}
