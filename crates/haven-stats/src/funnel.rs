//! Funnel-plot control limits and outlier labels.
//!
//! Four families, each from a named source:
//!
//! * **PHE proportion funnels** — PHEindicatormethods v2.1.0 `R/Funnels.R`
//!   (`sigma_adjustment`, `phe_funnel_significance`), methods.md §6.6: the
//!   Wilson interval inverted so that its bound equals p̄. No
//!   over-dispersion adjustment.
//! * **Exact Poisson ratio funnels** — the same package's `poisson_funnel`
//!   and `funnel_ratio_significance` (`R/utils.R`), methods.md §6.6.
//! * **Spiegelhalter (2005) normal approximations** — p̄ ± z√(p̄(1−p̄)/n) and
//!   1 ± z/√E (methods.md §6.6).
//! * **Over-dispersed limits** — the SHMI method (NHS Digital, as
//!   implemented in FunnelPlotR `sr_method = "SHMI"`, methods.md §5) on the
//!   log scale, and FunnelPlotR's arcsine-scale limits for proportions.

use std::f64::consts::FRAC_PI_2;

use crate::check;
use crate::dist::{gamma_p, gamma_q, normal_quantile, z_for};
use crate::error::{Result, StatsError};
use crate::estimate::Interval;
use crate::poisson::{CountInterval, PoissonMethod};

/// Tail probability of the inner (≈ 2σ, 95%) funnel.
pub const TAIL_0_025: f64 = 0.025;
/// Tail probability of the outer (≈ 3σ, 99.8%) funnel.
pub const TAIL_0_001: f64 = 0.001;
/// Share trimmed from each end before estimating over-dispersion (SHMI and
/// FunnelPlotR default, methods.md §5).
pub const SHMI_TRIM: f64 = 0.1;

/// Which side of the target a limit lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelSide {
    /// Below the target.
    Low,
    /// Above the target.
    High,
}

/// The four PHE funnel limits at one denominator or expected count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunnelLimits {
    /// Lower limit at tail probability 0.001 (99.8% two-sided).
    pub low_0_001: f64,
    /// Lower limit at tail probability 0.025 (95% two-sided).
    pub low_0_025: f64,
    /// Upper limit at tail probability 0.025.
    pub high_0_025: f64,
    /// Upper limit at tail probability 0.001.
    pub high_0_001: f64,
}

/// PHE funnel significance of a unit, with the package's exact labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelSignificance {
    /// Above the 0.001 (99.8%) upper limit.
    High001,
    /// Above the 0.025 (95%) upper limit only.
    High025,
    /// Below the 0.001 lower limit.
    Low001,
    /// Below the 0.025 lower limit only.
    Low025,
    /// Within the 95% limits.
    NotSignificant,
}

impl FunnelSignificance {
    /// The label PHEindicatormethods prints.
    pub fn label(self) -> &'static str {
        match self {
            FunnelSignificance::High001 => "High (0.001)",
            FunnelSignificance::High025 => "High (0.025)",
            FunnelSignificance::Low001 => "Low (0.001)",
            FunnelSignificance::Low025 => "Low (0.025)",
            FunnelSignificance::NotSignificant => "Not significant",
        }
    }
}

// ---------------------------------------------------------------------------
// (a) PHE proportion funnels
// ---------------------------------------------------------------------------

/// One PHE proportion funnel limit (`sigma_adjustment`), methods.md §6.6:
///
/// ```text
/// q   = Φ⁻¹(probability)              (0.975 → 95% two-sided, 0.999 → 99.8%)
/// A   = p̄ (n/q² + 1)
/// D   = √( (−8 p̄ (n/q² + 1))² − 64 (1/q² + 1/n) p̄ ( n (p̄ (n/q² + 2) − 1) + q² (p̄ − 1) ) )
/// lim = ((A ∓ D/8) / (1/q² + 1/n)) / n × multiplier
/// ```
///
/// clipped to [0, multiplier] (PHE clips to [0, 100] with multiplier 100).
/// A discriminant that rounds below zero is taken as 0.
pub fn phe_proportion_limit(
    p_bar: f64,
    n: f64,
    probability: f64,
    side: FunnelSide,
    multiplier: f64,
) -> Result<f64> {
    let m = check::positive(multiplier, "multiplier")?;
    Ok((sigma_adjustment(p_bar, n, probability, side)? * m).clamp(0.0, m))
}

