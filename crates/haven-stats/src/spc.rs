//! Statistical process control: XmR charts with the Making Data Count rules.
//!
//! Source: NHSRplotthedots v0.2.2 (`R/ptd_spc_standard.R`,
//! `R/ptd_calculate_point_type.R`, `R/ptd_calculate_assurance_type.R`),
//! which mimics the NHS England "Making Data Count" Excel tools; methods.md
//! §7.
//!
//! Limits from the baseline (the first `fix_after_n_points` values, or all):
//!
//! ```text
//! mean  = mean(y);  MRₜ = |yₜ − yₜ₋₁|;  AMR = mean(MR)
//! (optional) drop MRₜ ≥ 3.267 × AMR and recompute AMR
//! UPL/LPL = mean ± 2.66 × AMR;  near-limit band = mean ± (2/3) × 2.66 × AMR
//! ```
//!
//! Special-cause rules, each point taking the first that applies:
//! outside the limits; a trend of N strictly rising (falling) points; two
//! of three consecutive points beyond the near-limit band on one side of
//! the mean; a shift of N points on one side of the mean.
//!
//! Colouring: a flagged point is an improvement or a concern according to
//! the direction of the rule that flagged it (above/below the mean, or a
//! rising/falling trend). NHSRplotthedots instead uses the point's side of
//! the mean for every rule; the two agree except for trend points on the
//! far side of the mean, which here take the trend's direction (as a
//! rising trend is read in the MDC guidance) and never depend on a point
//! that sits exactly on the mean.

use crate::check;
use crate::error::{Result, StatsError};

/// Process limits are mean ± this × AMR.
pub const LIMIT_FACTOR: f64 = 2.66;
/// The near-limit ("2σ") band is mean ± this × AMR, (2/3) × 2.66.
pub const NEAR_LIMIT_FACTOR: f64 = 2.0 * LIMIT_FACTOR / 3.0;
/// Moving ranges at or above this × AMR are screened out when asked.
pub const OUTLIER_SCREEN_FACTOR: f64 = 3.267;
/// NHSRplotthedots refuses to fix limits on fewer points.
pub const MIN_FIX_AFTER_N_POINTS: usize = 12;
/// Limits resting on fewer points than this are "trial limits".
pub const TRIAL_LIMITS_BELOW: usize = 13;
/// Default length of the trend and shift rules (NHSRplotthedots; whether
/// current MDC guidance uses 6 or 7 for trends is unconfirmed, §7).
pub const DEFAULT_RUN_LENGTH: usize = 7;

/// Which way is better for the measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImprovementDirection {
    /// Higher values are better.
    Increase,
    /// Lower values are better.
    Decrease,
    /// Neither: special causes are only reported, not judged.
    Neutral,
}

/// The Making Data Count colour of a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointType {
    /// No special cause: common-cause variation (grey).
    CommonCause,
    /// Special cause in the better direction (blue).
    SpecialCauseImprovement,
    /// Special cause in the worse direction (orange).
    SpecialCauseConcern,
    /// Special cause with no direction of improvement (purple).
    SpecialCauseNeutral,
}

/// The rule that flagged a point, in priority order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpecialCauseRule {
    /// Above the upper or below the lower process limit.
    OutsideLimits,
    /// Part of a run of N strictly rising or falling points.
    Trend,
    /// Beyond the near-limit band in a two-in-three window.
    TwoInThree,
    /// Part of a run of N points on one side of the mean.
    Shift,
}

/// The direction of a special cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Above the mean, or a rising trend.
    High,
    /// Below the mean, or a falling trend.
    Low,
}

/// Why a point is a special cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialCause {
    /// The highest-priority rule that applies.
    pub rule: SpecialCauseRule,
    /// Its direction.
    pub side: Side,
}

/// Whether a target will be met (methods.md §7, from the last limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    /// The whole process range is on the passing side of the target.
    ConsistentPass,
    /// The whole process range is on the failing side of the target.
    ConsistentFail,
    /// The target lies within the process limits.
    Inconsistent,
}

