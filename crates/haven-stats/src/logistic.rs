//! Binomial logistic regression on grouped data.
//!
//! This is the model family NHS Digital uses for SHMI expected deaths:
//! "one statistical (logistic regression) model per diagnosis group",
//! with expected deaths the sum of model-predicted probabilities of death
//! (methods.md §5). NHS Digital's own fitting code is not published, so the
//! estimator here is the textbook one, following R's `glm(family =
//! binomial)` (`glm.fit`, `binomial()$initialize`):
//!
//! ```text
//! yᵢ ~ Binomial(nᵢ, πᵢ),   logit πᵢ = ηᵢ = xᵢ·β,   μᵢ = nᵢπᵢ,   wᵢ = nᵢπᵢ(1 − πᵢ)
//! start:   ηᵢ = ln((yᵢ + ½) / (nᵢ − yᵢ + ½))         (glm's mustart)
//!          solve (XᵀWX + R)β = Xᵀ(Wη + y − μ)          (one IRLS step)
//! Newton:  (XᵀWX + R)δ = Xᵀ(y − μ) − Rβ,   β ← β + δ
//! R        = diag(0, λ, …, λ)                            (λ = ridge; no penalty on column 0)
//! D        = 2 Σ [yᵢ ln(yᵢ/μᵢ) + (nᵢ − yᵢ) ln((nᵢ − yᵢ)/(nᵢ − μᵢ))],   0·ln 0 = 0
//! ```
//!
//! Reading taken: the ridge term is a true penalty, so the fit maximises
//! ℓ(β) − ½λ Σ_{j≥1} βⱼ² (it is added to the gradient as well as to XᵀWX);
//! adding λ to XᵀWX alone would only slow the steps and leave the same
//! infinite optimum for separated data. With λ > 0 a covariate pattern with
//! no deaths (complete separation) still gets finite coefficients. The
//! reported deviance is the unpenalised binomial deviance D at the fit.
//!
//! Each Newton step is halved (up to 30 times) if it would increase the
//! penalised deviance D + λ Σ_{j≥1} βⱼ², as `glm.fit` does; convergence is
//! a full step whose largest coefficient change is below the tolerance.
//! The p×p system is solved by Cholesky factorisation; a pivot below 10⁻¹²
//! of its diagonal entry (a column that is a combination of earlier ones,
//! to working precision) is refused as singular.
//!
//! Two entry points share the estimator: [`fit_logistic`] over nested rows
//! (a few grouped covariate patterns) and [`fit_logistic_dense`] over one
//! dense row-major slice (hundreds of thousands of individual rows, as the
//! emergency-admission model of `haven-risk` fits).

use crate::check;
use crate::error::{Result, StatsError};

/// Step halvings tried before a Newton step is abandoned.
const MAX_HALVINGS: usize = 30;
/// Cholesky pivots at or below this fraction of their diagonal are singular.
const SINGULAR: f64 = 1e-12;
/// Relative slack allowed when comparing penalised deviances, so rounding
/// at the optimum does not trigger step halving.
const DEVIANCE_SLACK: f64 = 1e-10;

/// Options for [`fit_logistic`].
#[derive(Clone, Copy, Debug)]
pub struct LogisticOptions {
    /// Most IRLS/Newton iterations (the starting IRLS step counts as one);
    /// at least 1.
    pub max_iter: usize,
    /// Convergence when the largest absolute change in a coefficient over
    /// one full Newton step is below this (≥ 0).
    pub tolerance: f64,
    /// Ridge penalty λ ≥ 0 added to the diagonal of XᵀWX (and to the
    /// gradient) for every column except column 0, the intercept.
    pub ridge: f64,
}

impl Default for LogisticOptions {
    /// 50 iterations, tolerance 10⁻⁹, ridge 10⁻⁶.
    fn default() -> Self {
        LogisticOptions {
            max_iter: 50,
            tolerance: 1e-9,
            ridge: 1e-6,
        }
    }
}

