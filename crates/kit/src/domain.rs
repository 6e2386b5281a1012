//! Types that cannot hold bad values: every request is parsed into these at the
//! edge, so the core never re-checks.

use std::fmt;

use chrono::{DateTime, Datelike, TimeZone, Utc};

/// Longest identifier accepted anywhere (source names, external ids, ids).
pub const MAX_ID_LEN: usize = 128;
/// Longest free text accepted (names, attribute values, categories).
pub const MAX_TEXT_LEN: usize = 1024;
/// Largest absolute amount in minor units: 10^15, a quadrillion cents. Sums of
/// millions of such amounts still fit an i64 with room to spare.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// ISO 4217 codes with their minor-unit exponents (active codes, funds and
/// precious metals left out).
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWL", 2),
];

/// An ISO 4217 currency code known to Rapport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyCode(&'static str, u8);

impl CurrencyCode {
    /// Parses an upper-case ISO 4217 code such as `EUR`.
    pub fn parse(code: &str) -> Result<Self, String> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, e)| CurrencyCode(c, *e))
            .ok_or_else(|| {
                if code.is_empty() {
                    "required".to_owned()
                } else {
                    format!("{:?} is not an ISO 4217 currency code", truncate(code, 16))
                }
            })
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// Digits after the decimal point in the major unit (2 for EUR, 0 for JPY).
    pub fn exponent(&self) -> u8 {
        self.1
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Checks an amount in minor units: not negative and within [`MAX_AMOUNT_MINOR`].
pub fn parse_amount_minor(amount: i64) -> Result<i64, String> {
    if amount < 0 {
        Err("must not be negative; a refund says so in `kind`".to_owned())
    } else if amount > MAX_AMOUNT_MINOR {
        Err(format!(
            "{amount} exceeds the largest accepted amount {MAX_AMOUNT_MINOR}"
        ))
    } else {
        Ok(amount)
    }
}

/// Parses a decimal in major units ("1234.5", "-0.99" is refused) into minor
/// units of `currency`, refusing more decimals than the currency has, exponents,
/// NaN, infinities and overflow.
pub fn parse_amount_decimal(text: &str, currency: CurrencyCode) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("{:?} is not a decimal amount like 1234.50", truncate(t, 32));
    if t.is_empty() {
        return Err("required".to_owned());
    }
    if t.starts_with('-') {
        return Err("must not be negative; a refund says so in `kind`".to_owned());
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let exp = currency.exponent() as usize;
    let frac = frac.trim_end_matches('0');
    if frac.len() > exp {
        return Err(format!(
            "{:?} has more decimals than {} allows ({exp})",
            truncate(t, 32),
            currency
        ));
    }
    let too_big = || format!("{:?} exceeds the largest accepted amount", truncate(t, 32));
    let int = int.trim_start_matches('0');
    if int.len() > 18 {
        return Err(too_big());
    }
    let major: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let mut minor_frac: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| bad())?
    };
    for _ in frac.len()..exp {
        minor_frac *= 10;
    }
    let minor = major
        .checked_mul(10i64.pow(exp as u32))
        .and_then(|m| m.checked_add(minor_frac))
        .ok_or_else(too_big)?;
    parse_amount_minor(minor).map_err(|_| too_big())
}

/// Formats minor units as a decimal in major units ("1234.50").
pub fn format_minor(minor: i64, currency: CurrencyCode) -> String {
    let exp = currency.exponent() as u32;
    if exp == 0 {
        return minor.to_string();
    }
    let div = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / div as u64,
        abs % div as u64,
        width = exp as usize
    )
}

/// Checks a required identifier: non-empty, at most [`MAX_ID_LEN`] bytes, no
/// control characters.
pub fn parse_id(value: &str) -> Result<&str, String> {
    if value.is_empty() {
        return Err("required".to_owned());
    }
    check_text(value, MAX_ID_LEN)
}

/// Checks optional free text: at most `max` bytes, no control characters
/// other than tab and newline.
pub fn check_text(value: &str, max: usize) -> Result<&str, String> {
    if value.len() > max {
        return Err(format!(
            "is {} bytes long; at most {max} are accepted",
            value.len()
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n')
    {
        return Err("contains control characters".to_owned());
    }
    Ok(value)
}

/// Checks a Rapport id (a UUID in text form).
pub fn parse_uuid(value: &str) -> Result<uuid::Uuid, String> {
    if value.is_empty() {
        return Err("required".to_owned());
    }
    uuid::Uuid::parse_str(value)
        .map_err(|_| format!("{:?} is not a Rapport id", truncate(value, 40)))
}

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
    if t > now + chrono::Duration::days(1) {
        return Err(format!(
            "{} is in the future",
            t.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    Ok(t)
}

/// Converts a protobuf timestamp, refusing out-of-range values.
pub fn timestamp_to_chrono(ts: &prost_types::Timestamp) -> Result<DateTime<Utc>, String> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return Err("nanos must be within 0..1e9".to_owned());
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

/// At most `max` characters of `s`, for echoing bad input back safely.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
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
        assert!(
            parse_amount_decimal("-5", eur())
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            parse_amount_decimal("1.234", eur())
                .unwrap_err()
                .contains("decimals")
        );
        let huge = "9".repeat(40);
        assert!(
            parse_amount_decimal(&huge, eur())
                .unwrap_err()
                .contains("largest")
        );
        assert!(
            parse_amount_decimal("92233720368547758.07", eur())
                .unwrap_err()
                .contains("largest")
        );
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
}
