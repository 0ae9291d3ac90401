//! The choices of the 30-day emergency readmission indicator that its
//! source leaves open (methods.md §2.1: NHS Digital Compendium I02040 v3,
//! CCG OIS 3.2 v1.4). Only the opening sections of the specification could
//! be read, so the index specialty list and the cancer code list are
//! UNCONFIRMED there; each is an option here, with the usual choice of this
//! family of indicators as the default.

/// Prefixes of normalised ICD-10 codes (upper case, no dot) that mark a
/// readmitting spell as cancer or chemotherapy for cancer. The default is
/// the typical implementation methods.md §2.1 names: C00–C97 (every `C`
/// code: malignant, so benign and in-situ `D` codes stay counted) and
/// Z51.1/Z51.2 (chemotherapy sessions).
pub const CANCER_OR_CHEMOTHERAPY: [&str; 3] = ["C", "Z511", "Z512"];

/// Whether a normalised ICD-10 `code` starts with one of `prefixes`.
pub fn is_cancer_or_chemotherapy<S: AsRef<str>>(code: &str, prefixes: &[S]) -> bool {
    !code.is_empty() && prefixes.iter().any(|p| code.starts_with(p.as_ref()))
}

/// The open choices of the readmission indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadmissionOptions {
    /// Readmissions count from 0 to `days - 1` days after discharge: 30 in
    /// I02040 v3 (0–29 inclusive); the older NCHOD version used 28.
    pub days: u16,
    /// Index spells only from these main specialties ("selected medical and
    /// surgical specialties", list UNCONFIRMED); `None` counts every
    /// specialty.
    pub index_specialties: Option<Vec<String>>,
    /// Main specialties of the readmitting spell that do not count:
    /// obstetrics (501) in v3; the older version excluded mental health.
    pub excluded_specialties: Vec<String>,
    /// ICD-10 prefixes that exclude a readmitting spell when coded in any
    /// position of any of its episodes (empty: no exclusion). Spells derived
    /// at ingest carry the flag for [`CANCER_OR_CHEMOTHERAPY`]; another list
    /// is applied to the episodes at query time.
    pub cancer_codes: Vec<String>,
}

impl Default for ReadmissionOptions {
    fn default() -> Self {
        ReadmissionOptions {
            days: 30,
            index_specialties: None,
            excluded_specialties: vec!["501".to_owned()],
            cancer_codes: CANCER_OR_CHEMOTHERAPY.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl ReadmissionOptions {
    /// Whether the cancer exclusion is the one derived spells carry.
    pub fn default_cancer_codes(&self) -> bool {
        self.cancer_codes.iter().map(String::as_str).eq(CANCER_OR_CHEMOTHERAPY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malignant_and_chemotherapy_codes_exclude_benign_and_in_situ_do_not() {
        let p = &CANCER_OR_CHEMOTHERAPY;
        for code in ["C509", "C00", "C97X", "Z511", "Z512"] {
            assert!(is_cancer_or_chemotherapy(code, p), "{code}");
        }
        // D00-D09 in situ, D10-D36 benign, Z51.0 radiotherapy, Z51.3 transfusion.
        for code in ["D050", "D259", "Z510", "Z513", "I10X", ""] {
            assert!(!is_cancer_or_chemotherapy(code, p), "{code}");
        }
        assert!(!is_cancer_or_chemotherapy("C509", &[] as &[&str]));
        assert!(ReadmissionOptions::default().default_cancer_codes());
        assert!(!ReadmissionOptions { cancer_codes: vec![], ..Default::default() }.default_cancer_codes());
    }
}
