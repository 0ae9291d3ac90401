//! Indirect standardisation: standardised ratios and rates.
//!
//! Source: PHEindicatormethods v2.1.0 `R/ISRatio.R` and `R/ISRate.R`,
//! methods.md §6.4:
//!
//! ```text
//! E       = Σ (refcountᵢ / refpopᵢ) · nᵢ
//! ISRatio = O / E (× refvalue, 1 or 100)
//! ISRate  = O / E × (Σ refcount / Σ refpop) × M
//! CI      = [O_lower / E, O_upper / E] × refvalue (or × reference rate × M)
//! ```
//!
//! O_lower/O_upper are exact when O < 10 and Byar otherwise
//! ([`PoissonMethod::PheSwitch`]); another method can be chosen.

use crate::check;
use crate::error::Result;
use crate::estimate::Estimate;
use crate::poisson::PoissonMethod;

/// Observed and expected counts for one area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndirectStandardisation {
    /// Observed events O.
    pub observed: f64,
    /// Expected events E under the reference rates.
    pub expected: f64,
}

impl IndirectStandardisation {
    /// From an observed count (≥ 0) and an expected count (> 0).
    pub fn new(observed: f64, expected: f64) -> Result<Self> {
        Ok(IndirectStandardisation {
            observed: check::non_negative(observed, "observed count")?,
            expected: check::positive(expected, "expected count")?,
        })
    }

    /// From an observed count and per-band reference counts, reference
    /// populations and local populations (see [`expected_events`]).
    pub fn from_reference(
        observed: f64,
        reference_events: &[f64],
        reference_population: &[f64],
        local_population: &[f64],
    ) -> Result<Self> {
        let expected = expected_events(reference_events, reference_population, local_population)?;
        Self::new(observed, expected)
    }

    /// Indirectly standardised ratio O/E × `refvalue` (1 or 100), with the
    /// PHE choice of interval (exact below 10, Byar from 10).
    pub fn ratio(&self, refvalue: f64, confidence: f64) -> Result<Estimate> {
        self.ratio_with(refvalue, confidence, PoissonMethod::PheSwitch)
    }

    /// As [`IndirectStandardisation::ratio`] with an explicit method.
    pub fn ratio_with(
        &self,
        refvalue: f64,
        confidence: f64,
        method: PoissonMethod,
    ) -> Result<Estimate> {
        let scale = check::positive(refvalue, "reference value")? / self.expected;
        Ok(method
            .interval(self.observed, confidence)?
            .to_estimate(self.observed, scale))
    }

    /// Indirectly standardised rate O/E × `reference_rate` × `multiplier`,
    /// where `reference_rate` = Σ refcount / Σ refpop (see
    /// [`reference_rate`]), with the PHE choice of interval.
    pub fn rate(&self, reference_rate: f64, multiplier: f64, confidence: f64) -> Result<Estimate> {
        let rate = check::non_negative(reference_rate, "reference rate")?;
        let m = check::positive(multiplier, "multiplier")?;
        let scale = rate * m / self.expected;
        Ok(PoissonMethod::PheSwitch
            .interval(self.observed, confidence)?
            .to_estimate(self.observed, scale))
    }
}

/// Expected events E = Σ (refcountᵢ / refpopᵢ) · nᵢ: the reference rates
/// applied to the local populations.
pub fn expected_events(
    reference_events: &[f64],
    reference_population: &[f64],
    local_population: &[f64],
) -> Result<f64> {
    check::same_length(
        &[
            reference_events.len(),
            reference_population.len(),
            local_population.len(),
        ],
        "reference events, reference population and local population",
    )?;
    check::at_least(reference_events.len(), 1, "expected events")?;
    let mut expected = 0.0;
    for ((&r, &rp), &n) in reference_events
        .iter()
        .zip(reference_population)
        .zip(local_population)
    {
        let r = check::non_negative(r, "reference events")?;
        let rp = check::positive(rp, "reference population")?;
        expected += r / rp * check::non_negative(n, "local population")?;
    }
    Ok(expected)
}

/// Crude reference rate Σ refcount / Σ refpop.
pub fn reference_rate(reference_events: &[f64], reference_population: &[f64]) -> Result<f64> {
    check::same_length(
        &[reference_events.len(), reference_population.len()],
        "reference events and reference population",
    )?;
    let events: f64 = reference_events.iter().sum();
    let population: f64 = reference_population.iter().sum();
    check::non_negative(events, "reference events")?;
    Ok(events / check::positive(population, "reference population")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `testdata_DSR_ISR.xlsx`, sheet testresults_ISR (methods.md §6.4).
    const EXPECTED: f64 = 835.883_56;

    fn check(observed: f64, expect: [&str; 3]) {
        let isr = IndirectStandardisation::new(observed, EXPECTED).unwrap();
        let r = isr.ratio(1.0, 0.95).unwrap();
        assert_eq!(
            [r.value, r.lower.unwrap(), r.upper].map(|x| format!("{x:.7}")),
            expect
        );
    }

    #[test]
    fn phe_workbook_isratio_byar() {
        // O = 895 ≥ 10 → Byar.
        check(895.0, ["1.0707233", "1.0017148", "1.1432333"]);
    }

    #[test]
    fn phe_workbook_isratio_exact() {
        // O = 9 < 10 → exact. The workbook row's E is not printed; the
        // ratio 0.0107670 = 9/E gives E = 835.88, i.e. the same E =
        // 835.88356 as the O = 895 row (9/835.88356 = 0.01076700), so the
        // sheet varies O against one expected count.
        check(9.0, ["0.0107670", "0.0049234", "0.0204392"]);
    }

    #[test]
    fn expected_events_apply_reference_rates() {
        // Bands: reference 10/1000 and 50/500 → rates 0.01 and 0.1;
        // local populations 200 and 30 → E = 2 + 3 = 5.
        let e = expected_events(&[10.0, 50.0], &[1000.0, 500.0], &[200.0, 30.0]).unwrap();
        assert!((e - 5.0).abs() < 1e-12);
        let rate = reference_rate(&[10.0, 50.0], &[1000.0, 500.0]).unwrap();
        assert!((rate - 0.04).abs() < 1e-15);
        // O = 10, E = 5 → ratio 2, ratio ×100 = 200, rate = 2 × 0.04 × 1000 = 80.
        let isr = IndirectStandardisation::from_reference(
            10.0,
            &[10.0, 50.0],
            &[1000.0, 500.0],
            &[200.0, 30.0],
        )
        .unwrap();
        assert!((isr.ratio(100.0, 0.95).unwrap().value - 200.0).abs() < 1e-9);
        assert!((isr.rate(rate, 1000.0, 0.95).unwrap().value - 80.0).abs() < 1e-9);
    }

    #[test]
    fn zero_expected_is_refused() {
        assert!(IndirectStandardisation::new(3.0, 0.0).is_err());
        assert!(expected_events(&[1.0], &[0.0], &[1.0]).is_err());
    }
}
