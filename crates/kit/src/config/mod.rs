//! Typed configuration in layers: defaults, then a TOML file, then `RAPPORT_*`
//! environment variables (`__` separates nesting: `RAPPORT_NOTIFY__MAX_ATTEMPTS`),
//! then command-line flags; then [`Config::validate`]. The environment is passed
//! in, so tests never touch the process environment. Kit owns the settings every
//! process shares; a service owns its own [`Section`] of the same namespace.

mod layers;
mod roles;
mod secret;
mod section;
mod tls;
mod tokens;

pub use roles::{Role, RoleSet, Roles};
pub use secret::Secret;
pub use section::{SECTIONS, Section, Sections};
pub(crate) use tls::read_file;
pub use tls::{PemPair, Tls};
pub use tokens::InternalTokens;

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a service's schema goes in a pooler URL (see [`Config::database_url`]).
pub const SCHEMA_SLOT: &str = "{schema}";

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
    /// SQLite store under `data_dir`. A URL holding `{schema}` names a
    /// transaction-mode pooler such as PgBouncer: each service puts its schema
    /// there (`…:6432/rapport_{schema}` reaches the pooler database
    /// `rapport_scoring`, whose `connect_query` sets its `search_path`), and
    /// no startup `options` are sent, which poolers refuse.
    pub database_url: Option<Secret>,
    /// `postgres://…` straight to the primary, bypassing the pooler at a
    /// `{schema}` `database_url`, for what a transaction-mode pooler cannot
    /// carry: `LISTEN` (the relay's wake-ups and key revocations). Unset
    /// behind a pooler: those fall back to polling.
    pub database_direct_url: Option<Secret>,
    /// `postgres://…` of a streaming replica of `database_url`, read by the
    /// whole-tenant reads (lists, summaries, equity, passes over every
    /// customer) so they stay off the primary; unset: they read the primary.
    pub database_read_url: Option<Secret>,
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
    /// Each calling service's own credential (`current[,previous]`), allowed
    /// only the calls that service makes; unset ones fall back to
    /// `internal_token`.
    pub internal_tokens: InternalTokens,
    /// The operator's credential for `AdminService` (`RAPPORT_ADMIN_TOKEN`):
    /// at least 32 characters, unlike every internal credential. Unset, the
    /// admin RPCs are refused.
    pub admin_token: Option<Secret>,
    /// Log format.
    pub log_format: LogFormat,
    /// OTLP/gRPC collector to export spans and metrics to
    /// (`http://collector:4317`); unset: no export.
    pub otlp_endpoint: Option<String>,
    /// Where `GET /metrics` (Prometheus text format) is served over plain
    /// HTTP (`0.0.0.0:9090`); unset: not served.
    #[serde(deserialize_with = "metrics_listen")]
    pub metrics_listen: Option<SocketAddr>,
    /// How often gauges read from the databases (dead letters waiting,
    /// outbox and queue backlogs) are sampled, in milliseconds.
    pub metrics_sample_ms: u64,
    /// Requests served at once before new ones are shed with RESOURCE_EXHAUSTED.
    pub max_concurrent_requests: usize,
    /// Longest a request may take, in milliseconds.
    pub request_timeout_ms: u64,
    /// Longest whole-tenant work asked for by a request (FitModels,
    /// EvaluateModels) may take, in milliseconds: it grows with the tenant.
    pub long_request_timeout_ms: u64,
    /// Longest the server drains in-flight work after SIGTERM, in seconds.
    pub shutdown_grace_secs: u64,
    /// Largest gRPC message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Bytes of requests a process holds at once; past them a request is
    /// refused with RESOURCE_EXHAUSTED. At least `max_message_bytes`.
    pub inflight_bytes: usize,
    /// Longest a client stream may go without sending a message, in
    /// milliseconds; streams are exempt from `request_timeout_ms`.
    pub stream_idle_timeout_ms: u64,
    /// Which parts of its service a process runs: `all`, or a list of
    /// `serve` (the API), `relay` (ingestion's outbox), `rules` and `refresh`
    /// (scoring's workers), `notify` (notifications' delivery), so workers can
    /// run as their own Deployments. A process without `serve` answers only
    /// health checks (and metrics) on `listen`.
    pub roles: Roles,
    /// Where the other services are, for the one-service-per-process shape.
    pub peers: Peers,
    /// TLS for the gRPC server and for calls to peers and Redis.
    pub tls: Tls,
    /// The services' own sections (see [`SECTIONS`]) as layered, read typed
    /// with [`Config::section`].
    #[serde(skip)]
    pub sections: Sections,
}

/// gRPC endpoints of the other services (`http://host:port`, or
/// `https://host:port` with `tls.ca_file`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Peers {
    /// Profiles service.
    pub profiles_url: Option<String>,
    /// Scoring service.
    pub scoring_url: Option<String>,
    /// Notifications service (rules send through it).
    pub notifications_url: Option<String>,
    /// Ingestion service (profiles exports and erases customers' activity
    /// there).
    pub ingestion_url: Option<String>,
    /// Spread calls over every address a peer's host resolves to (a
    /// Kubernetes headless Service: one per ready pod), resolving again
    /// every `resolve_interval_ms`; unset, one connection to the name.
    pub balance: bool,
    /// How often a balanced peer's name is resolved again, in milliseconds.
    pub resolve_interval_ms: u64,
}