/// The unclipped limit on the 0–1 scale, as PHE's `sigma_adjustment`.
fn sigma_adjustment(p_bar: f64, n: f64, probability: f64, side: FunnelSide) -> Result<f64> {
    let p = unit_proportion(p_bar, "average proportion")?;
    let n = check::positive(n, "denominator")?;
    let q2 = normal_quantile(check::probability(probability, "funnel probability")?).powi(2);
    let first = p * (n / q2 + 1.0);
    let last = 1.0 / q2 + 1.0 / n;
    let discriminant = (-8.0 * first).powi(2)
        - 64.0 * last * p * (n * (p * (n / q2 + 2.0) - 1.0) + q2 * (p - 1.0));
    let adj = discriminant.max(0.0).sqrt();
    let bound = match side {
        FunnelSide::Low => first - adj / 8.0,
        FunnelSide::High => first + adj / 8.0,
    };
    Ok(bound / last / n)
}

/// All four PHE proportion limits at denominator `n` (probabilities 0.999
/// and 0.975), × multiplier.
pub fn phe_proportion_funnel(p_bar: f64, n: f64, multiplier: f64) -> Result<FunnelLimits> {
    let limit = |prob, side| phe_proportion_limit(p_bar, n, prob, side, multiplier);
    Ok(FunnelLimits {
        low_0_001: limit(0.999, FunnelSide::Low)?,
        low_0_025: limit(0.975, FunnelSide::Low)?,
        high_0_025: limit(0.975, FunnelSide::High)?,
        high_0_001: limit(0.999, FunnelSide::High)?,
    })
}

/// PHE significance of x/n against the funnel around `p_bar`
/// (`phe_funnel_significance`, statistic = "proportion"): tested in the
/// package's order Low (0.001), Low (0.025), High (0.001), High (0.025),
/// with strict inequalities.
pub fn phe_proportion_significance(x: f64, n: f64, p_bar: f64) -> Result<FunnelSignificance> {
    let x = check::non_negative(x, "numerator")?;
    if x > check::positive(n, "denominator")? {
        return Err(StatsError::NumeratorExceedsDenominator);
    }
    let limit = |prob, side| sigma_adjustment(p_bar, n, prob, side);
    let observed = x / n;
    Ok(if observed < limit(0.999, FunnelSide::Low)? {
        FunnelSignificance::Low001
    } else if observed < limit(0.975, FunnelSide::Low)? {
        FunnelSignificance::Low025
    } else if observed > limit(0.999, FunnelSide::High)? {
        FunnelSignificance::High001
    } else if observed > limit(0.975, FunnelSide::High)? {
        FunnelSignificance::High025
    } else {
        FunnelSignificance::NotSignificant
    })
}

/// p̄ must be a proportion in [0, 1].
fn unit_proportion(p: f64, what: &'static str) -> Result<f64> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(StatsError::OutOfDomain { what })
    }
}

// ---------------------------------------------------------------------------
// (b) Exact Poisson ratio funnels
// ---------------------------------------------------------------------------

