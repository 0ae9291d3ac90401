//! Polypharmacy: distinct medicines issued over a window, against the NHS
//! thresholds.
//!
//! Sources (`shared/reference/riskscores.md` §6, all [sourced] there):
//!
//! * NHS England PCN DES (from 1 October 2020): structured medication reviews
//!   for "complex and problematic polypharmacy – specifically those on 10 or
//!   more medications" (quoted by NHSBSA) — [`PolypharmacyDefinition::ten_or_more`].
//! * NHSBSA Polypharmacy Prescribing Comparators (ePACT2, Wessex AHSN, 2017):
//!   patients on 8+, 10+, 15+ and 20+ unique medicines, counted only in BNF
//!   chapters 1-4 and 6-10 (chapter 5, infections, and chapters 11 and over
//!   excluded), per patient-month — [`PolypharmacyDefinition::nhsbsa_comparator`].
//! * eFI polypharmacy deficit: ≥ 5 medicines from BNF chapters 1-15 (Clegg
//!   2016); no window in the paper, 12 months in the GM SDE implementation,
//!   which riskscores.md §4 says to follow — [`PolypharmacyDefinition::efi`].
//!
//! A *medicine* is a BNF chemical substance: the first nine characters of
//! the BNF code (chapter, section, paragraph, sub-paragraph, substance), so
//! strengths and forms of one substance count once. riskscores.md §6 calls
//! this "the natural reading", not confirmed from the NHSBSA specification.
//! GP systems record dm+d/SNOMED; mapping those to BNF codes is the caller's
//! (riskscores.md §6: "a dm+d → BNF code mapping is needed").
//!
//! The window is the `window_months` calendar months ending on the index
//! date ([`crate::window::in_months_ending`]); riskscores.md §6 suggests 3
//! months for the 10+ measure "(or per month, for NHSBSA comparability —
//! parameterise the window)", so every definition's window is a field.

use std::collections::BTreeSet;

use haven_model::Date;
use serde::{Deserialize, Serialize};

use crate::window::in_months_ending;

/// The NHSBSA comparator thresholds (unique medicines).
pub const NHSBSA_COMPARATOR_THRESHOLDS: [u32; 4] = [8, 10, 15, 20];

/// One issue of a medicine to a patient.
#[derive(Clone, Copy, Debug)]
pub struct Prescription<'a> {
    pub issued: Date,
    /// The BNF code (15 characters for a presentation; at least the nine of
    /// the chemical substance). Anything shorter, or not starting with a
    /// two-digit chapter, is not counted.
    pub bnf_code: &'a str,
}

/// Which medicines are counted, over how long, and how many make
/// polypharmacy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolypharmacyDefinition {
    /// BNF chapters counted.
    pub chapters: Vec<u8>,
    /// Calendar months ending on the index date.
    pub window_months: u32,
    /// Distinct medicines from which a patient has polypharmacy.
    pub threshold: u32,
}

impl PolypharmacyDefinition {
    /// 10 or more distinct medicines from BNF chapters 1-4 and 6-10 in the
    /// last 3 months: the PCN DES threshold counted as the NHSBSA comparators
    /// count, over riskscores.md §6's suggested window.
    pub fn ten_or_more() -> Self {
        PolypharmacyDefinition { chapters: nhsbsa_chapters(), window_months: 3, threshold: 10 }
    }

    /// An NHSBSA comparator (8, 10, 15 or 20 unique medicines; see
    /// [`NHSBSA_COMPARATOR_THRESHOLDS`]): chapters 1-4 and 6-10, per month.
    pub fn nhsbsa_comparator(threshold: u32) -> Self {
        PolypharmacyDefinition { chapters: nhsbsa_chapters(), window_months: 1, threshold }
    }

    /// The eFI deficit: 5 or more distinct medicines from BNF chapters 1-15
    /// in the last 12 months.
    pub fn efi() -> Self {
        PolypharmacyDefinition { chapters: (1..=15).collect(), window_months: 12, threshold: 5 }
    }
}

/// BNF chapters 1-4 and 6-10 (NHSBSA comparators).
fn nhsbsa_chapters() -> Vec<u8> {
    (1..=4).chain(6..=10).collect()
}

