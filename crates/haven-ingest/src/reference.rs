//! "Who Pays?" lookups over the reference zone: `haven_model::rules::OrgLookup`
//! implemented on the loaded `org` and `lsoa_lookup` tables, whether they came
//! from the synthetic generator or from the publishers' files
//! (`crate::publisher`), so the responsible-commissioner rule
//! (`haven_model::rules::responsible_commissioner`, datasets.md §6.2/§11.7)
//! runs on real organisations as on synthetic ones.

use arrow::array::{Array, Date32Array, StringArray};
use haven_model::rules::{OrgRow, OrgTable};
use haven_model::Date;
use haven_store::{Store, Zone};

use crate::error::IngestError;

/// "Who Pays?" lookups over the reference zone (the index itself is
/// `haven_model::rules::OrgTable`, shared with invoice validation).
pub type ReferenceOrgs = OrgTable;

fn strings(b: &arrow::record_batch::RecordBatch, name: &str) -> Option<StringArray> {
    b.column_by_name(name)?.as_any().downcast_ref::<StringArray>().cloned()
}

fn dates(b: &arrow::record_batch::RecordBatch, name: &str) -> Option<Date32Array> {
    b.column_by_name(name)?.as_any().downcast_ref::<Date32Array>().cloned()
}

/// Reads the reference zone's `org` and `lsoa_lookup` rows into the
/// lookup "Who Pays?" runs on.
pub fn load(store: &Store) -> Result<OrgTable, IngestError> {
    let mut rows = Vec::new();
    let cols = ["ORG_CODE", "ORG_TYPE", "PARENT_CODE", "OPEN_DATE", "CLOSE_DATE", "HOST_ICB"];
    store.scan(Zone::Reference, "org", &cols, |b| {
        let (code, kind, parent, host) = (strings(b, "ORG_CODE"), strings(b, "ORG_TYPE"), strings(b, "PARENT_CODE"), strings(b, "HOST_ICB"));
        let (open, close) = (dates(b, "OPEN_DATE"), dates(b, "CLOSE_DATE"));
        let text = |a: &Option<StringArray>, i: usize| a.as_ref().filter(|a| a.is_valid(i)).map(|a| a.value(i).to_owned());
        let date = |a: &Option<Date32Array>, i: usize| a.as_ref().filter(|a| a.is_valid(i)).map(|a| Date::from_days(a.value(i)));
        for i in 0..b.num_rows() {
            let (Some(code), Some(kind)) = (text(&code, i), text(&kind, i)) else { continue };
            let parent = text(&parent, i).unwrap_or_default();
            rows.push(OrgRow { code, kind, parent, open: date(&open, i), close: date(&close, i), host: text(&host, i) });
        }
        Ok(())
    })?;
    let mut lsoas = Vec::new();
    store.scan(Zone::Reference, "lsoa_lookup", &["LSOA21", "SUB_ICB"], |b| {
        let (lsoa, sub) = (strings(b, "LSOA21"), strings(b, "SUB_ICB"));
        for i in 0..b.num_rows() {
            if let (Some(l), Some(s)) = (lsoa.as_ref().filter(|a| a.is_valid(i)), sub.as_ref().filter(|a| a.is_valid(i))) {
                lsoas.push((l.value(i).to_owned(), s.value(i).to_owned()));
            }
        }
        Ok(())
    })?;
    Ok(OrgTable::build(rows, lsoas))
}
