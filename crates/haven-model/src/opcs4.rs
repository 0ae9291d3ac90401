//! OPCS-4 procedure codes and the HES `OPERTN_4_nn` field.
//!
//! OPCS-4 (OPCS Classification of Interventions and Procedures) codes are a
//! chapter letter, two digits and usually a fourth digit (`W371`, `H22`).
//! HES writes them without a dot in `OPERTN_4_01..24`, and uses `-` for "no
//! operation" and `&` for "not known"; real extracts pad those with spaces or
//! tabs (`"-   "`, `"&\t "`). Procedure code lists (evidence-based
//! interventions, ambulatory-care exclusions, HRG checks) compare by prefix, so
//! codes are normalised here once for the generator, parsers and indicators.
//!
//! Source: `shared/reference/datasets.md` §1.4 (HES TOS `OPERTN_4_nn`: `-` no
//! operation, `&` not known) and §10.1 (`apc_episode` allowed values), from
//! the HES Technical Output Specification.
//!
//! Accepted input, after trimming and upper-casing: a letter, two digits, then
//! optionally one dot directly after them and a fourth character that is a
//! digit. A fourth `X` or `-` is read as filler for a three-character code and
//! dropped. Anything else is refused with a static reason; errors never repeat
//! the value.

use std::fmt;

use crate::error::ModelError;
use crate::icd10::prefix_matches;

/// A normalised OPCS-4 code of three or four characters.
///
/// Unused bytes are zero, so the derived ordering is that of the text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Opcs4 {
    bytes: [u8; 4],
    len: u8,
}

impl Opcs4 {
    /// Normalises a procedure code: `"w37.1"` → `W371`, `" H22 "` → `H22`.
    pub fn normalise(text: &str) -> Result<Opcs4, ModelError> {
        let fail = |reason| Err(ModelError::Opcs4(reason));
        let t = text.trim();
        if t.is_empty() {
            return fail("is empty");
        }
        let mut bytes = [0u8; 4];
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
            if n == 4 {
                return fail("is longer than four characters without its dot");
            }
            bytes[n] = c.to_ascii_uppercase();
            n += 1;
        }
        if n < 3 {
            return fail("is shorter than a three-character category");
        }
        if !bytes[0].is_ascii_uppercase() {
            return fail("does not start with a letter");
        }
        if !bytes[1].is_ascii_digit() || !bytes[2].is_ascii_digit() {
            return fail("second and third characters are not both digits");
        }
        if n == 4 {
            match bytes[3] {
                b'0'..=b'9' => {}
                b'X' | b'-' => {
                    bytes[3] = 0;
                    n = 3;
                }
                _ => return fail("fourth character is not a digit"),
            }
        }
        Ok(Opcs4 {
            bytes,
            len: n as u8,
        })
    }

    /// The code without a dot, three or four characters.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .expect("OPCS-4 codes are ASCII by construction")
    }

    /// The three-character category (HES `OPERTN_3_nn`), e.g. `W37`.
    pub fn three(&self) -> &str {
        &self.as_str()[..3]
    }

    /// Whether the code begins with `prefix`, ignoring case and dots.
    /// Alternatives may be separated by `|` or `;` (`"E201|E204"`); any match
    /// is enough, and empty alternatives match nothing.
    pub fn starts_with(&self, prefix: &str) -> bool {
        let code = self.as_str().as_bytes();
        prefix
            .split(['|', ';'])
            .any(|alt| prefix_matches(code, alt))
    }

    /// The chapter letter (`W` other bones and joints, `Y`/`Z` subsidiary
    /// method and site codes …).
    pub fn chapter(&self) -> char {
        char::from(self.bytes[0])
    }
}

impl fmt::Debug for Opcs4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Opcs4").field(&self.as_str()).finish()
    }
}

/// A HES `OPERTN_4_nn` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcedureField {
    /// `-`: no operation performed.
    NoOperation,
    /// `&`: not known.
    NotKnown,
    Code(Opcs4),
}

