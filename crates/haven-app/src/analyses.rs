//! Running analyses (issue 16 §1): the indicator catalogue over the local
//! pseudonymised zone for commissioning, and the benchmark over the
//! national extract, for a signed-in analyst under an agreement in force.
//! The CLI's `indicators run` and `benchmark` and the web app's "Run an
//! analysis" form both call these.
//!
//! Reads of patient data are audited per dataset (zone, rows, purpose) on
//! both sides of the read; every table and chart has passed disclosure
//! control and is written only into a held output (a
//! `haven_governance::outputs::Draft`), which leaves Haven once two
//! reviewers release it.

use std::collections::BTreeSet;

use haven_analytics::benchmark::Benchmark;
use haven_analytics::mortality::{Mortality, MortalityOptions};
use haven_analytics::{catalogue, compute_catalogue, find, Breakdown, Indicator, Period, Scope, Source, Table};
use haven_governance::disclosure::Policy;
use haven_governance::dsa::{Dsa, Purpose};
use haven_governance::grant::{grant, zones_for};
use haven_governance::outputs::{Draft, Outputs};
use haven_governance::session::Session;
use haven_governance::users::Users;
use haven_model::rules::ReadmissionOptions;
use haven_store::{Store, ZoneSession};

use crate::{Actor, App, AppError};

/// The breakdowns an indicators run makes unless asked for others.
pub const DEFAULT_BREAKDOWNS: &str = "total,month,sub_icb,pcn,practice,provider,age_band,sex,ethnicity,imd_quintile,admission_type";

/// What `indicators run` computes.
#[derive(Clone, Debug)]
pub struct IndicatorsRun {
    /// Financial year, e.g. `2024-25`.
    pub period: String,
    /// Comma-separated indicator ids; `None` for the whole catalogue.
    pub only: Option<String>,
    /// Only the population this ICB is responsible for.
    pub icb: Option<String>,
    /// Comma-separated breakdowns.
    pub by: String,
    /// Derive spells from episodes in the query (the reference definition).
    pub from_episodes: bool,
    pub readmissions: ReadmissionOptions,
}

impl IndicatorsRun {
    /// The whole catalogue for `period` by every breakdown.
    pub fn catalogue(period: &str) -> IndicatorsRun {
        IndicatorsRun { period: period.into(), only: None, icb: None, by: DEFAULT_BREAKDOWNS.into(), from_episodes: false, readmissions: ReadmissionOptions::default() }
    }
}

/// What `benchmark` computes.
#[derive(Clone, Debug)]
pub struct BenchmarkRun {
    /// The ICB compared (ODS code).
    pub icb: String,
    pub period: String,
    /// How many nearest peers.
    pub peers: usize,
    pub only: Option<String>,
    pub readmissions: ReadmissionOptions,
}

/// A finished analysis: what it computed and the held output it wrote.
pub struct Ran<T> {
    pub result: T,
    /// The held output's id (`OUT-…`), pending review.
    pub output: String,
    /// How many files the output holds.
    pub files: usize,
}

/// The indicators `only` names, or the whole catalogue.
pub fn wanted(only: Option<&str>) -> Result<Vec<Indicator>, AppError> {
    match only {
        Some(ids) => ids.split(',').map(|id| find(id.trim()).ok_or_else(|| AppError::Invalid(format!("no indicator {} (see `haven indicators list`)", id.trim())))).collect(),
        None => Ok(catalogue()),
    }
}

/// Who the work runs as: the session's user, role and purpose under the
/// agreement it names, read through the keyed chain.
struct Work<'a> {
    actor: &'a Actor,
    session: &'a Session,
    purpose: Purpose,
    dsa: Dsa,
}