/// Options of [`xmr_chart`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpcOptions {
    /// Which way is better.
    pub improvement: ImprovementDirection,
    /// Screen moving-range outliers before the final AMR. NHSRplotthedots
    /// defaults to true; the MDC Excel tools do not screen, so the default
    /// here is false.
    pub screen_outliers: bool,
    /// Compute the limits from the first n points only (n ≥ 12).
    pub fix_after_n_points: Option<usize>,
    /// Points in a trend (default 7).
    pub trend_length: usize,
    /// Points in a shift (default 7).
    pub shift_length: usize,
    /// Target for the assurance icon.
    pub target: Option<f64>,
}

impl Default for SpcOptions {
    fn default() -> Self {
        SpcOptions {
            improvement: ImprovementDirection::Increase,
            screen_outliers: false,
            fix_after_n_points: None,
            trend_length: DEFAULT_RUN_LENGTH,
            shift_length: DEFAULT_RUN_LENGTH,
            target: None,
        }
    }
}

/// Centre line and limits of an XmR chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XmrLimits {
    /// Mean of the baseline.
    pub mean: f64,
    /// Average moving range (after screening, if asked).
    pub average_moving_range: f64,
    /// Upper process limit, mean + 2.66 × AMR.
    pub upper_process_limit: f64,
    /// Lower process limit, mean − 2.66 × AMR.
    pub lower_process_limit: f64,
    /// Upper edge of the near-limit band.
    pub upper_near_limit: f64,
    /// Lower edge of the near-limit band.
    pub lower_near_limit: f64,
    /// Number of points the limits were computed from.
    pub baseline_points: usize,
}

/// One point of the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XmrPoint {
    /// The value.
    pub value: f64,
    /// |yₜ − yₜ₋₁| (None for the first point), unscreened.
    pub moving_range: Option<f64>,
    /// Why the point is special, if it is.
    pub special_cause: Option<SpecialCause>,
    /// Its colour.
    pub point_type: PointType,
}

/// A complete XmR chart.
#[derive(Debug, Clone, PartialEq)]
pub struct XmrChart {
    /// The limits.
    pub limits: XmrLimits,
    /// Every point, in order.
    pub points: Vec<XmrPoint>,
    /// Assurance against the target, when a target and a direction are set.
    pub assurance: Option<Assurance>,
    /// The limits rest on fewer than 13 points.
    pub trial_limits: bool,
}

/// XmR limits of `baseline` (≥ 2 values).
///
/// With screening, a moving range is dropped when MR ≥ 3.267 × AMR (the
/// package keeps MR < 3.267 × AMR). A flat baseline (AMR = 0) has nothing
/// to screen and keeps AMR = 0.
pub fn xmr_limits(baseline: &[f64], screen_outliers: bool) -> Result<XmrLimits> {
    check::at_least(baseline.len(), 2, "an XmR chart")?;
    for &y in baseline {
        check::finite(y, "SPC value")?;
    }
    let mean = baseline.iter().sum::<f64>() / baseline.len() as f64;
    let ranges: Vec<f64> = baseline.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let mut amr = average(&ranges);
    if screen_outliers && amr > 0.0 {
        let cut = OUTLIER_SCREEN_FACTOR * amr;
        let kept: Vec<f64> = ranges.into_iter().filter(|&mr| mr < cut).collect();
        amr = average(&kept);
    }
    Ok(XmrLimits {
        mean,
        average_moving_range: amr,
        upper_process_limit: mean + LIMIT_FACTOR * amr,
        lower_process_limit: mean - LIMIT_FACTOR * amr,
        upper_near_limit: mean + NEAR_LIMIT_FACTOR * amr,
        lower_near_limit: mean - NEAR_LIMIT_FACTOR * amr,
        baseline_points: baseline.len(),
    })
}