/// A fitted model.
#[derive(Clone, Debug, PartialEq)]
pub struct LogisticFit {
    /// β, one per design column, on the log-odds scale (column 0 is the
    /// intercept).
    pub coefficients: Vec<f64>,
    /// IRLS/Newton iterations performed (the starting step included).
    pub iterations: usize,
    /// Whether a full Newton step changed every coefficient by less than
    /// the tolerance within `max_iter` iterations.
    pub converged: bool,
    /// Unpenalised binomial deviance D at the fitted coefficients.
    pub deviance: f64,
}

impl LogisticFit {
    /// Predicted probability for one covariate row (same columns as the fit, intercept column included by the caller).
    ///
    /// # Panics
    ///
    /// If `x` does not have one value per coefficient.
    pub fn predict(&self, x: &[f64]) -> f64 {
        assert_eq!(
            x.len(),
            self.coefficients.len(),
            "covariate row must have one value per coefficient"
        );
        logistic(linear_predictor(x, &self.coefficients))
    }
}

/// Binomial logistic regression on grouped data (covariate pattern i has `trials[i]` spells of which `successes[i]` died) by iteratively reweighted least squares (Newton-Raphson). `x[i]` is the full design row including an explicit intercept column 1.0. A small ridge penalty `ridge` is added to the diagonal of X'WX for every column except column 0, so completely separated data (a cell with 0 deaths) still gives finite coefficients. Errors (not panics) on: empty input, ragged rows, length mismatch, negative or non-finite trials/successes, successes > trials, a singular system.
///
/// Trials and successes need not be whole numbers. Patterns with zero
/// trials contribute nothing. Failure to converge within
/// `opts.max_iter` is not an error: the last coefficients are returned
/// with `converged = false`.
///
/// Errors: [`StatsError::TooFew`] for no rows, no columns or
/// `max_iter` = 0; [`StatsError::LengthMismatch`] for ragged rows or
/// `x`, `trials` and `successes` of different lengths;
/// [`StatsError::NotFinite`] / [`StatsError::Negative`] for a bad count,
/// covariate, tolerance or ridge; [`StatsError::NumeratorExceedsDenominator`]
/// for successes > trials; [`StatsError::Undefined`] when XᵀWX + R is
/// singular.
pub fn fit_logistic(
    x: &[Vec<f64>],
    trials: &[f64],
    successes: &[f64],
    opts: LogisticOptions,
) -> Result<LogisticFit> {
    check::at_least(x.len(), 1, "logistic regression covariate patterns")?;
    let p = x[0].len();
    if x.iter().any(|row| row.len() != p) {
        return Err(StatsError::LengthMismatch {
            what: "design matrix rows",
        });
    }
    fit(Design::Rows(x), p, trials, successes, opts)
}

/// [`fit_logistic`] on a dense row-major design: row i is
/// `values[i·columns .. (i + 1)·columns]`, column 0 the intercept (1.0).
///
/// The same estimator, options and errors as [`fit_logistic`] (plus
/// [`StatsError::LengthMismatch`] when `values.len()` is not a multiple of
/// `columns`); this form keeps a large individual-level design in one
/// allocation. For individual (Bernoulli) data pass `trials` of 1.0 and
/// `successes` of 0.0 or 1.0. One Newton iteration costs O(n·p²) time for
/// XᵀWX and O(p³) for the solve; memory beyond the inputs is O(n + p²).
pub fn fit_logistic_dense(
    values: &[f64],
    columns: usize,
    trials: &[f64],
    successes: &[f64],
    opts: LogisticOptions,
) -> Result<LogisticFit> {
    check::at_least(columns, 1, "logistic regression design columns")?;
    if !values.len().is_multiple_of(columns) {
        return Err(StatsError::LengthMismatch {
            what: "dense design values and columns",
        });
    }
    fit(
        Design::Dense { values, columns },
        columns,
        trials,
        successes,
        opts,
    )
}

