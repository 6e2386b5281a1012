//! Typed configuration in layers: defaults, then a TOML file, then `RAPPORT_*`
//! environment variables (`__` separates nesting: `RAPPORT_NOTIFY__MAX_ATTEMPTS`),
//! then command-line flags; then [`Config::validate`]. The environment is passed
//! in, so tests never touch the process environment.

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A value that must never be printed (database passwords, tokens).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for terminals.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Configuration shared by every Rapport process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server listens on.
    pub listen: SocketAddr,
    /// `postgres://…` for the production shape; unset for the embedded
    /// SQLite store under `data_dir`.
    pub database_url: Option<Secret>,
    /// Where the embedded store keeps its files.
    pub data_dir: PathBuf,
    /// Most connections each service's pool opens.
    pub db_max_connections: u32,
    /// `redis://…` for the hot-score cache; unset for an in-process cache.
    pub redis_url: Option<Secret>,
    /// Prefix of every cache key.
    pub cache_prefix: String,
    /// MiB of scores cached in process: the whole cache without Redis; with
    /// Redis, a near cache in front of it that Redis pub/sub keeps current
    /// (0 turns it off).
    pub cache_memory_mb: u32,
    /// Credential the services use to call each other. Required when the
    /// services run as separate processes; generated per process otherwise.
    pub internal_token: Option<Secret>,
    /// Log format.
    pub log_format: LogFormat,
    /// OTLP/gRPC collector to export spans to (`http://collector:4317`); unset: no export.
    pub otlp_endpoint: Option<String>,
    /// Requests served at once before new ones are shed with RESOURCE_EXHAUSTED.
    pub max_concurrent_requests: usize,
    /// Longest a request may take, in milliseconds.
    pub request_timeout_ms: u64,
    /// Longest the server drains in-flight work after SIGTERM, in seconds.
    pub shutdown_grace_secs: u64,
    /// Largest gRPC message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Where the other services are, for the one-service-per-process shape.
    pub peers: Peers,
    /// Outbox relay (ingestion to scoring).
    pub relay: RelayConfig,
    /// Notification delivery.
    pub notify: NotifyConfig,
}

/// gRPC endpoints of the other services (`http://host:port`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Peers {
    /// Profiles service.
    pub profiles_url: Option<String>,
    /// Scoring service.
    pub scoring_url: Option<String>,
    /// Notifications service (rules send through it).
    pub notifications_url: Option<String>,
}

/// Outbox relay settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// Changes delivered per call.
    pub batch_size: u32,
    /// Longest pause between looks at an empty outbox, in milliseconds. A
    /// commit wakes the relay at once (in process, and through Postgres
    /// `LISTEN` from other replicas), so this only bounds the delay when a
    /// wake-up is lost (behind a pooler that drops `LISTEN`, say).
    pub poll_interval_ms: u64,
    /// Delivery rounds in flight at once, each on its own leased batch.
    pub concurrency: usize,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            batch_size: 500,
            poll_interval_ms: 500,
            concurrency: 2,
        }
    }
}

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
            poll_interval_ms: 200,
            http_timeout_ms: 10_000,
            concurrency: 16,
            lease_ms: 60_000,
            http_ca_file: None,
            allow_private_destinations: false,
            smtp: SmtpConfig::default(),
            sms: SmsConfig::default(),
        }
    }
}

