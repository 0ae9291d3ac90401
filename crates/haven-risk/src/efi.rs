//! Electronic Frailty Index (eFI): deficits counted, eFI = count / 36.
//!
//! Source: Clegg A, Bates C, Young J, et al. Development and validation of an
//! electronic frailty index using routine primary care electronic health
//! record data. *Age Ageing* 2016;45(3):353-60. doi:10.1093/ageing/afw039,
//! as summarised in `shared/reference/riskscores.md` §4 with
//! `codelists/efi_deficits.csv` (the 36 deficits of Box 1) and
//! `codelists/efi_categories.csv` (the categories).
//!
//! * **Deficits** — [`Deficit`], numbered 1-36 in Box 1's (alphabetical)
//!   order, unweighted.
//! * **Score** — [`Efi`]: the number of deficits present; the index is that
//!   number over 36, shown only for display. Categories compare whole
//!   counts, never the fraction ([`EfiCategory::from_deficits`]): the
//!   published cut-points 0.12 / 0.24 / 0.36 (fit ≤ 0.12 < mild ≤ 0.24 <
//!   moderate ≤ 0.36 < severe) give fit 0-4, mild 5-8, moderate 9-12,
//!   severe 13-36 deficits, exactly as the CSV's `deficits_min` /
//!   `deficits_max`. Sources disagree on 13 (13/36 = 0.3611 rounds to 0.36);
//!   riskscores.md §4 "Decision for the team: compare integer counts (≥ 13 →
//!   severe)".
//! * **Coding** — the deficit code sets are not licensed for use here (eFI
//!   copyright: University of Leeds; the GM SDE SNOMED sets carry no licence;
//!   riskscores.md §4 "Is there a public code list?"). So none is embedded:
//!   the operator supplies a [`DeficitCodeMap`] file, and callers may pass
//!   deficits directly (for example from the value rules in the CSV's
//!   `notes`, such as Barthel ≤ 18, which need results, not codes).
//! * **Polypharmacy** (deficit 26) is not a code: it is derived from
//!   prescriptions by [`crate::polypharmacy::efi_polypharmacy`] (≥ 5 distinct
//!   medicines, BNF chapters 1-15, 12 months) and passed to [`efi_deficits`].
//! * **Time** — the original counts deficits "ever recorded" (riskscores.md
//!   §4); which GP codes to pass is the caller's choice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::codemap;
use crate::error::{CodeMapKind, MapLineFault, Result};

/// The number of deficits in the index (Clegg 2016 Box 1).
pub const DEFICIT_COUNT: u32 = 36;

/// The 36 deficit names of `codelists/efi_deficits.csv`, by number − 1.
const NAMES: [&str; 36] = [
    "Activity limitation",
    "Anaemia and haematinic deficiency",
    "Arthritis",
    "Atrial fibrillation",
    "Cerebrovascular disease",
    "Chronic kidney disease",
    "Diabetes",
    "Dizziness",
    "Dyspnoea",
    "Falls",
    "Foot problems",
    "Fragility fracture",
    "Hearing impairment",
    "Heart failure",
    "Heart valve disease",
    "Housebound",
    "Hypertension",
    "Hypotension/syncope",
    "Ischaemic heart disease",
    "Memory and cognitive problems",
    "Mobility and transfer problems",
    "Osteoporosis",
    "Parkinsonism and tremor",
    "Peptic ulcer",
    "Peripheral vascular disease",
    "Polypharmacy",
    "Requirement for care",
    "Respiratory disease",
    "Skin ulcer",
    "Sleep disturbance",
    "Social vulnerability",
    "Thyroid disease",
    "Urinary incontinence",
    "Urinary system disease",
    "Visual impairment",
    "Weight loss and anorexia",
];

/// One of the 36 eFI deficits, by its Box 1 number (1-36).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Deficit(u8);