/// The IRLS/Newton fit shared by [`fit_logistic`] and [`fit_logistic_dense`].
fn fit(
    x: Design<'_>,
    p: usize,
    trials: &[f64],
    successes: &[f64],
    opts: LogisticOptions,
) -> Result<LogisticFit> {
    validate(x, p, trials, successes, &opts)?;
    let data = Data {
        x,
        n: trials,
        y: successes,
        p,
        ridge: opts.ridge,
    };

    // Starting step: one IRLS solve from glm's mustart (y + ½)/(n + 1),
    // whose logit is ln((y + ½)/(n − y + ½)).
    let eta0: Vec<f64> = trials
        .iter()
        .zip(successes)
        .map(|(&n, &y)| ((y + 0.5) / (n - y + 0.5)).ln())
        .collect();
    let mut beta = data.irls_start(&eta0)?;
    let mut penalised = data.penalised_deviance(&beta);
    let mut iterations = 1;
    let mut converged = false;

    'newton: while iterations < opts.max_iter {
        iterations += 1;
        let step = data.newton_step(&beta)?;
        let change = step.iter().fold(0.0_f64, |m, d| m.max(d.abs()));
        let mut t = 1.0;
        let mut halvings = 0;
        loop {
            let candidate: Vec<f64> = beta.iter().zip(&step).map(|(b, d)| b + t * d).collect();
            let cand_pen = data.penalised_deviance(&candidate);
            if cand_pen.is_finite()
                && cand_pen <= penalised + DEVIANCE_SLACK * (1.0 + penalised.abs())
            {
                beta = candidate;
                penalised = cand_pen;
                break;
            }
            halvings += 1;
            if halvings > MAX_HALVINGS {
                // No step along the Newton direction improves the fit:
                // stop with the current coefficients, unconverged.
                break 'newton;
            }
            t *= 0.5;
        }
        if !change.is_finite() {
            break;
        }
        if t == 1.0 && change < opts.tolerance {
            converged = true;
            break;
        }
    }

    Ok(LogisticFit {
        deviance: data.deviance(&beta),
        coefficients: beta,
        iterations,
        converged,
    })
}

/// Checks the inputs (rows already known to have `p` columns each).
fn validate(
    x: Design<'_>,
    p: usize,
    trials: &[f64],
    successes: &[f64],
    opts: &LogisticOptions,
) -> Result<()> {
    check::same_length(
        &[x.len(), trials.len(), successes.len()],
        "design rows, trials and successes",
    )?;
    check::at_least(x.len(), 1, "logistic regression covariate patterns")?;
    check::at_least(p, 1, "logistic regression design columns")?;
    for i in 0..x.len() {
        for &v in x.row(i) {
            check::finite(v, "covariate")?;
        }
    }
    for (&n, &y) in trials.iter().zip(successes) {
        check::non_negative(n, "trials")?;
        check::non_negative(y, "successes")?;
        if y > n {
            return Err(StatsError::NumeratorExceedsDenominator);
        }
    }
    check::at_least(opts.max_iter, 1, "logistic regression iterations")?;
    check::non_negative(opts.tolerance, "tolerance")?;
    check::non_negative(opts.ridge, "ridge")?;
    Ok(())
}

/// A design matrix: nested rows, or one dense row-major slice.
#[derive(Clone, Copy)]
enum Design<'a> {
    Rows(&'a [Vec<f64>]),
    Dense { values: &'a [f64], columns: usize },
}

impl<'a> Design<'a> {
    /// Number of rows.
    fn len(self) -> usize {
        match self {
            Design::Rows(rows) => rows.len(),
            Design::Dense { values, columns } => values.len() / columns,
        }
    }

    /// Row `i`.
    fn row(self, i: usize) -> &'a [f64] {
        match self {
            Design::Rows(rows) => &rows[i],
            Design::Dense { values, columns } => &values[i * columns..(i + 1) * columns],
        }
    }
}

/// The validated inputs of one fit.
struct Data<'a> {
    x: Design<'a>,
    n: &'a [f64],
    y: &'a [f64],
    p: usize,
    ridge: f64,
}

