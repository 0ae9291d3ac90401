//! `haven-model`: the canonical data model every other Haven crate reads.
//!
//! * [`schema`] — Arrow schemas for every canonical table of
//!   `shared/reference/datasets.md` §10, with the real HES/SUS field names.
//! * Typed values that validate on construction: [`NhsNumber`], [`OdsCode`],
//!   [`Icd10`], [`Opcs4`], [`Date`] (with HES sentinels) and [`AgeCode`].
//! * [`rules`] — the derivation rules of datasets.md §11 (spells, continuous
//!   inpatient spells, admission groups, care-home flags, four-hour measure,
//!   responsible commissioner, repricing), implemented once and called by the
//!   generator, the parsers and the indicators alike.
//!
//! This crate has no I/O and no knowledge of zones or users; it is the bottom
//! layer of the workspace (see `ARCHITECTURE.md`).

pub mod age;
pub mod date;
pub mod error;
pub mod icd10;
pub mod nhs_number;
pub mod ods;
pub mod opcs4;
pub mod placeholder;
pub mod rules;
pub mod schema;

pub use age::AgeCode;
pub use date::{Date, HesDate};
pub use error::ModelError;
pub use icd10::Icd10;
pub use nhs_number::NhsNumber;
pub use ods::{OdsCode, OdsKind};
pub use opcs4::Opcs4;
pub use placeholder::NullPlaceholders;
