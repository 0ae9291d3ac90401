//! Every score per person (issue 18 §1–§2), from what [`crate::read`]
//! read: each is the published score's own function in this crate, given
//! the person's codes as text, so no rule is computed twice.
//!
//! | field | score | source |
//! | --- | --- | --- |
//! | `hfrs_tenths` | [`crate::hfrs::hfrs_of_codes`] over the look-back's diagnoses | riskscores.md §1 |
//! | `charlson_1987`, `charlson_quan2011` | [`crate::charlson::charlson_index`] | riskscores.md §2 |
//! | `elixhauser_vw` | [`crate::elixhauser::elixhauser_van_walraven`] | riskscores.md §3 |
//! | `efi` | [`crate::efi::efi`] of the GP deficits plus the polypharmacy deficit ([`crate::polypharmacy::efi_polypharmacy`]) | riskscores.md §4 |
//! | `medicines`, `medicines_efi` | [`crate::polypharmacy::distinct_medicines`], PCN DES / NHSBSA and eFI definitions | riskscores.md §6 |
//! | `conditions` | [`crate::multimorbidity::long_term_conditions`] | Haven's list |
//! | `gp_conditions` | GP-coded conditions as read ([`crate::gp_conditions`]) | QOF registers, the operator's code map |
//! | `parr30` | [`parr30_terms`] | riskscores.md §5, partial |
//!
//! [`features`] lays them out as the model's matrix.

mod features;
mod parr30;

pub use features::{columns, features, BASELINE_COLUMNS};
pub use parr30::{parr30_terms, PARR30_NAME};

use serde::{Deserialize, Serialize};

use crate::charlson::{charlson_conditions, charlson_index, CharlsonWeights};
use crate::efi::{efi, Deficit, Efi};
use crate::elixhauser::elixhauser_van_walraven;
use crate::gp_conditions::GpConditionSet;
use crate::hfrs::{hfrs_of_codes, HfrsBand};
use crate::multimorbidity::{long_term_conditions, LongTermCondition};
use crate::polypharmacy::{distinct_medicines, efi_polypharmacy, PolypharmacyDefinition, Prescription};
use crate::read::{Inputs, PersonInputs, PriorUse, Sex};

/// A set of [`LongTermCondition`]s in one word (bit = the condition's
/// position in the enum).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conditions(u32);

impl Conditions {
    pub fn contains(self, ltc: LongTermCondition) -> bool {
        self.0 & (1 << ltc as u32) != 0
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<LongTermCondition> for Conditions {
    fn from_iter<T: IntoIterator<Item = LongTermCondition>>(iter: T) -> Self {
        Conditions(iter.into_iter().fold(0, |bits, ltc| bits | (1 << ltc as u32)))
    }
}

/// One person's scores, with what the features and cohorts need from
/// their inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// The person's row in [`Inputs::people`] (for the pseudonym).
    pub row: u32,
    /// An index into [`Inputs::practices`].
    pub practice: u32,
    pub age: Option<u8>,
    pub sex: Sex,
    pub imd_decile: Option<u8>,
    pub prior: PriorUse,
    pub outcome_admissions: u16,
    /// HFRS in tenths of a point (compare these: riskscores.md §1).
    pub hfrs_tenths: u32,
    pub charlson_1987: u32,
    pub charlson_quan2011: u32,
    pub elixhauser_vw: i32,
    /// `None` when no eFI code map was read.
    pub efi: Option<Efi>,
    /// Distinct medicines, BNF chapters 1–4 and 6–10, last 3 months (PCN
    /// DES / NHSBSA: [`PolypharmacyDefinition::ten_or_more`]).
    pub medicines: u32,
    /// Distinct medicines, BNF chapters 1–15, last 12 months (eFI).
    pub medicines_efi: u32,
    pub conditions: Conditions,
    /// Long-term conditions coded in the GP record (empty when no condition
    /// map was read).
    #[serde(default)]
    pub gp_conditions: GpConditionSet,
    /// Charlson's metastatic solid tumour in the look-back (the end-of-life
    /// approximation of [`crate::cohort::Segment::EndOfLife`]).
    pub metastatic_cancer: bool,
    /// The PARR-30-style log-odds ([`parr30_terms`]).
    pub parr30_log_odds: f64,
}

impl Person {
    pub fn hfrs_band(&self) -> HfrsBand {
        HfrsBand::from_tenths(self.hfrs_tenths)
    }

    /// Haven's multimorbidity count.
    pub fn multimorbidity(&self) -> u32 {
        self.conditions.len()
    }

    /// One or more emergency admissions in the outcome window.
    pub fn outcome(&self) -> bool {
        self.outcome_admissions > 0
    }

    /// The PARR-30-style risk, 1 / (1 + e^−z).
    pub fn parr30(&self) -> f64 {
        1.0 / (1.0 + (-self.parr30_log_odds).exp())
    }
}

/// Everyone's scores, in the order of [`Inputs::people`].
pub fn score(inputs: &Inputs) -> Vec<Person> {
    inputs.people.iter().enumerate().map(|(row, p)| score_one(inputs, row as u32, p)).collect()
}

/// The diagnoses of a person as text, as the score functions take them.
fn codes(p: &PersonInputs) -> Vec<String> {
    p.diagnoses.iter().map(|dx| dx.code()).collect()
}

fn score_one(inputs: &Inputs, row: u32, p: &PersonInputs) -> Person {
    let on = inputs.options.index_date;
    let owned = codes(p);
    let dx: Vec<&str> = owned.iter().map(String::as_str).collect();
    let prescriptions: Vec<Prescription<'_>> = p.medicines.iter().map(|i| Prescription { issued: i.last_issued, bnf_code: inputs.medicine(i) }).collect();
    let polypharmacy_deficit = efi_polypharmacy(&prescriptions, on);
    let mut deficits = p.deficits.to_set();
    if polypharmacy_deficit {
        deficits.insert(Deficit::POLYPHARMACY);
    }
    let charlson = charlson_conditions(&dx);
    Person {
        row,
        practice: p.practice,
        age: p.age,
        sex: p.sex,
        imd_decile: p.imd_decile,
        prior: p.prior,
        outcome_admissions: p.outcome_admissions,
        hfrs_tenths: hfrs_of_codes(dx.iter().copied()).tenths,
        charlson_1987: charlson_index(&dx, CharlsonWeights::Charlson1987),
        charlson_quan2011: charlson_index(&dx, CharlsonWeights::Quan2011),
        elixhauser_vw: elixhauser_van_walraven(&dx),
        efi: inputs.efi_read.then(|| efi(&deficits)),
        medicines: distinct_medicines(&prescriptions, on, &PolypharmacyDefinition::ten_or_more()),
        medicines_efi: distinct_medicines(&prescriptions, on, &PolypharmacyDefinition::efi()),
        conditions: long_term_conditions(&dx, &deficits).into_iter().collect(),
        gp_conditions: p.gp_conditions,
        metastatic_cancer: charlson.contains(&"metacanc"),
        parr30_log_odds: parr30_terms(p.age, &p.prior, &charlson),
    }
}
