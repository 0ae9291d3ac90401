//! The one error type of `haven-model`.
//!
//! Variants say *what* is wrong with a value, never the value itself: these
//! errors end up in quarantine files and logs, where a patient's NHS number,
//! date of birth or diagnosis must not appear (DESIGN.md §2, STYLE.md §9).

use thiserror::Error;

/// Why a value failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// An NHS number was not ten digits, failed modulus 11, or is a pattern
    /// HES treats as invalid (datasets.md §8.1).
    #[error("invalid NHS number: {0}")]
    NhsNumber(NhsNumberFault),
    /// An ODS organisation code does not have the shape of its kind.
    #[error("invalid {kind} code: {reason}")]
    OdsCode { kind: &'static str, reason: &'static str },
    /// An ICD-10 code could not be normalised.
    #[error("invalid ICD-10 code: {0}")]
    Icd10(&'static str),
    /// An OPCS-4 code could not be normalised.
    #[error("invalid OPCS-4 code: {0}")]
    Opcs4(&'static str),
    /// A date did not parse or is out of range.
    #[error("invalid date: {0}")]
    Date(&'static str),
    /// An age value is neither 0–120 years nor a HES infant code 7001–7007.
    #[error("invalid age code: {0}")]
    Age(&'static str),
    /// A code is not in the closed list of allowed values for its field.
    #[error("value not in the allowed code list of {field}")]
    NotInCodeList { field: &'static str },
}

/// The specific way an NHS number is wrong; kept separate so tests and
/// data-quality reports can count each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NhsNumberFault {
    #[error("not ten digits")]
    Length,
    #[error("contains a character that is not a digit")]
    NonDigit,
    #[error("check digit would be 10 (never issued)")]
    CheckDigitTen,
    #[error("check digit does not match")]
    CheckDigitMismatch,
    #[error("all ten digits are the same")]
    AllIdentical,
    #[error("is a known dummy number")]
    Dummy,
}
