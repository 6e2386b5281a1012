//! Storage of notifications, their attempts, the delivery queue and each
//! tenant's settings: one SQL body per operation, run on either pool. Every
//! read and write names the tenant, except the worker's claim, which serves
//! all tenants and carries each row's tenant onwards.

mod endpoints;
mod keys;
mod notifications;
mod policy;
mod queue;
mod reads;
mod rows;
mod secrets;
mod templates;

pub use endpoints::PutOutcome;
pub use keys::Keys;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rapport_kit::Db;
use uuid::Uuid;

/// The notifications store.
#[derive(Debug, Clone)]
pub struct Repository {
    db: Db,
    keys: Arc<Keys>,
}

impl Repository {
    /// The pool, for statements written elsewhere (GDPR export and
    /// erasure).
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Wraps a pool opened on the notifications schema, sealing webhook
    /// signing secrets with `keys`.
    pub fn new(db: Db, keys: Keys) -> Self {
        Repository {
            db,
            keys: Arc::new(keys),
        }
    }
}

/// The natural key of a template.
#[derive(Debug, Clone, Copy)]
pub struct TemplateKey<'a> {
    /// Its name.
    pub name: &'a str,
    /// Stored channel name.
    pub channel: &'a str,
    /// Its locale.
    pub locale: &'a str,
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
