//! Cohorts and a population segmentation (issue 18 §3), and plain counts
//! of people and of those in the top-risk band by practice. Counts are raw:
//! the caller puts them through `haven_governance::disclosure` before
//! anything leaves Haven.
//!
//! **Cohorts** ([`Cohort`]; thresholds in [`CohortOptions`]), from the
//! scores of [`crate::person`]:
//!
//! * frailty — eFI moderate or severe (riskscores.md §4) or HFRS of 5
//!   points or more, i.e. intermediate or high (riskscores.md §1);
//! * chronic pulmonary disease — Haven's long-term condition
//!   ([`LongTermCondition::ChronicPulmonaryDisease`]: Charlson `copd`,
//!   Elixhauser `cpd` or the eFI respiratory-disease deficit). The issue
//!   asks for COPD; these sources do not separate COPD from asthma
//!   (Quan 2005's chronic pulmonary disease is J40–J47 and more), so the
//!   cohort is wider than COPD;
//! * diabetes and heart failure — the long-term conditions of the same
//!   names (hospital codes through Charlson and Elixhauser, GP codes
//!   through the eFI deficits);
//! * elderly — aged 75 or more;
//! * polypharmacy — 10 or more medicines (PCN DES, riskscores.md §6);
//! * frequent attenders — 3 or more emergency admissions in the base year
//!   (the definition).
//!
//! **Segments** ([`Segment`]): one per person, in the spirit of Bridges to
//! Health (Lynn J et al., *Milbank Q* 2007;85(2):185–208), whose eight
//! segments need information a commissioning extract does not hold
//! (function, prognosis). This is an approximation, assigned in this order:
//!
//! 1. end of life — metastatic solid tumour coded in the look-back (Bridges
//!    to Health's "short period of decline before dying"; no palliative
//!    care register is read, and deaths in the outcome year are not used,
//!    since they are the future);
//! 2. frailty — the frailty cohort, or dementia (Bridges to Health's "long
//!    period of decline");
//! 3. maternal and infant — under one year old, or a maternity or birth
//!    admission in the base year;
//! 4. two or more long-term conditions (Bridges to Health's "chronic
//!    conditions" and "limited reserve", not told apart);
//! 5. one long-term condition;
//! 6. healthy and well — none of the above (Bridges to Health's "acutely
//!    ill, curable" people are in here: an acute episode alone does not
//!    place anyone).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::efi::EfiCategory;
use crate::hfrs::INTERMEDIATE_FROM_TENTHS;
use crate::multimorbidity::LongTermCondition;
use crate::person::Person;

/// The cohorts' thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortOptions {
    /// Age from which a person is in the elderly cohort (75).
    pub elderly_from_age: u8,
    /// Medicines from which a person has polypharmacy (10, PCN DES).
    pub polypharmacy_from: u32,
    /// Base-year emergency admissions from which a person is a frequent
    /// attender (3).
    pub frequent_attender_from: u16,
    /// HFRS in tenths from which a person is frail (50: intermediate).
    pub frail_hfrs_from_tenths: u32,
}

impl Default for CohortOptions {
    fn default() -> Self {
        CohortOptions { elderly_from_age: 75, polypharmacy_from: 10, frequent_attender_from: 3, frail_hfrs_from_tenths: INTERMEDIATE_FROM_TENTHS }
    }
}

/// A cohort of issue 18 §3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cohort {
    Frailty,
    ChronicPulmonaryDisease,
    Diabetes,
    HeartFailure,
    Elderly,
    Polypharmacy,
    FrequentAttender,
}

impl Cohort {
    pub const ALL: [Cohort; 7] = [Cohort::Frailty, Cohort::ChronicPulmonaryDisease, Cohort::Diabetes, Cohort::HeartFailure, Cohort::Elderly, Cohort::Polypharmacy, Cohort::FrequentAttender];

    pub fn name(self) -> &'static str {
        match self {
            Cohort::Frailty => "frailty",
            Cohort::ChronicPulmonaryDisease => "chronic_pulmonary_disease",
            Cohort::Diabetes => "diabetes",
            Cohort::HeartFailure => "heart_failure",
            Cohort::Elderly => "elderly",
            Cohort::Polypharmacy => "polypharmacy",
            Cohort::FrequentAttender => "frequent_attender",
        }
    }

    /// Is `p` in this cohort?
    pub fn contains(self, p: &Person, options: &CohortOptions) -> bool {
        match self {
            Cohort::Frailty => p.efi.is_some_and(|e| e.category() >= EfiCategory::Moderate) || p.hfrs_tenths >= options.frail_hfrs_from_tenths,
            Cohort::ChronicPulmonaryDisease => p.conditions.contains(LongTermCondition::ChronicPulmonaryDisease),
            Cohort::Diabetes => p.conditions.contains(LongTermCondition::Diabetes),
            Cohort::HeartFailure => p.conditions.contains(LongTermCondition::HeartFailure),
            Cohort::Elderly => p.age.is_some_and(|a| a >= options.elderly_from_age),
            Cohort::Polypharmacy => p.medicines >= options.polypharmacy_from,
            Cohort::FrequentAttender => p.prior.emergency_admissions >= options.frequent_attender_from,
        }
    }
}

