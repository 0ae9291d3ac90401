//! What the finance (CEfF) pages and API read back of invoice-validation
//! runs (issue 17 §2): each run's headline (`summary.json`, counts only),
//! its invoices and lines with the evidence (`lines.csv`, record-level, so
//! only for the `ceff` role under the invoice-validation purpose: the
//! operation table decides), and its disclosure-controlled reports. Runs
//! are queued like analyses ([`crate::jobs`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use haven_finance::Config;
use serde::Serialize;

use crate::finance::{IvRun, IvSummary};
use crate::jobs::{Job, Made};
use crate::{Actor, App, AppError};

/// One line's outcome as the run wrote it.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct LineRow {
    pub invoice_number: String,
    pub invoice_id: String,
    pub line_no: String,
    pub provider: String,
    pub setting: String,
    pub pod: String,
    pub activity_date: String,
    pub outcome: String,
    pub reasons: String,
    pub matched_by: String,
    pub sus_key: String,
    pub billed_pence: Option<i64>,
    pub expected_pence: Option<i64>,
    pub evidence: String,
}

/// One invoice of a run, totalled from its lines.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InvoiceRow {
    pub invoice_id: String,
    pub invoice_number: String,
    pub provider: String,
    pub lines: usize,
    pub challenged: usize,
    pub billed_pence: i64,
    /// The billed value of its challenged lines.
    pub challenged_pence: i64,
}

/// A run's name as Haven makes it: `IV-YYYYMMDD-HHMMSS`, maybe `-N`; no
/// other text reaches the file system.
fn check_run(run: &str) -> Result<(), AppError> {
    let ok = run.len() <= 24 && run.starts_with("IV-") && run[3..].chars().all(|c| c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("no validation run {}", run.chars().take(24).collect::<String>())))
    }
}

impl App {
    fn iv_dir(&self, run: &str) -> Result<PathBuf, AppError> {
        check_run(run)?;
        let dir = self.data.join("ceff").join("iv").join(run);
        if !dir.join("summary.json").is_file() {
            return Err(AppError::NotFound(format!("no validation run {run}")));
        }
        Ok(dir)
    }

    /// Every finished run's headline, newest first.
    pub fn iv_runs(&self) -> Result<Vec<IvSummary>, AppError> {
        let root = self.data.join("ceff").join("iv");
        let Ok(entries) = std::fs::read_dir(&root) else { return Ok(Vec::new()) };
        let mut names: Vec<String> = entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| check_run(n).is_ok()).collect();
        names.sort();
        names.reverse();
        Ok(names.iter().filter_map(|n| self.iv_run(n).ok()).collect())
    }

    /// One run's headline.
    pub fn iv_run(&self, run: &str) -> Result<IvSummary, AppError> {
        let text = std::fs::read_to_string(self.iv_dir(run)?.join("summary.json")).map_err(|e| AppError::Invalid(format!("cannot read run {run}: {e}")))?;
        serde_json::from_str(&text).map_err(|e| AppError::Invalid(format!("run {run}'s summary is not readable: {e}")))
    }

    /// The run's lines, of one invoice (by its id) or all.
    pub fn iv_lines(&self, run: &str, invoice_id: Option<&str>) -> Result<Vec<LineRow>, AppError> {
        let path = self.iv_dir(run)?.join("lines.csv");
        let mut reader = csv::Reader::from_path(&path).map_err(|e| AppError::Invalid(format!("cannot read run {run}'s lines: {e}")))?;
        let mut out = Vec::new();
        for row in reader.deserialize::<LineRow>() {
            let row = row.map_err(|e| AppError::Invalid(format!("run {run}'s lines are not readable: {e}")))?;
            if invoice_id.is_none_or(|i| i == row.invoice_id) {
                out.push(row);
            }
        }
        if let (Some(i), true) = (invoice_id, out.is_empty()) {
            return Err(AppError::NotFound(format!("run {run} has no invoice {}", i.chars().take(40).collect::<String>())));
        }
        Ok(out)
    }

    /// The run's invoices, totalled from their lines, in invoice order.
    pub fn iv_invoices(&self, run: &str) -> Result<Vec<InvoiceRow>, AppError> {
        let mut by: BTreeMap<String, InvoiceRow> = BTreeMap::new();
        for l in self.iv_lines(run, None)? {
            let row = by.entry(l.invoice_id.clone()).or_insert_with(|| InvoiceRow { invoice_id: l.invoice_id.clone(), invoice_number: l.invoice_number.clone(), provider: l.provider.clone(), ..Default::default() });
            row.lines += 1;
            row.billed_pence += l.billed_pence.unwrap_or(0);
            if l.outcome == "challenged" {
                row.challenged += 1;
                row.challenged_pence += l.billed_pence.unwrap_or(0);
            }
        }
        Ok(by.into_values().collect())
    }

    /// The run's reports (name, CSV), each disclosure-controlled.
    pub fn iv_reports(&self, run: &str) -> Result<Vec<(String, String)>, AppError> {
        let dir = self.iv_dir(run)?.join("reports");
        let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(Vec::new()) };
        let mut names: Vec<String> = entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".csv")).collect();
        names.sort();
        // The summary first: it is what a finance director reads.
        names.sort_by_key(|n| n != "iv_summary.csv");
        let mut out: Vec<(String, String)> = names.into_iter().map(|n| std::fs::read_to_string(dir.join(&n)).map(|t| (n, t)).map_err(|e| AppError::Invalid(format!("cannot read a report of run {run}: {e}")))).collect::<Result<_, _>>()?;
        // What became of the challenges is read from the log as it stands,
        // not kept with the run: it changes as providers respond.
        out.push(self.iv_recovery_report()?);
        Ok(out)
    }

    /// Queues [`App::run_iv`] for the actor (the finance pages and API);
    /// the month is checked before queueing.
    pub fn queue_iv(&self, actor: &Actor, run: IvRun, cfg: Config) -> Result<Job, AppError> {
        crate::finance::check_month(run.month.as_deref())?;
        if run.truth.is_some() {
            return Err(AppError::Invalid("a ground-truth file is for the operator's command line, not the web".into()));
        }
        let what = format!("Invoice validation {}", run.month.as_deref().unwrap_or("(all months)"));
        let who = actor.clone();
        self.queue(
            actor,
            &what,
            Box::new(move |app| {
                let s = app.run_iv(&who, &run, &cfg)?;
                Ok(Made { href: format!("/finance/runs/{}", s.run), label: "Validated as".into(), id: s.run })
            }),
        )
    }
}
