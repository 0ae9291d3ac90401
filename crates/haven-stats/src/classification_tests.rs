//! Tests of [`super`]: fixtures whose answers are worked by hand in the
//! comments, then properties against brute-force pair counting.

use proptest::prelude::*;

use super::*;
use crate::rng::NormalRng;

const T: bool = true;
const F: bool = false;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn perfect_reversed_and_constant_predictors() {
    let y = [F, F, F, T, T];
    // Every event outscores every non-event: 6 of 6 pairs → 1.
    let perfect = [0.1, 0.2, 0.3, 0.8, 0.9];
    assert_eq!(auc(&perfect, &y).unwrap(), 1.0);
    // Reversed: 0 of 6 pairs.
    let reversed: Vec<f64> = perfect.iter().map(|p| 1.0 - p).collect();
    assert_eq!(auc(&reversed, &y).unwrap(), 0.0);
    // Constant: every pair tied, 6 × ½ / 6 = ½, and the DeLong components
    // are all ½, so the variance is 0.
    let constant = [0.3; 5];
    assert_eq!(auc(&constant, &y).unwrap(), 0.5);
    let est = auc_delong(&constant, &y, 0.95).unwrap();
    assert_eq!(
        (est.auc, est.variance, est.lower, est.upper),
        (0.5, 0.0, 0.5, 0.5)
    );
    // The perfect predictor: V10 = 1 for both events, V01 = 1 for all three
    // non-events, so the variance is 0 and the interval is [1, 1].
    let est = auc_delong(&perfect, &y, 0.95).unwrap();
    assert_eq!((est.auc, est.variance, est.upper), (1.0, 0.0, 1.0));
}

#[test]
fn hand_worked_auc_with_a_tie_and_its_delong_variance() {
    // Events X = 0.9, 0.6, 0.4; non-events Y = 0.7, 0.4, 0.2.
    // ψ(X, Y), rows X, columns Y = 0.7, 0.4, 0.2:
    //   0.9:  1  1  1   → V10 = 3/3
    //   0.6:  0  1  1   → V10 = 2/3
    //   0.4:  0  ½  1   → V10 = 1.5/3 (0.4 vs 0.4 is a tie)
    // AUC = (3 + 2 + 1.5)/9 = 13/18.
    // V01 by column: 0.7 → 1/3, 0.4 → 2.5/3 = 5/6, 0.2 → 3/3.
    // S10 = [(5/18)² + (−1/18)² + (−4/18)²]/2 = (42/324)/2 = 7/108.
    // S01 = [(−7/18)² + (2/18)² + (5/18)²]/2 = (78/324)/2 = 13/108.
    // Var = S10/3 + S01/3 = 20/324 = 5/81.
    let s = [0.9, 0.7, 0.6, 0.4, 0.4, 0.2];
    let y = [T, F, T, T, F, F];
    assert!(close(auc(&s, &y).unwrap(), 13.0 / 18.0, 1e-15));
    let est = auc_delong(&s, &y, 0.95).unwrap();
    assert!(close(est.variance, 5.0 / 81.0, 1e-15), "{}", est.variance);
    // 13/18 ± 1.959964·√(5/81) = 0.722222 ± 0.486958 → upper clamped to 1.
    assert!(close(
        est.lower,
        13.0 / 18.0 - 1.959_963_984_540_054 * (5.0_f64 / 81.0).sqrt(),
        1e-12
    ));
    assert_eq!(est.upper, 1.0);
    assert_eq!((est.events, est.non_events), (3, 3));
}

#[test]
fn random_predictor_has_an_auc_near_one_half() {
    // Scores independent of the outcome: the true AUC is ½; with 10,000
    // events and 10,000 non-events its standard error is about
    // √((1/12)(1/m + 1/n)) ≈ 0.0041, so the 95% interval covers ½ and the
    // estimate lies within 0.02 (≈ 5 SE).
    let mut rng = NormalRng::seeded(7);
    let n = 20_000;
    let s: Vec<f64> = (0..n).map(|_| rng.standard_normal()).collect();
    let y: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
    let est = auc_delong(&s, &y, 0.95).unwrap();
    assert!(close(est.auc, 0.5, 0.02), "{}", est.auc);
    assert!(est.lower < 0.5 && 0.5 < est.upper, "{est:?}");
    assert!(close(
        est.variance.sqrt(),
        ((1.0 / 12.0) * (2.0 / 10_000.0_f64)).sqrt(),
        4e-4
    ));
}

