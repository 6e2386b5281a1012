use chrono::{DateTime, TimeZone, Utc};

use super::*;

fn eur() -> CurrencyCode {
    CurrencyCode::parse("EUR").unwrap()
}

#[test]
fn currencies_are_checked() {
    assert_eq!(eur().exponent(), 2);
    assert_eq!(CurrencyCode::parse("JPY").unwrap().exponent(), 0);
    assert!(CurrencyCode::parse("XYZ").unwrap_err().contains("ISO 4217"));
    assert!(CurrencyCode::parse("eur").is_err());
    assert_eq!(CurrencyCode::parse("").unwrap_err(), "required");
}

#[test]
fn decimals_parse_to_minor_units() {
    assert_eq!(parse_amount_decimal("1234.5", eur()), Ok(123_450));
    assert_eq!(parse_amount_decimal("0.99", eur()), Ok(99));
    assert_eq!(parse_amount_decimal(".5", eur()), Ok(50));
    assert_eq!(parse_amount_decimal("12", eur()), Ok(1200));
    assert_eq!(parse_amount_decimal("12.340", eur()), Ok(1234));
    assert_eq!(
        parse_amount_decimal("700", CurrencyCode::parse("JPY").unwrap()),
        Ok(700)
    );
}

#[test]
fn bad_decimals_are_refused() {
    for bad in [
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "1e5",
        "12,50",
        "",
        ".",
        "1.2.3",
        "0x10",
    ] {
        assert!(parse_amount_decimal(bad, eur()).is_err(), "{bad} accepted");
    }
    let huge = "9".repeat(40);
    for (text, message) in [
        ("-5", "negative"),
        ("1.234", "decimals"),
        (&huge, "largest"),
        ("92233720368547758.07", "largest"),
    ] {
        let e = parse_amount_decimal(text, eur()).unwrap_err();
        assert!(e.contains(message), "{text}: {e}");
    }
}

#[test]
fn minor_amounts_are_bounded() {
    assert!(parse_amount_minor(i64::MAX).is_err());
    assert!(parse_amount_minor(-1).is_err());
    assert_eq!(parse_amount_minor(MAX_AMOUNT_MINOR), Ok(MAX_AMOUNT_MINOR));
}

#[test]
fn formats_minor_units() {
    assert_eq!(format_minor(123_450, eur()), "1234.50");
    assert_eq!(format_minor(-5, eur()), "-0.05");
    assert_eq!(
        format_minor(700, CurrencyCode::parse("JPY").unwrap()),
        "700"
    );
}

#[test]
fn event_times_are_bounded() {
    let now = Utc::now();
    let y9999 = prost_types::Timestamp {
        seconds: 253_370_764_800,
        nanos: 0,
    };
    assert!(
        parse_event_time(Some(&y9999), now)
            .unwrap_err()
            .contains("future")
    );
    let before = prost_types::Timestamp {
        seconds: -10,
        nanos: 0,
    };
    assert!(
        parse_event_time(Some(&before), now)
            .unwrap_err()
            .contains("1970")
    );
    assert_eq!(parse_event_time(None, now).unwrap_err(), "required");
    let ok = chrono_to_timestamp(now);
    assert!(parse_event_time(Some(&ok), now).is_ok());
}

#[test]
fn timestamps_keep_to_the_protobuf_range() {
    let seconds = |seconds| prost_types::Timestamp { seconds, nanos: 0 };
    let first = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
    let last = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
    for t in [first, last] {
        assert_eq!(timestamp_to_chrono(&chrono_to_timestamp(t)), Ok(t));
    }
    for out in [
        first.timestamp() - 1,
        last.timestamp() + 1,
        DateTime::<Utc>::MAX_UTC.timestamp(),
        i64::MAX,
        i64::MIN,
    ] {
        let refused = timestamp_to_chrono(&seconds(out)).unwrap_err();
        assert!(refused.contains("years 0001 to 9999"), "{out}: {refused}");
    }
}

#[test]
fn ids_are_bounded() {
    assert_eq!(parse_id("").unwrap_err(), "required");
    assert!(
        parse_id(&"x".repeat(10 << 20))
            .unwrap_err()
            .contains("at most 128")
    );
    assert!(parse_id("a\u{0}b").is_err());
    assert_eq!(parse_id("C-1001"), Ok("C-1001"));
}

#[test]
fn later_and_earlier_saturate_at_the_timestamp_range() {
    use std::time::Duration;
    let day = Duration::from_secs(86_400);
    let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    assert_eq!(later(t, day), t + chrono::Duration::days(1));
    assert_eq!(earlier(t, day), t - chrono::Duration::days(1));
    let (min, max) = (timestamp_min(), timestamp_max());
    assert_eq!(max, Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap());
    assert_eq!(min, Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap());
    // A day past the end of year 9999, at chrono's own limits, and past
    // what a TimeDelta holds: each stops at the last representable second.
    assert_eq!(later(max - chrono::Duration::hours(1), day), max);
    assert_eq!(later(DateTime::<Utc>::MAX_UTC, day), max);
    assert_eq!(later(t, Duration::MAX), max);
    assert_eq!(later(DateTime::<Utc>::MIN_UTC, Duration::MAX), max);
    assert_eq!(earlier(min + chrono::Duration::hours(1), day), min);
    assert_eq!(earlier(DateTime::<Utc>::MIN_UTC, day), min);
    assert_eq!(earlier(t, Duration::MAX), min);
    assert_eq!(earlier(DateTime::<Utc>::MAX_UTC, Duration::MAX), min);
    // Whatever the start, the result is a time the API can return.
    assert_eq!(later(DateTime::<Utc>::MIN_UTC, day), min);
    assert_eq!(earlier(DateTime::<Utc>::MAX_UTC, day), max);
}

#[test]
fn event_times_are_checked_against_a_clock_at_the_end_of_time() {
    // A clock at chrono's maximum used to panic adding the day of skew.
    let ts = chrono_to_timestamp(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
    assert!(parse_event_time(Some(&ts), DateTime::<Utc>::MAX_UTC).is_ok());
    let last = chrono_to_timestamp(timestamp_max());
    assert!(parse_event_time(Some(&last), DateTime::<Utc>::MAX_UTC).is_ok());
    let soon = timestamp_max() - chrono::Duration::days(2);
    assert!(parse_event_time(Some(&last), soon).is_err());
}
