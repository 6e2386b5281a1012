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
    BatchGetScoresRequest, ExternalIdentity, IngestTransactionsRequest, LookupCustomerRequest,
    Transaction, scoring_service_client::ScoringServiceClient,
};
use tonic::{metadata::MetadataValue, transport::Channel};

use super::generate::{SOURCE, external_id};
use crate::client::{Authed, Clients};

/// Pause between the poller's reads, at least: with the read's own time
/// added, the resolution of the freshness figure.
const PROBE_POLL: Duration = Duration::from_millis(2);
/// A probe not reflected after this counts as this late.
const PROBE_GIVE_UP: Duration = Duration::from_secs(30);

/// A probe customer not in flight: (id, number in the population, purchases
/// its score counts).
pub type Probe = (String, u64, u64);

/// A probe whose purchase was accepted and is not readable yet.
struct InFlight {
    probe: Probe,
    acked: tokio::time::Instant,
}

/// What the batches' tasks and the poller share: where to read scores, the
/// probes not in flight, those in flight, and the figures.
#[derive(Clone)]
pub struct Watch {
    /// A connection to scoring.
    pub chan: Channel,
    /// The tenant's `Bearer` credential.
    pub auth: MetadataValue<tonic::metadata::Ascii>,
    /// Probes free to be bought for.
    pub free: Arc<Mutex<Vec<Probe>>>,
    /// Probes accepted and waiting to be readable.
    in_flight: Arc<Mutex<Vec<InFlight>>>,
    /// From a batch's OK to its probe's purchase readable.
    pub seen: Arc<Mutex<Histogram<u64>>>,
    /// From when a batch was due to its OK.
    pub ack: Arc<Mutex<Histogram<u64>>>,
    /// Probes given up on.
    pub late: Arc<AtomicU64>,
}

impl Watch {
    /// A watch reading scores over `chan` with `auth`, buying for `free`.
    pub fn new(
        chan: Channel,
        auth: MetadataValue<tonic::metadata::Ascii>,
        free: Vec<Probe>,
    ) -> Watch {
        Watch {
            chan,
            auth,
            free: Arc::new(Mutex::new(free)),
            in_flight: Arc::default(),
            seen: Arc::new(Mutex::new(super::load::histogram())),
            ack: Arc::new(Mutex::new(super::load::histogram())),
            late: Arc::new(AtomicU64::new(0)),
        }
    }
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

/// Sends one batch due at `due` and, when it carries `probe`'s purchase and
/// is accepted, hands the probe to [`poll`]. True when the batch was
/// accepted whole.
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
    if let Ok(mut w) = watch.in_flight.lock() {
        w.push(InFlight {
            probe: (id, number, count),
            acked,
        });
    }
    true
}

/// Reads every probe in flight with one BatchGetScores at a time, until
/// `done` is set and none is left in flight. One call in flight, paused at
/// least as long as the call took: the probes' reads cost the server a
/// bounded share, whatever the lag. (A poller per probe would add reads as
/// the lag grows, and slow the suite it measures more the further it falls
/// behind.) A probe is readable when its score counts one purchase more;
/// it is timed from its batch's OK to the answer that shows it.
pub async fn poll(watch: Watch, done: Arc<std::sync::atomic::AtomicBool>) {
    let mut client = ScoringServiceClient::new(watch.chan.clone());
    loop {
        let ids: Vec<String> = match watch.in_flight.lock() {
            Ok(w) => w.iter().map(|f| f.probe.0.clone()).collect(),
            Err(_) => return,
        };
        if ids.is_empty() {
            if done.load(Ordering::Relaxed) {
                return;
            }
            tokio::time::sleep(PROBE_POLL).await;
            continue;
        }
        let started = tokio::time::Instant::now();
        let mut request = tonic::Request::new(BatchGetScoresRequest { customer_ids: ids });
        request
            .metadata_mut()
            .insert("authorization", watch.auth.clone());
        let counts: HashMap<String, u64> = match client.batch_get_scores(request).await {
            Ok(answer) => answer
                .into_inner()
                .scores
                .into_iter()
                .map(|s| (s.customer_id, s.purchase_count))
                .collect(),
            Err(_) => HashMap::new(),
        };
        let answered = tokio::time::Instant::now();
        let (mut readable, mut late) = (Vec::new(), 0u64);
        if let Ok(mut w) = watch.in_flight.lock() {
            w.retain(|f| {
                let current = counts.get(&f.probe.0).copied().unwrap_or(0);
                if current > f.probe.2 {
                    record(&watch.seen, answered - f.acked);
                    readable.push((f.probe.0.clone(), f.probe.1, current));
                    false
                } else if answered - f.acked > PROBE_GIVE_UP {
                    record(&watch.seen, PROBE_GIVE_UP);
                    late += 1;
                    false
                } else {
                    true
                }
            });
        }
        watch.late.fetch_add(late, Ordering::Relaxed);
        if let Ok(mut f) = watch.free.lock() {
            for probe in readable {
                f.insert(0, probe);
            }
        }
        tokio::time::sleep((answered - started).max(PROBE_POLL)).await;
    }
}

fn record(h: &Mutex<Histogram<u64>>, took: Duration) {
    if let Ok(mut h) = h.lock() {
        h.saturating_record((took.as_micros() as u64).max(1));
    }
}
