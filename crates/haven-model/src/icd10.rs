//! ICD-10 diagnosis codes, normalised the way HES stores them.
//!
//! HES `DIAG_4_nn` holds four characters: upper case, no dot, and an `X`
//! filler where the WHO category has no fourth character (`R69X`, `I10X`).
//! Providers, code lists and SUS+ extracts write the same codes as `I50.0`,
//! `i500`, `L88` or `M48.06`; every indicator and risk score compares against
//! code lists, so all of them must first be brought to one form. Doing it here,
//! once, means the generator, the parsers and the indicators cannot disagree.
//!
//! Source: `shared/reference/datasets.md` §1.4 (HES TOS `DIAG_4_01..20`,
//! `R69X` = not known) and §10.0 (canonical conventions), from the HES
//! Technical Output Specification and the NHS Data Dictionary.
//!
//! Accepted input, after trimming and upper-casing:
//! * a letter, then two digits (the WHO three-character category);
//! * optionally one dot, only directly after the category;
//! * an optional fourth character: a digit, `X`, or `-` (filler, stored `X`);
//!   a dagger/asterisk marker `+`/`*` in that place is also read as filler;
//! * up to two further characters, each a digit (HES fifth-character
//!   extensions such as `M4806`) or a dagger/asterisk marker (`D`, `A`, `+`,
//!   `*`) or `-`; these are dropped.
//!
//! Anything else is refused with a static reason that never repeats the value.

use std::fmt;

use crate::error::ModelError;

/// A four-character HES ICD-10 code: letter, two digits, then a digit or `X`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Icd10([u8; 4]);

/// Longest input accepted once the dot is removed: four characters plus two
/// extension or marker characters.
const MAX_RAW: usize = 6;

impl Icd10 {
    /// Normalises a diagnosis code to the HES four-character form:
    /// `"r69"` → `R69X`, `"I50.0"` → `I500`, `"M48.06"` → `M480`.
    pub fn normalise(text: &str) -> Result<Icd10, ModelError> {
        let fail = |reason| Err(ModelError::Icd10(reason));
        let t = text.trim();
        if t.is_empty() {
            return fail("is empty");
        }
        let mut raw = [0u8; MAX_RAW];
        let mut n = 0;
        let mut dot_seen = false;
        for &c in t.as_bytes() {
            if c == b'.' {
                if dot_seen {
                    return fail("has more than one dot");
                }
                if n != 3 {
                    return fail(
                        "has a dot that is not directly after the three-character category",
                    );
                }
                dot_seen = true;
                continue;
            }
            if n == MAX_RAW {
                return fail("is longer than six characters without its dot");
            }
            raw[n] = c.to_ascii_uppercase();
            n += 1;
        }
        if n < 3 {
            return fail("is shorter than a three-character category");
        }
        if !raw[0].is_ascii_uppercase() {
            return fail("does not start with a letter");
        }
        if !raw[1].is_ascii_digit() || !raw[2].is_ascii_digit() {
            return fail("second and third characters are not both digits");
        }
        let fourth = match (n > 3).then_some(raw[3]) {
            None => b'X',
            Some(c @ b'0'..=b'9') => c,
            Some(b'X' | b'-' | b'+' | b'*') => b'X',
            Some(_) => return fail("fourth character is not a digit, X or -"),
        };
        for &c in raw[..n].iter().skip(4) {
            if !matches!(c, b'0'..=b'9' | b'D' | b'A' | b'+' | b'*' | b'-') {
                return fail("fifth or sixth character is not a digit or a dagger/asterisk marker");
            }
        }
        Ok(Icd10([raw[0], raw[1], raw[2], fourth]))
    }