impl Default for Peers {
    fn default() -> Self {
        Peers {
            profiles_url: None,
            scoring_url: None,
            notifications_url: None,
            ingestion_url: None,
            balance: false,
            resolve_interval_ms: 5_000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            database_url: None,
            database_direct_url: None,
            database_read_url: None,
            data_dir: PathBuf::from("rapport-data"),
            db_max_connections: 10,
            redis_url: None,
            cache_prefix: "rapport".to_owned(),
            cache_memory_mb: 8,
            internal_token: None,
            internal_tokens: InternalTokens::default(),
            admin_token: None,
            log_format: LogFormat::Pretty,
            otlp_endpoint: None,
            metrics_listen: None,
            metrics_sample_ms: 15_000,
            max_concurrent_requests: 512,
            request_timeout_ms: 30_000,
            long_request_timeout_ms: 900_000,
            shutdown_grace_secs: 25,
            max_message_bytes: 16 << 20,
            inflight_bytes: 96 << 20,
            stream_idle_timeout_ms: 60_000,
            roles: Roles::all(),
            peers: Peers::default(),
            tls: Tls::default(),
            sections: Sections::default(),
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
        let mut sections = Sections::default();
        let env: BTreeMap<String, String> = env.into_iter().collect();

        let file = file
            .map(PathBuf::from)
            .or_else(|| env.get("RAPPORT_CONFIG").map(PathBuf::from));
        if let Some(path) = file {
            let mut value = layers::read_file(&path)?;
            // The services' sections are layered raw; each service types its own.
            if let Value::Object(table) = &mut value {
                for name in SECTIONS {
                    if let Some(section) = table.remove(*name) {
                        sections.0.insert((*name).to_owned(), section);
                    }
                }
            }
            layers::merge(&mut merged, value);
        }

        let mut set = |path: &[&str], raw: &str| match path {
            [name, rest @ ..] if SECTIONS.contains(name) => {
                layers::set_raw(&mut sections.0, path, rest, raw)
            }
            _ => layers::set_path(&mut merged, &defaults, path, raw),
        };
        // The conventional unprefixed names, then the prefixed ones over them.
        for (plain, key) in [("DATABASE_URL", "database_url"), ("REDIS_URL", "redis_url")] {
            if let Some(v) = env.get(plain) {
                set(&[key], v)?;
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
            set(&path, value)?;
        }
        for (key, value) in overrides {
            let path: Vec<&str> = key.split('.').collect();
            set(&path, value)?;
        }
        let mut config: Config =
            serde_json::from_value(merged).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.sections = sections;
        config.validate()?;
        Ok(config)
    }

    /// The service section `T`: its defaults under what the layers set, typed
    /// and validated. An unknown or mistyped key is an error naming it.
    pub fn section<T: Section>(&self) -> Result<T, ConfigError> {
        debug_assert!(
            SECTIONS.contains(&T::NAME),
            "{} is not in SECTIONS",
            T::NAME
        );
        let defaults =
            serde_json::to_value(T::default()).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut value = defaults.clone();
        if let Some(layered) = self.sections.0.get(T::NAME) {
            layers::apply(&mut value, &defaults, layered, &mut vec![T::NAME])?;
        }
        let section: T = serde_json::from_value(value)
            .map_err(|e| ConfigError::Invalid(format!("{}: {e}", T::NAME)))?;
        section.validate()?;
        Ok(section)
    }

    /// Replaces section `T` (tests and embedded set-ups that build their
    /// configuration in code).
    pub fn set_section<T: Section>(&mut self, section: &T) {
        let value = serde_json::to_value(section).unwrap_or(Value::Null);
        self.sections.0.insert(T::NAME.to_owned(), value);
    }

    /// Sets one dotted key as a flag would (`"notify.lease_ms"`, `"listen"`),
    /// typed the same way.
    pub fn set(&mut self, key: &str, raw: &str) -> Result<(), ConfigError> {
        let path: Vec<&str> = key.split('.').collect();
        match path.as_slice() {
            [name, rest @ ..] if SECTIONS.contains(name) => {
                layers::set_raw(&mut self.sections.0, &path, rest, raw)
            }
            _ => {
                let invalid = |e: serde_json::Error| ConfigError::Invalid(e.to_string());
                let mut value = serde_json::to_value(&*self).map_err(invalid)?;
                let shape = value.clone();
                layers::set_path(&mut value, &shape, &path, raw)?;
                let sections = std::mem::take(&mut self.sections);
                *self = serde_json::from_value(value).map_err(invalid)?;
                self.sections = sections;
                Ok(())
            }
        }
    }

    /// Changes section `T` in place: read, `change`, write back.
    pub fn update_section<T: Section>(&mut self, change: impl FnOnce(&mut T)) {
        let mut section = self.section::<T>().unwrap_or_default();
        change(&mut section);
        self.set_section(&section);
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
        if self
            .database_url
            .as_ref()
            .is_some_and(|u| u.expose().starts_with("sqlite:") && u.expose().contains(SCHEMA_SLOT))
        {
            return bad("database_url: {schema} names a pooler database, so it needs postgres://");
        }
        if let Some(url) = &self.database_direct_url {
            let u = url.expose();
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                return bad("database_direct_url must start with postgres://");
            }
            if u.contains(SCHEMA_SLOT) {
                return bad("database_direct_url must reach Postgres itself: no {schema}");
            }
            if !self
                .database_url
                .as_ref()
                .is_some_and(|p| p.expose().starts_with("postgres"))
            {
                return bad("database_direct_url needs database_url to be a postgres:// primary");
            }
        }
        if let Some(url) = &self.database_read_url {
            let u = url.expose();
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                return bad("database_read_url must start with postgres://");
            }
            if !self
                .database_url
                .as_ref()
                .is_some_and(|p| p.expose().starts_with("postgres"))
            {
                return bad("database_read_url needs database_url to be a postgres:// primary");
            }
        }
        if let Some(url) = &self.redis_url
            && ![
                "redis://",
                "rediss://",
                "redis+cluster://",
                "rediss+cluster://",
            ]
            .iter()
            .any(|scheme| url.expose().starts_with(scheme))
        {
            return bad(
                "redis_url must start with redis://, rediss://, redis+cluster:// or rediss+cluster://",
            );
        }
        if let Some(admin) = &self.admin_token {
            let admin = admin.expose();
            if admin.trim().len() < 32 || admin.len() > 256 {
                return bad("admin_token must be 32 to 256 characters long");
            }
            // Every internal credential, whichever services have one.
            let tokens = serde_json::to_value(&self.internal_tokens).unwrap_or_default();
            let mut internal: Vec<&str> = tokens
                .as_object()
                .into_iter()
                .flat_map(|o| o.values())
                .filter_map(|v| v.as_str())
                .collect();
            internal.extend(self.internal_token.as_ref().map(Secret::expose));
            if internal
                .iter()
                .any(|t| t.split(',').any(|v| v.trim() == admin.trim()))
            {
                return bad("admin_token must differ from every internal token");
            }
        }
        self.tls.validate()?;
        let peers = &self.peers;
        for (name, url) in [
            ("peers.profiles_url", &peers.profiles_url),
            ("peers.scoring_url", &peers.scoring_url),
            ("peers.notifications_url", &peers.notifications_url),
            ("peers.ingestion_url", &peers.ingestion_url),
        ] {
            if url.as_deref().is_some_and(|u| u.starts_with("https://"))
                && self.tls.ca_file.is_none()
            {
                return Err(ConfigError::Invalid(format!(
                    "{name} is https://, which needs tls.ca_file (the CA the peer's certificate chains to)"
                )));
            }
        }
        if self.peers.resolve_interval_ms < 100 {
            return bad("peers.resolve_interval_ms must be at least 100");
        }
        if self.max_concurrent_requests == 0 {
            return bad("max_concurrent_requests must be at least 1");
        }
        if self.db_max_connections == 0 {
            return bad("db_max_connections must be at least 1");
        }
        if self.max_message_bytes < 1 << 20 {
            return bad("max_message_bytes must be at least 1 MiB");
        }
        if self.inflight_bytes < self.max_message_bytes {
            return bad("inflight_bytes must be at least max_message_bytes");
        }
        if self.stream_idle_timeout_ms == 0 {
            return bad("stream_idle_timeout_ms must be at least 1");
        }
        if self.metrics_sample_ms < 100 {
            return bad("metrics_sample_ms must be at least 100");
        }
        if self.metrics_listen.is_some() && self.metrics_listen == Some(self.listen) {
            return bad("metrics_listen must differ from listen");
        }
        Ok(())
    }