impl Deficit {
    pub const ACTIVITY_LIMITATION: Deficit = Deficit(1);
    pub const ANAEMIA_AND_HAEMATINIC_DEFICIENCY: Deficit = Deficit(2);
    pub const ARTHRITIS: Deficit = Deficit(3);
    pub const ATRIAL_FIBRILLATION: Deficit = Deficit(4);
    pub const CEREBROVASCULAR_DISEASE: Deficit = Deficit(5);
    pub const CHRONIC_KIDNEY_DISEASE: Deficit = Deficit(6);
    pub const DIABETES: Deficit = Deficit(7);
    pub const DIZZINESS: Deficit = Deficit(8);
    pub const DYSPNOEA: Deficit = Deficit(9);
    pub const FALLS: Deficit = Deficit(10);
    pub const FOOT_PROBLEMS: Deficit = Deficit(11);
    pub const FRAGILITY_FRACTURE: Deficit = Deficit(12);
    pub const HEARING_IMPAIRMENT: Deficit = Deficit(13);
    pub const HEART_FAILURE: Deficit = Deficit(14);
    pub const HEART_VALVE_DISEASE: Deficit = Deficit(15);
    pub const HOUSEBOUND: Deficit = Deficit(16);
    pub const HYPERTENSION: Deficit = Deficit(17);
    pub const HYPOTENSION_SYNCOPE: Deficit = Deficit(18);
    pub const ISCHAEMIC_HEART_DISEASE: Deficit = Deficit(19);
    pub const MEMORY_AND_COGNITIVE_PROBLEMS: Deficit = Deficit(20);
    pub const MOBILITY_AND_TRANSFER_PROBLEMS: Deficit = Deficit(21);
    pub const OSTEOPOROSIS: Deficit = Deficit(22);
    pub const PARKINSONISM_AND_TREMOR: Deficit = Deficit(23);
    pub const PEPTIC_ULCER: Deficit = Deficit(24);
    pub const PERIPHERAL_VASCULAR_DISEASE: Deficit = Deficit(25);
    pub const POLYPHARMACY: Deficit = Deficit(26);
    pub const REQUIREMENT_FOR_CARE: Deficit = Deficit(27);
    pub const RESPIRATORY_DISEASE: Deficit = Deficit(28);
    pub const SKIN_ULCER: Deficit = Deficit(29);
    pub const SLEEP_DISTURBANCE: Deficit = Deficit(30);
    pub const SOCIAL_VULNERABILITY: Deficit = Deficit(31);
    pub const THYROID_DISEASE: Deficit = Deficit(32);
    pub const URINARY_INCONTINENCE: Deficit = Deficit(33);
    pub const URINARY_SYSTEM_DISEASE: Deficit = Deficit(34);
    pub const VISUAL_IMPAIRMENT: Deficit = Deficit(35);
    pub const WEIGHT_LOSS_AND_ANOREXIA: Deficit = Deficit(36);

    /// The deficit numbered `number`, if 1-36.
    pub fn new(number: u8) -> Option<Deficit> {
        (1..=36).contains(&number).then_some(Deficit(number))
    }

    /// The deficit named `name` as in Box 1 (case and surrounding spaces
    /// ignored), e.g. `"Falls"`.
    pub fn from_name(name: &str) -> Option<Deficit> {
        let name = name.trim();
        NAMES.iter().position(|n| n.eq_ignore_ascii_case(name)).map(|i| Deficit(i as u8 + 1))
    }

    /// Every deficit, 1 to 36.
    pub fn all() -> impl Iterator<Item = Deficit> {
        (1..=36).map(Deficit)
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn name(self) -> &'static str {
        NAMES[usize::from(self.0) - 1]
    }
}

/// The eFI category (Clegg 2016; `codelists/efi_categories.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EfiCategory {
    /// 0-4 deficits (eFI ≤ 0.12).
    Fit,
    /// 5-8 deficits (0.12 < eFI ≤ 0.24).
    Mild,
    /// 9-12 deficits (0.24 < eFI ≤ 0.36).
    Moderate,
    /// 13-36 deficits (eFI > 0.36).
    Severe,
}

impl EfiCategory {
    /// The category of a whole number of deficits: the largest count whose
    /// fraction of 36 is within each published cut-point (4/36 = 0.111 ≤
    /// 0.12 < 5/36; 8/36 = 0.222 ≤ 0.24 < 9/36; 12/36 = 0.333 ≤ 0.36 < 13/36).
    pub fn from_deficits(count: u32) -> Self {
        match count {
            0..=4 => EfiCategory::Fit,
            5..=8 => EfiCategory::Mild,
            9..=12 => EfiCategory::Moderate,
            _ => EfiCategory::Severe,
        }
    }
}

/// A patient's eFI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Efi {
    /// Deficits present, 0-36.
    pub deficits: u32,
}

impl Efi {
    pub fn category(self) -> EfiCategory {
        EfiCategory::from_deficits(self.deficits)
    }

    /// deficits / 36, for display (compare categories, not this).
    pub fn index(self) -> f64 {
        f64::from(self.deficits) / f64::from(DEFICIT_COUNT)
    }
}

