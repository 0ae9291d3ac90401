//! Reading risk stratification's inputs from a zone session (issue 18
//! §1–§3): per person registered at the index date, their demographics,
//! a base year of hospital use, the hospital diagnoses of a look-back, GP
//! codes and medicines, and the outcome (emergency admissions in the
//! following year).
//!
//! The session is one a risk-stratification grant opened: the
//! pseudonymised zone (`apc_episode`, `op_attendance`, `ecds_attendance`,
//! `gp_patient`, `gp_registration`, `gp_event`, `gp_medication`, each with
//! `TOKEN_PERSON_ID`) and the reference zone (`lsoa_lookup`). The GP extract
//! and the APC episodes are required ([`RiskError::Missing`] otherwise:
//! a grant whose agreement does not link SUS+ with the GP extract for this
//! purpose cannot stratify); outpatients, ECDS, GP events and medications
//! and the LSOA lookup are read when open and listed in
//! [`Inputs::not_opened`] when not.
//!
//! Windows (all relative to [`RiskOptions::index_date`], I):
//!
//! | what | window | rule |
//! | --- | --- | --- |
//! | population | registered on I | `gp_registration` REG_START ≤ I and (REG_END null or ≥ I), the store's own test of a current registration; not dead before I (`gp_patient` DATE_OF_DEATH) |
//! | base-year use | admission, arrival or appointment in [I − `base_days`, I) | spells by `haven_model::rules::spell_key`, admission groups by `rules::{is_emergency, is_elective, is_maternity, is_birth}`, OP by `rules::{op_attended, op_dna}` |
//! | bed days | days of stay inside [I − `base_days`, I) | an open spell counts to I |
//! | diagnoses | spells discharged in [I − `lookback_days`, I) | all 20 positions of every episode (riskscores.md §1's suggested HFRS look-back; the same codes feed Charlson and Elixhauser) |
//! | GP codes (eFI, conditions) | recorded on or before I | eFI deficits are "ever recorded" (riskscores.md §4); GP-coded conditions likewise ([`crate::gp_conditions`]) |
//! | medicines | issued in the `medicine_months` calendar months ending on I | [`crate::window::in_months_ending`], as [`crate::polypharmacy`] |
//! | outcome | emergency spells admitted in [I, I + `outcome_days`) | outcome = count ≥ 1; a death in the window does not censor it |
//!
//! Memory (issue 18 §7: 1.5 M people under 4 GiB): a person is a fixed
//! record of counts plus three short sorted lists: diagnoses packed into a
//! `u32` each ([`Diagnosis`]), eFI deficits as a 64-bit set
//! ([`DeficitSet`]), GP-coded conditions as a 32-bit set
//! ([`GpConditionSet`]), and medicines as (substance number, last issue) —
//! the last issue before I is all any window ending on I needs. Codes are
//! reduced to these while streaming; no code text is kept per person.
//!
//! Determinism: every per-person value is a count, a least or greatest
//! value, or a sorted set, and every numbering (practices, medicines) is
//! renumbered in sorted order, so the result does not depend on the order
//! in which the engine returns batches; people are sorted by pseudonym.

mod hospital;
mod population;
mod primary_care;
mod source;
pub mod timeline;

use std::collections::BTreeSet;

use haven_model::rules::normalise_code;
use haven_model::Date;
use haven_store::{Zone, ZoneSession};
use serde::{Deserialize, Serialize};

use crate::efi::{Deficit, DeficitCodeMap};
use crate::error::{Result, RiskError};
use crate::gp_conditions::{ConditionCodeMap, GpConditionSet};

/// The operator's code maps for the GP record: GP code → eFI deficit and
/// GP code → long-term condition. Without a map, what it maps is not read
/// (empty sets, and [`Inputs::efi_read`] or [`Inputs::gp_conditions_read`]
/// false).
#[derive(Clone, Copy, Debug, Default)]
pub struct CodeMaps<'a> {
    pub efi: Option<&'a DeficitCodeMap>,
    pub conditions: Option<&'a ConditionCodeMap>,
}

/// The index date and the windows around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskOptions {
    /// I: the population is those registered on this day; history is
    /// before it, the outcome from it.
    pub index_date: Date,
    /// Diagnoses of spells discharged this many days before I (730,
    /// riskscores.md §1).
    pub lookback_days: i32,
    /// The base year of hospital use before I (365).
    pub base_days: i32,
    /// The outcome window from I (365: issue 18 §2, "the following 12
    /// months").
    pub outcome_days: i32,
    /// Calendar months of medicine issues read, ending on I (12: the
    /// longest window of [`crate::polypharmacy`]'s definitions, the eFI's).
    pub medicine_months: u32,
}

