//! Long-term conditions coded in the GP record, read through an operator's
//! code map: a feature of the emergency-admission model (issue 18 §2,
//! "conditions") from primary care, beside the hospital diagnoses that feed
//! Charlson, Elixhauser and [`crate::multimorbidity`].
//!
//! **The list is Haven's choice**: the disease registers of the Quality and
//! Outcomes Framework, the conditions every English practice keeps a coded
//! register of (NHS England, *Quality and Outcomes Framework guidance
//! 2023/24*; NHS England's QOF 2023-24 data quality annex counts "21
//! clinical … aspects",
//! <https://digital.nhs.uk/data-and-information/publications/statistical/quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data/2023-24/data-quality-annex>).
//! The names below were not checked against a stored copy of the
//! indicator definitions, and `shared/reference/riskscores.md` has no
//! such list. QAdmissions (riskscores.md §5; Hippisley-Cox & Coupland,
//! *BMJ Open* 2013;3:e003482) is the published model that shows GP-coded
//! conditions predicting emergency admission; its weights are not used.
//!
//! **The codes are the operator's**: the QOF business-rule cluster code sets
//! are published for GP systems, not for shipping in a product, so — as for
//! the eFI ([`crate::efi::DeficitCodeMap`]) — no code is embedded here; a
//! [`ConditionCodeMap`] file (format: [`crate::codemap`]) names each code's
//! condition. A condition counts when any of its codes is recorded on or
//! before the index date ("ever recorded", as the eFI's deficits;
//! QOF's resolved codes are not modelled).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::codemap;
use crate::error::{CodeMapKind, MapLineFault, Result};

/// A long-term condition of a QOF register (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpCondition {
    AtrialFibrillation,
    CoronaryHeartDisease,
    HeartFailure,
    Hypertension,
    PeripheralArterialDisease,
    StrokeOrTia,
    Asthma,
    Copd,
    Dementia,
    Depression,
    Epilepsy,
    LearningDisability,
    SevereMentalIllness,
    Cancer,
    ChronicKidneyDisease,
    Diabetes,
    NonDiabeticHyperglycaemia,
    Obesity,
    Osteoporosis,
    RheumatoidArthritis,
    PalliativeCare,
}

use GpCondition as G;

/// Every condition with its name in a code map and a feature column.
const NAMES: [(GpCondition, &str); 21] = [
    (G::AtrialFibrillation, "atrial_fibrillation"),
    (G::CoronaryHeartDisease, "coronary_heart_disease"),
    (G::HeartFailure, "heart_failure"),
    (G::Hypertension, "hypertension"),
    (G::PeripheralArterialDisease, "peripheral_arterial_disease"),
    (G::StrokeOrTia, "stroke_or_tia"),
    (G::Asthma, "asthma"),
    (G::Copd, "copd"),
    (G::Dementia, "dementia"),
    (G::Depression, "depression"),
    (G::Epilepsy, "epilepsy"),
    (G::LearningDisability, "learning_disability"),
    (G::SevereMentalIllness, "severe_mental_illness"),
    (G::Cancer, "cancer"),
    (G::ChronicKidneyDisease, "chronic_kidney_disease"),
    (G::Diabetes, "diabetes"),
    (G::NonDiabeticHyperglycaemia, "non_diabetic_hyperglycaemia"),
    (G::Obesity, "obesity"),
    (G::Osteoporosis, "osteoporosis"),
    (G::RheumatoidArthritis, "rheumatoid_arthritis"),
    (G::PalliativeCare, "palliative_care"),
];

impl GpCondition {
    /// Every condition, in declaration order.
    pub fn all() -> impl Iterator<Item = GpCondition> {
        NAMES.iter().map(|(c, _)| *c)
    }

    /// The name in snake case, e.g. `stroke_or_tia`.
    pub fn name(self) -> &'static str {
        NAMES[self as usize].1
    }

    /// The condition named `name` (case and surrounding spaces ignored).
    pub fn from_name(name: &str) -> Option<GpCondition> {
        let name = name.trim();
        NAMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(c, _)| *c)
    }
}

/// A set of [`GpCondition`]s in one word (bit = position in the enum).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GpConditionSet(u32);

impl GpConditionSet {
    pub fn insert(&mut self, c: GpCondition) {
        self.0 |= 1 << c as u32;
    }

    pub fn contains(self, c: GpCondition) -> bool {
        self.0 & (1 << c as u32) != 0
    }

