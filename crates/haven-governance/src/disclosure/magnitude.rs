//! Disclosure control for **magnitude tables** — sums of money or bed days,
//! not counts of people — so that one patient's expensive care cannot be
//! read off a practice's budget line (issue 17 §1).
//!
//! A cell is published only if it passes all three of the checks SACRO
//! applies to magnitude tables (SACRO, "Statistical Analysis Checking of
//! Research Outputs", default rules `threshold`, `nk-rule`, `p-ratio`;
//! ONS/Eurostat *Handbook on Statistical Disclosure Control* §4.2):
//!
//! - **count rule**: more than `threshold` contributors (Haven's count rule,
//!   the same 7 as [`super::DEFAULT_THRESHOLD`]);
//! - **dominance (N, K) rule**: the `n` largest contributors make up less
//!   than `k` of the cell's total (default N = 2, K = 90%);
//! - **p% rule**: the rest of the cell, after the two largest contributors,
//!   is at least `p` of the largest (default 10%), so the second largest
//!   cannot estimate the largest to within p%.
//!
//! A contributor is one patient: callers sum each patient's amounts in a
//! cell first. All three thresholds are settings (the defaults are SACRO's).
//! Along a line whose total is published, a lone suppressed cell takes the
//! next smallest published cell with it (secondary suppression, as
//! [`super::Policy::column`] does for counts).

use serde::{Deserialize, Serialize};

/// The magnitude rules' settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MagnitudePolicy {
    /// A cell needs more than this many contributors.
    pub threshold: usize,
    /// Dominance: the `n` largest contributors ...
    pub dominance_n: usize,
    /// ... must make up less than this share of the total.
    pub dominance_k: f64,
    /// p% rule: the total less the two largest must be at least this share
    /// of the largest.
    pub p: f64,
}

impl Default for MagnitudePolicy {
    fn default() -> Self {
        MagnitudePolicy { threshold: super::DEFAULT_THRESHOLD as usize, dominance_n: 2, dominance_k: 0.9, p: 0.10 }
    }
}

/// Why a magnitude cell is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Withheld {
    TooFewContributors,
    Dominated,
    PPercent,
    /// Withheld so a lone withheld cell cannot be recovered from the total.
    Secondary,
}

/// A published magnitude, or why it is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magnitude {
    Value(i64),
    Withheld(Withheld),
}

impl Magnitude {
    pub fn value(self) -> Option<i64> {
        match self {
            Magnitude::Value(v) => Some(v),
            Magnitude::Withheld(_) => None,
        }
    }
}

impl std::fmt::Display for Magnitude {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Magnitude::Value(v) => write!(f, "{v}"),
            Magnitude::Withheld(_) => f.write_str("*"),
        }
    }
}

impl MagnitudePolicy {
    /// One cell from its contributors' amounts (one per patient; zero and
    /// negative amounts count as contributors but add nothing).
    pub fn cell(&self, contributions: &[i64]) -> Magnitude {
        let mut v: Vec<i64> = contributions.iter().map(|&c| c.max(0)).collect();
        let total: i64 = v.iter().sum();
        if v.len() <= self.threshold {
            return Magnitude::Withheld(Withheld::TooFewContributors);
        }
        v.sort_unstable_by(|a, b| b.cmp(a));
        let top: i64 = v.iter().take(self.dominance_n).sum();
        if total > 0 && top as f64 >= self.dominance_k * total as f64 {
            return Magnitude::Withheld(Withheld::Dominated);
        }
        let rest = total - v[0] - v.get(1).copied().unwrap_or(0);
        if (rest as f64) < self.p * v[0] as f64 {
            return Magnitude::Withheld(Withheld::PPercent);
        }
        Magnitude::Value(total)
    }

    /// A line of cells and its total, each from its contributors, with
    /// secondary suppression: when exactly one cell is withheld and the
    /// total is published, the smallest published non-zero cell is withheld
    /// too.
    pub fn line(&self, cells: &[Vec<i64>]) -> (Vec<Magnitude>, Magnitude) {
        let mut out: Vec<Magnitude> = cells.iter().map(|c| self.cell(c)).collect();
        let all: Vec<i64> = cells.iter().flatten().copied().collect();
        let total = self.cell(&all);
        let withheld = out.iter().filter(|m| m.value().is_none()).count();
        if withheld == 1 && total.value().is_some() {
            let smallest = out.iter().enumerate().filter_map(|(i, m)| m.value().filter(|&v| v > 0).map(|v| (v, i))).min();
            if let Some((_, i)) = smallest {
                out[i] = Magnitude::Withheld(Withheld::Secondary);
            }
        }
        (out, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_rule_needs_more_than_seven_patients() {
        let p = MagnitudePolicy::default();
        assert_eq!(p.cell(&[100; 7]), Magnitude::Withheld(Withheld::TooFewContributors));
        // Eight equal contributors of £1: total 800p, the top two 200p (25%),
        // the rest 600p ≥ 10% of 100p.
        assert_eq!(p.cell(&[100; 8]), Magnitude::Value(800));
    }

    #[test]
    fn one_expensive_patient_dominates_a_budget_line() {
        let p = MagnitudePolicy::default();
        // Ten patients: one £50,000 spell and nine £100 attendances, total
        // 5,090,000p; the two largest, 5,000,000 + 10,000 = 5,010,000p, are
        // 98.4% of it (≥ 90%) → dominated.
        let mut c = vec![5_000_000];
        c.extend([10_000; 9]);
        assert_eq!(c.iter().sum::<i64>(), 5_090_000);
        assert_eq!(p.cell(&c), Magnitude::Withheld(Withheld::Dominated));
    }

    #[test]
    fn the_p_percent_rule_catches_what_dominance_lets_through() {
        let p = MagnitudePolicy::default();
        // Two large patients of 4,000 and 4,000 and eight of 30: total
        // 8,240; top two 8,000 = 97% → dominated anyway. With K = 99%,
        // dominance passes, and the rest (240) is 6% of the largest
        // (4,000) < 10% → the p% rule withholds it.
        let mut c = vec![4_000, 4_000];
        c.extend([30; 8]);
        let loose = MagnitudePolicy { dominance_k: 0.99, ..p };
        assert_eq!(loose.cell(&c), Magnitude::Withheld(Withheld::PPercent));
        // Rest 8 × 60 = 480 = 12% of 4,000: published, total 8,480.
        let mut c = vec![4_000, 4_000];
        c.extend([60; 8]);
        assert_eq!(loose.cell(&c), Magnitude::Value(8_480));
    }

    #[test]
    fn a_lone_withheld_cell_takes_the_next_smallest_with_it() {
        let p = MagnitudePolicy::default();
        let ok = |n: usize, each: i64| vec![each; n];
        // Cells: 3 patients (withheld), 10 × £2, 10 × £1; total of 23 patients published.
        let (cells, total) = p.line(&[ok(3, 100), ok(10, 200), ok(10, 100)]);
        assert_eq!(cells, [Magnitude::Withheld(Withheld::TooFewContributors), Magnitude::Value(2_000), Magnitude::Withheld(Withheld::Secondary)]);
        assert_eq!(total, Magnitude::Value(3_300));
    }
}
