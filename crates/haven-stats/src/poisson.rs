//! Confidence intervals for a Poisson count, and crude rates.
//!
//! * Byar's approximation — PHEindicatormethods v2.1.0 `R/utils.R`
//!   (`byars_lower`, `byars_upper`), methods.md §6.1.
//! * Exact (chi-square) interval — methods.md §6.2.
//! * [`PoissonMethod`] chooses between them the way each publisher does:
//!   PHE switches to Byar at O ≥ 10 (`phe_rate`, ISRs), NHS Digital clinical
//!   indicator specifications (e.g. CCG OIS 2.6) at O ≥ 389 (§6.2).

use crate::check;
use crate::dist::{chi_square_quantile, confidence_level, z_for};
use crate::error::Result;
use crate::estimate::Estimate;

/// Counts below this use the exact interval under the PHE convention.
pub const PHE_EXACT_BELOW: f64 = 10.0;
/// Counts below this use the exact interval under the NHS Digital
/// convention (methods.md §6.2).
pub const NHS_DIGITAL_EXACT_BELOW: f64 = 389.0;

/// Limits for an observed count. The lower limit is `None` when Byar's
/// cube is negative (PHE returns `NA`, methods.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountInterval {
    /// Lower limit of the expected count.
    pub lower: Option<f64>,
    /// Upper limit of the expected count.
    pub upper: f64,
}

impl CountInterval {
    /// The interval divided by a denominator (and times a multiplier), as
    /// an estimate of `observed × scale`.
    pub fn to_estimate(self, observed: f64, scale: f64) -> Estimate {
        Estimate {
            value: observed * scale,
            lower: self.lower.map(|l| l * scale),
            upper: self.upper * scale,
        }
    }
}

/// How to compute the interval for a Poisson count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoissonMethod {
    /// Always the exact chi-square interval (§6.2).
    Exact,
    /// Always Byar's approximation (§6.1); the PHE default for DSRs (§6.3).
    Byar,
    /// Exact below 10, Byar from 10 (PHE `phe_rate`, ISRs; §6.2).
    PheSwitch,
    /// Exact below 389, Byar from 389 (NHS Digital; §6.2).
    NhsDigitalSwitch,
}

impl PoissonMethod {
    /// The interval for `observed` (≥ 0) at `confidence` (0.95 or 95 style).
    pub fn interval(self, observed: f64, confidence: f64) -> Result<CountInterval> {
        if self.uses_exact(check::non_negative(observed, "observed count")?) {
            exact_interval(observed, confidence)
        } else {
            byar_interval(observed, confidence)
        }
    }

    /// Whether this method takes the exact interval for `observed`.
    pub fn uses_exact(self, observed: f64) -> bool {
        match self {
            PoissonMethod::Exact => true,
            PoissonMethod::Byar => false,
            PoissonMethod::PheSwitch => observed < PHE_EXACT_BELOW,
            PoissonMethod::NhsDigitalSwitch => observed < NHS_DIGITAL_EXACT_BELOW,
        }
    }
}

/// Byar's approximate interval for a Poisson count (methods.md §6.1):
///
/// ```text
/// lower = O · (1 − 1/(9O) − z/(3√O))³          (None if negative)
/// upper = (O+1) · (1 − 1/(9(O+1)) + z/(3√(O+1)))³
/// ```
///
/// At O = 0 the lower formula is 0·(−∞)³, undefined; the lower limit of a
/// zero count is 0 under every method, so 0 is returned.
pub fn byar_interval(observed: f64, confidence: f64) -> Result<CountInterval> {
    let o = check::non_negative(observed, "observed count")?;
    let z = z_for(confidence)?;
    let lower = if o == 0.0 {
        Some(0.0)
    } else {
        let l = o * (1.0 - 1.0 / (9.0 * o) - z / (3.0 * o.sqrt())).powi(3);
        (l >= 0.0).then_some(l)
    };
    let o1 = o + 1.0;
    let upper = o1 * (1.0 - 1.0 / (9.0 * o1) + z / (3.0 * o1.sqrt())).powi(3);
    Ok(CountInterval { lower, upper })
}

