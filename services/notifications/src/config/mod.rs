//! Delivery settings (`[notify]`, `RAPPORT_NOTIFY__*`): attempts and back-off,
//! the HTTP clients for webhooks and SMS, the SMTP relay, and the key webhook
//! signing secrets are sealed with.

use std::path::PathBuf;

use rapport_kit::config::{ConfigError, Secret, Section};
use serde::{Deserialize, Serialize};

/// Longest any duration setting here may be, in milliseconds: 30 days.
pub const MAX_DURATION_MS: u64 = 30 * 24 * 3_600 * 1_000;

/// Notification delivery settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Attempts before a notification is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay, in milliseconds; doubled per attempt, with jitter.
    pub base_backoff_ms: u64,
    /// Longest retry delay, in milliseconds.
    pub max_backoff_ms: u64,
    /// How long, from acceptance, a notification waits for Profiles to answer
    /// its consent check without using up attempts, in milliseconds. An outage
    /// of Profiles then delays deliveries instead of dead-lettering them;
    /// past this age a failed check counts as a failed attempt.
    pub dependency_wait_ms: u64,
    /// Pause between polls when the queue is empty, in milliseconds.
    pub poll_interval_ms: u64,
    /// Timeout of one delivery attempt, in milliseconds.
    pub http_timeout_ms: u64,
    /// Deliveries in flight at once per process.
    pub concurrency: u32,
    /// How long a claimed notification stays out of other workers' claims,
    /// in milliseconds. A worker that dies mid-send holds it this long; then
    /// another retries with the same idempotency key. Must exceed the
    /// longest attempt (HTTP and SMTP timeouts).
    pub lease_ms: u64,
    /// PEM file of extra CA certificates to trust for HTTPS webhooks and the
    /// SMS provider, on top of the bundled public roots (webpki-roots): for
    /// receivers with a private CA. Must exist at start-up.
    pub http_ca_file: Option<PathBuf>,
    /// Lets webhooks reach loopback, private, link-local, CGNAT and other
    /// non-public addresses; for tests and closed networks only. Off, a
    /// webhook to such an address is refused when sent (an IP literal) or
    /// dead-lettered when its host name resolves only to such addresses.
    pub allow_private_destinations: bool,
    /// The key webhook signing secrets are sealed with at rest
    /// (XChaCha20-Poly1305): 32 bytes in base64, e.g. from
    /// `openssl rand -base64 32`, kept in the deployment's Secret. Unset, a
    /// development key is generated and kept in the database beside the
    /// secrets, which protects nothing; a warning says so.
    pub secret_key: Option<Secret>,
    /// How long, after `RotateWebhookSecret`, the secret it replaced still
    /// signs webhooks (beside the new one), in milliseconds, so receivers
    /// can switch over without refusing anything. 0 ends the old secret at
    /// once.
    pub secret_overlap_ms: u64,
    /// Email over SMTP; off while `host` is unset.
    pub smtp: SmtpConfig,
    /// SMS through a provider's HTTP API; off while `url` is unset.
    pub sms: SmsConfig,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or network.
    None,
    /// STARTTLS when the server offers it, plain text otherwise.
    Starttls,
    /// STARTTLS or fail.
    RequiredStarttls,
}

/// The SMTP relay email goes through.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Relay host name; unset turns email off (CHANNEL_NOT_CONFIGURED).
    pub host: Option<String>,
    /// Relay port.
    pub port: u16,
    /// Connection security.
    pub tls: SmtpTls,
    /// PEM file of an extra CA to trust, for a relay with a private certificate.
    pub ca_file: Option<PathBuf>,
    /// Login, when the relay wants AUTH.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<Secret>,
    /// The From address, e.g. `Rapport <news@example.com>`.
    pub from: String,
    /// Longest one SMTP conversation may take, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: None,
            port: 587,
            tls: SmtpTls::RequiredStarttls,
            ca_file: None,
            username: None,
            password: None,
            from: String::new(),
            timeout_ms: 10_000,
        }
    }
}

