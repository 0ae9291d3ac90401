//! Disclosure control: the single choke point every aggregate passes before
//! it leaves Haven (methods.md §1).
//!
//! # Rules
//!
//! [`Rule::HesEcds`] (the default) is the NHS Digital method for Hospital
//! Episode Statistics and the Emergency Care Data Set, in force from
//! September 2018 (NHS Digital, "Disclosure control methodology for HES and
//! ECDS", Sept 2018; restated for an indicator in the CCG OIS 2.6
//! specification v1.15, Dec 2018, "Disclosure control" section):
//!
//! - below national level, a count of 1 to 7 is replaced by `*`, every other
//!   non-zero count is rounded to the nearest 5 and zero stays 0;
//! - at national level there is no small-number control ([`Policy::national`]);
//! - row and column totals are calculated from the **unrounded** values and
//!   then protected, so they need not equal the sum of the published cells;
//! - percentages and rates: the secondary-care publications compute them from
//!   the **rounded** numerator and denominator ([`Policy::rate`]); the CCG OIS
//!   computes the indicator from the **unrounded** counts and suppresses it
//!   when the numerator or denominator is 1 to 7 ([`Policy::indicator`]). Pick
//!   one per output and say which.
//!
//! methods.md marks the exact wording of the 1-7 / nearest-5 step list as
//! UNCONFIRMED (the NHS Digital page was not retrievable in full), so the
//! threshold and the rounding multiple are fields of [`Policy`], defaulting
//! to 7 and 5.
//!
//! Tables get **secondary suppression** ([`Policy::table`], [`Policy::column`]),
//! the practice of the older HES rule and the HES Protocol (methods.md §1.2;
//! Hansard, 9 Feb 2010: "Where it was still possible to identify numbers from
//! the total an additional number (the next smallest) has been replaced"):
//! whenever a line (row or column) whose total is published holds exactly one
//! suppressed cell, the next smallest non-zero published cell of that line is
//! suppressed too, and the same is done for row and column totals against the
//! grand total. Rounding to 5 already blurs subtraction, since differencing
//! rounded figures only bounds a lone `*`; suppressing a second cell is what
//! the HES practice asks for, and it also covers the case where the same
//! figures are published unrounded elsewhere. The rule guards subtraction
//! within one line; it is not a full linear-programming audit of the table.
//!
//! [`Rule::Midpoint6`] is OpenSAFELY's midpoint-6 rounding (OpenSAFELY
//! documentation, `docs/releasing-files.md`, "Safe outputs"; methods.md §1.3):
//! 0 stays 0 and any other `x` becomes `ceil(x / 6) * 6 - 3`, so a published
//! `r` stands for a true value in `r - 2 ..= r + 3`. Nothing is suppressed, so
//! no secondary suppression is needed; it applies at national level too.
//! OpenSAFELY's own redact-then-round rule (≤ 7 redacted, then nearest 5) has
//! the same cells as [`Rule::HesEcds`]; Haven differs from its worked example
//! only in taking totals from unrounded values, as NHS Digital does.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

pub mod magnitude;

/// Largest non-zero count that is suppressed by default (methods.md §1.1:
/// "values 1-7 replaced by `*`"; OpenSAFELY raised its own limit from 5 to 7
/// because redacting ≤ 5 and rounding to 5 let a published 5 mean 6 or 7).
pub const DEFAULT_THRESHOLD: u64 = 7;

/// Default rounding multiple for published counts (methods.md §1.1: "rounded
/// to the nearest 5").
pub const DEFAULT_MULTIPLE: u64 = 5;

/// Which disclosure-control method an output follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// NHS Digital HES/ECDS method (from Sept 2018): suppress 1..=threshold,
    /// round the rest to the nearest multiple, keep 0.
    #[default]
    HesEcds,
    /// OpenSAFELY midpoint-6 rounding: never suppresses, keeps 0.
    Midpoint6,
}

