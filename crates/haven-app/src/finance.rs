//! Invoice validation (issue 17) for a signed-in `ceff` user under an
//! agreement whose purposes include invoice validation: the run reads the
//! CEfF and reference zones only (`grant::zones_for(Ceff, InvoiceValidation)`),
//! audited on both sides of the read; the per-line outcomes stay inside
//! the CEfF — a CSV in the data directory's `ceff/iv/<run>/` folder
//! (owner-only) for the validator's own checks — and what the audit log
//! and the reply carry are counts, never a line's values.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use haven_finance::challenge::{parse_responses, Challenge, Event as ChallengeEvent, Log, Raised, Status};
use haven_finance::quality::{evaluate, Quality, Truth};
use haven_finance::validate::Validation;
use haven_finance::{Config, Reason};
use haven_governance::disclosure::magnitude::MagnitudePolicy;
use haven_governance::disclosure::Policy;
use haven_governance::dsa::Purpose;
use haven_governance::grant::grant;
use haven_governance::users::Users;
use haven_store::{Store, ZoneSession};
use serde::Serialize;

use crate::{Actor, App, AppError};

/// What `iv run` does.
#[derive(Clone, Debug, Default)]
pub struct IvRun {
    /// Report the invoices of this month (`YYYY-MM`); every month by default.
    pub month: Option<String>,
    /// A ground-truth file (synthetic data only) to score the run against.
    pub truth: Option<String>,
    /// Also hold the accuracy and budget reports, disclosure-controlled, as
    /// an output for two-person release.
    pub report: bool,
}

/// The headline of a run: counts and values only (kept beside the run's
/// lines as `summary.json`, for the finance pages).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct IvSummary {
    pub run: String,
    pub invoices: usize,
    pub lines: usize,
    pub challenged: usize,
    /// Pence.
    pub value_billed: i64,
    pub value_challenged: i64,
    /// Lines challenged with each reason.
    pub by_reason: BTreeMap<String, usize>,
    /// How lines matched SUS+.
    pub matched_by: BTreeMap<String, usize>,
    pub invoice_findings: BTreeMap<String, usize>,
    /// The CSV of every line's outcome, inside the CEfF.
    pub lines_csv: PathBuf,
    pub quality: Option<Quality>,
    /// Optional datasets not opened for this run: their checks did not run.
    pub not_opened: Vec<String>,
    /// The held output of reports (`OUT-…`), when asked for.
    pub output: Option<String>,
    /// What the run did to the challenge log.
    pub challenges: Raised,
}

