//! Commissioning analytics (DESIGN.md §4; issue 5): the indicator catalogue
//! run on DataFusion over the zones a grant opens, every table passed
//! through disclosure control before it can be written.
//!
//! - [`catalogue`]: what each indicator is, with its method and citation.
//! - [`engine`]: SQL per indicator and breakdown over a `ZoneSession`;
//!   raw counts stay inside this crate.
//! - [`publish`]: disclosure control of the results, the only way out.
//! - [`mortality`]: SHMI-style observed against expected deaths by provider.
//! - [`standardise`]: direct and indirect standardisation for benchmarking.

pub mod benchmark;
pub mod catalogue;
pub mod engine;
pub mod figures;
pub mod insight;
mod error;
pub mod mortality;
pub mod peers;
pub mod publish;
pub mod standardise;
pub mod write;
mod udf;

use haven_governance::disclosure::Policy;
use haven_store::ZoneSession;

use catalogue::Base;
pub use catalogue::{catalogue, find, Indicator};
pub use engine::{Breakdown, Period, Scope, Source};
pub use error::AnalyticsError;
pub use publish::{Row, Table};

/// Runs `indicators` by each of `breakdowns` over `source` for `period` and
/// protects each table. Indicators are grouped by base so each base is
/// derived once per run; the returned tables follow the order of
/// `indicators`, then of `breakdowns`. Indicators whose dataset the session
/// does not hold are skipped.
pub fn compute_catalogue(
    session: &ZoneSession,
    scope: &Scope,
    policy: &Policy,
    indicators: &[Indicator],
    breakdowns: &[Breakdown],
) -> Result<Vec<Table>, AnalyticsError> {
    let mut tables: Vec<(usize, usize, Table)> = evaluate(session, scope, indicators, breakdowns)?
        .into_iter()
        .filter_map(|e| {
            let order = breakdowns.iter().position(|x| *x == e.breakdown)?;
            let ind = &indicators[e.indicator];
            Some((e.indicator, order, publish::protect(policy, ind, e.breakdown, scope.period, &e.raw, &e.total)))
        })
        .collect();
    tables.sort_by_key(|(pos, order, _)| (*pos, *order));
    Ok(tables.into_iter().map(|(_, _, t)| t).collect())
}

/// One indicator's unprotected result by one breakdown, with its total.
pub(crate) struct Evaluated {
    /// Index into the indicators evaluated.
    pub indicator: usize,
    pub breakdown: Breakdown,
    pub raw: engine::Raw,
    pub total: engine::Raw,
}

/// The raw results behind [`compute_catalogue`], by [`Breakdown::Total`]
/// and each of `breakdowns`; they stay in this crate.
pub(crate) fn evaluate(
    session: &ZoneSession,
    scope: &Scope,
    indicators: &[Indicator],
    breakdowns: &[Breakdown],
) -> Result<Vec<Evaluated>, AnalyticsError> {
    udf::register(session, scope.ucs);
    // The one-group total every table is protected against is always queried.
    let mut by: Vec<Breakdown> = vec![Breakdown::Total];
    by.extend(breakdowns.iter().filter(|b| **b != Breakdown::Total));
    let mut out = Vec::new();
    let mut bases: Vec<Base> = indicators.iter().map(|i| i.base).collect();
    bases.sort();
    bases.dedup();
    // Each base's dataset is looked up once, not once per indicator.
    for base in bases.into_iter().filter(|b| engine::holds(session, scope.source, b.dataset()) || (*b == Base::Ecds && scope.legacy_ae)) {
        let of_base: Vec<(usize, &Indicator)> = indicators.iter().enumerate().filter(|(_, i)| i.base == base).collect();
        let refs: Vec<&Indicator> = of_base.iter().map(|(_, i)| *i).collect();
        let results = engine::run(session, base, &refs, &by, scope)?;
        let totals = results[0].1.clone();
        for (b, raws) in results {
            for ((pos, _), (raw, total)) in of_base.iter().zip(raws.into_iter().zip(totals.iter().cloned())) {
                out.push(Evaluated { indicator: *pos, breakdown: b, raw, total });
            }
        }
    }
    Ok(out)
}

/// One indicator by one breakdown over the local zone.
pub fn compute(session: &ZoneSession, policy: &Policy, indicator: &Indicator, breakdown: Breakdown, period: Period) -> Result<Table, AnalyticsError> {
    let scope = Scope::of(session, Source::Local, period);
    let mut tables = compute_catalogue(session, &scope, policy, std::slice::from_ref(indicator), &[breakdown])?;
    tables.pop().ok_or_else(|| AnalyticsError::Unknown(format!("{} has no data in this session", indicator.id)))
}