/// The disclosure-control settings for one output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The method applied.
    pub rule: Rule,
    /// National-level output: [`Rule::HesEcds`] then applies no small-number
    /// control (methods.md §1.1 table); [`Rule::Midpoint6`] still rounds.
    pub national: bool,
    /// Largest non-zero count suppressed by [`Rule::HesEcds`].
    pub threshold: u64,
    /// Multiple that [`Rule::HesEcds`] rounds published counts to; 0 or 1
    /// means no rounding.
    pub multiple: u64,
}

impl Default for Policy {
    /// Sub-national HES/ECDS with threshold 7 and multiple 5.
    fn default() -> Self {
        Policy { rule: Rule::HesEcds, national: false, threshold: DEFAULT_THRESHOLD, multiple: DEFAULT_MULTIPLE }
    }
}

/// One published figure: a protected count or the suppression marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// A count that may be published as it stands (already rounded).
    Value(u64),
    /// A count withheld; shown as `*`.
    Suppressed,
}

impl Cell {
    /// The published value, or `None` when suppressed.
    pub fn value(self) -> Option<u64> {
        match self {
            Cell::Value(v) => Some(v),
            Cell::Suppressed => None,
        }
    }

    /// Whether the figure is withheld.
    pub fn is_suppressed(self) -> bool {
        self == Cell::Suppressed
    }
}

impl fmt::Display for Cell {
    /// The number, or `*` as NHS Digital publications show a suppressed value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Value(v) => write!(f, "{v}"),
            Cell::Suppressed => f.write_str("*"),
        }
    }
}

impl Serialize for Cell {
    /// A number, or the string `"*"`, so serialised output reads like the
    /// published tables rather than exposing the enum's shape.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Value(v) => s.serialize_u64(*v),
            Cell::Suppressed => s.serialize_str("*"),
        }
    }
}

impl<'de> Deserialize<'de> for Cell {
    /// What [`Cell::serialize`] writes: a number, or `"*"`. Read back only
    /// from outputs Haven itself wrote (a released output's tables, for the
    /// web app's pages); any other string is an error, never a zero.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cell, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Count(u64),
            Marker(String),
        }
        match Written::deserialize(d)? {
            Written::Count(v) => Ok(Cell::Value(v)),
            Written::Marker(m) if m == "*" => Ok(Cell::Suppressed),
            Written::Marker(_) => Err(serde::de::Error::custom("a published count is a number or *")),
        }
    }
}

/// A table after disclosure control, ready to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protected {
    /// The body cells, in the input's shape.
    pub cells: Vec<Vec<Cell>>,
    /// One total per row, from the unrounded row sum.
    pub row_totals: Vec<Cell>,
    /// One total per column, from the unrounded column sum.
    pub col_totals: Vec<Cell>,
    /// The grand total, from the unrounded sum of every cell.
    pub total: Cell,
}

impl Policy {
    /// Protects one count (primary control only).
    pub fn count(&self, n: u64) -> Cell {
        match self.rule {
            Rule::Midpoint6 => Cell::Value(midpoint6(n)),
            Rule::HesEcds if self.national || n == 0 => Cell::Value(n),
            Rule::HesEcds if n <= self.threshold => Cell::Suppressed,
            Rule::HesEcds => Cell::Value(round_half_up(n, self.multiple)),
        }
    }

    /// A rate by the HES secondary-care method: numerator over denominator
    /// after both are protected by [`Policy::count`], so the published rate
    /// can be re-derived from the published counts and reveals nothing more.
    /// `None` when either count is suppressed or the protected denominator
    /// is 0.
    pub fn rate(&self, numerator: u64, denominator: u64) -> Option<f64> {
        let num = self.count(numerator).value()?;
        let den = self.count(denominator).value()?;
        (den > 0).then(|| num as f64 / den as f64)
    }

    /// An indicator value by the CCG OIS method: computed from the
    /// **unrounded** counts (more accurate than [`Policy::rate`]), and `None`
    /// when the numerator or denominator is 1..=threshold or the denominator
    /// is 0. Midpoint-6 has no unrounded variant, so it falls back to
    /// [`Policy::rate`]: an exact ratio would undo the rounding.
    pub fn indicator(&self, numerator: u64, denominator: u64) -> Option<f64> {
        if self.rule == Rule::Midpoint6 {
            return self.rate(numerator, denominator);
        }
        let small = |n: u64| !self.national && (1..=self.threshold).contains(&n);
        if small(numerator) || small(denominator) || denominator == 0 {
            return None;
        }
        Some(numerator as f64 / denominator as f64)
    }

