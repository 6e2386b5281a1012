//! The probes of the freshness scenario: customers nobody else buys for, one
//! purchase of one of them in each batch, and the polling that times how
//! soon GetScore shows it after ingest said OK.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use hdrhistogram::Histogram;
use rapport_proto::v1::{
    BatchGetScoresRequest, ExternalIdentity, GetScoreRequest, IngestTransactionsRequest,
    LookupCustomerRequest, Transaction, scoring_service_client::ScoringServiceClient,
};
use tonic::{metadata::MetadataValue, transport::Channel};

use super::generate::{SOURCE, external_id};
use crate::client::{Authed, Clients};

/// How often a probe reads its customer's score.
const PROBE_POLL: Duration = Duration::from_millis(2);
/// A probe not reflected after this counts as this late.
const PROBE_GIVE_UP: Duration = Duration::from_secs(30);

/// A probe customer not in flight: (id, number in the population, purchases
/// its score counts).
pub type Probe = (String, u64, u64);

/// What the batches' tasks share: where to read scores, the probes not in
/// flight, and the figures.
#[derive(Clone)]
pub struct Watch {
    /// Connections to scoring.
    pub chans: Arc<Vec<Channel>>,
    /// The tenant's `Bearer` credential.
    pub auth: MetadataValue<tonic::metadata::Ascii>,
    /// Probes free to be bought for.
    pub free: Arc<Mutex<Vec<Probe>>>,
    /// From a batch's OK to its probe's purchase readable.
    pub seen: Arc<Mutex<Histogram<u64>>>,
    /// From when a batch was due to its OK.
    pub ack: Arc<Mutex<Histogram<u64>>>,
    /// Probes given up on.
    pub late: Arc<AtomicU64>,
}

/// The probes, customers `numbers` of the population, with the purchases
/// their scores count now.
pub async fn probes(clients: &Clients, numbers: &[u64]) -> anyhow::Result<Vec<Probe>> {
    let mut ids = Vec::with_capacity(numbers.len());
    for n in numbers {
        let found = clients
            .profiles
            .clone()
            .lookup_customer(LookupCustomerRequest {
                identity: Some(ExternalIdentity {
                    source: SOURCE.to_owned(),
                    external_id: external_id(*n),
                }),
            })
            .await
            .context("looking up a probe customer")?
            .into_inner();
        ids.push(found.customer.map(|c| c.id).unwrap_or_default());
    }
    let mut counts = HashMap::new();
    for chunk in ids.chunks(500) {
        let answer = clients
            .scoring
            .clone()
            .batch_get_scores(BatchGetScoresRequest {
                customer_ids: chunk.to_vec(),
            })
            .await?
            .into_inner();
        for score in answer.scores {
            counts.insert(score.customer_id, score.purchase_count);
        }
    }
    Ok(ids
        .iter()
        .zip(numbers)
        .map(|(id, n)| (id.clone(), *n, counts.get(id).copied().unwrap_or(0)))
        .collect())
}

/// Sends one batch due at `due` and, when it carries `probe`'s purchase,
/// polls until the score shows it. True when the batch was accepted whole.
pub async fn send_batch(
    mut ingestion: rapport_proto::v1::ingestion_service_client::IngestionServiceClient<Authed>,
    transactions: Vec<Transaction>,
    due: tokio::time::Instant,
    probe: Option<Probe>,
    watch: Watch,
) -> bool {
    let sent = transactions.len();
    let answer = ingestion
        .ingest_transactions(IngestTransactionsRequest { transactions })
        .await;
    let acked = tokio::time::Instant::now();
    record(&watch.ack, acked - due);
    let ok = matches!(&answer, Ok(a) if a.get_ref().accepted as usize == sent);
    let Some((id, number, count)) = probe else {
        return ok;
    };
    if !ok {
        if let Ok(mut f) = watch.free.lock() {
            f.push((id, number, count));
        }
        return false;
    }
    let want = count + 1;
    let mut client =
        ScoringServiceClient::new(watch.chans[number as usize % watch.chans.len()].clone());
    loop {
        let mut request = tonic::Request::new(GetScoreRequest {
            customer_id: id.clone(),
        });
        request
            .metadata_mut()
            .insert("authorization", watch.auth.clone());
        let current = client
            .get_score(request)
            .await
            .ok()
            .and_then(|r| r.into_inner().score)
            .map_or(0, |s| s.purchase_count);
        if current >= want {
            record(&watch.seen, acked.elapsed());
            if let Ok(mut f) = watch.free.lock() {
                f.insert(0, (id, number, current));
            }
            return true;
        }
        if acked.elapsed() > PROBE_GIVE_UP {
            watch.late.fetch_add(1, Ordering::Relaxed);
            record(&watch.seen, PROBE_GIVE_UP);
            return true;
        }
        tokio::time::sleep(PROBE_POLL).await;
    }
}

fn record(h: &Mutex<Histogram<u64>>, took: Duration) {
    if let Ok(mut h) = h.lock() {
        h.saturating_record((took.as_micros() as u64).max(1));
    }
}
