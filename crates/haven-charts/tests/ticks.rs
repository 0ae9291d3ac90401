//! The 1-2-5 nice-number tick algorithm against hand-worked cases.

use haven_charts::nice_ticks;

fn values(min: f64, max: f64, target: usize) -> Vec<f64> {
    nice_ticks(min, max, target).values
}

#[test]
fn zero_to_97_gives_steps_of_20() {
    // 97 / 4 = 24.25 → rounds to 20; 0 … ceil(97/20)·20 = 100.
    assert_eq!(
        values(0.0, 97.0, 5),
        vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    );
    assert_eq!(nice_ticks(0.0, 97.0, 5).decimals, 0);
}

#[test]
fn small_proportions_get_three_decimals() {
    // 0.0083 / 4 = 0.002075 → rounds to 0.002;
    // floor(0.001/0.002) = 0 and ceil(0.0093/0.002) = 5.
    let t = nice_ticks(0.001, 0.0093, 5);
    assert_eq!(t.values, vec![0.0, 0.002, 0.004, 0.006, 0.008, 0.01]);
    assert_eq!(t.decimals, 3);
    assert_eq!(
        t.labels(),
        vec!["0.000", "0.002", "0.004", "0.006", "0.008", "0.010"]
    );
}

#[test]
fn range_crossing_zero() {
    // 8.3 / 4 = 2.075 → 2; floor(-1.6) = -2, ceil(2.55) = 3.
    assert_eq!(values(-3.2, 5.1, 5), vec![-4.0, -2.0, 0.0, 2.0, 4.0, 6.0]);
    assert_eq!(
        values(-97.0, 0.0, 5),
        vec![-100.0, -80.0, -60.0, -40.0, -20.0, 0.0]
    );
}

#[test]
fn floating_point_noise_does_not_add_ticks() {
    // 0.6 / 0.1 = 5.999… in binary; the axis must still start at 0.6.
    assert_eq!(values(0.6, 1.0, 5), vec![0.6, 0.7, 0.8, 0.9, 1.0]);
}

#[test]
fn large_counts_get_thousands_separators() {
    // 97,531 / 5 = 19,506 → 20,000.
    let t = nice_ticks(1234.0, 98765.0, 6);
    assert_eq!(
        t.labels(),
        vec!["0", "20,000", "40,000", "60,000", "80,000", "100,000"]
    );
}

#[test]
fn all_equal_values_are_widened() {
    // 50 ± 10 % = 45 … 55 → 10 / 4 = 2.5 → 2 → 44 … 56.
    assert_eq!(
        values(50.0, 50.0, 5),
        vec![44.0, 46.0, 48.0, 50.0, 52.0, 54.0, 56.0]
    );
    // Zero widens to ±1: 2 / 4 = 0.5 → 0.5.
    assert_eq!(values(0.0, 0.0, 5), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
}

#[test]
fn reversed_and_non_finite_input() {
    assert_eq!(values(10.0, 0.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(
        values(f64::NAN, f64::INFINITY, 5),
        vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    );
    let huge = nice_ticks(-f64::MAX, f64::MAX, 5);
    assert!(huge.values.iter().all(|v| v.is_finite()) && huge.values.len() >= 2);
}

#[test]
fn axis_is_not_padded_beyond_one_step() {
    // 21,000 / 5 = 4,200 → 5,000, so the axis ends at 25,000 rather than
    // Heckbert's loose 30,000.
    assert_eq!(
        values(0.0, 21000.0, 6),
        vec![0.0, 5000.0, 10000.0, 15000.0, 20000.0, 25000.0]
    );
    // 4 / 4 = 1 → 1; 0.5 … 4.5 snaps outward to 0 … 5.
    assert_eq!(values(0.5, 4.5, 5), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
}

#[test]
fn ticks_always_cover_the_range() {
    for (lo, hi) in [
        (0.13, 0.87),
        (1.0, 1.001),
        (-0.004, 0.0),
        (123.0, 456789.0),
        (7.0, 7.0000001),
    ] {
        let t = nice_ticks(lo, hi, 6);
        assert!(
            t.min() <= lo && t.max() >= hi,
            "{lo}..{hi} → {:?}",
            t.values
        );
        assert!(
            (2..=12).contains(&t.values.len()),
            "{lo}..{hi} → {:?}",
            t.values
        );
    }
}
