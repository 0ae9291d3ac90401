//! Multimorbidity: how many long-term conditions a patient has, from their
//! hospital diagnoses (through the Charlson and Elixhauser flags) and their
//! GP-coded eFI deficits.
//!
//! **This list is Haven's definition, not a published one.**
//! `shared/reference/riskscores.md` names no multimorbidity count; the issue
//! asks for one built from the flags the published scores already compute,
//! so that no new code list is introduced. Each [`LongTermCondition`] counts
//! once however many sources flag it:
//!
//! * every Charlson and Elixhauser condition that is a lasting disease is
//!   mapped to one long-term condition; the severity pairs (mild and
//!   moderate/severe liver disease, diabetes with and without complications,
//!   solid tumour and metastatic cancer, complicated and uncomplicated
//!   hypertension) fold into one condition each, so the hierarchy cannot
//!   change the count;
//! * three Elixhauser conditions are left out as states rather than
//!   long-term conditions: weight loss (`wloss`), fluid and electrolyte
//!   disorders (`fed`) and blood-loss anaemia (`blane`);
//! * eFI deficits that are diseases are mapped to the matching condition;
//!   the deficits that are symptoms, events, function or circumstances are
//!   left out (activity limitation, dizziness, dyspnoea, falls, foot
//!   problems, fragility fracture, housebound, hypotension/syncope, mobility
//!   and transfer problems, polypharmacy, requirement for care, skin ulcer,
//!   sleep disturbance, social vulnerability, urinary incontinence, weight
//!   loss and anorexia).
//!
//! The usual threshold — multimorbidity is two or more long-term conditions
//! (NICE NG56, *Multimorbidity: clinical assessment and management*, 2016)
//! — is [`MULTIMORBIDITY_FROM`]; that citation is not in riskscores.md and
//! was not checked against a stored copy.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::charlson::charlson_conditions;
use crate::efi::Deficit;
use crate::elixhauser::elixhauser_conditions;

/// Long-term conditions from which a patient is multimorbid (NICE NG56).
pub const MULTIMORBIDITY_FROM: usize = 2;

/// A long-term condition of Haven's multimorbidity count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LongTermCondition {
    IschaemicHeartDisease,
    HeartFailure,
    Arrhythmia,
    ValvularHeartDisease,
    PulmonaryCirculationDisorder,
    PeripheralVascularDisease,
    Hypertension,
    CerebrovascularDisease,
    Dementia,
    Paralysis,
    OtherNeurologicalDisorder,
    ChronicPulmonaryDisease,
    ArthritisOrConnectiveTissueDisease,
    PepticUlcer,
    LiverDisease,
    Diabetes,
    RenalDisease,
    Cancer,
    Hiv,
    ThyroidDisease,
    Coagulopathy,
    Obesity,
    DeficiencyAnaemia,
    AlcoholMisuse,
    DrugMisuse,
    Psychosis,
    Depression,
    Osteoporosis,
    HearingImpairment,
    VisualImpairment,
    UrinarySystemDisease,
}

use LongTermCondition as Ltc;

impl LongTermCondition {
    /// Every long-term condition, in declaration order.
    pub fn all() -> impl Iterator<Item = LongTermCondition> {
        SOURCES.iter().map(|(ltc, ..)| *ltc)
    }

    /// The condition's name in snake case (as serde writes it), e.g.
    /// `heart_failure`.
    pub fn name(self) -> String {
        let mut out = String::new();
        for (i, c) in format!("{self:?}").chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }
}

