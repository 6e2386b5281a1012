//! The write side after ingest: freshness (how soon a transaction's effect
//! can be read while ingest runs at a sustained rate), scoring's own apply
//! throughput, and a full rescoring (model fit and population refresh).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use rapport_kit::{config::Secret, internal::InternalCredentials};
use rapport_proto::v1::{
    ApplyChangesRequest, BatchGetScoresRequest, ChangeEvent, ExternalIdentity, FitModelsRequest,
    GetScoreRequest, IngestTransactionsRequest, LookupCustomerRequest, TransactionChange,
    TransactionKind, change_event::Change, scoring_service_client::ScoringServiceClient,
};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::{
    Settings,
    generate::TxnGen,
    load::{self, Latency},
    population::{PopulationSpec, SOURCE, external_id, outbox_age_ms, outbox_depth, wait_drained},
    reads::channels,
    report::{Report, Target as Goal},
    target::Target,
};

/// Batches per second the freshness load is sent in.
const BATCHES_PER_SECOND: f64 = 100.0;
/// How often a probe reads its customer's score.
const PROBE_POLL: Duration = Duration::from_millis(2);
/// A probe not reflected after this counts as this late.
const PROBE_GIVE_UP: Duration = Duration::from_secs(30);

/// Ingest at a fixed rate (open loop, in small batches as a point of sale
/// would send them) and, in each batch, one purchase of a probe customer
/// nobody else buys for; the time from the batch's OK to the first GetScore
/// that shows the probe's purchase is the freshness.
pub async fn freshness(
    target: &Target,
    spec: &PopulationSpec,
    ids: &Arc<Vec<String>>,
    s: &Settings,
    report: &mut Report,
) -> anyhow::Result<()> {
    let clients = target.clients()?;
    let ingestion_db = target.db(rapport_ingestion::SCHEMA)?;
    // Probes are the last customers of the population (the generator's
    // regulars are the first fifth, so these see little other traffic),
    // and no other row of this scenario names them.
    let probes = (ids.len() / 10).clamp(1, 500) as u64;
    let probe_numbers: Vec<u64> = (spec.customers.saturating_sub(probes)..spec.customers).collect();
    let mut probe_ids = Vec::with_capacity(probe_numbers.len());
    for n in &probe_numbers {
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
        probe_ids.push(found.customer.map(|c| c.id).unwrap_or_default());
    }
    let mut counts = HashMap::new();
    for chunk in probe_ids.chunks(500) {
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
    let free: Arc<Mutex<Vec<(String, u64, u64)>>> = Arc::new(Mutex::new(
        probe_ids
            .iter()
            .zip(&probe_numbers)
            .map(|(id, n)| (id.clone(), *n, counts.get(id).copied().unwrap_or(0)))
            .collect(),
    ));
    let rate = s.freshness_rate;
    let per_batch = (rate / BATCHES_PER_SECOND).round().max(1.0) as usize;
    let total_batches = (s.freshness_duration.as_secs_f64() * BATCHES_PER_SECOND).round() as u64;
    let fillers = spec.customers.saturating_sub(probes).max(1);
    let filler_spec = PopulationSpec {
        customers: fillers,
        ..*spec
    };
    let mut generator = TxnGen::new(&filler_spec, "fresh", 2_000);
    let probe_gen = Arc::new(Mutex::new(TxnGen::new(spec, "probe", 3_000)));

    let seen = Arc::new(Mutex::new(load::histogram()));
    let ack = Arc::new(Mutex::new(load::histogram()));
    let late = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let chans = channels(&target.scoring_url(), 2)?;
    let auth: tonic::metadata::MetadataValue<_> =
        format!("Bearer {}", target.api_key).try_into()?;
    let mut tasks = JoinSet::new();
    let mut lag = LagSampler::default();
    let start = tokio::time::Instant::now();
    let period = Duration::from_secs_f64(1.0 / BATCHES_PER_SECOND);
    let mut skipped_probes = 0u64;
    for b in 0..total_batches {
        let due = start + period.mul_f64(b as f64);
        tokio::time::sleep_until(due).await;
        if b % 25 == 0 {
            lag.sample(&ingestion_db).await;
        }
        let mut transactions = generator.live(per_batch.saturating_sub(1).max(1));
        let probe = free.lock().ok().and_then(|mut f| f.pop());
        if let Some((_, number, _)) = &probe {
            let t = probe_gen
                .lock()
                .map_err(|_| anyhow::anyhow!("probe generator poisoned"))?
                .live_for(*number);
            transactions.push(t);
        } else {
            skipped_probes += 1;
        }
        let mut ingestion = clients.ingestion.clone();
        let (chans, auth, free, seen, ack, late) = (
            chans.clone(),
            auth.clone(),
            free.clone(),
            seen.clone(),
            ack.clone(),
            late.clone(),
        );
        tasks.spawn(async move {
            let sent = transactions.len();
            let answer = ingestion
                .ingest_transactions(IngestTransactionsRequest { transactions })
                .await;
            let acked = tokio::time::Instant::now();
            record(&ack, acked - due);
            let ok = matches!(&answer, Ok(a) if a.get_ref().accepted as usize == sent);
            let Some((id, number, count)) = probe else {
                return ok;
            };
            if !ok {
                if let Ok(mut f) = free.lock() {
                    f.push((id, number, count));
                }
                return false;
            }
            let want = count + 1;
            let mut client =
                ScoringServiceClient::new(chans[number as usize % chans.len()].clone());
            loop {
                let mut request = tonic::Request::new(GetScoreRequest {
                    customer_id: id.clone(),
                });
                request.metadata_mut().insert("authorization", auth.clone());
                let current = client
                    .get_score(request)
                    .await
                    .ok()
                    .and_then(|r| r.into_inner().score)
                    .map_or(0, |s| s.purchase_count);
                if current >= want {
                    record(&seen, acked.elapsed());
                    if let Ok(mut f) = free.lock() {
                        f.insert(0, (id, number, current));
                    }
                    return true;
                }
                if acked.elapsed() > PROBE_GIVE_UP {
                    late.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    record(&seen, PROBE_GIVE_UP);
                    return true;
                }
                tokio::time::sleep(PROBE_POLL).await;
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        if !matches!(done, Ok(true)) {
            failed += 1;
        }
    }
    let sent_for = start.elapsed();
    lag.sample(&ingestion_db).await;
    wait_drained(&ingestion_db, Duration::from_secs(3_600)).await?;
    ingestion_db.close().await;
    let seen = seen.lock().map(|h| Latency::of(&h)).unwrap_or_default();
    let ack = ack.lock().map(|h| Latency::of(&h)).unwrap_or_default();
    let offered = (total_batches as usize * per_batch) as f64 / s.freshness_duration.as_secs_f64();
    let condition = format!(
        "{offered:.0} tx/s for {:.0} s",
        s.freshness_duration.as_secs_f64()
    );
    report.value(
        "Freshness: accepted to readable p99",
        condition.clone(),
        seen.p99_us as f64 / 1000.0,
        "ms",
        Goal::ValueAtMost(100.0),
    );
    report.value(
        "Freshness: accepted to readable p50",
        condition.clone(),
        seen.p50_us as f64 / 1000.0,
        "ms",
        Goal::None,
    );
    report.value(
        "Freshness: ingest call p99 (from due)",
        condition.clone(),
        ack.p99_us as f64 / 1000.0,
        "ms",
        Goal::None,
    );
    // A store that cannot take the offered rate refuses or times out
    // batches: that is a result, not a broken run.
    report.value(
        "Freshness: batches not accepted",
        condition.clone(),
        failed as f64,
        "batches",
        Goal::ValueAtMost(0.0),
    );
    report.value(
        "Relay lag: oldest queued change, max",
        condition,
        lag.max_age_ms,
        "ms",
        Goal::None,
    );
    report.add_json(
        "freshness",
        serde_json::json!({
            "offered_tx_per_s": offered,
            "seconds": sent_for.as_secs_f64(),
            "readable_after_ack": seen,
            "ingest_call_from_due": ack,
            "probes_given_up": late.load(std::sync::atomic::Ordering::Relaxed),
            "batches_without_probe": skipped_probes,
            "relay_max_queued": lag.max_depth,
            "relay_max_age_ms": lag.max_age_ms,
        }),
    );
    Ok(())
}

fn record(h: &Mutex<hdrhistogram::Histogram<u64>>, took: Duration) {
    if let Ok(mut h) = h.lock() {
        h.saturating_record((took.as_micros() as u64).max(1));
    }
}

/// The relay's lag as the outbox shows it.
#[derive(Default)]
struct LagSampler {
    max_depth: i64,
    max_age_ms: f64,
}

impl LagSampler {
    async fn sample(&mut self, db: &rapport_kit::Db) {
        if let Ok(d) = outbox_depth(db).await {
            self.max_depth = self.max_depth.max(d);
        }
        if let Ok(a) = outbox_age_ms(db).await {
            self.max_age_ms = self.max_age_ms.max(a);
        }
    }
}

/// Scoring's ApplyChanges called directly, as the relay calls it (the
/// internal credential, batches of the relay's size), one call at a time.
pub async fn apply(
    target: &Target,
    ids: &Arc<Vec<String>>,
    s: &Settings,
    report: &mut Report,
) -> anyhow::Result<()> {
    let internal = InternalCredentials::new(Secret::new(target.internal_token.clone()));
    let chans = channels(&target.scoring_url(), 1)?;
    let mut client =
        ScoringServiceClient::new(chans[0].clone()).max_encoding_message_size(64 << 20);
    let batch = 500;
    let calls = (s.apply_changes as usize).div_ceil(batch).max(1);
    let now = chrono::Utc::now();
    let mut requests = Vec::with_capacity(calls);
    for c in 0..calls {
        let changes = (0..batch)
            .map(|i| {
                let n = c * batch + i;
                // Spread over the population as the relay's batches are.
                let customer = &ids[(n * 7_919) % ids.len()];
                ChangeEvent {
                    id: format!("txn:{}", Uuid::new_v4()),
                    customer_id: customer.clone(),
                    change: Some(Change::Transaction(TransactionChange {
                        kind: TransactionKind::Purchase as i32,
                        occurred_at: Some(prost_types::Timestamp {
                            seconds: now.timestamp() - (n as i64 % 86_400),
                            nanos: 0,
                        }),
                        amount_minor: 1_000 + (n as i64 % 5_000),
                        currency_code: "EUR".to_owned(),
                        margin_minor: None,
                        cost_minor: None,
                        category: "tools".to_owned(),
                    })),
                }
            })
            .collect();
        requests.push(ApplyChangesRequest { changes });
    }
    let t0 = Instant::now();
    let mut applied = 0u64;
    for r in requests {
        let answer = client
            .apply_changes(internal.request(target.tenant_id, None, r))
            .await
            .context("ApplyChanges")?;
        applied += u64::from(answer.into_inner().applied);
    }
    let rate = applied as f64 / t0.elapsed().as_secs_f64();
    report.value(
        "Scoring apply throughput",
        format!("{applied} changes, batches of {batch}, concurrency 1"),
        rate,
        "chg/s",
        Goal::None,
    );
    Ok(())
}

/// A full rescoring: FitModels over the whole population (every purchase
/// model, the spend model, then the population's breakpoints and tiers).
pub async fn rescore(
    target: &Target,
    customers: usize,
    transactions: u64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut clients = target.clients()?;
    let t0 = Instant::now();
    let fit = clients
        .scoring
        .fit_models(FitModelsRequest {
            observation_end: None,
        })
        .await
        .context("FitModels")?
        .into_inner();
    let seconds = t0.elapsed().as_secs_f64();
    report.value(
        "Full rescoring (FitModels)",
        format!("{customers} customers / {transactions} transactions"),
        seconds,
        "s",
        Goal::ValueAtMost(60.0),
    );
    report.add_json(
        "rescore",
        serde_json::json!({ "seconds": seconds, "created": fit.created }),
    );
    Ok(())
}

/// Resident memory of every process once the load is over.
pub fn memory(target: &Target, report: &mut Report) {
    for (name, bytes) in target.rss() {
        report.value(
            &format!("RSS after load: {name}"),
            "steady state".to_owned(),
            bytes as f64 / (1024.0 * 1024.0),
            "MiB",
            Goal::ValueAtMost(64.0),
        );
    }
}
