//! What ingestion accepts and keeps ready (`[ingest]`, `RAPPORT_INGEST__*`).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rapport_kit::config::{ConfigError, Section};
use serde::{Deserialize, Serialize};

/// Ingestion's own limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Transactions dated before this day (UTC) are refused row by row.
    pub oldest_transaction: NaiveDate,
    /// Calendar months before the current one that get a partition of their
    /// own ahead of time (Postgres); older accepted rows go to the default
    /// partition. Partitions are never created while a batch is written.
    pub partition_months_back: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            oldest_transaction: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(),
            partition_months_back: 24,
        }
    }
}

impl IngestConfig {
    /// The first instant accepted.
    pub fn oldest(&self) -> DateTime<Utc> {
        self.oldest_transaction
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }
}

impl Section for IngestConfig {
    const NAME: &'static str = "ingest";

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.oldest_transaction.year() < 1970 {
            return bad("ingest.oldest_transaction must be 1970-01-01 or later");
        }
        if self.oldest_transaction > Utc::now().date_naive() {
            return bad("ingest.oldest_transaction must not be in the future");
        }
        if self.partition_months_back > 240 {
            return bad("ingest.partition_months_back must be at most 240");
        }
        Ok(())
    }
}
