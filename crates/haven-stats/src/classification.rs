//! Evaluation of a risk score against a binary outcome: discrimination,
//! calibration, accuracy and case finding.
//!
//! * [`auc`] and [`auc_delong`] — the area under the ROC curve as the
//!   Mann–Whitney statistic, ties counted ½ (Hanley & McNeil, *Radiology*
//!   1982;143:29–36), with the variance of DeLong, DeLong & Clarke-Pearson
//!   (*Biometrics* 1988;44:837–45). For m events X and n non-events Y,
//!   ψ(x, y) = 1 if x > y, ½ if x = y, 0 otherwise, and
//!
//!   ```text
//!   AUC    = (1/mn) Σᵢ Σⱼ ψ(Xᵢ, Yⱼ)
//!   V10(Xᵢ) = (1/n) Σⱼ ψ(Xᵢ, Yⱼ)        V01(Yⱼ) = (1/m) Σᵢ ψ(Xᵢ, Yⱼ)
//!   S10 = Σᵢ (V10(Xᵢ) − AUC)² / (m − 1)  S01 = Σⱼ (V01(Yⱼ) − AUC)² / (n − 1)
//!   Var(AUC) = S10/m + S01/n
//!   ```
//!
//!   The structural components are computed in O(N log N) from one sort,
//!   as in Sun & Xu, "Fast implementation of DeLong's algorithm for
//!   comparing the areas under correlated receiver operating characteristic
//!   curves", *IEEE Signal Processing Letters* 2014;21:1389–93
//!   (doi:10.1109/LSP.2014.2337313): their midranks give, for a score
//!   shared by a tie group, V10 = (non-events below + ½ non-events tied)/n
//!   and V01 = (events above + ½ events tied)/m, which is what is summed
//!   here group by group. The interval is the Wald interval
//!   AUC ± z·√Var on the AUC scale, clamped to [0, 1] (convention chosen
//!   here).
//! * [`calibration_bins`] — equal-count groups (deciles for 10) of
//!   predicted risk with count, observed events and expected events
//!   Σp (the Hosmer–Lemeshow grouping, Hosmer & Lemeshow, *Applied
//!   Logistic Regression*, 2nd ed. 2000, §5.2.2). Tie rule: rows are sorted
//!   by predicted risk with ties kept in input order (a stable sort), and
//!   group g takes sorted positions ⌊gN/G⌋ to ⌊(g + 1)N/G⌋ − 1, so the
//!   groups' sizes differ by at most one and rows tied at an edge are split
//!   between the two groups by their input order.
//! * [`calibration_slope_intercept`] — following Van Calster et al., "A
//!   calibration hierarchy for risk models was defined: from utopia to
//!   empirical data", *J Clin Epidemiol* 2016;74:167–76, and "Calibration:
//!   the Achilles heel of predictive analytics", *BMC Medicine*
//!   2019;17:230: the **slope** is b in logit P(y = 1) = a + b·logit(p);
//!   the **intercept** is calibration-in-the-large, a in
//!   logit P(y = 1) = a + offset(logit p) (slope fixed at 1). Ideal values
//!   are 1 and 0. Predicted risks are clamped to [10⁻¹², 1 − 10⁻¹²] before
//!   the logit so a risk of exactly 0 or 1 stays finite.
//! * [`brier`] — Brier score (1/N) Σ (pᵢ − yᵢ)² (Brier, *Monthly Weather
//!   Review* 1950;78:1–3).
//! * [`top_shares`] — the share of all events (or of any non-negative
//!   weight, such as admissions) among the top fraction q of rows by score.
//!   The top q holds exactly k = q·N rows, a real number; a tie group that
//!   straddles the cut contributes its weight pro rata, (k − rows above)/
//!   (group size) of it, so the answer does not depend on input order.
//!
//! Scores and risks must be finite; a NaN is refused, not ranked.

use crate::check;
use crate::dist::z_for;
use crate::error::{Result, StatsError};
use crate::logistic::{fit_logistic_dense, LogisticOptions};

/// Predicted risks are clamped to [`RISK_FLOOR`, 1 − `RISK_FLOOR`] before
/// taking the logit in [`calibration_slope_intercept`].
pub const RISK_FLOOR: f64 = 1e-12;

