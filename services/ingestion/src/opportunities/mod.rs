//! B2B opportunities (OpportunitiesService): events taken in through the
//! same batch pipeline as transactions, a refit job that scores them with
//! the per-tenant stage-transition model (`rapport_science::pipeline`), and
//! reads of what the latest refit stored.

mod fold;
mod grpc;
pub(crate) mod job;
mod score;
pub(crate) mod store;

use rapport_kit::config::{ConfigError, Section};
use serde::{Deserialize, Serialize};

use crate::ingest::Ingest;

/// The refit job's settings (`[opportunities]`, `RAPPORT_OPPORTUNITIES__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpportunitiesConfig {
    /// Pause between the job's looks for tenants to refit, in milliseconds.
    pub poll_interval_ms: u64,
    /// A tenant is refitted at least this often, new events or not, since
    /// ages in stage move on; 0 refits only on new events.
    pub refresh_hours: u32,
    /// Closed opportunities a tenant needs before probabilities are given.
    pub min_closed: u32,
}

impl Default for OpportunitiesConfig {
    fn default() -> Self {
        OpportunitiesConfig {
            poll_interval_ms: 2_000,
            refresh_hours: 24,
            min_closed: 20,
        }
    }
}

impl Section for OpportunitiesConfig {
    const NAME: &'static str = "opportunities";

    fn validate(&self) -> Result<(), ConfigError> {
        if !(10..=600_000).contains(&self.poll_interval_ms) {
            return Err(ConfigError::Invalid(
                "opportunities.poll_interval_ms must be within 10..=600000".to_owned(),
            ));
        }
        if self.min_closed == 0 {
            return Err(ConfigError::Invalid(
                "opportunities.min_closed must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The service: ingestion's batch pipeline and the snapshot's store.
#[derive(Clone)]
pub(crate) struct Opportunities {
    pub ingest: Ingest,
    pub store: store::Store,
}