/// The eFI of a patient's deficits, each counted once.
pub fn efi(deficits: &BTreeSet<Deficit>) -> Efi {
    Efi { deficits: deficits.len() as u32 }
}

/// A patient's deficits from their GP codes through `map`, plus the
/// polypharmacy deficit when `polypharmacy` holds (from
/// [`crate::polypharmacy::efi_polypharmacy`]).
pub fn efi_deficits<'a>(map: &DeficitCodeMap, gp_codes: impl IntoIterator<Item = &'a str>, polypharmacy: bool) -> BTreeSet<Deficit> {
    let mut deficits = map.deficits_of(gp_codes);
    if polypharmacy {
        deficits.insert(Deficit::POLYPHARMACY);
    }
    deficits
}

/// The operator's code-to-deficit table, read from a file so that no
/// unlicensed code list is embedded in Haven.
///
/// Format: [`crate::codemap`]'s, keyed by deficit number.
///
/// ```text
/// deficit_number,code,term
/// # Lines starting with # and blank lines are ignored.
/// 10,1912002,Fall (event)
/// 5,230690007,Cerebrovascular accident
/// ```
///
/// * `deficit_number` is 1-36 as in `codelists/efi_deficits.csv`, except 26:
///   polypharmacy comes from prescriptions, not codes.
/// * A code may map to several deficits (one line each); a repeated line is
///   harmless.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeficitCodeMap {
    by_code: BTreeMap<String, BTreeSet<Deficit>>,
}

impl DeficitCodeMap {
    /// Reads and parses a code-map file.
    pub fn read(path: &Path) -> Result<Self> {
        Self::parse(&codemap::read_text(path, CodeMapKind::Efi)?)
    }

    /// Parses the text of a code-map file (format above).
    pub fn parse(text: &str) -> Result<Self> {
        Ok(DeficitCodeMap { by_code: codemap::parse(text, CodeMapKind::Efi, parse_deficit)? })
    }

    /// The deficits any of `codes` maps to.
    pub fn deficits_of<'a>(&self, codes: impl IntoIterator<Item = &'a str>) -> BTreeSet<Deficit> {
        codes.into_iter().filter_map(|code| self.by_code.get(code.trim())).flatten().copied().collect()
    }

    /// The number of distinct codes mapped.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

