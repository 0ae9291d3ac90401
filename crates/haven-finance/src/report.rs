//! The reports that leave the CEfF, every cell through disclosure control:
//! counts of lines by Haven's count rule (`disclosure::Policy`), amounts as
//! magnitude tables (`disclosure::magnitude`: count, dominance and p% rules
//! over each cell's patients), so one patient's expensive care cannot be
//! read off a practice's budget line (issue 17 §1).
//!
//! - accuracy by provider and month: lines checked and challenged, value
//!   billed and challenged;
//! - budget by practice and month: the value of validated lines (the
//!   agreements ask for budget reporting down to practice);
//! - budget by provider, point of delivery and month;
//! - a summary a finance director reads: lines and value billed,
//!   validated and challenged, and by reason;
//! - recovery by provider and month, from the challenge log as it stands:
//!   challenged, upheld and recovered.

use std::collections::BTreeMap;
use std::fmt::Write;

use haven_governance::disclosure::magnitude::MagnitudePolicy;
use haven_governance::disclosure::Policy;

use crate::challenge::{Challenge, Status};
use crate::validate::{LineOutcome, Validation};

/// One report as CSV, with its file name.
#[derive(Clone, Debug)]
pub struct Report {
    pub name: &'static str,
    pub csv: String,
}

/// Each patient's total in a cell (a line without a patient is its own
/// contributor).
fn contributors<'a>(lines: impl Iterator<Item = (&'a LineOutcome, i64)>) -> Vec<i64> {
    let mut by: BTreeMap<Result<&crate::model::Key, usize>, i64> = BTreeMap::new();
    for (n, (l, v)) in lines.enumerate() {
        *by.entry(l.person.as_ref().ok_or(n)).or_default() += v;
    }
    by.into_values().collect()
}

fn month(l: &LineOutcome) -> String {
    l.activity_date.map(|d| d.to_string()[..7].to_owned()).unwrap_or_default()
}

fn pounds(v: Option<i64>) -> String {
    v.map_or("*".into(), |p| format!("{:.2}", p as f64 / 100.0))
}

/// Every report of a run.
pub fn reports(v: &Validation, counts: &Policy, money: &MagnitudePolicy) -> Vec<Report> {
    vec![summary(v, counts, money), accuracy(v, counts, money), budget_by_practice(v, money), budget_by_pod(v, money), nca_by_commissioner(v, counts, money)]
}

/// The whole run in a few rows: everything billed, what was validated and
/// what challenged, then each reason (a line challenged for two reasons is
/// in both rows).
pub fn summary(v: &Validation, counts: &Policy, money: &MagnitudePolicy) -> Report {
    let mut csv = String::from("measure,lines,value\n");
    let mut row = |name: &str, ls: Vec<&LineOutcome>| {
        let value = money.cell(&contributors(ls.iter().map(|l| (*l, l.billed.unwrap_or(0)))));
        let _ = writeln!(csv, "{name},{},{}", counts.count(ls.len() as u64), pounds(value.value()));
    };
    row("billed", v.lines.iter().collect());
    row("validated", v.lines.iter().filter(|l| !l.challenged()).collect());
    row("challenged", v.challenged().collect());
    for r in crate::REASONS {
        let ls: Vec<&LineOutcome> = v.lines.iter().filter(|l| l.reasons().contains(&r.reason)).collect();
        if !ls.is_empty() {
            row(&format!("challenged: {}", r.code), ls);
        }
    }
    Report { name: "iv_summary.csv", csv }
}

/// Lines and value billed and challenged, by provider and month.
pub fn accuracy(v: &Validation, counts: &Policy, money: &MagnitudePolicy) -> Report {
    let mut groups: BTreeMap<(String, String), Vec<&LineOutcome>> = BTreeMap::new();
    for l in &v.lines {
        groups.entry((l.provider.to_string(), month(l))).or_default().push(l);
    }
    let mut csv = String::from("provider,month,lines,lines_challenged,value_billed,value_challenged\n");
    for ((provider, m), ls) in &groups {
        let challenged: Vec<&LineOutcome> = ls.iter().copied().filter(|l| l.challenged()).collect();
        let billed = money.cell(&contributors(ls.iter().map(|l| (*l, l.billed.unwrap_or(0)))));
        let value_challenged = money.cell(&contributors(challenged.iter().map(|l| (*l, l.billed.unwrap_or(0)))));
        let _ = writeln!(
            csv,
            "{provider},{m},{},{},{},{}",
            counts.count(ls.len() as u64),
            counts.count(challenged.len() as u64),
            pounds(billed.value()),
            pounds(value_challenged.value())
        );
    }
    Report { name: "iv_accuracy_by_provider_month.csv", csv }
}

