//! The analytics layer's error type.

/// Why an indicator could not be computed or published.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// No indicator or breakdown of that name.
    #[error("{0}")]
    Unknown(String),
    /// The query over the zones failed.
    #[error("query for {indicator}: {source}")]
    Query {
        indicator: String,
        #[source]
        source: haven_store::StoreError,
    },
    /// A query returned a shape the engine did not expect.
    #[error("indicator {indicator}: {reason}")]
    Shape { indicator: String, reason: String },
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The held output refused a file, or could not store it.
    #[error("output: {0}")]
    Output(#[from] haven_governance::GovernanceError),
}
