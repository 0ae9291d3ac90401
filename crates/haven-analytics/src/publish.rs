//! Disclosure control of indicator tables: the only way raw counts become
//! something that can leave (DESIGN.md §2; methods.md §1.1).
//!
//! Numerators and denominators are protected as columns with their totals
//! ([`Policy::column`]: 1–7 suppressed, others rounded to 5, secondary
//! suppression so no hidden cell is the total minus the others). A value is
//! published only when every count it is derived from is: a rate beside a
//! published denominator would otherwise give the hidden numerator back.
//!
//! Every value and interval is computed from the **published** counts (the
//! secondary-care method of methods.md §1.1: "calculated from the rounded
//! numerator and denominator"), with Wilson intervals for proportions
//! (methods.md §6.5), so a value times a published denominator gives back
//! the published numerator and nothing finer (issue 14 item 4). What cannot
//! be computed from counts (medians, standardised rates, SHMI ratios) is
//! rounded to the publication's precision ([`DECIMALS`], [`round`]) in
//! every format. The total (England, for the national extract) is the
//! column total under the same rule as the groups — from the unrounded sum,
//! then protected — never the exact figure, which would otherwise give a
//! hidden group back as England minus the others.

use haven_governance::csv_field;
use haven_governance::disclosure::{Cell, Policy};
use serde::{Deserialize, Serialize};

use crate::catalogue::{Indicator, Method};
use crate::engine::{Breakdown, Period, Raw};

/// Decimal places of every published value and interval: the CCG OIS rule
/// "rates rounded to 1 d.p." (methods.md §1.1).
pub const DECIMALS: i32 = 1;

/// `v` at the publication's precision ([`DECIMALS`]); every published
/// value passes through here so CSV, JSON, Parquet and charts agree.
pub fn round(v: f64) -> f64 {
    let scale = 10f64.powi(DECIMALS);
    (v * scale).round() / scale
}

/// [`round`] of an optional value.
pub fn round_opt(v: Option<f64>) -> Option<f64> {
    v.map(round)
}

