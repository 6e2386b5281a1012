//! The first-cut score figures (segment, recency, averages, recent months):
//! pure functions of stored aggregates and the current time, shared by every
//! read path so cache and database answers agree to the unit.

use chrono::{DateTime, Datelike, Duration, Utc};

/// Days since the first purchase within which a customer is `new`.
pub const NEW_DAYS: i64 = 30;
/// Days since the last purchase within which a customer is `active`.
pub const ACTIVE_DAYS: i64 = 90;
/// Days since the last purchase within which a customer is `lapsing`.
pub const LAPSING_DAYS: i64 = 180;

/// First-cut lifecycle segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// First purchase within [`NEW_DAYS`].
    New,
    /// Last purchase within [`ACTIVE_DAYS`].
    Active,
    /// Last purchase within [`LAPSING_DAYS`].
    Lapsing,
    /// Last purchase longer ago.
    Lapsed,
    /// No purchase at all.
    None,
}

impl Segment {
    /// Every segment, in the order summaries list them.
    pub const ALL: [Segment; 5] = [
        Segment::New,
        Segment::Active,
        Segment::Lapsing,
        Segment::Lapsed,
        Segment::None,
    ];

    /// The name callers see.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::New => "new",
            Segment::Active => "active",
            Segment::Lapsing => "lapsing",
            Segment::Lapsed => "lapsed",
            Segment::None => "none",
        }
    }

    /// Position in [`Segment::ALL`].
    pub fn index(self) -> usize {
        Segment::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// The segment of a customer as of `now`. `new` wins over `active`: a
/// customer who first bought last week is new, however recent the purchase.
pub fn segment(
    first_purchase: Option<DateTime<Utc>>,
    last_purchase: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Segment {
    let (Some(first), Some(last)) = (first_purchase, last_purchase) else {
        return Segment::None;
    };
    // The difference of two times always fits a Duration (chrono's dates
    // span far less than its durations), so these never overflow.
    if now - first <= Duration::days(NEW_DAYS) {
        Segment::New
    } else if now - last <= Duration::days(ACTIVE_DAYS) {
        Segment::Active
    } else if now - last <= Duration::days(LAPSING_DAYS) {
        Segment::Lapsing
    } else {
        Segment::Lapsed
    }
}

/// Whole days from `last_purchase` to `now`; 0 without purchases or for a
/// purchase stamped slightly ahead of this clock.
pub fn recency_days(last_purchase: Option<DateTime<Utc>>, now: DateTime<Utc>) -> u32 {
    last_purchase.map_or(0, |last| {
        (now - last).num_days().clamp(0, u32::MAX as i64) as u32
    })
}

/// `numerator / denominator` rounded half up (towards positive infinity at
/// exactly one half); `denominator` must be positive.
pub fn div_round_half_up(numerator: i64, denominator: i64) -> i64 {
    debug_assert!(denominator > 0);
    let (n, d) = (numerator as i128, denominator.max(1) as i128);
    (2 * n + d).div_euclid(2 * d) as i64
}

/// Purchase total over purchase count, rounded half up; 0 without purchases.
pub fn average_order_value(purchase_total: i64, purchase_count: i64) -> i64 {
    if purchase_count <= 0 {
        0
    } else {
        div_round_half_up(purchase_total, purchase_count)
    }
}

/// Calendar months from the month of `first` to the month of `now`, both
/// included; at least 1 (also without a first purchase).
pub fn months_active(first: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
    let index = |t: DateTime<Utc>| t.year() as i64 * 12 + t.month0() as i64;
    first.map_or(1, |f| (index(now) - index(f) + 1).max(1))
}

/// Net spend over [`months_active`], rounded half up.
pub fn average_monthly_spend(
    net_spend: i64,
    first: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> i64 {
    div_round_half_up(net_spend, months_active(first, now))
}

/// Months listed on a score.
pub const RECENT_MONTHS: usize = 12;

/// The [`RECENT_MONTHS`] last of `months` (sorted oldest first).
pub fn recent_months<T>(months: &[T]) -> &[T] {
    &months[months.len().saturating_sub(RECENT_MONTHS)..]
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(div_round_half_up(5, 2), 3);
        assert_eq!(div_round_half_up(7, 3), 2);
        assert_eq!(div_round_half_up(8, 3), 3);
        assert_eq!(div_round_half_up(-5, 2), -2);
        assert_eq!(div_round_half_up(-7, 2), -3);
        assert_eq!(div_round_half_up(i64::MAX, 1), i64::MAX);
        assert_eq!(average_order_value(1000, 3), 333);
        assert_eq!(average_order_value(1001, 2), 501);
        assert_eq!(average_order_value(500, 0), 0);
    }

    #[test]
    fn months_count_both_ends() {
        let now = at(2026, 3, 15);
        assert_eq!(months_active(Some(at(2026, 3, 1)), now), 1);
        assert_eq!(months_active(Some(at(2026, 1, 31)), now), 3);
        assert_eq!(months_active(Some(at(2025, 3, 31)), now), 13);
        assert_eq!(months_active(None, now), 1);
        // A purchase stamped in the next month still counts one month.
        assert_eq!(months_active(Some(at(2026, 4, 1)), now), 1);
        assert_eq!(
            average_monthly_spend(10_000, Some(at(2026, 1, 2)), now),
            3_333
        );
        assert_eq!(average_monthly_spend(-300, None, now), -300);
    }

    #[test]
    fn segments_follow_the_thresholds() {
        let now = at(2026, 6, 30);
        let days = |n: i64| Some(now - Duration::days(n));
        assert_eq!(segment(None, None, now), Segment::None);
        assert_eq!(segment(days(30), days(30), now), Segment::New);
        assert_eq!(segment(days(31), days(1), now), Segment::Active);
        assert_eq!(segment(days(400), days(90), now), Segment::Active);
        assert_eq!(segment(days(400), days(91), now), Segment::Lapsing);
        assert_eq!(segment(days(400), days(180), now), Segment::Lapsing);
        assert_eq!(segment(days(400), days(181), now), Segment::Lapsed);
        assert_eq!(recency_days(days(181), now), 181);
        assert_eq!(recency_days(Some(now + Duration::hours(3)), now), 0);
        assert_eq!(recency_days(None, now), 0);
    }

    #[test]
    fn segments_and_recency_hold_at_chronos_limits() {
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        assert_eq!(segment(Some(min), Some(min), max), Segment::Lapsed);
        assert_eq!(segment(Some(max), Some(max), min), Segment::New);
        // Some 524 000 years of days: within u32.
        assert_eq!(recency_days(Some(min), max), 191_491_528);
        assert_eq!(recency_days(Some(max), min), 0);
    }

    #[test]
    fn recent_months_keeps_the_last_twelve_oldest_first() {
        // 2025-01 ..= 2026-02, oldest first.
        let months: Vec<(String, i64)> = (0..14)
            .map(|i| (format!("{}-{:02}", 2025 + i / 12, i % 12 + 1), i as i64))
            .collect();
        let got = recent_months(&months);
        assert_eq!(got.len(), 12);
        assert_eq!(got[0].0, "2025-03");
        assert_eq!(got[11].0, "2026-02");
    }
}