    /// The four-character HES form, e.g. `I500`, `R69X`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ICD-10 codes are ASCII by construction")
    }

    /// The three-character category, e.g. `I50` (HES `DIAG_3_nn`).
    pub fn three(&self) -> &str {
        &self.as_str()[..3]
    }

    /// Whether the code begins with `prefix`, compared with the normalised
    /// code ignoring case and dots. `prefix` may hold alternatives separated by
    /// `|` or `;`, as the reference code lists write them (`"J45|J46"`,
    /// `"J45;J46"`); any alternative matching is enough. Empty alternatives
    /// match nothing, so a stray separator cannot widen a code list to
    /// every diagnosis.
    pub fn starts_with(&self, prefix: &str) -> bool {
        prefix
            .split(['|', ';'])
            .any(|alt| prefix_matches(&self.0, alt))
    }

    /// The first character, which names the ICD-10 chapter group (`I` for
    /// circulatory diseases, `C` for neoplasms …).
    pub fn chapter_letter(&self) -> char {
        char::from(self.0[0])
    }
}

/// One alternative of a code-list prefix, matched against a normalised code:
/// trimmed, dots ignored, ASCII case-insensitive; empty never matches. Shared
/// with [`crate::opcs4`].
pub(crate) fn prefix_matches(code: &[u8], alt: &str) -> bool {
    let mut matched = false;
    for (i, b) in alt.trim().bytes().filter(|&b| b != b'.').enumerate() {
        if code.get(i) != Some(&b.to_ascii_uppercase()) {
            return false;
        }
        matched = true;
    }
    matched
}

