//! Calendar months as plain numbers, so monthly measures need no date library.

use std::fmt;

/// A calendar month, counted from January of year 0 (`year * 12 + month - 1`), so that
/// consecutive months are consecutive numbers and month arithmetic is integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    /// The month of `year` numbered `month` (1 = January). `None` for a month outside 1–12
    /// or a year whose months do not fit an `i32` count.
    pub fn from_year_month(year: i32, month: u32) -> Option<Self> {
        if !(1..=12).contains(&month) {
            return None;
        }
        year.checked_mul(12)?
            .checked_add(month as i32 - 1)
            .map(Month)
    }

    /// The month containing a day counted from 1970-01-01 (day 0), in the proleptic Gregorian
    /// calendar; the same day numbering as [`crate::rfm::Purchase`].
    pub fn from_day(day: i64) -> Self {
        // Civil-from-days over 400-year eras of 146,097 days (the algorithm Howard Hinnant
        // describes in "chrono-Compatible Low-Level Date Algorithms"), using March-based
        // years so the leap day falls at the end of a year.
        let z = day + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let march_month = (5 * day_of_year + 2) / 153;
        let month = if march_month < 10 {
            march_month + 3
        } else {
            march_month - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let index = (year * 12 + month - 1).clamp(i64::from(i32::MIN), i64::from(i32::MAX));
        Month(index as i32)
    }

    /// The month's number in the count this type uses.
    pub fn index(self) -> i32 {
        self.0
    }

    /// A month from its number in the count this type uses.
    pub fn from_index(index: i32) -> Self {
        Month(index)
    }

    /// The calendar year.
    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// The month of the year, 1 = January.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// Months from `earlier` to `self` (negative when `earlier` is later).
    pub fn months_since(self, earlier: Month) -> i64 {
        i64::from(self.0) - i64::from(earlier.0)
    }

    /// The month `n` months later (earlier for negative `n`), saturating at the ends of the
    /// count.
    pub fn plus(self, n: i32) -> Self {
        Month(self.0.saturating_add(n))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_map_to_their_calendar_month() {
        let m = |y, mo| Month::from_year_month(y, mo).unwrap();
        assert_eq!(Month::from_day(0), m(1970, 1));
        assert_eq!(Month::from_day(30), m(1970, 1));
        assert_eq!(Month::from_day(31), m(1970, 2));
        assert_eq!(Month::from_day(-1), m(1969, 12));
        // 2000-02-29 is day 11,016 and 2000-03-01 the day after.
        assert_eq!(Month::from_day(11_016), m(2000, 2));
        assert_eq!(Month::from_day(11_017), m(2000, 3));
        // 2024-12-31 is day 20,088.
        assert_eq!(Month::from_day(20_088), m(2024, 12));
        assert_eq!(Month::from_day(20_089), m(2025, 1));
    }

    #[test]
    fn arithmetic_and_display() {
        let jan = Month::from_year_month(2025, 1).unwrap();
        let dec = Month::from_year_month(2024, 12).unwrap();
        assert_eq!(jan.months_since(dec), 1);
        assert_eq!(dec.plus(13), Month::from_year_month(2026, 1).unwrap());
        assert_eq!((jan.year(), jan.month()), (2025, 1));
        assert_eq!(dec.to_string(), "2024-12");
        assert_eq!(Month::from_year_month(2024, 13), None);
        assert_eq!(Month::from_year_month(2024, 0), None);
    }
}
