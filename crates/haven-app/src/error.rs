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
    /// Too much is already queued; the same request may succeed later.
    #[error("busy: {0}")]
    Busy(String),
    /// A governance rule refused or failed.
    #[error(transparent)]
    Governance(#[from] GovernanceError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] haven_store::StoreError),
    /// An analysis failed.
    #[error(transparent)]
    Analytics(#[from] haven_analytics::AnalyticsError),
}

impl AppError {
    /// Whether this is a refusal by policy (access, agreement, lock-out),
    /// as opposed to a missing thing or a failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self, AppError::Refused(_) | AppError::Governance(GovernanceError::Refused(_) | GovernanceError::Locked(_)))
    }

    /// Why a read of patient data failed, in words fixed in this code: the
    /// audit log records this, never the error's own text (which may quote
    /// a query or a path).
    pub fn fixed_reason(&self) -> &'static str {
        use haven_analytics::AnalyticsError as A;
        use haven_store::StoreError as S;
        let store = |s: &S| match s {
            S::Io { .. } => "a file of the store could not be read or written",
            S::Catalog(_) => "the catalog failed",
            S::Parquet { .. } => "a Parquet file could not be written",
            S::Query(_) => "the query over the zone failed",
            S::Locked(_) => "the data directory was locked by a load",
            S::ZoneNotInScope { .. } => "a zone outside the grant was asked for",
            S::Inconsistent(_) => "the catalog is inconsistent with the files",
            #[allow(unreachable_patterns)] // other variants may come
            _ => "the store failed",
        };
        match self {
            AppError::Refused(_) | AppError::Governance(GovernanceError::Refused(_)) => "refused by governance",
            AppError::NotFound(_) => "not found",
            AppError::Invalid(_) => "the request was not valid",
            AppError::Busy(_) => "too many analyses were queued",
            AppError::Store(s) | AppError::Governance(GovernanceError::Store(s)) => store(s),
            AppError::Governance(_) => "a governance check failed",
            AppError::Analytics(A::Query { source, .. }) => store(source),
            AppError::Analytics(A::Unknown(_)) => "no such indicator or breakdown, or no data for it",
            AppError::Analytics(A::Shape { .. }) => "a query returned a shape the engine did not expect",
            AppError::Analytics(_) => "writing an output failed",
        }
    }

    /// Whether the account is locked (for the `session.lockout` entry).
    pub fn is_lockout(&self) -> bool {
        matches!(self, AppError::Governance(GovernanceError::Locked(_)))
    }
}
