//! The synthetic ground truth's per-person log-risk (`haven-synth`'s
//! `ground_truth/persons.psv`), keyed by the pseudonym this store gives
//! each NHS number. Only the columns named in the header are used; the
//! file's NHS numbers never leave this function.

use std::collections::HashMap;

use crate::AppError;

/// `NEWNHSNO` and `LOG_RISK` of every row, the NHS number turned into a
/// pseudonym by `token`. A row that cannot be read is an error naming its
/// line and field, never its value.
pub fn parse(text: &str, token: impl Fn(u64) -> String) -> Result<HashMap<String, f64>, AppError> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('|').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or_else(|| AppError::Invalid(format!("the ground truth file has no {name} column")));
    let (nhs, risk) = (col("NEWNHSNO")?, col("LOG_RISK")?);
    let mut out = HashMap::new();
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
        let fields: Vec<&str> = line.split('|').collect();
        let bad = |field: &str| AppError::Invalid(format!("ground truth line {}: {field} is not readable", i + 2));
        let number: u64 = fields.get(nhs).and_then(|v| v.parse().ok()).ok_or_else(|| bad("NEWNHSNO"))?;
        let log_risk: f64 = fields.get(risk).and_then(|v| v.parse().ok()).filter(|v: &f64| v.is_finite()).ok_or_else(|| bad("LOG_RISK"))?;
        out.insert(token(number), log_risk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_keyed_by_token_and_bad_rows_name_line_and_field_only() {
        let text = "NEWNHSNO|TOKEN_PERSON_ID|LOG_RISK\n9000000009|x|-2.5\n9000000017|y|0.25\n";
        let got = parse(text, |n| format!("t{n}")).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got["t9000000009"], -2.5);
        assert_eq!(got["t9000000017"], 0.25);
        let err = parse("NEWNHSNO|LOG_RISK\n9000000009|high\n", |n| n.to_string()).unwrap_err().to_string();
        assert_eq!(err, "ground truth line 2: LOG_RISK is not readable");
        assert!(!err.contains("9000000009"), "no value from the file in the error");
        assert!(parse("A|B\n", |n| n.to_string()).unwrap_err().to_string().contains("no NEWNHSNO column"));
    }
}
