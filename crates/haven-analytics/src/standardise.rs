//! Standardised comparisons for benchmarking (issue 5 §2–3): areas whose
//! populations differ in age and sex are compared on standardised figures,
//! as the sources publish them.
//!
//! - [`direct`]: a count as a directly age- and sex-standardised rate per
//!   100,000 residents — the 2013 European Standard Population applied to
//!   each sex's five-year bands, Dobson intervals with exact Poisson limits
//!   below 389 events (CCG OIS 2.6 v1.15, methods.md §3.1 and §6.3).
//! - [`indirect`]: a proportion as an indirectly standardised percentage:
//!   the ICB's observed events over those expected at England's rate in
//!   each age band × sex × admission type × diagnosis/procedure group
//!   stratum, times England's percentage (PHEindicatormethods `ISRate`,
//!   methods.md §6.4; the strata follow the readmissions method of §2.1,
//!   with chapters for its unconfirmed sub-chapter groups).
//!
//! The strata counts come from the engine's [`Breakdown::Stratum`] and are
//! never published; only the standardised figures leave, and only beside a
//! published count (see [`crate::benchmark`]). Both take that **published**
//! count as the observed events (issue 14 item 4): an interval is a
//! function of the observed count (its ratio to the value gives the count
//! back), so the exact count never enters one. The direct rate spreads the
//! published count over the strata in the exact strata's proportions; the
//! indirect rate is published count over expected.
//!
//! Haven's choices, where the sources differ: the denominators are the
//! resident population of the ICB's LSOAs (the one the peer profiles use;
//! v1.15 uses GP-registered patients); records of unknown age or sex have no
//! population to be divided by and are left out of a direct rate, and
//! counted in [`DirectRate::unknown_age_sex`]; no rate is reported below 10
//! events (PHE), which also keeps counts of 1–7 (methods.md §1.1) hidden.
//!
//! [`Breakdown::Stratum`]: crate::engine::Breakdown::Stratum

use std::collections::BTreeMap;

use haven_stats::{dsr, esp2013_band, DsrOptions, Estimate, IndirectStandardisation, ESP2013};

use crate::engine::Raw;

/// Age × sex strata: 19 ESP2013 bands, males then females within each.
pub const STRATA: usize = 38;

/// The stratum of people whose age band starts at `band_start` (years) and
/// whose sex is `sex` (`1`/`Male`, `2`/`Female`); `None` when sex is not
/// known.
pub fn stratum(band_start: u32, sex: &str) -> Option<usize> {
    let s = match sex {
        "1" | "Male" => 0,
        "2" | "Female" => 1,
        _ => return None,
    };
    Some(esp2013_band(band_start) * 2 + s)
}

/// The standard population of every stratum: each sex gets the ESP2013
/// weight of its band, so the rate is the mean of the two sexes' DSRs.
fn weights() -> [f64; STRATA] {
    std::array::from_fn(|i| ESP2013[i / 2])
}

/// The DSR options of CCG OIS 2.6 v1.15: per 100,000, 95%, exact limits
/// below 389 events, Byar above; none below 10 (PHE).
pub const DSR_OPTIONS: DsrOptions = DsrOptions { multiplier: 100_000.0, ..DsrOptions::nhs_digital() };

/// One stratum cell of the engine's output.
#[derive(Clone, Debug, PartialEq)]
struct Cell<'a> {
    icb: &'a str,
    age_sex: Option<usize>,
    /// The stratum without its ICB: the key of England's reference rates.
    key: &'a str,
    num: u64,
    den: u64,
}

/// Splits the `icb|age band|sex|admission type[|case-mix group]` labels of
/// a stratum result; the key (all but the ICB) is the stratum.
fn cells(raw: &Raw) -> impl Iterator<Item = Cell<'_>> {
    raw.groups.iter().zip(raw.num.iter().zip(&raw.den)).filter_map(|(g, (&num, &den))| {
        let (icb, key) = g.split_once('|')?;
        let mut parts = key.split('|');
        let (band, sex) = (parts.next()?, parts.next()?);
        let start = band.trim_end_matches('+').split('-').next().and_then(|s| s.parse::<u32>().ok());
        Some(Cell { icb, age_sex: start.and_then(|b| stratum(b, sex)), key, num, den })
    })
}

