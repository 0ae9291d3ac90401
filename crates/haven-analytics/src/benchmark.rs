//! National benchmarking (issue 5 §3): every indicator for every ICB from
//! the national extract only, the focus ICB compared with England and with
//! its nearest peers, and the "opportunity" if it were at the peer median.
//!
//! Everything here is computed from tables that have already passed
//! disclosure control ([`crate::publish`]): ICB counts rounded and
//! suppressed, values published only beside published counts. England is
//! a national figure and is published exactly (methods.md §1.1 applies
//! suppression below national level).
//!
//! - Proportions are compared with England by the PHE convention: the ICB
//!   differs significantly when England lies outside its 95% Wilson
//!   interval (methods.md §6.5), better or worse by the indicator's
//!   polarity.
//! - Counts become crude rates per 1,000 resident population with a Byar
//!   95% interval on the published count (methods.md §6.1), compared the
//!   same way.
//! - Means and medians have no interval from these tables and are shown
//!   but not compared.

use haven_governance::disclosure::{Cell, Policy};
use haven_store::ZoneSession;
use serde::Serialize;

use crate::catalogue::{Indicator, Method, Polarity};
use crate::engine::{Breakdown, Period, Scope, Source};
use crate::error::AnalyticsError;
use crate::peers::{nearest, profiles, Peer, Profile};
use crate::publish::{Row, Table};

/// How the focus ICB compares with England.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Better,
    Worse,
    /// Significantly different where higher or lower is not a judgement.
    Higher,
    Lower,
    Similar,
    NotCompared,
}

impl Flag {
    pub fn label(self) -> &'static str {
        match self {
            Flag::Better => "better",
            Flag::Worse => "worse",
            Flag::Higher => "higher",
            Flag::Lower => "lower",
            Flag::Similar => "similar",
            Flag::NotCompared => "not compared",
        }
    }
}

/// One indicator for the focus ICB against England and its peers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub indicator: String,
    pub title: String,
    /// The unit of `value` (counts are shown per 1,000 population).
    pub unit: String,
    pub polarity: Polarity,
    pub value: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub england: Option<f64>,
    pub peer_median: Option<f64>,
    /// Spread of all ICBs' published values: min, 25th, 75th percentile, max.
    pub spread: Option<[f64; 4]>,
    pub vs_england: Flag,
    /// Activity that would be avoided (or gained) at the peer median, in
    /// `opportunity_unit`; `None` when not applicable or not worse.
    pub opportunity: Option<f64>,
    pub opportunity_unit: String,
}

/// Everything a benchmarking run produces.
#[derive(Clone, Debug, Serialize)]
pub struct Benchmark {
    pub icb: String,
    pub period: String,
    pub profile: Profile,
    pub peers: Vec<Peer>,
    pub comparisons: Vec<Comparison>,
    /// Each indicator by ICB (protected), England as the total.
    #[serde(skip)]
    pub tables: Vec<Table>,
    #[serde(skip)]
    pub profiles: Vec<Profile>,
}

/// Benchmarks `icb` against England and its `k` nearest peers on
/// `indicators`, over the national extract in `session`.
pub fn benchmark(
    session: &ZoneSession,
    policy: &Policy,
    indicators: &[Indicator],
    icb: &str,
    period: Period,
    k: usize,
) -> Result<Benchmark, AnalyticsError> {
    let profiles = profiles(session, period)?;
    let peers = nearest(&profiles, icb, k)?;
    let profile = profiles.iter().find(|p| p.icb == icb).cloned().expect("nearest found the focus profile");
    let scope = Scope::of(session, Source::National, period);
    let tables = crate::compute_catalogue(session, &scope, policy, indicators, &[Breakdown::Icb])?;
    let comparisons = tables
        .iter()
        .filter_map(|t| indicators.iter().find(|i| i.id == t.indicator).map(|i| (i, t)))
        .map(|(ind, t)| compare(ind, t, icb, &peers, &profiles))
        .collect();
    Ok(Benchmark { icb: icb.to_owned(), period: period.label(), profile, peers, comparisons, tables, profiles })
}

