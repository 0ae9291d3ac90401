//! `haven-finance`: invoice validation in the Controlled Environment for
//! Finance (CEfF), the first purpose of every agreement Haven serves
//! (`shared/DESIGN.md` §4; process, Who Pays?, POD codes and tariff
//! arithmetic in `shared/reference/datasets.md` §6 and §10.11).
//!
//! A workload crate beside `haven-analytics`: it reads only what a zone
//! session opened for the `ceff` role shows it (the CEfF and reference
//! zones), and returns per-line outcomes; `haven-app` decides who may run
//! it and where its results go.
//!
//! - [`key`]: tokens and record keys, held as bytes;
//! - [`model`]: invoices, lines, SUS+ spells and attendances, prices,
//!   organisations — plain data;
//! - [`read`]: those inputs from a zone session;
//! - [`matching`]: a line to its SUS+ record, saying how;
//! - [`check`]: the line rules, each a pure function with its source;
//! - [`duplicate`]: lines billing activity already billed;
//! - [`validate`]: a run — every line through every rule;
//! - [`challenge`]: the challenge and dispute log, every change kept;
//! - [`reason`]: the reason-code table;
//! - [`report`]: accuracy and budget reports through disclosure control
//!   (counts, and magnitude rules for money);
//! - [`quality`]: precision and recall against the synthetic ground truth.

pub mod challenge;
pub mod check;
pub mod duplicate;
pub mod error;
pub mod key;
pub mod matching;
pub mod model;
pub mod quality;
pub mod read;
pub mod reason;
pub mod report;
pub mod validate;

pub use error::FinanceError;
pub use model::{Config, Inputs};
pub use reason::{Reason, REASONS};
pub use validate::{run, LineOutcome, Validation};
