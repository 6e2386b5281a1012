//! Ingestion's outbox as the benchmark reads it: how much is queued and for
//! how long, which tells when scoring has caught up and how far the relay
//! lags behind ingest.

use std::time::{Duration, Instant};

use chrono::Utc;
use rapport_kit::Db;

/// Changes waiting in ingestion's outbox.
pub async fn outbox_depth(db: &Db) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM outbox";
    match db {
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
}

/// Age in milliseconds of the oldest change waiting in the outbox (0 when
/// empty).
pub async fn outbox_age_ms(db: &Db) -> Result<f64, sqlx::Error> {
    match db {
        Db::Postgres(p) => {
            sqlx::query_scalar(
                "SELECT COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - MIN(created_at)) * 1000, 0)::float8 FROM outbox",
            )
            .fetch_one(p)
            .await
        }
        Db::Sqlite(p) => {
            let oldest: Option<i64> = sqlx::query_scalar("SELECT MIN(created_at) FROM outbox")
                .fetch_one(p)
                .await?;
            Ok(oldest.map_or(0.0, |micros| {
                (Utc::now().timestamp_micros() - micros).max(0) as f64 / 1000.0
            }))
        }
    }
}

/// Waits until the relay has delivered every queued change.
pub async fn wait_drained(db: &Db, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    // Whether any row is left, not how many: counting millions of queued
    // rows every 20 ms would take a core from the system being measured.
    let sql = "SELECT EXISTS (SELECT 1 FROM outbox)";
    loop {
        let queued: bool = match db {
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
            Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        };
        if !queued {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the outbox did not drain within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The relay's lag as the outbox shows it, the worst seen over a run.
#[derive(Default)]
pub struct LagSampler {
    /// Most changes queued at once.
    pub max_depth: i64,
    /// Age of the oldest queued change, at its worst, in milliseconds.
    pub max_age_ms: f64,
}

impl LagSampler {
    /// Looks at the outbox now.
    pub async fn sample(&mut self, db: &Db) {
        if let Ok(d) = outbox_depth(db).await {
            self.max_depth = self.max_depth.max(d);
        }
        if let Ok(a) = outbox_age_ms(db).await {
            self.max_age_ms = self.max_age_ms.max(a);
        }
    }
}