fn summarise(v: &Validation, run: &str, csv: PathBuf, quality: Option<Quality>, not_opened: Vec<String>) -> IvSummary {
    let mut by_reason = BTreeMap::new();
    let mut matched_by = BTreeMap::new();
    for l in &v.lines {
        *matched_by.entry(l.matched_by.name().to_owned()).or_default() += 1;
        for r in l.reasons() {
            *by_reason.entry(r.code().to_owned()).or_default() += 1;
        }
    }
    let mut invoice_findings = BTreeMap::new();
    for f in &v.invoices {
        *invoice_findings.entry(f.finding.reason.code().to_owned()).or_default() += 1;
    }
    let invoices = v.lines.iter().map(|l| l.invoice_id.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    IvSummary {
        run: run.to_owned(),
        invoices,
        lines: v.lines.len(),
        challenged: v.challenged().count(),
        value_billed: v.lines.iter().filter_map(|l| l.billed).sum(),
        value_challenged: v.value_challenged(),
        by_reason,
        matched_by,
        invoice_findings,
        lines_csv: csv,
        quality,
        not_opened,
        output: None,
        challenges: Raised::default(),
    }
}

impl App {
    /// Validates the loaded invoices against the CEfF copies of SUS+.
    pub fn run_iv(&self, actor: &Actor, run: &IvRun, cfg: &Config) -> Result<IvSummary, AppError> {
        let s = actor.session().ok_or_else(|| AppError::Refused("invoice validation needs a sign-in".into()))?;
        if s.purpose != Some(Purpose::InvoiceValidation) {
            return Err(AppError::Refused("invoice validation runs only under the invoice_validation purpose".into()));
        }
        check_month(run.month.as_deref())?;
        let dsa = self.dsa(s.dsa.as_deref().unwrap_or(""))?;
        let audit_read = |target: &str, outcome: &str, detail: serde_json::Value| self.audit(actor.event("", "", "", "read", target, outcome, detail));
        audit_read("ceff+reference", "attempt", serde_json::json!({"for": "iv run"}))?;
        let read = || -> Result<_, AppError> {
            let users = Users::open(&self.data)?;
            let g = grant(&users, &s.user, s.role, Purpose::InvoiceValidation, &dsa, crate::today())?;
            let zs = ZoneSession::open(&Store::open(&self.data)?, &g)?;
            let inputs = haven_finance::read::inputs(&zs).map_err(finance)?;
            Ok(inputs)
        };
        let inputs = match read() {
            Ok(i) => i,
            Err(e) => {
                audit_read("ceff+reference", "failed", serde_json::json!({"for": "iv run", "reason": e.fixed_reason()}))?;
                return Err(e);
            }
        };
        let counts = serde_json::json!({"for": "iv run", "invoices": inputs.invoices.len(), "lines": inputs.lines.len(), "spells": inputs.spells.len(), "attendances": inputs.attendances.len(), "deaths": inputs.deaths.len()});
        audit_read("ceff+reference", "ok", counts)?;
        let v = haven_finance::run(&inputs, cfg, run.month.as_deref());
        let quality = match &run.truth {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| AppError::Invalid(format!("cannot read the ground truth file: {e}")))?;
                Some(evaluate(&v, &Truth::parse(&text)))
            }
            None => None,
        };
        // IV-YYYYMMDD-HHMMSS (UTC): a run's name, never a ten-digit number.
        let now = haven_governance::session::now();
        let day = crate::today().to_string().replace('-', "");
        let secs = now % 86_400;
        let stem = format!("IV-{day}-{:02}{:02}{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        // Two runs in one second get distinct names.
        let id = (1..).map(|n| if n == 1 { stem.clone() } else { format!("{stem}-{n}") }).find(|id| !self.data.join("ceff/iv").join(id).exists()).expect("a free name");
        let csv = self.write_lines(&id, &v)?;
        let mut summary = summarise(&v, &id, csv, quality, inputs.not_opened.clone());
        summary.challenges = self.raise_challenges(actor, &v, &id)?;
        // Aggregates only, every cell through disclosure control: kept with
        // the run for the finance pages, and held for two-person release
        // when asked for (only then do they leave the CEfF).
        let reports = haven_finance::report::reports(&v, &Policy::default(), &MagnitudePolicy::default());
        self.write_run_file(&id, "reports", &reports.iter().map(|r| (r.name, r.csv.as_str())).collect::<Vec<_>>())?;
        if run.report {
            let title = format!("Invoice validation reports {}", run.month.as_deref().unwrap_or("(all months)"));
            let (out, _) = self.hold(actor, &title, |draft| {
                for r in &reports {
                    draft.put(r.name, r.csv.as_bytes())?;
                }
                Ok(())
            })?;
            summary.output = Some(out);
        }
        let detail = serde_json::json!({
            "month": run.month, "lines": summary.lines, "challenged": summary.challenged,
            "value_challenged_pence": summary.value_challenged, "by_reason": summary.by_reason, "output": summary.output,
        });
        self.audit(actor.event("", "", "", "iv.run", &id, "ok", detail))?;
        let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
        self.write_run_file(&id, "", &[("summary.json", json.as_str())])?;
        Ok(summary)
    }

    /// Writes `files` (name, text) into the run's folder (or its `sub`
    /// folder), owner-only like everything in the data directory.
    fn write_run_file(&self, run: &str, sub: &str, files: &[(&str, &str)]) -> Result<(), AppError> {
        let dir = self.data.join("ceff").join("iv").join(run).join(sub);
        let err = |e: std::io::Error| AppError::Invalid(format!("cannot write the run's files: {e}"));
        std::fs::create_dir_all(&dir).map_err(err)?;
        for (name, text) in files {
            let path = dir.join(name);
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(err)?;
            f.write_all(text.as_bytes()).map_err(err)?;
        }
        Ok(())
    }

    /// Writes every line's outcome inside the CEfF: `<data>/ceff/iv/<run>/lines.csv`, 0600.
    fn write_lines(&self, run: &str, v: &Validation) -> Result<PathBuf, AppError> {
        let dir = self.data.join("ceff").join("iv").join(run);
        std::fs::create_dir_all(&dir).map_err(|e| AppError::Invalid(format!("cannot make the CEfF run folder: {e}")))?;
        let path = dir.join("lines.csv");
        let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(|e| AppError::Invalid(format!("cannot write the run's lines: {e}")))?;
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
        let io = |e: csv::Error| AppError::Invalid(format!("cannot write the run's lines: {e}"));
        w.write_record(["invoice_number", "invoice_id", "line_no", "provider", "setting", "pod", "activity_date", "outcome", "reasons", "matched_by", "sus_key", "billed_pence", "expected_pence", "evidence"]).map_err(io)?;
        for l in &v.lines {
            let reasons: Vec<&str> = l.reasons().into_iter().map(Reason::code).collect();
            let evidence: Vec<String> = l.findings.iter().map(|f| format!("{}: {}", f.reason.code(), f.evidence)).collect();
            let opt = |x: Option<i64>| x.map(|v| v.to_string()).unwrap_or_default();
            w.write_record([
                l.invoice_number.as_str(),
                &l.invoice_id,
                &l.line_no.to_string(),
                &l.provider,
                l.setting,
                &l.pod,
                &l.activity_date.map(|d| d.to_string()).unwrap_or_default(),
                l.outcome(),
                &reasons.join(" "),
                l.matched_by.name(),
                &l.sus_key.as_ref().map(ToString::to_string).unwrap_or_default(),
                &opt(l.billed),
                &opt(l.expected),
                &evidence.join("; "),
            ])
            .map_err(io)?;
        }
        let mut inner = w.into_inner().map_err(|e| AppError::Invalid(format!("cannot write the run's lines: {e}")))?;
        inner.flush().map_err(|e| AppError::Invalid(format!("cannot write the run's lines: {e}")))?;
        Ok(path)
    }
}