#[test]
fn calibration_bins_split_a_tie_at_the_edge_by_input_order() {
    // Sorted risks 0.1, 0.2 (row 1), 0.2 (row 2), 0.4, 0.5; two groups of
    // N = 5 rows: positions ⌊0·5/2⌋..⌊1·5/2⌋ = 0..2 and 2..5. The tied 0.2s
    // straddle the edge: row 1 (earlier) goes low, row 2 high.
    let risks = [0.5, 0.2, 0.2, 0.1, 0.4];
    let y = [T, T, F, F, T];
    let bins = calibration_bins(&risks, &y, 2).unwrap();
    // Low: rows 3 (0.1, F) and 1 (0.2, T): count 2, observed 1, expected 0.3.
    assert_eq!((bins[0].count, bins[0].observed), (2, 1));
    assert!(close(bins[0].expected, 0.3, 1e-15));
    assert_eq!((bins[0].min_risk, bins[0].max_risk), (0.1, 0.2));
    // High: rows 2 (0.2, F), 4 (0.4, T), 0 (0.5, T): 3, 2, 1.1.
    assert_eq!((bins[1].count, bins[1].observed), (3, 2));
    assert!(close(bins[1].expected, 1.1, 1e-15));
    assert_eq!((bins[1].min_risk, bins[1].max_risk), (0.2, 0.5));
    assert!(matches!(
        calibration_bins(&risks, &y, 6),
        Err(StatsError::TooFew { .. })
    ));
    assert!(matches!(
        calibration_bins(&[1.5], &[T], 1),
        Err(StatsError::OutOfDomain { .. })
    ));
}

#[test]
fn calibration_slope_and_intercept_on_two_saturated_groups() {
    // Group A: 100 rows at risk 0.2 with 20 events (observed 0.2);
    // group B: 100 rows at risk 0.5 with 80 events (observed 0.8).
    // Slope: the two points (logit p, logit observed) = (−ln 4, −ln 4) and
    // (0, ln 4) lie on a line of slope 2 (intercept ln 4), fitted exactly.
    // Calibration-in-the-large: 100σ(a − ln 4) + 100σ(a) = 100, i.e.
    // σ(a) = 1 − σ(a − ln 4) = σ(ln 4 − a), so a = ln 2.
    let mut risks = vec![0.2; 100];
    risks.extend([0.5; 100]);
    let y: Vec<bool> = (0..200)
        .map(|i| if i < 100 { i < 20 } else { i < 180 })
        .collect();
    let fit = calibration_slope_intercept(&risks, &y).unwrap();
    assert!(close(fit.slope, 2.0, 1e-8), "{fit:?}");
    assert!(close(fit.intercept, 2.0_f64.ln(), 1e-10), "{fit:?}");
}

#[test]
fn a_calibrated_model_has_slope_one_and_intercept_zero() {
    // y ~ Bernoulli(p) with logit p ~ N(−1, 1), 50,000 rows: both
    // estimates are within about 3 standard errors (≈ 0.02 and 0.012).
    let mut rng = NormalRng::seeded(11);
    let n = 50_000;
    let risks: Vec<f64> = (0..n)
        .map(|_| 1.0 / (1.0 + (1.0 - rng.standard_normal()).exp()))
        .collect();
    let y: Vec<bool> = risks
        .iter()
        .map(|&p| rng.uniform_open_closed() <= p)
        .collect();
    let fit = calibration_slope_intercept(&risks, &y).unwrap();
    assert!(close(fit.slope, 1.0, 0.06), "{fit:?}");
    assert!(close(fit.intercept, 0.0, 0.04), "{fit:?}");
    // Risks doubled on the logit scale (over-confident): slope about ½.
    let sharp: Vec<f64> = risks
        .iter()
        .map(|&p| 1.0 / (1.0 + ((1.0 - p) / p).powi(2)))
        .collect();
    let fit = calibration_slope_intercept(&sharp, &y).unwrap();
    assert!(close(fit.slope, 0.5, 0.03), "{fit:?}");
}