impl RiskOptions {
    /// The defaults around `index_date`.
    pub fn new(index_date: Date) -> Self {
        RiskOptions { index_date, lookback_days: 730, base_days: 365, outcome_days: 365, medicine_months: 12 }
    }
}

/// Sex as the GP extract codes it (`1` male, `2` female, anything else
/// unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    #[default]
    Unknown,
}

impl Sex {
    pub fn from_code(code: &str) -> Sex {
        match code {
            "1" => Sex::Male,
            "2" => Sex::Female,
            _ => Sex::Unknown,
        }
    }
}

/// An ICD-10 code in the HES normal form of `haven_model::rules::normalise_code`
/// (upper case, no dot, at most four characters), packed big-endian into
/// a `u32` so that numeric order is the codes' order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Diagnosis(u32);

impl Diagnosis {
    /// The code of one diagnosis position, or `None` for an empty or `-`
    /// position.
    pub fn from_code(text: &str) -> Option<Diagnosis> {
        let code = normalise_code(text);
        (!code.is_empty()).then(|| {
            let mut bytes = [0u8; 4];
            bytes[..code.as_str().len()].copy_from_slice(code.as_str().as_bytes());
            Diagnosis(u32::from_be_bytes(bytes))
        })
    }

    /// The normalised code's bytes and length.
    pub fn bytes(self) -> ([u8; 4], usize) {
        let bytes = self.0.to_be_bytes();
        (bytes, bytes.iter().take_while(|b| **b != 0).count())
    }

    /// The normalised code as text.
    pub fn code(self) -> String {
        let (bytes, len) = self.bytes();
        String::from_utf8_lossy(&bytes[..len]).into_owned()
    }
}

/// A set of eFI deficits in one word (bit n for deficit n).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeficitSet(u64);

impl DeficitSet {
    pub fn insert(&mut self, deficit: Deficit) {
        self.0 |= 1 << deficit.number();
    }

    pub fn contains(self, deficit: Deficit) -> bool {
        self.0 & (1 << deficit.number()) != 0
    }

    pub fn union(self, other: DeficitSet) -> DeficitSet {
        DeficitSet(self.0 | other.0)
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The deficits, as [`crate::efi`] takes them.
    pub fn to_set(self) -> BTreeSet<Deficit> {
        Deficit::all().filter(|d| self.contains(*d)).collect()
    }
}

impl FromIterator<Deficit> for DeficitSet {
    fn from_iter<T: IntoIterator<Item = Deficit>>(iter: T) -> Self {
        let mut set = DeficitSet::default();
        iter.into_iter().for_each(|d| set.insert(d));
        set
    }
}

/// Hospital use in the base year [I − `base_days`, I). Counts saturate at
/// `u16::MAX`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorUse {
    /// Emergency spells (`rules::is_emergency` on the admitting episode's
    /// ADMIMETH) admitted in the base year.
    pub emergency_admissions: u16,
    /// An emergency spell admitted in the 30 days before I (PARR-30's
    /// term, riskscores.md §5).
    pub emergency_last_30_days: bool,
    /// Days in hospital inside the base year, over every spell.
    pub bed_days: u16,
    /// Elective spells (`rules::is_elective`) admitted in the base year,
    /// regular day and night attenders (`rules::is_regular_attender`,
    /// dialysis or chemotherapy sessions) left out.
    pub elective_admissions: u16,
    /// Maternity or birth spells (`rules::is_maternity`, `is_birth`).
    pub maternity_admissions: u16,
    /// ECDS attendances (every department type).
    pub ae_attendances: u16,
    /// Outpatient appointments attended (`rules::op_attended`).
    pub op_attendances: u16,
    /// Outpatient appointments not attended (`rules::op_dna`).
    pub op_dnas: u16,
}

/// A medicine issued in the window: the substance (an index into
/// [`Inputs::medicines`]) and its last issue on or before I.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issue {
    pub medicine: u32,
    pub last_issued: Date,
}

