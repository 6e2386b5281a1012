//! The seeded population every scenario runs on (see [`super::generate`]),
//! loaded through the public API exactly as an ERP integration would.

use std::time::{Duration, Instant};

use futures::StreamExt;
use rapport_kit::Db;
use rapport_proto::v1::IngestTransactionsRequest;

use super::{
    generate::{PopulationSpec, TxnGen},
    outbox::wait_drained,
};
use crate::client::{Clients, each_score_page};

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

/// Every scored customer's id, through ListScores.
async fn list_customers(clients: &Clients) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut scoring = clients.scoring.clone();
    each_score_page(&mut scoring, |page| {
        ids.extend(page.into_iter().map(|s| s.customer_id))
    })
    .await?;
    Ok(ids)
}
