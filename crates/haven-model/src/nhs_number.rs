//! NHS number: ten digits with a modulus-11 check digit.
//!
//! Rule source: NHS Data Model and Dictionary "NHS NUMBER" and the HES TOS
//! NEWNHSNO_CHECK derivation, as summarised in `shared/reference/datasets.md`
//! §8.1 and §11.10. The value is patient-identifying, so `Debug` and `Display`
//! redact it; code that is allowed to see the digits calls [`NhsNumber::expose`].

use std::fmt;

use crate::error::{ModelError, NhsNumberFault};

/// A validated NHS number.
///
/// Stored as a `u64` (ten digits fit) so that it is `Copy` and cheap to hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber(u64);

/// Weights applied to digits 1–9 (datasets.md §8.1, step 1).
const WEIGHTS: [u64; 9] = [10, 9, 8, 7, 6, 5, 4, 3, 2];

/// The HES dummy number that passes modulus 11 but is treated as invalid.
const DUMMY: u64 = 2_333_455_667;

impl NhsNumber {
    /// Parses ten digits, allowing the display form `943 476 5919` (spaces or
    /// hyphens between the 3-3-4 groups).
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let mut digits = [0u8; 10];
        let mut n = 0;
        for b in text.trim().bytes() {
            match b {
                b'0'..=b'9' => {
                    if n == 10 {
                        return Err(ModelError::NhsNumber(NhsNumberFault::Length));
                    }
                    digits[n] = b - b'0';
                    n += 1;
                }
                b' ' | b'-' => {}
                _ => return Err(ModelError::NhsNumber(NhsNumberFault::NonDigit)),
            }
        }
        if n != 10 {
            return Err(ModelError::NhsNumber(NhsNumberFault::Length));
        }
        Self::from_digits(digits)
    }

    fn from_digits(d: [u8; 10]) -> Result<Self, ModelError> {
        let fault = |f| Err(ModelError::NhsNumber(f));
        let check = match check_digit(&d[..9]) {
            Some(c) => c,
            None => return fault(NhsNumberFault::CheckDigitTen),
        };
        if check != d[9] {
            return fault(NhsNumberFault::CheckDigitMismatch);
        }
        // HES NEWNHSNO_CHECK extra rules (datasets.md §8.1).
        if d.iter().all(|&x| x == d[0]) {
            return fault(NhsNumberFault::AllIdentical);
        }
        let value = d.iter().fold(0u64, |acc, &x| acc * 10 + u64::from(x));
        if value == DUMMY || (d[0] == d[9] && d[1..9].iter().all(|&x| x == 0)) {
            return fault(NhsNumberFault::Dummy);
        }
        Ok(NhsNumber(value))
    }

    /// Builds a number from its first nine digits (`0..1_000_000_000`),
    /// appending the check digit. Returns `None` where no valid number exists
    /// (check digit 10, or a pattern HES rejects). Used by the generator.
    pub fn from_first_nine(nine: u64) -> Option<Self> {
        if nine >= 1_000_000_000 {
            return None;
        }
        let mut d = [0u8; 10];
        let mut rest = nine;
        for i in (0..9).rev() {
            d[i] = (rest % 10) as u8;
            rest /= 10;
        }
        d[9] = check_digit(&d[..9])?;
        Self::from_digits(d).ok()
    }

    /// The ten digits. Only code running inside a zone that may hold NHS
    /// numbers (staging, CEfF, direct care) should call this.
    pub fn expose(&self) -> String {
        format!("{:010}", self.0)
    }

    /// The number as an integer, for keyed hashing without allocation.
    pub fn as_u64(&self) -> u64 {
        self.0
    }
}

/// Check digit for nine digits, or `None` when it would be 10 (never issued).
pub fn check_digit(nine: &[u8]) -> Option<u8> {
    let sum: u64 = nine.iter().zip(WEIGHTS).map(|(&d, w)| u64::from(d) * w).sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        c => Some(c as u8),
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber(<redacted>)")
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<NHS number redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fault(text: &str) -> NhsNumberFault {
        match NhsNumber::parse(text) {
            Err(ModelError::NhsNumber(f)) => f,
            other => panic!("expected an NHS-number fault for a test value, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn worked_example_from_the_data_dictionary() {
        // 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9.
        let n = NhsNumber::parse("943 476 5919").unwrap();
        assert_eq!(n.expose(), "9434765919");
        assert_eq!(fault("9434765918"), NhsNumberFault::CheckDigitMismatch);
    }

    #[test]
    fn edge_cases_are_refused_with_their_reason() {
        assert_eq!(fault("0000000000"), NhsNumberFault::AllIdentical);
        // sum 54, 54 mod 11 = 10, check 1: passes modulus 11, refused as all identical.
        assert_eq!(fault("1111111111"), NhsNumberFault::AllIdentical);
        assert_eq!(fault("2333455667"), NhsNumberFault::Dummy);
        // 4000000004: sum 40, 40 mod 11 = 7, check 4 → passes mod 11 but N00000000N.
        assert_eq!(fault("4000000004"), NhsNumberFault::Dummy);
        assert_eq!(fault("943476591"), NhsNumberFault::Length);
        assert_eq!(fault("94347659190"), NhsNumberFault::Length);
        assert_eq!(fault("94347A5919"), NhsNumberFault::NonDigit);
        assert_eq!(fault(""), NhsNumberFault::Length);
        // 1000000060: sum 10+6*2... digits 1,0,0,0,0,0,0,0,6 → 10+12 = 22 → rem 0 → check 0 ✓
        assert!(NhsNumber::parse("1000000060").is_ok());
        // 0000000019? digits ...0,1 → sum 2 → check 9 ✓ (leading zeros are kept)
        assert_eq!(NhsNumber::parse("0000000019").unwrap().expose(), "0000000019");
    }

    #[test]
    fn check_digit_ten_is_never_issued() {
        // 1000000080? find nine digits whose sum mod 11 == 1: digit9=... use 000000005: 5*2=10 → rem 10 → check 1.
        // 000000006 → 12 mod 11 = 1 → 11-1 = 10 → invalid.
        assert_eq!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 6]), None);
        assert_eq!(fault("0000000060"), NhsNumberFault::CheckDigitTen);
    }

    #[test]
    fn display_and_debug_redact() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert!(!format!("{n}").contains("943"));
        assert!(!format!("{n:?}").contains("943"));
    }

    proptest! {
        #[test]
        fn from_first_nine_round_trips(nine in 0u64..1_000_000_000) {
            if let Some(n) = NhsNumber::from_first_nine(nine) {
                prop_assert_eq!(NhsNumber::parse(&n.expose()).unwrap(), n);
                prop_assert_eq!(n.as_u64() / 10, nine);
            }
        }

        #[test]
        fn changing_one_digit_is_always_detected(nine in 0u64..1_000_000_000, pos in 0usize..10, delta in 1u8..10) {
            if let Some(n) = NhsNumber::from_first_nine(nine) {
                let mut digits: Vec<u8> = n.expose().bytes().map(|b| b - b'0').collect();
                digits[pos] = (digits[pos] + delta) % 10;
                let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
                // Modulus 11 with distinct weights catches every single-digit error.
                prop_assert!(NhsNumber::parse(&text).is_err());
            }
        }
    }
}
