//! Calendar arithmetic the models share: UTC day numbers, Monday-to-Sunday
//! weeks, month indexes, and the tenant's model time unit. Whole periods, as
//! Python's `lifetimes` counts them, so a history does not change within a day.

use chrono::{DateTime, Datelike, Utc};
use rapport_proto::v1::TimeUnit as ProtoTimeUnit;
use serde::{Deserialize, Serialize};

/// Days since 1970-01-01 (UTC) of a time.
pub fn day_number(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

/// `t` to the microsecond, as both stores keep times, so that what a write
/// returns equals what a later read returns.
pub fn to_stored_precision(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// 00:00 UTC of a day number.
pub fn day_start(day: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(day.saturating_mul(86_400), 0).unwrap_or_default()
}

/// The Monday-to-Sunday week of a day number. 1970-01-01 was a Thursday, so
/// shifting by three days puts every Monday at the start of a multiple of 7.
pub fn week_of_day(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// `year * 12 + month - 1`: consecutive months are consecutive numbers.
pub fn month_index(t: DateTime<Utc>) -> i32 {
    t.year() * 12 + t.month0() as i32
}

/// The month index of a stored "YYYY-MM" key.
pub fn month_index_of_key(key: &str) -> Option<i32> {
    let (y, m) = key.split_once('-')?;
    let (y, m): (i32, i32) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some(y * 12 + m - 1)
}

/// The time unit the purchase models count in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// UTC days.
    #[default]
    Day,
    /// Monday-to-Sunday weeks.
    Week,
}

impl TimeUnit {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
        }
    }

    /// From its stored form.
    pub fn parse(s: &str) -> Option<TimeUnit> {
        match s {
            "day" => Some(TimeUnit::Day),
            "week" => Some(TimeUnit::Week),
            _ => None,
        }
    }

    /// The period a day number falls in.
    pub fn period_of_day(self, day: i64) -> i64 {
        match self {
            TimeUnit::Day => day,
            TimeUnit::Week => week_of_day(day),
        }
    }

    /// Days per period.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }

    /// Periods per average Gregorian month.
    pub fn periods_per_month(self) -> f64 {
        match self {
            TimeUnit::Day => rapport_science::value::periods_per_month::DAYS,
            TimeUnit::Week => rapport_science::value::periods_per_month::WEEKS,
        }
    }

    /// The contract's enum.
    pub fn to_proto(self) -> ProtoTimeUnit {
        match self {
            TimeUnit::Day => ProtoTimeUnit::Day,
            TimeUnit::Week => ProtoTimeUnit::Week,
        }
    }

    /// From the contract's enum; `None` for unspecified or unknown values.
    pub fn from_proto(raw: i32) -> Option<TimeUnit> {
        match ProtoTimeUnit::try_from(raw) {
            Ok(ProtoTimeUnit::Day) => Some(TimeUnit::Day),
            Ok(ProtoTimeUnit::Week) => Some(TimeUnit::Week),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn days_weeks_and_months_count_whole_periods() {
        let t = |y, m, d, h| Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap();
        assert_eq!(day_number(t(1970, 1, 1, 23)), 0);
        assert_eq!(day_number(t(1970, 1, 2, 0)), 1);
        assert_eq!(day_start(day_number(t(2026, 3, 4, 17))), t(2026, 3, 4, 0));
        // 2026-03-02 is a Monday, 2026-03-08 a Sunday.
        let monday = day_number(t(2026, 3, 2, 0));
        assert_eq!(week_of_day(monday), week_of_day(monday + 6));
        assert_eq!(week_of_day(monday) - 1, week_of_day(monday - 1));
        assert_eq!(
            month_index(t(2026, 1, 31, 0)) + 1,
            month_index(t(2026, 2, 1, 0))
        );
        assert_eq!(
            month_index_of_key("2025-12"),
            Some(month_index(t(2025, 12, 5, 0)))
        );
        assert_eq!(month_index_of_key("2025-13"), None);
        assert_eq!(
            TimeUnit::Week.period_of_day(monday + 7),
            week_of_day(monday) + 1
        );
    }
}