/// The observed-count funnel limit at expected count `expected` and one-sided
/// tail probability `tail` (0.025 or 0.001), exact Poisson.
///
/// PHE's `poisson_funnel(obs, p, side)` fixes an integer observed count and
/// bisects for the expected count λ at which the count is just significant:
/// side "low" solves P(X ≥ obs | λ) = p (λ below obs, giving the *upper*
/// ratio limit obs/λ) and side "high" solves P(X ≤ obs | λ) = p (the *lower*
/// limit). The funnel is the curve of points (λ, obs/λ).
///
/// Here the expected count is given instead, so the same equations are
/// solved for the observed count, bisecting on the Poisson CDF extended to
/// real counts through the incomplete gamma function
/// (P(X ≥ O | E) = P(O, E), P(X ≤ O | E) = Q(O + 1, E)):
///
/// * [`FunnelSide::High`]: O with P(O, E) = tail;
/// * [`FunnelSide::Low`]: O with Q(O + 1, E) = tail, or 0 when even O = 0
///   has P(X ≤ 0 | E) = e^−E ≥ tail (the funnel has not opened yet).
///
/// At every integer O these points lie exactly on PHE's curve; between
/// integers the curve is interpolated smoothly instead of being sampled.
pub fn poisson_observed_limit(expected: f64, tail: f64, side: FunnelSide) -> Result<f64> {
    let e = check::positive(expected, "expected count")?;
    let p = check::probability(tail, "tail probability")?;
    Ok(match side {
        FunnelSide::High => bisect_decreasing(|o| gamma_p(o, e) - p, e),
        FunnelSide::Low if (-e).exp() >= p => 0.0,
        FunnelSide::Low => bisect_decreasing(|o| p - gamma_q(o + 1.0, e), e),
    })
}

/// Root in (0, ∞) of a function decreasing from positive to negative,
/// bracketed by doubling from `scale`.
fn bisect_decreasing(f: impl Fn(f64) -> f64, scale: f64) -> f64 {
    let mut lo = 0.0;
    let mut hi = scale.max(1.0) * 2.0;
    while f(hi) > 0.0 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Exact Poisson funnel limits for a standardised ratio O/E at expected
/// count `expected`: each observed-count limit of
/// [`poisson_observed_limit`] divided by E. Multiply by 100 for ISRs on
/// the 100 scale (PHE `ratio_type = "isr"`).
pub fn exact_ratio_funnel(expected: f64) -> Result<FunnelLimits> {
    let limit =
        |tail, side| Ok::<_, StatsError>(poisson_observed_limit(expected, tail, side)? / expected);
    Ok(FunnelLimits {
        low_0_001: limit(TAIL_0_001, FunnelSide::Low)?,
        low_0_025: limit(TAIL_0_025, FunnelSide::Low)?,
        high_0_025: limit(TAIL_0_025, FunnelSide::High)?,
        high_0_001: limit(TAIL_0_001, FunnelSide::High)?,
    })
}

/// PHE significance of a ratio O/E (`phe_funnel_significance`, statistic =
/// "ratio" or "rate"): the 99.8% and 95% confidence limits of O/E (exact
/// below 10, Byar from 10, via `funnel_ratio_significance`) compared with
/// `target` — 1 for a ratio, the weighted average rate for a rate (where E
/// is the denominator). Tested High (0.001), High (0.025), Low (0.001),
/// Low (0.025) in that order.
pub fn ratio_significance(observed: f64, expected: f64, target: f64) -> Result<FunnelSignificance> {
    let e = check::positive(expected, "expected count")?;
    let target = check::finite(target, "target")?;
    let outer = PoissonMethod::PheSwitch.interval(observed, 0.998)?;
    let inner = PoissonMethod::PheSwitch.interval(observed, 0.95)?;
    // Byar's lower limit is only undefined far below O = 10; 0 is its bound.
    let lower = |i: CountInterval| i.lower.unwrap_or(0.0) / e;
    Ok(if target < lower(outer) {
        FunnelSignificance::High001
    } else if target < lower(inner) {
        FunnelSignificance::High025
    } else if target > outer.upper / e {
        FunnelSignificance::Low001
    } else if target > inner.upper / e {
        FunnelSignificance::Low025
    } else {
        FunnelSignificance::NotSignificant
    })
}

// ---------------------------------------------------------------------------
// (c) Spiegelhalter normal approximations
// ---------------------------------------------------------------------------

/// Spiegelhalter (2005) limits for a proportion: p̄ ± z√(p̄(1−p̄)/n).
/// Not clipped, so the funnel's symmetry is visible.
pub fn spiegelhalter_proportion_limits(p_bar: f64, n: f64, confidence: f64) -> Result<Interval> {
    let p = unit_proportion(p_bar, "average proportion")?;
    let half = z_for(confidence)? * (p * (1.0 - p) / check::positive(n, "denominator")?).sqrt();
    Ok(Interval {
        lower: p - half,
        upper: p + half,
    })
}

/// Spiegelhalter (2005) limits for a standardised ratio: 1 ± z/√E.
pub fn spiegelhalter_ratio_limits(expected: f64, confidence: f64) -> Result<Interval> {
    let half = z_for(confidence)? / check::positive(expected, "expected count")?.sqrt();
    Ok(Interval {
        lower: 1.0 - half,
        upper: 1.0 + half,
    })
}

// ---------------------------------------------------------------------------
// (d) Over-dispersion: SHMI (log scale) and arcsine proportions
// ---------------------------------------------------------------------------

/// An over-dispersion estimate from the retained (untrimmed) units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overdispersion {
    /// φ = (1/n′) Σ zᵢ², the dispersion ratio (> 1 means over-dispersed).
    pub phi: f64,
    /// τ², the between-unit variance added on the transformed scale.
    pub tau2: f64,
    /// n′, units kept after truncation.
    pub retained: usize,
}

