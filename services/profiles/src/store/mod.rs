//! Storage primitives, one implementation per backend. The operations in
//! `ops` are written once against [`Store`] and run inside a transaction (or
//! on one connection) that the repository opens.

mod postgres;
mod sqlite;

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use crate::{
    hierarchy::Links,
    model::{ConsentState, Customer, IdentityKey},
};

pub(crate) use postgres::PgStore;
pub(crate) use sqlite::SqliteStore;

/// Which customers a list page holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListQuery {
    /// Only ids after this one (the nil id for the first page).
    pub after: Uuid,
    /// Only direct children of this customer.
    pub parent_id: Option<Uuid>,
    /// Only customers with every one of these attribute values.
    pub attributes: BTreeMap<String, String>,
    /// Most ids returned.
    pub limit: u32,
}

/// What the operations need from a backend. Every method is scoped to one
/// tenant; nothing here can reach another tenant's rows.
pub(crate) trait Store: Send {
    /// Serialises hierarchy changes of one tenant until the transaction
    /// ends, so two concurrent changes cannot build a cycle together.
    async fn lock_hierarchy(&mut self, tenant: Uuid) -> Result<(), sqlx::Error>;

    /// Locks these customers' rows until the transaction ends, so a
    /// concurrent delete cannot slip between reading and rewriting them.
    async fn lock_rows(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<(), sqlx::Error>;

    /// The customers with these ids that exist, ordered by id.
    async fn load(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Vec<Customer>, sqlx::Error>;

    /// Which of these ids are customers, without loading them.
    async fn existing(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error>;

    /// The holders of those identities that are known.
    async fn find_identities(
        &mut self,
        tenant: Uuid,
        keys: &[IdentityKey],
    ) -> Result<HashMap<IdentityKey, Uuid>, sqlx::Error>;

    /// Parent links of the existing customers among `ids` and of all their
    /// ancestors.
    async fn links(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<Links, sqlx::Error>;

    /// Inserts customer rows (fields and flags, not identities, attributes
    /// or consents) that do not exist yet; returns the ids inserted.
    async fn insert_rows(
        &mut self,
        tenant: Uuid,
        rows: &[&Customer],
    ) -> Result<Vec<Uuid>, sqlx::Error>;

    /// Inserts or overwrites customer rows (`created_at` of existing rows is
    /// kept).
    async fn upsert_rows(&mut self, tenant: Uuid, rows: &[&Customer]) -> Result<(), sqlx::Error>;

    /// Attaches identities that nobody holds yet; returns those attached.
    async fn insert_identities(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, &IdentityKey)],
    ) -> Result<Vec<IdentityKey>, sqlx::Error>;

    /// Replaces the whole attribute set of each customer.
    async fn replace_attributes(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, &BTreeMap<String, String>)],
    ) -> Result<(), sqlx::Error>;

    /// Writes consent states (at most one per customer and channel).
    async fn write_consents(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, ConsentState)],
    ) -> Result<(), sqlx::Error>;

    /// Deletes customers with everything attached; their children lose
    /// their parent. Returns how many existed.
    async fn delete(&mut self, tenant: Uuid, ids: &[Uuid]) -> Result<u64, sqlx::Error>;

    /// Ids of a list page, ascending.
    async fn list(&mut self, tenant: Uuid, query: &ListQuery) -> Result<Vec<Uuid>, sqlx::Error>;
}

/// Groups attached rows by customer, in the order the ids were loaded.
pub(crate) fn attach(
    rows: &mut [Customer],
    identities: Vec<(Uuid, IdentityKey)>,
    attributes: Vec<(Uuid, String, String)>,
    consents: Vec<(Uuid, ConsentState)>,
) {
    let index: HashMap<Uuid, usize> = rows.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    for (id, key) in identities {
        if let Some(&i) = index.get(&id) {
            rows[i].identities.push(key);
        }
    }
    for (id, key, value) in attributes {
        if let Some(&i) = index.get(&id) {
            rows[i].fields.attributes.insert(key, value);
        }
    }
    for (id, consent) in consents {
        if let Some(&i) = index.get(&id) {
            rows[i].consents.push(consent);
        }
    }
    for c in rows.iter_mut() {
        c.identities.sort();
        c.consents.sort_by_key(|c| c.channel);
    }
}