    /// Protects a table of counts (rows of columns), with totals from the
    /// unrounded values and secondary suppression so that no suppressed
    /// cell or total equals a published total minus published figures of
    /// its line. Rows should be of equal length; a short row is treated as
    /// having no cells in the missing columns.
    pub fn table(&self, counts: &[Vec<u64>]) -> Protected {
        let mut grid = Grid::new(self, counts);
        // Each pass only ever hides more, so this ends within one pass per
        // cell and total.
        while grid.pass() {}
        grid.publish(self)
    }

    /// Protects a single list of counts and its total: a one-row table
    /// without column totals, under the same secondary rule.
    pub fn column(&self, counts: &[u64]) -> (Vec<Cell>, Cell) {
        let mut entries: Vec<(u64, bool)> = counts.iter().map(|&n| (n, self.hides(n))).collect();
        let total = sum(counts.iter().copied());
        let mut total_hidden = self.hides(total);
        // One line settles in one step: the fix leaves two unknowns or none.
        match guard(&entries, total_hidden) {
            Some(Fix::Entry(i)) => entries[i].1 = true,
            Some(Fix::Total) => total_hidden = true,
            None => {}
        }
        let cells = entries.iter().map(|&(n, h)| self.publish(n, h)).collect();
        (cells, self.publish(total, total_hidden))
    }

    /// Whether primary control withholds `n`.
    fn hides(&self, n: u64) -> bool {
        self.count(n).is_suppressed()
    }

    /// The published form of `n`, given whether it ended up withheld.
    fn publish(&self, n: u64, hidden: bool) -> Cell {
        if hidden {
            Cell::Suppressed
        } else {
            self.count(n)
        }
    }
}

/// `n` rounded to the nearest multiple of `m`, halves upwards; `m` of 0 or
/// 1 leaves `n` as it is. Saturates rather than wrapping near `u64::MAX`.
fn round_half_up(n: u64, m: u64) -> u64 {
    if m <= 1 {
        return n;
    }
    let down = n - n % m;
    if (n % m) * 2 >= m {
        down.saturating_add(m)
    } else {
        down
    }
}

/// OpenSAFELY midpoint-6: `ceil(n / 6) * 6 - 3` for `n > 0`, 0 for 0.
fn midpoint6(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        n.div_ceil(6).saturating_mul(6) - 3
    }
}

/// Sum that saturates, so an absurd input cannot panic the choke point.
fn sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::saturating_add)
}

/// What a line needs so its one suppressed entry cannot be recovered.
enum Fix {
    /// Suppress this entry of the line as well.
    Entry(usize),
    /// No non-zero entry is left to suppress, so suppress the line's total.
    Total,
}

/// Checks one line of `(true value, hidden)` entries against its total:
/// with the total published and exactly one entry hidden, the hidden entry
/// is the total minus the rest, so the next smallest non-zero published
/// entry (the first on ties) must go too. Zeros do not count: hiding one
/// would still leave the other entry equal to the total.
fn guard(entries: &[(u64, bool)], total_hidden: bool) -> Option<Fix> {
    if total_hidden || entries.iter().filter(|e| e.1).count() != 1 {
        return None;
    }
    let next = entries
        .iter()
        .enumerate()
        .filter(|(_, &(v, h))| !h && v > 0)
        .min_by_key(|(_, &(v, _))| v)
        .map(|(i, _)| i);
    Some(next.map_or(Fix::Total, Fix::Entry))
}

