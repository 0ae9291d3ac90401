//! Reference files as their publishers ship them, turned into Haven's
//! canonical reference tables (`org`, `lsoa_lookup`, datasets.md §10.10) so
//! that validation, minimisation and "Who Pays?" read real organisations and
//! deprivation exactly as they read the synthetic tables.
//!
//! Layouts (column numbers from 1):
//!
//! - **NHS England ODS** `epraccur` (GP practices), `etr` (NHS trusts), `ets`
//!   (trust sites) and `eccg` (sub-ICB locations: the file kept the CCG name
//!   when CCGs became sub-ICB locations in July 2022): headerless CSV, 27
//!   quoted columns, dates `YYYYMMDD`, empty = null. 1 Organisation Code,
//!   2 Name, 3 National Grouping, 4 High Level Health Geography (the ICB
//!   since July 2022), 10 Postcode, 11 Open Date, 12 Close Date; `epraccur`
//!   13 Status, 15 Commissioner (the sub-ICB), 24 Provider/Purchaser,
//!   26 Prescribing Setting (`4` GP practice in the legacy files, role
//!   `RO76` since the ODS Data Search and Export API replaced them in late
//!   2025); `ets` 15 Parent Organisation Code (the trust). Sources: the ODS
//!   data downloads' column PDFs as quoted by nhsconnect
//!   `prm-gp-registrations-mi-infra` `utils/ods_files.py`, ebmdatalab
//!   `open-nhs-hospital-use-data` `scripts/get_data.R`, and ODS's "Mapping
//!   Table – Legacy Prescribing Setting to Non Primary Role ID (Field 26)".
//!   No ODS CSV lists ICBs; their codes are `eccg` column 4, so ICB rows are
//!   made from it (parent: column 3, the NHS England region), open from
//!   1 July 2022 (Health and Care Act 2022), with no name. Rows with
//!   grouping `Y99` or geography `Q99` (ODS's unknown placeholders) are
//!   left out, as OpenPrescribing's importer does.
//! - **English Indices of Deprivation 2019** (MHCLG), File 7 (CSV, all
//!   ranks, deciles and scores) or File 1 saved as CSV: header row; the
//!   columns read are `LSOA code (2011)`, `Local Authority District code
//!   (2019)`, `Index of Multiple Deprivation (IMD) Rank (where 1 is most
//!   deprived)` and `Index of Multiple Deprivation (IMD) Decile (where 1 is
//!   most deprived 10% of LSOAs)` (File 1: `... (IMD) Rank`, `... (IMD)
//!   Decile`). Headers are trimmed (File 7's last header ends in a space)
//!   and a byte-order mark is dropped. IoD2019 is published on 2011 LSOAs:
//!   each row is keyed on its code as both LSOA11 and LSOA21, which is right
//!   for the LSOAs the 2021 revision left unchanged (ONS kept their codes)
//!   and matches nothing for split or merged ones (ONS gave those new
//!   codes), so they stay without a decile rather than take a wrong one.
//!
//! Each publication is loaded under its publication date: the converted
//! file is named `<layout>-<date>.csv` inside the data directory, a newer
//! publication of a layout supersedes the loads of the older ones, and an
//! older one than is loaded is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use haven_model::schema::Table;
use haven_model::Date;
use haven_store::{Store, Zone};
use serde::Serialize;

use crate::error::IngestError;
use crate::{Feed, IngestPolicy, IngestRequest, Origin};

/// A publisher's file layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Layout {
    OdsPractices,
    OdsTrusts,
    OdsSites,
    OdsSubIcbs,
    Iod2019,
}

impl Layout {
    pub const ALL: [Layout; 5] = [Layout::OdsPractices, Layout::OdsTrusts, Layout::OdsSites, Layout::OdsSubIcbs, Layout::Iod2019];