#[test]
fn calibration_of_a_constant_risk_has_no_slope() {
    let y = [T, F, F, F];
    assert!(matches!(
        calibration_slope_intercept(&[0.25; 4], &y),
        Err(StatsError::Undefined { .. })
    ));
    // With every offset ln(1/3) and one event in four, Σσ(a + o) = 1 gives
    // σ(a + o) = ¼, so a + o = ln(1/3) and a = 0.
    assert!(close(
        offset_intercept(&[(1.0_f64 / 3.0).ln(); 4], 1.0),
        0.0,
        1e-12
    ));
}

#[test]
fn brier_hand_example() {
    // (0.9 − 1)² + (0.2 − 0)² + (0.6 − 0)² + (0 − 0)² = 0.01 + 0.04 + 0.36
    // + 0 = 0.41, over 4 rows = 0.1025.
    let b = brier(&[0.9, 0.2, 0.6, 0.0], &[T, F, F, F]).unwrap();
    assert!(close(b, 0.1025, 1e-15));
    assert!(matches!(brier(&[], &[]), Err(StatsError::TooFew { .. })));
}

#[test]
fn top_share_hand_examples() {
    // Scores 10..1 (row i has score 10 − i); weights: row 0 → 2, row 2 → 1,
    // row 5 → 1; total 4. Top 10% = 1 row (weight 2): ½. Top 30% = rows 0–2
    // (2 + 0 + 1 = 3): ¾. Top 100%: 1.
    let scores: Vec<f64> = (0..10).map(|i| 10.0 - i as f64).collect();
    let mut w = vec![0.0; 10];
    (w[0], w[2], w[5]) = (2.0, 1.0, 1.0);
    let c = top_shares(&scores, &w, &[0.1, 0.3, 1.0]).unwrap();
    assert_eq!(
        c.iter().map(|c| c.share).collect::<Vec<_>>(),
        [0.5, 0.75, 1.0]
    );
    assert_eq!((c[1].rows, c[1].captured, c[1].total), (3.0, 3.0, 4.0));
    // Ties: scores 5, 4, 4, 4, 1 with weights 0, 1, 0, 0, 1. Top 40% = 2
    // rows: the 5 (weight 0) and 1 of the 3 rows tied at 4, whose weight 1
    // counts 1/3: captured 1/3 of 2 → 1/6, whatever the input order.
    let c = top_shares(
        &[4.0, 5.0, 1.0, 4.0, 4.0],
        &[1.0, 0.0, 1.0, 0.0, 0.0],
        &[0.4],
    )
    .unwrap();
    assert!(close(c[0].share, 1.0 / 6.0, 1e-15));
    // A constant score captures exactly its fraction.
    let c = top_shares(
        &[0.5; 7],
        &[1.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0],
        &[0.01, 0.05],
    )
    .unwrap();
    assert!(close(c[0].share, 0.01, 1e-15) && close(c[1].share, 0.05, 1e-15));
    assert!(matches!(
        top_shares(&[1.0], &[0.0], &[0.5]),
        Err(StatsError::NotPositive { .. })
    ));
    assert!(matches!(
        top_shares(&[1.0], &[1.0], &[0.0]),
        Err(StatsError::Probability { .. })
    ));
    assert!(matches!(
        top_shares(&[1.0], &[-1.0], &[0.5]),
        Err(StatsError::Negative { .. })
    ));
}

