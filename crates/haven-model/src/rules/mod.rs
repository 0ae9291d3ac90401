//! The derivation rules of `shared/reference/datasets.md` §11, implemented once.
//!
//! The generator uses them to make consistent data, the parsers to derive
//! platform columns, and the indicators to classify activity; a rule that
//! lives here is never re-implemented elsewhere (ARCHITECTURE.md, invariant
//! "one implementation of each derivation rule").

pub mod avoidable;
pub mod calendar;
pub mod codes;
pub mod commissioner;
pub mod comorbidity;
pub mod ebi;
pub mod orgs;
pub mod emergency_care;
pub mod pricing;
pub mod readmission;
pub mod spell;

pub use avoidable::{
    age_years, chronic_acsc, classify_admission, normalise_code, urgent_care_sensitive, ChronicAcsc, CodedAdmission, HesCode, UcsCondition,
    UcsOptions,
};
pub use codes::*;
pub use ebi::{ebi_intervention, EbiIntervention};
pub use commissioner::{responsible_commissioner, NhseReason, OrgLookup, Responsibility, ResponsibilityOrigin};
pub use orgs::{OrgRow, OrgTable};
pub use comorbidity::{charlson_conditions, charlson_index, CharlsonWeights};
pub use emergency_care::{minutes_since_arrival, FourHour};
pub use pricing::{price_apc_spell, ApcPrice, SpellForPricing, SsemAgeRule, TariffRow};
pub use readmission::{is_cancer_or_chemotherapy, readmitted, CipSpell, ReadmissionOptions, ReadmissionReading, CANCER_OR_CHEMOTHERAPY};
pub use spell::{
    continues, continuous_inpatient_spells, derive_spells, spell_key, spell_key_into, Episode, Spell, SpellKeyFields, SpellKeyRule, SpellLinkFields,
    TRANSFER_IN_SOURCE, TRANSFER_OUT_DEST,
};
