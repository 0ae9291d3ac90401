//! `haven-stats`: the public-health statistics behind Haven's indicators.
//!
//! Pure `f64` maths with no I/O: every function takes numbers and returns
//! numbers or a [`StatsError`]. Each method follows a named published
//! implementation, cited in its module (`shared/reference/methods.md`
//! §5–7):
//!
//! * [`classification`] — evaluating a risk score against a binary
//!   outcome: AUC (Mann–Whitney) with the DeLong 1988 interval in
//!   O(N log N) (Sun & Xu 2014), calibration by equal-count groups, slope and
//!   calibration-in-the-large (Van Calster 2016/2019), Brier score, and the
//!   share of events in the top fraction.
//! * [`dist`] — normal CDF and quantile (AS 241), `z_for`, log-gamma,
//!   incomplete gamma, chi-square quantile, Poisson CDF.
//! * [`poisson`] — Byar and exact intervals for a count, the PHE and NHS
//!   Digital switching conventions ([`PoissonMethod`]), crude rates.
//! * [`dsr`](mod@dsr) — directly standardised rates with Dobson intervals and the
//!   ESP2013 standard population (PHEindicatormethods `calculate_dsr`).
//! * [`isr`] — indirectly standardised ratios and rates.
//! * [`logistic`] — binomial logistic regression by IRLS with a ridge,
//!   over grouped patterns (the model family of SHMI expected deaths) or a
//!   dense individual-level design.
//! * [`proportion`](mod@proportion) — Wilson score intervals.
//! * [`funnel`] — PHE proportion and exact Poisson funnels, Spiegelhalter
//!   limits, and over-dispersed limits (the SHMI method and arcsine
//!   proportions) with SHMI banding.
//! * [`sii`] — slope and relative indices of inequality with simulated
//!   intervals from a seeded generator.
//! * [`spc`] — XmR charts with the Making Data Count rules
//!   (NHSRplotthedots).
//!
//! Where a source is ambiguous the module says which reading was taken.

pub mod classification;
pub mod dist;
pub mod dsr;
pub mod error;
pub mod estimate;
pub mod funnel;
pub mod isr;
pub mod logistic;
pub mod poisson;
pub mod proportion;
pub mod sii;
pub mod spc;

mod check;
pub mod rng;

#[cfg(test)]
mod proptests;

pub use classification::{
    auc, auc_delong, brier, calibration_bins, calibration_slope_intercept, top_shares, AucEstimate,
    CalibrationBin, CalibrationFit, Capture,
};
pub use dist::{confidence_level, z_for};
pub use dsr::{dsr, esp2013, esp2013_band, Dsr, DsrOptions, ESP2013};
pub use error::StatsError;
pub use estimate::{Estimate, Interval};
pub use funnel::{
    exact_ratio_funnel, phe_proportion_funnel, phe_proportion_significance, ratio_significance,
    shmi_banding, shmi_limits, shmi_overdispersion, FunnelLimits, FunnelSide, FunnelSignificance,
    Overdispersion, ShmiBanding,
};
pub use isr::IndirectStandardisation;
pub use logistic::{fit_logistic, fit_logistic_dense, LogisticFit, LogisticOptions};
pub use poisson::{byar_interval, crude_rate, exact_interval, CountInterval, PoissonMethod};
pub use proportion::{proportion, wilson_interval};
pub use sii::{slope_index, Sii, SiiOptions, SiiQuantile, SiiValueType, SiiWarning};
pub use spc::{
    xmr_chart, Assurance, ImprovementDirection, PointType, SpcOptions, SpecialCause,
    SpecialCauseRule, XmrChart, XmrLimits,
};
