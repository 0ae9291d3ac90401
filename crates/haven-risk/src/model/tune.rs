//! Choosing the ridge penalty λ on a validation split of the training rows
//! (issue 18 §2: fitted on the data, evaluated on held-out patients; the
//! held-out rows never take part in the choice).
//!
//! With many feature columns and few events (a small practice list, the
//! demo's small scale) λ = 1 over-fits; with a full ICB any λ in the grid
//! fits alike. So λ is chosen, not fixed: the training rows are split
//! again by a seeded hash of each person's key ([`split`], seed
//! [`TUNE_SEED_SALT`] ⊕ the caller's), a model is fitted on the inner 75%
//! for each λ in [`RIDGE_GRID`], and the λ with the least mean binomial
//! deviance (log-loss, a proper scoring rule: Hastie, Tibshirani &
//! Friedman, *The Elements of Statistical Learning*, 2nd ed. 2009, §7.2
//! and §7.10) on the inner 25% is kept. Ties go to the larger λ (the
//! simpler model). The choice is made on at most [`TUNE_ROWS`] training
//! rows (a seeded hash sample), so a full ICB pays for the grid on a
//! sample, not on a million rows: λ is a prior precision on standardised
//! coefficients, whose best value does not grow with n.

use super::features::Features;
use super::fit::{fit_model, FitOptions};
use super::split::{split, SplitOptions};
use crate::error::{FeatureFault, Result, RiskError};

/// The penalties tried, in increasing order (each 10× the last).
pub const RIDGE_GRID: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];
/// Most training rows the choice looks at.
pub const TUNE_ROWS: usize = 200_000;
/// Share of the tuning rows used for validation.
const VALIDATION: f64 = 0.25;
/// XORed into the caller's seed, so the inner split is not the outer one.
pub const TUNE_SEED_SALT: u64 = 0x7475_6e65;

/// The penalty chosen and the validation deviance of each λ tried.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RidgeChoice {
    pub ridge: f64,
    /// (λ, mean binomial deviance per validation row).
    pub tried: Vec<(f64, f64)>,
    pub fitted_on: usize,
    pub validated_on: usize,
}

/// Chooses λ (module docs) among `train`, the rows of `features` keyed by
/// `keys` (one per row of `features`).
///
/// When the inner split leaves either side without an event or without a
/// non-event (a handful of people), nothing can be validated: the choice
/// is [`FitOptions::default`]'s λ with nothing tried.
///
/// Errors: `keys` is not one per row; a fit fails.
pub fn choose_ridge<K: AsRef<[u8]>>(features: &Features, keys: &[K], train: &[usize], seed: u64) -> Result<RidgeChoice> {
    if keys.len() != features.rows() {
        return Err(RiskError::Features(FeatureFault::Shape));
    }
    let salted = seed ^ TUNE_SEED_SALT;
    let train_keys: Vec<&[u8]> = train.iter().map(|&i| keys[i].as_ref()).collect();
    let sample: Vec<usize> = if train.len() > TUNE_ROWS {
        let keep = TUNE_ROWS as f64 / train.len() as f64;
        split(&train_keys, SplitOptions { seed: salted.rotate_left(17), held_out: keep }).held_out
    } else {
        (0..train.len()).collect()
    };
    let sample_keys: Vec<&[u8]> = sample.iter().map(|&k| train_keys[k]).collect();
    let inner = split(&sample_keys, SplitOptions { seed: salted, held_out: VALIDATION });
    let rows = |part: &[usize]| -> Vec<usize> { part.iter().map(|&k| train[sample[k]]).collect() };
    let (fit_rows, valid_rows) = (rows(&inner.train), rows(&inner.held_out));
    let both = |r: &[usize]| r.iter().any(|&i| features.outcome()[i]) && r.iter().any(|&i| !features.outcome()[i]);
    if !both(&fit_rows) || !both(&valid_rows) {
        return Ok(RidgeChoice { ridge: FitOptions::default().ridge, tried: Vec::new(), fitted_on: fit_rows.len(), validated_on: valid_rows.len() });
    }
    let mut tried = Vec::with_capacity(RIDGE_GRID.len());
    for ridge in RIDGE_GRID {
        let model = fit_model(features, &fit_rows, FitOptions { ridge, ..FitOptions::default() })?;
        let risks = model.predict(features, &valid_rows)?;
        tried.push((ridge, mean_deviance(&risks, &features.outcomes_of(&valid_rows))));
    }
    let best = tried.iter().fold(tried[0], |best, &t| if t.1 <= best.1 { t } else { best });
    Ok(RidgeChoice { ridge: best.0, tried, fitted_on: fit_rows.len(), validated_on: valid_rows.len() })
}

/// −2/n Σ [y ln p + (1 − y) ln(1 − p)], p kept inside [10⁻¹⁵, 1 − 10⁻¹⁵].
pub fn mean_deviance(risks: &[f64], outcomes: &[bool]) -> f64 {
    let total: f64 = risks.iter().zip(outcomes).map(|(&p, &y)| {
        let p = p.clamp(1e-15, 1.0 - 1e-15);
        if y { p.ln() } else { (1.0 - p).ln() }
    }).sum();
    -2.0 * total / risks.len().max(1) as f64
}
