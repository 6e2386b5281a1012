//! The `identities` table: external identities, each held by one customer,
//! and the operations that look customers up by them or attach them.

use std::collections::HashMap;

use rapport_kit::db::Id;
use uuid::Uuid;

use super::Conn;
use crate::{
    error::Error,
    model::{Customer, IdentityKey},
};

impl Conn<'_> {
    /// The holders of those identities that are known.
    pub async fn find_identities(
        &mut self,
        tenant: Uuid,
        keys: &[IdentityKey],
    ) -> Result<HashMap<IdentityKey, Uuid>, sqlx::Error> {
        match &mut self.0 {
            _ if keys.is_empty() => Ok(HashMap::new()),
            // One statement probing the index per key of the arrays.
            rapport_kit::db::Conn::Postgres(c) => {
                let rows: Vec<(String, String, Uuid)> =
                    sqlx::query_as(include_str!("../../sql/postgres/find_identities.sql"))
                        .bind(tenant)
                        .bind(keys.iter().map(|k| k.0.as_str()).collect::<Vec<_>>())
                        .bind(keys.iter().map(|k| k.1.as_str()).collect::<Vec<_>>())
                        .fetch_all(&mut **c)
                        .await?;
                Ok(rows.into_iter().map(|(s, e, id)| ((s, e), id)).collect())
            }
            // No round trips to save on the embedded file: a probe a key.
            rapport_kit::db::Conn::Sqlite(c) => {
                let mut found = HashMap::new();
                for key in keys {
                    let holder: Option<Id> = sqlx::query_scalar(
                        "SELECT customer_id FROM identities WHERE tenant_id = $1 AND source = $2 AND external_id = $3",
                    )
                    .bind(Id(tenant))
                    .bind(&key.0)
                    .bind(&key.1)
                    .fetch_optional(&mut **c)
                    .await?;
                    found.extend(holder.map(|h| (key.clone(), h.0)));
                }
                Ok(found)
            }
        }
    }

    /// Attaches identities that nobody holds yet; returns those attached.
    pub async fn insert_identities(
        &mut self,
        tenant: Uuid,
        items: &[(Uuid, &IdentityKey)],
    ) -> Result<Vec<IdentityKey>, sqlx::Error> {
        match &mut self.0 {
            _ if items.is_empty() => Ok(Vec::new()),
            // One statement over column arrays, sorted so concurrent batches
            // take the unique index's locks in the same order.
            rapport_kit::db::Conn::Postgres(c) => {
                let mut sorted = items.to_vec();
                sorted.sort_by(|a, b| a.1.cmp(b.1));
                sqlx::query_as(include_str!("../../sql/postgres/insert_identities.sql"))
                    .bind(tenant)
                    .bind(sorted.iter().map(|(id, _)| *id).collect::<Vec<_>>())
                    .bind(sorted.iter().map(|(_, k)| k.0.as_str()).collect::<Vec<_>>())
                    .bind(sorted.iter().map(|(_, k)| k.1.as_str()).collect::<Vec<_>>())
                    .fetch_all(&mut **c)
                    .await
            }
            // No round trips to save on the embedded file: a statement a row.
            rapport_kit::db::Conn::Sqlite(c) => {
                let mut inserted = Vec::new();
                for (id, key) in items {
                    let done = sqlx::query(include_str!("../../sql/sqlite/insert_identities.sql"))
                        .bind(Id(tenant))
                        .bind(Id(*id))
                        .bind(&key.0)
                        .bind(&key.1)
                        .execute(&mut **c)
                        .await?;
                    if done.rows_affected() > 0 {
                        inserted.push((*key).clone());
                    }
                }
                Ok(inserted)
            }
        }
    }

    /// Attaches identities to customer `id`; identities it already holds are
    /// fine, identities another customer holds are refused.
    pub async fn attach_identities(
        &mut self,
        tenant: Uuid,
        id: Uuid,
        keys: &[IdentityKey],
    ) -> Result<(), Error> {
        let mut keys = keys.to_vec();
        keys.sort();
        keys.dedup();
        let items: Vec<_> = keys.iter().map(|k| (id, k)).collect();
        let attached = self.insert_identities(tenant, &items).await?;
        if attached.len() == keys.len() {
            return Ok(());
        }
        let held: Vec<IdentityKey> = keys.into_iter().filter(|k| !attached.contains(k)).collect();
        let holders = self.find_identities(tenant, &held).await?;
        for key in &held {
            match holders.get(key) {
                Some(holder) if *holder == id => {}
                Some(_) => return Err(Error::IdentityTaken(key.0.clone())),
                // Held a moment ago, released since: the caller may simply retry.
                None => return Err(Error::Conflict("identity")),
            }
        }
        Ok(())
    }

    /// The customer holding `key`.
    pub async fn lookup(&mut self, tenant: Uuid, key: &IdentityKey) -> Result<Customer, Error> {
        let holders = self
            .find_identities(tenant, std::slice::from_ref(key))
            .await?;
        let id = holders
            .get(key)
            .copied()
            .ok_or_else(|| Error::IdentityUnknown(key.0.clone()))?;
        // Deleted between the two reads: as good as never found.
        match self.get(tenant, id).await {
            Err(Error::NotFound(_)) => Err(Error::IdentityUnknown(key.0.clone())),
            other => other,
        }
    }

    /// Attaches `key` to customer `id` (a no-op when it already holds it).
    pub async fn add_identity(
        &mut self,
        tenant: Uuid,
        id: Uuid,
        key: &IdentityKey,
    ) -> Result<Customer, Error> {
        self.lock_rows(tenant, &[id]).await?;
        let current = self.get(tenant, id).await?;
        if current.identities.contains(key) {
            return Ok(current);
        }
        self.attach_identities(tenant, id, std::slice::from_ref(key))
            .await?;
        self.get(tenant, id).await
    }
}
