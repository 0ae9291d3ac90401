//! Tests of the model on synthetic people drawn from a known logistic
//! model, so the true coefficients and every person's true risk are known.

use super::*;
use crate::error::RiskError;

use haven_stats::rng::NormalRng;

/// Feature names and the generating model: log-odds = β₀ + Σ βⱼ xⱼ.
const COLUMNS: [&str; 6] = ["age_decades", "female", "imd_decile", "prior_emergency_admissions", "charlson", "marker"];
const TRUE_INTERCEPT: f64 = -3.0;
const TRUE_BETA: [f64; 6] = [0.25, -0.1, -0.06, 0.5, 0.2, 0.3];

/// People drawn independently: age in decades U(0, 9.5), female
/// Bernoulli(½), IMD decile 1–10, prior emergency admissions geometric
/// (mean ≈ 0.5), Charlson 0–5, a standard-normal marker. Outcome
/// ~ Bernoulli(σ(true log-odds)). Returns the features, keys and true
/// log-odds.
struct Fixture {
    features: Features,
    keys: Vec<String>,
    true_log_odds: Vec<f64>,
}

fn fixture(n: usize, seed: u64) -> Fixture {
    let mut rng = NormalRng::seeded(seed);
    let mut values = Vec::with_capacity(n * COLUMNS.len());
    let mut outcome = Vec::with_capacity(n);
    let mut true_log_odds = Vec::with_capacity(n);
    for _ in 0..n {
        let row = [
            9.5 * rng.uniform_open_closed(),
            f64::from(u8::from(rng.uniform_open_closed() < 0.5)),
            (10.0 * rng.uniform_open_closed()).ceil(),
            (rng.uniform_open_closed().ln() / (2.0_f64 / 3.0).ln()).floor(),
            (6.0 * rng.uniform_open_closed()).ceil() - 1.0,
            rng.standard_normal(),
        ];
        let eta = TRUE_INTERCEPT + row.iter().zip(TRUE_BETA).map(|(x, b)| x * b).sum::<f64>();
        values.extend(row);
        outcome.push(rng.uniform_open_closed() <= fit::logistic(eta));
        true_log_odds.push(eta);
    }
    let columns = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    Fixture {
        features: Features::new(columns, values, outcome).unwrap(),
        keys: (0..n).map(|i| format!("P{i:08}")).collect(),
        true_log_odds,
    }
}

#[test]
fn split_is_stable_by_key_and_about_thirty_percent() {
    let keys: Vec<String> = (0..100_000).map(|i| format!("pseudonym-{i}")).collect();
    let o = SplitOptions::default();
    let s = split(&keys, o);
    // Binomial(100,000, 0.3): SE of the share √(0.21/100,000) ≈ 0.0014, so
    // ± 0.01 is seven standard errors.
    let share = s.held_out.len() as f64 / keys.len() as f64;
    assert!((share - 0.3).abs() < 0.01, "{share}");
    assert_eq!(s.train.len() + s.held_out.len(), keys.len());
    // Same keys, same seed: the same split. A person's side depends only on
    // their key: reversing the rows moves nobody.
    assert_eq!(split(&keys, o), s);
    let reversed: Vec<&String> = keys.iter().rev().collect();
    let r = split(&reversed, o);
    assert!(r.held_out.iter().all(|&i| is_held_out(keys[keys.len() - 1 - i].as_bytes(), o)));
    assert_eq!(r.held_out.len(), s.held_out.len());
    // Another seed: a different split.
    assert_ne!(split(&keys, SplitOptions { seed: 19, ..o }).held_out, s.held_out);
}

#[test]
fn fit_recovers_the_generating_coefficients() {
    let f = fixture(60_000, 1);
    let s = split(&f.keys, SplitOptions::default());
    let model = fit_model(&f.features, &s.train, FitOptions::default()).unwrap();
    assert!(model.converged && model.iterations < 15, "{model:?}");
    let (intercept, beta) = model.original_scale();
    // Tolerance: four approximate standard errors. The features are
    // independent, so SE(βⱼ) ≈ 1/(sⱼ √(n p̄(1 − p̄))) with sⱼ the feature's
    // standard deviation, n the training rows and p̄ the event rate; the
    // intercept's SE by the delta method is √(1/(n p̄(1 − p̄)) + Σ mⱼ² SE(βⱼ)²)
    // with mⱼ the feature means. The ridge (λ = 1) shifts βⱼ by about
    // λβⱼ/(n p̄(1 − p̄) sⱼ²) — under 0.1% of βⱼ here — far inside.
    let events = f.features.outcomes_of(&s.train).iter().filter(|&&y| y).count() as f64;
    let n = s.train.len() as f64;
    let info = events * (1.0 - events / n);
    let sd = &model.standardiser.scales;
    let se: Vec<f64> = sd.iter().map(|s| 1.0 / (s * info.sqrt())).collect();
    for (j, (b, want)) in beta.iter().zip(TRUE_BETA).enumerate() {
        assert!((b - want).abs() < 4.0 * se[j], "{}: {b} vs {want} (SE {})", COLUMNS[j], se[j]);
    }
    let se0 = (1.0 / info + model.standardiser.means.iter().zip(&se).map(|(m, s)| (m * s).powi(2)).sum::<f64>()).sqrt();
    assert!((intercept - TRUE_INTERCEPT).abs() < 4.0 * se0, "{intercept} (SE {se0})");
}

