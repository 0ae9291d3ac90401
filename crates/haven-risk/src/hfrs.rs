//! Hospital Frailty Risk Score (HFRS).
//!
//! Source: Gilbert T, Neuburger J, Kraindler J, et al. Development and
//! validation of a Hospital Frailty Risk Score focusing on older people in
//! acute care settings using electronic hospital records: an observational
//! study. *Lancet* 2018;391(10132):1775-82. doi:10.1016/S0140-6736(18)30668-8
//! (points from its supplementary appendix), as transcribed in
//! `shared/reference/codelists/hfrs.csv` and described in
//! `shared/reference/riskscores.md` §1.
//!
//! * **Code list** — [`CATEGORIES`]: the 109 ICD-10 three-character
//!   categories with their points, in CSV order. Points are held as integer
//!   tenths (the CSV's `weight_tenths`): riskscores.md §1 "Floating point
//!   trap" shows `f64` sums of the decimal weights putting real patients in
//!   the wrong band (2.4 + 2.3 + 0.3 = 4.999999999999999).
//! * **Scoring** — the first three characters of every code in scope, each
//!   distinct category once per patient, points added (riskscores.md §1
//!   "Scoring rule": comorbidipy, the NHP pipeline and OmopIndices all
//!   de-duplicate).
//! * **Bands** — [`HfrsBand`]: low < 5, intermediate 5-15, high > 15; so 5.0
//!   and 15.0 are both *intermediate* (riskscores.md §1 "Bands": "a score of
//!   exactly 5.0 is *intermediate* and exactly 15.0 is *intermediate*").
//! * **Look-back** — [`HfrsOptions`], default the note's suggestion: the index
//!   spell plus every spell discharged in [index admission − 730 days, index
//!   admission), all admission methods, all diagnosis positions. Which prior
//!   spells count is not settled in the sources (riskscores.md §1
//!   "Population and look-back", marked partial), so emergency-only is an
//!   option.
//! * **Population** — the score was developed in people aged 75 and over
//!   ([`HFRS_MIN_AGE`]); choosing the cohort is the caller's business, the
//!   score itself is computed for whatever spells it is given.

use haven_model::rules::normalise_code;
use haven_model::Date;
use serde::{Deserialize, Serialize};

/// Age at index from which the score was developed and validated (Gilbert
/// 2018 abstract, riskscores.md §1 "Population and look-back").
pub const HFRS_MIN_AGE: u32 = 75;

/// Below this many tenths a score is low risk (< 5 points).
pub const INTERMEDIATE_FROM_TENTHS: u32 = 50;
/// Above this many tenths a score is high risk (> 15 points).
pub const INTERMEDIATE_UP_TO_TENTHS: u32 = 150;

