//! The one error type of `haven-risk`.
//!
//! The scores themselves never fail: an unknown or malformed code simply
//! matches nothing, as in `haven_model::rules`. Errors arise only from
//! configuration the operator supplies, such as the eFI code-to-deficit map
//! ([`crate::efi::DeficitCodeMap`]). They name the file and line, never a
//! patient value (a code map holds none).

use std::path::PathBuf;

/// Everything that can go wrong in `haven-risk`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    /// The code-map file could not be read.
    #[error("cannot read the eFI code map {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The first line is not the documented header.
    #[error("eFI code map: the header must start `deficit_number,code`, found `{found}`")]
    Header { found: String },
    /// A line of the code map is not `deficit_number,code[,...]`.
    #[error("eFI code map line {line}: {reason}")]
    Line { line: usize, reason: MapLineFault },
}

/// Why one line of the eFI code map was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MapLineFault {
    #[error("deficit number `{0}` is not a whole number from 1 to 36")]
    NotADeficit(String),
    /// Deficit 26 comes from prescriptions ([`crate::polypharmacy`]), not codes.
    #[error("deficit 26 (polypharmacy) is derived from prescriptions, not mapped from codes")]
    PolypharmacyMapped,
    #[error("the code is empty")]
    EmptyCode,
}

pub type Result<T, E = RiskError> = std::result::Result<T, E>;
