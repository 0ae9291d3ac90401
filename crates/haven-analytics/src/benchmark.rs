//! National benchmarking (issue 5 §3): every indicator for every ICB from
//! the national extract only, the focus ICB compared with England and with
//! its nearest peers, and the "opportunity" if it were at the peer median.
//!
//! Everything here is computed from tables that have already passed
//! disclosure control ([`crate::publish`]): ICB counts rounded and
//! suppressed, values published only beside published counts. England's
//! counts are the tables' protected totals (not exact: an exact England
//! minus the published ICBs would narrow down a hidden one). Standardised
//! figures take their observed count from the published count (issue 14
//! item 4) and every figure is rounded to [`publish::DECIMALS`].
//!
//! - Proportions are compared with England by the PHE convention: the ICB
//!   differs significantly when England lies outside its 95% Wilson
//!   interval (methods.md §6.5), better or worse by the indicator's
//!   polarity.
//! - Counts of events become directly age- and sex-standardised rates per
//!   100,000 residents with Dobson 95% intervals, and readmissions an
//!   indirectly standardised percentage ([`crate::standardise`]), compared
//!   the same way; the indicator's [`Standardisation`] says which.
//! - Bed days (not independent events), means and medians have no
//!   interval from these tables and are shown but not compared.

use std::collections::BTreeMap;

use haven_governance::disclosure::{Cell, Policy};
use haven_stats::Estimate;
use haven_store::ZoneSession;
use serde::{Deserialize, Serialize};

use crate::catalogue::{Indicator, Method, Polarity, Standardisation};
use crate::engine::{Breakdown, Raw, Scope};
use crate::error::AnalyticsError;
use crate::peers::{nearest, profiles, Peer, Profile};
use crate::publish::{self, Row, Table};
use crate::standardise::{self, STRATA};

/// How the focus ICB compares with England.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub indicator: String,
    pub title: String,
    /// The unit of `value` (standardised counts are per 100,000 residents).
    pub unit: String,
    /// How `value` is formed: crude, or directly or indirectly standardised.
    pub method: String,
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
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    scope: &Scope,
    policy: &Policy,
    indicators: &[Indicator],
    icb: &str,
    k: usize,
) -> Result<Benchmark, AnalyticsError> {
    let period = scope.period;
    let profiles = profiles(session, period)?;
    let peers = nearest(&profiles, icb, k)?;
    let profile = profiles.iter().find(|p| p.icb == icb).cloned().expect("nearest found the focus profile");
    let evaluated = crate::evaluate(session, scope, indicators, &[Breakdown::Icb, Breakdown::Stratum])?;
    let mut out: Vec<(usize, Table, Comparison)> = evaluated
        .iter()
        .filter(|e| e.breakdown == Breakdown::Icb)
        .map(|e| {
            let ind = &indicators[e.indicator];
            let table = publish::protect(policy, ind, Breakdown::Icb, period, &e.raw, &e.total);
            let strata = evaluated.iter().find(|s| s.indicator == e.indicator && s.breakdown == Breakdown::Stratum).map(|s| &s.raw);
            let scale = on_scale(ind, &table, strata, &profiles).rounded();
            let comparison = compare(ind, &table, &scale, icb, &peers, &profiles);
            (e.indicator, table, comparison)
        })
        .collect();
    out.sort_by_key(|(i, _, _)| *i);
    let (tables, comparisons) = out.into_iter().map(|(_, t, c)| (t, c)).unzip();
    Ok(Benchmark { icb: icb.to_owned(), period: period.label(), profile, peers, comparisons, tables, profiles })
}

/// A value with its 95% interval, on the comparison scale.
type Scaled = (Option<f64>, Option<f64>, Option<f64>);

/// Every ICB's value on the scale the comparison is made on, and England's.
struct OnScale {
    by_icb: BTreeMap<String, Scaled>,
    england: Option<f64>,
    unit: String,
    method: &'static str,
}

impl OnScale {
    /// Every figure at the publication's precision, before anything (peer
    /// median, spread, flags) is derived from it.
    fn rounded(mut self) -> OnScale {
        for v in self.by_icb.values_mut() {
            *v = (publish::round_opt(v.0), publish::round_opt(v.1), publish::round_opt(v.2));
        }
        self.england = publish::round_opt(self.england);
        self
    }
}