/// The 109 categories of `codelists/hfrs.csv`, in CSV order: (ICD-10
/// three-character category, points in tenths), with the CSV's decimal
/// `weight` and `description` as a comment.
pub const CATEGORIES: [(&str, u32); 109] = [
    ("F00", 71), // 7.1 Dementia in Alzheimer's disease
    ("G81", 44), // 4.4 Hemiplegia
    ("G30", 40), // 4.0 Alzheimer's disease
    ("I69", 37), // 3.7 Sequelae of cerebrovascular disease
    ("R29", 36), // 3.6 Other symptoms and signs involving the nervous and musculoskeletal systems (incl. R29.6 tendency to fall)
    ("N39", 32), // 3.2 Other disorders of urinary system (incl. urinary tract infection, incontinence)
    ("F05", 32), // 3.2 Delirium, not induced by alcohol and other psychoactive substances
    ("W19", 32), // 3.2 Unspecified fall
    ("S00", 32), // 3.2 Superficial injury of head
    ("R31", 30), // 3.0 Unspecified haematuria
    ("B96", 29), // 2.9 Other bacterial agents as the cause of diseases classified to other chapters
    ("R41", 27), // 2.7 Other symptoms and signs involving cognitive functions and awareness
    ("R26", 26), // 2.6 Abnormalities of gait and mobility
    ("I67", 26), // 2.6 Other cerebrovascular diseases
    ("R56", 26), // 2.6 Convulsions, not elsewhere classified
    ("R40", 25), // 2.5 Somnolence, stupor and coma
    ("T83", 24), // 2.4 Complications of genitourinary prosthetic devices, implants and grafts
    ("S06", 24), // 2.4 Intracranial injury
    ("S42", 23), // 2.3 Fracture of shoulder and upper arm
    ("E87", 23), // 2.3 Other disorders of fluid, electrolyte and acid-base balance
    ("M25", 23), // 2.3 Other joint disorders, not elsewhere classified
    ("E86", 23), // 2.3 Volume depletion
    ("R54", 22), // 2.2 Senility
    ("Z50", 21), // 2.1 Care involving use of rehabilitation procedures
    ("F03", 21), // 2.1 Unspecified dementia
    ("W18", 21), // 2.1 Other fall on same level
    ("Z75", 20), // 2.0 Problems related to medical facilities and other health care
    ("F01", 20), // 2.0 Vascular dementia
    ("S80", 20), // 2.0 Superficial injury of lower leg
    ("L03", 20), // 2.0 Cellulitis
    ("H54", 19), // 1.9 Blindness and low vision
    ("E53", 19), // 1.9 Deficiency of other B group vitamins
    ("Z60", 18), // 1.8 Problems related to social environment
    ("G20", 18), // 1.8 Parkinson's disease
    ("R55", 18), // 1.8 Syncope and collapse
    ("S22", 18), // 1.8 Fracture of rib(s), sternum and thoracic spine
    ("K59", 18), // 1.8 Other functional intestinal disorders
    ("N17", 18), // 1.8 Acute renal failure
    ("L89", 17), // 1.7 Decubitus ulcer
    ("Z22", 17), // 1.7 Carrier of infectious disease
    ("B95", 17), // 1.7 Streptococcus and staphylococcus as the cause of diseases classified to other chapters
    ("L97", 16), // 1.6 Ulcer of lower limb, not elsewhere classified
    ("R44", 16), // 1.6 Other symptoms and signs involving general sensations and perceptions
    ("K26", 16), // 1.6 Duodenal ulcer
    ("I95", 16), // 1.6 Hypotension
    ("N19", 16), // 1.6 Unspecified renal failure
    ("A41", 16), // 1.6 Other septicaemia
    ("Z87", 15), // 1.5 Personal history of other diseases and conditions
    ("J96", 15), // 1.5 Respiratory failure, not elsewhere classified
    ("X59", 15), // 1.5 Exposure to unspecified factor
    ("M19", 15), // 1.5 Other arthrosis
    ("G40", 15), // 1.5 Epilepsy
    ("M81", 14), // 1.4 Osteoporosis without pathological fracture
    ("S72", 14), // 1.4 Fracture of femur
    ("S32", 14), // 1.4 Fracture of lumbar spine and pelvis
    ("E16", 14), // 1.4 Other disorders of pancreatic internal secretion
    ("R94", 14), // 1.4 Abnormal results of function studies
    ("N18", 14), // 1.4 Chronic renal failure
    ("R33", 13), // 1.3 Retention of urine
    ("R69", 13), // 1.3 Unknown and unspecified causes of morbidity
    ("N28", 13), // 1.3 Other disorders of kidney and ureter, not elsewhere classified
    ("R32", 12), // 1.2 Unspecified urinary incontinence
    ("G31", 12), // 1.2 Other degenerative diseases of nervous system, not elsewhere classified
    ("Y95", 12), // 1.2 Nosocomial condition
    ("S09", 12), // 1.2 Other and unspecified injuries of head
    ("R45", 12), // 1.2 Symptoms and signs involving emotional state
    ("G45", 12), // 1.2 Transient cerebral ischaemic attacks and related syndromes
    ("Z74", 11), // 1.1 Problems related to care-provider dependency
    ("M79", 11), // 1.1 Other soft tissue disorders, not elsewhere classified
    ("W06", 11), // 1.1 Fall involving bed
    ("S01", 11), // 1.1 Open wound of head
    ("A04", 11), // 1.1 Other bacterial intestinal infections
    ("A09", 11), // 1.1 Diarrhoea and gastroenteritis of presumed infectious origin
    ("J18", 11), // 1.1 Pneumonia, organism unspecified
    ("J69", 10), // 1.0 Pneumonitis due to solids and liquids
    ("R47", 10), // 1.0 Speech disturbances, not elsewhere classified
    ("E55", 10), // 1.0 Vitamin D deficiency
    ("Z93", 10), // 1.0 Artificial opening status
    ("R02", 10), // 1.0 Gangrene, not elsewhere classified
    ("R63", 9), // 0.9 Symptoms and signs concerning food and fluid intake
    ("H91", 9), // 0.9 Other hearing loss
    ("W10", 9), // 0.9 Fall on and from stairs and steps
    ("W01", 9), // 0.9 Fall on same level from slipping, tripping and stumbling
    ("E05", 9), // 0.9 Thyrotoxicosis [hyperthyroidism]
    ("M41", 9), // 0.9 Scoliosis
    ("R13", 8), // 0.8 Dysphagia
    ("Z99", 8), // 0.8 Dependence on enabling machines and devices
    ("U80", 8), // 0.8 Agent resistant to penicillin and related antibiotics
    ("M80", 8), // 0.8 Osteoporosis with pathological fracture
    ("K92", 8), // 0.8 Other diseases of digestive system
    ("I63", 8), // 0.8 Cerebral infarction
    ("N20", 7), // 0.7 Calculus of kidney and ureter
    ("F10", 7), // 0.7 Mental and behavioural disorders due to use of alcohol
    ("Y84", 7), // 0.7 Other medical procedures as the cause of abnormal reaction of the patient
    ("R00", 7), // 0.7 Abnormalities of heart beat
    ("J22", 7), // 0.7 Unspecified acute lower respiratory infection
    ("Z73", 6), // 0.6 Problems related to life-management difficulty
    ("R79", 6), // 0.6 Other abnormal findings of blood chemistry
    ("Z91", 5), // 0.5 Personal history of risk-factors, not elsewhere classified
    ("S51", 5), // 0.5 Open wound of forearm
    ("F32", 5), // 0.5 Depressive episode
    ("M48", 5), // 0.5 Spinal stenosis (other spondylopathies)
    ("E83", 4), // 0.4 Disorders of mineral metabolism
    ("M15", 4), // 0.4 Polyarthrosis
    ("D64", 4), // 0.4 Other anaemias
    ("L08", 4), // 0.4 Other local infections of skin and subcutaneous tissue
    ("R11", 3), // 0.3 Nausea and vomiting
    ("K52", 3), // 0.3 Other noninfective gastroenteritis and colitis
    ("R50", 1), // 0.1 Fever of unknown origin
];

