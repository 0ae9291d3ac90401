//! Distribution functions: standard normal, gamma, chi-square and Poisson.
//!
//! These are the special functions the public-health methods need, written
//! out here because the crate takes no maths dependency. The low-level
//! functions follow the C library convention: they return `NaN` for
//! arguments outside their domain rather than a `Result`, so they compose in
//! formulas; the public methods built on them validate their inputs first.
//!
//! * [`normal_quantile`] — Wichura (1988), Algorithm AS 241 `PPND16`,
//!   relative accuracy about 1e-16.
//! * [`ln_gamma`] — Lanczos approximation with the Numerical Recipes (3rd
//!   ed., §6.1 `gammln`) coefficients, g = 671/128, about 1e-15.
//! * [`gamma_p`] / [`gamma_q`] — regularised incomplete gamma functions by
//!   series (x < a + 1) and Lentz continued fraction (otherwise), Numerical
//!   Recipes §6.2.
//! * [`normal_cdf`] — Φ(x) = ½·Q(½, x²/2) for x < 0, so the lower tail keeps
//!   full relative accuracy.
//! * [`chi_square_quantile`] — safeguarded Newton iteration on the gamma CDF
//!   to about 1e-14 relative.

use crate::error::{Result, StatsError};

/// Relative convergence threshold of the incomplete gamma iterations.
const EPS: f64 = 1e-16;
/// Smallest magnitude the Lentz algorithm lets a denominator take.
const FPMIN: f64 = 1e-300;
/// Iteration cap; convergence needs O(√a) terms, so this covers a up to
/// about 10¹⁰.
const MAX_ITER: usize = 1_000_000;

/// Standard normal cumulative distribution function Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let half_square = 0.5 * x * x;
    if x < 0.0 {
        0.5 * gamma_q(0.5, half_square)
    } else {
        0.5 + 0.5 * gamma_p(0.5, half_square)
    }
}

/// Standard normal quantile Φ⁻¹(p) by Wichura's AS 241 (`PPND16`).
///
/// Returns −∞ at 0, +∞ at 1 and `NaN` outside [0, 1].
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        return q * as241_central(0.180625 - q * q);
    }
    // Work with the smaller tail so 1 − p never loses digits.
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let value = as241_tail((-tail.ln()).sqrt());
    if q < 0.0 {
        -value
    } else {
        value
    }
}

/// AS 241 rational approximation for |p − ½| ≤ 0.425 (r = 0.180625 − q²).
#[allow(
    clippy::excessive_precision,
    reason = "coefficients copied digit for digit from the published algorithm, so they can be checked against it"
)]
fn as241_central(r: f64) -> f64 {
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083_0e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061_0e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561_0e3,
    ];
    polynomial(&A, r) / polynomial(&B, r)
}

/// AS 241 rational approximations for the tails, r = √(−ln(tail)).
#[allow(
    clippy::excessive_precision,
    reason = "coefficients copied digit for digit from the published algorithm, so they can be checked against it"
)]
fn as241_tail(r: f64) -> f64 {
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_90,
        5.769_497_221_460_691_405_50,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_70e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_40e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_40,
        6.897_673_349_851_000_045_50e-1,
        1.481_039_764_274_800_745_90e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946_00e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_20,
        5.463_784_911_164_114_369_90,
        1.784_826_539_917_291_335_80,
        2.965_605_718_285_048_912_30e-1,
        2.653_218_952_657_612_309_30e-2,
        1.242_660_947_388_078_438_60e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_90e-1,
        1.369_298_809_227_358_053_10e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591_00e-4,
        1.846_318_317_510_054_681_80e-5,
        1.421_511_758_316_445_888_70e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    if r <= 5.0 {
        polynomial(&C, r - 1.6) / polynomial(&D, r - 1.6)
    } else {
        polynomial(&E, r - 5.0) / polynomial(&F, r - 5.0)
    }
}

