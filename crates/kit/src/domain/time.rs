//! Times at the edge: event times within sane bounds, and the conversions to
//! protobuf timestamps and the embedded store's microseconds.

use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};

/// One day.
const DAY: Duration = Duration::from_secs(86_400);

/// Earliest event time accepted.
pub fn earliest_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap()
}

/// Checks when something happened: required, not before 1970 and not more than
/// a day ahead of `now` (clock skew between systems is real; year 9999 is not).
pub fn parse_event_time(
    ts: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let ts = ts.ok_or_else(|| "required".to_owned())?;
    let t = timestamp_to_chrono(ts)?;
    if t < earliest_time() {
        return Err(format!("{} is before 1970", t.to_rfc3339()));
    }
    if t > later(now, DAY) {
        return Err(format!(
            "{} is in the future",
            t.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    Ok(t)
}

/// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range the
/// protobuf spec gives `Timestamp`.
const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// The first instant a protobuf `Timestamp` holds: 0001-01-01T00:00:00Z.
pub fn timestamp_min() -> DateTime<Utc> {
    DateTime::from_timestamp(*TIMESTAMP_SECONDS.start(), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The last instant a protobuf `Timestamp` holds: 9999-12-31T23:59:59Z.
/// Postgres and the embedded store keep it too, so it is where computed
/// times (leases, retries, due times) saturate.
pub fn timestamp_max() -> DateTime<Utc> {
    DateTime::from_timestamp(*TIMESTAMP_SECONDS.end(), 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t` plus `d`, saturating at [`timestamp_max`] instead of panicking (as
/// `+` does) or overflowing past what the API and the stores can hold. The
/// result is always within the `Timestamp` range.
pub fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .map_or_else(timestamp_max, within_timestamps)
}

/// `t` minus `d`, saturating at [`timestamp_min`] (the mirror of [`later`]).
pub fn earlier(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
        .map_or_else(timestamp_min, within_timestamps)
}

/// `t` brought within [`timestamp_min`]..=[`timestamp_max`].
fn within_timestamps(t: DateTime<Utc>) -> DateTime<Utc> {
    t.clamp(timestamp_min(), timestamp_max())
}

/// Converts a protobuf timestamp, refusing values outside the spec's years
/// 0001 to 9999, so date arithmetic on the result cannot overflow.
pub fn timestamp_to_chrono(ts: &prost_types::Timestamp) -> Result<DateTime<Utc>, String> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err("nanos must be within 0..1e9".to_owned());
    }
    if !TIMESTAMP_SECONDS.contains(&ts.seconds) {
        return Err(format!(
            "{} seconds is out of range (years 0001 to 9999)",
            ts.seconds
        ));
    }
    Utc.timestamp_opt(ts.seconds, ts.nanos as u32)
        .single()
        .ok_or_else(|| format!("{} seconds is out of range", ts.seconds))
}

/// Converts to a protobuf timestamp.
pub fn chrono_to_timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// Microseconds since the epoch, as the embedded store keeps times.
pub fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The inverse of [`to_micros`].
pub fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_else(earliest_time)
}

/// The calendar month of a time as "YYYY-MM".
pub fn month_key(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}