    /// The name `haven ingest --dataset` takes.
    pub fn name(self) -> &'static str {
        match self {
            Layout::OdsPractices => "ods.epraccur",
            Layout::OdsTrusts => "ods.etr",
            Layout::OdsSites => "ods.ets",
            Layout::OdsSubIcbs => "ods.eccg",
            Layout::Iod2019 => "iod2019",
        }
    }

    pub fn parse(name: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The canonical table it fills.
    pub fn table(self) -> Table {
        match self {
            Layout::Iod2019 => Table::LsoaLookup,
            _ => Table::Org,
        }
    }

    fn file_stem(self) -> String {
        self.name().replace('.', "-")
    }
}

/// A publisher's file turned into a canonical CSV.
#[derive(Clone, Debug, Serialize)]
pub struct Converted {
    pub layout: Layout,
    pub published: String,
    /// The canonical file, inside the data directory.
    pub path: PathBuf,
    /// SHA-256 of the publisher's file as given.
    pub source_sha256: String,
    pub rows: u64,
    /// Rows left out, by reason (never a value from the file).
    pub skipped: BTreeMap<String, u64>,
}

/// Where converted files live.
pub fn folder(store: &Store) -> PathBuf {
    store.root().join("reference-sources")
}

/// Converts `input` (a `layout` file published on `published`) into the
/// canonical table's CSV under `out_dir`.
pub fn convert(layout: Layout, input: &Path, published: Date, out_dir: &Path) -> Result<Converted, IngestError> {
    let (source_sha256, _) = crate::source::hash_file(input)?;
    let bytes = std::fs::read(input).map_err(|source| IngestError::Read { path: input.to_owned(), source })?;
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
        .map_err(|_| IngestError::File { path: input.to_owned(), reason: "is not UTF-8 text".into() })?;
    let mut skipped = BTreeMap::new();
    let rows = match layout {
        Layout::Iod2019 => iod_rows(input, text, &mut skipped)?,
        _ => ods_rows(layout, input, text, &mut skipped)?,
    };
    std::fs::create_dir_all(out_dir).map_err(|source| IngestError::Write { path: out_dir.to_owned(), source })?;
    let path = out_dir.join(format!("{}-{published}.csv", layout.file_stem()));
    let header: Vec<String> = layout.table().schema().fields().iter().map(|f| f.name().clone()).collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let write_err = |e: csv::Error| IngestError::Write { path: path.clone(), source: std::io::Error::other(e) };
    out.write_record(&header).map_err(write_err)?;
    for row in &rows {
        out.write_record(header.iter().map(|h| row.get(h.as_str()).map_or("", String::as_str))).map_err(write_err)?;
    }
    let data = out.into_inner().map_err(|e| IngestError::Write { path: path.clone(), source: std::io::Error::other(e.to_string()) })?;
    let mut f = std::fs::File::create(&path).map_err(|source| IngestError::Write { path: path.clone(), source })?;
    f.write_all(&data).map_err(|source| IngestError::Write { path: path.clone(), source })?;
    Ok(Converted { layout, published: published.to_string(), path, source_sha256, rows: rows.len() as u64, skipped })
}

type Row = BTreeMap<&'static str, String>;

/// The load of one publication: converts `file` into the data directory
/// and asks for a load of the canonical table that supersedes the earlier
/// publications of `layout` (also when the content did not change, so the
/// lineage names the newest publication). Refuses an older publication
/// than one loaded.
pub fn request(
    store: &Store,
    layout: Layout,
    file: &Path,
    published: Date,
    policy: IngestPolicy,
    keys_dir: &Path,
) -> Result<(IngestRequest, Converted), IngestError> {
    let older = superseded(store, layout, published)?;
    let converted = convert(layout, file, published, &folder(store))?;
    let feed = Feed { table: layout.table(), origin: Origin::Reference };
    let mut req = IngestRequest::new(feed, &converted.path, policy, keys_dir);
    req.replace = !older.is_empty();
    req.supersedes = older;
    Ok((req, converted))
}

