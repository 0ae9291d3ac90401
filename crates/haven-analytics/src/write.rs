//! Writing protected results: each table as CSV, JSON and Parquet, charts
//! as SVG, and a benchmark's comparison and peer tables. Only types that
//! come out of [`crate::publish`] or [`crate::benchmark`] can be written,
//! and only into a held output's [`Draft`] (issue 14 item 2): there is no
//! folder to write to, so every file of an output is one the publisher
//! rendered, recorded in the draft's manifest. A chart is named
//! `<table stem>.<kind>.svg` after the table whose rows it plots, which is
//! how reviewers are shown its data.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use haven_charts::Style;
use haven_governance::csv_field;
use haven_governance::disclosure::Cell;
use haven_governance::outputs::Draft;

use crate::benchmark::Benchmark;
use crate::catalogue::Indicator;
use crate::engine::Breakdown;
use crate::error::AnalyticsError;
use crate::figures;
use crate::publish::Table;

fn put(draft: &mut Draft, name: String, bytes: &[u8]) -> Result<String, AnalyticsError> {
    draft.put(&name, bytes)?;
    Ok(name)
}

/// Writes `<indicator>.<breakdown>.{csv,json,parquet}`; returns the names
/// written.
pub fn table(table: &Table, draft: &mut Draft) -> Result<Vec<String>, AnalyticsError> {
    let stem = format!("{}.{}", table.indicator, table.breakdown.name());
    let json = serde_json::to_string_pretty(table).expect("tables serialise");
    Ok(vec![
        put(draft, format!("{stem}.csv"), table.csv().as_bytes())?,
        put(draft, format!("{stem}.json"), json.as_bytes())?,
        put(draft, format!("{stem}.parquet"), &parquet(table)?)?,
    ])
}

/// The table as Parquet: the same columns as the CSV, a suppressed count
/// as null with `*_suppressed` true so null never reads as zero.
fn parquet(table: &Table) -> Result<Vec<u8>, AnalyticsError> {
    let rows: Vec<_> = table.lines().collect();
    let count = |f: fn(&crate::publish::Row) -> Option<Cell>| -> (ArrayRef, ArrayRef) {
        let cells: Vec<Option<Cell>> = rows.iter().map(|r| f(r)).collect();
        (
            Arc::new(Int64Array::from(cells.iter().map(|c| c.and_then(Cell::value).map(|v| v as i64)).collect::<Vec<_>>())),
            Arc::new(arrow::array::BooleanArray::from(cells.iter().map(|c| c.map(|c| c.is_suppressed())).collect::<Vec<_>>())),
        )
    };
    let (num, num_s) = count(|r| r.numerator);
    let (den, den_s) = count(|r| r.denominator);
    let float = |f: fn(&crate::publish::Row) -> Option<f64>| -> ArrayRef { Arc::new(Float64Array::from(rows.iter().map(|r| f(r)).collect::<Vec<_>>())) };
    let schema = Arc::new(Schema::new(vec![
        Field::new("group", DataType::Utf8, false),
        Field::new("numerator", DataType::Int64, true),
        Field::new("numerator_suppressed", DataType::Boolean, true),
        Field::new("denominator", DataType::Int64, true),
        Field::new("denominator_suppressed", DataType::Boolean, true),
        Field::new("value", DataType::Float64, true),
        Field::new("lower_95", DataType::Float64, true),
        Field::new("upper_95", DataType::Float64, true),
    ]));
    let fail = |e: &dyn std::fmt::Display| AnalyticsError::Shape { indicator: table.indicator.clone(), reason: e.to_string() };
    let groups: ArrayRef = Arc::new(StringArray::from(rows.iter().map(|r| r.group.as_str()).collect::<Vec<_>>()));
    let batch = RecordBatch::try_new(schema.clone(), vec![groups, num, num_s, den, den_s, float(|r| r.value), float(|r| r.lower), float(|r| r.upper)])
        .map_err(|e| fail(&e))?;
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).map_err(|e| fail(&e))?;
    w.write(&batch).and_then(|_| w.close()).map_err(|e| fail(&e))?;
    Ok(out)
}

