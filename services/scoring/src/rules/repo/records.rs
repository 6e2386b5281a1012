//! Rules and their versions as stored, and what a new version is made of.

/// One stored version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// 1, 2, ...
    pub version: i64,
    /// The definition as JSON.
    pub definition: String,
    /// Who made it.
    pub author: String,
    /// Microseconds.
    pub created_at: i64,
    /// Microseconds; `None` until published.
    pub published_at: Option<i64>,
}

/// A rule with its latest version.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    /// Rule id.
    pub id: String,
    /// Unique per tenant.
    pub name: String,
    /// Latest version number.
    pub latest_version: i64,
    /// Published version number, 0 for none.
    pub published_version: i64,
    /// Paused rules are not evaluated.
    pub enabled: bool,
    /// Microseconds.
    pub created_at: i64,
    /// Microseconds.
    pub updated_at: i64,
    /// The latest version.
    pub latest: VersionRecord,
}

pub(super) type RuleRow = (
    String,
    String,
    i64,
    i64,
    bool,
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
);

pub(super) fn record(r: RuleRow) -> RuleRecord {
    RuleRecord {
        id: r.0,
        name: r.1,
        latest_version: r.2,
        published_version: r.3,
        enabled: r.4,
        created_at: r.5,
        updated_at: r.6,
        latest: VersionRecord {
            version: r.7,
            definition: r.8,
            author: r.9,
            created_at: r.10,
            published_at: r.11,
        },
    }
}

/// What a new version is.
pub struct NewVersion<'a> {
    /// The idempotency key.
    pub request_id: &'a str,
    /// Who.
    pub author: &'a str,
    /// The rule's name in it.
    pub name: &'a str,
    /// JSON.
    pub definition: &'a str,
    /// Microseconds.
    pub now: i64,
}
