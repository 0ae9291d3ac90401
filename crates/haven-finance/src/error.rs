//! The one error type of invoice validation.

use haven_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum FinanceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A dataset validation needs is not in the session's zones (never
    /// loaded, or not opened for this grant).
    #[error("invoice validation needs {0}, which is not loaded in the CEfF zone (or not opened for this agreement)")]
    Missing(String),
    /// A column of an input has a type validation cannot read (a store
    /// written by another version).
    #[error("{dataset}.{column} is not in the shape invoice validation reads")]
    Shape { dataset: String, column: String },
    #[error("invalid setting: {0}")]
    Setting(String),
    /// A request the log refuses (no such challenge, a move the process
    /// does not allow).
    #[error("{0}")]
    Invalid(String),
    /// The challenge log's database failed.
    #[error("the challenge log failed: {0}")]
    Log(String),
}
