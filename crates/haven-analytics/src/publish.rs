//! Disclosure control of indicator tables: the only way raw counts become
//! something that can leave (DESIGN.md §2; methods.md §1.1).
//!
//! Numerators and denominators are protected as columns with their totals
//! ([`Policy::column`]: 1–7 suppressed, others rounded to 5, secondary
//! suppression so no hidden cell is the total minus the others). A value is
//! published only when every count it is derived from is: a rate beside a
//! published denominator would otherwise give the hidden numerator back.
//! Values come from the unrounded counts (the CCG OIS method), with Wilson
//! intervals for proportions (methods.md §6.5).

use haven_governance::csv_field;
use haven_governance::disclosure::{Cell, Policy};
use serde::Serialize;

use crate::catalogue::{Indicator, Method};
use crate::engine::{Breakdown, Period, Raw};

/// One published line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub group: String,
    /// `None` for medians, which have no numerator count.
    pub numerator: Option<Cell>,
    /// `None` for counts, which have no denominator.
    pub denominator: Option<Cell>,
    pub value: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// One indicator by one breakdown, after disclosure control.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub indicator: String,
    pub title: String,
    pub unit: String,
    pub breakdown: Breakdown,
    pub period: String,
    pub rows: Vec<Row>,
    pub total: Row,
}

/// Protects the raw result of `indicator` by `breakdown`; `total` is the
/// same indicator's raw result with no breakdown (one group). When the
/// total is England (the national extract), it is a national figure and
/// `national_total` publishes it under the national rule (methods.md §1.1
/// suppresses below national level only); the groups stay sub-national.
pub(crate) fn protect(policy: &Policy, national_total: bool, indicator: &Indicator, breakdown: Breakdown, period: Period, raw: &Raw, total: &Raw) -> Table {
    let (nums, mut num_total) = policy.column(&raw.num);
    let (dens, mut den_total) = policy.column(&raw.den);
    let total_policy = if national_total { Policy { national: true, ..*policy } } else { *policy };
    if national_total {
        let t = |v: &[u64]| total_policy.count(v.first().copied().unwrap_or(0));
        (num_total, den_total) = (t(&total.num), t(&total.den));
    }
    let rows = (0..raw.groups.len())
        .map(|i| row(policy, indicator, raw.groups[i].clone(), (raw.num[i], nums[i]), (raw.den[i], dens[i]), raw.value[i]))
        .collect();
    let t = |v: &[u64]| v.first().copied().unwrap_or(0);
    let total = row(&total_policy, indicator, "All".into(), (t(&total.num), num_total), (t(&total.den), den_total), total.value.first().copied().flatten());
    Table {
        indicator: indicator.id.to_owned(),
        title: indicator.title.to_owned(),
        unit: indicator.unit.to_owned(),
        breakdown,
        period: period.label(),
        rows,
        total,
    }
}

fn row(policy: &Policy, ind: &Indicator, group: String, num: (u64, Cell), den: (u64, Cell), median: Option<f64>) -> Row {
    let published = |c: Cell| !c.is_suppressed();
    let mut r = Row { group, numerator: Some(num.1), denominator: Some(den.1), value: None, lower: None, upper: None };
    match ind.method {
        Method::Count => {
            r.denominator = None;
            r.value = num.1.value().map(|v| v as f64);
        }
        Method::Median => {
            r.numerator = None;
            r.value = median.filter(|_| published(den.1) && den.0 > 0);
        }
        Method::Mean | Method::Proportion if published(num.1) && published(den.1) => {
            let scale = if ind.method == Method::Proportion { 100.0 } else { 1.0 };
            r.value = policy.indicator(num.0, den.0).map(|v| v * scale);
            if ind.method == Method::Proportion && r.value.is_some() {
                if let Ok(ci) = haven_stats::wilson_interval(num.0 as f64, den.0 as f64, 0.95) {
                    (r.lower, r.upper) = (Some(ci.lower * 100.0), Some(ci.upper * 100.0));
                }
            }
        }
        Method::Mean | Method::Proportion => {}
    }
    r
}

impl Table {
    /// The rows then the total, except by [`Breakdown::Total`], whose one
    /// row is the total.
    pub fn lines(&self) -> impl Iterator<Item = &Row> {
        let total = (self.breakdown != Breakdown::Total).then_some(&self.total);
        self.rows.iter().chain(total)
    }

    /// The table as CSV: `group,numerator,denominator,value,lower_95,upper_95`,
    /// `*` for a suppressed count, empty for a value not published.
    pub fn csv(&self) -> String {
        let mut out = String::from("group,numerator,denominator,value,lower_95,upper_95\n");
        for r in self.lines() {
            let cell = |c: Option<Cell>| c.map(|c| c.to_string()).unwrap_or_default();
            let f = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                csv_field(&r.group),
                cell(r.numerator),
                cell(r.denominator),
                f(r.value),
                f(r.lower),
                f(r.upper)
            ));
        }
        out
    }
}
