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
