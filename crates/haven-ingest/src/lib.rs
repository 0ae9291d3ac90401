//! The DSCRO stage (DESIGN.md §2): every byte that enters Haven comes through
//! here.
//!
//! [`ingest`] loads one file: it parses pipe-delimited, CSV or Parquet
//! extracts (including NHS Digital's artificial HES layout), validates every
//! row and quarantines the bad ones with line, field and reason, standardises
//! codes and dates, applies the national data opt-out for the purposes each
//! zone serves, minimises to the commissioner's population, pseudonymises
//! per zone with keyed tokens, and publishes the zones' Parquet files and a
//! lineage record in one atomic commit. [`dir::plan`] orders a whole folder.

pub mod dir;
mod error;
pub mod feed;
mod header;
pub mod keys;
mod pipeline;
pub mod policy;
pub mod publisher;
pub mod reference;
mod source;
pub mod spells;
mod validate;
mod zones;

pub use error::IngestError;
pub use feed::{Feed, Origin};
pub use keys::{Keys, ZoneKey};
pub use pipeline::{ingest, IngestReport, IngestRequest, Outcome, Progress};
pub use policy::{IngestPolicy, Minimisation, OptoutList};
pub use validate::{normalise_postcode, Action};
