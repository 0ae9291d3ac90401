//! The held output of a risk-stratification run: the evaluation, the
//! calibration deciles, the model's coefficients and the cohort counts by
//! practice, PCN, sub-ICB and ICB. Every count of people passes
//! [`Policy::count`] (methods.md §1: 1–7 suppressed, others rounded to 5);
//! shares are computed from the protected counts ([`Policy::rate`]), so a
//! published share reveals nothing the published counts do not.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use haven_governance::disclosure::Policy;
use haven_governance::outputs::Draft;
use haven_risk::cohort::PracticeCount;
use haven_risk::model::{EvaluationReport, LogisticModel};

use crate::AppError;

/// Writes every file of the output.
pub(super) fn write_output(
    draft: &mut Draft,
    policy: &Policy,
    report: &EvaluationReport,
    model: &LogisticModel,
    counts: &[PracticeCount],
    areas: &HashMap<String, (String, String)>,
) -> Result<(), AppError> {
    draft.put("risk_evaluation.csv", evaluation(policy, report).as_bytes())?;
    draft.put("risk_calibration.csv", calibration(policy, report).as_bytes())?;
    draft.put("risk_model.csv", coefficients(model).as_bytes())?;
    draft.put("risk_cohorts.csv", cohorts(policy, counts, areas).as_bytes())?;
    Ok(())
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.4}"))
}

/// One row per score: AUC with its interval, Brier, calibration and the
/// share of next year's admitted people (and admissions) found in each top
/// fraction; then the held-out people and events, protected.
fn evaluation(policy: &Policy, report: &EvaluationReport) -> String {
    let mut out = String::from("score,auc,auc_lower,auc_upper,brier,calibration_slope,calibration_intercept");
    for f in &report.options.fractions {
        let _ = write!(out, ",top_{}pct_events_share,top_{}pct_admissions_share", f * 100.0, f * 100.0);
    }
    out.push('\n');
    for s in &report.scores {
        let _ = write!(out, "{},{:.4},{:.4},{:.4},{:.4},{},{}", s.name, s.auc.auc, s.auc.lower, s.auc.upper, s.brier, num(s.calibration_slope), num(s.calibration_intercept));
        for c in &s.capture {
            let _ = write!(out, ",{:.4},{}", c.events_share, num(c.admissions_share));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "held_out_people,{}", policy.count(report.rows as u64));
    let _ = writeln!(out, "held_out_people_admitted,{}", policy.count(report.events as u64));
    out
}

/// Observed against expected by risk decile, per score.
fn calibration(policy: &Policy, report: &EvaluationReport) -> String {
    let mut out = String::from("score,group,people,observed,expected,min_risk,max_risk\n");
    for s in &report.scores {
        for (g, row) in s.calibration.iter().enumerate() {
            let (n, o) = (policy.count(row.count as u64), policy.count(row.observed as u64));
            let _ = writeln!(out, "{},{},{n},{o},{:.1},{:.4},{:.4}", s.name, g + 1, row.expected, row.min_risk, row.max_risk);
        }
    }
    out
}

/// The model on the original scale of each feature and per standard
/// deviation (what the ranking depends on).
fn coefficients(model: &LogisticModel) -> String {
    let (intercept, original) = model.original_scale();
    let mut out = format!("term,coefficient,coefficient_per_sd\nintercept,{intercept:.6},{:.6}\n", model.intercept);
    for ((name, b), per_sd) in model.columns.iter().zip(&original).zip(&model.coefficients) {
        let _ = writeln!(out, "{name},{b:.6},{per_sd:.6}");
    }
    out
}

/// People and people in the top-risk band per group, by practice, PCN,
/// sub-ICB and the whole ICB; higher levels are sums of the unrounded
/// practice counts, protected once.
fn cohorts(policy: &Policy, counts: &[PracticeCount], areas: &HashMap<String, (String, String)>) -> String {
    let mut levels: BTreeMap<(u8, String, String), (u64, u64)> = BTreeMap::new();
    for c in counts {
        let (pcn, sub_icb) = areas.get(&c.practice).cloned().unwrap_or_else(|| ("unknown".into(), "unknown".into()));
        for (rank, area) in [(0, c.practice.clone()), (1, pcn), (2, sub_icb), (3, "ICB".to_owned())] {
            let cell = levels.entry((rank, area, c.group.name())).or_default();
            cell.0 += c.people;
            cell.1 += c.top_risk;
        }
    }
    let mut out = String::from("level,area,group,people,top_risk,top_risk_share\n");
    for ((rank, area, group), (n, top)) in levels {
        let level = ["practice", "pcn", "sub_icb", "icb"][usize::from(rank)];
        let share = policy.rate(top, n).map_or_else(String::new, |r| format!("{r:.4}"));
        let _ = writeln!(out, "{level},{area},{group},{},{},{share}", policy.count(n), policy.count(top));
    }
    out
}

#[cfg(test)]
mod tests {
    use haven_risk::cohort::{Cohort, Group};

    use super::*;

    fn count(practice: &str, group: Group, people: u64, top_risk: u64) -> PracticeCount {
        PracticeCount { practice: practice.into(), group, people, top_risk }
    }

    #[test]
    fn cohort_counts_add_up_the_hierarchy_before_protection() {
        // Two practices in one PCN: 12 + 6 = 18 frail people, 4 + 4 = 8 in
        // the top band. Each practice's 6 and 4 are 1–7: suppressed; the
        // PCN's 18 rounds to 20 and its 8 to 10, so the share is 10/20.
        let counts = [count("A1", Group::Cohort(Cohort::Frailty), 12, 4), count("B2", Group::Cohort(Cohort::Frailty), 6, 4)];
        let areas: HashMap<String, (String, String)> = [("A1", "P1"), ("B2", "P1")].into_iter().map(|(p, n)| (p.to_owned(), (n.to_owned(), "S1".to_owned()))).collect();
        let csv = cohorts(&Policy::default(), &counts, &areas);
        assert!(csv.contains("practice,A1,cohort:frailty,10,*,\n"), "{csv}");
        assert!(csv.contains("practice,B2,cohort:frailty,*,*,\n"), "{csv}");
        assert!(csv.contains("pcn,P1,cohort:frailty,20,10,0.5000\n"), "{csv}");
        assert!(csv.contains("icb,ICB,cohort:frailty,20,10,0.5000\n"), "{csv}");
        for line in csv.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            for c in &cells[3..5] {
                assert!(*c == "*" || c.parse::<u64>().is_ok_and(|v| v == 0 || (v > 7 && v % 5 == 0)), "a published count is 0, * or a multiple of 5 above 7: {line}");
            }
        }
    }
}
