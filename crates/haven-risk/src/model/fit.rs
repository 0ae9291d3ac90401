//! L2-regularised (ridge) logistic regression for the emergency-admission
//! outcome, fitted on the training rows.
//!
//! The estimator is `haven_stats::fit_logistic_dense` — IRLS/Newton with
//! step halving and a Cholesky solve of the (p + 1)×(p + 1) system — on the
//! design [1, z₁, …, z_p], where z are the features standardised on the
//! training rows ([`Standardiser`]). It maximises
//!
//! ```text
//! ℓ(β) − ½ λ Σ_{j≥1} βⱼ²
//! ```
//!
//! with the intercept β₀ unpenalised. Because the features are
//! standardised, λ means the same for every column: the fit is the
//! posterior mode under independent N(0, 1/λ) priors on the standardised
//! coefficients (Hastie, Tibshirani & Friedman, *The Elements of
//! Statistical Learning*, 2nd ed. 2009, §3.4.1 and §4.4.4). The default
//! λ = 1 is negligible beside the information of hundreds of thousands of
//! rows, but keeps every coefficient finite when a feature separates the
//! outcome completely.

use serde::{Deserialize, Serialize};

use haven_stats::{fit_logistic_dense, LogisticOptions};

use super::features::{Features, Standardiser};
use crate::error::{FeatureFault, Result, RiskError};

/// Options for [`fit_model`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    /// λ, the ridge penalty on each standardised coefficient (≥ 0).
    pub ridge: f64,
    /// Most IRLS/Newton iterations.
    pub max_iter: usize,
    /// Converged when a full Newton step changes no coefficient by this
    /// much or more.
    pub tolerance: f64,
}

impl Default for FitOptions {
    /// λ = 1, 50 iterations, tolerance 10⁻⁸.
    fn default() -> Self {
        FitOptions { ridge: 1.0, max_iter: 50, tolerance: 1e-8 }
    }
}

/// A fitted model: its standardisation and coefficients, serialisable so
/// that the scores it produces can be reproduced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// Feature names, in the order of the coefficients.
    pub columns: Vec<String>,
    /// The standardisation fitted on the training rows.
    pub standardiser: Standardiser,
    /// β₀ on the log-odds scale, at the training means.
    pub intercept: f64,
    /// βⱼ per standard deviation of each feature, on the log-odds scale.
    pub coefficients: Vec<f64>,
    /// The options the model was fitted with.
    pub options: FitOptions,
    /// Rows the model was fitted on.
    pub training_rows: usize,
    /// IRLS/Newton iterations taken.
    pub iterations: usize,
    /// Whether the fit met the tolerance within the iteration cap.
    pub converged: bool,
    /// Unpenalised binomial deviance on the training rows.
    pub deviance: f64,
}

impl LogisticModel {
    /// The linear predictor (log-odds) for one feature row.
    pub fn log_odds(&self, row: &[f64]) -> f64 {
        let z = row.iter().zip(&self.standardiser.means).zip(&self.standardiser.scales).map(|((x, m), s)| (x - m) / s);
        self.intercept + z.zip(&self.coefficients).map(|(z, b)| z * b).sum::<f64>()
    }

    /// Predicted risk for each of `rows` of `features`, in that order.
    ///
    /// Errors: the features' columns are not the model's, or a row index is
    /// beyond the matrix.
    pub fn predict(&self, features: &Features, rows: &[usize]) -> Result<Vec<f64>> {
        if features.columns() != self.columns.as_slice() {
            let missing = self.columns.iter().find(|c| !features.columns().contains(c));
            let name = missing.unwrap_or(&self.columns[0]).clone();
            return Err(RiskError::Features(FeatureFault::UnknownColumn(name)));
        }
        features.check_rows(rows)?;
        Ok(rows.iter().map(|&i| logistic(self.log_odds(features.row(i)))).collect())
    }

    /// The coefficients per unit of each original feature, with the
    /// intercept at all features zero: βⱼ/sⱼ and β₀ − Σ βⱼ mⱼ/sⱼ.
    pub fn original_scale(&self) -> (f64, Vec<f64>) {
        let s = &self.standardiser;
        let per_unit: Vec<f64> = self.coefficients.iter().zip(&s.scales).map(|(b, sc)| b / sc).collect();
        let shift: f64 = per_unit.iter().zip(&s.means).map(|(b, m)| b * m).sum();
        (self.intercept - shift, per_unit)
    }
}

/// 1/(1 + e^−η), stable for large |η|.
pub(crate) fn logistic(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// Fits the ridge logistic model on `rows` of `features` (module docs).
///
/// Errors: no training rows or a row beyond the matrix
/// ([`RiskError::Features`]); a bad option or a singular system
/// ([`RiskError::Stats`]). Not converging within `max_iter` is not an
/// error: see [`LogisticModel::converged`].
pub fn fit_model(features: &Features, rows: &[usize], options: FitOptions) -> Result<LogisticModel> {
    let standardiser = Standardiser::fit(features, rows)?;
    let varying = varying_columns(features, rows, &standardiser);
    let p = varying.len() + 1;
    let mut design = Vec::with_capacity(rows.len() * p);
    let mut z = Vec::with_capacity(features.columns().len());
    for &i in rows {
        design.push(1.0);
        z.clear();
        standardiser.transform_into(features.row(i), &mut z);
        design.extend(varying.iter().map(|&j| z[j]));
    }
    let successes: Vec<f64> = rows.iter().map(|&i| if features.outcome()[i] { 1.0 } else { 0.0 }).collect();
    let trials = vec![1.0; rows.len()];
    let opts = LogisticOptions { max_iter: options.max_iter, tolerance: options.tolerance, ridge: options.ridge };
    let fit = fit_logistic_dense(&design, p, &trials, &successes, opts)
        .map_err(|source| RiskError::Stats { what: "logistic fit", source })?;
    let mut coefficients = vec![0.0; features.columns().len()];
    for (&j, b) in varying.iter().zip(&fit.coefficients[1..]) {
        coefficients[j] = *b;
    }
    Ok(LogisticModel {
        columns: features.columns().to_vec(),
        standardiser,
        intercept: fit.coefficients[0],
        coefficients,
        options,
        training_rows: rows.len(),
        iterations: fit.iterations,
        converged: fit.converged,
        deviance: fit.deviance,
    })
}

/// The columns that vary over the training rows. A constant column is 0
/// in every standardised row, so its penalised coefficient is exactly 0
/// (the score of β is −λβ alone); leaving it out of the IRLS system gives
/// that answer without its O(n·p) share of every iteration — a condition
/// nobody in the population has costs nothing.
fn varying_columns(features: &Features, rows: &[usize], s: &Standardiser) -> Vec<usize> {
    (0..features.columns().len()).filter(|&j| rows.iter().any(|&i| features.row(i)[j] != s.means[j])).collect()
}