/// Working state of [`Policy::table`]: true values and a hidden flag for
/// every cell and total.
struct Grid<'a> {
    /// The input counts.
    counts: &'a [Vec<u64>],
    /// Number of columns (the longest row).
    ncols: usize,
    /// Hidden flag per cell, same shape as `counts`.
    hidden: Vec<Vec<bool>>,
    /// Unrounded row totals and whether each is hidden.
    rows: Vec<(u64, bool)>,
    /// Unrounded column totals and whether each is hidden.
    cols: Vec<(u64, bool)>,
    /// Unrounded grand total and whether it is hidden.
    total: (u64, bool),
}

impl<'a> Grid<'a> {
    /// Totals from unrounded counts, with primary suppression applied.
    fn new(policy: &Policy, counts: &'a [Vec<u64>]) -> Self {
        let ncols = counts.iter().map(Vec::len).max().unwrap_or(0);
        let mark = |n: u64| (n, policy.hides(n));
        let hidden = counts.iter().map(|r| r.iter().map(|&n| policy.hides(n)).collect()).collect();
        let rows = counts.iter().map(|r| mark(sum(r.iter().copied()))).collect();
        let col_sum = |j: usize| sum(counts.iter().filter_map(|r| r.get(j).copied()));
        let cols = (0..ncols).map(|j| mark(col_sum(j))).collect();
        let total = mark(sum(counts.iter().flatten().copied()));
        Grid { counts, ncols, hidden, rows, cols, total }
    }

    /// Row `i` as `(value, hidden)` entries.
    fn row(&self, i: usize) -> Vec<(u64, bool)> {
        self.counts[i].iter().copied().zip(self.hidden[i].iter().copied()).collect()
    }

    /// Column `j` as `(value, hidden)` entries indexed by row; a missing
    /// cell of a short row reads as a published zero, which the guard
    /// never picks.
    fn col(&self, j: usize) -> Vec<(u64, bool)> {
        let cell = |i: usize| self.counts[i].get(j).map_or((0, false), |&v| (v, self.hidden[i][j]));
        (0..self.counts.len()).map(cell).collect()
    }

    /// One sweep over rows, columns and the two sets of totals; true if
    /// anything new was hidden, since a new `*` can leave another line
    /// with a lone one.
    fn pass(&mut self) -> bool {
        let mut changed = false;
        for i in 0..self.counts.len() {
            match guard(&self.row(i), self.rows[i].1) {
                Some(Fix::Entry(j)) => self.hidden[i][j] = true,
                Some(Fix::Total) => self.rows[i].1 = true,
                None => continue,
            }
            changed = true;
        }
        for j in 0..self.ncols {
            match guard(&self.col(j), self.cols[j].1) {
                Some(Fix::Entry(i)) => self.hidden[i][j] = true,
                Some(Fix::Total) => self.cols[j].1 = true,
                None => continue,
            }
            changed = true;
        }
        let by_rows = guard_margin(&mut self.rows, &mut self.total.1);
        let by_cols = guard_margin(&mut self.cols, &mut self.total.1);
        changed | by_rows | by_cols
    }

    /// The published table.
    fn publish(self, policy: &Policy) -> Protected {
        let out = |&(n, h): &(u64, bool)| policy.publish(n, h);
        let cells = (0..self.counts.len()).map(|i| self.row(i).iter().map(out).collect()).collect();
        Protected {
            cells,
            row_totals: self.rows.iter().map(out).collect(),
            col_totals: self.cols.iter().map(out).collect(),
            total: out(&self.total),
        }
    }
}