/// One person's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonInputs {
    /// `TOKEN_PERSON_ID` of the pseudonymised zone.
    pub pseudonym: Box<str>,
    /// The practice registered with on I: an index into [`Inputs::practices`].
    pub practice: u32,
    /// Whole years on I, taking a 1 July birthday (the GP extract holds the
    /// year of birth only); `None` when unknown.
    pub age: Option<u8>,
    pub sex: Sex,
    /// IMD decile of the patient's LSOA (1 = most deprived), from
    /// `reference.lsoa_lookup`.
    pub imd_decile: Option<u8>,
    /// Date of death from the GP extract, on or after I (earlier deaths are
    /// not in the population).
    pub death: Option<Date>,
    pub prior: PriorUse,
    /// Emergency spells admitted in [I, I + `outcome_days`).
    pub outcome_admissions: u16,
    /// Distinct ICD-10 codes of the look-back's spells, ascending.
    pub diagnoses: Box<[Diagnosis]>,
    /// eFI deficits from GP codes (empty when no code map was given).
    pub deficits: DeficitSet,
    /// Long-term conditions from GP codes (empty when no condition map was
    /// given).
    pub gp_conditions: GpConditionSet,
    /// Medicines issued in the window, by substance, ascending.
    pub medicines: Box<[Issue]>,
}

impl PersonInputs {
    /// One or more emergency admissions in the outcome window (issue 18 §2).
    pub fn outcome(&self) -> bool {
        self.outcome_admissions > 0
    }
}

/// Everyone's inputs, sorted by pseudonym.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inputs {
    pub options: RiskOptions,
    pub people: Vec<PersonInputs>,
    /// Practice codes, sorted.
    pub practices: Vec<String>,
    /// BNF chemical substances (a code's first nine characters), sorted.
    pub medicines: Vec<String>,
    /// Whether eFI deficits were read (a code map was given and
    /// `gp_event` was open).
    pub efi_read: bool,
    /// Whether GP-coded conditions were read (a condition map was given
    /// and `gp_event` was open).
    pub gp_conditions_read: bool,
    /// Optional datasets the session did not open (`zone.dataset`).
    pub not_opened: Vec<String>,
}

impl Inputs {
    /// The practice code of a person.
    pub fn practice_of(&self, person: &PersonInputs) -> &str {
        &self.practices[person.practice as usize]
    }

    /// The BNF substance of an issue.
    pub fn medicine(&self, issue: &Issue) -> &str {
        &self.medicines[issue.medicine as usize]
    }
}

/// Reads everyone's inputs (module docs). `maps` turn GP codes into eFI
/// deficits and long-term conditions; with neither no GP event is read
/// and every [`DeficitSet`] and [`GpConditionSet`] is empty.
pub fn inputs(zs: &ZoneSession, options: &RiskOptions, maps: &CodeMaps<'_>) -> Result<Inputs> {
    let mut not_opened = Vec::new();
    let mut optional = |zone: Zone, dataset: &str| {
        let open = source::is_open(zs, zone, dataset);
        if !open {
            not_opened.push(format!("{}.{dataset}", zone.name()));
        }
        open
    };
    let lsoa = optional(Zone::Reference, "lsoa_lookup");
    let (op, ecds) = (optional(Zone::Pseudonymised, "op_attendance"), optional(Zone::Pseudonymised, "ecds_attendance"));
    let (events, medication) = (optional(Zone::Pseudonymised, "gp_event"), optional(Zone::Pseudonymised, "gp_medication"));
    if !source::is_open(zs, Zone::Pseudonymised, "apc_episode") {
        return Err(RiskError::Missing("pseudonymised.apc_episode".into()));
    }
    let population = population::read(zs, options, lsoa)?;
    let people = population.keys.len();
    let mut index = source::PersonIndex::new(&population.keys);
    let hospital = hospital::read(zs, options, &mut index, op, ecds, people)?;
    let coded = if events && (maps.efi.is_some() || maps.conditions.is_some()) { primary_care::coded(zs, options, &mut index, maps, people)? } else { vec![primary_care::Coded::default(); people] };
    let (deficits, conditions) = coded.into_iter().map(|c| (c.deficits, c.conditions)).unzip();
    let (medicines, issues) = if medication { primary_care::medicines(zs, options, &mut index, people)? } else { (Vec::new(), vec![Vec::new(); people]) };
    drop(index);
    let gp = population::Gp { deficits, conditions, medicines, issues, efi_read: maps.efi.is_some() && events, gp_conditions_read: maps.conditions.is_some() && events };
    Ok(population.assemble(*options, hospital, gp, not_opened))
}
