//! Single-customer operations: create, read, update, delete, list, consent.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::Error,
    hierarchy::would_cycle,
    model::{
        ConsentChange, ConsentState, Customer, Fields, IdentityKey, apply_consent, apply_consents,
        request_customer_id,
    },
    store::{ListQuery, Store},
    validate::Path,
};

/// A validated `CreateCustomer` payload.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewCustomer {
    pub fields: Fields,
    pub identities: Vec<IdentityKey>,
    pub consents: Vec<ConsentChange>,
}

/// The customer, or `NotFound`.
pub(crate) async fn get<S: Store>(s: &mut S, tenant: Uuid, id: Uuid) -> Result<Customer, Error> {
    s.load(tenant, &[id])
        .await?
        .pop()
        .ok_or(Error::NotFound(id))
}

/// Creates the customer `request_id` stands for, once; a repeat returns the
/// stored customer and `false`.
pub(crate) async fn create<S: Store>(
    s: &mut S,
    tenant: Uuid,
    request_id: &str,
    new: NewCustomer,
    now: DateTime<Utc>,
) -> Result<(Customer, bool), Error> {
    let id = request_customer_id(tenant, request_id);
    if let Some(existing) = s.load(tenant, &[id]).await?.pop() {
        return Ok((existing, false));
    }
    if let Some(parent) = new.fields.parent_id {
        s.lock_hierarchy(tenant).await?;
        check_parent(s, tenant, id, parent).await?;
    }
    let row = Customer::new(id, new.fields, false, now);
    if s.insert_rows(tenant, &[&row]).await?.is_empty() {
        // A concurrent call with the same request_id committed first.
        return Ok((get(s, tenant, id).await?, false));
    }
    if !row.fields.attributes.is_empty() {
        s.replace_attributes(tenant, &[(id, &row.fields.attributes)])
            .await?;
    }
    attach_identities(s, tenant, id, &new.identities).await?;
    let consents: Vec<_> = apply_consents(&[], &new.consents)
        .into_iter()
        .map(|c| (id, c))
        .collect();
    s.write_consents(tenant, &consents).await?;
    Ok((get(s, tenant, id).await?, true))
}

/// Attaches identities to customer `id`; identities it already holds are
/// fine, identities another customer holds are refused.
pub(crate) async fn attach_identities<S: Store>(
    s: &mut S,
    tenant: Uuid,
    id: Uuid,
    keys: &[IdentityKey],
) -> Result<(), Error> {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let items: Vec<_> = keys.iter().map(|k| (id, k)).collect();
    let attached = s.insert_identities(tenant, &items).await?;
    if attached.len() == keys.len() {
        return Ok(());
    }
    let held: Vec<IdentityKey> = keys.into_iter().filter(|k| !attached.contains(k)).collect();
    let holders = s.find_identities(tenant, &held).await?;
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

/// Checks that `parent` is a customer of the tenant and that making it the
/// parent of `child` makes no customer its own ancestor. Call with the
/// hierarchy lock held.
async fn check_parent<S: Store>(
    s: &mut S,
    tenant: Uuid,
    child: Uuid,
    parent: Uuid,
) -> Result<(), Error> {
    let links = s.links(tenant, &[parent]).await?;
    if !links.contains_key(&parent) {
        return Err(Error::invalid(
            "customer.parent_id",
            "no customer has this id",
        ));
    }
    if would_cycle(&links, child, parent) {
        return Err(Error::invalid(
            "customer.parent_id",
            "would make the customer its own ancestor",
        ));
    }
    Ok(())
}

/// Replaces the fields named by `paths` with those of `patch`. Changing
/// nothing writes nothing, except that any update enriches a stub.
pub(crate) async fn update<S: Store>(
    s: &mut S,
    tenant: Uuid,
    id: Uuid,
    paths: &[Path],
    patch: Fields,
    now: DateTime<Utc>,
) -> Result<Customer, Error> {
    s.lock_rows(tenant, &[id]).await?;
    let current = get(s, tenant, id).await?;
    let mut fields = current.fields.clone();
    for path in paths {
        match path {
            Path::DisplayName => fields.display_name.clone_from(&patch.display_name),
            Path::Kind => fields.kind = patch.kind,
            Path::Email => fields.email.clone_from(&patch.email),
            Path::Phone => fields.phone.clone_from(&patch.phone),
            Path::ParentId => fields.parent_id = patch.parent_id,
            Path::Attributes => fields.attributes.clone_from(&patch.attributes),
        }
    }
    if let Some(parent) = fields.parent_id
        && fields.parent_id != current.fields.parent_id
    {
        s.lock_hierarchy(tenant).await?;
        check_parent(s, tenant, id, parent).await?;
    }
    if fields == current.fields && !current.stub {
        return Ok(current);
    }
    let attributes_changed = fields.attributes != current.fields.attributes;
    let next = Customer {
        fields,
        stub: false,
        updated_at: now,
        ..current
    };
    s.upsert_rows(tenant, &[&next]).await?;
    if attributes_changed {
        s.replace_attributes(tenant, &[(id, &next.fields.attributes)])
            .await?;
    }
    Ok(next)
}

/// Deletes the customer with everything attached; `false` when there was
/// none.
pub(crate) async fn delete<S: Store>(s: &mut S, tenant: Uuid, id: Uuid) -> Result<bool, Error> {
    Ok(s.delete(tenant, &[id]).await? > 0)
}

/// One page of customers and the id to continue after, if there is more.
pub(crate) async fn list<S: Store>(
    s: &mut S,
    tenant: Uuid,
    mut query: ListQuery,
) -> Result<(Vec<Customer>, Option<Uuid>), Error> {
    let page = query.limit as usize;
    // One more than a page tells whether another page follows.
    query.limit += 1;
    let mut ids = s.list(tenant, &query).await?;
    let next = if ids.len() > page {
        ids.truncate(page);
        ids.last().copied()
    } else {
        None
    };
    Ok((s.load(tenant, &ids).await?, next))
}

/// Grants or revokes consent on a channel; returns the consent as stored.
pub(crate) async fn set_consent<S: Store>(
    s: &mut S,
    tenant: Uuid,
    id: Uuid,
    change: ConsentChange,
) -> Result<ConsentState, Error> {
    s.lock_rows(tenant, &[id]).await?;
    let current = get(s, tenant, id).await?;
    let existing = current.consent(change.channel).copied();
    match apply_consent(existing.as_ref(), change) {
        Some(next) => {
            s.write_consents(tenant, &[(id, next)]).await?;
            Ok(next)
        }
        // Already as asked; only a stored consent can be unchanged.
        None => existing.ok_or(Error::Conflict("consent")),
    }
}
