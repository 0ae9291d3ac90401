//! What the web app's pages read off released tables (issue 16 §3): the
//! latest SPC signal of a monthly table, and each group's significance
//! against the table's own total (a practice against its ICB). Pure
//! functions of figures that have already passed disclosure control, so a
//! page can say nothing its tables could not: significance is worked from
//! the *published* counts, exactly as the funnel plot beside it draws them.

use arrow::array::{Array, StringArray};
use haven_charts::SpcClass;
use haven_governance::disclosure::Cell;
use haven_stats::funnel::{phe_proportion_significance, FunnelSignificance};
use haven_store::ZoneSession;
use serde::{Deserialize, Serialize};

use crate::benchmark::Flag;
use crate::catalogue::{Indicator, Method, Polarity};
use crate::figures;
use crate::publish::Table;

/// One practice's place in the drill-down ICB → sub-ICB → PCN → practice:
/// reference data about organisations, no patients.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Area {
    pub practice: String,
    pub pcn: Option<String>,
    pub sub_icb: Option<String>,
}

/// Every GP practice in the reference organisation table with its PCN and
/// its parent (the sub-ICB that commissions for it: ODS epraccur's
/// commissioner column, as `haven_ingest::publisher` loads it); empty when
/// the session holds no organisation table.
pub fn areas(session: &ZoneSession) -> Vec<Area> {
    let q = "SELECT \"ORG_CODE\", \"PCN_CODE\", \"PARENT_CODE\" FROM reference.org WHERE \"ORG_TYPE\" = 'GP_PRACTICE' ORDER BY 1";
    let Ok(batches) = session.sql(q) else { return Vec::new() };
    let mut out = Vec::new();
    for b in &batches {
        // Parquet strings arrive as views (`Utf8View`): cast to plain strings.
        let col = |i: usize| arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Utf8).ok().and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned());
        let (Some(practice), Some(pcn), Some(parent)) = (col(0), col(1), col(2)) else { continue };
        let opt = |a: &StringArray, r: usize| (!a.is_null(r) && !a.value(r).is_empty()).then(|| a.value(r).to_owned());
        for r in 0..b.num_rows() {
            if let Some(p) = opt(&practice, r) {
                out.push(Area { practice: p, pcn: opt(&pcn, r), sub_icb: opt(&parent, r) });
            }
        }
    }
    out
}

/// The Making Data Count reading of a monthly series.
#[derive(Clone, Debug, PartialEq)]
pub struct Trend {
    /// Months with a published value.
    pub months: usize,
    /// The last published month and its value.
    pub latest: Option<(String, f64)>,
    /// The variation class of the last published month (methods.md §7).
    pub signal: SpcClass,
}

/// The XmR reading of a table by month (the chart [`figures::spc`] draws,
/// so the page and the chart cannot disagree); `None` with fewer than two
/// published months.
pub fn trend(ind: &Indicator, table: &Table) -> Option<Trend> {
    let chart = figures::spc(ind, table)?;
    let published: Vec<_> = chart.points.iter().filter(|p| p.value.is_some()).collect();
    let last = published.last()?;
    Some(Trend { months: published.len(), latest: last.value.map(|v| (last.period.clone(), v)), signal: last.class })
}

/// Each row's PHE funnel significance (methods.md §6.6) against the
/// table's total, from the published numerator and denominator: `None`
/// for rows with a suppressed count, for groups not known ("Unknown"), and
/// for every row of an indicator that is not a proportion (counts, means
/// and medians have no funnel here).
pub fn significance(ind: &Indicator, table: &Table) -> Vec<Option<FunnelSignificance>> {
    let centre = table.total.value.map(|v| v / 100.0);
    table
        .rows
        .iter()
        .map(|r| {
            let p_bar = centre.filter(|_| ind.method == Method::Proportion && r.group != "Unknown")?;
            let (x, n) = (r.numerator.and_then(Cell::value)?, r.denominator.and_then(Cell::value)?);
            phe_proportion_significance(x as f64, (n > 0).then_some(n as f64)?, p_bar).ok()
        })
        .collect()
}

