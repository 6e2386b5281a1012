//! The per-tenant settings RPCs: templates, contact policy, webhook secret.

use chrono::Utc;
use rand::Rng;
use rapport_kit::{ApiError, FieldErrors, domain::chrono_to_timestamp, paging};
use rapport_proto::v1::{self as pb};
use uuid::Uuid;

use crate::{
    model::{ContactPolicy, channel_name},
    peers::Peers,
    repo::{Repository, TemplateKey},
    templates::{Ready, parse_put, resolve},
    validate,
};

/// Saves a template as a new version unless the content is unchanged.
pub async fn put_template(
    repo: &Repository,
    tenant: Uuid,
    req: pb::PutTemplateRequest,
) -> Result<pb::PutTemplateResponse, ApiError> {
    let template = parse_put(req.template)?;
    let (stored, created) = repo.put_template(tenant, template).await?;
    Ok(pb::PutTemplateResponse {
        template: Some(stored.into_proto()),
        created,
    })
}

fn key_fields(name: &str, channel: i32, locale: &str) -> Result<pb::Channel, ApiError> {
    let mut errors = FieldErrors::new();
    errors.check("name", validate::template_name(name));
    errors.check("locale", validate::locale(locale));
    let channel = match pb::Channel::try_from(channel) {
        Ok(pb::Channel::Unspecified) | Err(_) => {
            errors.add("channel", "required: email, sms or webhook");
            pb::Channel::Unspecified
        }
        Ok(c) => c,
    };
    errors.into_result()?;
    Ok(channel)
}

/// The latest version of one template, exactly as keyed (no fallback).
pub async fn get_template(
    repo: &Repository,
    tenant: Uuid,
    req: &pb::GetTemplateRequest,
) -> Result<pb::GetTemplateResponse, ApiError> {
    let channel = key_fields(&req.name, req.channel, &req.locale)?;
    let key = TemplateKey {
        name: &req.name,
        channel: channel_name(channel),
        locale: &req.locale,
    };
    let t = repo
        .template(tenant, key)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            what: "template",
            id: req.name.clone(),
        })?;
    Ok(pb::GetTemplateResponse {
        template: Some(t.into_proto()),
    })
}

/// Deletes every version of a template.
pub async fn delete_template(
    repo: &Repository,
    tenant: Uuid,
    req: &pb::DeleteTemplateRequest,
) -> Result<pb::DeleteTemplateResponse, ApiError> {
    let channel = key_fields(&req.name, req.channel, &req.locale)?;
    let key = TemplateKey {
        name: &req.name,
        channel: channel_name(channel),
        locale: &req.locale,
    };
    let deleted = repo.delete_template(tenant, key).await?;
    Ok(pb::DeleteTemplateResponse { deleted })
}

/// A page of templates, ordered by name, channel and locale.
pub async fn list_templates(
    repo: &Repository,
    tenant: Uuid,
    req: &pb::ListTemplatesRequest,
) -> Result<pb::ListTemplatesResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let size = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check("page_token", paging::decode_token(&req.page_token));
    errors.into_result()?;
    let size = size.unwrap_or(paging::DEFAULT_PAGE_SIZE);
    let after = after.flatten().unwrap_or_default();
    let mut parts = after.splitn(3, '\n');
    let key = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let mut rows = repo.templates(tenant, key, size + 1).await?;
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    let next_page_token = match rows.last() {
        Some(t) if more => {
            paging::encode_token(&format!("{}\n{}\n{}", t.name, t.channel, t.locale))
        }
        _ => String::new(),
    };
    Ok(pb::ListTemplatesResponse {
        templates: rows.into_iter().map(|t| t.into_proto()).collect(),
        next_page_token,
    })
}

