//! A tenant's contact policy: how often marketing may reach one customer,
//! across every channel and rule, and when it may not.

use chrono::{DateTime, Utc};
use rapport_kit::domain::{earlier, later};
use rapport_proto::v1 as pb;

/// `h` hours (any `u32` of hours fits a duration).
fn hours(h: u32) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(h) * 3_600)
}

/// A tenant's limits on marketing contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactPolicy {
    /// Most marketing messages per customer within the window.
    pub max_messages: u32,
    /// The window, in hours.
    pub window_hours: u32,
    /// Least time between two marketing messages, in hours.
    pub cool_down_hours: u32,
    /// Quiet hours start (UTC hour); equal to the end for none.
    pub quiet_start_hour: u32,
    /// Quiet hours end (UTC hour).
    pub quiet_end_hour: u32,
}

impl Default for ContactPolicy {
    fn default() -> Self {
        ContactPolicy {
            max_messages: 3,
            window_hours: 7 * 24,
            cool_down_hours: 24,
            quiet_start_hour: 0,
            quiet_end_hour: 0,
        }
    }
}

impl ContactPolicy {
    /// Why a marketing message accepted at `now` is refused, given the count
    /// of marketing messages in the window and the latest one.
    pub fn refusal(
        &self,
        now: DateTime<Utc>,
        in_window: u32,
        latest: Option<DateTime<Utc>>,
    ) -> Option<&'static str> {
        if in_window >= self.max_messages {
            return Some("FREQUENCY_CAP");
        }
        match latest {
            Some(at)
                if self.cool_down_hours > 0 && now < later(at, hours(self.cool_down_hours)) =>
            {
                Some("COOL_DOWN")
            }
            _ => None,
        }
    }

    /// Start of the look-back that covers both the cap's window and the
    /// cool-down, and start of the cap's window, for an accept at `now`.
    pub fn look_back(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let window_start = earlier(now, hours(self.window_hours));
        let since = earlier(now, hours(self.window_hours.max(self.cool_down_hours)));
        (since, window_start)
    }

    /// The earliest time outside quiet hours at or after `t`.
    pub fn after_quiet_hours(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        use chrono::{TimeZone, Timelike};
        let (start, end) = (self.quiet_start_hour, self.quiet_end_hour);
        let hour = t.hour();
        let quiet = match start.cmp(&end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => hour >= start && hour < end,
            std::cmp::Ordering::Greater => hour >= start || hour < end,
        };
        if !quiet {
            return t;
        }
        let day = if hour >= end {
            match t.checked_add_signed(chrono::Duration::days(1)) {
                Some(next) => next,
                // No next day to move to: the latest time there is stays.
                None => return t,
            }
        } else {
            t
        };
        Utc.with_ymd_and_hms(
            chrono::Datelike::year(&day),
            chrono::Datelike::month(&day),
            chrono::Datelike::day(&day),
            end,
            0,
            0,
        )
        .single()
        .unwrap_or(t)
    }

    /// The wire form.
    pub fn into_proto(self) -> pb::ContactPolicy {
        pb::ContactPolicy {
            max_messages: self.max_messages,
            window_hours: self.window_hours,
            cool_down_hours: self.cool_down_hours,
            quiet_start_hour: self.quiet_start_hour,
            quiet_end_hour: self.quiet_end_hour,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
    }

    #[test]
    fn cap_then_cool_down() {
        let p = ContactPolicy::default();
        let now = at(12, 0);
        assert_eq!(p.refusal(now, 3, None), Some("FREQUENCY_CAP"));
        assert_eq!(p.refusal(now, 2, Some(at(0, 0))), Some("COOL_DOWN"));
        assert_eq!(
            p.refusal(now, 2, Some(now - chrono::Duration::hours(25))),
            None
        );
        let no_cool_down = ContactPolicy {
            cool_down_hours: 0,
            ..p
        };
        assert_eq!(no_cool_down.refusal(now, 0, Some(now)), None);
    }

    #[test]
    fn windows_near_the_ends_of_time_saturate() {
        use rapport_kit::domain::{timestamp_max, timestamp_min};
        let p = ContactPolicy::default();
        let min = DateTime::<Utc>::MIN_UTC;
        assert_eq!(p.look_back(min), (timestamp_min(), timestamp_min()));
        let last = timestamp_max();
        let hour = chrono::Duration::hours(1);
        // The cool-down of a message an hour before the last representable
        // second runs to that second, so it still holds half an hour later.
        assert_eq!(
            p.refusal(last - hour / 2, 0, Some(last - hour)),
            Some("COOL_DOWN")
        );
    }

    #[test]
    fn quiet_hours_move_marketing_to_their_end() {
        let quiet = |start, end| ContactPolicy {
            quiet_start_hour: start,
            quiet_end_hour: end,
            ..ContactPolicy::default()
        };
        let overnight = quiet(22, 7);
        assert_eq!(overnight.after_quiet_hours(at(12, 0)), at(12, 0));
        assert_eq!(overnight.after_quiet_hours(at(3, 15)), at(7, 0));
        let next_morning = Utc.with_ymd_and_hms(2026, 3, 11, 7, 0, 0).unwrap();
        assert_eq!(overnight.after_quiet_hours(at(23, 5)), next_morning);
        let lunch = quiet(12, 14);
        assert_eq!(lunch.after_quiet_hours(at(13, 0)), at(14, 0));
        assert_eq!(lunch.after_quiet_hours(at(14, 0)), at(14, 0));
        assert_eq!(
            ContactPolicy::default().after_quiet_hours(at(3, 0)),
            at(3, 0)
        );
    }

    #[test]
    fn quiet_hours_at_the_last_representable_day_do_not_overflow() {
        let overnight = ContactPolicy {
            quiet_start_hour: 22,
            quiet_end_hour: 7,
            ..ContactPolicy::default()
        };
        let last = DateTime::<Utc>::MAX_UTC;
        assert_eq!(overnight.after_quiet_hours(last), last);
        let end_of_9999 = Utc.with_ymd_and_hms(9999, 12, 31, 23, 30, 0).unwrap();
        let next_morning = Utc.with_ymd_and_hms(10000, 1, 1, 7, 0, 0).unwrap();
        assert_eq!(overnight.after_quiet_hours(end_of_9999), next_morning);
    }
}