/// The Gilbert 2018 risk band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HfrsBand {
    /// Below 5 points.
    Low,
    /// 5 to 15 points, both ends included.
    Intermediate,
    /// Above 15 points.
    High,
}

impl HfrsBand {
    /// The band of a score in tenths: < 50 low, 50-150 intermediate, > 150
    /// high (riskscores.md §1 "Bands", as comorbidipy's `< 5` / `<= 15` and
    /// the NHP pipeline's `>= 5 and <= 15` / `> 15`).
    pub fn from_tenths(tenths: u32) -> Self {
        if tenths < INTERMEDIATE_FROM_TENTHS {
            HfrsBand::Low
        } else if tenths <= INTERMEDIATE_UP_TO_TENTHS {
            HfrsBand::Intermediate
        } else {
            HfrsBand::High
        }
    }
}

/// One admitted patient care spell, as far as HFRS needs it.
#[derive(Clone, Copy, Debug)]
pub struct CodedSpell<'a> {
    pub admission: Date,
    pub discharge: Date,
    /// An emergency admission (HES `ADMIMETH` 2x).
    pub emergency: bool,
    /// ICD-10 codes from every diagnosis position, in any HES form.
    pub diagnoses: &'a [&'a str],
}

/// Which earlier spells enter the look-back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorSpells {
    /// Every admission method (the NHP pipeline; riskscores.md §1 default).
    #[default]
    All,
    /// Emergency admissions only (other implementers, e.g. hannesill/m4 PR #19).
    EmergencyOnly,
}

