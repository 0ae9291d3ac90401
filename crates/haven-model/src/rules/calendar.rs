//! Bank holidays in England and Wales, for the GMS contract's core hours:
//! 08:00–18:30 Monday to Friday "excluding Good Friday, Christmas Day and
//! bank holidays" (SI 2015/1879 reg. 3A; methods.md §8.4).
//!
//! The regular days follow the Banking and Financial Dealings Act 1971
//! (schedule 1) and the yearly royal proclamations: New Year's Day, Good
//! Friday, Easter Monday, the first Monday of May, the last Mondays of May
//! and August, Christmas Day and Boxing Day. When New Year's Day, Christmas
//! Day or Boxing Day falls at a weekend, the next weekday not already a
//! holiday is the substitute. Days moved or added by proclamation are in
//! [`PROCLAIMED`], from gov.uk/bank-holidays; a later proclamation needs a
//! line there, and callers can pass their own list instead (the analytics
//! `Scope` holds the days it uses).

use crate::date::Date;

/// One year's proclaimed changes: days that are no longer holidays, and
/// days added, as (month, day).
pub struct Proclamation {
    pub year: i32,
    pub removed: &'static [(u32, u32)],
    pub added: &'static [(u32, u32)],
}

/// Holidays moved or added by proclamation (gov.uk/bank-holidays).
pub const PROCLAIMED: [Proclamation; 4] = [
    // Diamond Jubilee: spring holiday moved to 4 June, 5 June added.
    Proclamation { year: 2012, removed: &[(5, 28)], added: &[(6, 4), (6, 5)] },
    // VE Day 75th anniversary: early May holiday moved to Friday 8 May.
    Proclamation { year: 2020, removed: &[(5, 4)], added: &[(5, 8)] },
    // Platinum Jubilee (spring moved to 2 June, 3 June added) and the
    // State Funeral of Queen Elizabeth II.
    Proclamation { year: 2022, removed: &[(5, 30)], added: &[(6, 2), (6, 3), (9, 19)] },
    // Coronation of King Charles III.
    Proclamation { year: 2023, removed: &[], added: &[(5, 8)] },
];

/// Easter Sunday of `year` (Gregorian; the anonymous algorithm of Meeus,
/// "Astronomical Algorithms", ch. 8).
pub fn easter_sunday(year: i32) -> Date {
    let a = year % 19;
    let (b, c) = (year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    ymd(year, month as u32, day as u32)
}

fn ymd(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).expect("calendar dates are valid")
}

/// The first Monday on or after `d`.
fn monday_from(d: Date) -> Date {
    d.add_days(((7 - d.weekday()) % 7) as i32)
}

/// The last Monday of `month` (May or August: 31-day months).
fn last_monday(year: i32, month: u32) -> Date {
    let end = ymd(year, month, 31);
    end.add_days(-(end.weekday() as i32))
}

fn is_weekend(d: Date) -> bool {
    d.weekday() >= 5
}

/// Every bank holiday in England and Wales in calendar `year`, sorted,
/// with substitute days and proclaimed changes.
pub fn bank_holidays(year: i32) -> Vec<Date> {
    let easter = easter_sunday(year);
    let mut days = vec![
        easter.add_days(-2),
        easter.add_days(1),
        monday_from(ymd(year, 5, 1)),
        last_monday(year, 5),
        last_monday(year, 8),
    ];
    // Fixed days in date order, each moved to the next free weekday.
    for (m, d) in [(1, 1), (12, 25), (12, 26)] {
        let mut day = ymd(year, m, d);
        while is_weekend(day) || days.contains(&day) {
            day = day.add_days(1);
        }
        days.push(day);
    }
    if let Some(p) = PROCLAIMED.iter().find(|p| p.year == year) {
        days.retain(|d| !p.removed.iter().any(|&(m, dd)| *d == ymd(year, m, dd)));
        days.extend(p.added.iter().map(|&(m, d)| ymd(year, m, d)));
    }
    days.sort();
    days
}

/// Bank holidays from `from` to `to` inclusive.
pub fn bank_holidays_between(from: Date, to: Date) -> Vec<Date> {
    (from.year()..=to.year()).flat_map(bank_holidays).filter(|d| (from..=to).contains(d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(days: &[Date]) -> Vec<String> {
        days.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn easter_falls_on_the_published_sundays() {
        // Easter Sundays 2019-2027 (Church of England calendar).
        let known = [(2019, 4, 21), (2020, 4, 12), (2021, 4, 4), (2022, 4, 17), (2023, 4, 9), (2024, 3, 31), (2025, 4, 20), (2026, 4, 5), (2027, 3, 28)];
        for (y, m, d) in known {
            assert_eq!(easter_sunday(y), ymd(y, m, d), "{y}");
            assert_eq!(easter_sunday(y).weekday(), 6);
        }
    }

    #[test]
    fn holidays_match_gov_uk_for_2024_and_2025() {
        // gov.uk/bank-holidays, England and Wales.
        assert_eq!(
            iso(&bank_holidays(2024)),
            ["2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25", "2024-12-26"]
        );
        assert_eq!(
            iso(&bank_holidays(2025)),
            ["2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26"]
        );
    }

    #[test]
    fn weekend_fixed_days_move_to_the_next_free_weekday() {
        // 2021: Christmas Saturday, Boxing Day Sunday -> Monday 27 and
        // Tuesday 28 December. New Year's Day 2022 was a Saturday -> Monday 3.
        let y2021 = iso(&bank_holidays(2021));
        assert!(y2021.contains(&"2021-12-27".to_owned()) && y2021.contains(&"2021-12-28".to_owned()));
        assert!(!y2021.contains(&"2021-12-25".to_owned()));
        assert!(iso(&bank_holidays(2022)).contains(&"2022-01-03".to_owned()));
        // 2022: Christmas Sunday -> Boxing Day Monday 26, Christmas Tuesday 27.
        let y2022 = iso(&bank_holidays(2022));
        assert!(y2022.contains(&"2022-12-26".to_owned()) && y2022.contains(&"2022-12-27".to_owned()));
        // 2020: Boxing Day Saturday -> Monday 28 December.
        assert!(iso(&bank_holidays(2020)).contains(&"2020-12-28".to_owned()));
    }

    #[test]
    fn proclaimed_days_replace_the_regular_ones() {
        let y2022 = iso(&bank_holidays(2022));
        assert!(y2022.contains(&"2022-06-02".to_owned()) && y2022.contains(&"2022-06-03".to_owned()) && y2022.contains(&"2022-09-19".to_owned()));
        assert!(!y2022.contains(&"2022-05-30".to_owned()));
        assert_eq!(y2022.len(), 10);
        let y2020 = iso(&bank_holidays(2020));
        assert!(y2020.contains(&"2020-05-08".to_owned()) && !y2020.contains(&"2020-05-04".to_owned()));
        assert_eq!(bank_holidays(2023).len(), 9);
    }

    #[test]
    fn a_financial_year_takes_the_days_of_both_calendar_years() {
        let fy = bank_holidays_between(ymd(2024, 4, 1), ymd(2025, 3, 31));
        // Easter Monday 1 April 2024 to New Year's Day 2025; Good Friday 2025 is 18 April, outside.
        assert_eq!(iso(&fy), ["2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25", "2024-12-26", "2025-01-01"]);
    }
}