impl ProcedureField {
    /// Parses one procedure field after trimming whitespace (real files hold
    /// `"-   "` and `"&\t "`). An empty field is `Ok(None)`: the position is
    /// simply unused.
    pub fn parse(text: &str) -> Result<Option<ProcedureField>, ModelError> {
        match text.trim() {
            "" => Ok(None),
            "-" => Ok(Some(ProcedureField::NoOperation)),
            "&" => Ok(Some(ProcedureField::NotKnown)),
            t => Opcs4::normalise(t).map(|c| Some(ProcedureField::Code(c))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Normalised text, or the static reason.
    fn check(text: &str) -> Result<String, &'static str> {
        match Opcs4::normalise(text) {
            Ok(code) => Ok(code.as_str().to_owned()),
            Err(ModelError::Opcs4(reason)) => Err(reason),
            Err(other) => panic!("unexpected error variant {other:?}"),
        }
    }

    #[test]
    fn normal_forms() {
        assert_eq!(check("W371"), Ok("W371".to_owned()));
        assert_eq!(check("w37.1"), Ok("W371".to_owned()));
        assert_eq!(check(" H22 "), Ok("H22".to_owned()));
        assert_eq!(check("H22."), Ok("H22".to_owned()));
        assert_eq!(check("H22X"), Ok("H22".to_owned()));
        assert_eq!(check("H22-"), Ok("H22".to_owned()));
        // Seen in the artificial HES OP sample; it has the shape of a code.
        assert_eq!(check("X999"), Ok("X999".to_owned()));
    }

    #[test]
    fn refusals_have_static_reasons() {
        assert_eq!(check(""), Err("is empty"));
        // Values seen in the artificial HES OP sample.
        assert_eq!(check("0000"), Err("does not start with a letter"));
        assert_eq!(check("9998"), Err("does not start with a letter"));
        assert_eq!(
            check("1   "),
            Err("is shorter than a three-character category")
        );
        assert_eq!(
            check("AU00"),
            Err("second and third characters are not both digits")
        );
        assert_eq!(
            check("W3710"),
            Err("is longer than four characters without its dot")
        );
        assert_eq!(check("W37A"), Err("fourth character is not a digit"));
        assert_eq!(
            check("W3.71"),
            Err("has a dot that is not directly after the three-character category")
        );
        assert_eq!(check("W37..1"), Err("has more than one dot"));
        let msg = Opcs4::normalise("K40Z").unwrap_err().to_string();
        assert_eq!(msg, "invalid OPCS-4 code: fourth character is not a digit");
        assert!(!msg.contains("K40"));
    }

    #[test]
    fn accessors_and_ordering() {
        let c = Opcs4::normalise("w37.1").unwrap();
        assert_eq!(c.three(), "W37");
        assert_eq!(c.chapter(), 'W');
        assert_eq!(format!("{c:?}"), r#"Opcs4("W371")"#);
        let three = Opcs4::normalise("W37").unwrap();
        assert_eq!(three.three(), "W37");
        assert!(three < c);
        assert!(c < Opcs4::normalise("W38").unwrap());
        assert_ne!(three, c);
    }

    #[test]
    fn prefix_matching_for_code_lists() {
        let e201 = Opcs4::normalise("E20.1").unwrap();
        assert!(e201.starts_with("E20"));
        assert!(e201.starts_with("e20.1"));
        assert!(e201.starts_with("E201|E204|E208|E209"));
        assert!(!e201.starts_with("E204|E208"));
        assert!(!e201.starts_with("E2010"));
        assert!(!e201.starts_with(""));
        assert!(!e201.starts_with("D151|"));
        let w37 = Opcs4::normalise("W37").unwrap();
        assert!(!w37.starts_with("W371"));
    }

    #[test]
    fn hes_procedure_field() {
        assert_eq!(
            ProcedureField::parse("-   ").unwrap(),
            Some(ProcedureField::NoOperation)
        );
        assert_eq!(
            ProcedureField::parse("&\t ").unwrap(),
            Some(ProcedureField::NotKnown)
        );
        assert_eq!(ProcedureField::parse("").unwrap(), None);
        assert_eq!(ProcedureField::parse(" \t").unwrap(), None);
        assert_eq!(
            ProcedureField::parse("X352").unwrap(),
            Some(ProcedureField::Code(Opcs4::normalise("X352").unwrap()))
        );
        assert_eq!(
            ProcedureField::parse("--"),
            Err(ModelError::Opcs4(
                "is shorter than a three-character category"
            ))
        );
        assert_eq!(
            ProcedureField::parse("0009"),
            Err(ModelError::Opcs4("does not start with a letter"))
        );
    }

    proptest! {
        #[test]
        fn normalise_is_idempotent_and_shaped(text in "[ \t]?[A-Za-z][0-9]{2}(\\.)?[0-9Xx-]?[ \t]?") {
            let code = Opcs4::normalise(&text).unwrap();
            let s = code.as_str();
            prop_assert!(s.len() == 3 || s.len() == 4);
            prop_assert!(s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            prop_assert!(s.as_bytes()[0].is_ascii_uppercase());
            prop_assert!(s.bytes().skip(1).all(|b| b.is_ascii_digit()));
            prop_assert_eq!(Opcs4::normalise(s).unwrap(), code);
            prop_assert!(code.starts_with(code.three()));
        }

        #[test]
        fn any_input_never_panics_and_output_is_idempotent(text in "\\PC{0,8}") {
            if let Ok(Some(ProcedureField::Code(code))) = ProcedureField::parse(&text) {
                prop_assert_eq!(Opcs4::normalise(code.as_str()).unwrap(), code);
            }
        }

        #[test]
        fn ordering_matches_text_ordering(a in "[A-Z][0-9]{2,3}", b in "[A-Z][0-9]{2,3}") {
            let (ca, cb) = (Opcs4::normalise(&a).unwrap(), Opcs4::normalise(&b).unwrap());
            prop_assert_eq!(ca.cmp(&cb), a.cmp(&b));
        }
    }
}
