//! Commissioning analytics (DESIGN.md §4; issue 5): the indicator catalogue
//! run on DataFusion over the zones a grant opens, every table passed
//! through disclosure control before it can be written.
//!
//! - [`catalogue`]: what each indicator is, with its method and citation.
//! - [`engine`]: SQL per indicator and breakdown over a `ZoneSession`;
//!   raw counts stay inside this crate.
//! - [`publish`]: disclosure control of the results, the only way out.

pub mod catalogue;
pub mod engine;
mod error;
pub mod publish;

use std::path::Path;

use haven_governance::disclosure::Policy;
use haven_store::ZoneSession;

pub use catalogue::{catalogue, find, Indicator};
pub use engine::{Breakdown, Period};
pub use error::AnalyticsError;
pub use publish::{Row, Table};

/// Runs `indicator` by each of `breakdowns` for `period` and protects each
/// table. The one-group total every table carries is queried once.
pub fn compute_all(
    session: &ZoneSession,
    policy: &Policy,
    indicator: &Indicator,
    breakdowns: &[Breakdown],
    period: Period,
) -> Result<Vec<Table>, AnalyticsError> {
    let total = engine::run(session, indicator, Breakdown::Total, period)?;
    breakdowns
        .iter()
        .map(|&b| {
            let raw = match b {
                Breakdown::Total => total.clone(),
                _ => engine::run(session, indicator, b, period)?,
            };
            Ok(publish::protect(policy, indicator, b, period, &raw, &total))
        })
        .collect()
}

/// [`compute_all`] for one breakdown.
pub fn compute(session: &ZoneSession, policy: &Policy, indicator: &Indicator, breakdown: Breakdown, period: Period) -> Result<Table, AnalyticsError> {
    let mut tables = compute_all(session, policy, indicator, &[breakdown], period)?;
    Ok(tables.pop().expect("one table per breakdown"))
}

/// Writes a protected table as `<dir>/<indicator>.<breakdown>.csv` and
/// `.json`; returns the CSV path.
pub fn write(table: &Table, dir: &Path) -> Result<std::path::PathBuf, AnalyticsError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| AnalyticsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let stem = format!("{}.{}", table.indicator, table.breakdown.name());
    let csv = dir.join(format!("{stem}.csv"));
    std::fs::write(&csv, table.csv()).map_err(io(&csv))?;
    let json = dir.join(format!("{stem}.json"));
    std::fs::write(&json, serde_json::to_string_pretty(table).expect("tables serialise")).map_err(io(&json))?;
    Ok(csv)
}
