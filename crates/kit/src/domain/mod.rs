//! Types that cannot hold bad values: every request is parsed into these at the
//! edge, so the core never re-checks.

mod currencies;
mod money;
mod time;

pub use money::{CurrencyCode, format_minor, parse_amount_decimal, parse_amount_minor};
pub use time::{
    chrono_to_timestamp, earlier, earliest_time, from_micros, later, month_key, parse_event_time,
    timestamp_max, timestamp_min, timestamp_to_chrono, to_micros,
};

/// Longest identifier accepted anywhere (source names, external ids, ids).
pub const MAX_ID_LEN: usize = 128;
/// Longest free text accepted (names, attribute values, categories).
pub const MAX_TEXT_LEN: usize = 1024;
/// Largest absolute amount in minor units: 10^15, a quadrillion cents. Sums of
/// millions of such amounts still fit an i64 with room to spare.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

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

/// Whether `name` is a handle callers choose for machines to name a thing by
/// (an integration endpoint, a subscription): 1 to 64 of `a-z`, `0-9`, `-`
/// and `_`, starting with a letter or digit.
pub fn is_handle(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Checks a handle ([`is_handle`]); `what` names it in the reasons, e.g.
/// "endpoint" gives `required: the endpoint's name`.
pub fn check_handle<'a>(name: &'a str, what: &str) -> Result<&'a str, String> {
    if is_handle(name) {
        Ok(name)
    } else if name.is_empty() {
        Err(format!("required: the {what}'s name"))
    } else {
        Err(format!(
            "{:?} is not {} {what} name: 1 to 64 of a-z, 0-9, '-' and '_', starting with a letter \
             or digit",
            truncate(name, 64),
            if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            },
        ))
    }
}

/// Checks a Rapport id (a UUID in text form).
pub fn parse_uuid(value: &str) -> Result<uuid::Uuid, String> {
    if value.is_empty() {
        return Err("required".to_owned());
    }
    uuid::Uuid::parse_str(value)
        .map_err(|_| format!("{:?} is not a Rapport id", truncate(value, 40)))
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
mod tests;
