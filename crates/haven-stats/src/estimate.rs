//! Point estimates and confidence intervals shared by every method.
//!
//! Byar's lower limit can be undefined (PHEindicatormethods returns `NA`
//! when the cube is negative, methods.md §6.1), so [`Estimate::lower`] is an
//! `Option`; every other limit in the crate is always defined.

/// A two-sided interval, `lower ≤ upper`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

impl Interval {
    /// Whether `value` lies within the closed interval.
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }

    /// The interval with both limits multiplied by `factor` (> 0).
    pub fn scaled(self, factor: f64) -> Interval {
        Interval {
            lower: self.lower * factor,
            upper: self.upper * factor,
        }
    }
}

/// A point estimate with its confidence limits, already multiplied by the
/// caller's multiplier (per 100,000, per cent, …).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// Lower confidence limit; `None` where Byar's approximation is
    /// undefined (methods.md §6.1).
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: f64,
}

impl Estimate {
    /// Whether the interval contains the point estimate (an undefined lower
    /// limit is treated as unbounded below).
    pub fn contains_value(&self) -> bool {
        self.lower.is_none_or(|l| l <= self.value) && self.value <= self.upper
    }
}