#[test]
fn held_out_auc_is_within_0_02_of_the_true_risk_ceiling() {
    let f = fixture(60_000, 2);
    let s = split(&f.keys, SplitOptions::default());
    let model = fit_model(&f.features, &s.train, FitOptions::default()).unwrap();
    let predicted = model.predict(&f.features, &s.held_out).unwrap();
    let truth: Vec<f64> = s.held_out.iter().map(|&i| fit::logistic(f.true_log_odds[i])).collect();
    let prior_only = f.features.select(&["prior_emergency_admissions"]).unwrap();
    let baseline = fit_model(&prior_only, &s.train, FitOptions::default()).unwrap();
    let base = baseline.predict(&prior_only, &s.held_out).unwrap();
    let outcome = f.features.outcomes_of(&s.held_out);
    let scores = [
        NamedRisk { name: "model", risks: &predicted },
        NamedRisk { name: "prior emergency admissions", risks: &base },
        NamedRisk { name: "true risk", risks: &truth },
    ];
    let report = evaluate(&outcome, None, &scores, &EvaluationOptions::default()).unwrap();
    let auc = |name| report.score(name).unwrap().auc.auc;
    assert!(auc("true risk") - auc("model") < 0.02, "{} vs {}", auc("model"), auc("true risk"));
    assert!(auc("prior emergency admissions") < auc("model") - 0.02);
    // The model is well calibrated on new people from the same population:
    // slope and intercept within about three standard errors of 1 and 0.
    let m = report.score("model").unwrap();
    assert!((m.calibration_slope.unwrap() - 1.0).abs() < 0.1, "{m:?}");
    assert!(m.calibration_intercept.unwrap().abs() < 0.1, "{m:?}");
    assert_eq!(m.calibration.len(), 10);
    assert_eq!(m.capture.iter().map(|c| c.fraction).collect::<Vec<_>>(), [0.005, 0.01, 0.05]);
    // Shares of events in the top 0.5% ≤ 1% ≤ 5%, each above its fraction.
    assert!(m.capture.windows(2).all(|w| w[0].events_share <= w[1].events_share));
    assert!(m.capture.iter().all(|c| c.events_share > c.fraction));
    assert_eq!((report.rows, report.events), (outcome.len(), outcome.iter().filter(|&&y| y).count()));
}

#[test]
fn same_seed_gives_identical_coefficients_bit_for_bit() {
    let fit_once = || {
        let f = fixture(20_000, 3);
        let s = split(&f.keys, SplitOptions { seed: 7, held_out: 0.3 });
        fit_model(&f.features, &s.train, FitOptions::default()).unwrap()
    };
    let (a, b) = (fit_once(), fit_once());
    assert_eq!(a, b);
    let bits = |m: &LogisticModel| m.coefficients.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
}

#[test]
fn a_column_constant_in_training_gets_zero_and_changes_nothing_else() {
    // The fixture plus a column that is 0 on every training row (a
    // condition nobody fitted on has) and 1 on one held-out row: its
    // standardised value is 0 throughout training, so its coefficient is
    // 0 and every other coefficient is the fit without it, bit for bit.
    let f = fixture(5_000, 11);
    let s = split(&f.keys, SplitOptions::default());
    let p = COLUMNS.len();
    let marked = s.held_out[0];
    let mut values = Vec::with_capacity(f.features.rows() * (p + 1));
    for i in 0..f.features.rows() {
        values.extend_from_slice(f.features.row(i));
        values.push(if i == marked { 1.0 } else { 0.0 });
    }
    let mut columns: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    columns.push("nobody_in_training".into());
    let with = Features::new(columns, values, f.features.outcome().to_vec()).unwrap();
    let (a, b) = (fit_model(&with, &s.train, FitOptions::default()).unwrap(), fit_model(&f.features, &s.train, FitOptions::default()).unwrap());
    assert_eq!(a.coefficients[p], 0.0);
    let bits = |c: &[f64]| c.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.coefficients[..p]), bits(&b.coefficients));
    assert_eq!(a.intercept.to_bits(), b.intercept.to_bits());
    // The held-out row's risk is unchanged by its mark: (1 − 0) / 1 × 0.
    assert_eq!(a.predict(&with, &[marked]).unwrap(), b.predict(&f.features, &[marked]).unwrap());
}

