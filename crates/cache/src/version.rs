//! The versioning rule every backend applies to a write, and the text form
//! Redis keeps versions in, so the comparison is written down once.

use std::time::Duration;

/// One versioned write, as [`VersionedCache::put`](crate::VersionedCache::put)
/// takes it.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// Where it goes.
    pub key: &'a str,
    /// The version it carries.
    pub version: u64,
    /// What is stored.
    pub value: &'a [u8],
    /// How long it lives.
    pub ttl: Duration,
    /// Which held entries it may replace.
    pub rule: Overwrite,
}

/// Which held entries a write may replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Only entries of an older version (`put_if_newer`).
    Older,
    /// Entries of an older or the same version (`put_unless_newer`).
    OlderOrSame,
}

impl Overwrite {
    /// A write of `value` at `version` under this rule.
    pub fn write<'a>(
        self,
        key: &'a str,
        version: u64,
        value: &'a [u8],
        ttl: Duration,
    ) -> Write<'a> {
        Write {
            key,
            version,
            value,
            ttl,
            rule: self,
        }
    }

    /// True when a live entry at version `held` keeps out a write of
    /// version `incoming`.
    pub(crate) fn refused_by(self, held: u64, incoming: u64) -> bool {
        held > incoming || (held == incoming && self == Overwrite::Older)
    }

    /// The same rule as the Redis write script reads it: "1" when an entry
    /// of the same version is replaced, "0" when it is kept.
    pub(crate) fn script_flag(self) -> &'static str {
        match self {
            Overwrite::Older => "0",
            Overwrite::OlderOrSame => "1",
        }
    }
}

/// A version as Redis stores it: zero-padded, so that the script's string
/// comparison is numeric order.
pub(crate) fn encode(version: u64) -> String {
    format!("{version:020}")
}

/// A version as Redis held it; `None` for a missing or foreign value.
pub(crate) fn decode(stored: Option<String>) -> Option<u64> {
    stored.and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_version_is_kept_only_by_older() {
        assert!(Overwrite::Older.refused_by(5, 4));
        assert!(Overwrite::Older.refused_by(5, 5));
        assert!(!Overwrite::Older.refused_by(5, 6));
        assert!(Overwrite::OlderOrSame.refused_by(5, 4));
        assert!(!Overwrite::OlderOrSame.refused_by(5, 5));
    }

    #[test]
    fn encoded_versions_sort_as_numbers() {
        assert!(encode(10) > encode(9));
        assert!(encode(u64::MAX) > encode(u64::MAX - 1));
        assert_eq!(decode(Some(encode(42))), Some(42));
        assert_eq!(decode(Some("x".into())), None);
    }
}
