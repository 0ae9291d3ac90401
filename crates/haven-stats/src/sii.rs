//! Slope index of inequality (SII) and relative index of inequality (RII).
//!
//! Source: PHEindicatormethods v2.1.0 `R/SII_function.R` (`phe_sii`) and
//! `SimulationFunc` (`R/utils.R`), methods.md §6.7; Low & Low (2004).
//!
//! * aᵢ = popᵢ/Σpop; bᵢ = Σ_{j<i} aⱼ + aᵢ/2 (relative rank at the mid-point),
//!   quantiles in the order given (PHE: most to least deprived).
//! * Weighted least squares with no free intercept,
//!   `lm(√a·y ~ √a + b√a − 1)`, solved here from its 2×2 normal equations.
//!   SII = slope × multiplier; RII = (intercept + slope)/intercept, inverted
//!   when the multiplier is negative.
//! * Confidence limits by simulation: each quantile's value is drawn from
//!   Normal(T(value), SE) on the transformed scale T (log for rates, logit
//!   for proportions), back-transformed, and the regression repeated; the
//!   limits are the order statistics at positions round(R·(1−c)/2) and
//!   round(R·(c+(1−c)/2)) of R sorted draws, as PHE. The generator is the
//!   crate's seeded xoshiro256**, so results are reproducible from
//!   [`SiiOptions::seed`] (they cannot match R's `rnorm` stream).

use crate::check;
use crate::dist::{confidence_level, z_for};
use crate::error::{Result, StatsError};
use crate::estimate::Interval;
use crate::rng::NormalRng;

/// PHE's default number of simulation draws.
pub const DEFAULT_REPETITIONS: usize = 100_000;
/// PHE refuses fewer draws than this.
pub const MIN_REPETITIONS: usize = 1_000;
/// Seed used when the caller does not choose one.
pub const DEFAULT_SEED: u64 = 0x4841_5645_4E53_4949; // "HAVENSII"

/// The scale on which a quantile's value is simulated (PHE `value_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiiValueType {
    /// `value_type = 1`: a rate, simulated on the log scale (value > 0).
    Rate,
    /// `value_type = 2`: a proportion in (0, 1), on the logit scale.
    Proportion,
    /// `value_type = 0`: any other value, on its own scale.
    Other,
}

impl SiiValueType {
    /// The transformed value; errors outside the scale's domain (a
    /// proportion of exactly 0 or 1 has no finite logit).
    pub fn transform(self, value: f64) -> Result<f64> {
        let t = match self {
            SiiValueType::Rate => value.ln(),
            SiiValueType::Proportion => (value / (1.0 - value)).ln(),
            SiiValueType::Other => value,
        };
        if t.is_finite() {
            Ok(t)
        } else {
            Err(StatsError::OutOfDomain {
                what: "quantile value or limit",
            })
        }
    }

    /// Back to the value's own scale.
    pub fn back_transform(self, t: f64) -> f64 {
        match self {
            SiiValueType::Rate => t.exp(),
            SiiValueType::Proportion => 1.0 / (1.0 + (-t).exp()),
            SiiValueType::Other => t,
        }
    }
}

/// One quantile (e.g. an IMD decile) of the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiiQuantile {
    /// Population of the quantile (> 0).
    pub population: f64,
    /// Indicator value on its own scale.
    pub value: f64,
    /// Standard error on the *transformed* scale.
    pub se: f64,
}

impl SiiQuantile {
    /// A quantile whose standard error is known.
    pub fn with_se(population: f64, value: f64, se: f64) -> Self {
        SiiQuantile {
            population,
            value,
            se,
        }
    }