impl fmt::Debug for Icd10 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Icd10").field(&self.as_str()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Normalised text, or the static reason.
    fn check(text: &str) -> Result<String, &'static str> {
        match Icd10::normalise(text) {
            Ok(code) => Ok(code.as_str().to_owned()),
            Err(ModelError::Icd10(reason)) => Err(reason),
            Err(other) => panic!("unexpected error variant {other:?}"),
        }
    }

    #[test]
    fn hes_examples() {
        assert_eq!(check("r69"), Ok("R69X".to_owned()));
        assert_eq!(check("I50.0"), Ok("I500".to_owned()));
        assert_eq!(check("E11.9"), Ok("E119".to_owned()));
        assert_eq!(check("L88"), Ok("L88X".to_owned()));
        assert_eq!(check(" j44 "), Ok("J44X".to_owned()));
        assert_eq!(check("R69X"), Ok("R69X".to_owned()));
        assert_eq!(check("i500"), Ok("I500".to_owned()));
        assert_eq!(check("J44."), Ok("J44X".to_owned()));
    }

    #[test]
    fn fillers_markers_and_extensions() {
        assert_eq!(check("I10-"), Ok("I10X".to_owned()));
        assert_eq!(check("G01*"), Ok("G01X".to_owned()));
        assert_eq!(check("A17.0+"), Ok("A170".to_owned()));
        assert_eq!(check("G01X*"), Ok("G01X".to_owned()));
        assert_eq!(check("A170D"), Ok("A170".to_owned()));
        assert_eq!(check("G013A"), Ok("G013".to_owned()));
        assert_eq!(check("M4806"), Ok("M480".to_owned()));
        assert_eq!(check("M48.06"), Ok("M480".to_owned()));
        assert_eq!(check("S7200D"), Ok("S720".to_owned()));
        assert_eq!(check("I10X-"), Ok("I10X".to_owned()));
    }

    #[test]
    fn refusals_have_static_reasons() {
        assert_eq!(check(""), Err("is empty"));
        assert_eq!(check("  \t"), Err("is empty"));
        assert_eq!(
            check("X"),
            Err("is shorter than a three-character category")
        );
        assert_eq!(
            check("-"),
            Err("is shorter than a three-character category")
        );
        assert_eq!(check("12AB"), Err("does not start with a letter"));
        assert_eq!(
            check("IA0"),
            Err("second and third characters are not both digits")
        );
        assert_eq!(
            check("I5.00"),
            Err("has a dot that is not directly after the three-character category")
        );
        assert_eq!(check("I50.0.1"), Err("has more than one dot"));
        assert_eq!(
            check("I50B"),
            Err("fourth character is not a digit, X or -")
        );
        assert_eq!(
            check("I500B"),
            Err("fifth or sixth character is not a digit or a dagger/asterisk marker")
        );
        assert_eq!(
            check("I500000"),
            Err("is longer than six characters without its dot")
        );
        assert_eq!(check("É500"), Err("does not start with a letter"));
        let msg = Icd10::normalise("C50Q").unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid ICD-10 code: fourth character is not a digit, X or -"
        );
        assert!(!msg.contains("C50"));
    }

    #[test]
    fn accessors() {
        let c = Icd10::normalise("I50.0").unwrap();
        assert_eq!(c.as_str(), "I500");
        assert_eq!(c.three(), "I50");
        assert_eq!(c.chapter_letter(), 'I');
        assert_eq!(format!("{c:?}"), r#"Icd10("I500")"#);
        assert_eq!(Icd10::normalise("L88").unwrap().three(), "L88");
        // Ordering is that of the HES text.
        assert!(Icd10::normalise("I10").unwrap() < Icd10::normalise("I500").unwrap());
    }

    #[test]
    fn prefix_matching_for_code_lists() {
        let i500 = Icd10::normalise("I500").unwrap();
        assert!(i500.starts_with("I50"));
        assert!(i500.starts_with("I"));
        assert!(i500.starts_with("i50.0"));
        assert!(i500.starts_with("I500"));
        assert!(!i500.starts_with("I501"));
        assert!(!i500.starts_with("I5000"));
        assert!(!i500.starts_with(""));
        assert!(!i500.starts_with("|"));

        let j459 = Icd10::normalise("J45.9").unwrap();
        assert!(j459.starts_with("J45|J46"));
        assert!(j459.starts_with("J46;J45"));
        assert!(!Icd10::normalise("J47").unwrap().starts_with("J45|J46"));
        // A trailing separator does not turn the list into "match anything".
        assert!(!Icd10::normalise("K29").unwrap().starts_with("J45|"));

        // From acsc_strategy_unit_nhp.csv: "L03|L04|L080|L088|L089|L88X|L980".
        let cellulitis = "L03|L04|L080|L088|L089|L88X|L980";
        assert!(Icd10::normalise("L88").unwrap().starts_with(cellulitis));
        assert!(Icd10::normalise("L03.1").unwrap().starts_with(cellulitis));
        assert!(!Icd10::normalise("L081").unwrap().starts_with(cellulitis));
    }

    proptest! {
        #[test]
        fn normalise_is_idempotent_and_shaped(text in "[ ]?[A-Za-z][0-9]{2}(\\.)?([0-9Xx+*-][0-9DA+*-]{0,2})?[ ]?") {
            if let Ok(code) = Icd10::normalise(&text) {
                let s = code.as_str();
                prop_assert_eq!(s.len(), 4);
                let b = s.as_bytes();
                prop_assert!(b[0].is_ascii_uppercase());
                prop_assert!(b[1].is_ascii_digit() && b[2].is_ascii_digit());
                prop_assert!(b[3].is_ascii_digit() || b[3] == b'X');
                prop_assert_eq!(Icd10::normalise(s).unwrap(), code);
                prop_assert!(code.starts_with(code.three()));
            }
        }

        #[test]
        fn any_input_never_panics_and_output_is_idempotent(text in "\\PC{0,10}") {
            if let Ok(code) = Icd10::normalise(&text) {
                prop_assert_eq!(Icd10::normalise(code.as_str()).unwrap(), code);
                prop_assert!(code.as_str().bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            }
        }

        #[test]
        fn dot_and_case_do_not_matter(letter in "[A-Z]", digits in "[0-9]{3}") {
            let plain = Icd10::normalise(&format!("{letter}{digits}")).unwrap();
            let dotted = format!("{letter}{}.{}", &digits[..2], &digits[2..]).to_ascii_lowercase();
            prop_assert_eq!(Icd10::normalise(&dotted).unwrap(), plain);
            prop_assert_eq!(plain.as_str(), format!("{letter}{digits}"));
        }
    }
}
