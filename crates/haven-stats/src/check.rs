//! Input checks shared by the public functions, so each refusal is the
//! same typed [`StatsError`] wherever it happens.

use crate::error::{Result, StatsError};

/// `value` must be finite.
pub(crate) fn finite(value: f64, what: &'static str) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(StatsError::NotFinite { what })
    }
}

/// `value` must be finite and ≥ 0.
pub(crate) fn non_negative(value: f64, what: &'static str) -> Result<f64> {
    if finite(value, what)? < 0.0 {
        return Err(StatsError::Negative { what });
    }
    Ok(value)
}

/// `value` must be finite and > 0.
pub(crate) fn positive(value: f64, what: &'static str) -> Result<f64> {
    if finite(value, what)? <= 0.0 {
        return Err(StatsError::NotPositive { what });
    }
    Ok(value)
}

/// `p` must lie strictly between 0 and 1.
pub(crate) fn probability(p: f64, what: &'static str) -> Result<f64> {
    if p > 0.0 && p < 1.0 {
        Ok(p)
    } else {
        Err(StatsError::Probability { what })
    }
}

/// Parallel slices must have equal lengths.
pub(crate) fn same_length(lengths: &[usize], what: &'static str) -> Result<()> {
    if lengths.windows(2).all(|w| w[0] == w[1]) {
        Ok(())
    } else {
        Err(StatsError::LengthMismatch { what })
    }
}

/// At least `needed` values must be present.
pub(crate) fn at_least(len: usize, needed: usize, what: &'static str) -> Result<()> {
    if len >= needed {
        Ok(())
    } else {
        Err(StatsError::TooFew { what, needed })
    }
}