/// Each long-term condition with the Charlson conditions, Elixhauser
/// conditions and eFI deficits that flag it.
const SOURCES: [(Ltc, &[&str], &[&str], &[Deficit]); 31] = [
    (Ltc::IschaemicHeartDisease, &["ami"], &[], &[Deficit::ISCHAEMIC_HEART_DISEASE]),
    (Ltc::HeartFailure, &["chf"], &["chf"], &[Deficit::HEART_FAILURE]),
    (Ltc::Arrhythmia, &[], &["carit"], &[Deficit::ATRIAL_FIBRILLATION]),
    (Ltc::ValvularHeartDisease, &[], &["valv"], &[Deficit::HEART_VALVE_DISEASE]),
    (Ltc::PulmonaryCirculationDisorder, &[], &["pcd"], &[]),
    (Ltc::PeripheralVascularDisease, &["pvd"], &["pvd"], &[Deficit::PERIPHERAL_VASCULAR_DISEASE]),
    (Ltc::Hypertension, &[], &["hypunc", "hypc"], &[Deficit::HYPERTENSION]),
    (Ltc::CerebrovascularDisease, &["cevd"], &[], &[Deficit::CEREBROVASCULAR_DISEASE]),
    (Ltc::Dementia, &["dementia"], &[], &[Deficit::MEMORY_AND_COGNITIVE_PROBLEMS]),
    (Ltc::Paralysis, &["hp"], &["para"], &[]),
    (Ltc::OtherNeurologicalDisorder, &[], &["ond"], &[Deficit::PARKINSONISM_AND_TREMOR]),
    (Ltc::ChronicPulmonaryDisease, &["copd"], &["cpd"], &[Deficit::RESPIRATORY_DISEASE]),
    (Ltc::ArthritisOrConnectiveTissueDisease, &["rheumd"], &["rheumd"], &[Deficit::ARTHRITIS]),
    (Ltc::PepticUlcer, &["pud"], &["pud"], &[Deficit::PEPTIC_ULCER]),
    (Ltc::LiverDisease, &["mld", "msld"], &["ld"], &[]),
    (Ltc::Diabetes, &["diab", "diabwc"], &["diabunc", "diabc"], &[Deficit::DIABETES]),
    (Ltc::RenalDisease, &["rend"], &["rf"], &[Deficit::CHRONIC_KIDNEY_DISEASE]),
    (Ltc::Cancer, &["canc", "metacanc"], &["lymph", "metacanc", "solidtum"], &[]),
    (Ltc::Hiv, &["aids"], &["aids"], &[]),
    (Ltc::ThyroidDisease, &[], &["hypothy"], &[Deficit::THYROID_DISEASE]),
    (Ltc::Coagulopathy, &[], &["coag"], &[]),
    (Ltc::Obesity, &[], &["obes"], &[]),
    (Ltc::DeficiencyAnaemia, &[], &["dane"], &[Deficit::ANAEMIA_AND_HAEMATINIC_DEFICIENCY]),
    (Ltc::AlcoholMisuse, &[], &["alcohol"], &[]),
    (Ltc::DrugMisuse, &[], &["drug"], &[]),
    (Ltc::Psychosis, &[], &["psycho"], &[]),
    (Ltc::Depression, &[], &["depre"], &[]),
    (Ltc::Osteoporosis, &[], &[], &[Deficit::OSTEOPOROSIS]),
    (Ltc::HearingImpairment, &[], &[], &[Deficit::HEARING_IMPAIRMENT]),
    (Ltc::VisualImpairment, &[], &[], &[Deficit::VISUAL_IMPAIRMENT]),
    (Ltc::UrinarySystemDisease, &[], &[], &[Deficit::URINARY_SYSTEM_DISEASE]),
];

/// The long-term conditions a patient has: from ICD-10 `diagnoses` (any HES
/// form, through [`charlson_conditions`] and [`elixhauser_conditions`]) and
/// eFI `deficits` from GP coding. Which spells and which GP records feed them
/// is the caller's choice.
pub fn long_term_conditions(diagnoses: &[&str], deficits: &BTreeSet<Deficit>) -> BTreeSet<LongTermCondition> {
    let charlson = charlson_conditions(diagnoses);
    let elixhauser = elixhauser_conditions(diagnoses);
    SOURCES
        .iter()
        .filter(|(_, ch, ex, efi)| {
            ch.iter().any(|c| charlson.contains(c)) || ex.iter().any(|c| elixhauser.contains(c)) || efi.iter().any(|d| deficits.contains(d))
        })
        .map(|(ltc, ..)| *ltc)
        .collect()
}

