//! The HTTP(S) clients of webhooks and the SMS provider, and what a failed
//! request means for either: rustls on the ring provider, trusting the public
//! roots of webpki-roots plus the CAs in `notify.http_ca_file`. Only the
//! webhook client is kept to public addresses ([`guard`]).

use std::{error::Error as _, path::Path, sync::Arc, time::Duration};

use crate::config::NotifyConfig;
use reqwest::StatusCode;

use super::{Verdict, ca, guard};

/// Sent as `user-agent` with every webhook and SMS request.
pub const USER_AGENT: &str = "rapport-notifications/0.1";

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    /// `notify.http_ca_file` is unusable.
    #[error("notify.http_ca_file: {0}")]
    CaFile(#[from] ca::CaFileError),
    /// rustls refused the settings or a certificate.
    #[error("https setup: {0}")]
    Tls(#[from] rustls::Error),
    /// reqwest refused the settings.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The client for webhook attempts. Unless
/// `notify.allow_private_destinations` is set, it connects only to public
/// addresses ([`guard::PublicOnly`]) and ignores proxy settings (a proxy would
/// resolve and reach the destination for it, past the guard).
pub fn webhook_client(config: &NotifyConfig) -> Result<reqwest::Client, HttpSetupError> {
    let builder = builder(config)?;
    let builder = if config.allow_private_destinations {
        builder
    } else {
        builder.dns_resolver(guard::PublicOnly::shared()).no_proxy()
    };
    Ok(builder.build()?)
}

/// The client for the SMS provider, whose URL is the operator's own setting
/// and so may be on a private network.
pub fn sms_client(config: &NotifyConfig) -> Result<reqwest::Client, HttpSetupError> {
    Ok(builder(config)?.build()?)
}

/// What both clients share. Each request ends within
/// `notify.http_timeout_ms`. Redirects are not followed: they would turn the
/// POST into a GET or lead somewhere the tenant did not configure.
fn builder(config: &NotifyConfig) -> Result<reqwest::ClientBuilder, HttpSetupError> {
    let timeout = Duration::from_millis(config.http_timeout_ms.max(1));
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls(config.http_ca_file.as_deref())?)
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none()))
}

/// TLS 1.2 and 1.3 (the provider's safe defaults), certificates checked
/// against the public roots and those in `ca_file`.
fn tls(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, HttpSetupError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        for cert in ca::load(path)? {
            roots.add(cert)?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // reqwest speaks HTTP/1 only in this build.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// `": <cause>: <its cause>…"` below `e`: connector, TLS (an untrusted
/// certificate, say) and I/O errors. The URL is in `e` itself, never in
/// its causes, so this leaves it out.
pub(super) fn causes(e: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A request that never got an answer may get one later, unless it could
/// not even be built.
pub(super) fn transport_verdict(e: &reqwest::Error) -> Verdict {
    if e.is_builder() {
        Verdict::Refused
    } else {
        Verdict::Retry
    }
}

/// Whether a status that is not a success is worth retrying.
pub(super) fn retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_with_public_roots_and_refuses_a_bad_ca_file() {
        assert!(webhook_client(&NotifyConfig::default()).is_ok());
        assert!(sms_client(&NotifyConfig::default()).is_ok());
        let config = NotifyConfig {
            http_ca_file: Some("/nonexistent/rapport-ca.pem".into()),
            ..NotifyConfig::default()
        };
        let e = webhook_client(&config).unwrap_err();
        assert!(e.to_string().contains("notify.http_ca_file"), "{e}");
        let e = sms_client(&config).unwrap_err();
        assert!(e.to_string().contains("notify.http_ca_file"), "{e}");
    }

    #[test]
    fn statuses_are_classified() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [301, 400, 401, 403, 404, 410, 422] {
            assert!(!retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }
}