    /// A quantile with a 95% confidence interval instead of an SE: SE =
    /// (T(upper) − T(lower)) / (2 × 1.959964) on the transformed scale, as
    /// `phe_sii` (which always assumes a 95% interval).
    pub fn from_ci(
        population: f64,
        value: f64,
        lower95: f64,
        upper95: f64,
        value_type: SiiValueType,
    ) -> Result<Self> {
        let spread = value_type.transform(upper95)? - value_type.transform(lower95)?;
        if spread < 0.0 {
            return Err(StatsError::OutOfDomain {
                what: "confidence interval (upper below lower)",
            });
        }
        Ok(SiiQuantile {
            population,
            value,
            se: spread / (2.0 * z_for(0.95)?),
        })
    }
}

/// Parameters of [`slope_index`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiiOptions {
    /// Scale of simulation.
    pub value_type: SiiValueType,
    /// SII multiplier (e.g. 100 for percentages, −1 to flip polarity).
    pub multiplier: f64,
    /// Confidence level of the limits, 0.95 or 95 style.
    pub confidence: f64,
    /// Simulation draws (≥ 1,000; PHE default 100,000).
    pub repetitions: usize,
    /// Seed of the simulation.
    pub seed: u64,
}

impl Default for SiiOptions {
    fn default() -> Self {
        SiiOptions {
            value_type: SiiValueType::Other,
            multiplier: 1.0,
            confidence: 0.95,
            repetitions: DEFAULT_REPETITIONS,
            seed: DEFAULT_SEED,
        }
    }
}

/// A caution PHE raises (or, in v2.1.0, refuses) that is returned here
/// rather than printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiiWarning {
    /// Fewer than 5 quantiles: the regression rests on very few points.
    FewQuantiles(usize),
    /// More than 100 quantiles: small quantile populations make the SII
    /// unstable.
    ManyQuantiles(usize),
}

/// Intercept and slope of the weighted regression of value on relative
/// rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SiiFit {
    /// Fitted value at relative rank 0.
    pub intercept: f64,
    /// Fitted change from rank 0 to rank 1 (the SII before the multiplier).
    pub slope: f64,
}

impl SiiFit {
    /// RII = (intercept + slope)/intercept, inverted for a negative
    /// multiplier.
    pub fn rii(&self, multiplier: f64) -> f64 {
        let rii = (self.intercept + self.slope) / self.intercept;
        if multiplier < 0.0 {
            1.0 / rii
        } else {
            rii
        }
    }
}

/// SII and RII with simulated confidence limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Sii {
    /// The regression behind the point estimates.
    pub fit: SiiFit,
    /// Slope index of inequality (× multiplier).
    pub sii: f64,
    /// Simulated limits of the SII.
    pub sii_interval: Interval,
    /// Relative index of inequality.
    pub rii: f64,
    /// Simulated limits of the RII.
    pub rii_interval: Interval,
    /// Cautions about the input.
    pub warnings: Vec<SiiWarning>,
}

/// The regression, reduced to weights: intercept = Σ c₀ᵢyᵢ, slope = Σ c₁ᵢyᵢ.
struct Projection {
    intercept: Vec<f64>,
    slope: Vec<f64>,
}

impl Projection {
    /// Solves the normal equations [Σa Σab; Σab Σab²]·β = [Σay; Σaby]
    /// once, as rows of (XᵀX)⁻¹Xᵀ applied to √a·y.
    fn new(populations: &[f64]) -> Result<Self> {
        let (a, b) = relative_ranks(populations)?;
        let s_a: f64 = a.iter().sum();
        let s_ab: f64 = a.iter().zip(&b).map(|(a, b)| a * b).sum();
        let s_abb: f64 = a.iter().zip(&b).map(|(a, b)| a * b * b).sum();
        let det = s_a * s_abb - s_ab * s_ab;
        if det <= 0.0 || !det.is_finite() {
            return Err(StatsError::Undefined {
                what: "SII regression",
            });
        }
        let row = |wa: f64, wab: f64| -> Vec<f64> {
            a.iter()
                .zip(&b)
                .map(|(a, b)| (wa * a + wab * a * b) / det)
                .collect()
        };
        Ok(Projection {
            intercept: row(s_abb, -s_ab),
            slope: row(-s_ab, s_a),
        })
    }