/// How far back, and which spells, HFRS reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HfrsOptions {
    /// Spells discharged at most this many days before the index admission
    /// count (730: OmopIndices `window = c(-730, 0)`, the NHP pipeline's
    /// 2 × 365 days).
    pub look_back_days: i32,
    pub prior_spells: PriorSpells,
}

impl Default for HfrsOptions {
    fn default() -> Self {
        HfrsOptions { look_back_days: 730, prior_spells: PriorSpells::All }
    }
}

/// A patient's score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hfrs {
    /// Total points in tenths (exact; compare these, not [`Hfrs::points`]).
    pub tenths: u32,
    /// The scoring categories found, each once, in [`CATEGORIES`] order.
    pub categories: Vec<&'static str>,
}

impl Hfrs {
    pub fn band(&self) -> HfrsBand {
        HfrsBand::from_tenths(self.tenths)
    }

    /// The score in points, for display only.
    pub fn points(&self) -> f64 {
        f64::from(self.tenths) / 10.0
    }
}

/// The HFRS of a list of ICD-10 codes already chosen by the caller: each
/// distinct three-character category once. Codes shorter than three
/// characters, empty and `-` entries match nothing.
pub fn hfrs_of_codes<'a>(diagnoses: impl IntoIterator<Item = &'a str>) -> Hfrs {
    let mut found = [false; CATEGORIES.len()];
    for code in diagnoses {
        if let Some(i) = category_index(code) {
            found[i] = true;
        }
    }
    let present = || CATEGORIES.iter().zip(found).filter(|(_, hit)| *hit).map(|(cat, _)| cat);
    Hfrs { tenths: present().map(|(_, tenths)| tenths).sum(), categories: present().map(|(code, _)| *code).collect() }
}

/// The HFRS at an index spell: its own diagnoses plus those of the spells
/// in `history` that fall in the look-back ([`in_look_back`]). `history`
/// may hold any of the patient's spells, the index spell included (it is
/// not discharged before its own admission, so it is never read twice, and
/// reading it twice would not change the score).
pub fn hfrs(index: &CodedSpell<'_>, history: &[CodedSpell<'_>], options: &HfrsOptions) -> Hfrs {
    let prior = history.iter().filter(|spell| in_look_back(index, spell, options));
    hfrs_of_codes(index.diagnoses.iter().chain(prior.flat_map(|spell| spell.diagnoses.iter())).copied())
}

/// Is `spell` one of the earlier spells read for `index`? Discharged on or
/// after index admission − `look_back_days` and before the index admission
/// day, and of the admission methods chosen.
pub fn in_look_back(index: &CodedSpell<'_>, spell: &CodedSpell<'_>, options: &HfrsOptions) -> bool {
    let from = index.admission.add_days(-options.look_back_days);
    let method = match options.prior_spells {
        PriorSpells::All => true,
        PriorSpells::EmergencyOnly => spell.emergency,
    };
    method && spell.discharge >= from && spell.discharge < index.admission
}

