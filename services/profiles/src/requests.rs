//! Turns each request into validated inputs, collecting every violation with
//! its field path before anything is touched.

use chrono::{DateTime, Utc};
use rapport_kit::{FieldErrors, domain, paging};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::{
    error::Error,
    model::{ConsentChange, Fields, IdentityKey},
    repo::{ListQuery, NewCustomer, Patch, ResolveQuery},
    validate::{
        self, Path,
        records::{self, Import, MAX_RECORDS},
    },
};

/// Most identities one `ResolveIdentities` call may carry.
pub(crate) const MAX_RESOLVE: usize = 10_000;

/// A customer id field.
pub(crate) fn customer_id(value: &str, field: &str) -> Result<Uuid, Error> {
    domain::parse_uuid(value).map_err(|reason| Error::invalid(field, reason))
}

/// `CreateCustomer`: the request id and the customer.
pub(crate) fn create(
    req: &pb::CreateCustomerRequest,
    now: DateTime<Utc>,
) -> Result<(String, NewCustomer), Error> {
    let mut errors = FieldErrors::new();
    let request_id = errors
        .check("request_id", domain::parse_id(&req.request_id))
        .map(str::to_owned);
    let mut new = NewCustomer::default();
    match &req.customer {
        None => errors.add("customer", "required"),
        Some(c) => {
            validate::fields(c, &Path::ALL, "customer", &mut new.fields, &mut errors);
            for (i, identity) in c.identities.iter().enumerate() {
                let field = format!("customer.identities[{i}]");
                new.identities
                    .extend(validate::identity(Some(identity), &field, &mut errors));
            }
            new.consents = validate::consents(&c.consents, "customer.consents", now, &mut errors);
        }
    }
    done(errors)?;
    Ok((request_id.unwrap_or_default(), new))
}

/// `UpdateCustomer`: the customer, the paths to replace and their values.
pub(crate) fn update(req: &pb::UpdateCustomerRequest) -> Result<Patch, Error> {
    let customer = req
        .customer
        .as_ref()
        .ok_or_else(|| Error::invalid("customer", "required"))?;
    let mut errors = FieldErrors::new();
    let id = errors.check("customer.id", domain::parse_uuid(&customer.id));
    let mut paths = Vec::new();
    match req
        .update_mask
        .as_ref()
        .map(|m| m.paths.as_slice())
        .unwrap_or_default()
    {
        [] => errors.add("update_mask", "required; name the fields to update"),
        given => {
            for path in given {
                if let Some(p) = errors.check("update_mask", Path::parse(path))
                    && !paths.contains(&p)
                {
                    paths.push(p);
                }
            }
        }
    }
    let mut fields = Fields::default();
    validate::fields(customer, &paths, "customer", &mut fields, &mut errors);
    done(errors)?;
    Ok(Patch {
        id: id.unwrap_or_default(),
        paths,
        fields,
    })
}

/// `ListCustomers`: which page.
pub(crate) fn list(req: &pb::ListCustomersRequest) -> Result<ListQuery, Error> {
    let mut errors = FieldErrors::new();
    let limit = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check(
        "page_token",
        paging::decode_token(&req.page_token).and_then(|cursor| match cursor {
            None => Ok(Uuid::nil()),
            Some(c) => Uuid::parse_str(&c)
                .map_err(|_| "is not a page token this service issued".to_owned()),
        }),
    );
    let parent_id = errors
        .check("parent_id", validate::optional_uuid(&req.parent_id))
        .flatten();
    let attributes = validate::attributes(&req.attribute_filter, "attribute_filter", &mut errors);
    done(errors)?;
    Ok(ListQuery {
        after: after.unwrap_or_default(),
        parent_id,
        attributes,
        limit: limit.unwrap_or_default(),
    })
}

/// An identity given as a request's `identity` field.
pub(crate) fn identity(identity: Option<&pb::ExternalIdentity>) -> Result<IdentityKey, Error> {
    let mut errors = FieldErrors::new();
    let key = validate::identity(identity, "identity", &mut errors);
    done(errors)?;
    key.ok_or_else(|| Error::invalid("identity", "required"))
}

/// `AddIdentity`: the customer and the identity.
pub(crate) fn add_identity(req: &pb::AddIdentityRequest) -> Result<(Uuid, IdentityKey), Error> {
    let mut errors = FieldErrors::new();
    let id = errors.check("customer_id", domain::parse_uuid(&req.customer_id));
    let key = validate::identity(req.identity.as_ref(), "identity", &mut errors);
    done(errors)?;
    Ok((id.unwrap_or_default(), key.unwrap_or_default()))
}

/// `SetConsent`: the customer and the change.
pub(crate) fn set_consent(
    req: &pb::SetConsentRequest,
    now: DateTime<Utc>,
) -> Result<(Uuid, ConsentChange), Error> {
    let mut errors = FieldErrors::new();
    let id = errors.check("customer_id", domain::parse_uuid(&req.customer_id));
    let channel = errors.check("channel", validate::channel(req.channel));
    let at = errors.check("at", validate::consent_time(req.at.as_ref(), now));
    done(errors)?;
    let (Some(id), Some(channel), Some(at)) = (id, channel, at) else {
        return Err(Error::invalid("customer_id", "required"));
    };
    Ok((
        id,
        ConsentChange {
            channel,
            granted: req.granted,
            at,
        },
    ))
}

/// `UpsertCustomers`: the valid records and the refused rows. Only an
/// oversized batch refuses the whole call.
pub(crate) fn upsert(req: pb::UpsertCustomersRequest, now: DateTime<Utc>) -> Result<Import, Error> {
    if req.customers.len() > MAX_RECORDS {
        let reason = format!(
            "has {} rows; at most {MAX_RECORDS} are accepted per call",
            req.customers.len()
        );
        return Err(Error::invalid("customers", reason));
    }
    Ok(records::parse(req.customers, now))
}

/// `ResolveIdentities`: the identities, in order, and the ids to confirm.
pub(crate) fn resolve(req: &pb::ResolveIdentitiesRequest) -> Result<ResolveQuery, Error> {
    for (field, n) in [
        ("identities", req.identities.len()),
        ("customer_ids", req.customer_ids.len()),
    ] {
        if n > MAX_RESOLVE {
            let reason = format!("has {n} entries; at most {MAX_RESOLVE} are accepted per call");
            return Err(Error::invalid(field, reason));
        }
    }
    let mut errors = FieldErrors::new();
    let keys: Vec<IdentityKey> = req
        .identities
        .iter()
        .enumerate()
        .filter_map(|(i, identity)| {
            validate::identity(Some(identity), &format!("identities[{i}]"), &mut errors)
        })
        .collect();
    let ids: Vec<Uuid> = req
        .customer_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            errors.check(
                &format!("customer_ids[{i}]"),
                rapport_kit::domain::parse_uuid(id),
            )
        })
        .collect();
    done(errors)?;
    Ok(ResolveQuery {
        keys,
        ids,
        create_missing: req.create_missing,
    })
}

/// `Ok` when nothing was recorded.
fn done(errors: FieldErrors) -> Result<(), Error> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}
