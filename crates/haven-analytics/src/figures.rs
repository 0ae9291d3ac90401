//! Charts of protected tables, drawn by `haven-charts` (the same code the
//! web app and report packs use). Every chart is built from a [`Table`] or
//! a [`Benchmark`] — values that have already passed disclosure control —
//! so a chart can show nothing a table could not.

use haven_charts::{
    ChartText, FunnelPlot, FunnelPoint, InequalityChart, LimitSample, QuantileBar, SiiLine, SpcChart, SpcClass, SpcPoint, SpineChart,
    SpineRow,
};
use haven_governance::disclosure::Cell;
use haven_stats::spc::{xmr_chart, ImprovementDirection, PointType, SpcOptions};
use haven_stats::{Sii, SiiOptions, SiiQuantile, SiiValueType};

use crate::benchmark::{Benchmark, Flag};
use crate::catalogue::{Indicator, Method, Polarity};
use crate::publish::Table;

fn published(c: Option<Cell>) -> Option<f64> {
    c.and_then(Cell::value).map(|v| v as f64)
}

/// PHE proportion funnel limits (methods.md §6.6) sampled across `max_x`.
fn proportion_limits(centre: f64, max_x: f64) -> (Vec<LimitSample>, Vec<LimitSample>) {
    let p = (centre / 100.0).clamp(1e-9, 1.0 - 1e-9);
    let xs: Vec<f64> = (1..=60).map(|i| (max_x * 1.05) * (i as f64 / 60.0).powi(2)).filter(|x| *x >= 1.0).collect();
    let mut l95 = Vec::new();
    let mut l998 = Vec::new();
    for x in xs {
        if let Ok(f) = haven_stats::funnel::phe_proportion_funnel(p, x, 100.0) {
            l95.push(LimitSample { x, lower: f.low_0_025, upper: f.high_0_025 });
            l998.push(LimitSample { x, lower: f.low_0_001, upper: f.high_0_001 });
        }
    }
    (l95, l998)
}

/// A funnel plot of a proportion indicator across a table's groups (e.g.
/// practices), centred on the table's total; `None` for other methods or
/// when nothing is published.
pub fn funnel(ind: &Indicator, table: &Table, highlight: &[&str]) -> Option<FunnelPlot> {
    if ind.method != Method::Proportion {
        return None;
    }
    let centre = table.total.value?;
    let points: Vec<FunnelPoint> = table
        .rows
        .iter()
        .filter(|r| r.group != "Unknown")
        .filter_map(|r| {
            let den = published(r.denominator).filter(|d| *d > 0.0)?;
            Some(FunnelPoint { highlight: highlight.contains(&r.group.as_str()), ..FunnelPoint::new(&r.group, den, r.value) })
        })
        .collect();
    let max_x = points.iter().map(|p| p.x).fold(0.0, f64::max);
    if points.is_empty() || max_x <= 0.0 {
        return None;
    }
    let (limits_95, limits_998) = proportion_limits(centre, max_x);
    let mut text = ChartText::new(format!("{} by {}", ind.title, table.breakdown.label()));
    text.subtitle = format!("{}; centre line {:.1}%", table.period, centre);
    text.x_axis = "Denominator".into();
    text.y_axis = "%".into();
    text.note = "Limits: PHE proportion funnel, 95% dashed and 99.8% solid. Counts 1-7 suppressed, others rounded to 5.".into();
    Some(FunnelPlot { text, points, centre: Some(centre), limits_95, limits_998, decimals: 1 })
}

/// An XmR chart of a monthly table (Making Data Count rules, methods.md
/// §7); `None` with fewer than two published months.
pub fn spc(ind: &Indicator, table: &Table) -> Option<SpcChart> {
    let rows: Vec<(&str, Option<f64>)> = table.rows.iter().filter(|r| r.group != "Unknown").map(|r| (r.group.as_str(), r.value)).collect();
    let values: Vec<f64> = rows.iter().filter_map(|(_, v)| *v).collect();
    if values.len() < 2 {
        return None;
    }
    let improvement = match ind.polarity {
        Polarity::HigherIsBetter => ImprovementDirection::Increase,
        Polarity::LowerIsBetter => ImprovementDirection::Decrease,
        Polarity::Neutral => ImprovementDirection::Neutral,
    };
    let chart = xmr_chart(&values, &SpcOptions { improvement, ..SpcOptions::default() }).ok()?;
    let mut xmr = chart.points.iter();
    let points = rows
        .iter()
        .map(|(month, v)| {
            let mut p = SpcPoint::new(*month, *v);
            if v.is_some() {
                let x = xmr.next().expect("one XmR point per published month");
                p.mean = Some(chart.limits.mean);
                p.upper = Some(chart.limits.upper_process_limit);
                p.lower = Some(chart.limits.lower_process_limit);
                p.class = match x.point_type {
                    PointType::CommonCause => SpcClass::CommonCause,
                    PointType::SpecialCauseImprovement => SpcClass::Improvement,
                    PointType::SpecialCauseConcern => SpcClass::Concern,
                    PointType::SpecialCauseNeutral => SpcClass::Neutral,
                };
            }
            p
        })
        .collect();
    let mut text = ChartText::new(format!("{} by month", ind.title));
    text.subtitle = format!("{}; XmR chart, limits mean ± 2.66 × average moving range", table.period);
    text.y_axis = table.unit.clone();
    Some(SpcChart { text, points, target: None, decimals: 1 })
}

