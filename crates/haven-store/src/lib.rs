//! Haven's data directory: segregated zones of Parquet datasets, the catalog
//! that says which files are visible, atomic publication of loads, and
//! zone-scoped DataFusion sessions.
//!
//! Layout of a data directory (see ARCHITECTURE.md):
//!
//! ```text
//! <root>/catalog.sqlite                 metadata: loads, files, lineage, data quality, key ids
//! <root>/zones/<zone>/<dataset>/<load>/ part-NNNNN.parquet, one folder per committed load
//! <root>/quarantine/<load>.csv          rejected rows: file, line, field, reason (no values)
//! <root>/tmp/<load>/                    a load being written; never read, removed on open
//! <root>/.lock                          held by a writer for the whole of a load
//! ```
//!
//! A file is visible only once the catalog lists it, and the catalog changes
//! in one SQLite transaction after the files are in place, so a load appears
//! all at once or not at all; whatever a killed load left behind is not in
//! the catalog and is removed by the next [`Store::open_for_write`].

mod catalog;
mod derived;
mod error;
// Test-only: compiled only with the `fault-injection` feature, which only
// dev-dependencies enable (xtask tidy checks both).
#[cfg(feature = "fault-injection")]
mod fault;
mod load;
mod session;
mod zone;

pub use catalog::{
    Catalog, DqRow, FileRecord, LoadRecord, LoadStatus, SqliteCatalog, ZoneCounts,
};
pub use derived::{derived_from, derived_source};
pub use error::StoreError;
pub use load::{hex, private_data_dir, LoadTxn, PartWriter, Store, WriteLock};
pub use session::{ReadGrant, ZoneScope, ZoneSession};
pub use zone::Zone;

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn timestamp_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_timestamp(secs)
}

/// Formats seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_timestamp(secs: u64) -> String {
    let date = haven_model::Date::from_days((secs / 86_400) as i32);
    let (y, m, d) = date.ymd();
    let s = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}