impl Data<'_> {
    /// The penalty on column `j` (none on the intercept).
    fn ridge_at(&self, j: usize) -> f64 {
        if j == 0 {
            0.0
        } else {
            self.ridge
        }
    }

    /// Rows with at least one trial, as (row, n, y).
    fn rows(&self) -> impl Iterator<Item = (&[f64], f64, f64)> + '_ {
        (0..self.x.len())
            .filter(|&i| self.n[i] > 0.0)
            .map(|i| (self.x.row(i), self.n[i], self.y[i]))
    }

    /// XᵀWX + R (lower triangle filled, then mirrored) with W from the
    /// linear predictors `eta` of the rows yielded by [`Data::rows`].
    fn information(&self, etas: &[f64]) -> Vec<f64> {
        let p = self.p;
        let mut h = vec![0.0; p * p];
        for ((row, n, _), &eta) in self.rows().zip(etas) {
            let w = n * logistic(eta) * logistic(-eta);
            for j in 0..p {
                let wx = w * row[j];
                let h_row = &mut h[j * p..=j * p + j];
                for (h_jk, &x_k) in h_row.iter_mut().zip(&row[..=j]) {
                    *h_jk += wx * x_k;
                }
            }
        }
        for j in 0..p {
            h[j * p + j] += self.ridge_at(j);
            for k in 0..j {
                h[k * p + j] = h[j * p + k];
            }
        }
        h
    }

    /// The starting IRLS step from linear predictors `eta0` (one per input
    /// row): solves (XᵀWX + R)β = Xᵀ(Wη + y − μ).
    fn irls_start(&self, eta0: &[f64]) -> Result<Vec<f64>> {
        let etas: Vec<f64> = eta0
            .iter()
            .zip(self.n)
            .filter(|(_, &n)| n > 0.0)
            .map(|(&e, _)| e)
            .collect();
        let h = self.information(&etas);
        let mut rhs = vec![0.0; self.p];
        for ((row, n, y), &eta) in self.rows().zip(&etas) {
            let (pi, qi) = (logistic(eta), logistic(-eta));
            let z = n * pi * qi * eta + y - n * pi;
            for (r, &xj) in rhs.iter_mut().zip(row) {
                *r += xj * z;
            }
        }
        cholesky_solve(h, self.p, rhs)
    }

    /// The Newton step δ at β: (XᵀWX + R)δ = Xᵀ(y − μ) − Rβ.
    fn newton_step(&self, beta: &[f64]) -> Result<Vec<f64>> {
        let etas: Vec<f64> = self
            .rows()
            .map(|(row, _, _)| linear_predictor(row, beta))
            .collect();
        let h = self.information(&etas);
        let mut gradient: Vec<f64> = beta
            .iter()
            .enumerate()
            .map(|(j, b)| -self.ridge_at(j) * b)
            .collect();
        for ((row, n, y), &eta) in self.rows().zip(&etas) {
            let residual = y - n * logistic(eta);
            for (g, &xj) in gradient.iter_mut().zip(row) {
                *g += xj * residual;
            }
        }
        cholesky_solve(h, self.p, gradient)
    }

    /// Binomial deviance D at β, from log-probabilities so that large
    /// |η| neither overflows nor loses the small tail probability.
    fn deviance(&self, beta: &[f64]) -> f64 {
        let mut d = 0.0;
        for (row, n, y) in self.rows() {
            let eta = linear_predictor(row, beta);
            let ln_n = n.ln();
            let mut row_d = 0.0;
            // y ln(y/μ) = y (ln y − ln n − ln π), 0 when y = 0.
            if y > 0.0 {
                row_d += y * (y.ln() - ln_n - log_logistic(eta));
            }
            // (n − y) ln((n − y)/(n − μ)) with n − μ = n(1 − π), 0 when y = n.
            let f = n - y;
            if f > 0.0 {
                row_d += f * (f.ln() - ln_n - log_logistic(-eta));
            }
            // Each pattern's contribution is n × a Kullback-Leibler
            // divergence, so ≥ 0; clamp rounding below zero at a perfect fit.
            d += row_d.max(0.0);
        }
        2.0 * d
    }

    /// D + λ Σ_{j≥1} βⱼ²: −2 × the penalised log-likelihood, up to a
    /// constant; the quantity the Newton steps decrease.
    fn penalised_deviance(&self, beta: &[f64]) -> f64 {
        let penalty: f64 = beta
            .iter()
            .enumerate()
            .map(|(j, b)| self.ridge_at(j) * b * b)
            .sum();
        self.deviance(beta) + penalty
    }
}

/// η = x·β.
fn linear_predictor(x: &[f64], beta: &[f64]) -> f64 {
    x.iter().zip(beta).map(|(x, b)| x * b).sum()
}

