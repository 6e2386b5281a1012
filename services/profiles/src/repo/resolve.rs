//! `ResolveIdentities`: maps ingestion's identities to customers, creating
//! stub customers for unknown ones so that concurrent resolvers converge.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Conn;
use crate::{
    error::Error,
    model::{Customer, Fields, IdentityKey, identity_customer_id},
};

/// One resolved identity: its customer (if known or created) and whether
/// this call created it.
pub(crate) type Resolved = (Option<Uuid>, bool);

/// A validated `ResolveIdentities` request.
#[derive(Debug, Clone)]
pub(crate) struct ResolveQuery {
    /// The identities, in order.
    pub keys: Vec<IdentityKey>,
    /// Customer ids to confirm.
    pub ids: Vec<Uuid>,
    /// Whether unknown identities get stub customers.
    pub create_missing: bool,
}

impl Conn<'_> {
    /// [`Conn::resolve`] (creating stubs only if `create`), and which of the
    /// query's ids are customers, on one connection.
    pub async fn resolve_query(
        &mut self,
        tenant: Uuid,
        q: &ResolveQuery,
        create: bool,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Resolved>, Vec<Uuid>), Error> {
        let resolved = if q.keys.is_empty() {
            Vec::new()
        } else {
            self.resolve(tenant, &q.keys, create, now).await?
        };
        let known = self.existing(tenant, &q.ids).await?;
        Ok((resolved, known))
    }

    /// Maps identities to customers, in order. With `create_missing`, unknown
    /// identities get stub customers with deterministic ids, inserted so that
    /// concurrent resolvers converge on the same customer: whichever inserts
    /// first wins, the others find it. A repeated identity is reported
    /// created at its first position only.
    pub async fn resolve(
        &mut self,
        tenant: Uuid,
        keys: &[IdentityKey],
        create_missing: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<Resolved>, Error> {
        let mut unique = keys.to_vec();
        unique.sort();
        unique.dedup();
        let mut found = self.find_identities(tenant, &unique).await?;
        let mut created: HashSet<IdentityKey> = HashSet::new();
        let missing: Vec<&IdentityKey> =
            unique.iter().filter(|k| !found.contains_key(*k)).collect();
        if create_missing && !missing.is_empty() {
            let stubs: Vec<Customer> = missing
                .iter()
                .map(|k| {
                    let id = identity_customer_id(tenant, k);
                    Customer::new(id, Fields::default(), true, now)
                })
                .collect();
            let rows: Vec<&Customer> = stubs.iter().collect();
            let inserted: HashSet<Uuid> =
                self.insert_rows(tenant, &rows).await?.into_iter().collect();
            let items: Vec<(Uuid, &IdentityKey)> = missing
                .iter()
                .zip(&stubs)
                .map(|(k, c)| (c.id, *k))
                .collect();
            let attached: HashSet<IdentityKey> = self
                .insert_identities(tenant, &items)
                .await?
                .into_iter()
                .collect();
            // A stub inserted here whose identity another customer took
            // meanwhile would belong to nobody.
            let orphans: Vec<Uuid> = items
                .iter()
                .filter(|(id, k)| inserted.contains(id) && !attached.contains(*k))
                .map(|(id, _)| *id)
                .collect();
            if !orphans.is_empty() {
                self.delete(tenant, &orphans).await?;
            }
            for (id, key) in &items {
                if attached.contains(*key) {
                    found.insert((*key).clone(), *id);
                    if inserted.contains(id) {
                        created.insert((*key).clone());
                    }
                }
            }
            let late: Vec<IdentityKey> = missing
                .iter()
                .filter(|k| !attached.contains(**k))
                .map(|k| (*k).clone())
                .collect();
            found.extend(self.find_identities(tenant, &late).await?);
        }
        Ok(keys
            .iter()
            .map(|k| (found.get(k).copied(), created.remove(k)))
            .collect())
    }
}
