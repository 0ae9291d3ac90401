//! Property tests across modules: invariants every interval and funnel
//! must keep whatever the inputs.

use proptest::prelude::*;

use crate::dsr::{dsr, DsrOptions};
use crate::funnel::{exact_ratio_funnel, phe_proportion_funnel, FunnelLimits};
use crate::poisson::{byar_interval, exact_interval, CountInterval, PoissonMethod};
use crate::proportion::wilson_interval;

/// Rounding slack for comparisons of separately computed limits.
const SLACK: f64 = 1e-9;

fn contains_count(i: CountInterval, o: f64) -> bool {
    i.lower.is_none_or(|l| l <= o) && o <= i.upper
}

fn wider(outer: CountInterval, inner: CountInterval) -> bool {
    let lower_ok = match (outer.lower, inner.lower) {
        (Some(o), Some(i)) => o <= i + SLACK,
        (None, _) => true,
        (Some(_), None) => false,
    };
    lower_ok && outer.upper + SLACK >= inner.upper
}

/// Limits at a larger denominator sit inside those at a smaller one.
fn nested(narrow: &FunnelLimits, wide: &FunnelLimits) -> bool {
    wide.low_0_001 <= narrow.low_0_001 + SLACK
        && wide.low_0_025 <= narrow.low_0_025 + SLACK
        && narrow.high_0_025 <= wide.high_0_025 + SLACK
        && narrow.high_0_001 <= wide.high_0_001 + SLACK
}

/// The four limits are ordered around `centre`.
fn ordered(f: &FunnelLimits, centre: f64) -> bool {
    f.low_0_001 <= f.low_0_025 + SLACK
        && f.low_0_025 <= centre + SLACK
        && centre <= f.high_0_025 + SLACK
        && f.high_0_025 <= f.high_0_001 + SLACK
}

proptest! {
    #[test]
    fn wilson_within_unit_interval_and_contains_p(n in 1u32..100_000, share in 0.0f64..=1.0, c in 0.5f64..0.9999) {
        let x = (f64::from(n) * share).floor();
        let n = f64::from(n);
        let i = wilson_interval(x, n, c).unwrap();
        prop_assert!(0.0 <= i.lower && i.upper <= 1.0);
        prop_assert!(i.lower <= x / n + SLACK && x / n <= i.upper + SLACK, "{:?} vs {}", i, x / n);
    }

    #[test]
    fn exact_and_byar_contain_the_count(o in 0u32..20_000, c in 0.5f64..0.9999) {
        let o = f64::from(o);
        prop_assert!(contains_count(exact_interval(o, c).unwrap(), o));
        prop_assert!(contains_count(byar_interval(o, c).unwrap(), o));
    }

    #[test]
    fn intervals_widen_with_confidence(o in 0u32..5_000, c1 in 0.5f64..0.999, extra in 0.0f64..1.0) {
        let o = f64::from(o);
        let c2 = c1 + (0.9999 - c1) * extra;
        prop_assert!(wider(exact_interval(o, c2).unwrap(), exact_interval(o, c1).unwrap()));
        prop_assert!(wider(byar_interval(o, c2).unwrap(), byar_interval(o, c1).unwrap()));
    }

    #[test]
    fn dsr_interval_contains_the_rate(
        bands in prop::collection::vec((0u32..400, 1u32..20_000, 1u32..8_000), 1..19),
        nhs in any::<bool>(),
        c in 0.8f64..0.999,
    ) {
        let events: Vec<f64> = bands.iter().map(|b| f64::from(b.0)).collect();
        let population: Vec<f64> = bands.iter().map(|b| f64::from(b.1)).collect();
        let standard: Vec<f64> = bands.iter().map(|b| f64::from(b.2)).collect();
        let method = if nhs { PoissonMethod::NhsDigitalSwitch } else { PoissonMethod::Byar };
        let options = DsrOptions { confidence: c, method, ..DsrOptions::phe() };
        let d = dsr(&events, &population, &standard, &options).unwrap();
        prop_assert_eq!(d.is_reported(), d.total_events >= 10.0);
        if let Some(rate) = d.rate {
            let tol = SLACK * rate.value.max(1.0);
            prop_assert!(rate.lower.is_some_and(|l| l <= rate.value + tol), "{:?}", rate);
            prop_assert!(rate.value <= rate.upper + tol, "{:?}", rate);
        }
    }

    #[test]
    fn phe_proportion_funnel_narrows_with_n(p in 0.001f64..0.999, n in 1.0f64..1e6, factor in 1.0f64..100.0) {
        let small = phe_proportion_funnel(p, n, 1.0).unwrap();
        let large = phe_proportion_funnel(p, n * factor, 1.0).unwrap();
        prop_assert!(ordered(&small, p) && ordered(&large, p), "{:?} {:?}", small, large);
        prop_assert!(nested(&large, &small), "{:?} {:?}", small, large);
    }

    #[test]
    fn exact_ratio_funnel_narrows_with_expected(e in 0.01f64..5_000.0, factor in 1.0f64..20.0) {
        let small = exact_ratio_funnel(e).unwrap();
        let large = exact_ratio_funnel(e * factor).unwrap();
        prop_assert!(ordered(&small, 1.0) && ordered(&large, 1.0), "{:?} {:?}", small, large);
        prop_assert!(nested(&large, &small), "{:?} {:?}", small, large);
    }
}