#[test]
fn separable_outcome_keeps_finite_coefficients() {
    // The outcome is exactly x > 0: unpenalised, the MLE slope is +∞. The
    // ridge (λ = 1 on the standardised slope) bounds it: the fit converges
    // and predicts the two sides near 0 and 1.
    let x: Vec<f64> = (0..200).map(|i| if i % 2 == 0 { -1.0 } else { 1.0 }).collect();
    let y: Vec<bool> = x.iter().map(|&v| v > 0.0).collect();
    let f = Features::new(vec!["x".into()], x, y).unwrap();
    let rows: Vec<usize> = (0..200).collect();
    let model = fit_model(&f, &rows, FitOptions::default()).unwrap();
    assert!(model.converged);
    assert!(model.coefficients[0].is_finite() && model.coefficients[0] > 3.0, "{model:?}");
    let p = model.predict(&f, &[0, 1]).unwrap();
    assert!(p[0] < 0.02 && p[1] > 0.98, "{p:?}");
}

#[test]
fn standardisation_uses_training_rows_only() {
    // Column values 0, 2, 4 on training rows 0–2 and 1000 on held-out row 3:
    // mean 2 and population SD √(8/3), untouched by the held-out value.
    let f = Features::new(vec!["a".into(), "constant".into()], vec![0.0, 5.0, 2.0, 5.0, 4.0, 5.0, 1000.0, 5.0], vec![false, true, false, true]).unwrap();
    let st = Standardiser::fit(&f, &[0, 1, 2]).unwrap();
    assert_eq!(st.means, [2.0, 5.0]);
    assert!((st.scales[0] - (8.0_f64 / 3.0).sqrt()).abs() < 1e-15);
    // A constant column is centred only.
    assert_eq!(st.scales[1], 1.0);
}

#[test]
fn malformed_features_and_scores_are_refused() {
    use crate::error::FeatureFault as F;
    let bad = |r: Result<Features, RiskError>, want: F| matches!(r, Err(RiskError::Features(f)) if f == want);
    assert!(bad(Features::new(vec![], vec![], vec![]), F::NoColumns));
    assert!(bad(Features::new(vec!["a".into()], vec![1.0], vec![true, false]), F::Shape));
    assert!(bad(Features::new(vec!["a".into(), "a".into()], vec![1.0, 2.0], vec![true]), F::DuplicateColumn("a".into())));
    assert!(bad(Features::new(vec!["a".into(), "b".into()], vec![1.0, f64::NAN], vec![true]), F::NotFinite("b".into())));
    let f = Features::new(vec!["a".into()], vec![1.0, 2.0], vec![true, false]).unwrap();
    assert!(bad(f.select(&["b"]), F::UnknownColumn("b".into())));
    assert!(matches!(fit_model(&f, &[], FitOptions::default()), Err(RiskError::Features(F::NoTrainingRows))));
    assert!(matches!(fit_model(&f, &[5], FitOptions::default()), Err(RiskError::Features(F::RowOutOfRange))));
    let r = evaluate(&[true, false], None, &[NamedRisk { name: "s", risks: &[0.5] }], &EvaluationOptions::default());
    assert!(matches!(r, Err(RiskError::Features(F::ScoreLength(_)))));
    // One event is too few for the DeLong variance.
    let r = evaluate(&[true, false, false], None, &[NamedRisk { name: "s", risks: &[0.5, 0.2, 0.1] }], &EvaluationOptions::default());
    assert!(matches!(r, Err(RiskError::Stats { what: "AUC", .. })));
}

