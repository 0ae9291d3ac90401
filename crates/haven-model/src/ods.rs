//! ODS organisation codes, checked for the shape of their kind, and the HES
//! `GPPRAC` field with its default codes.
//!
//! Commissioning flows name organisations by Organisation Data Service (ODS)
//! code: the registered GP practice decides the responsible commissioner
//! (datasets.md §11.7), the provider and site codes key invoice matching, and
//! sub-ICB / ICB codes are the unit of every commissioner report. A code of the
//! wrong shape in one of those columns is a data-quality fault worth catching
//! at the parser rather than as a silent join miss later.
//!
//! Source: `shared/reference/datasets.md` §8.2 (from the NHS Data Dictionary
//! ORGANISATION CODE and SITE CODE frames and the HES TOS PROCODE note) and
//! §1.5 (GPPRAC defaults `V81997`/`V81998`/`V81999`/`&`, HES TOS).
//!
//! Only the *shape* is checked here. Whether a code exists, and when it was
//! open, needs the ODS reference tables (datasets.md §10.10). Organisation codes
//! are not patient data, so [`OdsCode`] displays its code; errors still carry
//! only static reasons, like every [`ModelError`].

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::error::ModelError;

/// The longest code of any kind handled here (GP practice and PCN: 6).
const MAX_LEN: usize = 6;

/// The kind of organisation a code names; each kind has its own shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OdsKind {
    /// Letter + five digits (`A81001`; English practices begin A–P, Welsh `W`).
    GpPractice,
    /// Primary care network: `U` + five digits (`U12345`).
    Pcn,
    /// Sub-ICB location (former CCG): `93C`, or new-style `M2L0M`.
    SubIcb,
    /// Integrated care board: `Q` + two letters or digits (`QMJ`, `QE1`).
    Icb,
    /// NHS England region: `Y` + two digits (`Y63`).
    Region,
    /// NHS trust: `R`/`T` + two letters or digits (`RXX`, `TAJ`), or a
    /// five-character `ANANA` code for organisations created from October 2020.
    Trust,
    /// Site of a trust: the trust code + two letters or digits (`RXX01`), or a
    /// five-character `ANANA` code.
    Site,
    /// Independent-sector provider: 3–5 letters or digits beginning `N` or `8`
    /// (`NT4`, `8HA03`).
    IndependentProvider,
}

impl OdsKind {
    /// A readable name, used in error messages (`"GP practice"`).
    pub fn name(self) -> &'static str {
        match self {
            OdsKind::GpPractice => "GP practice",
            OdsKind::Pcn => "PCN",
            OdsKind::SubIcb => "sub-ICB location",
            OdsKind::Icb => "ICB",
            OdsKind::Region => "NHS England region",
            OdsKind::Trust => "NHS trust",
            OdsKind::Site => "site",
            OdsKind::IndependentProvider => "independent-sector provider",
        }
    }

    /// Position in declaration order; gives [`OdsCode`] a total order.
    fn rank(self) -> u8 {
        match self {
            OdsKind::GpPractice => 0,
            OdsKind::Pcn => 1,
            OdsKind::SubIcb => 2,
            OdsKind::Icb => 3,
            OdsKind::Region => 4,
            OdsKind::Trust => 5,
            OdsKind::Site => 6,
            OdsKind::IndependentProvider => 7,
        }
    }
}

/// An organisation code whose shape matches its kind, stored upper-cased.
///
/// Held inline (no allocation) because parsers build one per row. Ordered by
/// code text, then kind.
#[derive(Clone)]
pub struct OdsCode {
    bytes: [u8; MAX_LEN],
    len: u8,
    kind: OdsKind,
}

impl OdsCode {
    /// Trims surrounding whitespace, upper-cases and checks the shape for
    /// `kind`. For [`OdsKind::GpPractice`] the HES defaults `V81997`–`V81999`
    /// are refused: they are not practices (parse `GPPRAC` with
    /// [`PracticeField::parse`] instead).
    pub fn parse(kind: OdsKind, text: &str) -> Result<OdsCode, ModelError> {
        let fail = |reason| {
            Err(ModelError::OdsCode {
                kind: kind.name(),
                reason,
            })
        };
        let t = text.trim().as_bytes();
        if t.is_empty() {
            return fail("is empty");
        }
        if t.len() > MAX_LEN {
            return fail(length_reason(kind));
        }
        let mut bytes = [0u8; MAX_LEN];
        for (slot, &c) in bytes.iter_mut().zip(t) {
            if !c.is_ascii_alphanumeric() {
                return fail("contains a character that is not a letter or digit");
            }
            *slot = c.to_ascii_uppercase();
        }
        let code = &bytes[..t.len()];
        if let Err(reason) = check_shape(kind, code) {
            return fail(reason);
        }
        Ok(OdsCode {
            bytes,
            len: t.len() as u8,
            kind,
        })
    }