/// The AUC with its DeLong variance and Wald interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AucEstimate {
    /// Area under the ROC curve, ties counted ½.
    pub auc: f64,
    /// DeLong variance S10/m + S01/n.
    pub variance: f64,
    /// Lower limit, AUC − z·√variance clamped to ≥ 0.
    pub lower: f64,
    /// Upper limit, AUC + z·√variance clamped to ≤ 1.
    pub upper: f64,
    /// Number of events (outcome true), m.
    pub events: usize,
    /// Number of non-events (outcome false), n.
    pub non_events: usize,
}

/// One equal-count group of predicted risk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CalibrationBin {
    /// Rows in the group.
    pub count: usize,
    /// Rows with the outcome.
    pub observed: usize,
    /// Σ p over the group's rows.
    pub expected: f64,
    /// Smallest predicted risk in the group.
    pub min_risk: f64,
    /// Largest predicted risk in the group.
    pub max_risk: f64,
}

/// Calibration slope and intercept (calibration-in-the-large).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CalibrationFit {
    /// b in logit P(y) = a + b·logit(p); 1 is ideal.
    pub slope: f64,
    /// a in logit P(y) = a + offset(logit p); 0 is ideal.
    pub intercept: f64,
}

/// The weight captured among the top fraction of rows by score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Capture {
    /// The fraction q of rows taken from the top.
    pub fraction: f64,
    /// Rows taken, q·N (not rounded).
    pub rows: f64,
    /// Weight of the rows taken (a straddling tie group pro rata).
    pub captured: f64,
    /// Weight of all rows.
    pub total: f64,
    /// captured / total.
    pub share: f64,
}

/// Per tie group of scores (ascending): events and non-events in it.
struct TieGroup {
    events: usize,
    non_events: usize,
}

/// Checks parallel scores and outcomes and counts the events.
fn validate_binary(scores: &[f64], outcomes: &[bool], what: &'static str) -> Result<usize> {
    check::same_length(&[scores.len(), outcomes.len()], "scores and outcomes")?;
    for &s in scores {
        check::finite(s, what)?;
    }
    Ok(outcomes.iter().filter(|&&y| y).count())
}

/// Tie groups of `scores` in ascending order, from one O(N log N) sort.
fn tie_groups(scores: &[f64], outcomes: &[bool]) -> Vec<TieGroup> {
    let mut pairs: Vec<(f64, bool)> = scores
        .iter()
        .copied()
        .zip(outcomes.iter().copied())
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    tie_ranges(&pairs)
        .into_iter()
        .map(|r| {
            let events = pairs[r.clone()].iter().filter(|q| q.1).count();
            TieGroup {
                events,
                non_events: r.len() - events,
            }
        })
        .collect()
}

/// The runs of equal scores in `pairs`, sorted by score: −0.0 sorts just
/// before 0.0 and compares equal to it, so they are one run.
fn tie_ranges<T>(pairs: &[(f64, T)]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let end = start + pairs[start..].iter().take_while(|q| q.0 == pairs[start].0).count();
        out.push(start..end);
        start = end;
    }
    out
}

/// (V10, V01) shared by every row of each tie group, in ascending order.
fn structural_components(groups: &[TieGroup], m: usize, n: usize) -> Vec<(f64, f64)> {
    let (mf, nf) = (m as f64, n as f64);
    let mut non_events_below = 0usize;
    let mut events_below = 0usize;
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let events_above = m - events_below - g.events;
        let v10 = (non_events_below as f64 + 0.5 * g.non_events as f64) / nf;
        let v01 = (events_above as f64 + 0.5 * g.events as f64) / mf;
        out.push((v10, v01));
        non_events_below += g.non_events;
        events_below += g.events;
    }
    out
}

/// The AUC (Mann–Whitney statistic, ties ½) of `scores` for `outcomes`.
///
/// Errors: [`StatsError::LengthMismatch`], [`StatsError::NotFinite`] for a
/// NaN or infinite score, [`StatsError::TooFew`] without at least one event
/// and one non-event.
pub fn auc(scores: &[f64], outcomes: &[bool]) -> Result<f64> {
    let m = validate_binary(scores, outcomes, "score")?;
    let n = outcomes.len() - m;
    check::at_least(m.min(n), 1, "AUC events and non-events")?;
    let groups = tie_groups(scores, outcomes);
    let v = structural_components(&groups, m, n);
    let sum: f64 = groups
        .iter()
        .zip(&v)
        .map(|(g, (v10, _))| g.events as f64 * v10)
        .sum();
    Ok(sum / m as f64)
}

