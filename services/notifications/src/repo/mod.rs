//! Storage of notifications, their attempts, the delivery queue and each
//! tenant's settings: one SQL body per operation, run on either pool. Every
//! read and write names the tenant, except the worker's claim, which serves
//! all tenants and carries each row's tenant onwards.

mod columns;
mod notifications;
mod policy;
mod queue;
mod reads;
mod secrets;
mod templates;

pub use templates::TemplateKey;

use chrono::{DateTime, TimeZone, Utc};
use rapport_kit::{ApiError, Db, error::classify_db_error};
use uuid::Uuid;

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

/// A count as an SQL integer; values past `i32::MAX` cannot occur in practice
/// (attempts are few, durations bounded by the timeout) and saturate.
fn sql_int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