/// Horner evaluation of Σ cᵢ·xⁱ (coefficients in ascending order).
fn polynomial(coefficients: &[f64], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

/// Normalises a confidence level given as 0.95 or 95 to a proportion.
///
/// Values in (0, 1] are proportions and values in (1, 100] percentages, the
/// same convention as PHEindicatormethods v2.1.0 (`confidence >= 90` is
/// divided by 100), methods.md §6. A level of 1 (100%) is allowed: Wilson
/// then gives 0 and 1 (§6.5).
pub fn confidence_level(confidence: f64) -> Result<f64> {
    if confidence > 0.0 && confidence <= 1.0 {
        Ok(confidence)
    } else if confidence > 1.0 && confidence <= 100.0 {
        Ok(confidence / 100.0)
    } else {
        Err(StatsError::Confidence)
    }
}

/// Two-sided critical value z = Φ⁻¹(c + (1 − c)/2) for a confidence level
/// given as 0.95 or 95 (methods.md §6): 1.959964 for 0.95, 3.090232 for
/// 0.998, +∞ for 1.
pub fn z_for(confidence: f64) -> Result<f64> {
    let c = confidence_level(confidence)?;
    Ok(normal_quantile(c + (1.0 - c) / 2.0))
}

/// Natural logarithm of the gamma function for x > 0 (Lanczos, Numerical
/// Recipes 3rd ed. `gammln`). `NaN` for x ≤ 0.
#[allow(
    clippy::excessive_precision,
    reason = "coefficients copied digit for digit from the published algorithm, so they can be checked against it"
)]
pub fn ln_gamma(x: f64) -> f64 {
    const COF: [f64; 14] = [
        57.156_235_665_862_923_5,
        -59.597_960_355_475_491_2,
        14.136_097_974_741_747_1,
        -0.491_913_816_097_620_199,
        0.339_946_499_848_118_887e-4,
        0.465_236_289_270_485_756e-4,
        -0.983_744_753_048_795_646e-4,
        0.158_088_703_224_912_494e-3,
        -0.210_264_441_724_104_883e-3,
        0.217_439_618_115_212_643e-3,
        -0.164_318_106_536_763_890e-3,
        0.844_182_239_838_527_433e-4,
        -0.261_908_384_015_814_087e-4,
        0.368_991_826_595_316_234e-5,
    ];
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let shifted = x + 5.242_187_5;
    let head = (x + 0.5) * shifted.ln() - shifted;
    let mut denominator = x;
    let mut series = 0.999_999_999_999_997_092;
    for c in COF {
        denominator += 1.0;
        series += c / denominator;
    }
    head + (2.506_628_274_631_000_5 * series / x).ln()
}

/// Regularised lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a).
///
/// `NaN` unless a > 0 and x ≥ 0.
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if a.is_nan() || x.is_nan() || a <= 0.0 || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    if x.is_infinite() {
        return 1.0;
    }
    if x < a + 1.0 {
        gamma_series(a, x)
    } else {
        1.0 - gamma_continued_fraction(a, x)
    }
}

/// Regularised upper incomplete gamma function Q(a, x) = 1 − P(a, x),
/// computed directly in the upper tail so small values keep their digits.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if a.is_nan() || x.is_nan() || a <= 0.0 || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_series(a, x)
    } else {
        gamma_continued_fraction(a, x)
    }
}

/// e^(−x)·x^a/Γ(a), the common prefactor of the series and the fraction.
fn gamma_prefactor(a: f64, x: f64) -> f64 {
    (a * x.ln() - x - ln_gamma(a)).exp()
}

/// P(a, x) by its power series (converges quickly for x < a + 1).
fn gamma_series(a: f64, x: f64) -> f64 {
    let mut ap = a;
    let mut term = 1.0 / a;
    let mut sum = term;
    for _ in 0..MAX_ITER {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if term.abs() < sum.abs() * EPS {
            break;
        }
    }
    sum * gamma_prefactor(a, x)
}