/// Puts each published ICB row on the comparison scale of the indicator's
/// [`Standardisation`]. A standardised figure is shown only where the
/// row's own count is published, and is computed with that published count
/// as its observed events: the interval of a rate is a function of the
/// observed count, so one from the exact count would give it back.
fn on_scale(ind: &Indicator, table: &Table, strata: Option<&Raw>, profiles: &[Profile]) -> OnScale {
    let profile = |code: &str| profiles.iter().find(|p| p.icb == code);
    let published = |c: Option<Cell>| matches!(c, Some(Cell::Value(_)));
    let count = |c: Option<Cell>| c.and_then(Cell::value);
    let rows = table.rows.iter().filter(|r| r.group != "Unknown");
    let estimate = |e: Estimate| (Some(e.value), e.lower, Some(e.upper));
    let england_count = count(table.total.numerator);
    match (ind.standardisation, strata) {
        (Standardisation::Direct, Some(strata)) => {
            let mut england_pop = vec![0u64; STRATA];
            for p in profiles {
                england_pop.iter_mut().zip(&p.by_age_sex).for_each(|(e, n)| *e += n);
            }
            let by_icb = rows
                .filter_map(|r| {
                    let rate = standardise::direct(strata, Some(&r.group), &profile(&r.group)?.by_age_sex, count(r.numerator)?).rate?;
                    Some((r.group.clone(), estimate(rate)))
                })
                .collect();
            let england = england_count.and_then(|n| standardise::direct(strata, None, &england_pop, n).rate).map(|e| e.value);
            OnScale { by_icb, england, unit: format!("{} per 100,000 population", ind.unit), method: "directly standardised (age, sex; ESP2013)" }
        }
        (Standardisation::Indirect, Some(strata)) => {
            // England's rate from its published counts, as the total row shows it.
            let reference = standardise::reference(strata, table.total.value.map(|v| v / 100.0));
            let by_icb = rows
                .filter(|r| published(r.denominator))
                .filter_map(|r| Some((r.group.clone(), estimate(standardise::indirect(strata, &r.group, &reference, count(r.numerator)?).rate?))))
                .collect();
            let england = table.total.value;
            OnScale { by_icb, england, unit: ind.unit.to_owned(), method: "indirectly standardised (age, sex, admission type, diagnosis/procedure group)" }
        }
        _ if ind.method == Method::Count => {
            // Counts that are not standardised (bed days) are not independent
            // events, so a Poisson interval would overstate precision: shown
            // per 1,000 residents, not compared.
            let per_1000 = |n: Option<Cell>, pop: u64| match n {
                Some(Cell::Value(n)) if pop > 0 => Some(n as f64 * 1000.0 / pop as f64),
                _ => None,
            };
            let by_icb = rows.filter_map(|r| Some((r.group.clone(), (per_1000(r.numerator, profile(&r.group)?.population), None, None)))).collect();
            let england = per_1000(table.total.numerator, profiles.iter().map(|p| p.population).sum());
            OnScale { by_icb, england, unit: format!("{} per 1,000 population", ind.unit), method: "crude" }
        }
        _ => OnScale {
            by_icb: rows.map(|r| (r.group.clone(), (r.value, r.lower, r.upper))).collect(),
            england: table.total.value,
            unit: ind.unit.to_owned(),
            method: "crude",
        },
    }
}

fn compare(ind: &Indicator, table: &Table, scale: &OnScale, icb: &str, peers: &[Peer], profiles: &[Profile]) -> Comparison {
    let value_of = |code: &str| scale.by_icb.get(code).and_then(|v| v.0);
    let row = table.rows.iter().find(|r| r.group == icb);
    let (value, lower, upper) = scale.by_icb.get(icb).copied().unwrap_or((None, None, None));
    let peer_values: Vec<f64> = peers.iter().filter_map(|p| value_of(&p.icb)).collect();
    let all: Vec<f64> = scale.by_icb.values().filter_map(|v| v.0).collect();
    let peer_median = publish::round_opt(quantile(&peer_values, 0.5));
    let spread = (!all.is_empty()).then(|| [0.0, 0.25, 0.75, 1.0].map(|q| quantile(&all, q).map_or(f64::NAN, publish::round)));
    let population = profiles.iter().find(|p| p.icb == icb).map(|p| p.population);
    let (opportunity, opportunity_unit) = opportunity(ind, value, peer_median, row, population);
    let opportunity = publish::round_opt(opportunity);
    Comparison {
        indicator: ind.id.to_owned(),
        title: ind.title.to_owned(),
        unit: scale.unit.clone(),
        method: scale.method.to_owned(),
        polarity: ind.polarity,
        value,
        lower,
        upper,
        england: scale.england,
        peer_median,
        spread,
        vs_england: flag(ind.polarity, lower, upper, scale.england),
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
/// gap × denominator (e.g. bed days from a length-of-stay gap); for a
/// standardised rate per 100,000, gap × residents ÷ 100,000; neutral
/// indicators, medians and crude counts have none.
fn opportunity(ind: &Indicator, value: Option<f64>, peer_median: Option<f64>, row: Option<&Row>, population: Option<u64>) -> (Option<f64>, String) {
    let (Some(v), Some(m), Some(row)) = (value, peer_median, row) else { return (None, String::new()) };
    let gap = match ind.polarity {
        Polarity::LowerIsBetter => v - m,
        Polarity::HigherIsBetter => m - v,
        Polarity::Neutral => return (None, String::new()),
    };
    if ind.standardisation == Standardisation::Direct {
        let Some(pop) = population else { return (None, String::new()) };
        return (Some((gap * pop as f64 / 100_000.0).max(0.0)), ind.unit.to_owned());
    }
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
        let (o, unit) = opportunity(&readmit, Some(12.0), Some(10.0), Some(&row(500)), None);
        assert!((o.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(unit, "readmissions");
        // Better than the peers: nothing to gain.
        assert_eq!(opportunity(&readmit, Some(9.0), Some(10.0), Some(&row(500)), None).0, Some(0.0));
        // Four hours is higher-is-better: 70% against 75% on 1,000 attendances = 50.
        let four = crate::find("ae.four_hours").unwrap();
        assert!((opportunity(&four, Some(70.0), Some(75.0), Some(&row(1000)), None).0.unwrap() - 50.0).abs() < 1e-9);
        // Mean stay 5.0 days against 4.0 over 200 spells: 200 bed days.
        let los = crate::find("apc.los_mean").unwrap();
        let (o, unit) = opportunity(&los, Some(5.0), Some(4.0), Some(&row(200)), None);
        assert!((o.unwrap() - 200.0).abs() < 1e-9);
        assert_eq!(unit, "days");
        // A suppressed denominator gives no figure; neutral indicators have none.
        let hidden = Row { denominator: Some(Cell::Suppressed), ..row(0) };
        assert_eq!(opportunity(&readmit, Some(12.0), Some(10.0), Some(&hidden), None).0, None);
        let oos = crate::find("ae.out_of_hours").unwrap();
        assert_eq!(opportunity(&oos, Some(60.0), Some(50.0), Some(&row(100)), None).0, None);
    }
}
