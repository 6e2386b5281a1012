//! Accepting a notification: dedupe, the customer's profile and consent,
//! the destination, the template, then the stored row (with the contact
//! policy applied atomically by the store). Refusals by policy are stored as
//! SUPPRESSED with their reason; the caller still gets OK.

use chrono::Utc;
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::{
    error::Error,
    model::{NewNotification, Notification, to_micros_precision},
    peers::{Peers, consent_refusal, own_destination},
    personalise::{Ready, resolve},
    repo::Repository,
    validate::SendRequest,
};

/// Accepts `req` for `tenant`; returns the stored notification and whether
/// this call created it.
pub async fn accept(
    repo: &Repository,
    peers: &Peers,
    tenant: Uuid,
    req: SendRequest,
) -> Result<(Notification, bool), Error> {
    if let Some(existing) = repo.by_dedupe_key(tenant, &req.dedupe_key).await? {
        return Ok((existing, false));
    }
    // A post to an integration endpoint goes to the URL the tenant
    // registered, signed with that endpoint's secret.
    let endpoint = match &req.integration_endpoint {
        Some(name) => Some(
            repo.endpoint(tenant, name)
                .await?
                .ok_or_else(|| Error::EndpointNotFound(name.clone()))?,
        ),
        None => None,
    };
    // Webhooks always go out signed, so a receiver can always verify them:
    // without the tenant's signing secret there is nothing to sign with.
    if endpoint.is_none()
        && req.channel == pb::Channel::Webhook
        && !repo.has_webhook_secret(tenant).await?
    {
        return Err(Error::WebhookSecretMissing);
    }
    // A bad template or missing data is the caller's mistake whoever the
    // customer is, so it is reported before any policy is applied.
    let ready = match &req.template {
        Some(t) => {
            let template = resolve(repo, tenant, &t.name, req.channel, &t.locale).await?;
            Some(Ready::new(template, &req.data)?)
        }
        None => None,
    };
    let customer = match req.customer_id {
        Some(id) => peers.customer(tenant, id).await?,
        None => None,
    };
    // An integration is the tenant's own business, not a contact with the
    // customer: the customer's consent does not apply.
    let mut suppressed = match (&req.customer_id, &customer) {
        (Some(_), None) => Some("CUSTOMER_NOT_FOUND"),
        (Some(_), Some(_)) if endpoint.is_some() => None,
        (Some(_), Some(c)) => consent_refusal(c, req.channel),
        (None, _) => None,
    };
    let mut destination = match &endpoint {
        Some(e) => e.url.clone(),
        None => req.destination.clone(),
    };
    // Consent is the customer's, for the customer's own address: an email or
    // SMS for a customer goes to the address on the profile, never elsewhere.
    if let Some(c) = &customer {
        let own = own_destination(c, req.channel);
        let elsewhere = matches!(req.channel, pb::Channel::Email | pb::Channel::Sms)
            && !destination.is_empty()
            && !destination.trim().eq_ignore_ascii_case(own.trim());
        if elsewhere {
            suppressed = suppressed.or(Some("DESTINATION_NOT_CUSTOMER"));
        }
    }
    if destination.is_empty() {
        destination = customer
            .as_ref()
            .map(|c| own_destination(c, req.channel).to_owned())
            .unwrap_or_default();
        if destination.is_empty() {
            suppressed = suppressed.or(Some("NO_DESTINATION"));
        }
    }
    let (subject, body) = match (&ready, suppressed) {
        (Some(r), None) => {
            r.render(peers, tenant, customer.as_ref(), &req.data)
                .await?
        }
        (Some(_), Some(_)) => (String::new(), String::new()),
        (None, _) => (req.subject.clone(), req.body.clone()),
    };
    let policy = repo.policy(tenant).await?;
    let created_at = to_micros_precision(Utc::now());
    let mut send_at = req.send_at;
    if req.purpose == pb::Purpose::Marketing {
        let earliest = send_at.unwrap_or(created_at).max(created_at);
        let allowed = policy.after_quiet_hours(earliest);
        if allowed != earliest {
            send_at = Some(allowed);
        }
    }
    let (template, locale, template_version) = match &ready {
        Some(r) => (
            r.template.name.clone(),
            r.template.locale.clone(),
            r.template.version,
        ),
        None => (String::new(), String::new(), 0),
    };
    let new = NewNotification {
        id: Uuid::new_v4(),
        dedupe_key: req.dedupe_key,
        customer_id: req.customer_id.unwrap_or_default(),
        channel: req.channel,
        destination,
        subject,
        body,
        created_at,
        purpose: req.purpose,
        template,
        locale,
        template_version,
        origin: req.origin,
        send_at,
        suppressed,
        integration_endpoint: req.integration_endpoint.unwrap_or_default(),
    };
    repo.insert(tenant, new, &policy).await
}