/// Q(a, x) by modified Lentz evaluation of its continued fraction
/// (converges quickly for x ≥ a + 1).
fn gamma_continued_fraction(a: f64, x: f64) -> f64 {
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / FPMIN;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_ITER {
        let i = i as f64;
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < FPMIN {
            d = FPMIN;
        }
        c = b + an / c;
        if c.abs() < FPMIN {
            c = FPMIN;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() <= EPS {
            break;
        }
    }
    gamma_prefactor(a, x) * h
}

/// Density of the gamma distribution with shape `a` and unit scale.
fn gamma_density(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return if a < 1.0 {
            f64::INFINITY
        } else if a == 1.0 {
            1.0
        } else {
            0.0
        };
    }
    ((a - 1.0) * x.ln() - x - ln_gamma(a)).exp()
}

/// Chi-square cumulative distribution function P(X ≤ x) with `df` degrees
/// of freedom.
pub fn chi_square_cdf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return if df > 0.0 { 0.0 } else { f64::NAN };
    }
    gamma_p(df / 2.0, x / 2.0)
}

/// Chi-square quantile χ²_{p, df}: the x with P(X ≤ x) = p.
///
/// Solved on the gamma scale by Newton's method inside a shrinking bisection
/// bracket, to about 1e-14 relative. When p > ½ the upper tail Q is matched
/// against 1 − p instead, so quantiles near 1 keep their accuracy. Returns 0
/// at p = 0, +∞ at p = 1 and `NaN` for df ≤ 0 or p outside [0, 1].
pub fn chi_square_quantile(p: f64, df: f64) -> f64 {
    if df.is_nan() || df <= 0.0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return 0.0;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    2.0 * gamma_quantile(p, df / 2.0, wilson_hilferty(p, df) / 2.0)
}

/// Wilson–Hilferty approximation to χ²_{p, df}, the Newton starting point.
fn wilson_hilferty(p: f64, df: f64) -> f64 {
    let k = 2.0 / (9.0 * df);
    df * (1.0 - k + normal_quantile(p) * k.sqrt()).powi(3)
}

/// The x with P(a, x) = p, starting from `guess`.
fn gamma_quantile(p: f64, a: f64, guess: f64) -> f64 {
    let upper_tail = p > 0.5;
    // Increasing in x and zero at the answer, in whichever tail is smaller.
    let excess = |x: f64| {
        if upper_tail {
            (1.0 - p) - gamma_q(a, x)
        } else {
            gamma_p(a, x) - p
        }
    };
    let (mut lo, mut hi) = gamma_bracket(a, &excess);
    let mut x = if guess > lo && guess < hi {
        guess
    } else {
        0.5 * (lo + hi)
    };
    for _ in 0..500 {
        let f = excess(x);
        if f == 0.0 {
            return x;
        }
        if f < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let mut next = x - f / gamma_density(a, x);
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - x).abs() <= 1e-15 * next.abs() || hi - lo <= 1e-15 * hi {
            return next;
        }
        x = next;
    }
    x
}

/// A bracket [lo, hi] with `excess(lo) ≤ 0 < excess(hi)`.
fn gamma_bracket(a: f64, excess: &dyn Fn(f64) -> f64) -> (f64, f64) {
    let mut lo = 0.0;
    let mut hi = a.max(1.0);
    while excess(hi) <= 0.0 {
        lo = hi;
        hi *= 2.0;
    }
    (lo, hi)
}