/// The slope and relative index of inequality of a proportion by IMD
/// quintile (PHE `phe_sii`, methods.md §6.7): quintiles ranked from the
/// most deprived (rank 0), weighted by their published denominators, with
/// standard errors from their 95% Wilson intervals on the logit scale; the
/// SII is in percentage points, simulated with a fixed seed. `None` unless
/// all five quintiles are published with intervals strictly inside 0–100%.
pub fn sii(ind: &Indicator, table: &Table) -> Option<Sii> {
    if ind.method != Method::Proportion {
        return None;
    }
    let mut quantiles = Vec::new();
    for q in ["1", "2", "3", "4", "5"] {
        let r = table.rows.iter().find(|r| r.group == q)?;
        let (v, lo, hi) = (r.value? / 100.0, r.lower? / 100.0, r.upper? / 100.0);
        if lo <= 0.0 || hi >= 1.0 {
            return None;
        }
        let pop = published(r.denominator).filter(|d| *d > 0.0)?;
        quantiles.push(SiiQuantile::from_ci(pop, v, lo, hi, SiiValueType::Proportion).ok()?);
    }
    let options = SiiOptions { value_type: SiiValueType::Proportion, multiplier: 100.0, repetitions: 10_000, seed: 20_131, ..SiiOptions::default() };
    haven_stats::slope_index(&quantiles, &options).ok()
}

/// Bars by IMD quintile (1 = most deprived, ranked by mid-point of the
/// population fifth), with the SII line for proportions; `None` when the
/// table is not by quintile.
pub fn inequality(ind: &Indicator, table: &Table) -> Option<InequalityChart> {
    let bars: Vec<QuantileBar> = table
        .rows
        .iter()
        .filter_map(|r| {
            let q: f64 = r.group.parse().ok()?;
            Some(QuantileBar { lower: r.lower, upper: r.upper, ..QuantileBar::new(format!("Quintile {}", r.group), (q - 0.5) / 5.0, r.value) })
        })
        .collect();
    if bars.is_empty() || ind.method == Method::Count {
        return None;
    }
    let sii = sii(ind, table);
    let mut text = ChartText::new(format!("{} by deprivation", ind.title));
    text.subtitle = match &sii {
        Some(s) => format!(
            "{}; IMD quintile 1 = most deprived; SII {:.1} ({:.1} to {:.1}) percentage points",
            table.period, s.sii, s.sii_interval.lower, s.sii_interval.upper
        ),
        None => format!("{}; IMD quintile 1 = most deprived", table.period),
    };
    text.x_axis = "Deprivation rank (most deprived left)".into();
    text.y_axis = table.unit.clone();
    let line = sii.map(|s| SiiLine { intercept: s.fit.intercept * 100.0, slope: s.sii });
    Some(InequalityChart { text, bars, sii: line, decimals: 1 })
}

/// The focus ICB's spine chart against England and all ICBs.
pub fn spine(b: &Benchmark) -> SpineChart {
    let rows = b
        .comparisons
        .iter()
        .map(|c| SpineRow {
            indicator: format!("{} ({})", c.title, c.unit),
            local: c.value,
            england: c.england,
            min: c.spread.map(|s| s[0]),
            q25: c.spread.map(|s| s[1]),
            q75: c.spread.map(|s| s[2]),
            max: c.spread.map(|s| s[3]),
            significance: match c.vs_england {
                Flag::Better => haven_charts::Significance::Better,
                Flag::Worse => haven_charts::Significance::Worse,
                Flag::Similar => haven_charts::Significance::Similar,
                // Significantly different with no better direction: the
                // four Fingertips colours have no neutral shade, so the
                // marker stays uncoloured; the CSV carries the flag.
                Flag::Higher | Flag::Lower | Flag::NotCompared => haven_charts::Significance::NotCompared,
            },
            polarity: match c.polarity {
                Polarity::HigherIsBetter => haven_charts::Polarity::HigherIsBetter,
                Polarity::LowerIsBetter => haven_charts::Polarity::LowerIsBetter,
                Polarity::Neutral => haven_charts::Polarity::NoJudgement,
            },
            decimals: 1,
        })
        .collect();
    let mut text = ChartText::new(format!("{} against England, {}", b.icb, b.period));
    text.subtitle = "National extract; ICB counts rounded and suppressed (methods.md §1.1)".into();
    text.note = "Significance: England outside the ICB's 95% interval. Event counts are age-sex standardised rates (direct, ESP2013); readmissions indirectly standardised. Bed days, means and medians are not compared.".into();
    SpineChart { text, local_name: b.icb.clone(), rows }
}