    /// The upper-cased code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .expect("ODS codes are ASCII by construction")
    }

    pub fn kind(&self) -> OdsKind {
        self.kind
    }
}

/// The reason given when a code has the wrong length for its kind.
fn length_reason(kind: OdsKind) -> &'static str {
    match kind {
        OdsKind::GpPractice => "must be 6 characters: a letter and five digits",
        OdsKind::Pcn => "must be 6 characters: U and five digits",
        OdsKind::SubIcb => {
            "must be 3 characters (digit, digit, letter) or 5 (letter-digit alternating)"
        }
        OdsKind::Icb => "must be 3 characters: Q and two letters or digits",
        OdsKind::Region => "must be 3 characters: Y and two digits",
        OdsKind::Trust => "must be 3 characters, or 5 alternating letter-digit",
        OdsKind::Site => "must be 5 characters",
        OdsKind::IndependentProvider => "must be 3 to 5 characters",
    }
}

/// Checks an upper-cased, all-alphanumeric code against the shape of `kind`
/// (datasets.md §8.2).
fn check_shape(kind: OdsKind, b: &[u8]) -> Result<(), &'static str> {
    let len_err = Err(length_reason(kind));
    match kind {
        OdsKind::GpPractice => {
            if b.len() != 6 {
                return len_err;
            }
            if !b[0].is_ascii_uppercase() {
                return Err("must start with a letter");
            }
            if !all_digits(&b[1..]) {
                return Err("must end with five digits");
            }
            if matches!(b, b"V81997" | b"V81998" | b"V81999") {
                return Err("is a HES default code (V81997-V81999), not a practice");
            }
            Ok(())
        }
        OdsKind::Pcn => {
            if b.len() != 6 {
                return len_err;
            }
            if b[0] != b'U' || !all_digits(&b[1..]) {
                return Err("must be U followed by five digits");
            }
            Ok(())
        }
        OdsKind::SubIcb => match b.len() {
            3 if b[0].is_ascii_digit() && b[1].is_ascii_digit() && b[2].is_ascii_uppercase() => {
                Ok(())
            }
            3 => Err("3-character codes must be digit, digit, letter"),
            5 if is_anana(b) => Ok(()),
            5 => Err("5-character codes must alternate letter and digit (ANANA)"),
            _ => len_err,
        },
        OdsKind::Icb => {
            if b.len() != 3 {
                return len_err;
            }
            if b[0] != b'Q' {
                return Err("must start with Q");
            }
            Ok(())
        }
        OdsKind::Region => {
            if b.len() != 3 {
                return len_err;
            }
            if b[0] != b'Y' || !all_digits(&b[1..]) {
                return Err("must be Y followed by two digits");
            }
            Ok(())
        }
        OdsKind::Trust => match b.len() {
            3 if matches!(b[0], b'R' | b'T') => Ok(()),
            3 => Err("3-character codes must start with R or T"),
            5 if is_anana(b) => Ok(()),
            5 => Err("5-character codes must alternate letter and digit (ANANA)"),
            _ => len_err,
        },
        OdsKind::Site => {
            if b.len() != 5 {
                return len_err;
            }
            if matches!(b[0], b'R' | b'T') || is_anana(b) {
                Ok(())
            } else {
                Err("must be a trust code (R or T) plus two characters, or alternate letter and digit (ANANA)")
            }
        }
        OdsKind::IndependentProvider => {
            if !(3..=5).contains(&b.len()) {
                return len_err;
            }
            if !matches!(b[0], b'N' | b'8') {
                return Err("must start with N or 8");
            }
            Ok(())
        }
    }
}

fn all_digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

/// Letter, digit, letter, digit, letter: the post-October-2020 code structure.
fn is_anana(b: &[u8]) -> bool {
    b.len() == 5
        && b.iter().enumerate().all(|(i, c)| {
            if i % 2 == 0 {
                c.is_ascii_uppercase()
            } else {
                c.is_ascii_digit()
            }
        })
}