/// A directly standardised rate and what went into it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectRate {
    /// Events counted in the rate.
    pub observed: u64,
    /// Events left out for unknown age or sex.
    pub unknown_age_sex: u64,
    /// Per 100,000 with its 95% interval; `None` below 10 events or where
    /// events fall in a stratum with no resident population.
    pub rate: Option<Estimate>,
}

/// The DSR of the numerators of `raw` (a [`Breakdown::Stratum`] result)
/// for `icb`, or for every ICB together (England) when `None`, over
/// `population` by [`stratum`], with `published` events: the published
/// count of all the area's events, spread over the strata in the exact
/// strata's proportions (those of unknown age or sex are left out).
///
/// [`Breakdown::Stratum`]: crate::engine::Breakdown::Stratum
pub(crate) fn direct(raw: &Raw, icb: Option<&str>, population: &[u64], published: u64) -> DirectRate {
    let mut events = [0.0; STRATA];
    let mut unknown_age_sex = 0;
    for c in cells(raw).filter(|c| icb.is_none_or(|i| i == c.icb)) {
        match c.age_sex {
            Some(s) => events[s] += c.num as f64,
            None => unknown_age_sex += c.num,
        }
    }
    let observed = events.iter().sum::<f64>() as u64;
    let all = observed + unknown_age_sex;
    let share = if all > 0 { published as f64 / all as f64 } else { 0.0 };
    events.iter_mut().for_each(|e| *e *= share);
    let pop: Vec<f64> = (0..STRATA).map(|s| population.get(s).copied().unwrap_or(0) as f64).collect();
    // A stratum with no residents adds nothing when it has no events (its
    // term is 0 × w ÷ n), so any positive population stands in; events with
    // no population cannot be standardised at all.
    let unrateable = (0..STRATA).any(|s| pop[s] == 0.0 && events[s] > 0.0);
    let pop: Vec<f64> = pop.into_iter().map(|n| n.max(1.0)).collect();
    let rate = if unrateable { None } else { dsr(&events, &pop, &weights(), &DSR_OPTIONS).ok().and_then(|d| d.rate) };
    DirectRate { observed, unknown_age_sex, rate }
}

/// An indirectly standardised percentage and its parts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IndirectRate {
    pub observed: u64,
    /// Events expected at England's rate in each stratum.
    pub expected: f64,
    /// O ÷ E × England's percentage, with its 95% interval (exact below
    /// 10 events, Byar from 10); `None` when nothing is expected.
    pub rate: Option<Estimate>,
}

/// England's rates by stratum (without the ICB): numerator and
/// denominator summed over every ICB.
pub(crate) struct Reference<'a> {
    by_key: BTreeMap<&'a str, (u64, u64)>,
    /// England's proportion as published (from its published counts).
    pub rate: Option<f64>,
}

/// England's reference rates from a [`Breakdown::Stratum`] result, and
/// England's published proportion `rate` (a fraction).
///
/// [`Breakdown::Stratum`]: crate::engine::Breakdown::Stratum
pub(crate) fn reference(raw: &Raw, rate: Option<f64>) -> Reference<'_> {
    let mut by_key: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for c in cells(raw) {
        let e = by_key.entry(c.key).or_default();
        (e.0, e.1) = (e.0 + c.num, e.1 + c.den);
    }
    Reference { by_key, rate }
}