/// Applies [`guard`] to a set of line totals against the grand total, so a
/// lone suppressed row (or column) total is not the grand total minus the
/// others. True if anything was hidden.
fn guard_margin(totals: &mut [(u64, bool)], grand_hidden: &mut bool) -> bool {
    match guard(totals, *grand_hidden) {
        Some(Fix::Entry(i)) => totals[i].1 = true,
        Some(Fix::Total) => *grand_hidden = true,
        None => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: Cell = Cell::Suppressed;
    const fn v(n: u64) -> Cell {
        Cell::Value(n)
    }

    /// Sub-national HES/ECDS with the default 7 / 5.
    fn hes() -> Policy {
        Policy::default()
    }

    /// Midpoint-6, sub-national.
    fn mid6() -> Policy {
        Policy { rule: Rule::Midpoint6, ..Policy::default() }
    }

    #[test]
    fn hes_counts_keep_zero_suppress_small_and_round_to_five() {
        // 0 stays 0; 3 is in 1..=7 so `*`; 8 → 10 (8 is 3 above 5, 2 below
        // 10); 12 → 10 (2 above); 13 → 15 (2 below); 1000 is a multiple.
        let got: Vec<Cell> = [0, 3, 8, 12, 13, 1000].map(|n| hes().count(n)).to_vec();
        assert_eq!(got, [v(0), S, v(10), v(10), v(15), v(1000)]);
        assert_eq!(hes().count(7), S, "7 is the last suppressed value");
        assert_eq!(hes().count(1), S);
    }

    #[test]
    fn halves_round_up_with_an_even_multiple() {
        // With multiple 10, 15 is exactly half way and goes up to 20.
        let p = Policy { multiple: 10, ..Policy::default() };
        assert_eq!(p.count(15), v(20));
        assert_eq!(p.count(14), v(10));
        assert_eq!(Policy { multiple: 0, ..Policy::default() }.count(13), v(13));
    }

    #[test]
    fn midpoint6_maps_each_block_of_six_to_its_midpoint() {
        // 1..=6 → 6-3 = 3; 7..=12 → 12-3 = 9; 13 → ceil(13/6)=3, 18-3 = 15.
        let got: Vec<Cell> = [0, 1, 6, 7, 12, 13].map(|n| mid6().count(n)).to_vec();
        assert_eq!(got, [v(0), v(3), v(3), v(9), v(9), v(15)]);
    }

    #[test]
    fn national_hes_passes_counts_but_midpoint6_still_rounds() {
        let nat = Policy { national: true, ..Policy::default() };
        assert_eq!(nat.count(3), v(3));
        assert_eq!(nat.count(12), v(12));
        assert_eq!(Policy { national: true, ..mid6() }.count(3), v(3));
        assert_eq!(Policy { national: true, ..mid6() }.count(4), v(3));
        let (cells, total) = nat.column(&[3, 40]);
        assert_eq!((cells, total), (vec![v(3), v(40)], v(43)));
    }

    #[test]
    fn rate_uses_rounded_counts_and_indicator_unrounded() {
        // 12 / 103: rounded 10 / 105 for the secondary-care rate; the CCG
        // OIS indicator keeps 12 / 103.
        assert_eq!(hes().rate(12, 103), Some(10.0 / 105.0));
        assert_eq!(hes().indicator(12, 103), Some(12.0 / 103.0));
        assert_eq!(hes().rate(3, 100), None);
        assert_eq!(hes().indicator(100, 7), None);
        assert_eq!(hes().rate(0, 0), None, "zero denominator");
        assert_eq!(hes().indicator(0, 50), Some(0.0));
        let nat = Policy { national: true, ..Policy::default() };
        assert_eq!(nat.indicator(3, 4), Some(0.75));
        // Midpoint-6 has no unrounded form: 4 → 3, 20 → 21.
        assert_eq!(mid6().indicator(4, 20), Some(3.0 / 21.0));
    }

    #[test]
    fn serde_names_and_defaults() {
        assert_eq!(serde_json::to_string(&Rule::HesEcds).unwrap(), "\"hes_ecds\"");
        assert_eq!(serde_json::to_string(&Rule::Midpoint6).unwrap(), "\"midpoint6\"");
        assert_eq!(serde_json::from_str::<Policy>("{}").unwrap(), Policy::default());
        let p: Policy = serde_json::from_str(r#"{"rule":"midpoint6","national":true}"#).unwrap();
        assert_eq!((p.rule, p.national, p.threshold, p.multiple), (Rule::Midpoint6, true, 7, 5));
        assert!(serde_json::from_str::<Policy>(r#"{"treshold":5}"#).is_err(), "typos must not fall back to defaults");
        assert_eq!(serde_json::to_string(&[v(10), S]).unwrap(), r#"[10,"*"]"#);
        assert_eq!(format!("{} {}", v(10), S), "10 *");
    }

    #[test]
    fn one_small_cell_in_a_two_by_three_table() {
        // counts        row total
        //   4  20   9  |  33 → 35
        //  15  30  12  |  57 → 55
        // col 19  50  21, grand 90.
        // Primary: 4 → `*`. Row 0 total 33 is published, so 4 = 33-20-9:
        // suppress the next smallest of the row, 9 (< 20). Column 0 total
        // 19 is published, so 4 = 19-15: suppress 15. Column 2 now has a
        // lone `*` (9 = 21-12): suppress 12. Row 1 then has two (15, 12),
        // and every line with a `*` has two: the classic 2×2 pattern.
        let t = hes().table(&[vec![4, 20, 9], vec![15, 30, 12]]);
        assert_eq!(t.cells, [[S, v(20), S], [S, v(30), S]]);
        assert_eq!(t.row_totals, [v(35), v(55)]);
        // 19 → 20, 50 → 50, 21 → 20: rounded from unrounded sums.
        assert_eq!(t.col_totals, [v(20), v(50), v(20)]);
        assert_eq!(t.total, v(90));
    }

    #[test]
    fn a_lone_star_among_zeros_hides_the_total_instead() {
        // counts     row total
        //   3  10  |  13
        //   0  20  |  20
        // col 3 30, grand 33.
        // Pass 1: 3 → `*` (and col 0 total 3 → `*`). Row 0: 3 = 13-10, so
        // hide 10. Column 1: 10 = 30-20, so hide 20. Column totals: col 0
        // total 3 = 33-30, so hide 30.
        // Pass 2: row 1 is `0 *` with total 20, and the only other entry is
        // 0, so the total 20 is hidden. Row totals: 20 = 33-13, so hide 13.
        // Pass 3 changes nothing; the grand total 33 → 35 stays.
        let t = hes().table(&[vec![3, 10], vec![0, 20]]);
        assert_eq!(t.cells, [[S, S], [v(0), S]]);
        assert_eq!(t.row_totals, [S, S]);
        assert_eq!(t.col_totals, [S, S]);
        assert_eq!(t.total, v(35));
    }

    #[test]
    fn column_hides_the_next_smallest_non_zero() {
        // 3+8+12+40 = 63 → 65. 3 → `*`; 3 = 63-8-12-40, so hide 8.
        assert_eq!(hes().column(&[3, 8, 12, 40]), (vec![S, S, v(10), v(40)], v(65)));
        // Zeros are skipped: 5 = 35-30, so 30 goes, not a 0.
        assert_eq!(hes().column(&[5, 0, 0, 30]), (vec![S, v(0), v(0), S], v(35)));
        // Total 2 is itself suppressed, so nothing more is needed.
        assert_eq!(hes().column(&[0, 2, 0]), (vec![v(0), S, v(0)], S));
        // Ties take the first: 2 = 62-30-30, hide the first 30.
        assert_eq!(hes().column(&[2, 30, 30]), (vec![S, S, v(30)], v(60)));
        assert_eq!(hes().column(&[]), (vec![], v(0)));
    }

    #[test]
    fn midpoint6_tables_only_round() {
        // 4 → 3, 20 → 21, 24 → 21 (row total), column totals 4, 20 → 3, 21.
        let t = mid6().table(&[vec![4, 20]]);
        assert_eq!(t.cells, [[v(3), v(21)]]);
        assert_eq!(t.row_totals, [v(21)]);
        assert_eq!(t.col_totals, [v(3), v(21)]);
        assert_eq!(t.total, v(21));
    }

    #[test]
    fn short_rows_keep_their_shape() {
        let t = hes().table(&[vec![20, 30], vec![40]]);
        assert_eq!(t.cells, vec![vec![v(20), v(30)], vec![v(40)]]);
        assert_eq!(t.col_totals, [v(60), v(30)]);
        let empty = hes().table(&[]);
        assert_eq!((empty.cells.len(), empty.total), (0, v(0)));
    }

    /// Tables of 1-5 rows × 1-5 columns, weighted towards small counts so
    /// suppression is common.
    fn tables() -> impl Strategy<Value = Vec<Vec<u64>>> {
        let count = prop_oneof![3 => 0u64..=8, 2 => 0u64..60];
        (1usize..=5, 1usize..=5)
            .prop_flat_map(move |(r, c)| proptest::collection::vec(proptest::collection::vec(count.clone(), c), r))
    }

    /// True when `cells` has exactly one suppressed entry.
    fn lone_star(cells: &[Cell]) -> bool {
        cells.iter().filter(|c| c.is_suppressed()).count() == 1
    }

    /// Every published figure of a table, cells and totals.
    fn published(t: &Protected) -> Vec<Cell> {
        let mut all: Vec<Cell> = t.cells.iter().flatten().copied().collect();
        all.extend(t.row_totals.iter().chain(&t.col_totals).copied());
        all.push(t.total);
        all
    }

    proptest! {
        /// (a) HES/ECDS below national level never publishes 1..=7: every
        /// non-zero published value is a multiple of 5 and at least 10.
        #[test]
        fn no_small_value_is_published(counts in tables(), n in 0u64..10_000) {
            let t = hes().table(&counts);
            let mut all = published(&t);
            all.push(hes().count(n));
            for c in all.into_iter().filter_map(Cell::value).filter(|&x| x > 0) {
                prop_assert!(c % 5 == 0 && c >= 10, "published {}", c);
            }
        }

        /// (b) No line with a published total holds a lone `*`, among
        /// cells or among line totals against the grand total, and every
        /// published figure is the primary-protected true value.
        #[test]
        fn no_suppressed_cell_is_recoverable(counts in tables()) {
            let t = hes().table(&counts);
            for (i, row) in t.cells.iter().enumerate() {
                prop_assert!(t.row_totals[i].is_suppressed() || !lone_star(row), "row {}", i);
            }
            for (j, total) in t.col_totals.iter().enumerate() {
                let col: Vec<Cell> = t.cells.iter().map(|r| r[j]).collect();
                prop_assert!(total.is_suppressed() || !lone_star(&col), "column {}", j);
            }
            prop_assert!(t.total.is_suppressed() || !lone_star(&t.row_totals));
            prop_assert!(t.total.is_suppressed() || !lone_star(&t.col_totals));
            for (row, cells) in counts.iter().zip(&t.cells) {
                for (&n, &c) in row.iter().zip(cells) {
                    prop_assert!(c.is_suppressed() || c == hes().count(n));
                }
            }
            let grand: u64 = counts.iter().flatten().sum();
            prop_assert!(t.total.is_suppressed() || t.total == hes().count(grand));
        }

        /// (b, 1-D) The list helper leaves no lone `*` beside a published total.
        #[test]
        fn column_leaves_no_lone_star(counts in proptest::collection::vec(prop_oneof![0u64..=8, 0u64..60], 0..8)) {
            let (cells, total) = hes().column(&counts);
            prop_assert!(total.is_suppressed() || !lone_star(&cells));
        }

        /// (c) A rate with a numerator or denominator of 1..=7 is withheld.
        #[test]
        fn small_rates_are_withheld(small in 1u64..=7, other in 0u64..10_000, flip: bool) {
            let (num, den) = if flip { (other, small) } else { (small, other) };
            prop_assert_eq!(hes().rate(num, den), None);
            prop_assert_eq!(hes().indicator(num, den), None);
        }

        /// (d) A midpoint-6 value r stands for a true n in r-2 ..= r+3.
        #[test]
        fn midpoint6_brackets_the_true_value(n in 1u64..1_000_000) {
            let r = mid6().count(n).value().unwrap();
            prop_assert!(r >= 3 && r - 2 <= n && n <= r + 3, "n {} r {}", n, r);
        }

        /// Midpoint-6 tables never suppress anything.
        #[test]
        fn midpoint6_never_suppresses(counts in tables()) {
            prop_assert!(published(&mid6().table(&counts)).iter().all(|c| !c.is_suppressed()));
        }
    }
}
