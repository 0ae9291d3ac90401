//! The model's design: a dense row-major feature matrix with named columns
//! and one binary outcome per row, and standardisation fitted on training
//! rows only (so no held-out value leaks into the fit).

use crate::error::{FeatureFault, Result, RiskError};

/// n rows × p named columns of `f64`, row-major, with the outcome of each
/// row (one or more emergency admissions in the following year).
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    columns: Vec<String>,
    values: Vec<f64>,
    outcome: Vec<bool>,
}

impl Features {
    /// A matrix of `outcome.len()` rows; row i is
    /// `values[i·p .. (i + 1)·p]` with p = `columns.len()`.
    ///
    /// Errors ([`RiskError::Features`]): no columns, a repeated column name,
    /// values that do not fill rows × columns, a value that is not finite.
    pub fn new(columns: Vec<String>, values: Vec<f64>, outcome: Vec<bool>) -> Result<Self> {
        let fault = |f| Err(RiskError::Features(f));
        if columns.is_empty() {
            return fault(FeatureFault::NoColumns);
        }
        for (j, name) in columns.iter().enumerate() {
            if columns[..j].contains(name) {
                return fault(FeatureFault::DuplicateColumn(name.clone()));
            }
        }
        if values.len() != outcome.len() * columns.len() {
            return fault(FeatureFault::Shape);
        }
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return fault(FeatureFault::NotFinite(columns[k % columns.len()].clone()));
        }
        Ok(Features { columns, values, outcome })
    }

    /// Number of rows (people).
    pub fn rows(&self) -> usize {
        self.outcome.len()
    }

    /// The column names, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Row `i`'s features.
    ///
    /// # Panics
    ///
    /// If `i` is not below [`Features::rows`].
    pub fn row(&self, i: usize) -> &[f64] {
        let p = self.columns.len();
        &self.values[i * p..(i + 1) * p]
    }

    /// Every row's outcome.
    pub fn outcome(&self) -> &[bool] {
        &self.outcome
    }

    /// The outcomes of `rows`, in that order.
    pub fn outcomes_of(&self, rows: &[usize]) -> Vec<bool> {
        rows.iter().map(|&i| self.outcome[i]).collect()
    }

    /// Column index of `name`.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| RiskError::Features(FeatureFault::UnknownColumn(name.to_owned())))
    }

    /// The same rows with only the named columns, in the order given (for
    /// a baseline such as prior emergency admissions alone).
    pub fn select(&self, names: &[&str]) -> Result<Features> {
        let picks = names.iter().map(|n| self.column_index(n)).collect::<Result<Vec<_>>>()?;
        let values = (0..self.rows()).flat_map(|i| picks.iter().map(move |&j| self.row(i)[j])).collect();
        let columns = names.iter().map(|n| (*n).to_owned()).collect();
        Features::new(columns, values, self.outcome.clone())
    }

    /// Checks that every index in `rows` is a row of this matrix.
    pub(crate) fn check_rows(&self, rows: &[usize]) -> Result<()> {
        if rows.iter().any(|&i| i >= self.rows()) {
            return Err(RiskError::Features(FeatureFault::RowOutOfRange));
        }
        Ok(())
    }
}

/// Per-column centring and scaling, z = (x − mean) / scale.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardiser {
    /// Mean of each column over the training rows.
    pub means: Vec<f64>,
    /// Population standard deviation of each column over the training
    /// rows, or 1 for a column that is constant there (centred only).
    pub scales: Vec<f64>,
}

impl Standardiser {
    /// Means and standard deviations over `rows` only (two passes, so the
    /// variance does not lose precision to a large mean).
    ///
    /// Errors: no rows, or a row index beyond the matrix.
    pub fn fit(features: &Features, rows: &[usize]) -> Result<Self> {
        features.check_rows(rows)?;
        if rows.is_empty() {
            return Err(RiskError::Features(FeatureFault::NoTrainingRows));
        }
        let p = features.columns.len();
        let n = rows.len() as f64;
        let mut means = vec![0.0; p];
        for &i in rows {
            means.iter_mut().zip(features.row(i)).for_each(|(m, x)| *m += x);
        }
        means.iter_mut().for_each(|m| *m /= n);
        let mut squares = vec![0.0; p];
        for &i in rows {
            for ((s, x), m) in squares.iter_mut().zip(features.row(i)).zip(&means) {
                *s += (x - m) * (x - m);
            }
        }
        let scales = squares.iter().map(|s| (s / n).sqrt()).map(|sd| if sd > 0.0 { sd } else { 1.0 }).collect();
        Ok(Standardiser { means, scales })
    }

    /// Appends the standardised `row` to `out`.
    pub fn transform_into(&self, row: &[f64], out: &mut Vec<f64>) {
        out.extend(row.iter().zip(&self.means).zip(&self.scales).map(|((x, m), s)| (x - m) / s));
    }
}
