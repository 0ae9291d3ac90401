//! The emergency-admission risk model (issue 18 §2): a feature matrix, a
//! seeded train/held-out split, an L2-regularised logistic regression, and
//! an honest evaluation on the held-out patients.
//!
//! * [`features`] — [`Features`], a dense row-major matrix with named
//!   columns and a binary outcome, and [`Standardiser`], fitted on training
//!   rows only.
//! * [`split`](mod@split) — [`split()`]: each person held out or not by a
//!   seeded hash of their key, so the split is reproducible and does not
//!   depend on which other people are present.
//! * [`fit`] — [`fit_model`]: ridge logistic regression by IRLS/Newton with
//!   a Cholesky solve, `haven_stats::fit_logistic_dense` (no solver is
//!   duplicated here), on standardised features, intercept unpenalised.
//! * [`tune`] — [`choose_ridge`]: λ from a grid by validation deviance on
//!   an inner split of the training rows (never the held-out rows).
//! * [`evaluate`](mod@evaluate) — [`evaluate()`]: AUC with its DeLong
//!   interval, calibration by deciles, slope and calibration-in-the-large,
//!   Brier score and the share of events (and admissions) in the top 0.5%,
//!   1% and 5%, for the model and for every comparison score (a baseline,
//!   the true-risk ceiling) on the same held-out rows. The metrics are
//!   `haven_stats::classification`'s.
//!
//! The model is deterministic: the same features, split seed and options
//! give the same coefficients bit for bit (IRLS has no random start, and
//! every sum runs in row order). Fitting costs O(n·p²) time per iteration
//! and holds one standardised copy of the training rows (n × (p + 1)
//! values) beside the caller's matrix, p counting only the columns that
//! vary over the training rows (a constant column's coefficient is 0).
//!
//! The features of a zone's population come from [`crate::person::features`].
//! Not here yet: a gradient-boosted model.

pub mod evaluate;
pub mod features;
pub mod fit;
pub mod split;
pub mod tune;

#[cfg(test)]
mod tests;

pub use evaluate::{evaluate, AucReport, CalibrationRow, CaptureRow, EvaluationOptions, EvaluationReport, NamedRisk, ScoreReport};
pub use features::{Features, Standardiser};
pub use fit::{fit_model, FitOptions, LogisticModel};
pub use split::{is_held_out, split, Split, SplitOptions};
pub use tune::{choose_ridge, mean_deviance, RidgeChoice, RIDGE_GRID};
