//! Input cleaning shared by all charts: what counts as a drawable value,
//! a suppressed value or an invalid one, and the footnotes that report them.
//!
//! * `None` is a value withheld by disclosure control ("suppressed").
//! * `Some(v)` with `v` NaN, infinite or of magnitude above [`MAX_ABS`] is
//!   "invalid": treated as missing, never drawn, reported separately.
//! * Any other `Some(v)` is drawn.

/// Largest magnitude accepted as a data value; anything larger is treated as
/// invalid so that axis arithmetic can never overflow.
pub const MAX_ABS: f64 = 1e12;

/// A usable finite value, or `None`.
pub(crate) fn finite(v: f64) -> Option<f64> {
    (v.is_finite() && v.abs() <= MAX_ABS).then_some(v)
}

/// A usable value from an optional input (suppressed and invalid both give
/// `None`); for reference values such as limits, where no footnote applies.
pub(crate) fn usable(v: Option<f64>) -> Option<f64> {
    v.and_then(finite)
}

/// The state of one measured data value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell {
    /// A value to draw.
    Shown(f64),
    /// Withheld by disclosure control.
    Suppressed,
    /// Present but unusable (NaN, infinite or absurdly large).
    Invalid,
}

impl Cell {
    /// Classifies an input value.
    pub fn of(v: Option<f64>) -> Cell {
        match v {
            None => Cell::Suppressed,
            Some(x) => finite(x).map_or(Cell::Invalid, Cell::Shown),
        }
    }

    /// The drawable value, if any.
    pub fn shown(self) -> Option<f64> {
        match self {
            Cell::Shown(v) => Some(v),
            _ => None,
        }
    }
}

/// Counts of values that were not drawn, turned into footnotes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Tally {
    /// Values withheld by disclosure control.
    pub suppressed: usize,
    /// Values that were NaN, infinite or out of range.
    pub invalid: usize,
}

impl Tally {
    /// Records one cell.
    pub fn add(&mut self, c: Cell) {
        match c {
            Cell::Suppressed => self.suppressed += 1,
            Cell::Invalid => self.invalid += 1,
            Cell::Shown(_) => {}
        }
    }

    /// Footnotes for the counts: none when nothing was left out.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.suppressed > 0 {
            notes.push(format!(
                "{} suppressed (small numbers)",
                plural(self.suppressed, "value", "values")
            ));
        }
        if self.invalid > 0 {
            notes.push(format!(
                "{} not shown (missing or invalid)",
                plural(self.invalid, "value", "values")
            ));
        }
        notes
    }
}

/// `"1 value"`, `"3 values"`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Running minimum and maximum of the values that set an axis domain.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Extent {
    range: Option<(f64, f64)>,
}

impl Extent {
    /// Widens the extent to include `v` (ignored unless usable).
    pub fn add(&mut self, v: f64) {
        let Some(v) = finite(v) else { return };
        self.range = Some(match self.range {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }

    /// Widens the extent to include `v` when present.
    pub fn add_opt(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.add(v);
        }
    }

    /// The `(min, max)` seen, or `(0, 1)` when nothing was added.
    pub fn bounds(&self) -> (f64, f64) {
        self.range.unwrap_or((0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_classify() {
        assert_eq!(Cell::of(None), Cell::Suppressed);
        assert_eq!(Cell::of(Some(f64::NAN)), Cell::Invalid);
        assert_eq!(Cell::of(Some(f64::INFINITY)), Cell::Invalid);
        assert_eq!(Cell::of(Some(2e12)), Cell::Invalid);
        assert_eq!(Cell::of(Some(-3.0)), Cell::Shown(-3.0));
    }

    #[test]
    fn tally_notes() {
        let mut t = Tally::default();
        assert!(t.notes().is_empty());
        t.add(Cell::Suppressed);
        assert_eq!(t.notes(), vec!["1 value suppressed (small numbers)"]);
        t.add(Cell::Suppressed);
        t.add(Cell::Invalid);
        assert_eq!(
            t.notes(),
            vec![
                "2 values suppressed (small numbers)",
                "1 value not shown (missing or invalid)"
            ]
        );
    }

    #[test]
    fn extent_ignores_non_finite() {
        let mut e = Extent::default();
        assert_eq!(e.bounds(), (0.0, 1.0));
        e.add(f64::NAN);
        e.add(3.0);
        e.add(-1.0);
        assert_eq!(e.bounds(), (-1.0, 3.0));
    }
}