/// One published line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
/// same indicator's raw result with no breakdown (one group). The total row
/// (England, for the national extract) is published under the same rule as
/// the groups: methods.md §1.1 leaves national figures uncontrolled, but an
/// exact England beside rounded ICB cells gives a hidden ICB back (England
/// minus the others), so Haven does not use that exemption.
pub(crate) fn protect(policy: &Policy, indicator: &Indicator, breakdown: Breakdown, period: Period, raw: &Raw, total: &Raw) -> Table {
    let (nums, num_total) = policy.column(&raw.num);
    let (dens, den_total) = policy.column(&raw.den);
    let rows = (0..raw.groups.len()).map(|i| row(indicator, raw.groups[i].clone(), nums[i], (raw.den[i], dens[i]), raw.value[i])).collect();
    let t = |v: &[u64]| v.first().copied().unwrap_or(0);
    let total = row(indicator, "All".into(), num_total, (t(&total.den), den_total), total.value.first().copied().flatten());
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

/// One published line from its published counts (the exact denominator is
/// used only to know a median has values behind it).
fn row(ind: &Indicator, group: String, num: Cell, den: (u64, Cell), median: Option<f64>) -> Row {
    let mut r = Row { group, numerator: Some(num), denominator: Some(den.1), value: None, lower: None, upper: None };
    match ind.method {
        Method::Count => {
            r.denominator = None;
            r.value = num.value().map(|v| v as f64);
        }
        Method::Median => {
            // Not a function of counts: over at least 8 values (a published
            // denominator), at the publication's precision.
            r.numerator = None;
            r.value = round_opt(median.filter(|_| !den.1.is_suppressed() && den.0 > 0));
        }
        Method::Mean | Method::Proportion => {
            let (Some(n), Some(d)) = (num.value(), den.1.value()) else { return r };
            if d == 0 {
                return r;
            }
            let scale = if ind.method == Method::Proportion { 100.0 } else { 1.0 };
            r.value = Some(round(n as f64 / d as f64 * scale));
            if ind.method == Method::Proportion {
                if let Ok(ci) = haven_stats::wilson_interval(n as f64, d as f64, 0.95) {
                    (r.lower, r.upper) = (Some(round(ci.lower * 100.0)), Some(round(ci.upper * 100.0)));
                }
            }
        }
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
            let f = |v: Option<f64>| v.map(|v| format!("{v:.*}", DECIMALS as usize)).unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(rows: &[(&str, u64, u64)]) -> Raw {
        Raw {
            groups: rows.iter().map(|r| r.0.to_owned()).collect(),
            num: rows.iter().map(|r| r.1).collect(),
            den: rows.iter().map(|r| r.2).collect(),
            value: vec![None; rows.len()],
        }
    }

    /// The one-group total of `rows`.
    fn total(rows: &[(&str, u64, u64)]) -> Raw {
        raw(&[("All", rows.iter().map(|r| r.1).sum(), rows.iter().map(|r| r.2).sum())])
    }

    fn publish(rows: &[(&str, u64, u64)]) -> Table {
        let ind = crate::find("ae.four_hours").unwrap();
        protect(&Policy::default(), &ind, Breakdown::Icb, Period::parse("2024-25").unwrap(), &raw(rows), &total(rows))
    }

    /// The (numerator, denominator) pairs behind published cells `n` and `d`
    /// (HES/ECDS rounding: the true count is within 2 of a published one)
    /// that give the published value and interval.
    fn candidates(r: &Row) -> Vec<(u64, u64)> {
        let (n, d) = (r.numerator.unwrap().value().unwrap(), r.denominator.unwrap().value().unwrap());
        let mut out = Vec::new();
        for x in n - 2..=n + 2 {
            for y in (d - 2..=d + 2).filter(|y| *y >= x) {
                let ci = haven_stats::wilson_interval(x as f64, y as f64, 0.95).unwrap();
                let same = |a: f64, b: Option<f64>| b.is_some_and(|b| (a - b).abs() < 1e-9);
                // The attacker knows the precision: a value matches if it rounds to the published one.
                if same(round(100.0 * x as f64 / y as f64), r.value) && same(round(ci.lower * 100.0), r.lower) && same(round(ci.upper * 100.0), r.upper) {
                    out.push((x, y));
                }
            }
        }
        out
    }

    // issue 14 item 4: no exact count comes back from a published table —
    // not as value × published denominator, not by searching the counts
    // behind the published cells for the published value and interval, not
    // as England minus the other groups.
    #[test]
    fn issue_14_no_unrounded_count_is_recovered_from_a_published_table() {
        let rows = [("A", 1237, 5003), ("B", 3, 40), ("C", 998, 2502), ("D", 40, 52)];
        let t = publish(&rows);
        let a = &t.rows[0];
        assert_eq!((a.numerator, a.denominator), (Some(Cell::Value(1235)), Some(Cell::Value(5005))));
        // Value × published denominator gives the published numerator, to
        // within the value's rounding (0.05 percentage points of 5005).
        let product = a.value.unwrap() / 100.0 * 5005.0;
        assert!((product - 1235.0).abs() <= 0.05 / 100.0 * 5005.0, "{product}");
        // Every pair behind the published cells is as likely: the search
        // finds many, the true one not singled out. (Before, the value at
        // full precision matched only 1237/5003.)
        for r in t.rows.iter().filter(|r| r.value.is_some()) {
            let c = candidates(r);
            assert!(c.len() > 1, "{}: {c:?}", r.group);
        }
        // The value is a function of the published counts alone: every
        // pair of exact counts behind A's cells publishes the same line.
        for (x, y) in [(1233, 5003), (1237, 5007), (1235, 5005)] {
            let mut other = rows;
            other[0] = ("A", x, y);
            assert_eq!(publish(&other).rows[0], *a, "{x}/{y}");
        }

        // England minus the other groups: one group has 1-7 events and the
        // others none. England is protected like the groups, so it never
        // gives the hidden count back.
        for hidden in 1..=7 {
            let t = publish(&[("X", 0, 100), ("Y", hidden, 50), ("Z", 0, 80)]);
            let others: u64 = t.rows.iter().filter(|r| r.group != "Y").filter_map(|r| r.numerator.and_then(Cell::value)).sum();
            let recovered = t.total.numerator.and_then(Cell::value).map(|e| e - others);
            assert_ne!(recovered, Some(hidden), "England {:?}", t.total.numerator);
            assert_eq!(t.total.value, None, "no England rate from a hidden count");
        }
        // A large England is rounded like any other total, with its rate from
        // the rounded counts.
        let t = publish(&rows);
        assert_eq!((t.total.numerator, t.total.denominator), (Some(Cell::Value(2280)), Some(Cell::Value(7595))));
        assert_eq!(t.total.value, Some(round(2280.0 / 7595.0 * 100.0)));
    }

    proptest::proptest! {
        // issue 14 item 4: any two sets of exact counts that publish the same
        // cells for a group publish the same value and interval for it.
        #[test]
        fn issue_14_a_value_depends_only_on_the_published_counts(
            cells in proptest::collection::vec((0u64..3000, 0u64..3000), 1..6),
            pick in 0usize..6,
            shift in (-2i64..=2, -2i64..=2),
        ) {
            let rows: Vec<(String, u64, u64)> = cells.iter().enumerate().map(|(i, (a, b))| (format!("G{i}"), *a.min(b), *a.max(b))).collect();
            let i = pick % rows.len();
            let (n, d) = (rows[i].1 as i64 + shift.0, rows[i].2 as i64 + shift.1);
            proptest::prop_assume!(n >= 0 && d >= n);
            let mut moved = rows.clone();
            moved[i] = (rows[i].0.clone(), n as u64, d as u64);
            fn as_refs(r: &[(String, u64, u64)]) -> Vec<(&str, u64, u64)> {
                r.iter().map(|(g, n, d)| (g.as_str(), *n, *d)).collect()
            }
            let (t1, t2) = (publish(&as_refs(&rows)), publish(&as_refs(&moved)));
            let (r1, r2) = (&t1.rows[i], &t2.rows[i]);
            proptest::prop_assume!(r1.numerator == r2.numerator && r1.denominator == r2.denominator);
            proptest::prop_assert_eq!(r1, r2);
        }
    }
}
