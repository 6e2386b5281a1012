//! Integration endpoints: the name rules and sends use, the URL, the
//! description and the signing secret.

use rapport_kit::{FieldErrors, domain::check_text};
use rapport_proto::v1 as pb;

use super::destination;
use crate::error::{Error, valid};

/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 1_000;
/// Shortest signing secret: 32 characters of a hex string carry 128 bits.
const MIN_SECRET: usize = 32;
/// Longest signing secret.
const MAX_SECRET: usize = 256;
/// Most endpoints a tenant may register.
pub const MAX_ENDPOINTS: usize = 100;

/// An endpoint to store, as the caller gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointPut {
    /// Its name.
    pub name: String,
    /// Where events go.
    pub url: String,
    /// For people.
    pub description: String,
    /// A new signing secret, or `None` to keep the current one.
    pub secret: Option<String>,
}

/// An endpoint name: 1 to 64 of `a-z`, `0-9`, `-` and `_`, starting with a
/// letter or digit.
pub fn name(name: &str) -> Result<&str, String> {
    rapport_kit::domain::check_handle(name, "endpoint")
}

/// The name of `GetIntegrationEndpoint` or `DeleteIntegrationEndpoint`.
pub fn endpoint_name(value: &str) -> Result<String, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.check("name", name(value)).map(str::to_owned);
    valid(errors)?;
    Ok(name.unwrap_or_default())
}

/// Parses a put. The URL is checked as a webhook's is: an absolute http(s)
/// URL, to a public host unless `private_destinations` allows others.
pub fn put(
    req: pb::PutIntegrationEndpointRequest,
    private_destinations: bool,
) -> Result<EndpointPut, Error> {
    let Some(endpoint) = req.endpoint else {
        return Err(Error::invalid("endpoint", "required"));
    };
    let mut errors = FieldErrors::new();
    errors.check("endpoint.name", name(&endpoint.name));
    let mut url_errors = FieldErrors::new();
    destination::check(
        pb::Channel::Webhook,
        &endpoint.url,
        private_destinations,
        &mut url_errors,
    );
    for (_, reason) in url_errors.violations() {
        errors.add("endpoint.url", reason);
    }
    if endpoint.description.chars().count() > MAX_DESCRIPTION {
        errors.add(
            "endpoint.description",
            format!("at most {MAX_DESCRIPTION} characters"),
        );
    } else {
        errors.check(
            "endpoint.description",
            check_text(&endpoint.description, MAX_DESCRIPTION * 4),
        );
    }
    let secret = if req.signing_secret.is_empty() {
        None
    } else {
        errors.check("signing_secret", secret(&req.signing_secret));
        Some(req.signing_secret)
    };
    valid(errors)?;
    Ok(EndpointPut {
        name: endpoint.name,
        url: endpoint.url,
        description: endpoint.description,
        secret,
    })
}

/// 32 to 256 printable ASCII characters, no spaces. The value itself is
/// never echoed in an error.
fn secret(secret: &str) -> Result<(), String> {
    let printable = secret.bytes().all(|b| b.is_ascii_graphic());
    if !(MIN_SECRET..=MAX_SECRET).contains(&secret.len()) {
        Err(format!(
            "must be {MIN_SECRET} to {MAX_SECRET} characters (e.g. `openssl rand -hex 32`); it has {}",
            secret.len()
        ))
    } else if !printable {
        Err("must be printable ASCII without spaces".to_owned())
    } else {
        Ok(())
    }
}