/// The charts a table supports: a funnel (proportions by area), an SPC
/// chart (by month) or an inequality chart (by IMD quintile), with the
/// slope index beside an inequality chart. Returns the names written.
pub fn charts(ind: &Indicator, table: &Table, draft: &mut Draft, highlight: &[&str]) -> Result<Vec<String>, AnalyticsError> {
    let style = Style::default();
    let stem = format!("{}.{}", table.indicator, table.breakdown.name());
    let svg = match table.breakdown {
        Breakdown::Month => figures::spc(ind, table).map(|c| ("spc", c.render(&style))),
        Breakdown::ImdQuintile => figures::inequality(ind, table).map(|c| ("inequality", c.render(&style))),
        Breakdown::Practice | Breakdown::Pcn | Breakdown::SubIcb | Breakdown::Provider | Breakdown::Icb => {
            figures::funnel(ind, table, highlight).map(|c| ("funnel", c.render(&style)))
        }
        _ => None,
    };
    let Some((kind, svg)) = svg else { return Ok(Vec::new()) };
    let mut written = vec![put(draft, format!("{stem}.{kind}.svg"), svg.as_bytes())?];
    if let Some(s) = (table.breakdown == Breakdown::ImdQuintile).then(|| figures::sii(ind, table)).flatten() {
        let csv = format!(
            "indicator,sii,sii_lower_95,sii_upper_95,rii,rii_lower_95,rii_upper_95\n{},{:.3},{:.3},{:.3},{:.4},{:.4},{:.4}\n",
            table.indicator, s.sii, s.sii_interval.lower, s.sii_interval.upper, s.rii, s.rii_interval.lower, s.rii_interval.upper
        );
        written.push(put(draft, format!("{stem}.sii.csv"), csv.as_bytes())?);
    }
    Ok(written)
}

/// Writes a benchmark: `benchmark.csv`/`.json` (one line per indicator),
/// `peers.csv`, `benchmark.spine.svg`, and per indicator its ICB table
/// (CSV, JSON, Parquet) with a funnel plot for proportions.
pub fn benchmark(b: &Benchmark, indicators: &[Indicator], draft: &mut Draft) -> Result<Vec<String>, AnalyticsError> {
    let mut written = Vec::new();
    let f = |v: Option<f64>| v.map(|v| format!("{v:.*}", crate::publish::DECIMALS as usize)).unwrap_or_default();
    let mut csv = String::from("indicator,title,unit,method,value,lower_95,upper_95,england,peer_median,vs_england,opportunity,opportunity_unit\n");
    for c in &b.comparisons {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            c.indicator,
            csv_field(&c.title),
            csv_field(&c.unit),
            csv_field(&c.method),
            f(c.value),
            f(c.lower),
            f(c.upper),
            f(c.england),
            f(c.peer_median),
            c.vs_england.label(),
            f(c.opportunity),
            csv_field(&c.opportunity_unit)
        ));
    }
    written.push(put(draft, "benchmark.csv".into(), csv.as_bytes())?);
    written.push(put(draft, "benchmark.json".into(), serde_json::to_string_pretty(b).expect("benchmarks serialise").as_bytes())?);
    // Profiles are reference population data (not counts of patients): 2 d.p.
    let f2 = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    let mut peers = String::from("rank,icb,distance,population,imd_mean_decile,most_deprived_share\n");
    for (i, p) in b.peers.iter().enumerate() {
        let prof = b.profiles.iter().find(|x| x.icb == p.icb);
        peers.push_str(&format!(
            "{},{},{:.3},{},{},{}\n",
            i + 1,
            p.icb,
            p.distance,
            prof.map(|x| x.population.to_string()).unwrap_or_default(),
            f2(prof.map(|x| x.imd_mean_decile)),
            f2(prof.map(|x| x.most_deprived_share))
        ));
    }
    written.push(put(draft, "peers.csv".into(), peers.as_bytes())?);
    written.push(put(draft, "benchmark.spine.svg".into(), figures::spine(b).render(&Style::default()).as_bytes())?);
    let mut highlight: Vec<&str> = vec![b.icb.as_str()];
    highlight.extend(b.peers.iter().map(|p| p.icb.as_str()));
    for t in &b.tables {
        written.extend(table(t, draft)?);
        if let Some(ind) = indicators.iter().find(|i| i.id == t.indicator) {
            written.extend(charts(ind, t, draft, &highlight[..1])?);
        }
    }
    Ok(written)
}

/// SHMI-style mortality: `shmi.csv`, `shmi.json` and `shmi.funnel.svg`.
pub fn mortality(m: &crate::mortality::Mortality, draft: &mut Draft) -> Result<Vec<String>, AnalyticsError> {
    let mut written = vec![
        put(draft, "shmi.csv".into(), m.csv().as_bytes())?,
        put(draft, "shmi.json".into(), serde_json::to_string_pretty(m).expect("mortality serialises").as_bytes())?,
    ];
    if let Some(chart) = figures::shmi_funnel(m) {
        written.push(put(draft, "shmi.funnel.svg".into(), chart.render(&Style::default()).as_bytes())?);
    }
    Ok(written)
}


/// `areas.csv` (`practice,pcn,sub_icb`): each practice's PCN and sub-ICB,
/// for the web app's drill-down (reference data about organisations, no
/// counts; shown to reviewers as a table like every CSV).
pub fn areas(areas: &[crate::insight::Area], draft: &mut Draft) -> Result<Vec<String>, AnalyticsError> {
    let mut csv = String::from("practice,pcn,sub_icb\n");
    for a in areas {
        csv.push_str(&format!("{},{},{}\n", csv_field(&a.practice), csv_field(a.pcn.as_deref().unwrap_or("")), csv_field(a.sub_icb.as_deref().unwrap_or(""))));
    }
    Ok(vec![put(draft, "areas.csv".into(), csv.as_bytes())?])
}