    fn fit(&self, values: impl Iterator<Item = f64> + Clone) -> SiiFit {
        let dot = |w: &[f64]| w.iter().zip(values.clone()).map(|(w, y)| w * y).sum();
        SiiFit {
            intercept: dot(&self.intercept),
            slope: dot(&self.slope),
        }
    }
}

/// Population shares aᵢ and mid-point relative ranks bᵢ.
pub fn relative_ranks(populations: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    for &p in populations {
        check::positive(p, "quantile population")?;
    }
    let total: f64 = populations.iter().sum();
    let a: Vec<f64> = populations.iter().map(|p| p / total).collect();
    let mut below = 0.0;
    let b = a
        .iter()
        .map(|share| {
            let mid = below + share / 2.0;
            below += share;
            mid
        })
        .collect();
    Ok((a, b))
}

/// The point regression of `values` on relative rank (no simulation).
pub fn fit_sii(populations: &[f64], values: &[f64]) -> Result<SiiFit> {
    check::same_length(
        &[populations.len(), values.len()],
        "quantile populations and values",
    )?;
    check::at_least(populations.len(), 2, "a slope index of inequality")?;
    for &v in values {
        check::finite(v, "quantile value")?;
    }
    Ok(Projection::new(populations)?.fit(values.iter().copied()))
}

/// SII and RII of `quantiles` with simulated confidence limits.
///
/// Errors with fewer than 2 quantiles, a population ≤ 0, a negative SE, a
/// value outside its scale, or fewer than [`MIN_REPETITIONS`] draws.
pub fn slope_index(quantiles: &[SiiQuantile], options: &SiiOptions) -> Result<Sii> {
    check::at_least(quantiles.len(), 2, "a slope index of inequality")?;
    if options.repetitions < MIN_REPETITIONS {
        return Err(StatsError::TooFewRepetitions);
    }
    let multiplier = check::finite(options.multiplier, "multiplier")?;
    let confidence = confidence_level(options.confidence)?;
    let populations: Vec<f64> = quantiles.iter().map(|q| q.population).collect();
    let projection = Projection::new(&populations)?;
    let centres = transformed_values(quantiles, options.value_type)?;
    let fit = projection.fit(quantiles.iter().map(|q| q.value));
    let (mut slopes, mut riis) = simulate(&projection, &centres, quantiles, options);
    Ok(Sii {
        fit,
        sii: fit.slope * multiplier,
        sii_interval: order_interval(&mut slopes, confidence, multiplier),
        rii: fit.rii(multiplier),
        rii_interval: order_interval(&mut riis, confidence, 1.0),
        warnings: warnings(quantiles.len()),
    })
}

/// Each quantile's value on the simulation scale, after checking its SE.
fn transformed_values(quantiles: &[SiiQuantile], value_type: SiiValueType) -> Result<Vec<f64>> {
    quantiles
        .iter()
        .map(|q| {
            check::non_negative(q.se, "quantile standard error")?;
            value_type.transform(check::finite(q.value, "quantile value")?)
        })
        .collect()
}

/// Simulated (unmultiplied) slopes and RIIs, one per repetition.
fn simulate(
    projection: &Projection,
    centres: &[f64],
    quantiles: &[SiiQuantile],
    options: &SiiOptions,
) -> (Vec<f64>, Vec<f64>) {
    let mut rng = NormalRng::seeded(options.seed);
    let mut draw = vec![0.0; centres.len()];
    let mut slopes = Vec::with_capacity(options.repetitions);
    let mut riis = Vec::with_capacity(options.repetitions);
    for _ in 0..options.repetitions {
        for ((d, centre), q) in draw.iter_mut().zip(centres).zip(quantiles) {
            // PHE back-transforms each draw before the regression.
            *d = options
                .value_type
                .back_transform(centre + q.se * rng.standard_normal());
        }
        let fit = projection.fit(draw.iter().copied());
        slopes.push(fit.slope);
        riis.push(fit.rii(options.multiplier));
    }
    (slopes, riis)
}

