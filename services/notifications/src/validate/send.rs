//! A send request: who, which channel, where, what (literal text or a
//! template with data), why and when.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_kit::{
    FieldErrors,
    domain::{check_text, parse_uuid, timestamp_to_chrono},
};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use super::{
    destination,
    limits::{MAX_BODY, MAX_DEDUPE_KEY, MAX_ORIGIN, MAX_SUBJECT},
    names::{self, locale, template_name},
};
use crate::{
    error::{Error, valid},
    model::to_micros_precision,
};

/// Which channels this process can deliver on; webhooks always.
#[derive(Debug, Clone, Copy, Default)]
pub struct Configured {
    /// An SMTP relay is configured.
    pub email: bool,
    /// An SMS provider is configured.
    pub sms: bool,
    /// `notify.allow_private_destinations`: webhooks may name non-public IP
    /// addresses.
    pub private_destinations: bool,
}

/// A template a send names.
#[derive(Debug, Clone)]
pub struct TemplateRef {
    /// Its name.
    pub name: String,
    /// The requested locale, empty for the default.
    pub locale: String,
}

/// A parsed send request, before the profile is consulted.
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// The caller's idempotency key.
    pub dedupe_key: String,
    /// Who it is about; required for email and SMS.
    pub customer_id: Option<Uuid>,
    /// Where it goes.
    pub channel: pb::Channel,
    /// As given; empty means the customer's own address (email, SMS).
    pub destination: String,
    /// Literal subject, when no template is named.
    pub subject: String,
    /// Literal body, when no template is named.
    pub body: String,
    /// The template to render, if any.
    pub template: Option<TemplateRef>,
    /// Values for the template's `data.*` fields.
    pub data: HashMap<String, String>,
    /// Marketing unless the caller says transactional: the stricter default.
    pub purpose: pb::Purpose,
    /// Who asked for it.
    pub origin: String,
    /// Not before this time.
    pub send_at: Option<DateTime<Utc>>,
    /// The registered integration endpoint it is posted to, if any.
    pub integration_endpoint: Option<String>,
}

/// Parses a send request. Bad fields are INVALID_ARGUMENT; a channel this
/// process has no provider for is FAILED_PRECONDITION.
pub fn send_request(
    req: pb::SendNotificationRequest,
    configured: Configured,
) -> Result<SendRequest, Error> {
    let mut errors = FieldErrors::new();
    let dedupe_key = errors.check("dedupe_key", dedupe_key(&req.dedupe_key));
    let integration_endpoint = if req.integration_endpoint.is_empty() {
        None
    } else {
        errors.check(
            "integration_endpoint",
            super::endpoint::name(&req.integration_endpoint),
        );
        Some(req.integration_endpoint.clone())
    };
    let parsed_channel = match (&integration_endpoint, req.channel) {
        (Some(_), 0) => Ok(pb::Channel::Webhook),
        (Some(_), c) if c != pb::Channel::Webhook as i32 => {
            Err("must be WEBHOOK (or unset) when an integration endpoint is named".to_owned())
        }
        _ => channel(req.channel),
    };
    let needs_customer = parsed_channel
        .as_ref()
        .is_ok_and(|c| *c != pb::Channel::Webhook);
    let customer_id = if req.customer_id.is_empty() && !needs_customer {
        None
    } else {
        errors.check("customer_id", parse_uuid(&req.customer_id))
    };
    let channel = errors.check("channel", parsed_channel);
    if integration_endpoint.is_some() {
        if !req.destination.is_empty() {
            errors.add(
                "destination",
                "must be empty when an integration endpoint is named: it is posted to the endpoint's URL",
            );
        }
    } else if let Some(channel) = channel {
        let private = configured.private_destinations;
        destination::check(channel, &req.destination, private, &mut errors);
    }
    let template = if req.template.is_empty() {
        None
    } else {
        errors.check("template", template_name(&req.template));
        if !req.subject.is_empty() || !req.body.is_empty() {
            errors.add("body", "must be empty when a template is named");
        }
        Some(TemplateRef {
            name: req.template.clone(),
            locale: req.locale.clone(),
        })
    };
    if !req.locale.is_empty() {
        errors.check("locale", locale(&req.locale));
    }
    errors.check("subject", check_text(&req.subject, MAX_SUBJECT));
    errors.check("body", body(&req.body));
    names::data(&req.data, &mut errors);
    let purpose = match pb::Purpose::try_from(req.purpose) {
        Ok(pb::Purpose::Transactional) => pb::Purpose::Transactional,
        Ok(_) => pb::Purpose::Marketing,
        Err(_) => {
            errors.add("purpose", format!("{} is not a purpose", req.purpose));
            pb::Purpose::Marketing
        }
    };
    errors.check("origin", check_text(&req.origin, MAX_ORIGIN));
    let send_at = match &req.send_at {
        Some(t) => errors.check("send_at", timestamp_to_chrono(t).map(to_micros_precision)),
        None => None,
    };
    valid(errors)?;
    let channel = channel.unwrap_or_default();
    let available = match channel {
        pb::Channel::Email => configured.email,
        pb::Channel::Sms => configured.sms,
        _ => true,
    };
    if !available {
        return Err(Error::ChannelNotConfigured(channel));
    }
    Ok(SendRequest {
        dedupe_key: dedupe_key.unwrap_or_default().to_owned(),
        customer_id,
        channel,
        destination: req.destination,
        subject: req.subject,
        body: req.body,
        template,
        data: req.data,
        origin: req.origin,
        send_at,
        // An integration is not marketing: it never counts against a
        // customer's cap.
        purpose: if integration_endpoint.is_some() {
            pb::Purpose::Transactional
        } else {
            purpose
        },
        integration_endpoint,
    })
}

fn dedupe_key(key: &str) -> Result<&str, String> {
    if key.is_empty() {
        return Err("required".to_owned());
    }
    check_text(key, MAX_DEDUPE_KEY)
}

fn channel(value: i32) -> Result<pb::Channel, String> {
    match pb::Channel::try_from(value) {
        Ok(pb::Channel::Unspecified) => Err("required".to_owned()),
        Ok(c) => Ok(c),
        Err(_) => Err(format!("{value} is not a channel")),
    }
}

/// The body may hold any text but NUL, which Postgres cannot store.
fn body(body: &str) -> Result<&str, String> {
    if body.len() > MAX_BODY {
        return Err(format!(
            "is {} bytes long; at most {MAX_BODY} are accepted",
            body.len()
        ));
    }
    if body.contains('\0') {
        return Err("must not contain NUL characters".to_owned());
    }
    Ok(body)
}