/// A significance in the benchmark's words: better or worse where the
/// indicator has a direction, higher or lower where it has none, similar
/// within the 95% limits.
pub fn flag(sig: Option<FunnelSignificance>, polarity: Polarity) -> Flag {
    use FunnelSignificance as S;
    let high = match sig {
        None => return Flag::NotCompared,
        Some(S::NotSignificant) => return Flag::Similar,
        Some(S::High001 | S::High025) => true,
        Some(S::Low001 | S::Low025) => false,
    };
    match (polarity, high) {
        (Polarity::HigherIsBetter, true) | (Polarity::LowerIsBetter, false) => Flag::Better,
        (Polarity::HigherIsBetter, false) | (Polarity::LowerIsBetter, true) => Flag::Worse,
        (Polarity::Neutral, true) => Flag::Higher,
        (Polarity::Neutral, false) => Flag::Lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Breakdown;
    use crate::publish::Row;

    fn row(group: &str, x: Option<u64>, n: u64) -> Row {
        let value = x.map(|x| 100.0 * x as f64 / n as f64);
        Row { group: group.into(), numerator: Some(x.map_or(Cell::Suppressed, Cell::Value)), denominator: Some(Cell::Value(n)), value, lower: None, upper: None }
    }

    fn table(rows: Vec<Row>, total: Row, breakdown: Breakdown) -> Table {
        Table { indicator: "x".into(), title: "x".into(), unit: "%".into(), breakdown, period: "2024-25".into(), rows, total }
    }

    #[test]
    fn practices_are_flagged_against_their_icb_from_published_counts() {
        let ind = crate::find("apc.emergency_readmission_30d").unwrap();
        // ICB 10%. At n = 1,000 the PHE limits (methods.md §6.6) are
        // 8.14%–11.86% (95%) and 7.07%–12.93% (99.8%):
        // 150/1,000 = 15% is above both; 100/1,000 = 10% is within; 60/1,000 =
        // 6% is below both; a suppressed numerator and "Unknown" are not
        // compared.
        let t = table(
            vec![row("P1", Some(150), 1000), row("P2", Some(100), 1000), row("P3", Some(60), 1000), row("P4", None, 1000), row("Unknown", Some(500), 1000)],
            row("ICB", Some(810), 8100),
            Breakdown::Practice,
        );
        let s = significance(&ind, &t);
        assert_eq!(s, vec![Some(FunnelSignificance::High001), Some(FunnelSignificance::NotSignificant), Some(FunnelSignificance::Low001), None, None]);
        // Readmissions: lower is better.
        let flags: Vec<Flag> = s.iter().map(|s| flag(*s, ind.polarity)).collect();
        assert_eq!(flags, vec![Flag::Worse, Flag::Similar, Flag::Better, Flag::NotCompared, Flag::NotCompared]);
        assert_eq!(flag(Some(FunnelSignificance::High025), Polarity::Neutral), Flag::Higher);
        // 12.5% at n = 1,000 is above the 95% limit (11.86%) but not the
        // 99.8% one (12.93%).
        let t = table(vec![row("P5", Some(125), 1000)], row("ICB", Some(810), 8100), Breakdown::Practice);
        assert_eq!(significance(&ind, &t), vec![Some(FunnelSignificance::High025)]);
        // A count has no funnel.
        assert_eq!(significance(&crate::find("apc.spells").unwrap(), &t), vec![None]);
    }

    #[test]
    fn the_trend_is_the_last_published_months_spc_class() {
        let ind = crate::find("apc.emergency_readmission_30d").unwrap();
        // Twelve months at 10% and 11% alternating, a suppressed month
        // (skipped), then 20%. Over the 13 published points the mean is
        // (6 × 10 + 6 × 11 + 20) / 13 = 11.23 and the average moving range
        // (11 × 1 + 9) / 12 = 1.667, so the upper limit is 11.23 + 2.66 ×
        // 1.667 = 15.67: 20% is above it. Readmissions: higher is worse,
        // so the signal is concern.
        let mut rows: Vec<Row> = (0..12).map(|m| row(&format!("2024-{:02}", m + 1), Some(if m % 2 == 0 { 100 } else { 110 }), 1000)).collect();
        rows.push(row("2025-01", None, 1000));
        rows.push(row("2025-02", Some(200), 1000));
        let t = table(rows, row("ICB", Some(1530), 14000), Breakdown::Month);
        let tr = trend(&ind, &t).unwrap();
        assert_eq!(tr.months, 13);
        assert_eq!(tr.latest, Some(("2025-02".into(), 20.0)));
        assert_eq!(tr.signal, SpcClass::Concern);
        // Without the outlier the last month is common cause.
        let mut t2 = t.clone();
        t2.rows.truncate(12);
        assert_eq!(trend(&ind, &t2).unwrap().signal, SpcClass::CommonCause);
        // One month is no series.
        t2.rows.truncate(1);
        assert!(trend(&ind, &t2).is_none());
    }
}
