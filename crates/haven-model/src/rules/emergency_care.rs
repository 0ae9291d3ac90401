//! A&E and ECDS derivations (datasets.md §3.3 and §11.5; methods.md §8.3).
//!
//! The four-hour standard runs from arrival to departure (not conclusion),
//! computed on date and time so that attendances crossing midnight count.

use crate::date::Date;

/// ECDS discharge destinations in the "Admitted" group (datasets.md §3.2).
pub const ECDS_ADMITTED: [&str; 7] = [
    "306706006",
    "1066361000000104",
    "1066371000000106",
    "1066381000000108",
    "1066391000000105",
    "1066401000000108",
    "1874161000000104",
];

/// ECDS short-stay / SDEC destinations that some analyses count as admitted.
pub const ECDS_SHORT_STAY: [&str; 2] = ["1066331000000109", "1066341000000100"];

/// ECDS arrival modes that are ambulance arrivals (datasets.md §3.2).
pub const ECDS_AMBULANCE: [&str; 5] =
    ["1048031000000100", "1048041000000109", "1048021000000102", "1048051000000107", "1048081000000101"];

/// Is an ECDS discharge destination an admission? `count_short_stay` adds the
/// observation-ward and SDEC codes, as the Strategy Unit NHP model does.
pub fn ecds_admitted(destination: &str, count_short_stay: bool) -> bool {
    ECDS_ADMITTED.contains(&destination)
        || (count_short_stay && ECDS_SHORT_STAY.contains(&destination))
}

/// Minutes from arrival to a later clock point, each given as a date and
/// minutes after midnight. `None` when the later point is before arrival.
pub fn minutes_since_arrival(arrival: (Date, u32), later: (Date, u32)) -> Option<u32> {
    let a = i64::from(arrival.0.days()) * 1440 + i64::from(arrival.1);
    let b = i64::from(later.0.days()) * 1440 + i64::from(later.1);
    u32::try_from(b - a).ok()
}

/// Four-hour and twelve-hour classification of a departure interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FourHour {
    pub minutes: u32,
}

impl FourHour {
    /// Within four hours: departure − arrival ≤ 240 minutes.
    pub fn met(self) -> bool {
        self.minutes <= 240
    }

    /// Twelve-hour breach: more than 720 minutes in the department.
    pub fn twelve_hour_breach(self) -> bool {
        self.minutes > 720
    }
}

/// Parses `HH:MM`, `HH:MM:SS` or HES `hhmm` into minutes after midnight.
/// HES A&E time sentinels `3000` (invalid) and `4000` (null) give `None`.
pub fn parse_clock(text: &str) -> Option<u32> {
    let t = text.trim();
    let digits: Vec<u32> = t.bytes().filter(u8::is_ascii_digit).map(|b| u32::from(b - b'0')).collect();
    let (h, m) = match (t.len(), t.as_bytes().get(2)) {
        (5 | 8, Some(b':')) => (digits[0] * 10 + digits[1], digits[2] * 10 + digits[3]),
        (4, _) if digits.len() == 4 => (digits[0] * 10 + digits[1], digits[2] * 10 + digits[3]),
        _ => return None,
    };
    (h < 24 && m < 60).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_hours_across_midnight() {
        let day = Date::parse("2024-03-10").unwrap();
        // Arrive 22:30, leave 02:29 next day: 90 + 149 = 239 minutes → met.
        let m = minutes_since_arrival((day, 22 * 60 + 30), (day.add_days(1), 2 * 60 + 29)).unwrap();
        assert_eq!(m, 239);
        assert!(FourHour { minutes: m }.met());
        // Leave 02:31: 241 minutes → breach.
        let m = minutes_since_arrival((day, 1350), (day.add_days(1), 151)).unwrap();
        assert!(!FourHour { minutes: m }.met());
        assert!(FourHour { minutes: 721 }.twelve_hour_breach() && !FourHour { minutes: 720 }.twelve_hour_breach());
        assert_eq!(minutes_since_arrival((day, 600), (day, 599)), None);
    }

    #[test]
    fn clocks_and_sentinels() {
        assert_eq!(parse_clock("1016"), Some(616));
        assert_eq!(parse_clock("10:16"), Some(616));
        assert_eq!(parse_clock("23:59:59"), Some(1439));
        assert_eq!(parse_clock("3000"), None);
        assert_eq!(parse_clock("4000"), None);
        assert_eq!(parse_clock("2460"), None);
    }

    #[test]
    fn admitted_destinations() {
        assert!(ecds_admitted("306706006", false));
        assert!(!ecds_admitted("306689006", false));
        assert!(!ecds_admitted("1066341000000100", false) && ecds_admitted("1066341000000100", true));
        assert!(!ecds_admitted("", true));
    }
}
