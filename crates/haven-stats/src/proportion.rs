//! Proportions with Wilson score intervals.
//!
//! Source: PHEindicatormethods v2.1.0 `R/Wilson.R` (`wilson_lower`,
//! `wilson_upper`) and `phe_proportion`, methods.md §6.5:
//!
//! ```text
//! lower = (2x + z² − z·√(z² + 4x(1 − x/n))) / (2(n + z²))
//! upper = (2x + z² + z·√(z² + 4x(1 − x/n))) / (2(n + z²))
//! ```
//!
//! Confidence 1 (100%) gives 0 and 1.

use crate::check;
use crate::dist::{confidence_level, z_for};
use crate::error::{Result, StatsError};
use crate::estimate::{Estimate, Interval};

/// Wilson score interval for `successes` out of `trials`, on the 0–1 scale.
///
/// Errors unless 0 ≤ successes ≤ trials and trials > 0. The limits are
/// clamped to [0, 1] so rounding at x = 0 or x = n cannot step outside.
pub fn wilson_interval(successes: f64, trials: f64, confidence: f64) -> Result<Interval> {
    let (x, n) = validate(successes, trials)?;
    if confidence_level(confidence)? == 1.0 {
        return Ok(Interval {
            lower: 0.0,
            upper: 1.0,
        });
    }
    let z = z_for(confidence)?;
    let z2 = z * z;
    let spread = z * (z2 + 4.0 * x * (1.0 - x / n)).sqrt();
    let denominator = 2.0 * (n + z2);
    Ok(Interval {
        lower: ((2.0 * x + z2 - spread) / denominator).clamp(0.0, 1.0),
        upper: ((2.0 * x + z2 + spread) / denominator).clamp(0.0, 1.0),
    })
}

/// The proportion x/n × `multiplier` (1 or 100) with its Wilson interval,
/// as `phe_proportion`.
pub fn proportion(
    successes: f64,
    trials: f64,
    multiplier: f64,
    confidence: f64,
) -> Result<Estimate> {
    let m = check::positive(multiplier, "multiplier")?;
    let interval = wilson_interval(successes, trials, confidence)?.scaled(m);
    Ok(Estimate {
        value: successes / trials * m,
        lower: Some(interval.lower),
        upper: interval.upper,
    })
}

/// 0 ≤ x ≤ n, n > 0.
fn validate(successes: f64, trials: f64) -> Result<(f64, f64)> {
    let x = check::non_negative(successes, "numerator")?;
    let n = check::positive(trials, "denominator")?;
    if x > n {
        return Err(StatsError::NumeratorExceedsDenominator);
    }
    Ok((x, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(x: f64, n: f64, expect: [&str; 2]) {
        let i = wilson_interval(x, n, 0.95).unwrap();
        assert_eq!([i.lower, i.upper].map(|v| format!("{v:.7}")), expect);
    }

    #[test]
    fn phe_workbook_wilson() {
        // testdata_Byars_Wilson.xlsx (methods.md §6.5).
        check(65.0, 100.0, ["0.5525444", "0.7363575"]);
        check(1045.0, 5000.0, ["0.1979555", "0.2204913"]);
    }

    #[test]
    fn full_confidence_gives_zero_and_one() {
        let i = wilson_interval(3.0, 10.0, 1.0).unwrap();
        assert_eq!((i.lower, i.upper), (0.0, 1.0));
        let i = wilson_interval(3.0, 10.0, 100.0).unwrap();
        assert_eq!((i.lower, i.upper), (0.0, 1.0));
    }

    #[test]
    fn zero_successes_has_lower_limit_zero() {
        // x = 0: lower = (z² − z·z)/… = 0; upper = z²/(n + z²).
        let i = wilson_interval(0.0, 10.0, 0.95).unwrap();
        assert_eq!(i.lower, 0.0);
        let z2 = 1.959_963_984_540_054f64.powi(2);
        assert!((i.upper - z2 / (10.0 + z2)).abs() < 1e-15);
    }

    #[test]
    fn percentage_scale_and_bad_inputs() {
        let p = proportion(65.0, 100.0, 100.0, 0.95).unwrap();
        assert_eq!(format!("{:.5}", p.lower.unwrap()), "55.25444");
        assert_eq!(p.value, 65.0);
        assert_eq!(
            wilson_interval(11.0, 10.0, 0.95),
            Err(StatsError::NumeratorExceedsDenominator)
        );
        assert!(wilson_interval(1.0, 0.0, 0.95).is_err());
    }
}
