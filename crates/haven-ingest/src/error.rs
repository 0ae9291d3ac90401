//! The DSCRO stage's error type. Errors about a file name the file and, where
//! there is one, the line and field — never a patient's values.

use std::path::PathBuf;

/// Why a load could not run or finish. A row-level fault is not an error: the
/// row is quarantined and the load goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The dataset name is not one Haven knows.
    #[error("unknown dataset {0:?}; expected a table name such as apc_episode, or national.<table> for the national extract (see `haven ingest --help`)")]
    UnknownDataset(String),
    /// Reading the source failed.
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing a load's own files failed (disk full, permissions).
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file as a whole cannot be loaded.
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    /// A line of the file cannot be parsed at all (e.g. an unclosed quote).
    #[error("{path}, line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// The file changed or disappeared while it was being read.
    #[error("{path}: the file changed or disappeared while it was being read; nothing was loaded")]
    SourceChanged { path: PathBuf },
    /// Something the load needs is not in the data directory yet.
    #[error("{0}")]
    Prerequisite(String),
    /// A pseudonymisation key is missing or unreadable.
    #[error("key for zone {zone}: {reason}")]
    Key { zone: String, reason: String },
    /// The key folder holds another key than the one a zone's data was
    /// loaded under: tokens would not link (rotate explicitly instead).
    #[error("zone {zone} was loaded under key id {recorded}; the key folder holds key id {found}. Tokens made under different keys do not link: restore the key, or rotate only an empty zone with `haven keys rotate`")]
    KeyChanged { zone: String, recorded: String, found: String },
    /// The store failed (disk full, permissions, catalog).
    #[error(transparent)]
    Store(#[from] haven_store::StoreError),
    /// Arrow refused a batch (a bug if it happens).
    #[error("building columns: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Reading a Parquet source failed.
    #[error("{path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
}