/// Exact Poisson interval from the chi-square distribution (methods.md
/// §6.2): lower = χ²_{(1−c)/2, 2O}/2 (0 when O = 0), upper =
/// χ²_{c+(1−c)/2, 2O+2}/2.
pub fn exact_interval(observed: f64, confidence: f64) -> Result<CountInterval> {
    let o = check::non_negative(observed, "observed count")?;
    let c = confidence_level(confidence)?;
    let alpha_half = (1.0 - c) / 2.0;
    let lower = if o == 0.0 {
        0.0
    } else {
        chi_square_quantile(alpha_half, 2.0 * o) / 2.0
    };
    let upper = chi_square_quantile(c + alpha_half, 2.0 * o + 2.0) / 2.0;
    Ok(CountInterval {
        lower: Some(lower),
        upper,
    })
}

/// Crude rate `events / denominator × multiplier` with its interval
/// (PHEindicatormethods `phe_rate` uses [`PoissonMethod::PheSwitch`]).
pub fn crude_rate(
    events: f64,
    denominator: f64,
    multiplier: f64,
    confidence: f64,
    method: PoissonMethod,
) -> Result<Estimate> {
    let n = check::positive(denominator, "denominator")?;
    let m = check::positive(multiplier, "multiplier")?;
    let interval = method.interval(events, confidence)?;
    Ok(interval.to_estimate(events, m / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(x: f64, places: usize) -> String {
        format!("{x:.places$}")
    }

    #[test]
    fn byar_check_values_from_phe_workbook() {
        // methods.md §6.5 (testdata_Byars_Wilson.xlsx), 95%.
        let i = byar_interval(65.0, 0.95).unwrap();
        assert_eq!(fixed(i.lower.unwrap(), 5), "50.16319");
        assert_eq!(fixed(i.upper, 5), "82.84914");
        let i = byar_interval(1045.0, 95.0).unwrap();
        assert_eq!(fixed(i.lower.unwrap(), 4), "982.5932");
        assert_eq!(fixed(i.upper, 4), "1110.3312");
        let i = byar_interval(1.0, 0.95).unwrap();
        assert_eq!(fixed(i.lower.unwrap(), 7), "0.0130721");
        assert_eq!(fixed(i.upper, 7), "5.5637556");
    }

    #[test]
    fn exact_and_byar_differ_at_91_as_methods_says() {
        // methods.md §6.2: O = 91, 95%: exact 73.2675–111.7278, Byar
        // 73.2655–111.7290.
        let e = exact_interval(91.0, 0.95).unwrap();
        assert_eq!(fixed(e.lower.unwrap(), 4), "73.2675");
        assert_eq!(fixed(e.upper, 4), "111.7278");
        let b = byar_interval(91.0, 0.95).unwrap();
        assert_eq!(fixed(b.lower.unwrap(), 4), "73.2655");
        assert_eq!(fixed(b.upper, 4), "111.7290");
        // The NHS Digital switch takes the exact one at 91, PHE takes Byar.
        assert_eq!(
            PoissonMethod::NhsDigitalSwitch
                .interval(91.0, 0.95)
                .unwrap(),
            e
        );
        assert_eq!(PoissonMethod::PheSwitch.interval(91.0, 0.95).unwrap(), b);
    }

    #[test]
    fn zero_count() {
        // Exact: lower 0, upper = χ²_{0.975, 2}/2 = −ln(0.025) = 3.688879.
        let e = exact_interval(0.0, 0.95).unwrap();
        assert_eq!(e.lower, Some(0.0));
        assert_eq!(fixed(e.upper, 6), "3.688879");
        let b = byar_interval(0.0, 0.95).unwrap();
        assert_eq!(b.lower, Some(0.0));
        // Byar upper at O = 0: 1·(1 − 1/9 + 1.959964/3)³ = 1.5422102³ = 3.6680…
        assert_eq!(fixed(b.upper, 4), "3.6680");
    }

    #[test]
    fn byar_lower_is_none_when_the_cube_is_negative() {
        // O = 1 at 99.8%: 1 − 1/9 − 3.090232/3 = −0.141 < 0 → NA in PHE.
        assert_eq!(byar_interval(1.0, 0.998).unwrap().lower, None);
    }

    #[test]
    fn crude_rate_scales_the_count_interval() {
        // 65 events in 1,000 per 1,000: Byar limits unchanged in value.
        let r = crude_rate(65.0, 1000.0, 1000.0, 0.95, PoissonMethod::PheSwitch).unwrap();
        assert_eq!(r.value, 65.0);
        assert_eq!(fixed(r.lower.unwrap(), 5), "50.16319");
        assert!(crude_rate(1.0, 0.0, 1.0, 0.95, PoissonMethod::Exact).is_err());
        assert!(crude_rate(-1.0, 10.0, 1.0, 0.95, PoissonMethod::Exact).is_err());
    }
}