impl PartialEq for OdsCode {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.as_str() == other.as_str()
    }
}

impl Eq for OdsCode {}

impl Hash for OdsCode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
        self.kind.hash(state);
    }
}

impl PartialOrd for OdsCode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OdsCode {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str()
            .cmp(other.as_str())
            .then_with(|| self.kind.rank().cmp(&other.kind.rank()))
    }
}

impl fmt::Debug for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdsCode")
            .field("kind", &self.kind)
            .field("code", &self.as_str())
            .finish()
    }
}

/// Organisation codes are not patient data: the code itself is shown.
impl fmt::Display for OdsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The HES GPPRAC field: a practice or one of the default codes.
///
/// datasets.md §1.5: `V81997` registered nowhere but eligible, `V81998` not
/// applicable, `V81999` not known (as submitted), `&` not known (derived by
/// HES). The responsible-commissioner rule (§11.7) treats all four as "no
/// practice" and falls back to residence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PracticeField {
    Practice(OdsCode),
    /// `V81997`: not registered with a practice.
    NotRegistered,
    /// `V81998`: not applicable.
    NotApplicable,
    /// `V81999` (submitted) or `&` (derived): not known.
    NotKnown,
}

impl PracticeField {
    /// Parses a GPPRAC value after trimming whitespace. An empty value is an
    /// error; the caller decides whether a missing field is null.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let t = text.trim();
        if t == "&" || t.eq_ignore_ascii_case("V81999") {
            Ok(PracticeField::NotKnown)
        } else if t.eq_ignore_ascii_case("V81997") {
            Ok(PracticeField::NotRegistered)
        } else if t.eq_ignore_ascii_case("V81998") {
            Ok(PracticeField::NotApplicable)
        } else {
            OdsCode::parse(OdsKind::GpPractice, t).map(PracticeField::Practice)
        }
    }

    /// The practice, or `None` for the default codes.
    pub fn practice(&self) -> Option<&OdsCode> {
        match self {
            PracticeField::Practice(code) => Some(code),
            _ => None,
        }
    }

    /// The value as HES writes it. `NotKnown` becomes `V81999` whether it was
    /// read from `V81999` or `&`: the two mean the same for every Haven rule.
    pub fn as_code(&self) -> &str {
        match self {
            PracticeField::Practice(code) => code.as_str(),
            PracticeField::NotRegistered => "V81997",
            PracticeField::NotApplicable => "V81998",
            PracticeField::NotKnown => "V81999",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL_KINDS: [OdsKind; 8] = [
        OdsKind::GpPractice,
        OdsKind::Pcn,
        OdsKind::SubIcb,
        OdsKind::Icb,
        OdsKind::Region,
        OdsKind::Trust,
        OdsKind::Site,
        OdsKind::IndependentProvider,
    ];

    /// Parses and returns the normalised text, or the static reason.
    fn check(kind: OdsKind, text: &str) -> Result<String, &'static str> {
        match OdsCode::parse(kind, text) {
            Ok(code) => {
                assert_eq!(code.kind(), kind);
                Ok(code.as_str().to_owned())
            }
            Err(ModelError::OdsCode { kind: name, reason }) => {
                assert_eq!(name, kind.name());
                Err(reason)
            }
            Err(other) => panic!("unexpected error variant {other:?}"),
        }
    }

    #[test]
    fn gp_practices() {
        assert_eq!(check(OdsKind::GpPractice, "A81001").unwrap(), "A81001");
        assert_eq!(check(OdsKind::GpPractice, " l81044 ").unwrap(), "L81044");
        // Welsh practice and a Y-coded (non-standard) practice from the artificial HES sample.
        assert!(check(OdsKind::GpPractice, "W95010").is_ok());
        assert!(check(OdsKind::GpPractice, "Y01139").is_ok());
        assert_eq!(
            check(OdsKind::GpPractice, "A8100"),
            Err("must be 6 characters: a letter and five digits")
        );
        assert_eq!(
            check(OdsKind::GpPractice, "981001"),
            Err("must start with a letter")
        );
        assert_eq!(
            check(OdsKind::GpPractice, "A8100X"),
            Err("must end with five digits")
        );
        assert_eq!(
            check(OdsKind::GpPractice, "A81-01"),
            Err("contains a character that is not a letter or digit")
        );
        assert_eq!(check(OdsKind::GpPractice, "   "), Err("is empty"));
        assert_eq!(
            check(OdsKind::GpPractice, "v81999"),
            Err("is a HES default code (V81997-V81999), not a practice")
        );
        assert!(check(OdsKind::GpPractice, "V81996").is_ok());
    }

    #[test]
    fn pcns_regions_and_icbs() {
        assert!(check(OdsKind::Pcn, "U12345").is_ok());
        assert_eq!(
            check(OdsKind::Pcn, "A12345"),
            Err("must be U followed by five digits")
        );
        assert_eq!(check(OdsKind::Region, "y63").unwrap(), "Y63");
        assert_eq!(
            check(OdsKind::Region, "Y6A"),
            Err("must be Y followed by two digits")
        );
        assert_eq!(
            check(OdsKind::Region, "Y630"),
            Err("must be 3 characters: Y and two digits")
        );
        for icb in ["QMJ", "QWE", "QYG", "QE1", "QU9"] {
            assert_eq!(check(OdsKind::Icb, icb).unwrap(), icb);
        }
        assert_eq!(check(OdsKind::Icb, "RMJ"), Err("must start with Q"));
        assert_eq!(
            check(OdsKind::Icb, "QMJ00"),
            Err("must be 3 characters: Q and two letters or digits")
        );
    }

    #[test]
    fn sub_icb_locations_old_and_new_style() {
        for code in [
            "93C", "01F", "15N", "36L", "13Q", "M2L0M", "B2M3M", "W2U3Z", "A3A8R", "D4U1Y",
        ] {
            assert_eq!(check(OdsKind::SubIcb, code).unwrap(), code);
        }
        assert_eq!(check(OdsKind::SubIcb, "m2l0m").unwrap(), "M2L0M");
        assert_eq!(
            check(OdsKind::SubIcb, "9C3"),
            Err("3-character codes must be digit, digit, letter")
        );
        assert_eq!(
            check(OdsKind::SubIcb, "QMJ"),
            Err("3-character codes must be digit, digit, letter")
        );
        assert_eq!(
            check(OdsKind::SubIcb, "93C00"),
            Err("5-character codes must alternate letter and digit (ANANA)")
        );
        assert_eq!(
            check(OdsKind::SubIcb, "93CC"),
            Err("must be 3 characters (digit, digit, letter) or 5 (letter-digit alternating)")
        );
    }

    #[test]
    fn trusts_sites_and_independent_providers() {
        for code in ["RXX", "RJ1", "TAJ", "R0A1B"] {
            assert!(check(OdsKind::Trust, code).is_ok(), "{code}");
        }
        assert_eq!(
            check(OdsKind::Trust, "QXX"),
            Err("3-character codes must start with R or T")
        );
        assert_eq!(
            check(OdsKind::Trust, "RXX01"),
            Err("5-character codes must alternate letter and digit (ANANA)")
        );
        assert_eq!(
            check(OdsKind::Trust, "RX"),
            Err("must be 3 characters, or 5 alternating letter-digit")
        );

        for code in ["RXX01", "RJ122", "RFKRA", "RHQNG", "TAJ01", "A1B2C"] {
            assert!(check(OdsKind::Site, code).is_ok(), "{code}");
        }
        assert_eq!(check(OdsKind::Site, "RXX"), Err("must be 5 characters"));
        assert_eq!(
            check(OdsKind::Site, "8HA03"),
            Err("must be a trust code (R or T) plus two characters, or alternate letter and digit (ANANA)")
        );

        for code in ["NT4", "8HA03", "NVC01", "NXA"] {
            assert!(check(OdsKind::IndependentProvider, code).is_ok(), "{code}");
        }
        assert_eq!(
            check(OdsKind::IndependentProvider, "RXX"),
            Err("must start with N or 8")
        );
        assert_eq!(
            check(OdsKind::IndependentProvider, "NT"),
            Err("must be 3 to 5 characters")
        );
        assert_eq!(
            check(OdsKind::IndependentProvider, "NVC0123"),
            Err("must be 3 to 5 characters")
        );
    }

    #[test]
    fn errors_do_not_echo_the_value() {
        let err = OdsCode::parse(OdsKind::GpPractice, "ZZ9999")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "invalid GP practice code: must end with five digits");
        assert!(!err.contains("ZZ9999"));
    }

    #[test]
    fn display_ordering_and_equality() {
        let a = OdsCode::parse(OdsKind::Trust, "rxx").unwrap();
        assert_eq!(a.to_string(), "RXX");
        assert_eq!(format!("{a:?}"), r#"OdsCode { kind: Trust, code: "RXX" }"#);
        let b = OdsCode::parse(OdsKind::Trust, "RXX").unwrap();
        assert_eq!(a, b);
        // Same text, different kind: not equal.
        let icb = OdsCode::parse(OdsKind::Icb, "QE1").unwrap();
        let site = OdsCode::parse(OdsKind::Trust, "RJ1").unwrap();
        assert_ne!(icb, site);
        let mut codes = [
            OdsCode::parse(OdsKind::Site, "RXX01").unwrap(),
            OdsCode::parse(OdsKind::Trust, "RJ1").unwrap(),
            OdsCode::parse(OdsKind::Trust, "RXX").unwrap(),
        ];
        codes.sort();
        let order: Vec<&str> = codes.iter().map(OdsCode::as_str).collect();
        assert_eq!(order, ["RJ1", "RXX", "RXX01"]);
    }

    #[test]
    fn gpprac_defaults() {
        assert_eq!(
            PracticeField::parse("V81997").unwrap(),
            PracticeField::NotRegistered
        );
        assert_eq!(
            PracticeField::parse("v81998").unwrap(),
            PracticeField::NotApplicable
        );
        assert_eq!(
            PracticeField::parse("V81999").unwrap(),
            PracticeField::NotKnown
        );
        assert_eq!(
            PracticeField::parse(" & ").unwrap(),
            PracticeField::NotKnown
        );
        assert_eq!(PracticeField::parse("&").unwrap().as_code(), "V81999");
        assert_eq!(PracticeField::parse("V81997").unwrap().practice(), None);
        let p = PracticeField::parse("m88007").unwrap();
        assert_eq!(p.practice().map(OdsCode::as_str), Some("M88007"));
        assert_eq!(p.as_code(), "M88007");
        assert!(PracticeField::parse("").is_err());
        assert!(PracticeField::parse("&&").is_err());
    }

    fn valid_code() -> impl Strategy<Value = (OdsKind, String)> {
        prop_oneof![
            "[A-UW-Z][0-9]{5}".prop_map(|s| (OdsKind::GpPractice, s)),
            "U[0-9]{5}".prop_map(|s| (OdsKind::Pcn, s)),
            "[0-9]{2}[A-Z]|[A-Z][0-9][A-Z][0-9][A-Z]".prop_map(|s| (OdsKind::SubIcb, s)),
            "Q[A-Z0-9]{2}".prop_map(|s| (OdsKind::Icb, s)),
            "Y[0-9]{2}".prop_map(|s| (OdsKind::Region, s)),
            "[RT][A-Z0-9]{2}|[A-Z][0-9][A-Z][0-9][A-Z]".prop_map(|s| (OdsKind::Trust, s)),
            "[RT][A-Z0-9]{4}|[A-Z][0-9][A-Z][0-9][A-Z]".prop_map(|s| (OdsKind::Site, s)),
            "[N8][A-Z0-9]{2,4}".prop_map(|s| (OdsKind::IndependentProvider, s)),
        ]
    }

    proptest! {
        #[test]
        fn valid_shapes_parse_in_any_case((kind, code) in valid_code(), pad in "[ \t]{0,2}") {
            let parsed = OdsCode::parse(kind, &format!("{pad}{}{pad}", code.to_ascii_lowercase())).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
            prop_assert_eq!(parsed.kind(), kind);
            prop_assert_eq!(OdsCode::parse(kind, &parsed.to_string()).unwrap(), parsed);
        }

        #[test]
        fn longer_than_six_is_always_refused(kind_ix in 0usize..8, code in "[A-Z0-9]{7,12}") {
            prop_assert!(OdsCode::parse(ALL_KINDS[kind_ix], &code).is_err());
        }

        #[test]
        fn practice_field_round_trips(code in "[A-Z][0-9]{5}") {
            let field = PracticeField::parse(&code).unwrap();
            prop_assert_eq!(field.as_code(), code.as_str());
            prop_assert_eq!(PracticeField::parse(field.as_code()).unwrap(), field);
        }
    }
}