/// A month to report is `YYYY-MM`.
pub(crate) fn check_month(month: Option<&str>) -> Result<(), AppError> {
    let Some(m) = month else { return Ok(()) };
    let ok = m.len() == 7 && m.as_bytes()[4] == b'-' && haven_model::Date::parse(&format!("{m}-01")).is_ok();
    if ok {
        Ok(())
    } else {
        Err(AppError::Invalid("the period is a month, YYYY-MM".into()))
    }
}

fn finance(e: haven_finance::FinanceError) -> AppError {
    match e {
        haven_finance::FinanceError::Store(s) => AppError::Store(s),
        other => AppError::Invalid(other.to_string()),
    }
}

/// What importing a provider's responses did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Imported {
    pub accepted: u64,
    pub disputed: u64,
    /// Rows naming no open challenge, or one not sent to the provider.
    pub not_awaiting: u64,
    /// Rows that could not be read: (line, reason), never their values.
    pub unreadable: Vec<(usize, &'static str)>,
}

impl App {
    /// The CEfF's challenge log.
    fn challenge_log(&self) -> Result<Log, AppError> {
        let dir = self.data.join("ceff");
        std::fs::create_dir_all(&dir).map_err(|e| AppError::Invalid(format!("cannot make the CEfF folder: {e}")))?;
        Log::open(&dir.join("challenges.sqlite")).map_err(finance)
    }

    fn at() -> String {
        let now = haven_governance::session::now();
        let secs = now % 86_400;
        format!("{}T{:02}:{:02}:{:02}Z", crate::today(), secs / 3600, secs / 60 % 60, secs % 60)
    }