/// 1/(1 + e^−η), evaluated without overflow for large |η|.
fn logistic(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// ln(1/(1 + e^−η)) = −ln(1 + e^−η), evaluated without overflow or
/// cancellation for large |η|.
fn log_logistic(eta: f64) -> f64 {
    if eta >= 0.0 {
        -(-eta).exp().ln_1p()
    } else {
        eta - eta.exp().ln_1p()
    }
}

/// Solves the symmetric positive-definite system A·v = b (A row-major
/// p×p) by Cholesky factorisation A = LLᵀ, in place.
fn cholesky_solve(mut a: Vec<f64>, p: usize, mut b: Vec<f64>) -> Result<Vec<f64>> {
    let singular = StatsError::Undefined {
        what: "logistic regression (singular X'WX)",
    };
    for i in 0..p {
        for j in 0..=i {
            let s = a[i * p + j] - (0..j).map(|k| a[i * p + k] * a[j * p + k]).sum::<f64>();
            if i == j {
                // a[i][i] is still the original diagonal entry here.
                let diagonal = a[i * p + i];
                if !(s.is_finite() && s > SINGULAR * diagonal && s > 0.0) {
                    return Err(singular);
                }
                a[i * p + i] = s.sqrt();
            } else {
                a[i * p + j] = s / a[j * p + j];
            }
        }
    }
    // L·u = b, then Lᵀ·v = u.
    for i in 0..p {
        let s = b[i] - (0..i).map(|k| a[i * p + k] * b[k]).sum::<f64>();
        b[i] = s / a[i * p + i];
    }
    for i in (0..p).rev() {
        let s = b[i] - (i + 1..p).map(|k| a[k * p + i] * b[k]).sum::<f64>();
        b[i] = s / a[i * p + i];
    }
    if b.iter().all(|v| v.is_finite()) {
        Ok(b)
    } else {
        Err(singular)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpenalised() -> LogisticOptions {
        LogisticOptions {
            ridge: 0.0,
            ..LogisticOptions::default()
        }
    }

    /// Test 2's design: x1 ∈ {0,1,2,3} × x2 ∈ {0,1}, rows [1, x1, x2].
    fn grid() -> Vec<Vec<f64>> {
        let mut x = Vec::new();
        for x2 in [0.0, 1.0] {
            for x1 in [0.0, 1.0, 2.0, 3.0] {
                x.push(vec![1.0, x1, x2]);
            }
        }
        x
    }

    const BETA: [f64; 3] = [-2.0, 0.5, -1.0];

    /// successes = 1000·π exactly, π = logistic(−2 + 0.5·x1 − x2):
    /// x2 = 0: η = −2, −1.5, −1, −0.5 → π ≈ 0.119203, 0.182426, 0.268941, 0.377541;
    /// x2 = 1: η = −3, −2.5, −2, −1.5 → π ≈ 0.047426, 0.075858, 0.119203, 0.182426.
    fn exact_successes() -> Vec<f64> {
        grid()
            .iter()
            .map(|row| 1000.0 * logistic(linear_predictor(row, &BETA)))
            .collect()
    }

    #[test]
    fn one_binary_covariate_recovers_the_log_odds() {
        // Group A (x = 0): 20/100 → odds 20/80 = 1/4, intercept ln(1/4).
        // Group B (x = 1): 50/100 → odds 50/50 = 1, intercept + slope = 0,
        // so slope = ln 1 − ln(1/4) = ln 4. The model is saturated (two
        // parameters, two patterns), so μ = y and the deviance is 0.
        let x = vec![vec![1.0, 0.0], vec![1.0, 1.0]];
        let fit = fit_logistic(&x, &[100.0, 100.0], &[20.0, 50.0], unpenalised()).unwrap();
        assert!(fit.converged);
        assert!((fit.coefficients[0] - (20.0_f64 / 80.0).ln()).abs() < 1e-8);
        assert!((fit.coefficients[1] - 4.0_f64.ln()).abs() < 1e-8);
        assert!((fit.predict(&[1.0, 0.0]) - 0.2).abs() < 1e-8);
        assert!((fit.predict(&[1.0, 1.0]) - 0.5).abs() < 1e-8);
        assert!(fit.deviance.abs() < 1e-10);
    }

    #[test]
    fn exact_data_recover_the_generating_coefficients() {
        // y = n·π(β) exactly, so the score Xᵀ(y − μ) vanishes at β itself:
        // the MLE is β = (−2, 0.5, −1) and every μᵢ = yᵢ, so D = 0.
        let x = grid();
        let n = vec![1000.0; 8];
        let y = exact_successes();
        let fit = fit_logistic(&x, &n, &y, unpenalised()).unwrap();
        assert!(fit.converged);
        for (b, want) in fit.coefficients.iter().zip(BETA) {
            assert!((b - want).abs() < 1e-6, "{b} vs {want}");
        }
        assert!(fit.deviance.abs() < 1e-9);
        // The default ridge (10⁻⁶) moves β by about λβ/(information),
        // information ≈ Σ nπ(1−π) ≳ 100 → shifts ≲ 10⁻⁸.
        let fit = fit_logistic(&x, &n, &y, LogisticOptions::default()).unwrap();
        assert!(fit.converged);
        for (b, want) in fit.coefficients.iter().zip(BETA) {
            assert!((b - want).abs() < 1e-6, "{b} vs {want}");
        }
        // Pattern (x1 = 3, x2 = 0): η = −2 + 1.5 = −0.5, π = 1/(1 + e^0.5) ≈ 0.377541.
        assert!((fit.predict(&[1.0, 3.0, 0.0]) - 0.377_540_668_798_145_4).abs() < 1e-8);
    }

    #[test]
    fn separated_cell_gets_finite_coefficients_with_the_default_ridge() {
        // Group A (x = 1): 0/100 deaths; group B (x = 0): 30/100.
        // Unpenalised, the MLE slope is −∞. With λ = 10⁻⁶ the slope b
        // solves the score equation 100·π_A = λ·|b| with π_A ≈ e^(β₀ + b)
        // and β₀ ≈ logit 0.3 = −0.847: 42.86·e^(−|b|) = 10⁻⁶·|b| gives
        // |b| ≈ 14.9 and π_A ≈ e^(−15.7) ≈ 1.5·10⁻⁷.
        let x = vec![vec![1.0, 1.0], vec![1.0, 0.0]];
        let fit = fit_logistic(
            &x,
            &[100.0, 100.0],
            &[0.0, 30.0],
            LogisticOptions::default(),
        )
        .unwrap();
        assert!(fit.converged);
        assert!(fit.coefficients.iter().all(|b| b.is_finite()));
        assert!((fit.coefficients[1] + 14.9).abs() < 0.2);
        let pa = fit.predict(&[1.0, 1.0]);
        assert!(pa < 0.01 && pa > 0.0);
        assert!((fit.predict(&[1.0, 0.0]) - 0.3).abs() < 1e-4);
    }

    #[test]
    fn fitted_deaths_sum_to_observed_deaths_with_an_intercept() {
        // Canonical link: the score for column j is Σ xᵢⱼ(yᵢ − μᵢ) = 0 at the
        // MLE; column 0 is all ones, so Σ μᵢ = Σ yᵢ. Noise breaks exact fit.
        let x = grid();
        let n = vec![1000.0; 8];
        let noise = [3.0, -2.0, 5.0, -4.0, 1.0, -6.0, 2.0, -1.0];
        let y: Vec<f64> = exact_successes()
            .iter()
            .zip(noise)
            .map(|(y, e)| y + e)
            .collect();
        let fit = fit_logistic(&x, &n, &y, unpenalised()).unwrap();
        assert!(fit.converged);
        let mu: Vec<f64> = x.iter().map(|row| 1000.0 * fit.predict(row)).collect();
        let observed: f64 = y.iter().sum();
        let expected: f64 = mu.iter().sum();
        assert!(
            (observed - expected).abs() < 1e-6,
            "{observed} vs {expected}"
        );
        // The other two score equations hold too.
        for j in 1..3 {
            let score: f64 = x
                .iter()
                .zip(&y)
                .zip(&mu)
                .map(|((r, y), m)| r[j] * (y - m))
                .sum();
            assert!(score.abs() < 1e-6);
        }
        assert!(fit.deviance > 0.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let x = vec![vec![1.0, 0.0], vec![1.0, 1.0]];
        let o = LogisticOptions::default();
        assert!(matches!(
            fit_logistic(&x, &[100.0], &[20.0, 50.0], o),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            fit_logistic(&x, &[100.0, 100.0], &[20.0], o),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert_eq!(
            fit_logistic(&x, &[100.0, 100.0], &[20.0, 101.0], o),
            Err(StatsError::NumeratorExceedsDenominator)
        );
        assert!(matches!(
            fit_logistic(&[], &[], &[], o),
            Err(StatsError::TooFew { .. })
        ));
        let ragged = vec![vec![1.0, 0.0], vec![1.0]];
        assert!(matches!(
            fit_logistic(&ragged, &[100.0, 100.0], &[20.0, 50.0], o),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            fit_logistic(&x, &[-1.0, 100.0], &[0.0, 50.0], o),
            Err(StatsError::Negative { .. })
        ));
        assert!(matches!(
            fit_logistic(&x, &[100.0, f64::NAN], &[20.0, 50.0], o),
            Err(StatsError::NotFinite { .. })
        ));
        assert!(matches!(
            fit_logistic(&x, &[100.0, 100.0], &[20.0, f64::INFINITY], o),
            Err(StatsError::NotFinite { .. })
        ));
    }

    #[test]
    fn singular_design_is_an_error() {
        // Column 2 duplicates column 1: XᵀWX has rank 2 of 3, and with no
        // ridge nothing makes it invertible.
        let x = vec![vec![1.0, 0.0, 0.0], vec![1.0, 1.0, 1.0]];
        assert!(matches!(
            fit_logistic(&x, &[100.0, 100.0], &[20.0, 50.0], unpenalised()),
            Err(StatsError::Undefined { .. })
        ));
        // An all-zero intercept column is never penalised, so it is
        // singular even with the default ridge.
        let x = vec![vec![0.0, 0.0], vec![0.0, 1.0]];
        assert!(matches!(
            fit_logistic(
                &x,
                &[100.0, 100.0],
                &[20.0, 50.0],
                LogisticOptions::default()
            ),
            Err(StatsError::Undefined { .. })
        ));
    }

    #[test]
    fn dense_design_gives_the_nested_fit_bit_for_bit() {
        // Same rows, same order, same arithmetic: identical coefficients.
        let x = grid();
        let dense: Vec<f64> = x.iter().flatten().copied().collect();
        let n = vec![1000.0; 8];
        let y = exact_successes();
        let o = LogisticOptions::default();
        let nested = fit_logistic(&x, &n, &y, o).unwrap();
        let flat = fit_logistic_dense(&dense, 3, &n, &y, o).unwrap();
        assert_eq!(nested, flat);
        assert!(matches!(
            fit_logistic_dense(&dense[..7], 3, &n, &y, o),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            fit_logistic_dense(&dense, 0, &n, &y, o),
            Err(StatsError::TooFew { .. })
        ));
    }

    #[test]
    fn zero_trial_patterns_are_ignored() {
        // A pattern with n = 0 adds nothing: same fit as test 1.
        let x = vec![vec![1.0, 0.0], vec![1.0, 1.0], vec![1.0, 1.0]];
        let fit =
            fit_logistic(&x, &[100.0, 100.0, 0.0], &[20.0, 50.0, 0.0], unpenalised()).unwrap();
        assert!((fit.coefficients[1] - 4.0_f64.ln()).abs() < 1e-8);
    }

    #[test]
    fn logistic_is_stable_for_large_linear_predictors() {
        // e^800 overflows, but 1/(1 + e^−800) = 1 and e^−800/(1 + e^−800) = 0.
        assert_eq!(logistic(800.0), 1.0);
        assert_eq!(logistic(-800.0), 0.0);
        assert!((logistic(0.0) - 0.5).abs() < 1e-16);
        // ln π at η = −800 is −800 (not −∞); ln(1 − π) at η = 800 likewise.
        assert!((log_logistic(-800.0) + 800.0).abs() < 1e-12);
        assert!((log_logistic(800.0)).abs() < 1e-300);
        // ln(1/(1 + e^−1)) = −ln(1 + e^−1) = −0.31326168751822286.
        assert!((log_logistic(1.0) + 0.313_261_687_518_222_86).abs() < 1e-15);
    }
}
