//! Requests parsed into values the core can trust, with every bad field
//! named at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_kit::{
    ApiError, FieldErrors,
    domain::{check_text, parse_uuid, timestamp_to_chrono, to_micros, truncate},
    paging,
};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::{delivery::guard, model::to_micros_precision, repo::Cursor};

/// Longest dedupe key, in bytes.
pub const MAX_DEDUPE_KEY: usize = 200;
/// Longest webhook URL, in bytes.
pub const MAX_DESTINATION: usize = 2048;
/// Longest subject, in bytes.
pub const MAX_SUBJECT: usize = 256;
/// Longest body, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Longest `data` value, in bytes.
pub const MAX_DATA_VALUE: usize = 1024;
/// Longest origin, in bytes.
pub const MAX_ORIGIN: usize = 256;

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
}

/// Parses a send request. Bad fields are INVALID_ARGUMENT; a channel this
/// process has no provider for is FAILED_PRECONDITION.
pub fn send_request(
    req: pb::SendNotificationRequest,
    configured: Configured,
) -> Result<SendRequest, ApiError> {
    let mut errors = FieldErrors::new();
    let dedupe_key = errors.check("dedupe_key", dedupe_key(&req.dedupe_key));
    let parsed_channel = channel(req.channel);
    let needs_customer = parsed_channel
        .as_ref()
        .is_ok_and(|c| *c != pb::Channel::Webhook);
    let customer_id = if req.customer_id.is_empty() && !needs_customer {
        None
    } else {
        errors.check("customer_id", parse_uuid(&req.customer_id))
    };
    let channel = errors.check("channel", parsed_channel);
    match channel {
        Some(pb::Channel::Webhook) => {
            let url = errors.check("destination", webhook_url(&req.destination));
            // Only literals can be judged now: what a name resolves to may
            // change, so the delivery worker checks that at each attempt.
            if url.is_some()
                && !configured.private_destinations
                && guard::literal_non_public(&req.destination)
            {
                errors.add(
                    "destination",
                    "resolves to a non-public address; webhooks go to public hosts only",
                );
            }
        }
        Some(pb::Channel::Email) if !req.destination.is_empty() => {
            errors.check("destination", email(&req.destination));
        }
        Some(pb::Channel::Sms) if !req.destination.is_empty() => {
            errors.check("destination", phone(&req.destination));
        }
        _ => {}
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
    for (key, value) in &req.data {
        if !is_identifier(key) {
            errors.add(format!("data.{}", truncate(key, 64)), "is not a field name");
        } else if let Err(e) = check_text(value, MAX_DATA_VALUE) {
            errors.add(format!("data.{key}"), e);
        }
    }
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
    errors.into_result()?;
    let channel = channel.unwrap_or_default();
    let available = match channel {
        pb::Channel::Email => configured.email,
        pb::Channel::Sms => configured.sms,
        _ => true,
    };
    if !available {
        return Err(ApiError::FailedPrecondition {
            reason: "CHANNEL_NOT_CONFIGURED",
            message: format!(
                "channel {} is not configured in this deployment",
                channel.as_str_name()
            ),
        });
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
        purpose,
        origin: req.origin,
        send_at,
    })
}

/// A template name: letters, digits, `_`, `-` and `.`, up to 100 bytes.
pub fn template_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 100 {
        return Err("must be 1 to 100 bytes".to_owned());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err("may hold letters, digits, '_', '-' and '.' only".to_owned());
    }
    Ok(())
}

/// A BCP 47 tag in its common shape: `de`, `de-CH`, `zh-Hant-TW`.
pub fn locale(tag: &str) -> Result<(), String> {
    let ok = tag.len() <= 35
        && tag.split('-').enumerate().all(|(i, part)| {
            let len_ok = if i == 0 {
                (2..=3).contains(&part.len())
            } else {
                (2..=8).contains(&part.len())
            };
            len_ok && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a locale such as \"de\" or \"de-CH\"",
            truncate(tag, 40)
        ))
    }
}

/// True for `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

fn email(address: &str) -> Result<(), String> {
    let valid = address.len() <= 254
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if valid {
        Ok(())
    } else {
        Err("is not an email address".to_owned())
    }
}

/// E.164: `+` and 7 to 15 digits.
fn phone(number: &str) -> Result<(), String> {
    let digits = number.strip_prefix('+').unwrap_or("");
    if (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err("is not an E.164 phone number such as +41791234567".to_owned())
    }
}

/// Parses a notification id.
pub fn notification_id(id: &str) -> Result<Uuid, ApiError> {
    parse_uuid(id).map_err(|reason| ApiError::invalid("notification_id", reason))
}

/// A parsed list request.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery {
    /// Only this customer's notifications, when given.
    pub customer: Option<Uuid>,
    /// Rows per page.
    pub page_size: u32,
    /// Where the page starts.
    pub after: Cursor,
}

