//! `haven-charts`: Haven's charts rendered to standalone SVG strings.
//!
//! This is the one place where Haven draws charts; the web app and the
//! report packs both reuse it. It is pure: every chart is a plain data
//! struct whose `render(&self, &Style) -> String` returns a complete SVG
//! document. There is no I/O.
//!
//! | chart | type |
//! | --- | --- |
//! | Funnel plot with 95 % / 99.8 % control limits | [`FunnelPlot`] |
//! | SPC (XmR) chart, NHS "Making Data Count" style | [`SpcChart`] |
//! | Spine chart, Fingertips style | [`SpineChart`] |
//! | Inequality chart with slope index of inequality | [`InequalityChart`] |
//! | Trend lines with confidence bands | [`TrendChart`] |
//! | One patient's encounters on a timeline | [`Theograph`] |
//!
//! ## Conventions shared by all charts
//!
//! * Data values arrive after disclosure control as `Option<f64>`: `None`
//!   is a suppressed value. It is never drawn, and the footnote says how
//!   many there were ("2 values suppressed (small numbers)").
//! * NaN, infinite and absurdly large values (beyond ±10¹²) are treated as
//!   missing and reported in a separate footnote.
//! * A chart with nothing to draw renders a "No data" chart; no input makes
//!   a render panic.
//! * Output is deterministic: the same input gives byte-identical SVG.
//!   Coordinates have at most two decimals.
//! * Each document has `width`, `height`, a `viewBox`, `role="img"`, a
//!   `<title>` (the chart title) and a `<desc>` (a generated plain-English
//!   summary), and all text is XML-escaped.
//! * Axes use 1-2-5 "nice" ticks ([`nice_ticks`]).
//! * Colours come from [`style`]: NHS identity colours (NHS Blue `#005EB8`
//!   for the primary series), the Making Data Count SPC palette and the
//!   Fingertips significance colours. Text uses Arial, sans-serif.
//! * Elements carry CSS classes (`point`, `centre-line`, `england`,
//!   `footnote`, …) so that pages can restyle them and tests can find them.

#![warn(missing_docs)]

mod axis;
mod data;
mod frame;
mod svg;

pub mod funnel;
pub mod inequality;
pub mod spc;
pub mod spine;
pub mod style;
pub mod theograph;
pub mod trend;

pub use axis::{nice_ticks, Ticks};
pub use data::MAX_ABS;
pub use frame::ChartText;
pub use funnel::{FunnelPlot, FunnelPoint, LimitSample};
pub use inequality::{InequalityChart, QuantileBar, SiiLine};
pub use spc::{SpcChart, SpcClass, SpcPoint};
pub use spine::{Polarity, Significance, SpineChart, SpineRow};
pub use style::Style;
pub use theograph::{Encounter, EncounterKind, Theograph};
pub use trend::{TrendChart, TrendPoint, TrendSeries};
