//! Storage of notifications, their attempts and the delivery queue, for both
//! backends. Every read and write names the tenant, except the worker's
//! claim, which serves all tenants and carries each row's tenant onwards.

mod postgres;
mod settings;
pub use settings::TemplateKey;
mod sqlite;

use chrono::{DateTime, TimeZone, Utc};
use rapport_kit::{ApiError, Db, error::classify_db_error};
use uuid::Uuid;

use crate::model::{Attempt, Claimed, ContactPolicy, NewNotification, Next, Notification, Status};

const INSERT: &str = include_str!("../../sql/insert.sql");
const GET: &str = include_str!("../../sql/get.sql");
const BY_DEDUPE_KEY: &str = include_str!("../../sql/by_dedupe_key.sql");
const LIST: &str = include_str!("../../sql/list.sql");
const LIST_CUSTOMER: &str = include_str!("../../sql/list_customer.sql");
const ATTEMPTS: &str = include_str!("../../sql/attempts.sql");
const FINISH: &str = include_str!("../../sql/finish.sql");
const ADD_ATTEMPT: &str = include_str!("../../sql/add_attempt.sql");
const CONTACT_LOCK: &str = include_str!("../../sql/contact_lock.sql");
const RECENT_MARKETING: &str = include_str!("../../sql/recent_marketing.sql");

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or could not be reached.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A stored value cannot be read back (a bug or manual edits).
    #[error("stored notification is unreadable: {0}")]
    Corrupt(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Db(e) => classify_db_error(e, "notification"),
            StoreError::Corrupt(m) => ApiError::Internal(anyhow::anyhow!(m)),
        }
    }
}

/// Where a newest-first page starts: strictly before this (created_at, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Creation time of the last row served.
    pub created_at: DateTime<Utc>,
    /// Its id, breaking ties between rows created in the same microsecond.
    pub id: Uuid,
}

impl Cursor {
    /// Before everything: the first page. Year 9999 fits both stores' time
    /// types, which an unbounded maximum would not.
    pub fn start() -> Cursor {
        let end = Utc
            .with_ymd_and_hms(9999, 12, 31, 0, 0, 0)
            .single()
            .unwrap_or_else(Utc::now);
        Cursor {
            created_at: end,
            id: Uuid::max(),
        }
    }
}

/// The columns an attempt's outcome writes: status, next attempt, delivery
/// time and the receiver's message id.
fn outcome(next: &Next) -> (Status, Option<DateTime<Utc>>, Option<DateTime<Utc>>, &str) {
    match next {
        Next::Delivered {
            at,
            provider_message_id,
        } => (
            Status::Delivered,
            None,
            Some(*at),
            provider_message_id.as_str(),
        ),
        Next::Retry { at, .. } => (Status::Pending, Some(*at), None, ""),
        Next::DeadLetter => (Status::DeadLetter, None, None, ""),
        Next::Suppressed { .. } => (Status::Suppressed, None, None, ""),
    }
}

fn suppressed_reason(next: &Next) -> &'static str {
    match next {
        Next::Suppressed { reason } => reason,
        _ => "",
    }
}

/// The contact policy's verdict on a marketing message, or `new` unchanged.
fn capped(
    mut new: NewNotification,
    policy: &ContactPolicy,
    in_window: i64,
    latest: Option<DateTime<Utc>>,
) -> NewNotification {
    let in_window = u32::try_from(in_window).unwrap_or(u32::MAX);
    if let Some(reason) = policy.refusal(new.created_at, in_window, latest) {
        new.suppressed = Some(reason);
    }
    new
}

/// Whether the frequency cap applies to `new`: marketing to a customer that
/// policy has not already refused.
fn cap_applies(new: &NewNotification) -> bool {
    new.purpose == rapport_proto::v1::Purpose::Marketing
        && !new.customer_id.is_nil()
        && new.suppressed.is_none()
}

/// The notifications store.
#[derive(Debug, Clone)]
pub struct Repository {
    db: Db,
}

