//! The store's error type.

use std::path::PathBuf;

/// Anything that can go wrong in the data directory or its catalog.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed; `path` names what was being touched.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The catalog database refused an operation.
    #[error("catalog: {0}")]
    Catalog(#[from] rusqlite::Error),
    /// Writing Parquet failed.
    #[error("parquet {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// The query engine failed.
    #[error("query: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
    /// Another process holds the write lock.
    #[error("data directory {0} is locked by another load; try again when it finishes")]
    Locked(PathBuf),
    /// A zone outside the caller's scope was asked for.
    #[error("zone {zone} is not readable in this session (readable: {allowed})")]
    ZoneNotInScope { zone: String, allowed: String },
    /// A session was asked to run something other than a query (DDL, DML,
    /// `COPY` or a statement such as `SET`); the text names the kind of
    /// statement, never the query.
    #[error("only queries run in a zone session: {0}")]
    NotAQuery(String),
    /// The data directory is open to other users: it must be owner-only
    /// (mode 0700) so that only Haven's account can read the zones.
    #[error("data directory {path} has mode {mode:04o}; it must be owner-only (0700): run `chmod 700` on it")]
    OpenToOthers { path: PathBuf, mode: u32 },
    /// A catalog value was not what this version of Haven wrote.
    #[error("catalog is inconsistent: {0}")]
    Inconsistent(String),
}

impl StoreError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { op, path, source }
    }
}
