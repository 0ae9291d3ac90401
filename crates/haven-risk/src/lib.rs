//! `haven-risk`: the published risk-stratification scores, per patient,
//! each exactly as published, with its source cited beside the code
//! (issue 18 §1; sources gathered in `shared/reference/riskscores.md`).
//!
//! | module | score | source |
//! | --- | --- | --- |
//! | [`hfrs`] | Hospital Frailty Risk Score, bands | Gilbert 2018, riskscores.md §1 |
//! | [`charlson`] | Charlson index (1987 / Quan 2011), age points | Quan 2005, Charlson 1987 and 1994, Quan 2011; riskscores.md §2 |
//! | [`elixhauser`] | Elixhauser conditions, van Walraven score | Quan 2005, van Walraven 2009; riskscores.md §3 |
//! | [`efi`] | electronic Frailty Index, categories | Clegg 2016; riskscores.md §4 |
//! | [`polypharmacy`] | distinct medicines against the NHS thresholds | PCN DES, NHSBSA comparators, Clegg 2016; riskscores.md §4, §6 |
//! | [`multimorbidity`] | count of long-term conditions | Haven's definition over the flags above |
//! | [`lace`] | LACE index | van Walraven 2010; riskscores.md §5 |
//!
//! [`gp_conditions`] reads long-term conditions from GP codes through the
//! operator's code map (the QOF registers), a model feature.
//!
//! [`model`] is the emergency-admission risk model of issue 18 §2: a
//! feature matrix, a seeded split by person, ridge logistic regression on
//! the training rows (λ chosen on a validation split of them) (`haven_stats::fit_logistic_dense`) and a held-out
//! evaluation report for the model and any comparison scores (metrics from
//! `haven_stats::classification`).
//!
//! The data path (issue 18 §1–§3): [`read::inputs`] reads each registered
//! person's demographics, hospital use, diagnoses, GP codes, medicines and
//! outcome from a zone session opened under a risk-stratification grant;
//! [`person::score`] computes every score per person and
//! [`person::features`] the model's matrix; [`cohort`] puts people in
//! cohorts and segments and counts them by practice.
//!
//! ```text
//! let maps = CodeMaps { efi: efi_map.as_ref(), conditions: condition_map.as_ref() };
//! let inputs = haven_risk::read::inputs(&zone_session, &RiskOptions::new(index), &maps)?;
//! let people = haven_risk::person::score(&inputs);
//! let features = haven_risk::person::features(&people)?;
//! let top = haven_risk::cohort::top_risk(&risks, 0.05);
//! let counts = haven_risk::cohort::counts_by_practice(&people, &top, &inputs.practices, &CohortOptions::default());
//! ```
//!
//! Every score function is pure and takes plain inputs (codes as text, dates,
//! sets of deficits): which spells, records and windows feed a score is the
//! caller's choice, made where the data are read. A code that is malformed
//! or unknown matches nothing; only operator configuration (the eFI and GP
//! condition code maps), reading a zone session and the model's inputs can fail, with [`RiskError`]. ICD-10 codes are normalised by
//! `haven_model::rules::normalise_code`, and the Charlson table and hierarchy are
//! `haven_model::rules::comorbidity`'s: a rule lives in one place.

pub mod charlson;
mod codemap;
pub mod cohort;
pub mod efi;
pub mod elixhauser;
pub mod error;
pub mod gp_conditions;
pub mod hfrs;
pub mod lace;
pub mod model;
pub mod multimorbidity;
pub mod person;
pub mod polypharmacy;
pub mod read;
pub mod window;

#[cfg(test)]
mod reference;

pub use charlson::{charlson_age_combined, charlson_age_points, charlson_conditions, charlson_index, CharlsonWeights};
pub use efi::{efi, efi_deficits, Deficit, DeficitCodeMap, Efi, EfiCategory};
pub use elixhauser::{elixhauser_conditions, elixhauser_van_walraven};
pub use error::{CodeMapKind, FeatureFault, MapLineFault, RiskError};
pub use gp_conditions::{ConditionCodeMap, GpCondition, GpConditionSet};
pub use hfrs::{hfrs, hfrs_of_codes, CodedSpell, Hfrs, HfrsBand, HfrsOptions, PriorSpells};
pub use lace::{lace, Lace, LaceInput, LaceOptions};
pub use multimorbidity::{long_term_conditions, multimorbidity_count, LongTermCondition};
pub use read::{inputs, CodeMaps, Inputs, PersonInputs, RiskOptions};
pub use polypharmacy::{distinct_medicines, efi_polypharmacy, is_polypharmacy, PolypharmacyDefinition, Prescription};