impl NotifyConfig {
    /// Checks the delivery settings that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(format!("notify.{m}")));
        let smtp_timeout = if self.smtp.host.is_some() {
            self.smtp.timeout_ms
        } else {
            0
        };
        if self.lease_ms <= self.http_timeout_ms.max(smtp_timeout) {
            return bad("lease_ms must exceed http_timeout_ms (and smtp.timeout_ms with smtp)");
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
            if serde_json::from_str::<Value>(&sample).is_err() {
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

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            database_url: None,
            data_dir: PathBuf::from("rapport-data"),
            db_max_connections: 10,
            redis_url: None,
            cache_prefix: "rapport".to_owned(),
            cache_memory_mb: 8,
            internal_token: None,
            log_format: LogFormat::Pretty,
            otlp_endpoint: None,
            max_concurrent_requests: 512,
            request_timeout_ms: 30_000,
            shutdown_grace_secs: 25,
            max_message_bytes: 32 << 20,
            peers: Peers::default(),
            relay: RelayConfig::default(),
            notify: NotifyConfig::default(),
        }
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or parsed.
    #[error("config file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A value has the wrong shape.
    #[error("config: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the layers. `env` is the process environment (or a test's map);
    /// `file` an optional TOML file; `overrides` dotted keys from flags
    /// (`("peers.profiles_url", "http://…")`).
    pub fn load<I>(
        env: I,
        file: Option<&std::path::Path>,
        overrides: &[(&str, String)],
    ) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let defaults = serde_json::to_value(Config::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut merged = defaults.clone();
        let env: BTreeMap<String, String> = env.into_iter().collect();

        let file = file
            .map(PathBuf::from)
            .or_else(|| env.get("RAPPORT_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::File {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::File {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let value = serde_json::to_value(table).map_err(|e| ConfigError::File {
                path,
                message: e.to_string(),
            })?;
            merge(&mut merged, value);
        }

        // The conventional unprefixed names, then the prefixed ones over them.
        for (plain, key) in [("DATABASE_URL", "database_url"), ("REDIS_URL", "redis_url")] {
            if let Some(v) = env.get(plain) {
                set_path(&mut merged, &defaults, &[key], v)?;
            }
        }
        for (name, value) in &env {
            let Some(rest) = name.strip_prefix("RAPPORT_") else {
                continue;
            };
            if rest == "CONFIG" {
                continue;
            }
            let lower = rest.to_ascii_lowercase();
            let path: Vec<&str> = lower.split("__").collect();
            set_path(&mut merged, &defaults, &path, value)?;
        }
        for (key, value) in overrides {
            let path: Vec<&str> = key.split('.').collect();
            set_path(&mut merged, &defaults, &path, value)?;
        }
        let config: Config =
            serde_json::from_value(merged).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Loads from the process environment and an optional file.
    pub fn from_env(
        file: Option<&std::path::Path>,
        overrides: &[(&str, String)],
    ) -> Result<Config, ConfigError> {
        Config::load(std::env::vars(), file, overrides)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.cache_memory_mb > 4_096 {
            return bad("cache_memory_mb must be at most 4096");
        }
        if let Some(url) = &self.database_url {
            let u = url.expose();
            if !(u.starts_with("postgres://")
                || u.starts_with("postgresql://")
                || u.starts_with("sqlite:"))
            {
                return bad("database_url must start with postgres:// or sqlite:");
            }
        }
        if let Some(url) = &self.redis_url
            && !url.expose().starts_with("redis://")
        {
            return bad("redis_url must start with redis://");
        }
        if self.max_concurrent_requests == 0 {
            return bad("max_concurrent_requests must be at least 1");
        }
        if self.db_max_connections == 0 {
            return bad("db_max_connections must be at least 1");
        }
        if self.notify.max_attempts == 0 || self.notify.concurrency == 0 {
            return bad("notify.max_attempts and notify.concurrency must be at least 1");
        }
        self.notify.validate()?;
        if self.relay.batch_size == 0 || self.relay.batch_size > 5_000 {
            return bad("relay.batch_size must be within 1..=5000");
        }
        if self.relay.concurrency == 0 || self.relay.concurrency > 64 {
            return bad("relay.concurrency must be within 1..=64");
        }
        if self.max_message_bytes < 1 << 20 {
            return bad("max_message_bytes must be at least 1 MiB");
        }
        Ok(())
    }

    /// [`Config::request_timeout_ms`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// [`Config::shutdown_grace_secs`] as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

/// Sets `path` to `raw`, typed after the default value found at that path.
fn set_path(
    root: &mut Value,
    defaults: &Value,
    path: &[&str],
    raw: &str,
) -> Result<(), ConfigError> {
    let unknown = || ConfigError::Invalid(format!("unknown setting {}", path.join(".")));
    let mut shape = defaults;
    for key in path {
        shape = shape.get(*key).ok_or_else(unknown)?;
    }
    let typed = match shape {
        Value::Number(_) => {
            let n: serde_json::Number = raw.trim().parse().map_err(|_| {
                ConfigError::Invalid(format!("{} must be a number, not {raw:?}", path.join(".")))
            })?;
            Value::Number(n)
        }
        Value::Bool(_) => Value::Bool(matches!(raw.trim(), "1" | "true" | "yes" | "on")),
        Value::Object(_) => return Err(unknown()),
        _ => Value::String(raw.to_owned()),
    };
    let mut node = root;
    for key in &path[..path.len() - 1] {
        node = node.get_mut(*key).ok_or_else(unknown)?;
    }
    node[path[path.len() - 1]] = typed;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_then_env_then_flags() {
        let c = Config::load(
            env(&[
                ("DATABASE_URL", "postgres://a@h/db"),
                ("RAPPORT_NOTIFY__MAX_ATTEMPTS", "3"),
                ("RAPPORT_LISTEN", "0.0.0.0:7000"),
                ("HOME", "/root"),
            ]),
            None,
            &[("listen", "127.0.0.1:9000".into())],
        )
        .unwrap();
        assert_eq!(c.database_url.unwrap().expose(), "postgres://a@h/db");
        assert_eq!(c.notify.max_attempts, 3);
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.relay.batch_size, 500);
    }

    #[test]
    fn private_destinations_are_off_unless_allowed() {
        let c = Config::load(env(&[]), None, &[]).unwrap();
        assert!(!c.notify.allow_private_destinations);
        let c = Config::load(
            env(&[("RAPPORT_NOTIFY__ALLOW_PRIVATE_DESTINATIONS", "true")]),
            None,
            &[],
        )
        .unwrap();
        assert!(c.notify.allow_private_destinations);
    }

    #[test]
    fn unknown_and_mistyped_settings_are_refused() {
        let e = Config::load(env(&[("RAPPORT_LISTN", "x")]), None, &[]).unwrap_err();
        assert!(e.to_string().contains("unknown setting listn"));
        let e =
            Config::load(env(&[("RAPPORT_NOTIFY__MAX_ATTEMPTS", "many")]), None, &[]).unwrap_err();
        assert!(e.to_string().contains("must be a number"));
        let e = Config::load(env(&[("DATABASE_URL", "mysql://x")]), None, &[]).unwrap_err();
        assert!(e.to_string().contains("database_url"));
    }

    #[test]
    fn file_layer_sits_under_env() {
        let dir = std::env::temp_dir().join(format!("rapport-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rapport.toml");
        std::fs::write(&path, "cache_prefix = \"file\"\n[relay]\nbatch_size = 10\n").unwrap();
        let c = Config::load(
            env(&[("RAPPORT_RELAY__BATCH_SIZE", "20")]),
            Some(&path),
            &[],
        )
        .unwrap();
        assert_eq!(c.cache_prefix, "file");
        assert_eq!(c.relay.batch_size, 20);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn notify_channels_are_validated() {
        let ok = Config::load(
            env(&[
                ("RAPPORT_NOTIFY__SMTP__HOST", "smtp.example.com"),
                ("RAPPORT_NOTIFY__SMTP__TLS", "starttls"),
                ("RAPPORT_NOTIFY__SMTP__FROM", "news@example.com"),
                ("RAPPORT_NOTIFY__SMS__URL", "http://sms.example.com/send"),
                ("RAPPORT_NOTIFY__SMS__AUTH_VALUE", "Bearer t"),
            ]),
            None,
            &[],
        )
        .unwrap();
        assert_eq!(ok.notify.smtp.tls, SmtpTls::Starttls);
        assert_eq!(ok.notify.smtp.port, 587);
        let payload = ok.notify.sms.payload("+41 \"x\"", "a\nb", "k");
        let parsed: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(parsed["to"], "+41 \"x\"");
        assert_eq!(parsed["text"], "a\nb");
        for (name, value, needle) in [
            (
                "RAPPORT_NOTIFY__SMTP__HOST",
                "smtp.example.com",
                "smtp.from",
            ),
            ("RAPPORT_NOTIFY__SMS__URL", "ftp://x", "sms.url"),
            ("RAPPORT_NOTIFY__LEASE_MS", "10", "lease_ms"),
            (
                "RAPPORT_NOTIFY__HTTP_CA_FILE",
                "/nonexistent/rapport-ca.pem",
                "http_ca_file",
            ),
        ] {
            let e = Config::load(env(&[(name, value)]), None, &[]).unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
        }
        let e = Config::load(
            env(&[
                ("RAPPORT_NOTIFY__SMS__URL", "http://sms.example.com/"),
                ("RAPPORT_NOTIFY__SMS__PAYLOAD_TEMPLATE", "{\"to\":{to}}"),
            ]),
            None,
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("payload_template"), "{e}");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