/// A magnitude table of validated value by `key`, in pounds.
fn budget(v: &Validation, money: &MagnitudePolicy, header: &str, key: impl Fn(&LineOutcome) -> String) -> String {
    let mut groups: BTreeMap<String, Vec<&LineOutcome>> = BTreeMap::new();
    for l in v.lines.iter().filter(|l| !l.challenged()) {
        groups.entry(key(l)).or_default().push(l);
    }
    let mut csv = format!("{header},value_validated\n");
    for (k, ls) in &groups {
        let cell = money.cell(&contributors(ls.iter().map(|l| (*l, l.billed.unwrap_or(0)))));
        let _ = writeln!(csv, "{k},{}", pounds(cell.value()));
    }
    csv
}

/// Validated value by registered practice and month.
pub fn budget_by_practice(v: &Validation, money: &MagnitudePolicy) -> Report {
    Report { name: "iv_budget_by_practice_month.csv", csv: budget(v, money, "practice,month", |l| format!("{},{}", l.practice, month(l))) }
}

/// Non-contracted activity by the commissioner Who Pays? makes responsible
/// (datasets.md §6.2): lines and value billed, and of them challenged —
/// what the ICB was billed for other commissioners' patients is the NCA
/// team's recovery list. Counts by the count rule, values by the magnitude
/// rules.
pub fn nca_by_commissioner(v: &Validation, counts: &Policy, money: &MagnitudePolicy) -> Report {
    let mut groups: BTreeMap<&str, Vec<&LineOutcome>> = BTreeMap::new();
    for l in v.lines.iter().filter(|l| l.nca) {
        groups.entry(l.commissioner.as_str()).or_default().push(l);
    }
    let mut csv = String::from("commissioner,lines,value,lines_challenged,value_challenged\n");
    for (who, ls) in &groups {
        let challenged: Vec<&LineOutcome> = ls.iter().copied().filter(|l| l.challenged()).collect();
        let value = |ls: &[&LineOutcome]| pounds(money.cell(&contributors(ls.iter().map(|l| (*l, l.billed.unwrap_or(0))))).value());
        let _ = writeln!(csv, "{who},{},{},{},{}", counts.count(ls.len() as u64), value(ls), counts.count(challenged.len() as u64), value(&challenged));
    }
    Report { name: "iv_nca_by_commissioner.csv", csv }
}

/// What became of the challenges, by provider and activity month, from the
/// challenge log as it stands: challenges raised and their value, those
/// upheld (accepted, upheld after dispute, or resolved with money
/// recovered) and their value, and the value recovered. The log holds no
/// patient, so each challenge is its own contributor to a money cell: the
/// magnitude rules then keep one large line from being read off a cell.
pub fn recovery(log: &[Challenge], counts: &Policy, money: &MagnitudePolicy) -> Report {
    let mut groups: BTreeMap<(&str, &str), Vec<&Challenge>> = BTreeMap::new();
    for c in log.iter().filter(|c| c.status != Status::Superseded) {
        groups.entry((c.provider.as_str(), c.month.as_str())).or_default().push(c);
    }
    let mut csv = String::from("provider,month,challenges,value_challenged,upheld,value_upheld,value_recovered\n");
    let value = |v: Vec<i64>| pounds(money.cell(&v).value());
    for ((provider, m), cs) in &groups {
        let upheld: Vec<&Challenge> = cs.iter().copied().filter(|c| c.upheld()).collect();
        let _ = writeln!(
            csv,
            "{provider},{m},{},{},{},{},{}",
            counts.count(cs.len() as u64),
            value(cs.iter().map(|c| c.amount.max(0)).collect()),
            counts.count(upheld.len() as u64),
            value(upheld.iter().map(|c| c.amount.max(0)).collect()),
            value(cs.iter().filter_map(|c| c.recovered).collect()),
        );
    }
    Report { name: "iv_recovery_by_provider_month.csv", csv }
}

/// Validated value by provider, point of delivery and month.
pub fn budget_by_pod(v: &Validation, money: &MagnitudePolicy) -> Report {
    Report { name: "iv_budget_by_provider_pod_month.csv", csv: budget(v, money, "provider,pod,month", |l| format!("{},{},{}", l.provider, l.pod, month(l))) }
}

#[cfg(test)]
mod tests {
    use haven_model::Date;