/// The loads of `layout`'s earlier publications that a load of `published`
/// supersedes; refuses a publication older than one already loaded.
pub fn superseded(store: &Store, layout: Layout, published: Date) -> Result<Vec<String>, IngestError> {
    let prefix = format!("{}-", layout.file_stem());
    let mut older = Vec::new();
    for load in store.dataset_loads(Zone::Reference, layout.table().name())? {
        let Some(date) = Path::new(&load.source_path)
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.strip_prefix(&prefix))
            .and_then(|d| Date::parse(d).ok())
        else {
            continue;
        };
        if date > published {
            return Err(IngestError::Prerequisite(format!(
                "{} published {date} is already loaded; refusing the older publication of {published}",
                layout.name()
            )));
        }
        if date < published {
            older.push(load.id);
        }
    }
    Ok(older)
}

/// One column of an ODS row (1-based), trimmed; empty is `None`.
fn col(rec: &csv::StringRecord, n: usize) -> Option<&str> {
    rec.get(n - 1).map(str::trim).filter(|v| !v.is_empty())
}

fn ods_date(v: Option<&str>) -> Result<Option<String>, ()> {
    let Some(v) = v else { return Ok(None) };
    if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let iso = format!("{}-{}-{}", &v[..4], &v[4..6], &v[6..]);
    Date::parse(&iso).map(|_| Some(iso)).map_err(|_| ())
}

