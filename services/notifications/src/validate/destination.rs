//! Where a notification goes: an email address, a phone number or a
//! webhook URL, checked for shape (what a webhook host resolves to is checked
//! at delivery).

use rapport_kit::{FieldErrors, domain::truncate};
use rapport_proto::v1 as pb;

use super::limits::MAX_DESTINATION;
use crate::delivery::guard;

/// Records what is wrong with `destination` on `channel` under
/// `destination`. Empty is fine for email and SMS (the profile's own address
/// is used); a webhook to a non-public IP literal is refused unless
/// `private_destinations` allows it.
pub(super) fn check(
    channel: pb::Channel,
    destination: &str,
    private_destinations: bool,
    errors: &mut FieldErrors,
) {
    match channel {
        pb::Channel::Webhook => {
            let url = errors.check("destination", webhook_url(destination));
            // Only literals can be judged now: what a name resolves to may
            // change, so the delivery worker checks that at each attempt.
            if url.is_some() && !private_destinations && guard::literal_non_public(destination) {
                errors.add(
                    "destination",
                    "resolves to a non-public address; webhooks go to public hosts only",
                );
            }
        }
        pb::Channel::Email if !destination.is_empty() => {
            errors.check("destination", email(destination));
        }
        pb::Channel::Sms if !destination.is_empty() => {
            errors.check("destination", phone(destination));
        }
        _ => {}
    }
}

pub(super) fn email(address: &str) -> Result<(), String> {
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
pub(super) fn phone(number: &str) -> Result<(), String> {
    let digits = number.strip_prefix('+').unwrap_or("");
    if (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err("is not an E.164 phone number such as +41791234567".to_owned())
    }
}

/// An absolute http(s) URL with a host. Whitespace and control characters
/// are refused rather than silently stripped, as URL parsing would.
pub(super) fn webhook_url(url: &str) -> Result<(), String> {
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
