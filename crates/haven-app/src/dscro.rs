//! The DSCRO stage as people see it (issue 16 §3): data quality by load and
//! provider — completeness and validity per field, in the spirit of NHS
//! England's Data Quality Maturity Index — and each load's quarantine: how
//! many rows were set aside, by field and reason, and where (file and
//! line). The quarantine file holds locations and reasons only, never a
//! value (`haven_ingest`'s writer), so nothing here can show one.

use haven_store::{DqRow, LoadRecord, LoadStatus, Store};

use crate::{App, AppError};

/// One provider's data quality in one load.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ProviderQuality {
    pub provider: String,
    /// Rows seen from the provider.
    pub rows: u64,
    /// Filled cells over all cells of the checked fields.
    pub completeness: Option<f64>,
    /// Valid cells over filled cells.
    pub validity: Option<f64>,
    /// Up to three fields with the lowest validity below 100%: (field, validity).
    pub weakest: Vec<(String, f64)>,
}

/// One committed load's data quality, by provider.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadQuality {
    pub load: LoadRecord,
    pub providers: Vec<ProviderQuality>,
    /// The per-field rows behind the summary.
    pub fields: Vec<DqRow>,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The per-provider summary of a load's field counts: the one rule the CLI
/// (`haven dq`) and the web app both print.
pub fn summarise(rows: &[DqRow]) -> Vec<ProviderQuality> {
    let mut providers: Vec<&str> = rows.iter().map(|r| r.provider.as_str()).collect();
    providers.sort();
    providers.dedup();
    providers
        .into_iter()
        .map(|p| {
            let fields: Vec<&DqRow> = rows.iter().filter(|r| r.provider == p).collect();
            let (filled, cells, valid) = fields.iter().fold((0, 0, 0), |(f, c, v), r| (f + r.filled, c + r.rows, v + r.valid));
            let mut weak: Vec<(String, f64)> = fields.iter().filter(|r| r.filled > 0 && r.valid < r.filled).map(|r| (r.field.clone(), r.valid as f64 / r.filled as f64)).collect();
            weak.sort_by(|a, b| a.1.total_cmp(&b.1));
            weak.truncate(3);
            ProviderQuality { provider: p.to_owned(), rows: fields.first().map_or(0, |r| r.rows), completeness: ratio(filled, cells), validity: ratio(valid, filled), weakest: weak }
        })
        .collect()
}

/// One quarantined row's fault: where, which field, why, and what was done.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Fault {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub reason: String,
    pub action: String,
}

/// A load's quarantine.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Quarantine {
    pub load: LoadRecord,
    /// Faults recorded.
    pub faults: u64,
    /// (field, reason, action, how many), most frequent first.
    pub by_reason: Vec<(String, String, String, u64)>,
    /// The first faults in file order (at most [`FIRST_FAULTS`]).
    pub first: Vec<Fault>,
}

/// How many faults a quarantine page lists line by line.
pub const FIRST_FAULTS: usize = 200;

impl App {
    /// Data quality of every committed load (or of `load`), newest first.
    pub fn data_quality(&self, load: Option<&str>) -> Result<Vec<LoadQuality>, AppError> {
        let store = Store::open(&self.data)?;
        let cat = store.catalog();
        let loads: Vec<LoadRecord> = match load {
            Some(id) => vec![cat.load(id)?.ok_or_else(|| AppError::NotFound(format!("no load {id}")))?],
            None => cat.loads()?.into_iter().filter(|l| l.status == LoadStatus::Committed).rev().collect(),
        };
        let mut out = Vec::new();
        for l in loads {
            let fields = cat.dq(&l.id)?;
            out.push(LoadQuality { providers: summarise(&fields), fields, load: l });
        }
        Ok(out)
    }

    /// The quarantine of committed load `id`: faults by field and reason,
    /// and the first [`FIRST_FAULTS`] with their file and line.
    pub fn quarantine(&self, id: &str) -> Result<Quarantine, AppError> {
        let store = Store::open(&self.data)?;
        let load = store.catalog().load(id)?.filter(|l| l.status == LoadStatus::Committed).ok_or_else(|| AppError::NotFound(format!("no committed load {id}")))?;
        let path = self.data.join("quarantine").join(format!("{id}.csv"));
        let mut q = Quarantine { load, faults: 0, by_reason: Vec::new(), first: Vec::new() };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(q),
            Err(_) => return Err(AppError::Invalid(format!("the quarantine of load {id} could not be read"))),
        };
        let mut counts: std::collections::BTreeMap<(String, String, String), u64> = Default::default();
        for rec in csv::Reader::from_reader(std::io::BufReader::new(file)).records() {
            let rec = rec.map_err(|_| AppError::Invalid(format!("the quarantine of load {id} is not as Haven writes it")))?;
            let get = |i: usize| rec.get(i).unwrap_or("").to_owned();
            let fault = Fault { file: get(0), line: get(1).parse().unwrap_or(0), field: get(2), reason: get(3), action: get(4) };
            q.faults += 1;
            *counts.entry((fault.field.clone(), fault.reason.clone(), fault.action.clone())).or_default() += 1;
            if q.first.len() < FIRST_FAULTS {
                q.first.push(fault);
            }
        }
        q.by_reason = counts.into_iter().map(|((f, r, a), n)| (f, r, a, n)).collect();
        q.by_reason.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dq(provider: &str, field: &str, rows: u64, filled: u64, valid: u64) -> DqRow {
        DqRow { provider: provider.into(), field: field.into(), rows, filled, valid }
    }

    #[test]
    fn a_providers_quality_is_its_fields_pooled() {
        // RXX: 100 rows, 3 fields. Filled 100 + 80 + 50 = 230 of 300 cells:
        // completeness 230/300. Valid 100 + 60 + 45 = 205 of 230 filled:
        // validity 205/230. Weakest: B 60/80 = 0.75, then C 45/50 = 0.9
        // (A is 100% valid and not listed).
        let rows = vec![dq("RXX", "A", 100, 100, 100), dq("RXX", "B", 100, 80, 60), dq("RXX", "C", 100, 50, 45), dq("RYY", "A", 10, 0, 0)];
        let s = summarise(&rows);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].provider, "RXX");
        assert_eq!(s[0].rows, 100);
        assert!((s[0].completeness.unwrap() - 230.0 / 300.0).abs() < 1e-12);
        assert!((s[0].validity.unwrap() - 205.0 / 230.0).abs() < 1e-12);
        assert_eq!(s[0].weakest, vec![("B".to_owned(), 0.75), ("C".to_owned(), 0.9)]);
        // Nothing filled: completeness 0, validity not defined.
        assert_eq!((s[1].completeness, s[1].validity), (Some(0.0), None));
    }
}