/// The cohorts `p` is in, in [`Cohort::ALL`] order.
pub fn cohorts(p: &Person, options: &CohortOptions) -> Vec<Cohort> {
    Cohort::ALL.into_iter().filter(|c| c.contains(p, options)).collect()
}

/// A segment of the Bridges-to-Health-style segmentation (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    HealthyWell,
    MaternalAndInfant,
    OneLongTermCondition,
    TwoOrMoreLongTermConditions,
    Frailty,
    EndOfLife,
}

impl Segment {
    pub const ALL: [Segment; 6] = [Segment::HealthyWell, Segment::MaternalAndInfant, Segment::OneLongTermCondition, Segment::TwoOrMoreLongTermConditions, Segment::Frailty, Segment::EndOfLife];

    pub fn name(self) -> &'static str {
        match self {
            Segment::HealthyWell => "healthy_well",
            Segment::MaternalAndInfant => "maternal_and_infant",
            Segment::OneLongTermCondition => "one_long_term_condition",
            Segment::TwoOrMoreLongTermConditions => "two_or_more_long_term_conditions",
            Segment::Frailty => "frailty",
            Segment::EndOfLife => "end_of_life",
        }
    }
}

/// The one segment of `p` (the first that applies, in the module docs' order).
pub fn segment(p: &Person, options: &CohortOptions) -> Segment {
    if p.metastatic_cancer {
        Segment::EndOfLife
    } else if Cohort::Frailty.contains(p, options) || p.conditions.contains(LongTermCondition::Dementia) {
        Segment::Frailty
    } else if p.age == Some(0) || p.prior.maternity_admissions > 0 {
        Segment::MaternalAndInfant
    } else if p.multimorbidity() >= 2 {
        Segment::TwoOrMoreLongTermConditions
    } else if p.multimorbidity() == 1 {
        Segment::OneLongTermCondition
    } else {
        Segment::HealthyWell
    }
}

/// A group counted by practice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Group {
    /// Everyone registered.
    All,
    Cohort(Cohort),
    Segment(Segment),
}

impl Group {
    /// Every group, in output order.
    pub fn all() -> Vec<Group> {
        std::iter::once(Group::All).chain(Cohort::ALL.map(Group::Cohort)).chain(Segment::ALL.map(Group::Segment)).collect()
    }

    /// `all`, `cohort:<name>` or `segment:<name>`.
    pub fn name(self) -> String {
        match self {
            Group::All => "all".into(),
            Group::Cohort(c) => format!("cohort:{}", c.name()),
            Group::Segment(s) => format!("segment:{}", s.name()),
        }
    }
}

/// People and people in the top-risk band of one group at one practice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeCount {
    pub practice: String,
    pub group: Group,
    pub people: u64,
    pub top_risk: u64,
}

/// Marks the `fraction` of people with the highest `risks` (the first
/// ⌈n·fraction⌉ by risk, highest first; ties broken by position, so the
/// band has exactly that many people). A risk that is not a number ranks
/// last.
pub fn top_risk(risks: &[f64], fraction: f64) -> Vec<bool> {
    let k = ((risks.len() as f64) * fraction.clamp(0.0, 1.0)).ceil() as usize;
    let mut order: Vec<usize> = (0..risks.len()).collect();
    let key = |i: usize| if risks[i].is_nan() { f64::NEG_INFINITY } else { risks[i] };
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    let mut top = vec![false; risks.len()];
    order.into_iter().take(k).for_each(|i| top[i] = true);
    top
}

/// For every practice with a registered person and every [`Group`], how
/// many people and how many of them are in the top band (`top[i]` for
/// `people[i]`), ordered by practice code then [`Group::all`]'s order.
/// `practices` is [`crate::read::Inputs::practices`]. Zero rows are kept,
/// so the table has the same shape whatever the data.
///
/// # Panics
///
/// If `top` does not have one entry per person.
pub fn counts_by_practice(people: &[Person], top: &[bool], practices: &[String], options: &CohortOptions) -> Vec<PracticeCount> {
    assert_eq!(people.len(), top.len(), "one top-risk mark per person");
    let groups = Group::all();
    let mut counts: BTreeMap<u32, Vec<(u64, u64)>> = BTreeMap::new();
    for (p, &in_top) in people.iter().zip(top) {
        let row = counts.entry(p.practice).or_insert_with(|| vec![(0, 0); groups.len()]);
        let segment = segment(p, options);
        for (g, cell) in groups.iter().zip(row.iter_mut()) {
            let member = match g {
                Group::All => true,
                Group::Cohort(c) => c.contains(p, options),
                Group::Segment(s) => *s == segment,
            };
            if member {
                cell.0 += 1;
                cell.1 += u64::from(in_top);
            }
        }
    }
    let mut out = Vec::new();
    for (practice, row) in counts {
        for (group, (n, top)) in groups.iter().zip(row) {
            out.push(PracticeCount { practice: practices[practice as usize].clone(), group: *group, people: n, top_risk: top });
        }
    }
    out
}