/// An SMS provider's HTTP API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// URL messages are POSTed to; unset turns SMS off (CHANNEL_NOT_CONFIGURED).
    pub url: Option<String>,
    /// Name of the header carrying the credential, e.g. `authorization`.
    pub auth_header: String,
    /// Its value, e.g. `Bearer …` or `Basic …`; unset sends no credential.
    pub auth_value: Option<Secret>,
    /// Sender number or name.
    pub from: String,
    /// JSON body with the placeholders `{to}`, `{from}`, `{text}` and
    /// `{idempotency_key}`, each replaced by the JSON-escaped value (so they
    /// belong inside string quotes).
    pub payload_template: String,
    /// JSON pointer to the provider's message id in its response, e.g. `/sid`.
    pub message_id_pointer: String,
    /// Header carrying the idempotency key; empty sends none.
    pub idempotency_header: String,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            url: None,
            auth_header: "authorization".to_owned(),
            auth_value: None,
            from: String::new(),
            payload_template: r#"{"to":"{to}","from":"{from}","text":"{text}"}"#.to_owned(),
            message_id_pointer: "/id".to_owned(),
            idempotency_header: "idempotency-key".to_owned(),
        }
    }
}

impl SmsConfig {
    /// The payload for one message.
    pub fn payload(&self, to: &str, text: &str, idempotency_key: &str) -> String {
        let esc = |v: &str| {
            let quoted = serde_json::Value::String(v.to_owned()).to_string();
            quoted[1..quoted.len() - 1].to_owned()
        };
        self.payload_template
            .replace("{to}", &esc(to))
            .replace("{from}", &esc(&self.from))
            .replace("{text}", &esc(text))
            .replace("{idempotency_key}", &esc(idempotency_key))
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            max_attempts: 8,
            base_backoff_ms: 1_000,
            max_backoff_ms: 600_000,
            dependency_wait_ms: 86_400_000,
            poll_interval_ms: 200,
            http_timeout_ms: 10_000,
            concurrency: 16,
            lease_ms: 60_000,
            http_ca_file: None,
            allow_private_destinations: false,
            secret_key: None,
            secret_overlap_ms: 86_400_000,
            smtp: SmtpConfig::default(),
            sms: SmsConfig::default(),
        }
    }
}

impl Section for NotifyConfig {
    const NAME: &'static str = "notify";

    /// Checks the delivery settings that parse but make no sense.
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(format!("notify.{m}")));
        if self.max_attempts == 0 || self.concurrency == 0 {
            return bad("max_attempts and notify.concurrency must be at least 1");
        }
        // Each of these is added to the current time (retries, leases, the
        // old secret's end) or waited for; bounded, no date can overflow.
        for (name, ms) in [
            ("base_backoff_ms", self.base_backoff_ms),
            ("max_backoff_ms", self.max_backoff_ms),
            ("dependency_wait_ms", self.dependency_wait_ms),
            ("poll_interval_ms", self.poll_interval_ms),
            ("http_timeout_ms", self.http_timeout_ms),
            ("lease_ms", self.lease_ms),
            ("secret_overlap_ms", self.secret_overlap_ms),
            ("smtp.timeout_ms", self.smtp.timeout_ms),
        ] {
            if ms > MAX_DURATION_MS {
                return bad(&format!(
                    "{name} must be at most {MAX_DURATION_MS} (30 days), not {ms}"
                ));
            }
        }
        let smtp_timeout = if self.smtp.host.is_some() {
            self.smtp.timeout_ms
        } else {
            0
        };
        if self.lease_ms <= self.http_timeout_ms.max(smtp_timeout) {
            return bad("lease_ms must exceed http_timeout_ms (and smtp.timeout_ms with smtp)");
        }
        if let Some(key) = &self.secret_key {
            crate::seal::Key::parse(key).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        if let Some(path) = &self.http_ca_file
            && !path.is_file()
        {
            return Err(ConfigError::Invalid(format!(
                "notify.http_ca_file {} does not name an existing file",
                path.display()
            )));
        }
        if let Some(host) = &self.smtp.host {
            if host.trim().is_empty() || self.smtp.port == 0 {
                return bad("smtp.host and smtp.port must name a relay");
            }
            if !self.smtp.from.contains('@') {
                return bad("smtp.from must be an email address");
            }
            if self.smtp.username.is_some() != self.smtp.password.is_some() {
                return bad("smtp.username and smtp.password go together");
            }
        }
        if let Some(url) = &self.sms.url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return bad("sms.url must be an http(s) URL");
            }
            let sample = self.sms.payload("+41000", "text", "key");
            if serde_json::from_str::<serde_json::Value>(&sample).is_err() {
                return bad("sms.payload_template must be JSON once its placeholders are filled");
            }
            if !self.sms.payload_template.contains("{to}")
                || !self.sms.payload_template.contains("{text}")
            {
                return bad("sms.payload_template must use {to} and {text}");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
