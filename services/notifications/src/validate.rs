//! Requests parsed into values the core can trust, with every bad field
//! named at once.

use chrono::Utc;
use rapport_kit::{
    ApiError, FieldErrors,
    domain::{check_text, parse_uuid, to_micros, truncate},
    paging,
};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::{
    model::{NewNotification, to_micros_precision},
    repo::Cursor,
};

/// Longest dedupe key, in bytes.
pub const MAX_DEDUPE_KEY: usize = 200;
/// Longest webhook URL, in bytes.
pub const MAX_DESTINATION: usize = 2048;
/// Longest subject, in bytes.
pub const MAX_SUBJECT: usize = 256;
/// Longest body, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// Parses a send request. Bad fields are INVALID_ARGUMENT; a channel this
/// cut cannot deliver on is FAILED_PRECONDITION.
pub fn send_request(req: pb::SendNotificationRequest) -> Result<NewNotification, ApiError> {
    let mut errors = FieldErrors::new();
    let dedupe_key = errors.check("dedupe_key", dedupe_key(&req.dedupe_key));
    let customer_id = errors.check("customer_id", parse_uuid(&req.customer_id));
    let channel = errors.check("channel", channel(req.channel));
    if channel == Some(pb::Channel::Webhook) {
        errors.check("destination", webhook_url(&req.destination));
    }
    errors.check("subject", check_text(&req.subject, MAX_SUBJECT));
    errors.check("body", body(&req.body));
    errors.into_result()?;
    let channel = channel.unwrap_or_default();
    if channel != pb::Channel::Webhook {
        return Err(ApiError::FailedPrecondition {
            reason: "CHANNEL_NOT_CONFIGURED",
            message: format!(
                "channel {} is not configured; only CHANNEL_WEBHOOK is",
                channel.as_str_name()
            ),
        });
    }
    Ok(NewNotification {
        id: Uuid::new_v4(),
        dedupe_key: dedupe_key.unwrap_or_default().to_owned(),
        customer_id: customer_id.unwrap_or_default(),
        channel,
        destination: req.destination,
        subject: req.subject,
        body: req.body,
        created_at: to_micros_precision(Utc::now()),
    })
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
        Ok(pb::Channel::Unspecified) => {
            Err("required; CHANNEL_WEBHOOK is the one available".to_owned())
        }
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
    fn other_channels_are_not_configured() {
        let req = pb::SendNotificationRequest {
            dedupe_key: "k".into(),
            customer_id: Uuid::new_v4().to_string(),
            channel: pb::Channel::Email as i32,
            destination: "someone@example.com".into(),
            subject: String::new(),
            body: String::new(),
            ..Default::default()
        };
        assert!(matches!(
            send_request(req),
            Err(ApiError::FailedPrecondition {
                reason: "CHANNEL_NOT_CONFIGURED",
                ..
            })
        ));
    }
}