/// SHMI banding (NHS Digital; methods.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ShmiBanding {
    /// Band 1: above the upper control limit.
    HigherThanExpected = 1,
    /// Band 2: within the control limits.
    AsExpected = 2,
    /// Band 3: below the lower control limit.
    LowerThanExpected = 3,
}

impl ShmiBanding {
    /// The published band number (1, 2 or 3).
    pub fn number(self) -> u8 {
        self as u8
    }
}

/// SHMI over-dispersion (FunnelPlotR `sr_method = "SHMI"`, methods.md §5):
/// zᵢ = √Eᵢ·ln(Oᵢ/Eᵢ), sᵢ = 1/√Eᵢ, truncation by z rank (see
/// [`estimate_overdispersion`]) with `trim` (normally [`SHMI_TRIM`]).
///
/// A unit with O = 0 has z = −∞: it ranks lowest and is normally trimmed;
/// if it survives truncation the estimate is undefined and an error is
/// returned.
pub fn shmi_overdispersion(
    observed: &[f64],
    expected: &[f64],
    trim: f64,
) -> Result<Overdispersion> {
    check::same_length(
        &[observed.len(), expected.len()],
        "observed and expected counts",
    )?;
    let mut z = Vec::with_capacity(observed.len());
    let mut s = Vec::with_capacity(observed.len());
    for (&o, &e) in observed.iter().zip(expected) {
        let o = check::non_negative(o, "observed count")?;
        let e = check::positive(e, "expected count")?;
        z.push(e.sqrt() * (o / e).ln());
        s.push(1.0 / e.sqrt());
    }
    estimate_overdispersion(&z, &s, trim)
}

/// Over-dispersion for proportions on the arcsine scale (FunnelPlotR
/// `data_type = "PR"`): target θ = asin√p̄ with p̄ = Σx/Σn, zᵢ =
/// (asin√(xᵢ/nᵢ) − θ)/sᵢ, sᵢ = 1/(2√nᵢ), then the same truncation.
pub fn proportion_overdispersion(
    numerators: &[f64],
    denominators: &[f64],
    trim: f64,
) -> Result<Overdispersion> {
    check::same_length(
        &[numerators.len(), denominators.len()],
        "numerators and denominators",
    )?;
    for (&x, &n) in numerators.iter().zip(denominators) {
        if check::non_negative(x, "numerator")? > check::positive(n, "denominator")? {
            return Err(StatsError::NumeratorExceedsDenominator);
        }
    }
    let target = (numerators.iter().sum::<f64>() / denominators.iter().sum::<f64>())
        .sqrt()
        .asin();
    let s: Vec<f64> = denominators
        .iter()
        .map(|n| 1.0 / (2.0 * n.sqrt()))
        .collect();
    let z = numerators
        .iter()
        .zip(denominators)
        .zip(&s)
        .map(|((x, n), s)| ((x / n).sqrt().asin() - target) / s)
        .collect::<Vec<_>>();
    estimate_overdispersion(&z, &s, trim)
}