/// The indirectly standardised percentage of `icb` against `reference`,
/// with `published` observed events (the ICB's published count).
pub(crate) fn indirect(raw: &Raw, icb: &str, reference: &Reference<'_>, published: u64) -> IndirectRate {
    let (observed, mut expected) = (published, 0.0);
    for c in cells(raw).filter(|c| c.icb == icb) {
        if let Some(&(n, d)) = reference.by_key.get(c.key).filter(|(_, d)| *d > 0) {
            expected += n as f64 / d as f64 * c.den as f64;
        }
    }
    let rate = reference.rate.and_then(|p| {
        let isr = IndirectStandardisation::new(observed as f64, expected).ok()?;
        isr.rate(p, 100.0, 0.95).ok()
    });
    IndirectRate { observed, expected, rate }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(cells: &[(&str, u64, u64)]) -> Raw {
        Raw {
            groups: cells.iter().map(|c| c.0.to_owned()).collect(),
            num: cells.iter().map(|c| c.1).collect(),
            den: cells.iter().map(|c| c.2).collect(),
            value: vec![None; cells.len()],
        }
    }

    /// 100 residents in every stratum, except the two with events.
    fn population() -> Vec<u64> {
        let mut pop = vec![100; STRATA];
        pop[stratum(0, "1").unwrap()] = 1000;
        pop[stratum(90, "2").unwrap()] = 500;
        pop
    }

    #[test]
    fn strata_are_esp_bands_by_sex() {
        assert_eq!(stratum(0, "1"), Some(0));
        assert_eq!(stratum(0, "Female"), Some(1));
        assert_eq!(stratum(85, "2"), Some(35));
        assert_eq!(stratum(90, "Male"), Some(36));
        assert_eq!(stratum(40, "9"), None);
        // Each sex carries the whole standard population: Σw = 2 × 100,000.
        assert_eq!(weights().iter().sum::<f64>(), 200_000.0);
    }

    #[test]
    fn a_direct_rate_weights_each_stratum_by_the_standard_population() {
        let strata = raw(&[
            ("A|00-04|Male|Emergency", 12, 0),
            ("A|00-04|Male|Elective", 8, 0),
            ("A|90+|Female|Emergency", 30, 0),
            ("A|Unknown|Male|Emergency", 5, 0),
            ("B|00-04|Male|Emergency", 40, 0),
        ]);
        // Published as its exact count (55 with the 5 of unknown age), the
        // strata keep their counts.
        let d = direct(&strata, Some("A"), &population(), 55);
        // 20 events among 1,000 boys aged 0–4 (weight 5,000) and 30 among
        // 500 women aged 90+ (weight 1,000); Σw = 200,000:
        // (20 × 5000/1000 + 30 × 1000/500) / 200,000 × 100,000 = (100 + 60) / 2 = 80.
        assert_eq!((d.observed, d.unknown_age_sex), (50, 5));
        let rate = d.rate.unwrap();
        assert!((rate.value - 80.0).abs() < 1e-9, "{rate:?}");
        // Dobson: Var = (20 × 5² + 30 × 2²) / 200,000² = 620 / 4e10 per
        // person²; O = 50 < 389, so exact Poisson limits: the λ with P(X ≥ 50) = 0.025
        // and with P(X ≤ 50) = 0.025, 37.11096 and 65.91877 (Poisson tails summed).
        let (lo, hi) = (37.11096, 65.91877);
        let step = (620.0f64 / 4e10 / 50.0).sqrt() * 100_000.0;
        assert!((rate.lower.unwrap() - (80.0 + step * (lo - 50.0))).abs() < 1e-3, "{rate:?}");
        assert!((rate.upper - (80.0 + step * (hi - 50.0))).abs() < 1e-3, "{rate:?}");
        // England takes every ICB's events: 60 boys aged 0–4 of 1,000.
        let e = direct(&strata, None, &population(), 95).rate.unwrap();
        assert!((e.value - (60.0 * 5.0 + 30.0 * 2.0) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn no_direct_rate_below_ten_events_or_without_residents() {
        let few = raw(&[("A|00-04|Male|Emergency", 9, 0)]);
        assert_eq!(direct(&few, Some("A"), &population(), 9).rate, None);
        let ten = raw(&[("A|00-04|Male|Emergency", 10, 0)]);
        assert!(direct(&ten, Some("A"), &population(), 10).rate.is_some());
        let mut empty = population();
        empty[stratum(0, "1").unwrap()] = 0;
        assert_eq!(direct(&ten, Some("A"), &empty, 10).rate, None);
    }

    #[test]
    fn an_indirect_rate_is_observed_over_expected_at_englands_rates() {
        let strata = raw(&[
            ("A|00-04|Male|Emergency", 2, 10),
            ("A|90+|Female|Elective", 3, 10),
            ("B|00-04|Male|Emergency", 8, 30),
            ("B|90+|Female|Elective", 1, 10),
        ]);
        let england = reference(&strata, Some(14.0 / 60.0));
        // England: 10/40 = 0.25 and 4/20 = 0.2 by stratum; 14/60 overall.
        let a = indirect(&strata, "A", &england, 5);
        // O = 5, E = 0.25 × 10 + 0.2 × 10 = 4.5; 5 / 4.5 × 23.33% = 25.93%.
        assert_eq!(a.observed, 5);
        assert!((a.expected - 4.5).abs() < 1e-12);
        let rate = a.rate.unwrap();
        let scale = 14.0 / 60.0 * 100.0 / 4.5;
        assert!((rate.value - 5.0 * scale).abs() < 1e-9);
        // O < 10: exact limits 1.6235 and 11.6683 on the count.
        assert!((rate.lower.unwrap() - 1.6235 * scale).abs() < 1e-3, "{rate:?}");
        assert!((rate.upper - 11.6683 * scale).abs() < 1e-3, "{rate:?}");
        // An ICB at England's rate in every stratum scores England's rate.
        let same = raw(&[("A|00-04|Male|Emergency", 5, 20), ("B|00-04|Male|Emergency", 10, 40)]);
        let r = reference(&same, Some(0.25));
        assert!((indirect(&same, "A", &r, 5).rate.unwrap().value - 25.0).abs() < 1e-9);
    }

    // issue 14 item 4: a standardised rate's interval is a function of its
    // observed count (upper ÷ value gives it back), so it takes the published
    // count: exact counts 11, 12 and 13, all published as 10, give one
    // direct rate, and indirect rates whose interval-to-value ratios (the
    // part that is a function of the count) are the same. (The expected
    // count of an indirect rate moves with England's strata, not shown.)
    #[test]
    fn issue_14_standardised_rates_reveal_only_the_published_count() {
        let rates = |n: u64| {
            let strata = raw(&[("A|00-04|Male|Emergency", n, 40), ("B|00-04|Male|Emergency", 30, 100)]);
            let d = direct(&strata, Some("A"), &population(), 10).rate.unwrap();
            let r = reference(&strata, Some(0.3));
            let i = indirect(&strata, "A", &r, 10).rate.unwrap();
            (d, i.upper / i.value, i.lower.unwrap() / i.value)
        };
        for n in [12, 13] {
            let ((d1, u1, l1), (d2, u2, l2)) = (rates(11), rates(n));
            assert_eq!(d1, d2);
            assert!((u1 - u2).abs() < 1e-12 && (l1 - l2).abs() < 1e-12);
        }
        // Before, the exact count entered: 11 and 13 events gave different intervals.
        let strata = |n: u64| raw(&[("A|00-04|Male|Emergency", n, 40)]);
        assert_ne!(direct(&strata(11), Some("A"), &population(), 11).rate, direct(&strata(13), Some("A"), &population(), 13).rate);
    }

    proptest::proptest! {
        /// Suppression never reveals a count of 1–7: no direct rate is
        /// reported for so few events, whatever the strata.
        #[test]
        fn a_direct_rate_never_reveals_one_to_seven_events(counts in proptest::collection::vec((0usize..STRATA, 0u64..3), 1..6)) {
            let labels: Vec<(String, u64, u64)> = counts
                .iter()
                .map(|(s, n)| (format!("A|{:02}-{:02}|{}|Emergency", s / 2 * 5, s / 2 * 5 + 4, ["Male", "Female"][s % 2]), *n, 0))
                .collect();
            let cells: Vec<(&str, u64, u64)> = labels.iter().map(|(g, n, d)| (g.as_str(), *n, *d)).collect();
            let n = cells.iter().map(|c| c.1).sum();
            let d = direct(&raw(&cells), Some("A"), &population(), n);
            if (1..=7).contains(&d.observed) {
                proptest::prop_assert!(d.rate.is_none());
            }
        }
    }
}
