//! Values an extract writes in a code field to mean "nothing recorded in
//! this position", read as null rather than as a faulty code.
//!
//! HES writes `-` and `&` in coded positions: the HES Data Dictionary's
//! operation fields read "4an = Procedure code, - = No operation performed,
//! & = Not known" (`domproc`, hesonline.org.uk). In an operation field both
//! are information and are kept (`haven_model::opcs4::ProcedureField`). In
//! the diagnosis and external cause fields, whose dictionary values are
//! "a valid ICD-10 diagnosis code ... null = not applicable" (`diag_nn`)
//! and "ICD-10 code in the range V01-Y98, null = ... no cause code found"
//! (`cause`), they are not codes: NHS Digital's own artificial data
//! generator counts a diagnosis as coded only when it is
//! `not null and not in ('&', '-')` (NHSDigital/artificial-data-generator,
//! `coded_fields.py`), and its artificial HES APC has `-` in DIAG_3_02 /
//! DIAG_4_02 of 776 of 2,075 rows (`Z38,-` in DIAG_4_CONCAT). So there
//! they are read as null, not as faulty codes. Elsewhere, not-known codes
//! (`99`, `9`, `&`, `R69X`, `X`, `Z`) are information and stay as codes
//! (datasets.md §10.0): `&` in MAINSPEF, TRETSPEF or GPPRAC, `X` in ETHNOS.
//!
//! The list is configurable (`haven ingest --null-placeholders`): the
//! dictionary's `diag_nn` page does not name `-` itself, so this follows
//! NHS Digital's generator rather than a published rule.

use std::fmt;

/// Field-name prefixes and the values that mean "not recorded" in them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NullPlaceholders {
    rules: Vec<(String, String)>,
}

impl Default for NullPlaceholders {
    /// `-` and `&` in the diagnosis and external cause positions.
    fn default() -> Self {
        let fields = ["DIAG_3_", "DIAG_4_", "CAUSE_3", "CAUSE_4"];
        let rules = fields.iter().flat_map(|f| ["-", "&"].map(|v| (f.to_string(), v.to_owned()))).collect();
        NullPlaceholders { rules }
    }
}

impl NullPlaceholders {
    /// No placeholders: every value is parsed as a code.
    pub fn none() -> NullPlaceholders {
        NullPlaceholders { rules: Vec::new() }
    }

    /// Parses `FIELD_PREFIX=VALUE[,FIELD_PREFIX=VALUE...]`, or `none`.
    pub fn parse(spec: &str) -> Result<NullPlaceholders, String> {
        if spec.trim().eq_ignore_ascii_case("none") {
            return Ok(NullPlaceholders::none());
        }
        let mut rules = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value) = part.split_once('=').ok_or_else(|| format!("{part:?}: expected FIELD_PREFIX=VALUE"))?;
            let (field, value) = (field.trim().to_ascii_uppercase(), value.trim());
            if field.is_empty() || !field.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("{field:?}: a field prefix is letters, digits and _"));
            }
            if value.is_empty() || value.len() > 4 {
                return Err(format!("placeholder for {field}: expected 1 to 4 characters"));
            }
            rules.push((field, value.to_owned()));
        }
        Ok(NullPlaceholders { rules })
    }

    /// The placeholder values of field `name`.
    pub fn for_field(&self, name: &str) -> Vec<String> {
        self.rules.iter().filter(|(prefix, _)| name.starts_with(prefix.as_str())).map(|(_, v)| v.clone()).collect()
    }
}

impl fmt::Display for NullPlaceholders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rules.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self.rules.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_dashes_are_placeholders_and_procedures_keep_theirs() {
        let p = NullPlaceholders::default();
        assert_eq!(p.for_field("DIAG_4_02"), ["-", "&"]);
        assert_eq!(p.for_field("CAUSE_4"), ["-", "&"]);
        // OPERTN `-` is "no operation performed": a value, not a blank.
        assert!(p.for_field("OPERTN_4_01").is_empty());
        assert!(p.for_field("MAINSPEF").is_empty(), "& stays a code");
    }

    #[test]
    fn the_list_parses_round_trips_and_refuses_nonsense() {
        let p = NullPlaceholders::parse("diag_4_=-, TRETSPEF=&").unwrap();
        assert_eq!(p.for_field("TRETSPEF"), ["&"]);
        assert_eq!(NullPlaceholders::parse(&p.to_string()).unwrap(), p);
        assert_eq!(NullPlaceholders::parse("none").unwrap(), NullPlaceholders::none());
        assert_eq!(NullPlaceholders::parse(&NullPlaceholders::default().to_string()).unwrap(), NullPlaceholders::default());
        for bad in ["DIAG_4_", "=-", "DIAG 4=-", "DIAG_4_=", "DIAG_4_=ABCDE"] {
            assert!(NullPlaceholders::parse(bad).is_err(), "{bad}");
        }
    }
}