#[test]
fn report_counts_admissions_and_serialises() {
    // Six held-out people, risks 0.9 … 0.1 with admissions 3, 0, 1, 0, 1, 0
    // (5 in all) and outcome = admissions > 0. Top 1/6 (one person, the
    // 0.9 with 3 admissions): 1 of 3 people with the outcome, 3 of 5
    // admissions.
    let risks = [0.9, 0.7, 0.6, 0.4, 0.3, 0.1];
    let admissions = [3.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let outcome: Vec<bool> = admissions.iter().map(|&a| a > 0.0).collect();
    let options = EvaluationOptions { groups: 2, fractions: vec![1.0 / 6.0], ..EvaluationOptions::default() };
    let report = evaluate(&outcome, Some(&admissions), &[NamedRisk { name: "s", risks: &risks }], &options).unwrap();
    let c = report.scores[0].capture[0];
    assert!((c.events_share - 1.0 / 3.0).abs() < 1e-12);
    assert!((c.admissions_share.unwrap() - 0.6).abs() < 1e-12);
    assert_eq!(report.admissions, Some(5.0));
    // The report and the model serialise (checked at compile time; the
    // crate takes no JSON dependency).
    fn serialisable<T: serde::Serialize + serde::de::DeserializeOwned>(_: &T) {}
    serialisable(&report);
}

#[test]
fn mean_deviance_by_hand() {
    // −2/2 × (ln 0.5 + ln(1 − 0.75)) = −(−0.693147 − 1.386294) = 2.079442.
    let d = mean_deviance(&[0.5, 0.75], &[true, false]);
    assert!((d - 2.079_441_542).abs() < 1e-9, "{d}");
    // A certain, right prediction costs nothing; a certain, wrong one is
    // clamped at 10⁻¹⁵: −2 × ln 10⁻¹⁵ = 69.08.
    assert!(mean_deviance(&[1.0], &[true]).abs() < 1e-12);
    assert!((mean_deviance(&[0.0], &[true]) - 69.077_552_79).abs() < 1e-6);
}

/// The fixture with `noise` further standard-normal columns that play no
/// part in the outcome.
fn with_noise(f: &Fixture, noise: usize, seed: u64) -> Features {
    let mut rng = NormalRng::seeded(seed);
    let mut columns = f.features.columns().to_vec();
    columns.extend((0..noise).map(|k| format!("noise_{k}")));
    let mut values = Vec::new();
    for i in 0..f.features.rows() {
        values.extend_from_slice(f.features.row(i));
        values.extend((0..noise).map(|_| rng.standard_normal()));
    }
    Features::new(columns, values, f.features.outcome().to_vec()).unwrap()
}

#[test]
fn ridge_choice_is_reproducible_and_never_sees_held_out_rows() {
    let f = fixture(4_000, 5);
    let s = split(&f.keys, SplitOptions::default());
    let a = choose_ridge(&f.features, &f.keys, &s.train, 18).unwrap();
    assert_eq!(a, choose_ridge(&f.features, &f.keys, &s.train, 18).unwrap());
    assert_eq!(a.tried.len(), RIDGE_GRID.len());
    assert_eq!(a.fitted_on + a.validated_on, s.train.len());
    // Every held-out outcome flipped: the choice is the same, bit for bit.
    let mut outcome = f.features.outcome().to_vec();
    s.held_out.iter().for_each(|&i| outcome[i] = !outcome[i]);
    let values: Vec<f64> = (0..f.features.rows()).flat_map(|i| f.features.row(i).to_vec()).collect();
    let flipped = Features::new(f.features.columns().to_vec(), values, outcome).unwrap();
    assert_eq!(a, choose_ridge(&flipped, &f.keys, &s.train, 18).unwrap());
}

#[test]
fn few_rows_and_noise_columns_choose_more_shrinkage() {
    // 30 pure-noise columns beside the 6 real ones: with 400 people (about
    // 40 events) λ = 1 over-fits the noise, so validation picks a larger
    // λ; with 40,000 the data outweigh any λ in the grid's lower end.
    let choose = |n: usize| {
        let f = fixture(n, 9);
        let x = with_noise(&f, 30, 10);
        let s = split(&f.keys, SplitOptions::default());
        choose_ridge(&x, &f.keys, &s.train, 18).unwrap()
    };
    let (small, large) = (choose(400), choose(40_000));
    assert!(small.ridge > 1.0, "{small:?}");
    assert!(small.ridge >= large.ridge, "{small:?} vs {large:?}");
}

#[test]
fn too_few_people_to_validate_keep_the_default_penalty() {
    // Eight people, one event: one side of the inner split has no event
    // (or no non-event), so no λ can be validated.
    let x = Features::new(vec!["x".into()], (0..8).map(f64::from).collect(), (0..8).map(|i| i == 7).collect()).unwrap();
    let keys: Vec<String> = (0..8).map(|i| format!("k{i}")).collect();
    let train: Vec<usize> = (0..8).collect();
    let c = choose_ridge(&x, &keys, &train, 18).unwrap();
    assert_eq!((c.ridge, c.tried.len()), (FitOptions::default().ridge, 0));
    assert!(matches!(choose_ridge(&x, &keys[..7], &train, 18), Err(RiskError::Features(crate::error::FeatureFault::Shape))));
}