/// Arithmetic mean of a non-empty slice.
fn average(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Builds the XmR chart of `values` (time order) with the MDC rules.
pub fn xmr_chart(values: &[f64], options: &SpcOptions) -> Result<XmrChart> {
    let baseline = baseline(values, options.fix_after_n_points)?;
    let limits = xmr_limits(baseline, options.screen_outliers)?;
    let runs = [options.trend_length, options.shift_length];
    if runs.iter().any(|&n| n < 2) {
        return Err(StatsError::OutOfDomain {
            what: "trend or shift length (at least 2)",
        });
    }
    let causes = special_causes(values, &limits, options);
    let points = values
        .iter()
        .enumerate()
        .zip(causes)
        .map(|((i, &value), cause)| XmrPoint {
            value,
            moving_range: i.checked_sub(1).map(|p| (value - values[p]).abs()),
            special_cause: cause,
            point_type: point_type(cause, options.improvement),
        })
        .collect();
    Ok(XmrChart {
        limits,
        points,
        assurance: options
            .target
            .and_then(|t| assurance(&limits, t, options.improvement)),
        trial_limits: limits.baseline_points < TRIAL_LIMITS_BELOW,
    })
}

/// The points the limits are computed from.
fn baseline(values: &[f64], fix_after: Option<usize>) -> Result<&[f64]> {
    for &y in values {
        check::finite(y, "SPC value")?;
    }
    match fix_after {
        Some(n) if n < MIN_FIX_AFTER_N_POINTS => Err(StatsError::FixAfterTooSmall),
        Some(n) => Ok(&values[..n.min(values.len())]),
        None => Ok(values),
    }
}

/// The highest-priority special cause of each point.
fn special_causes(
    values: &[f64],
    limits: &XmrLimits,
    options: &SpcOptions,
) -> Vec<Option<SpecialCause>> {
    let by_rule = [
        (
            SpecialCauseRule::OutsideLimits,
            outside_limits(values, limits),
        ),
        (
            SpecialCauseRule::Trend,
            trends(values, options.trend_length),
        ),
        (SpecialCauseRule::TwoInThree, two_in_three(values, limits)),
        (
            SpecialCauseRule::Shift,
            shifts(values, limits.mean, options.shift_length),
        ),
    ];
    (0..values.len())
        .map(|i| {
            by_rule
                .iter()
                .find_map(|(rule, sides)| sides[i].map(|side| SpecialCause { rule: *rule, side }))
        })
        .collect()
}

/// Rule 1: strictly above the UPL or below the LPL.
fn outside_limits(values: &[f64], limits: &XmrLimits) -> Vec<Option<Side>> {
    values
        .iter()
        .map(|&y| {
            if y > limits.upper_process_limit {
                Some(Side::High)
            } else if y < limits.lower_process_limit {
                Some(Side::Low)
            } else {
                None
            }
        })
        .collect()
}

/// −1, 0 or +1.
fn sign(x: f64) -> i8 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

/// Maximal runs (start, end inclusive, sign) of equal non-zero signs at
/// least `min_len` long.
fn runs(signs: &[i8], min_len: usize) -> Vec<(usize, usize, i8)> {
    let mut found = Vec::new();
    let mut start = 0;
    for i in 1..=signs.len() {
        if i == signs.len() || signs[i] != signs[start] {
            if signs[start] != 0 && i - start >= min_len {
                found.push((start, i - 1, signs[start]));
            }
            start = i;
        }
    }
    found
}

/// Marks positions `from..=to` with the side of `sign`, keeping any mark a
/// point already has (a turning point shared by two trends keeps the first).
fn mark(flags: &mut [Option<Side>], from: usize, to: usize, sign: i8) {
    let side = if sign > 0 { Side::High } else { Side::Low };
    for flag in &mut flags[from..=to] {
        flag.get_or_insert(side);
    }
}

/// Rule 2: `length` points each strictly above (below) the previous; a tie
/// breaks the trend. All points of the run are flagged.
fn trends(values: &[f64], length: usize) -> Vec<Option<Side>> {
    let mut flags = vec![None; values.len()];
    // steps[i] is the sign of values[i+1] − values[i]; length points need
    // length − 1 equal steps, covering points start..=end+1.
    let steps: Vec<i8> = values.windows(2).map(|w| sign(w[1] - w[0])).collect();
    for (start, end, s) in runs(&steps, length - 1) {
        mark(&mut flags, start, end + 1, s);
    }
    flags
}

/// Rule 4: `length` points on the same side of the mean; a point exactly
/// on the mean breaks the run. All points of the run are flagged.
fn shifts(values: &[f64], mean: f64, length: usize) -> Vec<Option<Side>> {
    let mut flags = vec![None; values.len()];
    let sides: Vec<i8> = values.iter().map(|&y| sign(y - mean)).collect();
    for (start, end, s) in runs(&sides, length) {
        mark(&mut flags, start, end, s);
    }
    flags
}

/// Rule 3: in any 3 consecutive points all on one side of the mean, at
/// least 2 lie beyond the near-limit band but inside the process limits;
/// only those points are flagged.
fn two_in_three(values: &[f64], limits: &XmrLimits) -> Vec<Option<Side>> {
    let close: Vec<bool> = values
        .iter()
        .map(|&y| {
            let inside = y <= limits.upper_process_limit && y >= limits.lower_process_limit;
            inside && (y > limits.upper_near_limit || y < limits.lower_near_limit)
        })
        .collect();
    let sides: Vec<i8> = values.iter().map(|&y| sign(y - limits.mean)).collect();
    let mut flags = vec![None; values.len()];
    for start in 0..values.len().saturating_sub(2) {
        let window = start..start + 3;
        let same_side = sides[window.clone()]
            .iter()
            .map(|&s| i32::from(s))
            .sum::<i32>()
            .abs()
            == 3;
        if same_side && close[window.clone()].iter().filter(|&&c| c).count() >= 2 {
            for i in window.filter(|&i| close[i]) {
                mark(&mut flags, i, i, sides[i]);
            }
        }
    }
    flags
}

/// The colour of a point: a special cause is an improvement when its side
/// is the better direction.
fn point_type(cause: Option<SpecialCause>, improvement: ImprovementDirection) -> PointType {
    let Some(cause) = cause else {
        return PointType::CommonCause;
    };
    match (improvement, cause.side) {
        (ImprovementDirection::Neutral, _) => PointType::SpecialCauseNeutral,
        (ImprovementDirection::Increase, Side::High)
        | (ImprovementDirection::Decrease, Side::Low) => PointType::SpecialCauseImprovement,
        _ => PointType::SpecialCauseConcern,
    }
}

/// Assurance of meeting `target` given the limits (NHSRplotthedots
/// `ptd_calculate_assurance_type`): with improvement = increase, a target
/// above the UPL is a consistent fail and below the LPL a consistent pass;
/// reversed for decrease; `None` for a neutral measure.
pub fn assurance(
    limits: &XmrLimits,
    target: f64,
    improvement: ImprovementDirection,
) -> Option<Assurance> {
    let increasing = match improvement {
        ImprovementDirection::Increase => true,
        ImprovementDirection::Decrease => false,
        ImprovementDirection::Neutral => return None,
    };
    Some(if target > limits.upper_process_limit {
        if increasing {
            Assurance::ConsistentFail
        } else {
            Assurance::ConsistentPass
        }
    } else if target < limits.lower_process_limit {
        if increasing {
            Assurance::ConsistentPass
        } else {
            Assurance::ConsistentFail
        }
    } else {
        Assurance::Inconsistent
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIGNETTE: [f64; 18] = [
        1., 2., 1., 2., 10., 1., 2., 1., 2., 1., 2., 1., 2., 1., 2., 1., 2., 1.,
    ];

    fn two_dp(x: f64) -> String {
        format!("{x:.2}")
    }

    #[test]
    fn vignette_limits_unscreened_and_screened() {
        // NHSRplotthedots vignettes/deviations.Rmd (methods.md §7).
        let l = xmr_limits(&VIGNETTE, false).unwrap();
        assert_eq!(two_dp(l.mean), "1.94");
        assert_eq!(two_dp(l.upper_process_limit), "6.95");
        assert_eq!(two_dp(l.lower_process_limit), "-3.06");
        let s = xmr_limits(&VIGNETTE, true).unwrap();
        assert_eq!(two_dp(s.mean), "1.94");
        assert_eq!(two_dp(s.upper_process_limit), "4.60");
        assert_eq!(two_dp(s.lower_process_limit), "-0.72");
    }

    #[test]
    fn vignette_spike_is_outside_the_limits() {
        // Sum 35 over 18 points → mean 1.944; MRs: fifteen 1s, 8 and 9 →
        // AMR 32/17 = 1.882 and UPL 6.95; 10 > 6.95.
        let chart = xmr_chart(&VIGNETTE, &SpcOptions::default()).unwrap();
        let spike = chart.points[4];
        assert_eq!(
            spike.special_cause,
            Some(SpecialCause {
                rule: SpecialCauseRule::OutsideLimits,
                side: Side::High
            })
        );
        assert_eq!(spike.point_type, PointType::SpecialCauseImprovement);
        assert_eq!(spike.moving_range, Some(8.0));
        assert!(chart
            .points
            .iter()
            .enumerate()
            .all(|(i, p)| i == 4 || p.point_type == PointType::CommonCause));
        assert!(!chart.trial_limits);
    }

    /// Baseline 4, 0 six times: mean 2, AMR 4, UPL 12.64, LPL −8.64,
    /// near-limit band 2 ± 7.0933 = −5.0933 to 9.0933. It ends below the
    /// mean and with a 0, so what follows starts fresh runs.
    fn with_baseline(tail: &[f64]) -> Vec<f64> {
        let mut v: Vec<f64> = [4.0, 0.0].repeat(6);
        v.extend_from_slice(tail);
        v
    }

    fn fixed() -> SpcOptions {
        SpcOptions {
            fix_after_n_points: Some(12),
            ..SpcOptions::default()
        }
    }

    /// Rules flagging each point after the baseline.
    fn tail_rules(tail: &[f64], options: &SpcOptions) -> Vec<Option<SpecialCauseRule>> {
        let chart = xmr_chart(&with_baseline(tail), options).unwrap();
        assert!(chart.points[..12].iter().all(|p| p.special_cause.is_none()));
        chart.points[12..]
            .iter()
            .map(|p| p.special_cause.map(|c| c.rule))
            .collect()
    }

    #[test]
    fn baseline_limits_as_worked() {
        let l = xmr_chart(&with_baseline(&[]), &fixed()).unwrap().limits;
        assert_eq!((l.mean, l.average_moving_range), (2.0, 4.0));
        assert!((l.upper_process_limit - 12.64).abs() < 1e-12);
        assert!((l.upper_near_limit - (2.0 + 8.0 * 2.66 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn seven_point_trend_is_flagged_whole() {
        // 0 (ties the last baseline 0), then 0.5 … 3.5: seven strictly
        // rising points 0, 0.5, 1, 1.5, 2.5, 3, 3.5, crossing the mean 2 so
        // no shift, all inside the near band.
        let rules = tail_rules(&[0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 3.5], &fixed());
        assert_eq!(rules, vec![Some(Trend); 7]);
        let chart = xmr_chart(
            &with_baseline(&[0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 3.5]),
            &fixed(),
        )
        .unwrap();
        // A rising trend is an improvement throughout, including its four
        // points below the mean 2 (NHSRplotthedots would colour those as a
        // concern; see the module note on colouring).
        assert!(chart.points[12..]
            .iter()
            .all(|p| p.point_type == PointType::SpecialCauseImprovement));
    }

    use SpecialCauseRule::{OutsideLimits, Shift, Trend, TwoInThree};

    #[test]
    fn six_point_trend_is_not_flagged_unless_asked() {
        let tail = [0.0, 0.5, 1.0, 1.5, 2.5, 3.0];
        assert_eq!(tail_rules(&tail, &fixed()), vec![None; 6]);
        let six = SpcOptions {
            trend_length: 6,
            ..fixed()
        };
        assert_eq!(tail_rules(&tail, &six), vec![Some(Trend); 6]);
    }

    #[test]
    fn a_tie_breaks_a_trend() {
        // 0, 0.5, 1, 1, 1.5, 2.5, 3, 3.5: rising runs of 3 and 5 points.
        assert_eq!(
            tail_rules(&[0.0, 0.5, 1.0, 1.0, 1.5, 2.5, 3.0, 3.5], &fixed()),
            vec![None; 8]
        );
    }

    #[test]
    fn shift_of_seven_above_the_mean() {
        // Seven 3s after a baseline ending at 0 (below the mean 2).
        assert_eq!(tail_rules(&[3.0; 7], &fixed()), vec![Some(Shift); 7]);
        assert_eq!(tail_rules(&[3.0; 6], &fixed()), vec![None; 6]);
        let chart = xmr_chart(
            &with_baseline(&[3.0; 7]),
            &SpcOptions {
                improvement: ImprovementDirection::Decrease,
                ..fixed()
            },
        )
        .unwrap();
        assert_eq!(chart.points[12].point_type, PointType::SpecialCauseConcern);
    }

    #[test]
    fn a_point_on_the_mean_breaks_a_shift() {
        // 3, 3, 3, 2, 3, 3, 3: the 2 sits exactly on the mean.
        assert_eq!(
            tail_rules(&[3.0, 3.0, 3.0, 2.0, 3.0, 3.0, 3.0], &fixed()),
            vec![None; 7]
        );
    }

    #[test]
    fn two_in_three_flags_only_the_points_beyond_the_band() {
        // 10 lies in (9.0933, 12.64]; 5 is above the mean but not close.
        assert_eq!(
            tail_rules(&[10.0, 5.0, 10.0], &fixed()),
            vec![Some(TwoInThree), None, Some(TwoInThree)]
        );
        // Only one close point in every window.
        assert_eq!(tail_rules(&[10.0, 5.0, 5.0], &fixed()), vec![None; 3]);
        // Two close points but on opposite sides of the mean.
        assert_eq!(tail_rules(&[10.0, -6.0, 1.0], &fixed()), vec![None; 3]);
    }

    #[test]
    fn outside_limits_outranks_a_shift() {
        // A shift of seven whose fourth point (13 > 12.64) is outside.
        let rules = tail_rules(&[3.0, 3.0, 3.0, 13.0, 3.0, 3.0, 3.0], &fixed());
        let mut expected = vec![Some(Shift); 7];
        expected[3] = Some(OutsideLimits);
        assert_eq!(rules, expected);
        let neutral = SpcOptions {
            improvement: ImprovementDirection::Neutral,
            ..fixed()
        };
        let chart = xmr_chart(&with_baseline(&[13.0]), &neutral).unwrap();
        assert_eq!(chart.points[12].point_type, PointType::SpecialCauseNeutral);
    }

    #[test]
    fn assurance_against_the_limits() {
        // Limits −8.64 to 12.64.
        let l = xmr_chart(&with_baseline(&[]), &fixed()).unwrap().limits;
        use ImprovementDirection::{Decrease, Increase, Neutral};
        assert_eq!(
            assurance(&l, 15.0, Increase),
            Some(Assurance::ConsistentFail)
        );
        assert_eq!(
            assurance(&l, -10.0, Increase),
            Some(Assurance::ConsistentPass)
        );
        assert_eq!(assurance(&l, 5.0, Increase), Some(Assurance::Inconsistent));
        assert_eq!(
            assurance(&l, 15.0, Decrease),
            Some(Assurance::ConsistentPass)
        );
        assert_eq!(
            assurance(&l, -10.0, Decrease),
            Some(Assurance::ConsistentFail)
        );
        assert_eq!(assurance(&l, 15.0, Neutral), None);
        let chart = xmr_chart(
            &with_baseline(&[]),
            &SpcOptions {
                target: Some(15.0),
                ..fixed()
            },
        )
        .unwrap();
        assert_eq!(chart.assurance, Some(Assurance::ConsistentFail));
    }

    #[test]
    fn fixing_limits_and_trial_flag() {
        let eleven = SpcOptions {
            fix_after_n_points: Some(11),
            ..SpcOptions::default()
        };
        assert_eq!(
            xmr_chart(&VIGNETTE, &eleven),
            Err(StatsError::FixAfterTooSmall)
        );
        // Twelve baseline points (< 13) are trial limits even on a longer series.
        let chart = xmr_chart(&with_baseline(&[3.0; 7]), &fixed()).unwrap();
        assert!(chart.trial_limits);
        assert_eq!(chart.limits.baseline_points, 12);
        assert!(xmr_chart(&[1.0], &SpcOptions::default()).is_err());
    }
}
