//! The one error type of `haven-risk`.
//!
//! The scores themselves never fail: an unknown or malformed code simply
//! matches nothing, as in `haven_model::rules`. Errors arise only from
//! configuration the operator supplies, the code maps (the eFI
//! code-to-deficit map, [`crate::efi::DeficitCodeMap`], and the GP
//! code-to-condition map, [`crate::gp_conditions::ConditionCodeMap`]), and from the emergency-admission model
//! ([`crate::model`]): a feature matrix of the wrong shape, or a statistic
//! that cannot be computed; and from reading a zone session
//! ([`crate::read`]): the store or query engine failing, a dataset the
//! grant did not open, or a column of the wrong shape. They name the file
//! and line, the dataset or the column, never a patient value.

use std::path::PathBuf;

/// Everything that can go wrong in `haven-risk`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    /// A code-map file could not be read.
    #[error("cannot read the {map} {path}: {source}")]
    Read {
        map: CodeMapKind,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The first line is not the documented header.
    #[error("{map}: the header must start `{}`, found `{found}`", map.header())]
    Header { map: CodeMapKind, found: String },
    /// A line of a code map is not `key,code[,...]`.
    #[error("{map} line {line}: {reason}")]
    Line { map: CodeMapKind, line: usize, reason: MapLineFault },
    /// The model's feature matrix or a score vector is malformed.
    #[error("model features: {0}")]
    Features(FeatureFault),
    /// A fit or a metric could not be computed from its inputs.
    #[error("model {what}: {source}")]
    Stats {
        /// The fit or metric that failed.
        what: &'static str,
        #[source]
        source: haven_stats::StatsError,
    },
    /// The store or its query engine failed while reading a zone session.
    #[error("reading the zone session: {0}")]
    Store(#[from] haven_store::StoreError),
    /// A dataset the read needs is not open in the session (not loaded,
    /// or not admitted by the grant's agreement and purpose).
    #[error("{0} is not open in this session (not loaded, or not linkable under the agreement for this purpose)")]
    Missing(String),
    /// A column is missing or cannot be read as the type the reader needs.
    #[error("{dataset}: column {column} is missing or of the wrong type")]
    Shape { dataset: String, column: String },
    /// A request the reader refuses (its reason names no data value).
    #[error("{0}")]
    Invalid(String),
}

/// Why a feature matrix or score vector was refused (column names only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureFault {
    #[error("a model needs at least one feature column")]
    NoColumns,
    #[error("the values do not fill rows × columns (one row per outcome)")]
    Shape,
    #[error("column `{0}` appears twice")]
    DuplicateColumn(String),
    #[error("no column named `{0}`")]
    UnknownColumn(String),
    #[error("column `{0}` holds a value that is not finite")]
    NotFinite(String),
    #[error("no training rows")]
    NoTrainingRows,
    #[error("a row index is beyond the matrix")]
    RowOutOfRange,
    #[error("score `{0}` does not have one value per held-out row")]
    ScoreLength(String),
    #[error("the admission counts do not have one value per held-out row")]
    AdmissionsLength,
}

/// Which operator code map an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeMapKind {
    /// GP code → eFI deficit ([`crate::efi::DeficitCodeMap`]).
    Efi,
    /// GP code → long-term condition ([`crate::gp_conditions::ConditionCodeMap`]).
    GpConditions,
}

impl CodeMapKind {
    /// The header's first two columns.
    pub fn header(self) -> &'static str {
        match self {
            CodeMapKind::Efi => "deficit_number,code",
            CodeMapKind::GpConditions => "condition,code",
        }
    }
}

impl std::fmt::Display for CodeMapKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CodeMapKind::Efi => "eFI code map",
            CodeMapKind::GpConditions => "GP condition code map",
        })
    }
}

/// Why one line of a code map was refused.
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
    /// Not one of [`crate::gp_conditions::GpCondition`]'s names.
    #[error("`{0}` is not a GP condition's name (see haven_risk::gp_conditions)")]
    NotACondition(String),
}

pub type Result<T, E = RiskError> = std::result::Result<T, E>;
