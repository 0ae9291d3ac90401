//! HES age codes (`STARTAGE`, `APPTAGE`, `ARRIVALAGE`) and the 2013 European
//! Standard Population age bands.
//!
//! HES gives age in completed years, `0`–`120` with `120` meaning 120 or over,
//! except that patients under one year old get an infant band code
//! `7001`–`7007` instead of `0`. Indicators band ages from these codes and never
//! from date of birth in the analytics zone (datasets.md §11.6), so the codes
//! are the only age the analytics layer sees; directly standardised rates then
//! band them into the 19 five-year bands of the 2013 European Standard
//! Population.
//!
//! Source: `shared/reference/datasets.md` §1.5 (HES TOS `STARTAGE` and
//! `STARTAGE_CALC`) and §11.6 (age derivation rule), from the HES Technical
//! Output Specification; bands from `shared/reference/codelists/esp2013.csv`
//! (Eurostat 2013 revision of the European Standard Population).

use crate::error::ModelError;

/// A HES age code.
///
/// `Infant` is declared first so that the derived ordering follows age: every
/// infant band sorts before `Years(0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgeCode {
    /// Infant band 1–7, HES codes `7001`–`7007`: under 1 day, 1–6 days,
    /// 7–28 days, 29–90 days, 91–181 days, 182–272 days, 273 days to under
    /// 1 year.
    Infant(u8),
    /// Completed years, 0–120; `120` means 120 or over.
    Years(u8),
}

/// The oldest age HES records; it stands for "120 or over".
const MAX_YEARS: u8 = 120;

/// `STARTAGE_CALC` for infant bands 1–7 (datasets.md §1.5).
const INFANT_DECIMAL: [f64; 7] = [0.002, 0.010, 0.048, 0.167, 0.375, 0.625, 0.875];

/// Upper bound, in whole days old, of infant bands 1–6; band 7 runs from 273
/// days to the first birthday (datasets.md §1.5).
const INFANT_BAND_MAX_DAYS: [i32; 6] = [0, 6, 28, 90, 181, 272];

impl AgeCode {
    /// Parses an age field: `"54"`, `"7003"`, or the decimal form the
    /// artificial HES files use (`"54.0"`). A non-zero fraction is refused
    /// (that is `STARTAGE_CALC`, not an age code), as are empty values and the
    /// "not known" `999`.
    pub fn parse(text: &str) -> Result<AgeCode, ModelError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(ModelError::Age("is empty"));
        }
        let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ModelError::Age("is not a whole number"));
        }
        if !fraction.bytes().all(|b| b == b'0') {
            return Err(ModelError::Age(
                "has a fractional part (a decimal age is not an age code)",
            ));
        }
        let digits = whole.trim_start_matches('0');
        if digits.len() > 4 {
            return Err(ModelError::Age(
                "is neither 0-120 years nor an infant code 7001-7007",
            ));
        }
        let code = digits
            .bytes()
            .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
        AgeCode::from_code(code)
    }

    /// Builds an age from its HES integer code.
    pub fn from_code(code: u16) -> Result<AgeCode, ModelError> {
        match code {
            0..=120 => Ok(AgeCode::Years(code as u8)),
            7001..=7007 => Ok(AgeCode::Infant((code - 7000) as u8)),
            999 => Err(ModelError::Age("999 means not known, not an age")),
            _ => Err(ModelError::Age(
                "is neither 0-120 years nor an infant code 7001-7007",
            )),
        }
    }

    /// The HES integer: years, or `7001`–`7007` for infant bands.
    pub fn code(&self) -> u16 {
        match *self {
            AgeCode::Years(y) => u16::from(y),
            AgeCode::Infant(band) => 7000 + u16::from(band),
        }
    }

    /// Completed years; infant bands are 0 (datasets.md §11.6).
    pub fn years(&self) -> u8 {
        match *self {
            AgeCode::Years(y) => y,
            AgeCode::Infant(_) => 0,
        }
    }

    /// The HES `STARTAGE_CALC` value: years, or the infant band's fraction of
    /// a year (`7001` → 0.002 … `7007` → 0.875).
    pub fn decimal(&self) -> f64 {
        match *self {
            AgeCode::Years(y) => f64::from(y),
            AgeCode::Infant(band) => {
                let ix = usize::from(band.clamp(1, 7)) - 1;
                INFANT_DECIMAL[ix]
            }
        }
    }

    /// The age code for someone `days` days old (event date − birth date).
    ///
    /// Meant for infants: under 365 days this gives the HES band (<1 day →
    /// `7001`, 1–6 → `7002`, 7–28 → `7003`, 29–90 → `7004`, 91–181 → `7005`,
    /// 182–272 → `7006`, 273–364 → `7007`). Negative values (event before
    /// birth, a data fault) are treated as under one day. From 365 days it
    /// returns `floor(days / 365.25)` years, at least 1 and at most 120; that
    /// is only an approximation near birthdays, so the generator computes
    /// years from the two dates ([`crate::Date::age_on`]) and uses this only
    /// for the infant bands.
    pub fn from_days_old(days: i32) -> AgeCode {
        if days < 365 {
            let band = INFANT_BAND_MAX_DAYS
                .iter()
                .position(|&max| days <= max)
                .unwrap_or(6);
            return AgeCode::Infant(band as u8 + 1);
        }
        let years = (i64::from(days) * 100 / 36_525).clamp(1, i64::from(MAX_YEARS));
        AgeCode::Years(years as u8)
    }
}