impl Repository {
    /// Wraps a pool opened on the notifications schema.
    pub fn new(db: Db) -> Self {
        Repository { db }
    }

    /// Stores `new` unless its dedupe key was used before; returns the stored
    /// notification and whether this call created it. Marketing to a
    /// customer is first checked against `policy` with the customer's
    /// contact-state row locked, so racing replicas cannot both pass the cap;
    /// a refusal is stored as SUPPRESSED.
    pub async fn insert(
        &self,
        tenant: Uuid,
        new: NewNotification,
        policy: &ContactPolicy,
    ) -> Result<(Notification, bool), StoreError> {
        match &self.db {
            Db::Postgres(pool) => postgres::insert(pool, tenant, new, policy).await,
            Db::Sqlite(pool) => sqlite::insert(pool, tenant, new, policy).await,
        }
    }

    /// The notification stored under `dedupe_key`, if any.
    pub async fn by_dedupe_key(
        &self,
        tenant: Uuid,
        dedupe_key: &str,
    ) -> Result<Option<Notification>, StoreError> {
        match &self.db {
            Db::Postgres(pool) => postgres::by_dedupe_key(pool, tenant, dedupe_key).await,
            Db::Sqlite(pool) => sqlite::by_dedupe_key(pool, tenant, dedupe_key).await,
        }
    }

    /// A notification of `tenant` with its attempts, oldest attempt first.
    pub async fn get(
        &self,
        tenant: Uuid,
        id: Uuid,
    ) -> Result<Option<(Notification, Vec<Attempt>)>, StoreError> {
        match &self.db {
            Db::Postgres(pool) => postgres::get(pool, tenant, id).await,
            Db::Sqlite(pool) => sqlite::get(pool, tenant, id).await,
        }
    }

    /// Up to `limit` notifications of `tenant` (of one customer if given),
    /// newest first, strictly after `after` in that order.
    pub async fn list(
        &self,
        tenant: Uuid,
        customer: Option<Uuid>,
        after: Cursor,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        match &self.db {
            Db::Postgres(pool) => postgres::list(pool, tenant, customer, after, limit).await,
            Db::Sqlite(pool) => sqlite::list(pool, tenant, customer, after, limit).await,
        }
    }

    /// Claims up to `limit` notifications due at `now` until `lease_until`.
    pub async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError> {
        let lease_id = Uuid::new_v4();
        match &self.db {
            Db::Postgres(pool) => postgres::claim(pool, now, lease_until, limit, lease_id).await,
            Db::Sqlite(pool) => sqlite::claim(pool, now, lease_until, limit, lease_id).await,
        }
    }

    /// Records `attempt` of a claimed notification and what comes next, in
    /// one transaction. `error` replaces the last error when given. Returns
    /// false, recording nothing, when the claim lapsed and another worker
    /// took the notification over.
    pub async fn finish(
        &self,
        job: &Claimed,
        attempt: &Attempt,
        next: &Next,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        match &self.db {
            Db::Postgres(pool) => postgres::finish(pool, job, attempt, next, error).await,
            Db::Sqlite(pool) => sqlite::finish(pool, job, attempt, next, error).await,
        }
    }
}

/// Start of the look-back that covers both the cap's window and the
/// cool-down, and start of the cap's window, for an accept at `now`.
fn windows(policy: &ContactPolicy, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let hours = |h: u32| chrono::Duration::hours(i64::from(h));
    let window_start = now - hours(policy.window_hours);
    let since = now - hours(policy.window_hours.max(policy.cool_down_hours));
    (since, window_start)
}

fn count(n: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n} out of range")))
}

fn status(s: &str) -> Result<Status, StoreError> {
    Status::parse(s).ok_or_else(|| StoreError::Corrupt(format!("status {s:?}")))
}

/// A count as an SQL integer; values past `i32::MAX` cannot occur in practice
/// (attempts are few, durations bounded by the timeout) and saturate.
fn sql_int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
