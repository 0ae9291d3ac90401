//! Directly standardised rates with Dobson confidence intervals.
//!
//! Source: PHEindicatormethods v2.1.0 `R/DSR.R` (`calculate_dsr`),
//! methods.md §6.3:
//!
//! ```text
//! DSR      = Σ(Oᵢ·wᵢ/nᵢ) / Σwᵢ                       (× M)
//! Var(DSR) = Σ(Oᵢ·(wᵢ/nᵢ)²) / (Σwᵢ)²
//! CI       = DSR + √(Var(DSR)/O)·(O_lower − O), DSR + √(Var(DSR)/O)·(O_upper − O)
//! ```
//!
//! with O = ΣOᵢ and O_lower/O_upper from Byar (PHE) or exact below 389 (NHS
//! Digital). PHE does not report a DSR when O < 10. Only the
//! independent-events variance is implemented; the v2 option for repeat
//! events per person is not.

use crate::check;
use crate::error::{Result, StatsError};
use crate::estimate::Estimate;
use crate::poisson::PoissonMethod;

/// European Standard Population 2013, 19-band version (0 and 1–4 merged,
/// 90–94 and 95+ merged) as in PHEindicatormethods v2.1.0 `esp2013`
/// (Eurostat 2013; `shared/reference/codelists/esp2013.csv`). Total 100,000.
pub const ESP2013: [f64; 19] = [
    5000.0, 5500.0, 5500.0, 5500.0, 6000.0, 6000.0, 6500.0, 7000.0, 7000.0, 7000.0, 7000.0, 6500.0,
    6000.0, 5500.0, 5000.0, 4000.0, 2500.0, 1500.0, 1000.0,
];

/// Labels of the [`ESP2013`] bands, in the same order.
pub const ESP2013_BANDS: [&str; 19] = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54",
    "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
];

/// The 19 ESP2013 standard-population weights (0–4 … 90+).
pub const fn esp2013() -> [f64; 19] {
    ESP2013
}

/// Index into [`ESP2013`] of the five-year band containing `age_years`
/// (everyone aged 90 or over falls in the last band).
pub fn esp2013_band(age_years: u32) -> usize {
    (age_years / 5).min(18) as usize
}

/// Parameters of a DSR calculation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DsrOptions {
    /// Rate per this many people (PHE default 100,000).
    pub multiplier: f64,
    /// Confidence level, 0.95 or 95 style.
    pub confidence: f64,
    /// How O_lower and O_upper are found for the total count.
    pub method: PoissonMethod,
    /// No DSR is reported below this total count (PHE: 10).
    pub min_events: f64,
}

impl DsrOptions {
    /// PHE convention: per 100,000, 95%, Byar limits, suppressed below 10.
    pub const fn phe() -> Self {
        DsrOptions {
            multiplier: 100_000.0,
            confidence: 0.95,
            method: PoissonMethod::Byar,
            min_events: 10.0,
        }
    }

    /// NHS Digital convention: as [`DsrOptions::phe`] but exact limits for
    /// a total count below 389 (methods.md §6.3).
    pub const fn nhs_digital() -> Self {
        DsrOptions {
            method: PoissonMethod::NhsDigitalSwitch,
            ..Self::phe()
        }
    }
}

impl Default for DsrOptions {
    fn default() -> Self {
        Self::phe()
    }
}

/// A directly standardised rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dsr {
    /// Total observed events O = ΣOᵢ.
    pub total_events: f64,
    /// The rate and its limits (× multiplier); `None` when O is below
    /// [`DsrOptions::min_events`] or zero ("dsr NA for total count < 10").
    pub rate: Option<Estimate>,
}

impl Dsr {
    /// Whether the rate may be reported.
    pub fn is_reported(&self) -> bool {
        self.rate.is_some()
    }
}

/// Directly standardised rate of `events` in `population` per band,
/// standardised to `standard` weights (for example [`ESP2013`]).
///
/// Missing counts must be passed as 0 (PHE treats them so). Errors when the
/// slices differ in length, a population is ≤ 0, a count or weight is
/// negative, or the weights sum to 0.
pub fn dsr(
    events: &[f64],
    population: &[f64],
    standard: &[f64],
    options: &DsrOptions,
) -> Result<Dsr> {
    let sums = band_sums(events, population, standard)?;
    let total_events: f64 = events.iter().sum();
    let too_few = total_events < options.min_events || total_events == 0.0;
    let rate = if too_few {
        None
    } else {
        Some(dobson(&sums, total_events, options)?)
    };
    Ok(Dsr { total_events, rate })
}

/// The sums the DSR and its variance are built from.
struct BandSums {
    /// Σwᵢ.
    weight: f64,
    /// Σ Oᵢ·wᵢ/nᵢ.
    weighted_rate: f64,
    /// Σ Oᵢ·(wᵢ/nᵢ)².
    variance: f64,
}