fn is_code(v: &str) -> bool {
    (3..=9).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether an `epraccur` row is a GP practice: legacy prescribing setting
/// `4`, or role `RO76` (possibly one of several, `RO76|RO87`).
fn is_gp_practice(setting: Option<&str>) -> bool {
    setting.is_some_and(|s| s == "4" || s.split('|').any(|r| r.trim() == "RO76"))
}

fn ods_rows(layout: Layout, path: &Path, text: &str, skipped: &mut BTreeMap<String, u64>) -> Result<Vec<Row>, IngestError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut icbs: BTreeMap<String, String> = BTreeMap::new();
    let mut skip = |reason: &str| *skipped.entry(reason.to_owned()).or_insert(0) += 1;
    for (i, rec) in reader.records().enumerate() {
        let line = i as u64 + 1;
        let rec = rec.map_err(|e| IngestError::Line { path: path.to_owned(), line, reason: format!("not CSV ({})", csv_reason(&e)) })?;
        let needed = if layout == Layout::OdsPractices { 26 } else { 15 };
        if rec.len() < needed {
            return Err(IngestError::Line {
                path: path.to_owned(),
                line,
                reason: format!("has {} fields; the ODS {} layout has 27 (is this the right file?)", rec.len(), layout.name()),
            });
        }
        let Some(code) = col(&rec, 1).filter(|c| is_code(c)) else {
            if line == 1 {
                return Err(IngestError::File {
                    path: path.to_owned(),
                    reason: "the first field of line 1 is not an organisation code: ODS files have no header row (is this the right file?)".into(),
                });
            }
            skip("organisation code missing or not an ODS code");
            continue;
        };
        if col(&rec, 3) == Some("Y99") || col(&rec, 4) == Some("Q99") {
            skip("ODS placeholder grouping Y99 or geography Q99");
            continue;
        }
        let (Ok(Some(open)), Ok(close)) = (ods_date(col(&rec, 11)), ods_date(col(&rec, 12))) else {
            skip("open date missing or not YYYYMMDD, or close date not YYYYMMDD");
            continue;
        };
        let mut row = Row::new();
        row.insert("ORG_CODE", code.to_ascii_uppercase());
        row.insert("OPEN_DATE", open);
        if let Some(c) = close {
            row.insert("CLOSE_DATE", c);
        }
        for (field, n, max) in [("NAME", 2, 200), ("POSTCODE", 10, 8)] {
            if let Some(v) = col(&rec, n).filter(|v| v.chars().count() <= max) {
                row.insert(field, v.to_owned());
            }
        }
        let geography = col(&rec, 4).filter(|g| g.len() == 3 && g.starts_with('Q') && is_code(g)).map(str::to_owned);
        let (kind, parent) = match layout {
            Layout::OdsPractices => {
                if !is_gp_practice(col(&rec, 26)) {
                    skip("not a GP practice (prescribing setting other than 4 / RO76)");
                    continue;
                }
                ("GP_PRACTICE", col(&rec, 15).or_else(|| col(&rec, 24)).filter(|c| is_code(c)).map(str::to_owned))
            }
            Layout::OdsTrusts => {
                if let Some(g) = &geography {
                    row.insert("HOST_ICB", g.clone());
                }
                ("TRUST", None)
            }
            Layout::OdsSites => ("SITE", col(&rec, 15).filter(|c| is_code(c)).map(str::to_owned)),
            Layout::OdsSubIcbs => {
                if let Some(g) = &geography {
                    icbs.entry(g.clone()).or_insert_with(|| col(&rec, 3).filter(|c| is_code(c)).unwrap_or("").to_owned());
                }
                ("SUB_ICB", geography.clone())
            }
            Layout::Iod2019 => unreachable!("not an ODS layout"),
        };
        row.insert("ORG_TYPE", kind.to_owned());
        if let Some(p) = parent {
            row.insert("PARENT_CODE", p.to_ascii_uppercase());
        }
        rows.push(row);
    }
    // ICBs were established on 1 July 2022 (Health and Care Act 2022).
    for (icb, region) in icbs {
        let mut row = Row::from([("ORG_CODE", icb), ("ORG_TYPE", "ICB".to_owned()), ("OPEN_DATE", "2022-07-01".to_owned())]);
        if !region.is_empty() {
            row.insert("PARENT_CODE", region);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// IoD2019 column headers (File 7's long form first, then File 1's).
const IOD_LSOA: &str = "LSOA code (2011)";
const IOD_LAD: &str = "Local Authority District code (2019)";
const IOD_RANK: [&str; 2] = ["Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)", "Index of Multiple Deprivation (IMD) Rank"];
const IOD_DECILE: [&str; 2] =
    ["Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)", "Index of Multiple Deprivation (IMD) Decile"];

fn iod_rows(path: &Path, text: &str, skipped: &mut BTreeMap<String, u64>) -> Result<Vec<Row>, IngestError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| IngestError::File { path: path.to_owned(), reason: format!("not CSV ({})", csv_reason(&e)) })?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let find = |names: &[&str]| names.iter().find_map(|n| headers.iter().position(|h| h == n));
    let (Some(lsoa), Some(decile)) = (find(&[IOD_LSOA]), find(&IOD_DECILE)) else {
        return Err(IngestError::File {
            path: path.to_owned(),
            reason: format!("has no {IOD_LSOA:?} and IMD decile columns: expected IoD2019 File 7 (or File 1 saved as CSV)"),
        });
    };
    let (lad, rank) = (find(&[IOD_LAD]), find(&IOD_RANK));
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    let mut skip = |reason: &str| *skipped.entry(reason.to_owned()).or_insert(0) += 1;
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| IngestError::Line { path: path.to_owned(), line: i as u64 + 2, reason: format!("not CSV ({})", csv_reason(&e)) })?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).map(str::trim).filter(|v| !v.is_empty());
        let Some(code) = get(Some(lsoa)).filter(|c| c.len() == 9 && c.starts_with("E01") && c[3..].bytes().all(|b| b.is_ascii_digit())) else {
            skip("LSOA code missing or not an English 2011 LSOA (E01 and six digits)");
            continue;
        };
        let Some(d) = get(Some(decile)).and_then(|d| d.parse::<i32>().ok()).filter(|d| (1..=10).contains(d)) else {
            skip("IMD decile missing or not 1 to 10");
            continue;
        };
        if !seen.insert(code.to_owned()) {
            skip("LSOA listed twice (the first row is kept)");
            continue;
        }
        let mut row = Row::from([("LSOA21", code.to_owned()), ("LSOA11", code.to_owned()), ("IMD_DECILE", d.to_string())]);
        if let Some(l) = get(lad).filter(|l| l.len() == 9) {
            row.insert("LAD_ONS", l.to_owned());
        }
        if let Some(r) = get(rank).and_then(|r| r.replace(',', "").parse::<i32>().ok()).filter(|r| *r >= 1) {
            row.insert("IMD_RANK", r.to_string());
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A CSV error's kind, without the record it quotes.
fn csv_reason(e: &csv::Error) -> &'static str {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "rows of unequal length",
        csv::ErrorKind::Io(_) => "read error",
        _ => "malformed CSV",
    }
}