/// Renders a template for a customer without sending.
pub async fn preview_template(
    repo: &Repository,
    peers: &Peers,
    tenant: Uuid,
    req: pb::PreviewTemplateRequest,
) -> Result<pb::PreviewTemplateResponse, ApiError> {
    let mut errors = FieldErrors::new();
    errors.check("name", validate::template_name(&req.name));
    if !req.locale.is_empty() {
        errors.check("locale", validate::locale(&req.locale));
    }
    let channel = match pb::Channel::try_from(req.channel) {
        Ok(pb::Channel::Unspecified) | Err(_) => {
            errors.add("channel", "required: email, sms or webhook");
            pb::Channel::Unspecified
        }
        Ok(c) => c,
    };
    let customer_id = if req.customer_id.is_empty() {
        None
    } else {
        errors.check(
            "customer_id",
            rapport_kit::domain::parse_uuid(&req.customer_id),
        )
    };
    errors.into_result()?;
    let template = resolve(repo, tenant, &req.name, channel, &req.locale).await?;
    let ready = Ready::new(template, &req.data)?;
    let customer = match customer_id {
        Some(id) => Some(
            peers
                .customer(tenant, id)
                .await?
                .ok_or_else(|| ApiError::NotFound {
                    what: "customer",
                    id: id.to_string(),
                })?,
        ),
        None => None,
    };
    let (subject, body) = ready
        .render(peers, tenant, customer.as_ref(), &req.data)
        .await?;
    Ok(pb::PreviewTemplateResponse {
        subject,
        body,
        template: Some(ready.template.into_proto()),
    })
}

fn policy_to_proto(p: ContactPolicy) -> pb::ContactPolicy {
    pb::ContactPolicy {
        max_messages: p.max_messages,
        window_hours: p.window_hours,
        cool_down_hours: p.cool_down_hours,
        quiet_start_hour: p.quiet_start_hour,
        quiet_end_hour: p.quiet_end_hour,
    }
}

/// The tenant's contact policy (defaults until one is saved).
pub async fn get_policy(
    repo: &Repository,
    tenant: Uuid,
) -> Result<pb::GetContactPolicyResponse, ApiError> {
    Ok(pb::GetContactPolicyResponse {
        policy: Some(policy_to_proto(repo.policy(tenant).await?)),
    })
}

/// Replaces the tenant's contact policy.
pub async fn update_policy(
    repo: &Repository,
    tenant: Uuid,
    req: pb::UpdateContactPolicyRequest,
) -> Result<pb::UpdateContactPolicyResponse, ApiError> {
    let Some(p) = req.policy else {
        return Err(ApiError::invalid("policy", "required"));
    };
    let mut errors = FieldErrors::new();
    if p.max_messages == 0 || p.max_messages > 1_000 {
        errors.add("policy.max_messages", "must be within 1..=1000");
    }
    if p.window_hours == 0 || p.window_hours > 24 * 366 {
        errors.add("policy.window_hours", "must be within 1..=8784");
    }
    if p.cool_down_hours > 24 * 366 {
        errors.add("policy.cool_down_hours", "must be at most 8784");
    }
    if p.quiet_start_hour > 23 {
        errors.add("policy.quiet_start_hour", "must be an hour 0..=23");
    }
    if p.quiet_end_hour > 23 {
        errors.add("policy.quiet_end_hour", "must be an hour 0..=23");
    }
    errors.into_result()?;
    let policy = ContactPolicy {
        max_messages: p.max_messages,
        window_hours: p.window_hours,
        cool_down_hours: p.cool_down_hours,
        quiet_start_hour: p.quiet_start_hour,
        quiet_end_hour: p.quiet_end_hour,
    };
    repo.put_policy(tenant, &policy).await?;
    Ok(pb::UpdateContactPolicyResponse {
        policy: Some(policy_to_proto(policy)),
    })
}

/// A new 32-byte random secret, stored and returned once.
pub async fn rotate_secret(
    repo: &Repository,
    tenant: Uuid,
) -> Result<pb::RotateWebhookSecretResponse, ApiError> {
    let bytes: [u8; 32] = rand::rng().random();
    let secret = format!("whsec_{}", hex::encode(bytes));
    let at = crate::model::to_micros_precision(Utc::now());
    repo.set_webhook_secret(tenant, &secret, at).await?;
    Ok(pb::RotateWebhookSecretResponse {
        secret,
        created_at: Some(chrono_to_timestamp(at)),
    })
}
