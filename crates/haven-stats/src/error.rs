//! The one error type of `haven-stats`.
//!
//! Every variant names the *kind* of input that was wrong (which argument,
//! which rule), never the value itself: indicator inputs can be small counts
//! that are disclosive on their own (STYLE.md §9).

use thiserror::Error;

/// Why a statistic could not be computed from its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatsError {
    /// A confidence level was not in (0, 1] (proportion) or (1, 100]
    /// (percentage).
    #[error("confidence level must be in (0, 1] or (1, 100]")]
    Confidence,
    /// A tail probability was not strictly between 0 and 1.
    #[error("{what} must be a probability strictly between 0 and 1")]
    Probability {
        /// The argument at fault.
        what: &'static str,
    },
    /// An argument was NaN or infinite.
    #[error("{what} must be finite")]
    NotFinite {
        /// The argument at fault.
        what: &'static str,
    },
    /// An argument that must be strictly positive was zero or negative.
    #[error("{what} must be greater than zero")]
    NotPositive {
        /// The argument at fault.
        what: &'static str,
    },
    /// An argument that must be zero or more was negative.
    #[error("{what} must not be negative")]
    Negative {
        /// The argument at fault.
        what: &'static str,
    },
    /// A numerator exceeded its denominator in a proportion.
    #[error("numerator must not exceed denominator")]
    NumeratorExceedsDenominator,
    /// Parallel per-band or per-unit inputs had different lengths.
    #[error("{what} have different lengths")]
    LengthMismatch {
        /// The inputs at fault.
        what: &'static str,
    },
    /// Too few observations (bands, quantiles, points, units) were given.
    #[error("{what} needs at least {needed} values")]
    TooFew {
        /// The calculation that needs more input.
        what: &'static str,
        /// The minimum number of values accepted.
        needed: usize,
    },
    /// A value lies outside the domain of its transformation (for example
    /// a proportion of exactly 0 or 1 on the logit scale).
    #[error("{what} is outside the domain of its scale")]
    OutOfDomain {
        /// The argument at fault.
        what: &'static str,
    },
    /// The SII simulation was asked for fewer than 1,000 repetitions
    /// (PHEindicatormethods `phe_sii` refuses the same).
    #[error("at least 1000 simulation repetitions are required")]
    TooFewRepetitions,
    /// `fix_after_n_points` was below 12 (NHSRplotthedots validation).
    #[error("fix_after_n_points must be at least 12")]
    FixAfterTooSmall,
    /// A result is undefined for these inputs (for example a regression
    /// whose design matrix is singular).
    #[error("{what} is undefined for these inputs")]
    Undefined {
        /// The quantity that could not be computed.
        what: &'static str,
    },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, StatsError>;