/// The position in [`CATEGORIES`] of a code's three-character category.
fn category_index(code: &str) -> Option<usize> {
    let code = normalise_code(code);
    let category = code.as_str().get(..3)?;
    CATEGORIES.iter().position(|(cat, _)| *cat == category)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    /// Scores a single list of codes: (tenths, band).
    fn check(codes: &[&str], tenths: u32, band: HfrsBand) {
        let score = hfrs_of_codes(codes.iter().copied());
        assert_eq!((score.tenths, score.band()), (tenths, band), "{codes:?}");
    }

    #[test]
    fn table_is_the_csv() {
        let rows = crate::reference::codelist("hfrs.csv");
        assert_eq!(rows.len(), 109);
        for ((code, tenths), row) in CATEGORIES.iter().zip(&rows) {
            assert_eq!(*code, row["code"]);
            assert_eq!(tenths.to_string(), row["weight_tenths"], "{code}");
            assert_eq!(format!("{}.{}", tenths / 10, tenths % 10), row["weight"], "{code}");
        }
        // riskscores.md §1 checksums: 1732 tenths in all; F00 7.1 largest, R50 0.1 smallest.
        assert_eq!(CATEGORIES.iter().map(|(_, t)| t).sum::<u32>(), 1732);
        assert_eq!(CATEGORIES[0], ("F00", 71));
        assert_eq!(CATEGORIES[108], ("R50", 1));
    }

    #[test]
    fn band_boundaries_at_five_points() {
        // T83 2.4 + S06 2.4 + R50 0.1 = 4.9 → low.
        check(&["T83.5", "S06.0", "R50.9"], 49, HfrsBand::Low);
        // T83 2.4 + S42 2.3 + R11 0.3 = 5.0 → intermediate (f64 gives 4.999999999999999).
        check(&["T83.5", "S42.2", "R11X"], 50, HfrsBand::Intermediate);
        // 5.0 + R50 0.1 = 5.1 → intermediate.
        check(&["T83.5", "S42.2", "R11X", "R50.9"], 51, HfrsBand::Intermediate);
    }

    #[test]
    fn band_boundaries_at_fifteen_points() {
        // F00 7.1 + I69 3.7 + B96 2.9 + R32 1.2 = 14.9 → intermediate.
        check(&["F00.1", "I69.4", "B96.2", "R32X"], 149, HfrsBand::Intermediate);
        // F00 7.1 + I69 3.7 + B96 2.9 + R33 1.3 = 15.0 → intermediate (f64 gives 15.000000000000002).
        check(&["F00.1", "I69.4", "B96.2", "R33X"], 150, HfrsBand::Intermediate);
        // 15.0 + R50 0.1 = 15.1 → high.
        check(&["F00.1", "I69.4", "B96.2", "R33X", "R50.9"], 151, HfrsBand::High);
    }

    #[test]
    fn band_from_tenths_either_side() {
        let bands: Vec<_> = [0, 49, 50, 51, 149, 150, 151, 1732].map(HfrsBand::from_tenths).into();
        use HfrsBand::*;
        assert_eq!(bands, [Low, Low, Intermediate, Intermediate, Intermediate, Intermediate, High, High]);
    }

    #[test]
    fn repeated_category_counts_once() {
        // I69.3, I69.4, I698 and i69 are all category I69: 3.7 once, not 14.8.
        // W19X: 3.2. Total 3.7 + 3.2 = 6.9.
        let score = hfrs_of_codes(["I69.3", "I69.4", "I698", "i69", "W19X", "W19X"]);
        assert_eq!(score.tenths, 69);
        assert_eq!(score.categories, ["I69", "W19"], "CSV order: I69 3.7 before W19 3.2");
    }

    #[test]
    fn unscored_and_empty_codes_score_nothing() {
        // J06 is not a category; "F0" and "" are too short; "-" is HES "no code".
        check(&["J06.9", "F0", "", "-"], 0, HfrsBand::Low);
    }

    #[test]
    fn look_back_boundary_day() {
        let index_admission = date(2025, 3, 1);
        let index = CodedSpell { admission: index_admission, discharge: date(2025, 3, 9), emergency: true, diagnoses: &["R29.6"] };
        let spell = |discharge: Date, diagnoses| CodedSpell { admission: discharge.add_days(-3), discharge, emergency: false, diagnoses };
        let history = [
            // Discharged exactly 730 days before the index admission: in. F00 7.1.
            spell(index_admission.add_days(-730), &["F00.0"]),
            // 731 days before: out. G81 4.4 not counted.
            spell(index_admission.add_days(-731), &["G81.9"]),
            // Discharged on the index admission day: not *before* it, out. N39 3.2 not counted.
            spell(index_admission, &["N39.0"]),
            // The day before: in. S00 3.2.
            spell(index_admission.add_days(-1), &["S00.8"]),
        ];
        // Index R29 3.6 + F00 7.1 + S00 3.2 = 13.9.
        let score = hfrs(&index, &history, &HfrsOptions::default());
        assert_eq!(score.tenths, 139);
        assert_eq!(score.categories, ["F00", "R29", "S00"]);
        // A 365-day look-back drops F00: 3.6 + 3.2 = 6.8.
        let one_year = HfrsOptions { look_back_days: 365, ..HfrsOptions::default() };
        assert_eq!(hfrs(&index, &history, &one_year).tenths, 68);
    }

    #[test]
    fn emergency_only_option_drops_elective_prior_spells() {
        let index = CodedSpell { admission: date(2025, 3, 1), discharge: date(2025, 3, 2), emergency: true, diagnoses: &[] };
        let elective = CodedSpell { admission: date(2024, 6, 1), discharge: date(2024, 6, 3), emergency: false, diagnoses: &["F05.9"] };
        let emergency = CodedSpell { admission: date(2024, 9, 1), discharge: date(2024, 9, 3), emergency: true, diagnoses: &["W19X"] };
        let history = [elective, emergency];
        // All spells: F05 3.2 + W19 3.2 = 6.4; emergency only: W19 3.2.
        assert_eq!(hfrs(&index, &history, &HfrsOptions::default()).tenths, 64);
        let options = HfrsOptions { prior_spells: PriorSpells::EmergencyOnly, ..HfrsOptions::default() };
        assert_eq!(hfrs(&index, &history, &options).tenths, 32);
    }

    #[test]
    fn the_index_spell_in_its_own_history_is_read_once() {
        let index = CodedSpell { admission: date(2025, 3, 1), discharge: date(2025, 3, 4), emergency: true, diagnoses: &["F00.0"] };
        // F00 7.1 once.
        assert_eq!(hfrs(&index, &[index], &HfrsOptions::default()).tenths, 71);
    }

    fn any_code() -> impl Strategy<Value = String> {
        prop_oneof![
            (0..CATEGORIES.len(), 0..10u8).prop_map(|(i, d)| format!("{}.{d}", CATEGORIES[i].0)),
            "[A-Z][0-9]{2}[0-9X]?",
        ]
    }

    proptest! {
        #[test]
        fn adding_a_diagnosis_never_lowers_the_score(codes in proptest::collection::vec(any_code(), 0..12), extra in any_code()) {
            let before = hfrs_of_codes(codes.iter().map(String::as_str));
            let after = hfrs_of_codes(codes.iter().map(String::as_str).chain([extra.as_str()]));
            prop_assert!(after.tenths >= before.tenths);
            prop_assert!(after.band() >= before.band());
        }

        #[test]
        fn score_is_the_sum_of_distinct_categories(codes in proptest::collection::vec(any_code(), 0..12)) {
            let score = hfrs_of_codes(codes.iter().map(String::as_str));
            let doubled = hfrs_of_codes(codes.iter().chain(codes.iter()).rev().map(String::as_str));
            prop_assert_eq!(&score, &doubled, "order and repetition do not matter");
            let sum: u32 = score.categories.iter().map(|c| CATEGORIES.iter().find(|(k, _)| k == c).unwrap().1).sum();
            prop_assert_eq!(score.tenths, sum);
            prop_assert!(score.tenths <= 1732);
        }
    }
}
