//! The service's settings: the outbox relay's (`[relay]`, `RAPPORT_RELAY__*`)
//! and what ingestion accepts (`[ingest]`).

mod ingest;

pub use ingest::IngestConfig;

use rapport_kit::config::{ConfigError, Section};
use serde::{Deserialize, Serialize};

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

impl Section for RelayConfig {
    const NAME: &'static str = "relay";

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.batch_size == 0 || self.batch_size > 5_000 {
            return bad("relay.batch_size must be within 1..=5000");
        }
        if self.concurrency == 0 || self.concurrency > 64 {
            return bad("relay.concurrency must be within 1..=64");
        }
        Ok(())
    }
}
#[cfg(test)]
mod tests;