    /// The recovery report (`haven_finance::report::recovery`) from the
    /// challenge log as it stands, disclosure-controlled.
    pub fn iv_recovery_report(&self) -> Result<(String, String), AppError> {
        let log = self.challenge_log()?.list(None).map_err(finance)?;
        let r = haven_finance::report::recovery(&log, &Policy::default(), &MagnitudePolicy::default());
        Ok((r.name.to_owned(), r.csv))
    }

    /// Raises the run's challenges (inside `run_iv`).
    fn raise_challenges(&self, actor: &Actor, v: &Validation, run: &str) -> Result<Raised, AppError> {
        let user = actor.session().map_or("host", |s| s.user.as_str());
        let raised = self.challenge_log()?.raise(v, run, &Self::at(), user).map_err(finance)?;
        self.audit(actor.event("", "", "", "iv.challenges.raise", run, "ok", serde_json::to_value(raised).unwrap_or_default()))?;
        Ok(raised)
    }

    /// Challenges, newest first, optionally of one status.
    pub fn challenges(&self, status: Option<&str>) -> Result<Vec<Challenge>, AppError> {
        let status = status.map(|s| Status::parse(s).ok_or_else(|| AppError::Invalid(format!("no status {s}: raised, sent, accepted, disputed, upheld, withdrawn, resolved or superseded")))).transpose()?;
        self.challenge_log()?.list(status).map_err(finance)
    }

    /// One challenge and its history.
    pub fn challenge(&self, id: i64) -> Result<(Challenge, Vec<ChallengeEvent>), AppError> {
        self.challenge_log()?.get(id).map_err(finance)?.ok_or_else(|| AppError::NotFound(format!("challenge {id}")))
    }

    /// Moves a challenge on (audited with both statuses).
    /// Resolving records the amount recovered (pence; see
    /// `haven_finance::challenge::Log::update`).
    pub fn update_challenge(&self, actor: &Actor, id: i64, status: &str, note: &str, recovered: Option<i64>) -> Result<Challenge, AppError> {
        let next = Status::parse(status).ok_or_else(|| AppError::Invalid(format!("no status {status}")))?;
        let user = actor.session().map_or("host", |s| s.user.as_str());
        let before = self.challenge(id)?.0.status;
        let c = self.challenge_log()?.update(id, next, &Self::at(), user, note, recovered).map_err(finance)?;
        let detail = serde_json::json!({"from": before.name(), "to": next.name(), "recovered_pence": c.recovered.filter(|_| next == Status::Resolved)});
        self.audit(actor.event("", "", "", "iv.challenge.update", &format!("challenge:{id}"), "ok", detail))?;
        Ok(c)
    }

    /// Applies a provider's response file to the challenges sent to it.
    pub fn import_responses(&self, actor: &Actor, text: &str) -> Result<Imported, AppError> {
        let (rows, unreadable) = parse_responses(text);
        let user = actor.session().map_or("host", |s| s.user.as_str());
        let mut log = self.challenge_log()?;
        let mut out = Imported { unreadable, ..Imported::default() };
        for r in rows {
            match log.find(&r.invoice_number, r.line_no).map_err(finance)? {
                Some(c) if c.status == Status::Sent => {
                    let next = if r.accept { Status::Accepted } else { Status::Disputed };
                    log.update(c.id, next, &Self::at(), user, &format!("provider response: {}", r.reason), None).map_err(finance)?;
                    if r.accept {
                        out.accepted += 1;
                    } else {
                        out.disputed += 1;
                    }
                }
                _ => out.not_awaiting += 1,
            }
        }
        let detail = serde_json::json!({"accepted": out.accepted, "disputed": out.disputed, "not_awaiting": out.not_awaiting, "unreadable": out.unreadable.len()});
        self.audit(actor.event("", "", "", "iv.responses.import", "challenges", "ok", detail))?;
        Ok(out)
    }
}