/// The AUC with its DeLong (1988) variance and Wald interval at
/// `confidence` (0.95 or 95), in O(N log N).
///
/// Errors as [`auc`], and [`StatsError::TooFew`] without at least two
/// events and two non-events (the variances divide by m − 1 and n − 1).
pub fn auc_delong(scores: &[f64], outcomes: &[bool], confidence: f64) -> Result<AucEstimate> {
    let z = z_for(confidence)?;
    let m = validate_binary(scores, outcomes, "score")?;
    let n = outcomes.len() - m;
    check::at_least(m.min(n), 2, "DeLong AUC variance events and non-events")?;
    let groups = tie_groups(scores, outcomes);
    let v = structural_components(&groups, m, n);
    let (mf, nf) = (m as f64, n as f64);
    let auc: f64 = groups
        .iter()
        .zip(&v)
        .map(|(g, (v10, _))| g.events as f64 * v10)
        .sum::<f64>()
        / mf;
    let mut s10 = 0.0;
    let mut s01 = 0.0;
    for (g, (v10, v01)) in groups.iter().zip(&v) {
        s10 += g.events as f64 * (v10 - auc).powi(2);
        s01 += g.non_events as f64 * (v01 - auc).powi(2);
    }
    let variance = s10 / (mf - 1.0) / mf + s01 / (nf - 1.0) / nf;
    let half = z * variance.sqrt();
    Ok(AucEstimate {
        auc,
        variance,
        lower: (auc - half).max(0.0),
        upper: (auc + half).min(1.0),
        events: m,
        non_events: n,
    })
}

/// Checks that every risk is a probability in [0, 1].
fn validate_risks(risks: &[f64], outcomes: &[bool]) -> Result<usize> {
    let events = validate_binary(risks, outcomes, "predicted risk")?;
    if risks.iter().any(|p| !(0.0..=1.0).contains(p)) {
        return Err(StatsError::OutOfDomain {
            what: "predicted risk",
        });
    }
    Ok(events)
}

/// Equal-count groups of predicted risk, lowest first (deciles for
/// `groups` = 10); ties at an edge split by input order (module docs).
///
/// Errors: as [`brier`], and [`StatsError::TooFew`] for fewer rows than
/// groups or no groups.
pub fn calibration_bins(
    risks: &[f64],
    outcomes: &[bool],
    groups: usize,
) -> Result<Vec<CalibrationBin>> {
    validate_risks(risks, outcomes)?;
    check::at_least(groups, 1, "calibration groups")?;
    check::at_least(risks.len(), groups, "calibration rows (one per group)")?;
    let mut order: Vec<usize> = (0..risks.len()).collect();
    // Stable: tied risks keep their input order.
    order.sort_by(|&a, &b| risks[a].total_cmp(&risks[b]));
    let total = risks.len();
    let bins = (0..groups)
        .map(|g| {
            let rows = &order[g * total / groups..(g + 1) * total / groups];
            CalibrationBin {
                count: rows.len(),
                observed: rows.iter().filter(|&&i| outcomes[i]).count(),
                expected: rows.iter().map(|&i| risks[i]).sum(),
                min_risk: risks[rows[0]],
                max_risk: risks[rows[rows.len() - 1]],
            }
        })
        .collect();
    Ok(bins)
}

/// logit of a risk clamped to [`RISK_FLOOR`, 1 − `RISK_FLOOR`].
fn clamped_logit(p: f64) -> f64 {
    let p = p.clamp(RISK_FLOOR, 1.0 - RISK_FLOOR);
    (p / (1.0 - p)).ln()
}

/// Calibration slope and calibration-in-the-large (Van Calster 2016, 2019;
/// module docs).
///
/// Errors: as [`brier`]; [`StatsError::TooFew`] without at least one event
/// and one non-event; [`StatsError::Undefined`] when every risk is the same
/// (the slope's design is singular).
pub fn calibration_slope_intercept(risks: &[f64], outcomes: &[bool]) -> Result<CalibrationFit> {
    let events = validate_risks(risks, outcomes)?;
    check::at_least(
        events.min(risks.len() - events),
        1,
        "calibration events and non-events",
    )?;
    let offsets: Vec<f64> = risks.iter().map(|&p| clamped_logit(p)).collect();
    let design: Vec<f64> = offsets.iter().flat_map(|&o| [1.0, o]).collect();
    let y: Vec<f64> = outcomes
        .iter()
        .map(|&y| if y { 1.0 } else { 0.0 })
        .collect();
    let opts = LogisticOptions {
        max_iter: 100,
        tolerance: 1e-10,
        ridge: 0.0,
    };
    let slope_fit = fit_logistic_dense(&design, 2, &vec![1.0; y.len()], &y, opts)?;
    Ok(CalibrationFit {
        slope: slope_fit.coefficients[1],
        intercept: offset_intercept(&offsets, events as f64),
    })
}