#[test]
fn bad_inputs_are_errors() {
    assert!(matches!(
        auc(&[0.1, f64::NAN], &[T, F]),
        Err(StatsError::NotFinite { .. })
    ));
    assert!(matches!(
        auc(&[0.1], &[T, F]),
        Err(StatsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        auc(&[0.1, 0.2], &[T, T]),
        Err(StatsError::TooFew { .. })
    ));
    assert!(matches!(
        auc_delong(&[0.1, 0.2, 0.3], &[T, T, F], 0.95),
        Err(StatsError::TooFew { .. })
    ));
    assert!(matches!(
        auc_delong(&[0.1, 0.2], &[T, F], 0.0),
        Err(StatsError::Confidence)
    ));
}

/// AUC by counting all m·n pairs, and the DeLong variance from the same
/// structural components: the O(N²) definition the fast version must match.
fn brute_force(scores: &[f64], y: &[bool]) -> (f64, f64) {
    let xs: Vec<f64> = scores
        .iter()
        .zip(y)
        .filter(|p| *p.1)
        .map(|p| *p.0)
        .collect();
    let ys: Vec<f64> = scores
        .iter()
        .zip(y)
        .filter(|p| !*p.1)
        .map(|p| *p.0)
        .collect();
    let psi = |x: f64, v: f64| {
        if x > v {
            1.0
        } else if x == v {
            0.5
        } else {
            0.0
        }
    };
    let (m, n) = (xs.len() as f64, ys.len() as f64);
    let v10: Vec<f64> = xs
        .iter()
        .map(|&x| ys.iter().map(|&v| psi(x, v)).sum::<f64>() / n)
        .collect();
    let v01: Vec<f64> = ys
        .iter()
        .map(|&v| xs.iter().map(|&x| psi(x, v)).sum::<f64>() / m)
        .collect();
    let a = v10.iter().sum::<f64>() / m;
    let s10 = v10.iter().map(|v| (v - a).powi(2)).sum::<f64>() / (m - 1.0);
    let s01 = v01.iter().map(|v| (v - a).powi(2)).sum::<f64>() / (n - 1.0);
    (a, s10 / m + s01 / n)
}

/// Integer-valued scores (many ties) with at least two events and two
/// non-events.
fn scored() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    prop::collection::vec((0u8..12, any::<bool>()), 4..80).prop_map(|rows| {
        let s: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
        let mut y: Vec<bool> = rows.iter().map(|r| r.1).collect();
        // Force two of each outcome.
        (y[0], y[1], y[2], y[3]) = (true, true, false, false);
        (s, y)
    })
}

proptest! {
    #[test]
    fn fast_auc_and_variance_match_pair_counting((s, y) in scored()) {
        let (a, v) = brute_force(&s, &y);
        let est = auc_delong(&s, &y, 0.95).unwrap();
        prop_assert!(close(est.auc, a, 1e-12));
        prop_assert!(close(est.variance, v, 1e-12));
        prop_assert!(close(auc(&s, &y).unwrap(), a, 1e-12));
    }

    #[test]
    fn negating_scores_gives_one_minus_auc((s, y) in scored()) {
        let neg: Vec<f64> = s.iter().map(|x| -x).collect();
        prop_assert!(close(auc(&neg, &y).unwrap(), 1.0 - auc(&s, &y).unwrap(), 1e-12));
    }

    #[test]
    fn auc_is_invariant_under_increasing_transforms((s, y) in scored()) {
        // Both maps are strictly increasing and injective on 0..12 in f64.
        let a = auc(&s, &y).unwrap();
        let e: Vec<f64> = s.iter().map(|x| (x / 3.0).exp()).collect();
        let c: Vec<f64> = s.iter().map(|x| x * x * x + x - 50.0).collect();
        prop_assert_eq!(auc(&e, &y).unwrap(), a);
        prop_assert_eq!(auc(&c, &y).unwrap(), a);
    }

    #[test]
    fn calibration_groups_add_up((s, y) in scored(), groups in 1usize..5) {
        let risks: Vec<f64> = s.iter().map(|x| x / 11.0).collect();
        let bins = calibration_bins(&risks, &y, groups).unwrap();
        let expected: f64 = bins.iter().map(|b| b.expected).sum();
        prop_assert!(close(expected, risks.iter().sum::<f64>(), 1e-9));
        prop_assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), risks.len());
        prop_assert_eq!(bins.iter().map(|b| b.observed).sum::<usize>(), y.iter().filter(|&&v| v).count());
        prop_assert!(bins.windows(2).all(|w| w[0].max_risk <= w[1].min_risk));
    }

    #[test]
    fn top_shares_grow_with_the_fraction((s, y) in scored(), q in 0.01f64..1.0) {
        let w: Vec<f64> = y.iter().map(|&v| if v { 1.0 } else { 0.0 }).collect();
        let c = top_shares(&s, &w, &[q, (q + 0.1).min(1.0), 1.0]).unwrap();
        prop_assert!(c[0].share <= c[1].share + 1e-12);
        prop_assert!(close(c[2].share, 1.0, 1e-12));
    }
}