impl App {
    fn work<'a>(&self, actor: &'a Actor) -> Result<Work<'a>, AppError> {
        let session = actor.session().ok_or_else(|| AppError::Refused("an analysis needs a sign-in".into()))?;
        let purpose = session.purpose.ok_or_else(|| AppError::Refused("the session has no purpose".into()))?;
        let dsa = self.dsa(session.dsa.as_deref().unwrap_or(""))?;
        Ok(Work { actor, session, purpose, dsa })
    }

    fn audit_read(&self, w: &Work, target: &str, outcome: &str, detail: serde_json::Value) -> Result<(), AppError> {
        self.audit(w.actor.event("", "", "", "read", target, outcome, detail))
    }

    /// Runs `f` over the zones the work's grant opens, with the scope
    /// `scope` makes of them, audited on both sides of the read: the
    /// attempt (which zones, for what) before anything is opened, so a read
    /// that fails or is killed half-way is on the record; then a read of
    /// each dataset `indicators` touched with its rows, or the failure with
    /// a fixed reason (never the error's text).
    fn with_zones<T>(
        &self,
        w: &Work,
        indicators: &[Indicator],
        what: &str,
        scope: impl FnOnce(&ZoneSession) -> Result<Scope, AppError>,
        f: impl FnOnce(&ZoneSession, &Scope) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let zones: Vec<&str> = zones_for(w.session.role, w.purpose).unwrap_or_default().iter().map(|z| z.name()).collect();
        let zones = zones.join("+");
        self.audit_read(w, &zones, "attempt", serde_json::json!({"for": what, "indicators": indicators.len()}))?;
        let read = || -> Result<(T, Vec<(String, u64)>), AppError> {
            let users = Users::open(&self.data)?;
            let g = grant(&users, &w.session.user, w.session.role, w.purpose, &w.dsa, crate::today())?;
            let store = Store::open(&self.data)?;
            let zs = ZoneSession::open(&store, &g)?;
            let scope = scope(&zs)?;
            let source = scope.source;
            let datasets: BTreeSet<&str> = indicators
                .iter()
                .filter(|i| haven_analytics::engine::available(&zs, source, i))
                .map(|i| haven_analytics::engine::reads(&scope, i))
                .collect();
            let out = f(&zs, &scope)?;
            let mut rows = Vec::new();
            for d in datasets {
                rows.push((format!("{}.{d}", source.schema()), zs.count_rows(source.zone(), d)?));
            }
            Ok((out, rows))
        };
        match read() {
            Ok((out, rows)) => {
                for (target, n) in rows {
                    self.audit_read(w, &target, "ok", serde_json::json!({"rows": n, "for": what}))?;
                }
                Ok(out)
            }
            Err(e) => {
                self.audit_read(w, &zones, "failed", serde_json::json!({"for": what, "reason": e.fixed_reason()}))?;
                Err(e)
            }
        }
    }

    /// Holds what `write` puts into a new draft as one output pending
    /// review, under the actor's agreement and purpose; audited
    /// `output.submit` with the manifest's SHA-256 (what export later checks
    /// the held files against). Returns the output's id and file count.
    pub fn hold(&self, actor: &Actor, title: &str, write: impl FnOnce(&mut Draft) -> Result<(), AppError>) -> Result<(String, usize), AppError> {
        let s = actor.session().ok_or_else(|| AppError::Refused("holding an output needs a sign-in".into()))?;
        let (dsa, purpose) = (s.dsa.as_deref().unwrap_or(""), s.purpose.map_or("", |p| p.name()));
        let mut outputs = Outputs::open(&self.data)?;
        let mut draft = outputs.draft(&s.user, title, dsa, purpose)?;
        write(&mut draft)?;
        let files = draft.files().len();
        let out = draft.submit(&mut outputs)?;
        self.audit(actor.event("", "", "", "output.submit", &out.id, "ok", serde_json::json!({"title": title, "files": files, "sha256": out.sha256})))?;
        Ok((out.id, files))
    }

    /// The catalogue over the local zone: tables (CSV, JSON, Parquet),
    /// charts and the practices' place in the drill-down, held for review.
    pub fn run_indicators(&self, actor: &Actor, run: &IndicatorsRun) -> Result<Ran<Vec<Table>>, AppError> {
        let w = self.work(actor)?;
        let period = Period::parse(&run.period).map_err(|e| AppError::Invalid(e.to_string()))?;
        let by: Vec<Breakdown> = run.by.split(',').map(|b| Breakdown::parse(b.trim())).collect::<Result<_, _>>().map_err(|e| AppError::Invalid(e.to_string()))?;
        let wanted = wanted(run.only.as_deref())?;
        let scope = |zs: &ZoneSession| -> Result<Scope, AppError> {
            let mut scope = Scope::of(zs, Source::Local, period);
            scope.readmissions = run.readmissions.clone();
            if let Some(icb) = &run.icb {
                scope = scope.for_icb(icb)?;
            }
            Ok(if run.from_episodes { scope.from_episodes() } else { scope })
        };
        let (tables, areas) = self.with_zones(&w, &wanted, "indicators run", scope, |zs, scope| {
            let tables = compute_catalogue(zs, scope, &Policy::default(), &wanted, &by)?;
            Ok((tables, haven_analytics::insight::areas(zs)))
        })?;
        // Only the practices the tables name: the drill-down of this output.
        let named: BTreeSet<&str> = tables.iter().filter(|t| t.breakdown == Breakdown::Practice).flat_map(|t| t.rows.iter().map(|r| r.group.as_str())).collect();
        let areas: Vec<_> = areas.into_iter().filter(|a| named.contains(a.practice.as_str())).collect();
        let title = format!("Indicators {}{}", period.label(), run.icb.as_deref().map(|i| format!(" for {i}")).unwrap_or_default());
        let (id, files) = self.hold(actor, &title, |draft| {
            for t in &tables {
                haven_analytics::write::table(t, draft)?;
                if let Some(ind) = wanted.iter().find(|i| i.id == t.indicator) {
                    haven_analytics::write::charts(ind, t, draft, &[])?;
                }
            }
            if !areas.is_empty() {
                haven_analytics::write::areas(&areas, draft)?;
            }
            Ok(())
        })?;
        let detail = serde_json::json!({"tables": tables.len(), "files": files, "period": period.label(), "rule": "hes_ecds", "output": id, "readmissions": format!("{:?}", run.readmissions)});
        self.audit(actor.event("", "", "", "indicators.run", &id, "ok", detail))?;
        Ok(Ran { result: tables, output: id, files })
    }

    /// The catalogue over the national extract for every ICB, compared for
    /// `run.icb` with England and its peers, with SHMI-style mortality by
    /// provider, held for review.
    pub fn run_benchmark(&self, actor: &Actor, run: &BenchmarkRun) -> Result<Ran<(Benchmark, Mortality)>, AppError> {
        let w = self.work(actor)?;
        let period = Period::parse(&run.period).map_err(|e| AppError::Invalid(e.to_string()))?;
        let wanted = wanted(run.only.as_deref())?;
        let icb = run.icb.trim().to_ascii_uppercase();
        let scope = |zs: &ZoneSession| {
            let mut scope = Scope::of(zs, Source::National, period);
            scope.readmissions = run.readmissions.clone();
            Ok(scope)
        };
        let (b, m) = self.with_zones(&w, &wanted, "benchmark", scope, |zs, scope| {
            let b = haven_analytics::benchmark::benchmark(zs, scope, &Policy::default(), &wanted, &icb, run.peers)?;
            let m = haven_analytics::mortality::shmi(zs, scope, &Policy::default(), &MortalityOptions::default())?;
            Ok((b, m))
        })?;
        if m.post_discharge_deaths {
            self.audit_read(&w, "national.death", "ok", serde_json::json!({"for": "benchmark (deaths within 30 days of discharge)"}))?;
        }
        let title = format!("Benchmark {icb} {}", period.label());
        let (id, files) = self.hold(actor, &title, |draft| {
            haven_analytics::write::benchmark(&b, &wanted, draft)?;
            haven_analytics::write::mortality(&m, draft)?;
            Ok(())
        })?;
        let detail = serde_json::json!({"icb": icb, "period": period.label(), "peers": b.peers.len(), "files": files, "output": id, "readmissions": format!("{:?}", run.readmissions)});
        self.audit(actor.event("", "", "", "benchmark.run", &id, "ok", detail))?;
        Ok(Ran { result: (b, m), output: id, files })
    }

    /// Queues [`App::run_indicators`] for the actor (the web app and the
    /// API): what can be checked at once (sign-in, agreement, period,
    /// breakdowns, indicators) is, so a mistake is answered now rather than
    /// by a failed job.
    pub fn queue_indicators(&self, actor: &Actor, run: &IndicatorsRun) -> Result<crate::jobs::Job, AppError> {
        self.work(actor)?;
        let period = Period::parse(&run.period).map_err(|e| AppError::Invalid(e.to_string()))?;
        for b in run.by.split(',') {
            Breakdown::parse(b.trim()).map_err(|e| AppError::Invalid(e.to_string()))?;
        }
        wanted(run.only.as_deref())?;
        let what = match &run.icb {
            Some(icb) => format!("Indicator catalogue {} for {icb}'s responsible population", period.label()),
            None => format!("Indicator catalogue {}", period.label()),
        };
        let (who, run) = (actor.clone(), run.clone());
        self.queue(actor, &what, Box::new(move |app| app.run_indicators(&who, &run).map(|r| crate::jobs::Made::output(r.output))))
    }

    /// Queues [`App::run_benchmark`] for the actor, checked as
    /// [`App::queue_indicators`] checks.
    pub fn queue_benchmark(&self, actor: &Actor, run: &BenchmarkRun) -> Result<crate::jobs::Job, AppError> {
        self.work(actor)?;
        let period = Period::parse(&run.period).map_err(|e| AppError::Invalid(e.to_string()))?;
        wanted(run.only.as_deref())?;
        let icb = run.icb.trim().to_ascii_uppercase();
        if icb.is_empty() || !icb.chars().all(|c| c.is_ascii_alphanumeric()) || icb.len() > 5 {
            return Err(AppError::Invalid("name the ICB to benchmark by its ODS code (letters and digits, for example QMJ)".into()));
        }
        let what = format!("Benchmark {icb} {}", period.label());
        let (who, run) = (actor.clone(), run.clone());
        self.queue(actor, &what, Box::new(move |app| app.run_benchmark(&who, &run).map(|r| crate::jobs::Made::output(r.output))))
    }
}