/// A mapping line's deficit number: 1-36, not 26.
fn parse_deficit(number: &str) -> Result<Deficit, MapLineFault> {
    let deficit = number.parse::<u8>().ok().and_then(Deficit::new).ok_or_else(|| MapLineFault::NotADeficit(number.to_owned()))?;
    if deficit == Deficit::POLYPHARMACY {
        return Err(MapLineFault::PolypharmacyMapped);
    }
    Ok(deficit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RiskError;

    fn deficits(numbers: impl IntoIterator<Item = u8>) -> BTreeSet<Deficit> {
        numbers.into_iter().map(|n| Deficit::new(n).unwrap()).collect()
    }

    /// The category of the first `count` deficits.
    fn check(count: u8, category: EfiCategory) {
        let score = efi(&deficits(1..=count));
        assert_eq!((score.deficits, score.category()), (u32::from(count), category), "{count} deficits");
    }

    #[test]
    fn deficits_are_the_csv() {
        let rows = crate::reference::codelist("efi_deficits.csv");
        assert_eq!(rows.len(), 36);
        for (deficit, row) in Deficit::all().zip(&rows) {
            assert_eq!(deficit.number().to_string(), row["deficit_number"]);
            assert_eq!(deficit.name(), row["deficit"]);
            assert_eq!(Deficit::from_name(&row["deficit"]), Some(deficit));
        }
        assert_eq!(Deficit::POLYPHARMACY.name(), "Polypharmacy");
        assert_eq!(Deficit::WEIGHT_LOSS_AND_ANOREXIA.number(), 36);
        assert_eq!((Deficit::new(0), Deficit::new(37)), (None, None));
        assert_eq!(Deficit::from_name(" falls "), Some(Deficit::FALLS));
    }

    #[test]
    fn categories_are_the_csv() {
        // efi_categories.csv: fit 0-4, mild 5-8, moderate 9-12, severe 13-36, and each
        // count's fraction of 36 lies in (efi_greater_than, efi_at_most].
        let rows = crate::reference::codelist("efi_categories.csv");
        let names = ["fit", "mild", "moderate", "severe"];
        let categories = [EfiCategory::Fit, EfiCategory::Mild, EfiCategory::Moderate, EfiCategory::Severe];
        assert_eq!(rows.len(), 4);
        for ((row, name), category) in rows.iter().zip(names).zip(categories) {
            assert_eq!(row["category"], name);
            let (min, max): (u32, u32) = (row["deficits_min"].parse().unwrap(), row["deficits_max"].parse().unwrap());
            let above: f64 = row["efi_greater_than"].parse().unwrap_or(-1.0);
            let at_most: f64 = row["efi_at_most"].parse().unwrap();
            for count in min..=max {
                assert_eq!(EfiCategory::from_deficits(count), category, "{count}");
                let index = Efi { deficits: count }.index();
                assert!(index > above && index <= at_most, "{count}: {index}");
            }
        }
    }

    #[test]
    fn category_boundaries() {
        use EfiCategory::*;
        // 4/36 = 0.111 ≤ 0.12 fit; 5/36 = 0.139 mild.
        check(4, Fit);
        check(5, Mild);
        // 8/36 = 0.222 ≤ 0.24 mild; 9/36 = 0.25 moderate.
        check(8, Mild);
        check(9, Moderate);
        // 12/36 = 0.333 ≤ 0.36 moderate; 13/36 = 0.361 > 0.36 severe (integer rule, not rounding).
        check(12, Moderate);
        check(13, Severe);
        // The counts 3/4 and 7/8 are not boundaries: 3/36 = 0.083 and 4/36 fit; 7/36 = 0.194 and 8/36 mild.
        check(3, Fit);
        check(7, Mild);
        check(0, Fit);
        check(36, Severe);
    }

    proptest::proptest! {
        #[test]
        fn another_deficit_never_lowers_the_category(numbers in proptest::collection::btree_set(1u8..=36, 0..36), extra in 1u8..=36) {
            let before = efi(&deficits(numbers.iter().copied()));
            let after = efi(&deficits(numbers.iter().copied().chain([extra])));
            proptest::prop_assert!(after.deficits >= before.deficits && after.deficits <= DEFICIT_COUNT);
            proptest::prop_assert!(after.category() >= before.category());
        }
    }

    #[test]
    fn a_deficit_counts_once() {
        // Falls coded three times, via two codes: one deficit, eFI 1/36.
        let map = DeficitCodeMap::parse("deficit_number,code\n10,1912002\n10,217082002\n").unwrap();
        let found = efi_deficits(&map, ["1912002", "217082002", "1912002"], false);
        assert_eq!(found, deficits([10]));
        assert_eq!(efi(&found).deficits, 1);
    }

    #[test]
    fn code_map_format() {
        let text = "# operator's map\n\ndeficit_number,code,term\n5,230690007,Cerebrovascular accident, unspecified\n\
                    # a comment\n14,84114007,Heart failure\n19,84114007,shared code\n";
        let map = DeficitCodeMap::parse(text).unwrap();
        assert_eq!(map.len(), 2);
        // One code, two deficits; unknown codes and spaces around a code ignored or trimmed.
        assert_eq!(map.deficits_of([" 84114007 ", "999"]), deficits([14, 19]));
        // Polypharmacy from prescriptions: 5 + 26 = 2 deficits.
        assert_eq!(efi_deficits(&map, ["230690007"], true), deficits([5, 26]));
    }

    #[test]
    fn code_map_faults_name_the_line() {
        let fault = |text: &str| match DeficitCodeMap::parse(text) {
            Err(RiskError::Line { line, reason, .. }) => (line, reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(fault("deficit_number,code\n37,123\n"), (2, MapLineFault::NotADeficit("37".into())));
        assert_eq!(fault("deficit_number,code\n\nfalls,123\n"), (3, MapLineFault::NotADeficit("falls".into())));
        assert_eq!(fault("deficit_number,code\n26,123\n"), (2, MapLineFault::PolypharmacyMapped));
        assert_eq!(fault("deficit_number,code\n10, \n"), (2, MapLineFault::EmptyCode));
        assert_eq!(fault("deficit_number,code\n10\n"), (2, MapLineFault::EmptyCode));
        assert!(matches!(DeficitCodeMap::parse("code,deficit_number\n"), Err(RiskError::Header { .. })));
        assert!(matches!(DeficitCodeMap::parse(""), Err(RiskError::Header { .. })));
        assert!(matches!(DeficitCodeMap::read(Path::new("/nonexistent/efi.csv")), Err(RiskError::Read { .. })));
    }
}