/// A published row's value on the comparison scale, with its interval.
fn scaled(ind: &Indicator, row: &Row, population: Option<u64>) -> (Option<f64>, Option<f64>, Option<f64>) {
    match ind.method {
        Method::Count => {
            let (Some(Cell::Value(n)), Some(pop)) = (row.numerator, population.filter(|p| *p > 0)) else { return (None, None, None) };
            let per = 1000.0 / pop as f64;
            let ci = haven_stats::byar_interval(n as f64, 0.95).ok();
            (Some(n as f64 * per), ci.as_ref().map(|c| c.lower.unwrap_or(0.0) * per), ci.map(|c| c.upper * per))
        }
        _ => (row.value, row.lower, row.upper),
    }
}

fn compare(ind: &Indicator, table: &Table, icb: &str, peers: &[Peer], profiles: &[Profile]) -> Comparison {
    let pop = |code: &str| profiles.iter().find(|p| p.icb == code).map(|p| p.population);
    let england_pop = Some(profiles.iter().map(|p| p.population).sum());
    let value_of = |code: &str| table.rows.iter().find(|r| r.group == code).and_then(|r| scaled(ind, r, pop(code)).0);
    let row = table.rows.iter().find(|r| r.group == icb);
    let (value, lower, upper) = row.map(|r| scaled(ind, r, pop(icb))).unwrap_or((None, None, None));
    let england = scaled(ind, &table.total, england_pop).0;
    let peer_values: Vec<f64> = peers.iter().filter_map(|p| value_of(&p.icb)).collect();
    let all: Vec<f64> = table.rows.iter().filter(|r| r.group != "Unknown").filter_map(|r| scaled(ind, r, pop(&r.group)).0).collect();
    let peer_median = quantile(&peer_values, 0.5);
    let spread = (!all.is_empty()).then(|| [0.0, 0.25, 0.75, 1.0].map(|q| quantile(&all, q).unwrap_or(f64::NAN)));
    let (opportunity, opportunity_unit) = opportunity(ind, value, peer_median, row);
    Comparison {
        indicator: ind.id.to_owned(),
        title: ind.title.to_owned(),
        unit: if ind.method == Method::Count { format!("{} per 1,000 population", ind.unit) } else { ind.unit.to_owned() },
        polarity: ind.polarity,
        value,
        lower,
        upper,
        england,
        peer_median,
        spread,
        vs_england: flag(ind.polarity, lower, upper, england),
        opportunity,
        opportunity_unit,
    }
}

/// England outside the ICB's interval is a significant difference.
pub fn flag(polarity: Polarity, lower: Option<f64>, upper: Option<f64>, england: Option<f64>) -> Flag {
    let (Some(lo), Some(hi), Some(e)) = (lower, upper, england) else { return Flag::NotCompared };
    let higher = if lo > e {
        true
    } else if hi < e {
        false
    } else {
        return Flag::Similar;
    };
    match (polarity, higher) {
        (Polarity::HigherIsBetter, true) | (Polarity::LowerIsBetter, false) => Flag::Better,
        (Polarity::HigherIsBetter, false) | (Polarity::LowerIsBetter, true) => Flag::Worse,
        (Polarity::Neutral, true) => Flag::Higher,
        (Polarity::Neutral, false) => Flag::Lower,
    }
}

