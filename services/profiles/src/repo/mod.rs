//! Storage of customers and everything attached to them. Each [`Repo`]
//! method opens the transaction (or, for reads, the connection) with the
//! kit's `in_tx!`/`on_pool!`; the functions it runs are written once on
//! [`Conn`] and pick per backend only the statements that differ.

mod attributes;
mod consents;
mod customer_rows;
mod customers;
mod erasures;
mod hierarchy;
mod identities;
mod resolve;
mod upsert;

use chrono::{DateTime, Utc};
use rapport_kit::{Db, in_tx, on_pool};
use uuid::Uuid;

pub(crate) use self::{
    customers::{ListQuery, NewCustomer, Patch},
    erasures::Erasure,
    resolve::{ResolveQuery, Resolved},
    upsert::Outcome,
};

use crate::{
    error::Error,
    model::{ConsentChange, ConsentChanged, ConsentState, Customer, IdentityKey},
    validate::records::Import,
};

/// Customers of every tenant; each method acts for one tenant only.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    db: Db,
    /// Where lists are read: a replica, or `db` itself.
    reader: Db,
}

impl Repo {
    /// A repository over the profiles schema, listing from `reader`.
    pub fn new(db: Db, reader: Db) -> Self {
        Repo { db, reader }
    }

    /// Creates the customer `request_id` stands for; `false` when it existed.
    pub async fn create(
        &self,
        tenant: Uuid,
        request_id: &str,
        new: NewCustomer,
        now: DateTime<Utc>,
    ) -> Result<(Customer, bool), Error> {
        Ok(in_tx!(&self.db, tx => {
            Conn::from(&mut *tx).create(tenant, request_id, new, now).await?
        }))
    }

    /// One customer with identities, attributes and consents.
    pub async fn get(&self, tenant: Uuid, id: Uuid) -> Result<Customer, Error> {
        on_pool!(&self.db, pool => Conn::from(&mut *pool.acquire().await?).get(tenant, id).await)
    }

    /// Replaces the fields named by the patch's paths.
    pub async fn update(
        &self,
        tenant: Uuid,
        patch: Patch,
        now: DateTime<Utc>,
    ) -> Result<Customer, Error> {
        Ok(in_tx!(&self.db, tx => Conn::from(&mut *tx).update(tenant, patch, now).await?))
    }

    /// Deletes a customer; `false` when there was none.
    pub async fn delete(&self, tenant: Uuid, id: Uuid) -> Result<bool, Error> {
        Ok(in_tx!(&self.db, tx => Conn::from(&mut *tx).delete(tenant, &[id]).await? > 0))
    }

    /// A page of customers and the id the next page starts after.
    pub async fn list(
        &self,
        tenant: Uuid,
        query: ListQuery,
    ) -> Result<(Vec<Customer>, Option<Uuid>), Error> {
        on_pool!(&self.reader, pool => Conn::from(&mut *pool.acquire().await?).page(tenant, query).await)
    }

    /// The customer holding an identity.
    pub async fn lookup(&self, tenant: Uuid, key: &IdentityKey) -> Result<Customer, Error> {
        on_pool!(&self.db, pool => Conn::from(&mut *pool.acquire().await?).lookup(tenant, key).await)
    }

    /// Attaches an identity to a customer.
    pub async fn add_identity(
        &self,
        tenant: Uuid,
        id: Uuid,
        key: &IdentityKey,
    ) -> Result<Customer, Error> {
        Ok(in_tx!(&self.db, tx => Conn::from(&mut *tx).add_identity(tenant, id, key).await?))
    }

    /// Grants or revokes consent on a channel; with the change, if any.
    pub async fn set_consent(
        &self,
        tenant: Uuid,
        id: Uuid,
        change: ConsentChange,
    ) -> Result<(ConsentState, Option<ConsentChanged>), Error> {
        Ok(in_tx!(&self.db, tx => Conn::from(&mut *tx).set_consent(tenant, id, change).await?))
    }

    /// Imports a batch in one transaction.
    pub async fn upsert(
        &self,
        tenant: Uuid,
        import: Import,
        now: DateTime<Utc>,
    ) -> Result<Outcome, Error> {
        Ok(in_tx!(&self.db, tx => Conn::from(&mut *tx).upsert(tenant, import, now).await?))
    }

    /// Maps identities to customers, creating stubs when asked, and tells
    /// which of the query's ids are customers.
    pub async fn resolve(
        &self,
        tenant: Uuid,
        q: &ResolveQuery,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Resolved>, Vec<Uuid>), Error> {
        // Mostly every identity is known already: a read on one connection
        // answers, and only a batch with new ones pays for a transaction.
        let read = on_pool!(&self.db, pool => {
            let mut conn = pool.acquire().await?;
            Conn::from(&mut *conn).resolve_query(tenant, q, false, now).await?
        });
        if !q.create_missing || read.0.iter().all(|(id, _)| id.is_some()) {
            return Ok(read);
        }
        Ok(in_tx!(&self.db, tx => {
            Conn::from(&mut *tx).resolve_query(tenant, q, true, now).await?
        }))
    }
}

/// A transaction's connection of either backend, on which the operations of
/// this module are methods (a local type, so they can be).
pub(crate) struct Conn<'a>(rapport_kit::db::Conn<'a>);

impl<'a, C> From<C> for Conn<'a>
where
    rapport_kit::db::Conn<'a>: From<C>,
{
    fn from(c: C) -> Self {
        Conn(c.into())
    }
}

impl<'a> std::ops::Deref for Conn<'a> {
    type Target = rapport_kit::db::Conn<'a>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
