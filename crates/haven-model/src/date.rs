//! Calendar dates as days since 1970-01-01, with the HES date sentinels.
//!
//! A small hand-written type rather than a general date library: the generator
//! formats hundreds of millions of dates and the parsers read as many, so the
//! conversions here are allocation-free. Civil-calendar arithmetic follows
//! Howard Hinnant's `days_from_civil` algorithm (public domain).
//!
//! HES sentinels (datasets.md §1.2 and §11.11): `1800-01-01` means a null was
//! submitted and `1801-01-01` that an invalid date was submitted; both map to
//! "no date" with the reason kept in [`HesDate`].

use std::fmt;

use crate::error::ModelError;

/// A proleptic Gregorian date.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Date(i32);

/// A HES date field after sentinel handling.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HesDate {
    Known(Date),
    /// `1800-01-01`: the provider submitted no date.
    NullSubmitted,
    /// `1801-01-01`: the provider submitted an invalid date.
    InvalidSubmitted,
}

impl Date {
    /// Builds a date, checking month and day.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Result<Self, ModelError> {
        if !(1..=12).contains(&m) {
            return Err(ModelError::Date("month out of range"));
        }
        if d == 0 || d > days_in_month(y, m) {
            return Err(ModelError::Date("day out of range for month"));
        }
        Ok(Date(days_from_civil(y, m, d)))
    }

    /// Days since 1970-01-01 (negative before).
    pub fn from_days(days: i32) -> Self {
        Date(days)
    }

    pub fn days(self) -> i32 {
        self.0
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// The first day of this date's month.
    pub fn first_of_month(self) -> Date {
        let (_, _, d) = self.ymd();
        self.add_days(1 - d as i32)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    pub fn add_days(self, n: i32) -> Self {
        Date(self.0 + n)
    }

    /// `self − earlier` in days.
    pub fn days_since(self, earlier: Date) -> i32 {
        self.0 - earlier.0
    }

    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.0 + 3).rem_euclid(7) as u32
    }

    /// Parses `YYYY-MM-DD`, `YYYYMMDD` or `DD/MM/YYYY`; a trailing time part
    /// (`2001-09-27 00:00:00`, as in some HES exports) is ignored.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let t = text.trim();
        let t = t.split([' ', 'T']).next().unwrap_or(t);
        let b = t.as_bytes();
        let (y, m, d) = match b.len() {
            10 if b[4] == b'-' && b[7] == b'-' => (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?),
            10 if b[2] == b'/' && b[5] == b'/' => (num(&b[6..10])?, num(&b[3..5])?, num(&b[0..2])?),
            8 => (num(&b[0..4])?, num(&b[4..6])?, num(&b[6..8])?),
            _ => return Err(ModelError::Date("not YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY")),
        };
        Date::from_ymd(y as i32, m, d)
    }

    /// Writes `YYYY-MM-DD` into a buffer without allocating.
    pub fn write_iso(self, out: &mut Vec<u8>) {
        let (y, m, d) = self.ymd();
        let y = y.clamp(0, 9999) as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
            b'0' + (m / 10) as u8,
            b'0' + (m % 10) as u8,
            b'-',
            b'0' + (d / 10) as u8,
            b'0' + (d % 10) as u8,
        ]);
    }

    /// The NHS financial year (1 April – 31 March) containing this date, as
    /// its starting calendar year: 2024-05-01 → 2024 (i.e. 2024-25).
    pub fn financial_year(self) -> i32 {
        let (y, m, _) = self.ymd();
        if m >= 4 {
            y
        } else {
            y - 1
        }
    }

    /// HES `FYEAR` code: 2024-25 → `2425`.
    pub fn fyear_code(self) -> String {
        fyear_code(self.financial_year())
    }

    /// Age in completed years on `self` for someone born on `birth`.
    pub fn age_on(self, birth: Date) -> i32 {
        let (y, m, d) = self.ymd();
        let (by, bm, bd) = birth.ymd();
        let mut age = y - by;
        if (m, d) < (bm, bd) {
            age -= 1;
        }
        age
    }
}

impl HesDate {
    /// Parses a HES date field, recognising the two sentinels.
    pub fn parse(text: &str) -> Result<Self, ModelError> {
        // Compared as day numbers: every date field of every row comes
        // here, and turning the day number back into y/m/d costs divisions.
        const NULL_SUBMITTED: i32 = -62_091; // 1800-01-01
        const INVALID_SUBMITTED: i32 = -61_726; // 1801-01-01
        let date = Date::parse(text)?;
        Ok(match date.days() {
            NULL_SUBMITTED => HesDate::NullSubmitted,
            INVALID_SUBMITTED => HesDate::InvalidSubmitted,
            _ => HesDate::Known(date),
        })
    }

    pub fn known(self) -> Option<Date> {
        match self {
            HesDate::Known(d) => Some(d),
            _ => None,
        }
    }
}

/// `2024` → `"2425"`.
pub fn fyear_code(start_year: i32) -> String {
    format!("{:02}{:02}", start_year.rem_euclid(100), (start_year + 1).rem_euclid(100))
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn num(b: &[u8]) -> Result<u32, ModelError> {
    b.iter().try_fold(0u32, |acc, &c| match c {
        b'0'..=b'9' => Ok(acc * 10 + u32::from(c - b'0')),
        _ => Err(ModelError::Date("non-digit in date")),
    })
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy as i32;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(Date::from_ymd(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(Date::from_ymd(2000, 3, 1).unwrap().days(), 11_017);
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2024-13-01").is_err());
        assert_eq!(Date::parse("29/02/2024").unwrap(), Date::parse("20240229").unwrap());
        assert_eq!(Date::parse("2001-09-27 00:00:00").unwrap().to_string(), "2001-09-27");
        assert!(Date::parse("27-09-2001").is_err());
        // 2024-11-22 is a Friday (4).
        assert_eq!(Date::parse("2024-11-22").unwrap().weekday(), 4);
    }

    #[test]
    fn hes_sentinels_are_not_dates() {
        assert_eq!(HesDate::parse("1800-01-01").unwrap(), HesDate::NullSubmitted);
        assert_eq!(HesDate::parse("1801-01-01").unwrap(), HesDate::InvalidSubmitted);
        assert_eq!(HesDate::parse("1802-01-01").unwrap().known().unwrap().year(), 1802);
    }

    #[test]
    fn financial_years_and_ages() {
        let d = Date::parse("2025-03-31").unwrap();
        assert_eq!(d.fyear_code(), "2425");
        assert_eq!(d.add_days(1).fyear_code(), "2526");
        assert_eq!(fyear_code(1999), "9900");
        let birth = Date::parse("2000-04-01").unwrap();
        assert_eq!(Date::parse("2025-03-31").unwrap().age_on(birth), 24);
        assert_eq!(Date::parse("2025-04-01").unwrap().age_on(birth), 25);
    }

    proptest! {
        #[test]
        fn civil_round_trip(days in -200_000i32..200_000) {
            let d = Date::from_days(days);
            let (y, m, dd) = d.ymd();
            prop_assert_eq!(Date::from_ymd(y, m, dd).unwrap(), d);
            let mut buf = Vec::new();
            d.write_iso(&mut buf);
            if (0..=9999).contains(&y) {
                prop_assert_eq!(Date::parse(std::str::from_utf8(&buf).unwrap()).unwrap(), d);
            }
        }
    }
}