    /// [`Config::request_timeout_ms`] as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// [`Config::long_request_timeout_ms`] as a duration.
    pub fn long_request_timeout(&self) -> Duration {
        Duration::from_millis(self.long_request_timeout_ms.max(self.request_timeout_ms))
    }

    /// [`Config::stream_idle_timeout_ms`] as a duration.
    pub fn stream_idle_timeout(&self) -> Duration {
        Duration::from_millis(self.stream_idle_timeout_ms)
    }

    /// Whether anything reads the metrics (the endpoint or OTLP export):
    /// samplers that query a database run only then.
    pub fn metrics_read(&self) -> bool {
        self.metrics_listen.is_some() || self.otlp_endpoint.is_some()
    }

    /// [`Config::metrics_sample_ms`] as a duration.
    pub fn metrics_sample(&self) -> Duration {
        Duration::from_millis(self.metrics_sample_ms)
    }

    /// [`Config::shutdown_grace_secs`] as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// `metrics_listen` as `host:port`, refused naming the setting (serde's own
/// message would not say which setting held the bad address).
fn metrics_listen<'de, D>(d: D) -> Result<Option<SocketAddr>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw: Option<String> = Option::deserialize(d)?;
    raw.map(|r| {
        r.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "metrics_listen must be an IP address and port (0.0.0.0:9090), not {r:?}"
            ))
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests;