/// The SHMI funnel: each provider's ratio against its expected deaths,
/// centred on 1 with the over-dispersed SHMI limits (methods.md §5);
/// `None` when no ratio is published.
pub fn shmi_funnel(m: &crate::mortality::Mortality) -> Option<FunnelPlot> {
    let points: Vec<FunnelPoint> = m.providers.iter().filter(|p| p.ratio.is_some()).map(|p| FunnelPoint::new(&p.provider, p.expected, p.ratio)).collect();
    let max_x = points.iter().map(|p| p.x).fold(0.0, f64::max);
    if points.is_empty() || max_x <= 0.0 {
        return None;
    }
    let limits = |c: f64| -> Vec<LimitSample> {
        (1..=60)
            .map(|i| (max_x * 1.05) * (i as f64 / 60.0).powi(2))
            .filter(|x| *x >= 1.0)
            .filter_map(|x| haven_stats::shmi_limits(x, m.tau2, c).ok().map(|l| LimitSample { x, lower: l.lower, upper: l.upper }))
            .collect()
    };
    let mut text = ChartText::new("SHMI-style mortality ratio by provider");
    text.subtitle = format!("{}; observed / expected deaths; τ² = {:.4}", m.period, m.tau2);
    text.x_axis = "Expected deaths".into();
    text.y_axis = "Ratio".into();
    text.note = "Limits: SHMI method with 10% trimmed over-dispersion, 95% dashed and 99.8% solid. Ratios hidden where deaths are 1-7.".into();
    Some(FunnelPlot { text, points, centre: Some(1.0), limits_95: limits(0.95), limits_998: limits(0.998), decimals: 3 })
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Breakdown;
    use crate::publish::Row;

    /// Quintiles 1 (most deprived) to 5 at 10, 12, 14, 16, 18% of 1,000
    /// each, with their Wilson intervals.
    fn by_quintile() -> Table {
        let rows = (1..=5)
            .map(|q| {
                let x = 80.0 + 20.0 * q as f64;
                let ci = haven_stats::wilson_interval(x, 1000.0, 0.95).unwrap();
                Row {
                    group: q.to_string(),
                    numerator: Some(Cell::Value(x as u64)),
                    denominator: Some(Cell::Value(1000)),
                    value: Some(x / 10.0),
                    lower: Some(ci.lower * 100.0),
                    upper: Some(ci.upper * 100.0),
                }
            })
            .collect::<Vec<_>>();
        let total = rows[0].clone();
        Table { indicator: "x".into(), title: "x".into(), unit: "%".into(), breakdown: Breakdown::ImdQuintile, period: "2024-25".into(), rows, total }
    }

    #[test]
    fn the_slope_index_of_a_linear_gradient_is_its_slope_across_the_ranks() {
        let ind = crate::find("apc.emergency_readmission_30d").unwrap();
        // Equal fifths sit at ranks 0.1, 0.3, …, 0.9; the values rise 2 points
        // per 0.2 of rank, so the fitted line rises 10 points from rank 0 to 1
        // and starts at 10 − 0.1 × 10 = 9.
        let s = sii(&ind, &by_quintile()).unwrap();
        assert!((s.sii - 10.0).abs() < 1e-9, "{}", s.sii);
        assert!((s.fit.intercept * 100.0 - 9.0).abs() < 1e-9);
        assert!(s.sii_interval.lower < 10.0 && 10.0 < s.sii_interval.upper);
        // RII = fitted at rank 1 ÷ fitted at rank 0 = 19 / 9.
        assert!((s.rii - 19.0 / 9.0).abs() < 1e-9);
        // A suppressed quintile means no index.
        let mut t = by_quintile();
        t.rows[2].value = None;
        assert!(sii(&ind, &t).is_none());
        // Counts have none either.
        assert!(sii(&crate::find("apc.spells").unwrap(), &by_quintile()).is_none());
    }
}
