//! Checks on request fields, turning wire values into the model's types. Each
//! check returns a reason; callers attach the field path.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rapport_kit::{
    FieldErrors,
    domain::{self, MAX_TEXT_LEN},
};
use rapport_proto::v1 as pb;
use uuid::Uuid;

use crate::model::{ConsentChange, Fields, IdentityKey};

pub(crate) mod records;

/// Longest display name, in bytes.
pub(crate) const MAX_NAME_LEN: usize = 256;
/// Longest email address, in bytes (RFC 5321's path limit).
pub(crate) const MAX_EMAIL_LEN: usize = 254;
/// Most attributes one customer may carry.
pub(crate) const MAX_ATTRIBUTES: usize = 100;
/// Longest attribute key, in bytes.
pub(crate) const MAX_KEY_LEN: usize = 64;
/// Most consents one customer record may carry: a state per channel, with
/// room for a grant and a later revocation of each.
pub(crate) const MAX_CONSENTS: usize = 16;

/// A field an update mask may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    DisplayName,
    Kind,
    Email,
    Phone,
    ParentId,
    Attributes,
}

impl Path {
    /// Every path, in the order fields are validated.
    pub const ALL: [Path; 6] = [
        Path::DisplayName,
        Path::Kind,
        Path::Email,
        Path::Phone,
        Path::ParentId,
        Path::Attributes,
    ];

    /// Parses an update-mask path.
    pub fn parse(path: &str) -> Result<Path, String> {
        Path::ALL
            .into_iter()
            .find(|p| p.name() == path)
            .ok_or_else(|| {
                format!(
                    "{:?} is not an updatable field; use display_name, kind, email, phone, parent_id or attributes",
                    domain::truncate(path, 40)
                )
            })
    }

    /// The field's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Path::DisplayName => "display_name",
            Path::Kind => "kind",
            Path::Email => "email",
            Path::Phone => "phone",
            Path::ParentId => "parent_id",
            Path::Attributes => "attributes",
        }
    }
}

/// Checks a display name.
pub(crate) fn display_name(value: &str) -> Result<String, String> {
    domain::check_text(value, MAX_NAME_LEN).map(str::to_owned)
}

/// Checks a `CustomerKind` value.
pub(crate) fn kind(value: i32) -> Result<i32, String> {
    pb::CustomerKind::try_from(value)
        .map(|k| k as i32)
        .map_err(|_| format!("{value} is not a CustomerKind"))
}

/// Checks an email address: empty for none, else one `@` between a local
/// part and a domain, no spaces, at most [`MAX_EMAIL_LEN`] bytes.
pub(crate) fn email(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    if value.len() > MAX_EMAIL_LEN {
        return Err(format!(
            "is {} bytes long; at most {MAX_EMAIL_LEN} are accepted",
            value.len()
        ));
    }
    let bad = || "is not an email address".to_owned();
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    match value.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(value.to_owned())
        }
        _ => Err(bad()),
    }
}

/// Checks a phone number: empty for none, else `+` and 8 to 15 digits, with
/// spaces and dashes allowed between them. Returns `+` and the digits.
pub(crate) fn phone(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    let bad = || "is not a phone number like +41 44 123 45 67".to_owned();
    let rest = value.strip_prefix('+').ok_or_else(bad)?;
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return Err(bad());
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if !(8..=15).contains(&digits.len()) {
        return Err(format!("has {} digits; 8 to 15 are accepted", digits.len()));
    }
    Ok(format!("+{digits}"))
}