/// φ and τ² from unadjusted z-scores and within-unit standard errors,
/// after SHMI truncation (methods.md §5, FunnelPlotR `truncation`,
/// `phi_func`, `tau_func`):
///
/// * rank zᵢ (ties take the average rank, as R's `rank`); with k = 1/trim
///   groups, spᵢ = ⌊rankᵢ·k/(n+1)⌋; keep units with 0 < spᵢ < k − 1;
/// * φ = (1/n′) Σ zᵢ² over the n′ kept units;
/// * τ² = 0 if n′φ < n′ − 1, else max(0, (n′φ − (n′−1)) / (Σwᵢ − Σwᵢ²/Σwᵢ))
///   with wᵢ = 1/sᵢ².
pub fn estimate_overdispersion(z: &[f64], s: &[f64], trim: f64) -> Result<Overdispersion> {
    check::same_length(&[z.len(), s.len()], "z-scores and standard errors")?;
    if !(trim > 0.0 && trim < 0.5) {
        return Err(StatsError::Probability {
            what: "trim share (below one half)",
        });
    }
    let kept: Vec<usize> = retained_units(z, 1.0 / trim);
    check::at_least(kept.len(), 2, "over-dispersion after truncation")?;
    if kept.iter().any(|&i| !z[i].is_finite()) {
        return Err(StatsError::OutOfDomain {
            what: "z-score of a retained unit",
        });
    }
    let n = kept.len() as f64;
    let phi = kept.iter().map(|&i| z[i] * z[i]).sum::<f64>() / n;
    let weights: Vec<f64> = kept.iter().map(|&i| 1.0 / (s[i] * s[i])).collect();
    Ok(Overdispersion {
        phi,
        tau2: tau_squared(n, phi, &weights)?,
        retained: kept.len(),
    })
}

/// Indices of the units whose rank group lies strictly inside (0, k − 1).
fn retained_units(z: &[f64], k: f64) -> Vec<usize> {
    let ranks = average_ranks(z);
    let n1 = z.len() as f64 + 1.0;
    (0..z.len())
        .filter(|&i| {
            let group = (ranks[i] * k / n1).floor();
            group > 0.0 && group < k - 1.0
        })
        .collect()
}

/// 1-based ranks with ties averaged (R `rank(ties.method = "average")`).
fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = rank);
        start = end;
    }
    ranks
}

/// DerSimonian–Laird style τ² as FunnelPlotR's `tau_func`.
fn tau_squared(n: f64, phi: f64, weights: &[f64]) -> Result<f64> {
    if n * phi < n - 1.0 {
        return Ok(0.0);
    }
    let sum_w: f64 = weights.iter().sum();
    let sum_w2: f64 = weights.iter().map(|w| w * w).sum();
    let denominator = sum_w - sum_w2 / sum_w;
    if denominator <= 0.0 {
        // All retained units have the same weight share of one: no spread.
        return Err(StatsError::Undefined {
            what: "between-unit variance (τ²)",
        });
    }
    Ok(((n * phi - (n - 1.0)) / denominator).max(0.0))
}

/// SHMI control limits at expected count E: exp(±z√(1/E + τ²)), with z for
/// `confidence` (0.95 → 1.959964, 0.998 → 3.090232).
pub fn shmi_limits(expected: f64, tau2: f64, confidence: f64) -> Result<Interval> {
    let e = check::positive(expected, "expected count")?;
    let half = z_for(confidence)? * (1.0 / e + check::non_negative(tau2, "tau squared")?).sqrt();
    Ok(Interval {
        lower: (-half).exp(),
        upper: half.exp(),
    })
}

/// SHMI band of a trust: its ratio O/E against [`shmi_limits`] (strictly
/// above the upper limit → 1, strictly below the lower → 3, else 2). The
/// published SHMI uses 95% limits (methods.md §5, secondary source).
pub fn shmi_banding(
    observed: f64,
    expected: f64,
    tau2: f64,
    confidence: f64,
) -> Result<ShmiBanding> {
    let ratio = check::non_negative(observed, "observed count")?
        / check::positive(expected, "expected count")?;
    let limits = shmi_limits(expected, tau2, confidence)?;
    Ok(if ratio > limits.upper {
        ShmiBanding::HigherThanExpected
    } else if ratio < limits.lower {
        ShmiBanding::LowerThanExpected
    } else {
        ShmiBanding::AsExpected
    })
}