/// The number of long-term conditions ([`long_term_conditions`]).
pub fn multimorbidity_count(diagnoses: &[&str], deficits: &BTreeSet<Deficit>) -> usize {
    long_term_conditions(diagnoses, deficits).len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(diagnoses: &[&str], deficits: &[Deficit], expected: &[Ltc]) {
        let found = long_term_conditions(diagnoses, &deficits.iter().copied().collect());
        assert_eq!(found.into_iter().collect::<Vec<_>>(), expected, "{diagnoses:?} {deficits:?}");
    }

    #[test]
    fn one_condition_from_several_sources_counts_once() {
        // I50.0 sets Charlson chf and Elixhauser chf; the GP also codes heart failure: 1 condition.
        check(&["I50.0"], &[Deficit::HEART_FAILURE], &[Ltc::HeartFailure]);
        // E11.9 (diab, diabunc) and E11.2 (diabwc, diabc) and the eFI diabetes deficit: 1 condition.
        check(&["E11.9", "E11.2"], &[Deficit::DIABETES], &[Ltc::Diabetes]);
    }

    #[test]
    fn severity_pairs_fold_into_one_condition() {
        // C34.1 solid tumour + C78.0 metastatic (Charlson canc/metacanc, Elixhauser solidtum/metacanc): Cancer once.
        check(&["C34.1", "C78.0"], &[], &[Ltc::Cancer]);
        // K70.3 sets mld, ld and alcohol; K72.1 sets msld: liver disease + alcohol misuse = 2.
        check(&["K70.3", "K72.1"], &[], &[Ltc::LiverDisease, Ltc::AlcoholMisuse]);
    }

    #[test]
    fn states_and_functional_deficits_are_not_conditions() {
        // E86X fed, R63.4 wloss, D50.0 blane; falls and polypharmacy deficits: 0 conditions.
        check(&["E86X", "R63.4", "D50.0"], &[Deficit::FALLS, Deficit::POLYPHARMACY], &[]);
    }

    #[test]
    fn multimorbid_patient() {
        // I11.0: heart failure + hypertension (chf, hypc); J44.1: COPD; GP: osteoporosis, falls (not counted).
        // 4 conditions ≥ 2: multimorbid.
        let deficits = [Deficit::OSTEOPOROSIS, Deficit::FALLS].into_iter().collect();
        assert_eq!(multimorbidity_count(&["I11.0", "J44.1"], &deficits), 4);
        assert!(multimorbidity_count(&["I11.0", "J44.1"], &deficits) >= MULTIMORBIDITY_FROM);
    }

    #[test]
    fn every_source_id_exists() {
        // Every Charlson/Elixhauser id named in SOURCES is set by some code, and every
        // condition of either score except wloss, fed and blane is named.
        let all_codes: Vec<&str> = ["I21", "I50", "I70", "I63", "F01", "J44", "M05", "K25", "K70.3", "E11.9", "E11.2", "G81", "N18", "C50", "I85.0", "C79", "B20"]
            .to_vec();
        let charlson = charlson_conditions(&all_codes);
        for (_, ch, ..) in SOURCES {
            for id in ch {
                assert!(charlson.contains(id) || ["mld", "diab", "canc"].contains(id), "{id}");
            }
        }
        let named: BTreeSet<&str> = SOURCES.iter().flat_map(|(_, _, ex, _)| ex.iter().copied()).collect();
        let rows = crate::reference::codelist("elixhauser_quan_icd10.csv");
        let elixhauser: BTreeSet<&str> = rows.iter().map(|r| r["condition"].as_str()).collect();
        let left_out: Vec<&str> = elixhauser.difference(&named).copied().collect();
        assert_eq!(left_out, ["blane", "fed", "wloss"]);
        assert!(named.is_subset(&elixhauser));
    }

    proptest! {
        #[test]
        fn adding_a_diagnosis_or_deficit_never_lowers_the_count(
            codes in proptest::collection::vec(proptest::sample::select(&["I50.0", "I10X", "E11.9", "E11.2", "C34.1", "C78.0", "F32.1", "J44.1", "R69X"][..]), 0..8),
            extra in proptest::sample::select(&["K70.3", "I48X", "C78.0", "E66.9"][..]),
            deficit in 1u8..=36,
        ) {
            let none = BTreeSet::new();
            let before = multimorbidity_count(&codes, &none);
            let mut more = codes.clone();
            more.push(extra);
            prop_assert!(multimorbidity_count(&more, &none) >= before);
            let deficits: BTreeSet<Deficit> = Deficit::new(deficit).into_iter().collect();
            prop_assert!(multimorbidity_count(&codes, &deficits) >= before);
        }
    }
}
