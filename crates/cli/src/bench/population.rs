//! The seeded population every scenario runs on (see [`super::generate`]),
//! loaded through the public API exactly as an ERP integration would, and
//! the outbox figures that tell when scoring has caught up.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use rapport_kit::Db;
use rapport_proto::v1::{IngestTransactionsRequest, ListScoresRequest, ScoreOrder};

use super::generate::TxnGen;
use crate::client::Clients;

/// The source system every generated row claims.
pub const SOURCE: &str = "erp";

/// What to generate.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PopulationSpec {
    /// Customers.
    pub customers: u64,
    /// Transactions in all, about (every customer has at least one).
    pub transactions: u64,
    /// Months of history before now.
    pub months: u32,
    /// The same seed gives the same population.
    pub seed: u64,
}

/// The ERP number of customer `i`.
pub fn external_id(i: u64) -> String {
    format!("C{i:08}")
}

/// How loading the population went.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Loaded {
    /// Transactions stored.
    pub transactions: u64,
    /// Seconds until the last batch was acknowledged.
    pub ingest_seconds: f64,
    /// Seconds until scoring had applied every one.
    pub applied_seconds: f64,
    /// Rapport ids of every customer with a score.
    #[serde(skip)]
    pub customer_ids: Vec<String>,
}

/// Loads the population through IngestTransactions (unknown customers are
/// created as stubs), waits until scoring has applied it all, and lists the
/// customers' ids.
pub async fn load(
    clients: &Clients,
    ingestion_db: &Db,
    spec: &PopulationSpec,
    batch: usize,
) -> anyhow::Result<Loaded> {
    let start = Instant::now();
    let mut generator = TxnGen::new(spec, "pop", 0);
    let requests = std::iter::from_fn(|| {
        let batch = generator.history(batch);
        (!batch.is_empty()).then_some(batch)
    });
    // Two batches in flight: Rapport's ingest is made to be called
    // concurrently, and one at a time would leave it waiting on the client.
    let mut stored = 0u64;
    let mut sends = futures::stream::iter(requests)
        .map(|transactions| {
            let mut client = clients.ingestion.clone();
            async move {
                client
                    .ingest_transactions(IngestTransactionsRequest { transactions })
                    .await
            }
        })
        .buffered(2);
    while let Some(answer) = sends.next().await {
        let answer = answer?.into_inner();
        anyhow::ensure!(
            answer.rejected.is_empty(),
            "population rows rejected: {:?}",
            answer.rejected.first()
        );
        stored += u64::from(answer.accepted);
    }
    let ingest_seconds = start.elapsed().as_secs_f64();
    wait_drained(ingestion_db, Duration::from_secs(3_600)).await?;
    let applied_seconds = start.elapsed().as_secs_f64();
    let customer_ids = list_customers(clients).await?;
    Ok(Loaded {
        transactions: stored,
        ingest_seconds,
        applied_seconds,
        customer_ids,
    })
}

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

/// Every scored customer's id, through ListScores.
async fn list_customers(clients: &Clients) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut token = String::new();
    let mut scoring = clients.scoring.clone();
    loop {
        let page = scoring
            .list_scores(ListScoresRequest {
                order_by: ScoreOrder::NetSpend as i32,
                page_size: 1_000,
                page_token: token,
            })
            .await?
            .into_inner();
        ids.extend(page.scores.into_iter().map(|s| s.customer_id));
        if page.next_page_token.is_empty() {
            return Ok(ids);
        }
        token = page.next_page_token;
    }
}