/// What moving to the peer median would change, when the ICB is worse than
/// it: for a proportion, (gap ÷ 100) × denominator events; for a mean,
/// gap × denominator (e.g. bed days from a length-of-stay gap); neutral
/// indicators and medians have none.
fn opportunity(ind: &Indicator, value: Option<f64>, peer_median: Option<f64>, row: Option<&Row>) -> (Option<f64>, String) {
    let (Some(v), Some(m), Some(row)) = (value, peer_median, row) else { return (None, String::new()) };
    let gap = match ind.polarity {
        Polarity::LowerIsBetter => v - m,
        Polarity::HigherIsBetter => m - v,
        Polarity::Neutral => return (None, String::new()),
    };
    let Some(Cell::Value(den)) = row.denominator else { return (None, String::new()) };
    let (amount, unit) = match ind.method {
        Method::Proportion => (gap / 100.0 * den as f64, ind.base.noun().to_owned()),
        Method::Mean => (gap * den as f64, ind.unit.to_owned()),
        Method::Count | Method::Median => return (None, String::new()),
    };
    (Some(amount.max(0.0)), unit)
}

/// The q-quantile by linear interpolation between order statistics
/// (R type 7, the spreadsheet convention).
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        // Sorted 1,2,4,8: the median sits halfway between 2 and 4.
        assert_eq!(quantile(&[8.0, 1.0, 4.0, 2.0], 0.5), Some(3.0));
        // h = 3 × 0.25 = 0.75: 1 + 0.75 × (2 − 1).
        assert_eq!(quantile(&[8.0, 1.0, 4.0, 2.0], 0.25), Some(1.75));
        assert_eq!(quantile(&[5.0], 0.9), Some(5.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn england_outside_the_interval_is_a_significant_difference() {
        assert_eq!(flag(Polarity::HigherIsBetter, Some(80.0), Some(85.0), Some(78.0)), Flag::Better);
        assert_eq!(flag(Polarity::LowerIsBetter, Some(80.0), Some(85.0), Some(78.0)), Flag::Worse);
        assert_eq!(flag(Polarity::Neutral, Some(70.0), Some(75.0), Some(78.0)), Flag::Lower);
        // The boundary itself is inside the interval.
        assert_eq!(flag(Polarity::LowerIsBetter, Some(78.0), Some(85.0), Some(78.0)), Flag::Similar);
        assert_eq!(flag(Polarity::LowerIsBetter, None, Some(85.0), Some(78.0)), Flag::NotCompared);
    }

    fn row(den: u64) -> Row {
        Row { group: "QMJ".into(), numerator: None, denominator: Some(Cell::Value(den)), value: None, lower: None, upper: None }
    }

    #[test]
    fn opportunity_is_the_gap_to_the_peer_median_times_the_denominator_when_worse() {
        let readmit = crate::find("apc.emergency_readmission_30d").unwrap();
        // 12% against a peer median of 10% on 500 discharges: 0.02 × 500 = 10 readmissions.
        let (o, unit) = opportunity(&readmit, Some(12.0), Some(10.0), Some(&row(500)));
        assert!((o.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(unit, "readmissions");
        // Better than the peers: nothing to gain.
        assert_eq!(opportunity(&readmit, Some(9.0), Some(10.0), Some(&row(500))).0, Some(0.0));
        // Four hours is higher-is-better: 70% against 75% on 1,000 attendances = 50.
        let four = crate::find("ae.four_hours").unwrap();
        assert!((opportunity(&four, Some(70.0), Some(75.0), Some(&row(1000))).0.unwrap() - 50.0).abs() < 1e-9);
        // Mean stay 5.0 days against 4.0 over 200 spells: 200 bed days.
        let los = crate::find("apc.los_mean").unwrap();
        let (o, unit) = opportunity(&los, Some(5.0), Some(4.0), Some(&row(200)));
        assert!((o.unwrap() - 200.0).abs() < 1e-9);
        assert_eq!(unit, "days");
        // A suppressed denominator gives no figure; neutral indicators have none.
        let hidden = Row { denominator: Some(Cell::Suppressed), ..row(0) };
        assert_eq!(opportunity(&readmit, Some(12.0), Some(10.0), Some(&hidden)).0, None);
        let oos = crate::find("ae.out_of_hours").unwrap();
        assert_eq!(opportunity(&oos, Some(60.0), Some(50.0), Some(&row(100))).0, None);
    }
}
