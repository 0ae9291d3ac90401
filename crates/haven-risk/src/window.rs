//! Look-back windows in calendar months, shared by the scores whose sources
//! state their windows in months (polypharmacy: "last 3 months", "within 12
//! months"; LACE: "emergency department visits in the 6 months before
//! admission"; riskscores.md §4–6). HFRS states its window in days (730) and
//! uses [`Date::add_days`] directly.

use haven_model::Date;

/// The same day `months` calendar months before `date`, clamped to the end of
/// a shorter month (31 May less 3 months is 28 or 29 February).
pub fn months_before(date: Date, months: u32) -> Date {
    let (y, m, d) = date.ymd();
    let index = y * 12 + (m as i32 - 1) - months as i32;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    (0..4)
        .find_map(|back| Date::from_ymd(year, month, d - back).ok())
        .expect("every month has at least 28 days")
}

/// Is `day` inside the `months` calendar months that end on `end`, i.e.
/// after [`months_before`]`(end, months)` and no later than `end`?
///
/// The start day itself is outside, so a 12-month window ending 2025-03-31
/// holds 2024-04-01 to 2025-03-31: exactly 12 months of days, never one day
/// twice in consecutive windows.
pub fn in_months_ending(day: Date, end: Date, months: u32) -> bool {
    day > months_before(end, months) && day <= end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::from_ymd(y, m, d).unwrap()
    }

    #[test]
    fn months_before_clamps_to_short_months_and_crosses_years() {
        assert_eq!(months_before(date(2025, 5, 31), 3), date(2025, 2, 28));
        assert_eq!(months_before(date(2024, 5, 31), 3), date(2024, 2, 29), "leap year");
        assert_eq!(months_before(date(2025, 2, 15), 6), date(2024, 8, 15));
        assert_eq!(months_before(date(2025, 3, 31), 12), date(2024, 3, 31));
        assert_eq!(months_before(date(2025, 3, 31), 0), date(2025, 3, 31));
    }

    #[test]
    fn window_excludes_its_start_day_and_includes_its_end() {
        let end = date(2025, 3, 31);
        assert!(!in_months_ending(date(2024, 3, 31), end, 12), "start day is outside");
        assert!(in_months_ending(date(2024, 4, 1), end, 12));
        assert!(in_months_ending(end, end, 12));
        assert!(!in_months_ending(date(2025, 4, 1), end, 12), "after the end");
    }
}