    pub fn union(self, other: GpConditionSet) -> GpConditionSet {
        GpConditionSet(self.0 | other.0)
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<GpCondition> for GpConditionSet {
    fn from_iter<T: IntoIterator<Item = GpCondition>>(iter: T) -> Self {
        let mut set = GpConditionSet::default();
        iter.into_iter().for_each(|c| set.insert(c));
        set
    }
}

/// The operator's GP code → condition table (module docs), e.g.
///
/// ```text
/// condition,code,term
/// copd,13645005,Chronic obstructive lung disease
/// heart_failure,84114007,Heart failure
/// ```
///
/// `condition` is a [`GpCondition::name`]; a code may name several
/// conditions (one line each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionCodeMap {
    by_code: BTreeMap<String, GpConditionSet>,
}

impl ConditionCodeMap {
    /// Reads and parses a code-map file.
    pub fn read(path: &Path) -> Result<Self> {
        Self::parse(&codemap::read_text(path, CodeMapKind::GpConditions)?)
    }

    /// Parses the text of a code-map file.
    pub fn parse(text: &str) -> Result<Self> {
        let parsed = codemap::parse(text, CodeMapKind::GpConditions, |name| GpCondition::from_name(name).ok_or_else(|| MapLineFault::NotACondition(name.to_owned())))?;
        Ok(ConditionCodeMap { by_code: parsed.into_iter().map(|(code, set)| (code, set.into_iter().collect())).collect() })
    }

    /// The conditions any of `codes` maps to.
    pub fn conditions_of<'a>(&self, codes: impl IntoIterator<Item = &'a str>) -> GpConditionSet {
        codes.into_iter().filter_map(|code| self.by_code.get(code.trim())).fold(GpConditionSet::default(), |a, b| a.union(*b))
    }

    /// The number of distinct codes mapped.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RiskError;

    #[test]
    fn names_round_trip_and_follow_the_enum() {
        for (i, c) in GpCondition::all().enumerate() {
            assert_eq!(c as usize, i, "NAMES is in declaration order");
            assert_eq!(GpCondition::from_name(c.name()), Some(c));
        }
        assert_eq!(GpCondition::all().count(), 21);
        assert_eq!(GpCondition::from_name(" COPD "), Some(GpCondition::Copd));
        assert_eq!(GpCondition::from_name("chronic_pulmonary_disease"), None);
    }

    #[test]
    fn a_code_can_name_two_conditions_and_unknown_codes_nothing() {
        let text = "# operator's map\ncondition,code,term\ncopd,13645005,COPD\nasthma,195967001,Asthma, unspecified\n\
                    heart_failure,SHARED\ncoronary_heart_disease,SHARED\n";
        let map = ConditionCodeMap::parse(text).unwrap();
        assert_eq!(map.len(), 3);
        let found = map.conditions_of([" 13645005 ", "SHARED", "999", "13645005"]);
        // copd once, plus the shared code's two: three conditions.
        assert_eq!(found.len(), 3);
        assert!(found.contains(GpCondition::Copd) && found.contains(GpCondition::HeartFailure) && found.contains(GpCondition::CoronaryHeartDisease));
        assert!(!found.contains(GpCondition::Asthma));
        assert!(map.conditions_of(["999"]).is_empty());
    }

    #[test]
    fn map_faults_name_the_map_and_line() {
        let fault = |text: &str| match ConditionCodeMap::parse(text) {
            Err(RiskError::Line { map, line, reason }) => (map, line, reason),
            other => panic!("{other:?}"),
        };
        let k = CodeMapKind::GpConditions;
        assert_eq!(fault("condition,code\ngout,123\n"), (k, 2, MapLineFault::NotACondition("gout".into())));
        assert_eq!(fault("condition,code\n\ncopd, \n"), (k, 3, MapLineFault::EmptyCode));
        assert!(matches!(ConditionCodeMap::parse("deficit_number,code\n"), Err(RiskError::Header { map: CodeMapKind::GpConditions, .. })));
        assert!(matches!(ConditionCodeMap::read(Path::new("/nonexistent/conditions.csv")), Err(RiskError::Read { .. })));
        let shown = ConditionCodeMap::parse("code,condition\n").unwrap_err().to_string();
        assert_eq!(shown, "GP condition code map: the header must start `condition,code`, found `code,condition`");
    }
}
