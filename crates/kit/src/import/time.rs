//! The times an import file may hold, all read as UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or `YYYY-MM-DD` (midnight UTC).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if text.is_empty() {
        return Err("required".to_owned());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "{:?} is not a date (RFC 3339 or YYYY-MM-DD)",
        crate::domain::truncate(text, 40)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_three_shapes() {
        assert_eq!(
            parse_time("2026-03-01").unwrap().to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_time("2026-03-01 10:30:00").unwrap().to_rfc3339(),
            "2026-03-01T10:30:00+00:00"
        );
        assert_eq!(
            parse_time("2026-03-01T10:30:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2026-03-01T08:30:00+00:00"
        );
        assert!(parse_time("01/03/2026").is_err());
        assert_eq!(parse_time("").unwrap_err(), "required");
    }
}