/// The PHE order-statistic limits of sorted `draws` × `scale`.
///
/// A negative scale reverses the order, so the draws are scaled before
/// sorting (as PHE multiplies before it sorts).
fn order_interval(draws: &mut [f64], confidence: f64, scale: f64) -> Interval {
    draws.iter_mut().for_each(|d| *d *= scale);
    draws.sort_by(f64::total_cmp);
    let reps = draws.len() as f64;
    let upper_p = confidence + (1.0 - confidence) / 2.0;
    // R's round() is half-to-even; positions are 1-based.
    let position = |p: f64| ((reps * p).round_ties_even().clamp(1.0, reps) as usize) - 1;
    Interval {
        lower: draws[position(1.0 - upper_p)],
        upper: draws[position(upper_p)],
    }
}

/// PHE's caution on the number of quantiles.
fn warnings(count: usize) -> Vec<SiiWarning> {
    match count {
        c if c < 5 => vec![SiiWarning::FewQuantiles(c)],
        c if c > 100 => vec![SiiWarning::ManyQuantiles(c)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-12, "{actual} vs {expected}");
    }

    fn exact(populations: &[f64], values: &[f64]) -> Vec<SiiQuantile> {
        populations
            .iter()
            .zip(values)
            .map(|(&p, &v)| SiiQuantile::with_se(p, v, 0.0))
            .collect()
    }

    fn options(repetitions: usize) -> SiiOptions {
        SiiOptions {
            repetitions,
            ..SiiOptions::default()
        }
    }

    #[test]
    fn two_equal_quantiles() {
        // a = ½, ½; b = ¼, ¾. The line through (¼, 10) and (¾, 20) has
        // slope 10/½ = 20 and intercept 10 − 20·¼ = 5; RII = (5+20)/5 = 5.
        let r = slope_index(&exact(&[500.0, 500.0], &[10.0, 20.0]), &options(1000)).unwrap();
        close(r.sii, 20.0);
        close(r.fit.intercept, 5.0);
        close(r.rii, 5.0);
        // SE = 0: every draw is the point estimate.
        close(r.sii_interval.lower, 20.0);
        close(r.sii_interval.upper, 20.0);
        assert_eq!(r.warnings, vec![SiiWarning::FewQuantiles(2)]);
    }

    #[test]
    fn values_exactly_linear_in_rank_give_the_slope() {
        // Populations 1, 2, 1: a = ¼, ½, ¼; b = ⅛, ½, ⅞. y = 2 + 4b =
        // 2.5, 4, 5.5 → SII = 4, intercept 2, RII = 6/2 = 3.
        let fit = fit_sii(&[1.0, 2.0, 1.0], &[2.5, 4.0, 5.5]).unwrap();
        close(fit.slope, 4.0);
        close(fit.intercept, 2.0);
        close(fit.rii(1.0), 3.0);
    }

    #[test]
    fn three_equal_quantiles_off_the_line() {
        // Equal weights: ordinary least squares on b = ⅙, ½, ⅚, y = 1, 3, 2.
        // b̄ = ½, ȳ = 2; Σ(b−b̄)(y−ȳ) = (−⅓)(−1) + 0 + (⅓)(0) = ⅓;
        // Σ(b−b̄)² = 2/9 → slope 1.5, intercept 2 − 0.75 = 1.25,
        // RII = 2.75/1.25 = 2.2.
        let q = exact(&[7.0, 7.0, 7.0], &[1.0, 3.0, 2.0]);
        let flipped = SiiOptions {
            multiplier: -1.0,
            ..options(1000)
        };
        let r = slope_index(&q, &flipped).unwrap();
        close(r.fit.slope, 1.5);
        close(r.fit.intercept, 1.25);
        // Negative multiplier: SII −1.5 and the RII inverted, 1/2.2.
        close(r.sii, -1.5);
        close(r.rii, 1.0 / 2.2);
        close(r.sii_interval.lower, -1.5);
    }

    #[test]
    fn simulated_interval_matches_the_analytic_one_for_other_values() {
        // Five equal quantiles, b = 0.1…0.9, y = 9 + 10b, SE 1 each. The
        // slope is Σcᵢyᵢ with cᵢ = 0.2(bᵢ − ½)/0.08 = −1, −½, 0, ½, 1, so it
        // is Normal(10, √2.5 = 1.5811) and the 95% limits are
        // 10 ∓ 1.959964·1.5811 = 6.901, 13.099. Monte Carlo error of the
        // 2.5% point with 10⁵ draws is about 0.013.
        let q: Vec<SiiQuantile> = (0..5)
            .map(|i| SiiQuantile::with_se(100.0, 10.0 + 2.0 * f64::from(i), 1.0))
            .collect();
        let r = slope_index(&q, &SiiOptions::default()).unwrap();
        close(r.sii, 10.0);
        close(r.rii, 19.0 / 9.0);
        assert!(
            (r.sii_interval.lower - 6.901).abs() < 0.06,
            "{:?}",
            r.sii_interval
        );
        assert!(
            (r.sii_interval.upper - 13.099).abs() < 0.06,
            "{:?}",
            r.sii_interval
        );
        assert!(r.warnings.is_empty());
        // Same seed, same limits; another seed, slightly different ones.
        assert_eq!(slope_index(&q, &SiiOptions::default()).unwrap(), r);
        let other = slope_index(
            &q,
            &SiiOptions {
                seed: 7,
                ..SiiOptions::default()
            },
        )
        .unwrap();
        assert_ne!(other.sii_interval, r.sii_interval);
    }

    #[test]
    fn rates_are_simulated_on_the_log_scale() {
        // 95% CI 50–200 around a rate of 100: SE = ln(4)/(2·1.959964).
        let q = SiiQuantile::from_ci(10.0, 100.0, 50.0, 200.0, SiiValueType::Rate).unwrap();
        close(q.se, 4f64.ln() / (2.0 * 1.959_963_984_540_054));
        let quantiles: Vec<SiiQuantile> = (1..=5)
            .map(|i| SiiQuantile {
                population: 10.0,
                value: 20.0 * f64::from(i),
                se: q.se,
            })
            .collect();
        let opts = SiiOptions {
            value_type: SiiValueType::Rate,
            repetitions: 20_000,
            ..SiiOptions::default()
        };
        let r = slope_index(&quantiles, &opts).unwrap();
        // y = 10 + 100b exactly → SII 100; log-normal draws are skewed
        // upwards, so the interval is wider above than below.
        close(r.sii, 100.0);
        assert!(r.sii_interval.contains(r.sii));
        assert!(r.sii_interval.upper - r.sii > r.sii - r.sii_interval.lower);
    }

    #[test]
    fn refusals() {
        let q = exact(&[1.0, 1.0], &[1.0, 2.0]);
        assert_eq!(
            slope_index(&q, &options(999)),
            Err(StatsError::TooFewRepetitions)
        );
        assert!(slope_index(&q[..1], &options(1000)).is_err());
        assert!(slope_index(&exact(&[1.0, 0.0], &[1.0, 2.0]), &options(1000)).is_err());
        let logit = SiiOptions {
            value_type: SiiValueType::Proportion,
            ..options(1000)
        };
        assert!(slope_index(&exact(&[1.0, 1.0], &[0.0, 0.5]), &logit).is_err());
        assert!(SiiQuantile::from_ci(1.0, 0.5, 0.6, 0.4, SiiValueType::Other).is_err());
    }

    #[test]
    fn many_quantiles_warn() {
        let pops = vec![1.0; 101];
        let values: Vec<f64> = (0..101).map(f64::from).collect();
        let r = slope_index(&exact(&pops, &values), &options(1000)).unwrap();
        assert_eq!(r.warnings, vec![SiiWarning::ManyQuantiles(101)]);
    }
}