    use super::*;
    use crate::matching::MatchedBy;

    fn line(person: &str, practice: &str, amount: i64, challenged: bool) -> LineOutcome {
        LineOutcome {
            invoice_id: "I".into(),
            invoice_number: "N".into(),
            line_no: 1,
            provider: "RX1".into(),
            setting: "APC",
            pod: "EL".into(),
            activity_date: Some(Date::parse("2024-05-03").unwrap()),
            person: Some(person.into()),
            practice: practice.into(),
            nca: false,
            commissioner: "QMJ".into(),
            matched_by: MatchedBy::RecordKey,
            sus_key: None,
            billed: Some(amount),
            expected: Some(amount),
            findings: if challenged { vec![crate::check::Finding::new(crate::Reason::Duplicate, "")] } else { vec![] },
        }
    }

    #[test]
    fn a_practice_line_dominated_by_one_patient_is_withheld() {
        // P1: ten patients at £100 (validated) → £1,000.00 published.
        // P2: nine patients at £100 and one at £50,000 → the two largest are
        // 5,010,000 of 5,090,000p (98.4%): withheld.
        let mut lines: Vec<LineOutcome> = (0..10).map(|i| line(&format!("a{i}"), "P1", 10_000, false)).collect();
        lines.extend((0..9).map(|i| line(&format!("b{i}"), "P2", 10_000, false)));
        lines.push(line("big", "P2", 5_000_000, false));
        let v = Validation { lines, invoices: vec![] };
        let r = budget_by_practice(&v, &MagnitudePolicy::default());
        assert_eq!(r.csv, "practice,month,value_validated\nP1,2024-05,1000.00\nP2,2024-05,*\n");
    }

    #[test]
    fn the_summary_counts_each_reason_and_protects_each_figure() {
        // Ten patients' lines of £100, three of them duplicates: billed 10
        // lines (10) and £1,000.00; validated 7 lines (*: 1-7 withheld) and
        // £700 over 7 patients (withheld by the count rule); challenged 3
        // (*) and withheld.
        let lines: Vec<LineOutcome> = (0..10).map(|i| line(&format!("p{i}"), "P1", 10_000, i < 3)).collect();
        let v = Validation { lines, invoices: vec![] };
        let r = summary(&v, &Policy::default(), &MagnitudePolicy::default());
        assert_eq!(r.csv, "measure,lines,value\nbilled,10,1000.00\nvalidated,*,*\nchallenged,*,*\nchallenged: DUPLICATE,*,*\n");
    }

    #[test]
    fn one_patients_many_lines_are_one_contributor() {
        // Twenty lines of £10, all one patient: one contributor, withheld;
        // counts of lines (20) round to 20 under the count rule.
        let lines: Vec<LineOutcome> = (0..20).map(|_| line("same", "P1", 1_000, true)).collect();
        let v = Validation { lines, invoices: vec![] };
        let r = accuracy(&v, &Policy::default(), &MagnitudePolicy::default());
        assert_eq!(r.csv, "provider,month,lines,lines_challenged,value_billed,value_challenged\nRX1,2024-05,20,20,*,*\n");
    }

    #[test]
    fn nca_lines_are_reported_by_their_responsible_commissioner() {
        // Twelve NCA lines of £100 for QMJ's patients, two challenged; ten
        // NCA lines for QKK's patients, all challenged (another ICB pays);
        // five contracted lines, not in the report.
        // QKK: 10 lines → 10, £1,000.00 over ten patients → 1000.00; all
        //   ten challenged → 10, 1000.00.
        // QMJ: 12 lines → 10 (nearest 5), £1,200.00; 2 challenged → *
        //   (1–7), and £200 over two patients → * (fewer than 8).
        let mut lines = Vec::new();
        for i in 0..12 {
            lines.push(LineOutcome { nca: true, ..line(&format!("q{i}"), "P1", 10_000, i < 2) });
        }
        for i in 0..10 {
            lines.push(LineOutcome { nca: true, commissioner: "QKK".into(), ..line(&format!("k{i}"), "P9", 10_000, true) });
        }
        lines.extend((0..5).map(|i| line(&format!("c{i}"), "P1", 10_000, false)));
        let v = Validation { lines, invoices: vec![] };
        let r = nca_by_commissioner(&v, &Policy::default(), &MagnitudePolicy::default());
        assert_eq!(r.csv, "commissioner,lines,value,lines_challenged,value_challenged\nQKK,10,1000.00,10,1000.00\nQMJ,10,1200.00,*,*\n");
    }
}