/// The 19 five-year bands of the 2013 European Standard Population: "0-4",
/// "5-9", … "85-89", "90+" (see shared/reference/codelists/esp2013.csv).
pub const ESP2013_BANDS: [&str; 19] = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54",
    "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
];

/// Index into [`ESP2013_BANDS`] for an age in completed years (infants use
/// [`AgeCode::years`], i.e. 0, and fall in "0-4").
pub fn esp2013_band(years: u8) -> usize {
    usize::from(years / 5).min(ESP2013_BANDS.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reason(text: &str) -> &'static str {
        match AgeCode::parse(text) {
            Err(ModelError::Age(reason)) => reason,
            other => panic!("expected an age error, got {other:?}"),
        }
    }

    #[test]
    fn parses_hes_forms() {
        assert_eq!(AgeCode::parse("54").unwrap(), AgeCode::Years(54));
        assert_eq!(AgeCode::parse("54.0").unwrap(), AgeCode::Years(54));
        assert_eq!(AgeCode::parse(" 0 ").unwrap(), AgeCode::Years(0));
        assert_eq!(AgeCode::parse("120").unwrap(), AgeCode::Years(120));
        assert_eq!(AgeCode::parse("007").unwrap(), AgeCode::Years(7));
        assert_eq!(AgeCode::parse("54.").unwrap(), AgeCode::Years(54));
        assert_eq!(AgeCode::parse("7003").unwrap(), AgeCode::Infant(3));
        assert_eq!(AgeCode::parse("7001.00").unwrap(), AgeCode::Infant(1));
        assert_eq!(AgeCode::parse("7007").unwrap(), AgeCode::Infant(7));
    }

    #[test]
    fn refusals_have_static_reasons() {
        assert_eq!(reason(""), "is empty");
        assert_eq!(reason("  "), "is empty");
        assert_eq!(reason("999"), "999 means not known, not an age");
        assert_eq!(
            reason("121"),
            "is neither 0-120 years nor an infant code 7001-7007"
        );
        assert_eq!(
            reason("7000"),
            "is neither 0-120 years nor an infant code 7001-7007"
        );
        assert_eq!(
            reason("7008"),
            "is neither 0-120 years nor an infant code 7001-7007"
        );
        assert_eq!(
            reason("99999999"),
            "is neither 0-120 years nor an infant code 7001-7007"
        );
        assert_eq!(
            reason("62.75616438356165"),
            "has a fractional part (a decimal age is not an age code)"
        );
        assert_eq!(reason("-1"), "is not a whole number");
        assert_eq!(reason(".5"), "is not a whole number");
        assert_eq!(reason("5 4"), "is not a whole number");
        assert_eq!(reason("x"), "is not a whole number");
        let msg = AgeCode::parse("131").unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid age code: is neither 0-120 years nor an infant code 7001-7007"
        );
        assert!(!msg.contains("131"));
    }

    #[test]
    fn codes_years_and_decimals() {
        let infant = AgeCode::from_code(7005).unwrap();
        assert_eq!(infant, AgeCode::Infant(5));
        assert_eq!(infant.code(), 7005);
        assert_eq!(infant.years(), 0);
        assert_eq!(infant.decimal(), 0.375);
        let expected = [0.002, 0.010, 0.048, 0.167, 0.375, 0.625, 0.875];
        for (band, want) in (1u8..=7).zip(expected) {
            assert_eq!(AgeCode::Infant(band).decimal(), want);
        }
        let adult = AgeCode::from_code(83).unwrap();
        assert_eq!(
            (adult.code(), adult.years(), adult.decimal()),
            (83, 83, 83.0)
        );
        assert_eq!(AgeCode::Years(120).decimal(), 120.0);
    }

    #[test]
    fn ordering_follows_age() {
        let mut ages = vec![
            AgeCode::Years(1),
            AgeCode::Infant(7),
            AgeCode::Years(0),
            AgeCode::Infant(1),
        ];
        ages.sort();
        assert_eq!(
            ages,
            [
                AgeCode::Infant(1),
                AgeCode::Infant(7),
                AgeCode::Years(0),
                AgeCode::Years(1)
            ]
        );
    }

    #[test]
    fn infant_bands_from_days() {
        let cases = [
            (-3, 7001),
            (0, 7001),
            (1, 7002),
            (6, 7002),
            (7, 7003),
            (28, 7003),
            (29, 7004),
            (90, 7004),
            (91, 7005),
            (181, 7005),
            (182, 7006),
            (272, 7006),
            (273, 7007),
            (364, 7007),
            // 365 / 365.25 = 0.999: not an infant any more, so at least 1 year.
            (365, 1),
            // 731 / 365.25 = 2.001.
            (731, 2),
            // 36525 / 365.25 = 100.
            (36_525, 100),
            (36_524, 99),
            (60_000, 120),
            (i32::MAX, 120),
        ];
        for (days, code) in cases {
            assert_eq!(AgeCode::from_days_old(days).code(), code, "{days} days");
        }
    }

    #[test]
    fn esp2013_bands() {
        assert_eq!(ESP2013_BANDS.len(), 19);
        assert_eq!(ESP2013_BANDS[0], "0-4");
        assert_eq!(ESP2013_BANDS[17], "85-89");
        assert_eq!(ESP2013_BANDS[18], "90+");
        let cases = [
            (0, "0-4"),
            (4, "0-4"),
            (5, "5-9"),
            (54, "50-54"),
            (55, "55-59"),
            (89, "85-89"),
            (90, "90+"),
            (120, "90+"),
        ];
        for (years, band) in cases {
            assert_eq!(ESP2013_BANDS[esp2013_band(years)], band, "{years} years");
        }
        assert_eq!(
            ESP2013_BANDS[esp2013_band(AgeCode::Infant(4).years())],
            "0-4"
        );
    }

    proptest! {
        #[test]
        fn codes_round_trip(code in prop_oneof![0u16..=120, 7001u16..=7007]) {
            let age = AgeCode::from_code(code).unwrap();
            prop_assert_eq!(age.code(), code);
            prop_assert_eq!(AgeCode::parse(&code.to_string()).unwrap(), age);
            prop_assert_eq!(AgeCode::parse(&format!("{code}.0")).unwrap(), age);
        }

        #[test]
        fn other_codes_are_refused(code in any::<u16>()) {
            prop_assume!(!(code <= 120 || (7001..=7007).contains(&code)));
            prop_assert!(AgeCode::from_code(code).is_err());
        }

        #[test]
        fn older_is_never_younger(a in -10i32..50_000, b in -10i32..50_000) {
            let (young, old) = (a.min(b), a.max(b));
            let (ya, yb) = (AgeCode::from_days_old(young), AgeCode::from_days_old(old));
            prop_assert!(ya <= yb);
            prop_assert!(ya.decimal() <= yb.decimal());
        }

        #[test]
        fn band_contains_the_age(years in 0u8..=120) {
            let label = ESP2013_BANDS[esp2013_band(years)];
            let (lo, hi) = match label.split_once('-') {
                Some((lo, hi)) => (lo.parse::<u8>().unwrap(), hi.parse::<u8>().unwrap()),
                None => (label.trim_end_matches('+').parse::<u8>().unwrap(), u8::MAX),
            };
            prop_assert!(lo <= years && years <= hi);
        }
    }
}
