//! The application layer's error type.

use haven_governance::GovernanceError;

/// Why a use case was refused or failed. Messages never carry a value from
/// a data row: they name users, agreements, outputs and rules only.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The operation × role × purpose table, or an agreement, refused it.
    #[error("refused: {0}")]
    Refused(String),
    /// No such thing (output, user, agreement, token).
    #[error("not found: {0}")]
    NotFound(String),
    /// The request itself is malformed.
    #[error("{0}")]
    Invalid(String),
    /// A governance rule refused or failed.
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] haven_store::StoreError),
}

impl AppError {
    /// Whether this is a refusal by policy (access, agreement, lock-out),
    /// as opposed to a missing thing or a failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self, AppError::Refused(_) | AppError::Governance(GovernanceError::Refused(_) | GovernanceError::Locked(_)))
    }

    /// Whether the account is locked (for the `session.lockout` entry).
    pub fn is_lockout(&self) -> bool {
        matches!(self, AppError::Governance(GovernanceError::Locked(_)))
    }
}