/// Over-dispersed proportion limits on the arcsine scale (FunnelPlotR
/// `OD_limits`, `data_type = "PR"`): sin²(asin√p̄ ± z√(1/(4n) + τ²)).
///
/// The angle is clipped to [0, π/2] before squaring the sine; without the
/// clip (as in FunnelPlotR) a wide limit folds back and a lower limit at a
/// small n would rise again above 0.
pub fn overdispersed_proportion_limits(
    p_bar: f64,
    n: f64,
    tau2: f64,
    confidence: f64,
) -> Result<Interval> {
    let theta = unit_proportion(p_bar, "average proportion")?.sqrt().asin();
    let variance = 1.0 / (4.0 * check::positive(n, "denominator")?)
        + check::non_negative(tau2, "tau squared")?;
    let half = z_for(confidence)? * variance.sqrt();
    let sin2 = |angle: f64| angle.clamp(0.0, FRAC_PI_2).sin().powi(2);
    Ok(Interval {
        lower: sin2(theta - half),
        upper: sin2(theta + half),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phe_proportion_limits_bracket_p_bar_and_narrow_with_n() {
        // p̄ = 0.5, n = 100, q = 1.959964: A = 13.5152, D = 21.21, so the
        // 0.975 limits are (13.5152 ∓ 2.651)/0.27030/100 = 0.402, 0.598 —
        // close to the normal 0.5 ± 1.96·0.05 = 0.402–0.598.
        let f = phe_proportion_funnel(0.5, 100.0, 1.0).unwrap();
        assert_eq!(
            format!("{:.3} {:.3}", f.low_0_025, f.high_0_025),
            "0.402 0.598"
        );
        assert!(f.low_0_001 < f.low_0_025 && f.low_0_025 < 0.5);
        assert!(f.high_0_001 > f.high_0_025 && f.high_0_025 > 0.5);
        let wide = phe_proportion_funnel(0.3, 50.0, 100.0).unwrap();
        let narrow = phe_proportion_funnel(0.3, 5000.0, 100.0).unwrap();
        assert!(narrow.low_0_025 > wide.low_0_025 && narrow.high_0_025 < wide.high_0_025);
        assert!(narrow.low_0_025 < 30.0 && narrow.high_0_025 > 30.0);
    }

    #[test]
    fn phe_limit_is_the_wilson_bound_through_p_bar() {
        // By construction the Wilson interval of a unit sitting on the
        // upper limit has its lower bound at p̄ (methods.md §6.6).
        let (p_bar, n) = (0.2, 400.0);
        let upper = phe_proportion_limit(p_bar, n, 0.975, FunnelSide::High, 1.0).unwrap();
        let w = crate::proportion::wilson_interval(upper * n, n, 0.95).unwrap();
        assert!((w.lower - p_bar).abs() < 1e-12, "{}", w.lower);
    }

    #[test]
    fn dhsc_port_value_for_sigma_adjustment() {
        // dhsc-govuk PHEindicatormethods Python port, test_utils_funnel:
        // sigma_adjustment(0.975, 100000, 0.9, "low", 100) = 89.81406149030842.
        let low = phe_proportion_limit(0.9, 100_000.0, 0.975, FunnelSide::Low, 100.0).unwrap();
        assert!((low - 89.814_061_490_308_42).abs() < 1e-9, "{low}");
    }

    #[test]
    fn proportion_significance_labels() {
        // p̄ = 0.5, n = 100: 95% limits ≈ 0.402–0.598, 99.8% ≈ 0.35–0.65.
        let label = |x| phe_proportion_significance(x, 100.0, 0.5).unwrap().label();
        assert_eq!(label(50.0), "Not significant");
        assert_eq!(label(62.0), "High (0.025)");
        assert_eq!(label(70.0), "High (0.001)");
        assert_eq!(label(38.0), "Low (0.025)");
        assert_eq!(label(30.0), "Low (0.001)");
    }

    #[test]
    fn poisson_funnel_matches_phe_bisection_values() {
        // PHE's poisson_funnel(200, 0.025, "low") = 173.24086241121654 and
        // poisson_funnel(500, 0.001, "high") = 573.0274767209943 (values from
        // the dhsc-govuk Python port's tests): at those expected counts the
        // observed limits are 200 and 500. PHE stops bisecting at 1e-7 on a
        // transformed scale, so agreement is to about 1e-4.
        let high =
            poisson_observed_limit(173.240_862_411_216_54, TAIL_0_025, FunnelSide::High).unwrap();
        assert!((high - 200.0).abs() < 1e-3, "{high}");
        let low =
            poisson_observed_limit(573.027_476_720_994_3, TAIL_0_001, FunnelSide::Low).unwrap();
        assert!((low - 500.0).abs() < 1e-3, "{low}");
    }

    #[test]
    fn poisson_funnel_small_expected_counts() {
        // High side at O = 1: P(X ≥ 1 | E) = 1 − e^−E = 0.025 gives
        // E = −ln(0.975) = 0.0253178, where the observed limit is exactly 1.
        let e = -(0.975f64.ln());
        let high = poisson_observed_limit(e, TAIL_0_025, FunnelSide::High).unwrap();
        assert!((high - 1.0).abs() < 1e-9, "{high}");
        // Low side: P(X ≤ 0 | 1) = e^−1 = 0.37 ≥ 0.025, so the limit is 0.
        assert_eq!(
            poisson_observed_limit(1.0, TAIL_0_025, FunnelSide::Low).unwrap(),
            0.0
        );
        let f = exact_ratio_funnel(50.0).unwrap();
        assert!(f.low_0_001 < f.low_0_025 && f.low_0_025 < 1.0);
        assert!(f.high_0_001 > f.high_0_025 && f.high_0_025 > 1.0);
    }

    #[test]
    fn ratio_significance_against_one() {
        // O = 895, E = 835.88356: 95% CI 1.0017–1.1432 (methods.md §6.4)
        // excludes 1; the 99.8% CI (lower ≈ 0.96) does not → High (0.025).
        let s = ratio_significance(895.0, 835.883_56, 1.0).unwrap();
        assert_eq!(s.label(), "High (0.025)");
        // O = 9, E = 835.88: upper 0.0204 ≪ 1 at both levels → Low (0.001).
        assert_eq!(
            ratio_significance(9.0, 835.883_56, 1.0).unwrap(),
            FunnelSignificance::Low001
        );
        assert_eq!(
            ratio_significance(100.0, 100.0, 1.0).unwrap(),
            FunnelSignificance::NotSignificant
        );
    }

    #[test]
    fn spiegelhalter_limits() {
        // p̄ = 0.2, n = 100: 0.2 ± 1.959964·0.04 = 0.12160–0.27840.
        let p = spiegelhalter_proportion_limits(0.2, 100.0, 0.95).unwrap();
        assert_eq!(format!("{:.5} {:.5}", p.lower, p.upper), "0.12160 0.27840");
        // E = 100: 1 ± 3.090232/10 = 0.690977–1.309023.
        let r = spiegelhalter_ratio_limits(100.0, 0.998).unwrap();
        assert_eq!(
            format!("{:.6} {:.6}", r.lower, r.upper),
            "0.690977 1.309023"
        );
    }

    #[test]
    fn shmi_tau2_is_zero_without_over_dispersion() {
        // O = E everywhere: every z = 0, φ = 0 < (n′−1)/n′ → τ² = 0.
        let e = [
            120.0, 80.0, 300.0, 45.0, 60.0, 210.0, 95.0, 150.0, 33.0, 500.0,
        ];
        let od = shmi_overdispersion(&e, &e, SHMI_TRIM).unwrap();
        assert_eq!((od.phi, od.tau2), (0.0, 0.0));
    }

    #[test]
    fn shmi_tau2_for_a_crafted_over_dispersed_set() {
        // Ten trusts, E = 100, O/E = e^±0.5 alternately: z = 10·(±0.5) = ±5.
        // Ties: five at rank 3, five at rank 8 → groups ⌊30/11⌋ = 2 and
        // ⌊80/11⌋ = 7, so none is trimmed. φ = 25; n′φ = 250 ≥ 9.
        // w = E = 100: Σw = 1000, Σw²/Σw = 100 → τ² = (250 − 9)/900.
        let expected = [100.0; 10];
        let observed: Vec<f64> = (0..10)
            .map(|i| 100.0 * if i % 2 == 0 { 0.5f64 } else { -0.5 }.exp())
            .collect();
        let od = shmi_overdispersion(&observed, &expected, SHMI_TRIM).unwrap();
        assert_eq!(od.retained, 10);
        assert!((od.phi - 25.0).abs() < 1e-9);
        assert!((od.tau2 - 241.0 / 900.0).abs() < 1e-12, "{}", od.tau2);
    }

    #[test]
    fn shmi_truncation_drops_the_top_and_bottom_tenth() {
        // 20 trusts, E = 100, z = i − 10.5 for i = 1..20. Ranks 1–2 give
        // groups ⌊10/21⌋, ⌊20/21⌋ = 0 and ranks 19–20 give 9: four trimmed.
        // Kept z = −7.5…7.5 (16 values), Σz² = 2·(0.25+2.25+…+56.25) = 340,
        // φ = 340/16 = 21.25. Σw = 1600, Σw²/Σw = 100 → τ² = (340 − 15)/1500.
        let z: Vec<f64> = (1..=20).map(|i| f64::from(i) - 10.5).collect();
        let expected = [100.0; 20];
        let observed: Vec<f64> = z.iter().map(|z| 100.0 * (z / 10.0).exp()).collect();
        let od = shmi_overdispersion(&observed, &expected, SHMI_TRIM).unwrap();
        assert_eq!(od.retained, 16);
        assert!((od.phi - 21.25).abs() < 1e-9);
        assert!((od.tau2 - 325.0 / 1500.0).abs() < 1e-12);
    }

    #[test]
    fn shmi_banding_uses_widened_limits() {
        // E = 100, τ² = 0: 95% limits exp(±1.959964·0.1) = 0.8220–1.2165.
        let l = shmi_limits(100.0, 0.0, 0.95).unwrap();
        assert_eq!(format!("{:.4} {:.4}", l.lower, l.upper), "0.8220 1.2165");
        assert_eq!(
            shmi_banding(125.0, 100.0, 0.0, 0.95).unwrap(),
            ShmiBanding::HigherThanExpected
        );
        assert_eq!(shmi_banding(80.0, 100.0, 0.0, 0.95).unwrap().number(), 3);
        // With τ² = 0.05 the limits widen to exp(±1.959964·√0.06) ≈ 0.62–1.62.
        assert_eq!(
            shmi_banding(125.0, 100.0, 0.05, 0.95).unwrap(),
            ShmiBanding::AsExpected
        );
    }

    #[test]
    fn arcsine_limits_approach_normal_limits_without_tau() {
        // n large, τ² = 0: sin²(asin√p̄ ± z/(2√n)) ≈ p̄ ± z√(p̄(1−p̄)/n).
        let a = overdispersed_proportion_limits(0.3, 1e6, 0.0, 0.95).unwrap();
        let s = spiegelhalter_proportion_limits(0.3, 1e6, 0.95).unwrap();
        assert!((a.lower - s.lower).abs() < 1e-6 && (a.upper - s.upper).abs() < 1e-6);
        // τ² widens them; tiny n clips at 0 rather than folding back.
        let wide = overdispersed_proportion_limits(0.3, 1e6, 0.01, 0.95).unwrap();
        assert!(wide.lower < a.lower && wide.upper > a.upper);
        assert_eq!(
            overdispersed_proportion_limits(0.05, 1.0, 0.0, 0.998)
                .unwrap()
                .lower,
            0.0
        );
    }

    #[test]
    fn proportion_overdispersion_is_zero_for_identical_units() {
        let od = proportion_overdispersion(&[20.0; 12], &[100.0; 12], SHMI_TRIM).unwrap();
        assert!(od.phi.abs() < 1e-20 && od.tau2 == 0.0);
    }
}