/// Validates the bands and accumulates [`BandSums`].
fn band_sums(events: &[f64], population: &[f64], standard: &[f64]) -> Result<BandSums> {
    check::same_length(
        &[events.len(), population.len(), standard.len()],
        "events, population and standard weights",
    )?;
    check::at_least(events.len(), 1, "a directly standardised rate")?;
    let mut sums = BandSums {
        weight: 0.0,
        weighted_rate: 0.0,
        variance: 0.0,
    };
    for ((&o, &n), &w) in events.iter().zip(population).zip(standard) {
        let o = check::non_negative(o, "band events")?;
        let n = check::positive(n, "band population")?;
        let w = check::non_negative(w, "standard population weight")?;
        sums.weight += w;
        sums.weighted_rate += o * w / n;
        sums.variance += o * (w / n).powi(2);
    }
    if sums.weight <= 0.0 {
        return Err(StatsError::NotPositive {
            what: "total standard population",
        });
    }
    Ok(sums)
}

/// The DSR with Dobson limits, × multiplier.
fn dobson(sums: &BandSums, total: f64, options: &DsrOptions) -> Result<Estimate> {
    let m = check::positive(options.multiplier, "multiplier")?;
    let value = sums.weighted_rate / sums.weight;
    let variance = sums.variance / sums.weight.powi(2);
    // Dobson et al. (1991): scale the count's limits by √(Var/O).
    let scale = (variance / total).sqrt();
    let counts = options.method.interval(total, options.confidence)?;
    Ok(Estimate {
        value: value * m,
        lower: counts.lower.map(|l| (value + scale * (l - total)) * m),
        upper: (value + scale * (counts.upper - total)) * m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PHE test workbook `testdata_DSR_ISR.xlsx`, area "testdata_big"
    /// (methods.md §6.3).
    const COUNTS: [f64; 19] = [
        127.0, 25.0, 18.0, 21.0, 12.0, 27.0, 48.0, 27.0, 29.0, 32.0, 32.0, 34.0, 45.0, 65.0, 38.0,
        68.0, 74.0, 82.0, 91.0,
    ];
    const POPULATIONS: [f64; 19] = [
        636.0, 558.0, 609.0, 543.0, 384.0, 594.0, 669.0, 843.0, 660.0, 576.0, 606.0, 522.0, 426.0,
        273.0, 300.0, 288.0, 153.0, 123.0, 207.0,
    ];

    fn check(confidence: f64, expect: [&str; 3]) {
        let options = DsrOptions {
            multiplier: 10_000.0,
            confidence,
            ..DsrOptions::phe()
        };
        let rate = dsr(&COUNTS, &POPULATIONS, &ESP2013, &options)
            .unwrap()
            .rate
            .unwrap();
        let got = [rate.value, rate.lower.unwrap(), rate.upper].map(|x| format!("{x:.4}"));
        assert_eq!(got, expect);
    }

    #[test]
    fn phe_workbook_dsr_95() {
        check(0.95, ["1043.0248", "971.7709", "1117.8941"]);
    }

    #[test]
    fn phe_workbook_dsr_998() {
        check(99.8, ["1043.0248", "932.3288", "1162.0596"]);
    }

    #[test]
    fn esp2013_totals_100000_and_bands_by_age() {
        assert_eq!(esp2013().iter().sum::<f64>(), 100_000.0);
        assert_eq!(esp2013_band(0), 0);
        assert_eq!(esp2013_band(4), 0);
        assert_eq!(esp2013_band(5), 1);
        assert_eq!(esp2013_band(89), 17);
        assert_eq!(esp2013_band(90), 18);
        assert_eq!(esp2013_band(120), 18);
        assert_eq!(ESP2013_BANDS[esp2013_band(47)], "45-49");
    }

    #[test]
    fn fewer_than_ten_events_is_not_reported() {
        // 9 events in total: PHE "dsr NA for total count < 10".
        let d = dsr(
            &[4.0, 5.0],
            &[100.0, 100.0],
            &[1.0, 1.0],
            &DsrOptions::phe(),
        )
        .unwrap();
        assert_eq!(d.total_events, 9.0);
        assert!(!d.is_reported());
        let d = dsr(
            &[5.0, 5.0],
            &[100.0, 100.0],
            &[1.0, 1.0],
            &DsrOptions::phe(),
        )
        .unwrap();
        assert!(d.is_reported());
    }

    #[test]
    fn single_band_dsr_is_the_crude_rate() {
        // One band: DSR = O/n and the Dobson limits collapse to Byar's
        // limits over n: 65/1000 per 1000 → 65 (50.16319–82.84914).
        let opts = DsrOptions {
            multiplier: 1000.0,
            ..DsrOptions::phe()
        };
        let r = dsr(&[65.0], &[1000.0], &[7.0], &opts)
            .unwrap()
            .rate
            .unwrap();
        assert!((r.value - 65.0).abs() < 1e-12);
        assert_eq!(format!("{:.5}", r.lower.unwrap()), "50.16319");
        assert_eq!(format!("{:.5}", r.upper), "82.84914");
    }

    #[test]
    fn bad_inputs_are_refused() {
        let o = DsrOptions::phe();
        assert_eq!(
            dsr(&[1.0], &[0.0], &[1.0], &o),
            Err(StatsError::NotPositive {
                what: "band population"
            })
        );
        assert!(matches!(
            dsr(&[1.0, 2.0], &[1.0], &[1.0, 1.0], &o),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(dsr(&[-1.0], &[1.0], &[1.0], &o).is_err());
        assert!(dsr(&[], &[], &[], &o).is_err());
    }
}
