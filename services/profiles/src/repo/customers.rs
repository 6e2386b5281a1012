//! One customer at a time: create, read, update, delete and list pages,
//! each with what is attached to the customer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Conn;
use crate::{
    error::Error,
    model::{ConsentChange, Customer, Fields, IdentityKey, apply_consents, request_customer_id},
    validate::Path,
};

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

/// A validated `UpdateCustomer`: which customer, the fields named by the
/// mask, and their new values.
#[derive(Debug, Clone)]
pub(crate) struct Patch {
    pub id: Uuid,
    pub paths: Vec<Path>,
    pub fields: Fields,
}

/// A validated `CreateCustomer` payload.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewCustomer {
    pub fields: Fields,
    pub identities: Vec<IdentityKey>,
    pub consents: Vec<ConsentChange>,
}

impl Conn<'_> {
    /// The customer, or `NotFound`.
    pub async fn get(&mut self, tenant: Uuid, id: Uuid) -> Result<Customer, Error> {
        self.load(tenant, &[id])
            .await?
            .pop()
            .ok_or(Error::NotFound(id))
    }

    /// Creates the customer `request_id` stands for, once; a repeat returns
    /// the stored customer and `false`.
    pub async fn create(
        &mut self,
        tenant: Uuid,
        request_id: &str,
        new: NewCustomer,
        now: DateTime<Utc>,
    ) -> Result<(Customer, bool), Error> {
        let id = request_customer_id(tenant, request_id);
        if let Some(existing) = self.load(tenant, &[id]).await?.pop() {
            return Ok((existing, false));
        }
        if let Some(parent) = new.fields.parent_id {
            self.lock_hierarchy(tenant).await?;
            // A new customer heads nothing yet.
            self.check_parent(tenant, id, parent, false).await?;
        }
        let row = Customer::new(id, new.fields, false, now);
        if self.insert_rows(tenant, &[&row]).await?.is_empty() {
            // A concurrent call with the same request_id committed first.
            return Ok((self.get(tenant, id).await?, false));
        }
        if !row.fields.attributes.is_empty() {
            self.replace_attributes(tenant, &[(id, &row.fields.attributes)])
                .await?;
        }
        self.attach_identities(tenant, id, &new.identities).await?;
        let consents: Vec<_> = apply_consents(&[], &new.consents)
            .into_iter()
            .map(|c| (id, c))
            .collect();
        self.write_consents(tenant, &consents).await?;
        Ok((self.get(tenant, id).await?, true))
    }

    /// Replaces the fields named by `paths` with those of `patch`. Changing
    /// nothing writes nothing, except that any update enriches a stub.
    pub async fn update(
        &mut self,
        tenant: Uuid,
        Patch {
            id,
            paths,
            fields: patch,
        }: Patch,
        now: DateTime<Utc>,
    ) -> Result<Customer, Error> {
        self.lock_rows(tenant, &[id]).await?;
        let current = self.get(tenant, id).await?;
        let mut fields = current.fields.clone();
        for path in &paths {
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
            self.lock_hierarchy(tenant).await?;
            self.check_parent(tenant, id, parent, true).await?;
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
        self.upsert_rows(tenant, &[&next]).await?;
        if attributes_changed {
            self.replace_attributes(tenant, &[(id, &next.fields.attributes)])
                .await?;
        }
        Ok(next)
    }

    /// One page of customers and the id to continue after, if there is more.
    pub async fn page(
        &mut self,
        tenant: Uuid,
        mut query: ListQuery,
    ) -> Result<(Vec<Customer>, Option<Uuid>), Error> {
        let page = query.limit as usize;
        // One more than a page tells whether another page follows.
        query.limit += 1;
        let mut ids = self.list(tenant, &query).await?;
        let next = if ids.len() > page {
            ids.truncate(page);
            ids.last().copied()
        } else {
            None
        };
        Ok((self.load(tenant, &ids).await?, next))
    }
}