/// The distinct medicines (BNF chemical substances) issued in the window
/// ending on `index` from the definition's chapters.
pub fn distinct_medicines(prescriptions: &[Prescription<'_>], index: Date, definition: &PolypharmacyDefinition) -> u32 {
    let medicines: BTreeSet<&str> = prescriptions
        .iter()
        .filter(|p| in_months_ending(p.issued, index, definition.window_months))
        .filter_map(|p| chemical_substance(p.bnf_code))
        .filter(|(chapter, _)| definition.chapters.contains(chapter))
        .map(|(_, substance)| substance)
        .collect();
    medicines.len() as u32
}

/// Does the patient meet the definition at `index`?
pub fn is_polypharmacy(prescriptions: &[Prescription<'_>], index: Date, definition: &PolypharmacyDefinition) -> bool {
    distinct_medicines(prescriptions, index, definition) >= definition.threshold
}

/// The eFI polypharmacy deficit (deficit 26) at `index`.
pub fn efi_polypharmacy(prescriptions: &[Prescription<'_>], index: Date) -> bool {
    is_polypharmacy(prescriptions, index, &PolypharmacyDefinition::efi())
}

/// (chapter, chemical substance) of a BNF code, if it has both.
fn chemical_substance(bnf_code: &str) -> Option<(u8, &str)> {
    let code = bnf_code.trim();
    let chapter = code.get(..2).filter(|c| c.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()?;
    Some((chapter, code.get(..9)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    /// Ten chapter-2 substances, 0205051F0 … 0205051O0 (made-up BNF codes with real structure).
    fn substances(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("0205051{}0AAAAAA", (b'F' + i as u8) as char)).collect()
    }

    fn issued_on(day: Date, codes: &[String]) -> Vec<Prescription<'_>> {
        codes.iter().map(|c| Prescription { issued: day, bnf_code: c }).collect()
    }

    #[test]
    fn ten_or_more_threshold() {
        let index = date(2025, 3, 31);
        let codes = substances(10);
        // 9 distinct medicines: below 10.
        assert!(!is_polypharmacy(&issued_on(date(2025, 3, 1), &codes[..9]), index, &PolypharmacyDefinition::ten_or_more()));
        // 10: polypharmacy.
        assert!(is_polypharmacy(&issued_on(date(2025, 3, 1), &codes), index, &PolypharmacyDefinition::ten_or_more()));
    }

    #[test]
    fn strengths_and_forms_of_one_substance_count_once() {
        let index = date(2025, 3, 31);
        // Atorvastatin 0212000B0: tablets 10 mg and 20 mg, issued twice each → one medicine.
        let codes = ["0212000B0AAABAB", "0212000B0AAACAC", "0212000B0AAABAB", "0212000B0AAACAC"];
        let issues: Vec<_> = codes.iter().map(|c| Prescription { issued: date(2025, 2, 1), bnf_code: c }).collect();
        assert_eq!(distinct_medicines(&issues, index, &PolypharmacyDefinition::ten_or_more()), 1);
    }

    #[test]
    fn chapters_counted_differ_by_definition() {
        let index = date(2025, 3, 31);
        // Chapters: 02 cardiovascular, 05 infections, 11 eye, 13 skin, 19 other (not a drug chapter).
        let codes = ["0212000B0AAABAB", "0501013B0AAAAAA", "1106000Z0AAAAAA", "1302011C0AAAAAA", "190201000AAAAAA"];
        let issues: Vec<_> = codes.iter().map(|c| Prescription { issued: date(2025, 3, 10), bnf_code: c }).collect();
        // NHSBSA chapters 1-4, 6-10: chapter 02 only = 1.
        assert_eq!(distinct_medicines(&issues, index, &PolypharmacyDefinition::ten_or_more()), 1);
        // eFI chapters 1-15: 02, 05, 11, 13 = 4.
        assert_eq!(distinct_medicines(&issues, index, &PolypharmacyDefinition::efi()), 4);
    }

    #[test]
    fn window_boundary_days() {
        let index = date(2025, 3, 31);
        let codes = substances(3);
        let issues = [
            // 3 months before the index (2024-12-31): outside the 3-month window.
            Prescription { issued: date(2024, 12, 31), bnf_code: &codes[0] },
            // The next day: inside.
            Prescription { issued: date(2025, 1, 1), bnf_code: &codes[1] },
            // The day after the index: outside.
            Prescription { issued: date(2025, 4, 1), bnf_code: &codes[2] },
        ];
        assert_eq!(distinct_medicines(&issues, index, &PolypharmacyDefinition::ten_or_more()), 1);
        // The eFI's 12 months reach back to 2024-04-01: 2024-12-31 and 2025-01-01 = 2.
        assert_eq!(distinct_medicines(&issues, index, &PolypharmacyDefinition::efi()), 2);
        // NHSBSA's per-month window: only March 2025 issues, none here.
        assert_eq!(distinct_medicines(&issues, index, &PolypharmacyDefinition::nhsbsa_comparator(8)), 0);
    }

    #[test]
    fn efi_deficit_at_five_medicines() {
        let index = date(2025, 3, 31);
        let codes = substances(5);
        // 4 distinct in 12 months: no deficit; 5: deficit.
        assert!(!efi_polypharmacy(&issued_on(date(2024, 6, 1), &codes[..4]), index));
        assert!(efi_polypharmacy(&issued_on(date(2024, 6, 1), &codes), index));
    }

    #[test]
    fn malformed_bnf_codes_are_not_counted() {
        let index = date(2025, 3, 31);
        let codes = ["", "02", "0212000", "XX12000B0AAABAB", " 0212000B0AAABAB "];
        let issues: Vec<_> = codes.iter().map(|c| Prescription { issued: index, bnf_code: c }).collect();
        // Only the last (trimmed) code is a chemical substance.
        assert_eq!(distinct_medicines(&issues, index, &PolypharmacyDefinition::efi()), 1);
    }

    #[test]
    fn comparator_thresholds() {
        assert_eq!(NHSBSA_COMPARATOR_THRESHOLDS.map(|t| PolypharmacyDefinition::nhsbsa_comparator(t).threshold), [8, 10, 15, 20]);
    }
}
