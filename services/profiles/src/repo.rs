//! The repository: runs each operation on the service's database, inside a
//! transaction when it writes, with the store matching the backend.

use chrono::{DateTime, Utc};
use rapport_kit::Db;
use uuid::Uuid;

use crate::{
    error::Error,
    model::{ConsentChange, ConsentState, Customer, Fields, IdentityKey},
    ops::{
        customers::{self, NewCustomer},
        identities::{self, Resolved},
        records::{Record, Rejection},
        upsert::{self, Outcome},
    },
    store::{ListQuery, PgStore, SqliteStore},
    validate::Path,
};

/// Runs `$body` (an expression using `$s: &mut impl Store`) in a transaction
/// committed when it succeeds; an error drops the transaction, rolling back.
macro_rules! in_tx {
    ($db:expr, |$s:ident| $body:expr) => {
        match $db {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let out = {
                    let mut store = PgStore::new(&mut *tx);
                    let $s = &mut store;
                    $body.await?
                };
                tx.commit().await?;
                Ok(out)
            }
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let out = {
                    let mut store = SqliteStore::new(&mut *tx);
                    let $s = &mut store;
                    $body.await?
                };
                tx.commit().await?;
                Ok(out)
            }
        }
    };
}

/// Runs a read-only `$body` on one pooled connection.
macro_rules! on_conn {
    ($db:expr, |$s:ident| $body:expr) => {
        match $db {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let mut store = PgStore::new(&mut *conn);
                let $s = &mut store;
                $body.await
            }
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                let mut store = SqliteStore::new(&mut *conn);
                let $s = &mut store;
                $body.await
            }
        }
    };
}

/// Customers of every tenant; each method acts for one tenant only.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    db: Db,
}

impl Repo {
    /// A repository over the profiles schema.
    pub fn new(db: Db) -> Self {
        Repo { db }
    }

    /// Creates the customer `request_id` stands for; `false` when it existed.
    pub async fn create(
        &self,
        tenant: Uuid,
        request_id: &str,
        new: NewCustomer,
        now: DateTime<Utc>,
    ) -> Result<(Customer, bool), Error> {
        in_tx!(&self.db, |s| customers::create(
            s, tenant, request_id, new, now
        ))
    }

    /// One customer with identities, attributes and consents.
    pub async fn get(&self, tenant: Uuid, id: Uuid) -> Result<Customer, Error> {
        on_conn!(&self.db, |s| customers::get(s, tenant, id))
    }

    /// Replaces the fields named by `paths`.
    pub async fn update(
        &self,
        tenant: Uuid,
        id: Uuid,
        paths: &[Path],
        patch: Fields,
        now: DateTime<Utc>,
    ) -> Result<Customer, Error> {
        in_tx!(&self.db, |s| customers::update(
            s, tenant, id, paths, patch, now
        ))
    }

    /// Deletes a customer; `false` when there was none.
    pub async fn delete(&self, tenant: Uuid, id: Uuid) -> Result<bool, Error> {
        in_tx!(&self.db, |s| customers::delete(s, tenant, id))
    }

    /// A page of customers and the id the next page starts after.
    pub async fn list(
        &self,
        tenant: Uuid,
        query: ListQuery,
    ) -> Result<(Vec<Customer>, Option<Uuid>), Error> {
        on_conn!(&self.db, |s| customers::list(s, tenant, query))
    }

    /// The customer holding an identity.
    pub async fn lookup(&self, tenant: Uuid, key: &IdentityKey) -> Result<Customer, Error> {
        on_conn!(&self.db, |s| identities::lookup(s, tenant, key))
    }

    /// Attaches an identity to a customer.
    pub async fn add_identity(
        &self,
        tenant: Uuid,
        id: Uuid,
        key: &IdentityKey,
    ) -> Result<Customer, Error> {
        in_tx!(&self.db, |s| identities::add(s, tenant, id, key))
    }

    /// Grants or revokes consent on a channel.
    pub async fn set_consent(
        &self,
        tenant: Uuid,
        id: Uuid,
        change: ConsentChange,
    ) -> Result<ConsentState, Error> {
        in_tx!(&self.db, |s| customers::set_consent(s, tenant, id, change))
    }

    /// Imports a batch in one transaction.
    pub async fn upsert(
        &self,
        tenant: Uuid,
        total: usize,
        records: Vec<Record>,
        rejected: Vec<Rejection>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, Error> {
        in_tx!(&self.db, |s| upsert::upsert(
            s, tenant, total, records, rejected, now
        ))
    }

    /// Maps identities to customers, creating stubs when asked, and tells
    /// which of `ids` are customers; a read-only resolution needs no
    /// transaction.
    pub async fn resolve(
        &self,
        tenant: Uuid,
        keys: &[IdentityKey],
        ids: &[Uuid],
        create_missing: bool,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Resolved>, Vec<Uuid>), Error> {
        // Mostly every identity is known already: a read on one connection
        // answers, and only a batch with new ones pays for a transaction.
        let read: (Vec<Resolved>, Vec<Uuid>) = on_conn!(&self.db, |s| {
            identities::resolve_with_ids(s, tenant, keys, ids, false, now)
        })?;
        if !create_missing || read.0.iter().all(|(id, _)| id.is_some()) {
            return Ok(read);
        }
        in_tx!(&self.db, |s| identities::resolve_with_ids(
            s, tenant, keys, ids, true, now
        ))
    }
}
