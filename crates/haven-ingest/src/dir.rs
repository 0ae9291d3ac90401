//! `haven ingest --from DIR`: every file of a `haven synth` output folder (or
//! a DSCRO drop laid out the same way), in dependency order.
//!
//! Reference data first (minimisation needs it), then the opt-out clean
//! list (the pseudonymised zone needs it), then GP data, episodes before
//! critical-care periods (which are kept by their episode), and the
//! national extract last.

use std::path::{Path, PathBuf};

use haven_model::schema::Table;

use crate::error::IngestError;
use crate::feed::{Feed, Origin};

/// Order of local tables within a DSCRO drop.
const LOCAL_ORDER: [Table; 15] = [
    Table::OptoutCleanList,
    Table::GpPatient,
    Table::GpRegistration,
    Table::GpEvent,
    Table::GpMedication,
    Table::Death,
    Table::ApcEpisode,
    Table::CcPeriod,
    Table::OpAttendance,
    Table::EcdsAttendance,
    Table::AeAttendance,
    Table::MhsdsSummary,
    Table::InvoiceHeader,
    Table::InvoiceLine,
    Table::AcmTotal,
];

const REFERENCE_ORDER: [Table; 6] = [
    Table::Org,
    Table::LsoaLookup,
    Table::PostcodeLookup,
    Table::Population,
    Table::TariffApc,
    Table::Mff,
];

/// The loads a folder holds, in order, and the controller ICB it names.
#[derive(Debug)]
pub struct Plan {
    pub icb: Option<String>,
    pub files: Vec<(Feed, PathBuf)>,
}

/// Finds the files of a synth-style folder: `reference/`, `dscro/<ICB>/`,
/// `national/`, each holding `<table>.psv` (or `.csv`, `.parquet`).
pub fn plan(dir: &Path) -> Result<Plan, IngestError> {
    if !dir.is_dir() {
        return Err(IngestError::File { path: dir.to_owned(), reason: "is not a folder".into() });
    }
    let find = |folder: &Path, table: Table| -> Option<PathBuf> {
        ["psv", "csv", "parquet"]
            .iter()
            .map(|ext| folder.join(format!("{}.{ext}", table.name())))
            .find(|p| p.is_file())
    };
    let mut files = Vec::new();
    for t in REFERENCE_ORDER {
        if let Some(p) = find(&dir.join("reference"), t) {
            files.push((Feed { table: t, origin: Origin::Reference }, p));
        }
    }
    let mut icbs: Vec<PathBuf> = std::fs::read_dir(dir.join("dscro"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    icbs.sort();
    if icbs.len() > 1 {
        return Err(IngestError::File {
            path: dir.join("dscro"),
            reason: "holds more than one ICB's flows; ingest one ICB's folder at a time".into(),
        });
    }
    let icb = icbs.first().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
    if let Some(folder) = icbs.first() {
        for t in LOCAL_ORDER {
            if let Some(p) = find(folder, t) {
                files.push((Feed { table: t, origin: Origin::Local }, p));
            }
        }
    }
    for &t in Feed::national_tables().iter().filter(|t| **t != Table::CcPeriod).chain([Table::CcPeriod].iter()) {
        if let Some(p) = find(&dir.join("national"), t) {
            files.push((Feed { table: t, origin: Origin::National }, p));
        }
    }
    if files.is_empty() {
        return Err(IngestError::File {
            path: dir.to_owned(),
            reason: "holds no reference/, dscro/<ICB>/ or national/ files to load".into(),
        });
    }
    Ok(Plan { icb, files })
}
