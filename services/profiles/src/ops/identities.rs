//! Operations on external identities: lookup, attach, and bulk resolution
//! with stub creation for ingestion.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::customers::{attach_identities, get};
use crate::{
    error::Error,
    model::{Customer, Fields, IdentityKey, identity_customer_id},
    store::Store,
};

/// The customer holding `key`.
pub(crate) async fn lookup<S: Store>(
    s: &mut S,
    tenant: Uuid,
    key: &IdentityKey,
) -> Result<Customer, Error> {
    let holders = s.find_identities(tenant, std::slice::from_ref(key)).await?;
    let id = holders
        .get(key)
        .copied()
        .ok_or_else(|| Error::IdentityUnknown(key.0.clone()))?;
    // Deleted between the two reads: as good as never found.
    match get(s, tenant, id).await {
        Err(Error::NotFound(_)) => Err(Error::IdentityUnknown(key.0.clone())),
        other => other,
    }
}

/// Attaches `key` to customer `id` (a no-op when it already holds it).
pub(crate) async fn add<S: Store>(
    s: &mut S,
    tenant: Uuid,
    id: Uuid,
    key: &IdentityKey,
) -> Result<Customer, Error> {
    s.lock_rows(tenant, &[id]).await?;
    let current = get(s, tenant, id).await?;
    if current.identities.contains(key) {
        return Ok(current);
    }
    attach_identities(s, tenant, id, std::slice::from_ref(key)).await?;
    get(s, tenant, id).await
}

/// One resolved identity: its customer (if known or created) and whether
/// this call created it.
pub(crate) type Resolved = (Option<Uuid>, bool);

/// Maps identities to customers, in order. With `create_missing`, unknown
/// identities get stub customers with deterministic ids, inserted so that
/// concurrent resolvers converge on the same customer: whichever inserts
/// first wins, the others find it. A repeated identity is reported created
/// at its first position only.
/// [`resolve`], and which of `ids` are customers, on one connection.
pub(crate) async fn resolve_with_ids<S: Store>(
    s: &mut S,
    tenant: Uuid,
    keys: &[IdentityKey],
    ids: &[Uuid],
    create_missing: bool,
    now: DateTime<Utc>,
) -> Result<(Vec<Resolved>, Vec<Uuid>), Error> {
    let resolved = if keys.is_empty() {
        Vec::new()
    } else {
        resolve(s, tenant, keys, create_missing, now).await?
    };
    let known = s.existing(tenant, ids).await?;
    Ok((resolved, known))
}

pub(crate) async fn resolve<S: Store>(
    s: &mut S,
    tenant: Uuid,
    keys: &[IdentityKey],
    create_missing: bool,
    now: DateTime<Utc>,
) -> Result<Vec<Resolved>, Error> {
    let mut unique = keys.to_vec();
    unique.sort();
    unique.dedup();
    let mut found = s.find_identities(tenant, &unique).await?;
    let mut created: HashSet<IdentityKey> = HashSet::new();
    let missing: Vec<&IdentityKey> = unique.iter().filter(|k| !found.contains_key(*k)).collect();
    if create_missing && !missing.is_empty() {
        let stubs: Vec<Customer> = missing
            .iter()
            .map(|k| {
                Customer::new(
                    identity_customer_id(tenant, k),
                    Fields::default(),
                    true,
                    now,
                )
            })
            .collect();
        let rows: Vec<&Customer> = stubs.iter().collect();
        let inserted: HashSet<Uuid> = s.insert_rows(tenant, &rows).await?.into_iter().collect();
        let items: Vec<(Uuid, &IdentityKey)> = missing
            .iter()
            .zip(&stubs)
            .map(|(k, c)| (c.id, *k))
            .collect();
        let attached: HashSet<IdentityKey> = s
            .insert_identities(tenant, &items)
            .await?
            .into_iter()
            .collect();
        // A stub inserted here whose identity another customer took meanwhile
        // would belong to nobody.
        let orphans: Vec<Uuid> = items
            .iter()
            .filter(|(id, k)| inserted.contains(id) && !attached.contains(*k))
            .map(|(id, _)| *id)
            .collect();
        if !orphans.is_empty() {
            s.delete(tenant, &orphans).await?;
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
        found.extend(s.find_identities(tenant, &late).await?);
    }
    Ok(keys
        .iter()
        .map(|k| (found.get(k).copied(), created.remove(k)))
        .collect())
}