/// Parses a list request.
pub fn list_request(req: &pb::ListNotificationsRequest) -> Result<ListQuery, ApiError> {
    let mut errors = FieldErrors::new();
    let customer = if req.customer_id.is_empty() {
        None
    } else {
        errors.check("customer_id", parse_uuid(&req.customer_id))
    };
    let page_size = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check("page_token", page_token(&req.page_token));
    errors.into_result()?;
    Ok(ListQuery {
        customer,
        page_size: page_size.unwrap_or(paging::DEFAULT_PAGE_SIZE),
        after: after.unwrap_or_else(Cursor::start),
    })
}

/// The token of the page after the one ending with this cursor.
pub fn next_page_token(last: Cursor) -> String {
    paging::encode_token(&format!("{}|{}", to_micros(last.created_at), last.id))
}

fn page_token(token: &str) -> Result<Cursor, String> {
    let bad = || "is not a page token this service issued".to_owned();
    let Some(cursor) = paging::decode_token(token)? else {
        return Ok(Cursor::start());
    };
    let (micros, id) = cursor.split_once('|').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok(Cursor {
        created_at: rapport_kit::domain::from_micros(micros),
        id,
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

/// An absolute http(s) URL with a host. Whitespace and control characters
/// are refused rather than silently stripped, as URL parsing would.
fn webhook_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("required: the http(s) URL to POST to".to_owned());
    }
    if url.len() > MAX_DESTINATION {
        return Err(format!(
            "is {} bytes long; at most {MAX_DESTINATION} are accepted",
            url.len()
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace or control characters".to_owned());
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("{:?} is not a URL: {e}", truncate(url, 64)))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "scheme {:?} is not http or https",
            truncate(parsed.scheme(), 16)
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".to_owned());
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_checked() {
        assert!(webhook_url("https://hooks.example.com/a?b=c").is_ok());
        assert!(webhook_url("http://127.0.0.1:8080/x").is_ok());
        assert_eq!(
            webhook_url("").unwrap_err(),
            "required: the http(s) URL to POST to"
        );
        assert!(
            webhook_url("ftp://example.com/")
                .unwrap_err()
                .contains("scheme")
        );
        assert!(webhook_url("not a url").unwrap_err().contains("whitespace"));
        assert!(
            webhook_url("example.com/hook")
                .unwrap_err()
                .contains("not a URL")
        );
        assert!(webhook_url("http://").is_err());
        assert!(webhook_url("mailto:someone@example.com").is_err());
        let long = format!("https://example.com/{}", "a".repeat(MAX_DESTINATION));
        assert!(webhook_url(&long).unwrap_err().contains("at most 2048"));
    }

    #[test]
    fn page_tokens_round_trip() {
        let cursor = Cursor {
            created_at: rapport_kit::domain::from_micros(1_700_000_000_123_456),
            id: Uuid::new_v4(),
        };
        assert_eq!(page_token(&next_page_token(cursor)), Ok(cursor));
        assert_eq!(page_token(""), Ok(Cursor::start()));
        assert!(page_token("zz").is_err());
        assert!(page_token(&paging::encode_token("12|not-a-uuid")).is_err());
    }

    #[test]
    fn unconfigured_channels_are_refused() {
        let req = pb::SendNotificationRequest {
            dedupe_key: "k".into(),
            customer_id: Uuid::new_v4().to_string(),
            channel: pb::Channel::Email as i32,
            destination: "someone@example.com".into(),
            ..Default::default()
        };
        assert!(matches!(
            send_request(req.clone(), Configured::default()),
            Err(ApiError::FailedPrecondition {
                reason: "CHANNEL_NOT_CONFIGURED",
                ..
            })
        ));
        let configured = Configured {
            email: true,
            ..Configured::default()
        };
        assert!(send_request(req, configured).is_ok());
    }

    #[test]
    fn non_public_webhook_literals_are_refused_unless_allowed() {
        let req = |url: &str| pb::SendNotificationRequest {
            dedupe_key: "k".into(),
            channel: pb::Channel::Webhook as i32,
            destination: url.into(),
            ..Default::default()
        };
        let allowed = Configured {
            private_destinations: true,
            ..Configured::default()
        };
        for url in ["http://127.0.0.1:8080/x", "http://[::ffff:10.0.0.1]/"] {
            assert!(matches!(
                send_request(req(url), Configured::default()),
                Err(ApiError::InvalidArgument(_))
            ));
            assert!(send_request(req(url), allowed).is_ok());
        }
        for url in [
            "https://8.8.8.8/h",
            "https://localhost/h",
            "https://hooks.example.com/h",
        ] {
            assert!(
                send_request(req(url), Configured::default()).is_ok(),
                "{url}"
            );
        }
    }

    #[test]
    fn locales_and_phones_are_checked() {
        assert!(locale("de").is_ok() && locale("de-CH").is_ok() && locale("zh-Hant-TW").is_ok());
        assert!(locale("d").is_err() && locale("de_CH").is_err() && locale("").is_err());
        assert!(phone("+41791234567").is_ok());
        assert!(phone("0791234567").is_err() && phone("+41 79").is_err());
        assert!(email("a@b.ch").is_ok() && email("a@b").is_err() && email("<a@b.ch>").is_err());
    }
}