/// Checks an attribute key against `[a-z0-9_.-]{1,64}`.
pub(crate) fn attribute_key(key: &str) -> Result<&str, String> {
    let ok = (1..=MAX_KEY_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    if ok {
        Ok(key)
    } else {
        Err("keys are 1 to 64 of a-z, 0-9, '_', '.', '-'".to_owned())
    }
}

/// The field path of one attribute.
pub(crate) fn attribute_path(field: &str, key: &str) -> String {
    format!("{field}[{:?}]", domain::truncate(key, 64))
}

/// Checks an attribute map under `field`.
pub(crate) fn attributes(
    map: &HashMap<String, String>,
    field: &str,
    errors: &mut FieldErrors,
) -> BTreeMap<String, String> {
    if map.len() > MAX_ATTRIBUTES {
        errors.add(
            field,
            format!(
                "has {} entries; at most {MAX_ATTRIBUTES} are accepted",
                map.len()
            ),
        );
        return BTreeMap::new();
    }
    let mut out = BTreeMap::new();
    // Sorted, so the first violation reported does not depend on hashing.
    let sorted: BTreeMap<_, _> = map.iter().collect();
    for (key, value) in sorted {
        let path = attribute_path(field, key);
        if let Err(reason) = attribute_key(key) {
            errors.add(path, reason);
        } else if let Err(reason) = domain::check_text(value, MAX_TEXT_LEN) {
            errors.add(path, reason);
        } else {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

/// Checks an optional customer id (empty for none).
pub(crate) fn optional_uuid(value: &str) -> Result<Option<Uuid>, String> {
    if value.is_empty() {
        Ok(None)
    } else {
        domain::parse_uuid(value).map(Some)
    }
}

/// Checks an external identity under `field`.
pub(crate) fn identity(
    identity: Option<&pb::ExternalIdentity>,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<IdentityKey> {
    let Some(identity) = identity else {
        errors.add(field, "required");
        return None;
    };
    let source = errors.check(
        &format!("{field}.source"),
        domain::parse_id(&identity.source),
    );
    let external = errors.check(
        &format!("{field}.external_id"),
        domain::parse_id(&identity.external_id),
    );
    Some((source?.to_owned(), external?.to_owned()))
}

/// Checks when consent was given or withdrawn; `now` when unset.
pub(crate) fn consent_time(
    at: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    match at {
        None => Ok(truncate_micros(now)),
        Some(ts) => domain::parse_event_time(Some(ts), now).map(truncate_micros),
    }
}

/// Checks a consent channel.
pub(crate) fn channel(value: i32) -> Result<i32, String> {
    match pb::Channel::try_from(value) {
        Ok(pb::Channel::Unspecified) => {
            Err("required; CHANNEL_UNSPECIFIED is not a channel".to_owned())
        }
        Ok(c) => Ok(c as i32),
        Err(_) => Err(format!("{value} is not a Channel")),
    }
}

/// Checks consents given as stored state (on a created or imported
/// customer): `granted_at` dates a grant, `revoked_at` a revocation.
pub(crate) fn consents(
    consents: &[pb::Consent],
    field: &str,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> Vec<ConsentChange> {
    if consents.len() > MAX_CONSENTS {
        errors.add(
            field,
            format!(
                "has {} entries; at most {MAX_CONSENTS} are accepted",
                consents.len()
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::with_capacity(consents.len());
    for (j, c) in consents.iter().enumerate() {
        let channel = errors.check(&format!("{field}[{j}].channel"), self::channel(c.channel));
        let (at, name) = if c.granted {
            (c.granted_at.as_ref(), "granted_at")
        } else {
            (c.revoked_at.as_ref(), "revoked_at")
        };
        let at = errors.check(&format!("{field}[{j}].{name}"), consent_time(at, now));
        if let (Some(channel), Some(at)) = (channel, at) {
            out.push(ConsentChange {
                channel,
                granted: c.granted,
                at,
            });
        }
    }
    out
}

/// Checks the fields of `customer` named by `paths` into `fields`, reporting
/// violations under `prefix` (e.g. `customer.email`).
pub(crate) fn fields(
    customer: &pb::Customer,
    paths: &[Path],
    prefix: &str,
    fields: &mut Fields,
    errors: &mut FieldErrors,
) {
    let at = |p: Path| format!("{prefix}.{}", p.name());
    for path in paths {
        match path {
            Path::DisplayName => {
                if let Some(v) = errors.check(&at(*path), display_name(&customer.display_name)) {
                    fields.display_name = v;
                }
            }
            Path::Kind => {
                if let Some(v) = errors.check(&at(*path), kind(customer.kind)) {
                    fields.kind = v;
                }
            }
            Path::Email => {
                if let Some(v) = errors.check(&at(*path), email(&customer.email)) {
                    fields.email = v;
                }
            }
            Path::Phone => {
                if let Some(v) = errors.check(&at(*path), phone(&customer.phone)) {
                    fields.phone = v;
                }
            }
            Path::ParentId => {
                if let Some(v) = errors.check(&at(*path), optional_uuid(&customer.parent_id)) {
                    fields.parent_id = v;
                }
            }
            Path::Attributes => {
                fields.attributes = attributes(&customer.attributes, &at(*path), errors)
            }
        }
    }
}

/// Drops sub-microsecond precision, which the stores do not keep, so what a
/// call returns is what a later read returns.
pub(crate) fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    domain::from_micros(domain::to_micros(t))
}

#[cfg(test)]
mod tests;
