//! How well a run finds the deliberate errors the synthetic generator
//! recorded (`ground_truth/invoice_errors.psv`: INVOICE_NUMBER|LINE_NO|
//! ERROR_KIND): precision and recall of challenges, overall and per error
//! kind, and the reasons given on lines the truth calls clean.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::reason::Reason;
use crate::validate::Validation;

/// The deliberate errors, by (invoice number, line number).
#[derive(Clone, Debug, Default)]
pub struct Truth {
    errors: HashMap<(String, i64), String>,
}

impl Truth {
    /// Reads the ground-truth file; rows that are not `number|line|kind`
    /// are skipped (the header among them).
    pub fn parse(text: &str) -> Truth {
        let errors = text
            .lines()
            .filter_map(|row| {
                let mut f = row.split('|');
                let (number, line, kind) = (f.next()?, f.next()?.trim().parse().ok()?, f.next()?);
                Some(((number.to_owned(), line), kind.trim().to_owned()))
            })
            .collect();
        Truth { errors }
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Whether `reasons` name an error kind of the generator. Another
/// commissioner's patient is named either way Who Pays? answers: another
/// ICB, or NHS England (an armed-forces practice, say).
pub fn names(kind: &str, reasons: &[Reason]) -> bool {
    match kind {
        "NOT_RESPONSIBLE_COMMISSIONER" | "NCA_WRONG_COMMISSIONER" => {
            reasons.contains(&Reason::NotResponsibleCommissioner) || reasons.contains(&Reason::NhseCommissioned)
        }
        _ => reason_for(kind).is_some_and(|r| reasons.contains(&r)),
    }
}

/// The reason that detects an error kind of the generator.
pub fn reason_for(kind: &str) -> Option<Reason> {
    Some(match kind {
        "NOT_RESPONSIBLE_COMMISSIONER" | "NCA_WRONG_COMMISSIONER" => Reason::NotResponsibleCommissioner,
        "DUPLICATE" => Reason::Duplicate,
        "PRICE_ABOVE_TARIFF" => Reason::PriceDifference,
        "NO_SUS_RECORD" => Reason::NoSusRecord,
        "ACTIVITY_AFTER_DEATH" => Reason::ActivityAfterDeath,
        "INSIDE_SPELL" => Reason::InsideSpell,
        "NO_PRIOR_APPROVAL" => Reason::NoPriorApproval,
        "EBI_NO_PRIOR_APPROVAL" => Reason::EbiNoPriorApproval,
        _ => return None,
    })
}

/// One error kind's detection.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KindScore {
    pub kind: String,
    pub lines: u64,
    /// Challenged for any reason.
    pub challenged: u64,
    /// Challenged with the reason that names this kind.
    pub with_reason: u64,
}

/// Precision and recall of a run against the truth.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Quality {
    pub lines: u64,
    pub challenged: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub precision: f64,
    pub recall: f64,
    pub kinds: Vec<KindScore>,
    /// Reasons given on lines the truth calls clean, with counts.
    pub false_positive_reasons: BTreeMap<String, u64>,
}

/// Scores `v` against `truth`, over the lines `v` reports.
pub fn evaluate(v: &Validation, truth: &Truth) -> Quality {
    let mut q = Quality::default();
    let mut kinds: BTreeMap<&str, KindScore> = BTreeMap::new();
    for l in &v.lines {
        q.lines += 1;
        let kind = truth.errors.get(&(l.invoice_number.to_string(), l.line_no)).map(String::as_str);
        let challenged = l.challenged();
        q.challenged += u64::from(challenged);
        match (kind, challenged) {
            (Some(_), true) => q.true_positives += 1,
            (Some(_), false) => q.false_negatives += 1,
            (None, true) => {
                q.false_positives += 1;
                for r in l.reasons() {
                    *q.false_positive_reasons.entry(r.code().to_owned()).or_default() += 1;
                }
            }
            (None, false) => {}
        }
        if let Some(kind) = kind {
            let k = kinds.entry(kind).or_insert_with(|| KindScore { kind: kind.to_owned(), ..KindScore::default() });
            k.lines += 1;
            k.challenged += u64::from(challenged);
            k.with_reason += u64::from(names(kind, &l.reasons()));
        }
    }
    q.precision = ratio(q.true_positives, q.true_positives + q.false_positives);
    q.recall = ratio(q.true_positives, q.true_positives + q.false_negatives);
    q.kinds = kinds.into_values().collect();
    q
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}