/// Poisson cumulative distribution P(X ≤ k) for mean `lambda` ≥ 0,
/// via P(X ≤ k) = Q(k + 1, λ).
pub fn poisson_cdf(k: u64, lambda: f64) -> f64 {
    if lambda.is_nan() || lambda < 0.0 {
        return f64::NAN;
    }
    if lambda == 0.0 {
        return 1.0;
    }
    gamma_q(k as f64 + 1.0, lambda)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol * expected.abs().max(1.0),
            "{actual} vs {expected}"
        );
    }

    #[test]
    fn z_values_match_methods_section_6() {
        // methods.md §6: 1.959964 for 0.95, 3.090232 for 0.998.
        assert_eq!(format!("{:.6}", z_for(0.95).unwrap()), "1.959964");
        assert_eq!(format!("{:.6}", z_for(95.0).unwrap()), "1.959964");
        assert_eq!(format!("{:.6}", z_for(0.998).unwrap()), "3.090232");
        assert_eq!(format!("{:.6}", z_for(99.8).unwrap()), "3.090232");
        // Reference values to 15 digits (R: qnorm(0.975), qnorm(0.999)).
        close(z_for(0.95).unwrap(), 1.959_963_984_540_054, 1e-15);
        close(z_for(0.998).unwrap(), 3.090_232_306_167_813_5, 1e-15);
        assert_eq!(z_for(1.0).unwrap(), f64::INFINITY);
    }

    #[test]
    fn confidence_outside_range_is_refused() {
        for bad in [0.0, -0.5, 100.5, f64::NAN] {
            assert_eq!(z_for(bad), Err(StatsError::Confidence));
        }
    }

    #[test]
    fn normal_quantile_inverts_the_cdf_in_every_branch() {
        // Central, tail (r ≤ 5) and far-tail (r > 5, p < e^-25) branches.
        for p in [
            1e-300, 1e-20, 1e-12, 1e-6, 0.001, 0.02, 0.075, 0.3, 0.5, 0.7, 0.93, 0.999,
        ] {
            let x = normal_quantile(p);
            close(normal_cdf(x), p, 1e-13);
        }
        close(normal_quantile(0.5), 0.0, 1e-16);
        close(normal_quantile(0.025), -1.959_963_984_540_054, 1e-15);
    }

    #[test]
    fn normal_cdf_known_values() {
        // Φ(1) and Φ(−5) from tables (R: pnorm).
        close(normal_cdf(1.0), 0.841_344_746_068_542_9, 1e-15);
        close(normal_cdf(-5.0), 2.866_515_718_791_939e-7, 1e-13);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
    }

    #[test]
    fn ln_gamma_known_values() {
        // ln Γ(½) = ln √π; Γ(10) = 9! = 362880; ln Γ(100) = ln 99!.
        close(ln_gamma(0.5), 0.572_364_942_924_700_1, 1e-14);
        close(ln_gamma(10.0), 362_880f64.ln(), 1e-14);
        close(ln_gamma(100.0), 359.134_205_369_575_4, 1e-14);
        close(ln_gamma(1.0), 0.0, 1e-14);
        assert!(ln_gamma(0.0).is_nan());
    }

    #[test]
    fn incomplete_gamma_known_values() {
        // P(1, x) = 1 − e^−x; Q(½, x²/2) = erfc(x/√2).
        close(gamma_p(1.0, 2.0), 1.0 - (-2.0f64).exp(), 1e-14);
        close(gamma_q(1.0, 30.0), (-30.0f64).exp(), 1e-12);
        close(gamma_p(3.0, 0.5) + gamma_q(3.0, 0.5), 1.0, 1e-15);
        // Poisson: P(X ≤ 2 | 3) = e^−3 (1 + 3 + 4.5).
        close(poisson_cdf(2, 3.0), (-3.0f64).exp() * 8.5, 1e-14);
        assert_eq!(poisson_cdf(0, 0.0), 1.0);
    }

    #[test]
    fn chi_square_quantile_known_values() {
        // χ²_{0.025, 2} = −2 ln(0.975) exactly (df 2 is exponential).
        close(chi_square_quantile(0.025, 2.0), -2.0 * 0.975f64.ln(), 1e-13);
        // Tables: χ²_{0.975, 20} = 34.16961, χ²_{0.025, 18} = 8.230746.
        close(chi_square_quantile(0.975, 20.0), 34.169_606_9, 1e-8);
        close(chi_square_quantile(0.025, 18.0), 8.230_746_0, 1e-7);
        for (p, df) in [(1e-6, 1.0), (0.5, 3.0), (0.999, 2000.0), (0.0005, 780.0)] {
            let x = chi_square_quantile(p, df);
            close(chi_square_cdf(x, df), p, 1e-12);
        }
    }
}
