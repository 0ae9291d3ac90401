//! The held-out evaluation report: for the model and for every comparison
//! score on the same held-out rows, discrimination (AUC with its DeLong
//! interval), calibration (by deciles, slope, calibration-in-the-large),
//! accuracy (Brier score) and case finding (the share of next year's
//! events, and of admissions when counts are given, in the top 0.5%, 1%
//! and 5%). Every number is computed here from the scores and outcomes by
//! `haven_stats::classification`, whose module documents the conventions
//! (ties, decile edges, the logit clamp).

use serde::{Deserialize, Serialize};

use haven_stats::{auc_delong, brier, calibration_bins, calibration_slope_intercept, top_shares, StatsError};

use crate::error::{FeatureFault, Result, RiskError};

/// One score to evaluate: a name and a risk in [0, 1] per held-out row.
#[derive(Clone, Copy, Debug)]
pub struct NamedRisk<'a> {
    pub name: &'a str,
    pub risks: &'a [f64],
}

/// Options for [`evaluate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvaluationOptions {
    /// Confidence of the AUC interval (0.95).
    pub confidence: f64,
    /// Calibration groups (10, deciles).
    pub groups: usize,
    /// Top fractions for case finding (0.005, 0.01, 0.05).
    pub fractions: Vec<f64>,
}

impl Default for EvaluationOptions {
    fn default() -> Self {
        EvaluationOptions { confidence: 0.95, groups: 10, fractions: vec![0.005, 0.01, 0.05] }
    }
}

/// The AUC and its interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AucReport {
    pub auc: f64,
    pub lower: f64,
    pub upper: f64,
    pub confidence: f64,
    /// DeLong variance.
    pub variance: f64,
}

/// One calibration group, lowest risk first.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRow {
    pub count: usize,
    /// People with the outcome.
    pub observed: usize,
    /// Σ predicted risk.
    pub expected: f64,
    pub min_risk: f64,
    pub max_risk: f64,
}

/// Case finding at one top fraction.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaptureRow {
    pub fraction: f64,
    /// Share of people with the outcome found in the top fraction.
    pub events_share: f64,
    /// Share of all admissions found there, when counts were given.
    pub admissions_share: Option<f64>,
}

/// Every metric for one score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreReport {
    pub name: String,
    pub auc: AucReport,
    pub calibration: Vec<CalibrationRow>,
    /// Calibration slope; `None` when every risk is the same.
    pub calibration_slope: Option<f64>,
    /// Calibration-in-the-large; `None` when every risk is the same.
    pub calibration_intercept: Option<f64>,
    pub brier: f64,
    pub capture: Vec<CaptureRow>,
}

/// The report over the held-out rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    /// Held-out people.
    pub rows: usize,
    /// Held-out people with the outcome.
    pub events: usize,
    /// Their admissions, when counts were given.
    pub admissions: Option<f64>,
    pub options: EvaluationOptions,
    /// One report per score, in the order given.
    pub scores: Vec<ScoreReport>,
}

impl EvaluationReport {
    /// The report for the score called `name`.
    pub fn score(&self, name: &str) -> Option<&ScoreReport> {
        self.scores.iter().find(|s| s.name == name)
    }
}

/// Wraps a statistics error with the metric that failed.
fn stats(what: &'static str) -> impl Fn(StatsError) -> RiskError {
    move |source| RiskError::Stats { what, source }
}

/// Evaluates every score in `scores` against `outcome` (one per held-out
/// row), with optional admission counts per row for the admissions share.
///
/// Errors: a score or the counts of the wrong length
/// ([`RiskError::Features`]); a metric that cannot be computed, such as no
/// events, fewer than two of either outcome, or a risk outside [0, 1]
/// ([`RiskError::Stats`]).
pub fn evaluate(outcome: &[bool], admissions: Option<&[f64]>, scores: &[NamedRisk<'_>], options: &EvaluationOptions) -> Result<EvaluationReport> {
    if admissions.is_some_and(|a| a.len() != outcome.len()) {
        return Err(RiskError::Features(FeatureFault::AdmissionsLength));
    }
    let reports = scores.iter().map(|s| score_report(outcome, admissions, s, options)).collect::<Result<Vec<_>>>()?;
    Ok(EvaluationReport {
        rows: outcome.len(),
        events: outcome.iter().filter(|&&y| y).count(),
        admissions: admissions.map(|a| a.iter().sum()),
        options: options.clone(),
        scores: reports,
    })
}

/// Every metric for one score.
fn score_report(outcome: &[bool], admissions: Option<&[f64]>, score: &NamedRisk<'_>, options: &EvaluationOptions) -> Result<ScoreReport> {
    let risks = score.risks;
    if risks.len() != outcome.len() {
        return Err(RiskError::Features(FeatureFault::ScoreLength(score.name.to_owned())));
    }
    let a = auc_delong(risks, outcome, options.confidence).map_err(stats("AUC"))?;
    let calibration = calibration_bins(risks, outcome, options.groups)
        .map_err(stats("calibration groups"))?
        .into_iter()
        .map(|b| CalibrationRow { count: b.count, observed: b.observed, expected: b.expected, min_risk: b.min_risk, max_risk: b.max_risk })
        .collect();
    let line = match calibration_slope_intercept(risks, outcome) {
        Ok(fit) => Some(fit),
        Err(StatsError::Undefined { .. }) => None,
        Err(e) => return Err(stats("calibration slope")(e)),
    };
    Ok(ScoreReport {
        name: score.name.to_owned(),
        auc: AucReport { auc: a.auc, lower: a.lower, upper: a.upper, confidence: options.confidence, variance: a.variance },
        calibration,
        calibration_slope: line.map(|f| f.slope),
        calibration_intercept: line.map(|f| f.intercept),
        brier: brier(risks, outcome).map_err(stats("Brier score"))?,
        capture: capture(risks, outcome, admissions, &options.fractions)?,
    })
}

/// Events' (and admissions') shares in each top fraction.
fn capture(risks: &[f64], outcome: &[bool], admissions: Option<&[f64]>, fractions: &[f64]) -> Result<Vec<CaptureRow>> {
    let events: Vec<f64> = outcome.iter().map(|&y| if y { 1.0 } else { 0.0 }).collect();
    let by_events = top_shares(risks, &events, fractions).map_err(stats("top-fraction capture"))?;
    let by_admissions = match admissions {
        Some(a) => Some(top_shares(risks, a, fractions).map_err(stats("top-fraction admissions"))?),
        None => None,
    };
    Ok(by_events
        .iter()
        .enumerate()
        .map(|(k, c)| CaptureRow { fraction: c.fraction, events_share: c.share, admissions_share: by_admissions.as_ref().map(|a| a[k].share) })
        .collect())
}
