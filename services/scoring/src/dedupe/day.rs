//! The day a change id is kept under in `applied_changes`: a pure function
//! of the id, so every delivery of a change lands on the same row (on
//! Postgres, in the same partition) whenever it arrives. Migration 14's SQL
//! function `change_day` is the same rule for the rows it copied over.

use chrono::{NaiveDate, TimeDelta};
use uuid::{Uuid, Variant};

/// The day of every id that does not carry one (ids not minted by
/// ingestion as UUIDv7, and everything applied before migration 14 that
/// was not a UUIDv7): one partition, trimmed by `applied_at` instead.
pub const SENTINEL: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();

/// The UTC day of the UUIDv7 an id names ("txn:<v7>", "evt:<v7>" or the
/// bare uuid, in its canonical lowercase hyphenated form, as ingestion
/// writes it); `None` for any other id.
pub fn minted(id: &str) -> Option<NaiveDate> {
    let text = id
        .strip_prefix("txn:")
        .or_else(|| id.strip_prefix("evt:"))
        .unwrap_or(id);
    // Only the canonical form: the SQL twin matches that one, and a rule
    // that read other spellings could date one change two ways.
    if text.len() != 36 || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let uuid = Uuid::try_parse(text).ok()?;
    if uuid.get_version_num() != 7 || uuid.get_variant() != Variant::RFC4122 {
        return None;
    }
    // The first 48 bits: milliseconds since the Unix epoch.
    let millis = (uuid.as_u128() >> 80) as i64;
    SENTINEL.checked_add_signed(TimeDelta::days(millis / 86_400_000))
}

/// The day `id` is kept under: its UUIDv7 day, else [`SENTINEL`].
pub fn of(id: &str) -> NaiveDate {
    minted(id).unwrap_or(SENTINEL)
}

/// Days since 1970-01-01, as SQLite stores a day.
pub fn number(day: NaiveDate) -> i64 {
    (day - SENTINEL).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_ids_are_dated_by_their_timestamp_and_the_rest_by_the_sentinel() {
        // 2025-03-04T05:06:07.089Z is 1741064767089 ms = 0x0195_5f8c_0671.
        let v7 = "01955f8c-0671-7abc-8def-0123456789ab";
        let day = NaiveDate::from_ymd_opt(2025, 3, 4);
        assert_eq!(minted(v7), day);
        assert_eq!(minted(&format!("txn:{v7}")), day);
        assert_eq!(minted(&format!("evt:{v7}")), day);
        assert_eq!(number(day.unwrap()), 20_151);
        let v4 = "9b2e4c1a-3f5d-4e6a-8b7c-1d2e3f4a5b6c";
        for other in [
            "c1",
            v4,
            &format!("txn:{v4}"),
            &format!("opp:{v7}"),
            &v7.to_uppercase(),
            &v7.replace('-', ""),
            &format!("{{{v7}}}"),
            "txn:",
            // Version 7 with a variant other than RFC 4122.
            "01955f8c-0671-7abc-cdef-0123456789ab",
        ] {
            assert_eq!(minted(other), None, "{other}");
            assert_eq!(of(other), SENTINEL, "{other}");
        }
    }

    #[test]
    fn a_fresh_v7_is_dated_today() {
        let now = chrono::Utc::now();
        let day = of(&format!("txn:{}", Uuid::now_v7()));
        assert!((day - now.date_naive()).num_days().abs() <= 1, "{day}");
    }
}
