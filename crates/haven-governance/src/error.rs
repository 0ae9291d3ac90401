//! The governance layer's error type.

/// Why a governance operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    /// A Data Sharing Agreement file is malformed or contradicts itself.
    #[error("DSA {file}: {reason}")]
    Dsa { file: String, reason: String },
    /// Processing was refused by policy; the reason says which rule.
    #[error("refused: {0}")]
    Refused(String),
    /// Sign-in was refused because the account is (or has just become)
    /// locked after repeated failures (`crate::lockout`).
    #[error("refused: {0}")]
    Locked(String),
    /// The audit log failed verification at an entry.
    #[error("audit log: {0}")]
    Audit(String),
    /// A user or role operation was invalid.
    #[error("user: {0}")]
    User(String),
    /// The zone store failed.
    #[error("store: {0}")]
    Store(#[from] haven_store::StoreError),
    /// The metadata database failed.
    #[error("metadata: {0}")]
    Db(#[from] rusqlite::Error),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