/// σ(η), stable for large |η|.
fn sigmoid(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// The a solving Σ σ(a + oᵢ) = events (the maximum-likelihood intercept
/// with offsets o), with 0 < events < N. The left side increases strictly
/// in a, so the root is bracketed by doubling and then found by Newton
/// steps that fall back to bisection when they leave the bracket.
fn offset_intercept(offsets: &[f64], events: f64) -> f64 {
    let excess = |a: f64| offsets.iter().map(|&o| sigmoid(a + o)).sum::<f64>() - events;
    let (mut lo, mut hi) = (-1.0, 1.0);
    while excess(lo) > 0.0 {
        lo *= 2.0;
    }
    while excess(hi) < 0.0 {
        hi *= 2.0;
    }
    let mut a = 0.0_f64.clamp(lo, hi);
    for _ in 0..200 {
        let f = excess(a);
        if f > 0.0 {
            hi = a
        } else {
            lo = a
        }
        let slope: f64 = offsets
            .iter()
            .map(|&o| sigmoid(a + o) * sigmoid(-(a + o)))
            .sum();
        let newton = a - f / slope;
        let next = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - a).abs() < 1e-13 * (1.0 + a.abs()) {
            return next;
        }
        a = next;
    }
    a
}

/// Brier score, the mean squared difference between risk and outcome.
///
/// Errors: [`StatsError::LengthMismatch`], [`StatsError::NotFinite`],
/// [`StatsError::OutOfDomain`] for a risk outside [0, 1],
/// [`StatsError::TooFew`] for no rows.
pub fn brier(risks: &[f64], outcomes: &[bool]) -> Result<f64> {
    validate_risks(risks, outcomes)?;
    check::at_least(risks.len(), 1, "Brier score rows")?;
    let sum: f64 = risks
        .iter()
        .zip(outcomes)
        .map(|(&p, &y)| (p - if y { 1.0 } else { 0.0 }).powi(2))
        .sum();
    Ok(sum / risks.len() as f64)
}

/// For each fraction q in `fractions`, the share of the total `weights`
/// among the top q·N rows by `scores` (ties pro rata; module docs). Weights
/// are events (1.0/0.0) or counts such as admissions.
///
/// Errors: [`StatsError::LengthMismatch`], [`StatsError::NotFinite`],
/// [`StatsError::Negative`] for a weight below 0, [`StatsError::Probability`]
/// for a fraction outside (0, 1] , [`StatsError::NotPositive`] when the
/// weights sum to 0.
pub fn top_shares(scores: &[f64], weights: &[f64], fractions: &[f64]) -> Result<Vec<Capture>> {
    check::same_length(&[scores.len(), weights.len()], "scores and weights")?;
    for (&s, &w) in scores.iter().zip(weights) {
        check::finite(s, "score")?;
        check::non_negative(w, "weight")?;
    }
    for &q in fractions {
        if !(q > 0.0 && q <= 1.0) {
            return Err(StatsError::Probability {
                what: "top fraction",
            });
        }
    }
    let total = check::positive(weights.iter().sum::<f64>(), "total weight")?;
    let mut pairs: Vec<(f64, f64)> = scores
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    // Descending tie groups as (rows, weight).
    let groups: Vec<(f64, f64)> = tie_ranges(&pairs).into_iter().map(|r| (r.len() as f64, pairs[r].iter().map(|q| q.1).sum())).collect();
    let n = scores.len() as f64;
    Ok(fractions
        .iter()
        .map(|&fraction| {
            let rows = fraction * n;
            let captured = captured_weight(&groups, rows);
            Capture {
                fraction,
                rows,
                captured,
                total,
                share: captured / total,
            }
        })
        .collect())
}

/// Weight of the first `rows` rows of descending tie groups, the group
/// straddling the cut pro rata.
fn captured_weight(groups: &[(f64, f64)], rows: f64) -> f64 {
    let mut taken = 0.0;
    let mut weight = 0.0;
    for &(size, w) in groups {
        if taken + size <= rows {
            taken += size;
            weight += w;
        } else {
            weight += w * (rows - taken) / size;
            break;
        }
    }
    weight
}

#[cfg(test)]
#[path = "classification_tests.rs"]
mod tests;
