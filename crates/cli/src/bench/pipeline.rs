//! The write side after ingest: scoring's own apply throughput, a full
//! rescoring (model fit and population refresh), and the memory the
//! processes hold once the load is over.

use std::time::Instant;

use anyhow::Context;
use rapport_kit::{config::Secret, internal::InternalCredentials};
use rapport_proto::v1::{
    ApplyChangesRequest, ChangeEvent, FitModelsRequest, TransactionChange, TransactionKind,
    change_event::Change, scoring_service_client::ScoringServiceClient,
};
use uuid::Uuid;

use super::{
    calls::channels,
    report::{Report, Target as Goal},
    run::Run,
    target::Target,
};

/// Scoring's ApplyChanges called directly, as the relay calls it (the
/// internal credential, batches of the relay's size), one call at a time.
pub async fn apply(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let (target, ids, s) = (&*run.target, &run.ids, run.settings);
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
                    // As ingestion mints them (UUIDv7), so they take the dedupe
                    // table's day partitions as production changes do.
                    id: format!("txn:{}", Uuid::now_v7()),
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
    // FitModels grows with the tenant: its own connection, which waits as
    // long as the server's long-request timeout allows (the CLI's clients
    // give up after 2 minutes).
    let chan = rapport_kit::internal::lazy_channel(
        &target.scoring_url(),
        std::time::Duration::from_secs(3_600),
    )?;
    let mut client = ScoringServiceClient::new(chan);
    let mut fit_request = tonic::Request::new(FitModelsRequest {
        observation_end: None,
    });
    fit_request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", target.api_key).parse()?,
    );
    // Scoring's process alone where it has one; the whole suite otherwise.
    let pids: Vec<(String, u32)> = target.pids();
    let scoring: Vec<(String, u32)> = pids
        .iter()
        .filter(|(name, _)| name == "scoring")
        .cloned()
        .collect();
    let watched = if scoring.is_empty() { pids } else { scoring };
    let before: Vec<u64> = watched
        .iter()
        .map(|(_, pid)| super::procs::rss_of(*pid).unwrap_or(0))
        .collect();
    let peaks = super::worst::Peaks::start(watched);
    let t0 = Instant::now();
    let fit = client
        .fit_models(fit_request)
        .await
        .context("FitModels")?
        .into_inner();
    let seconds = t0.elapsed().as_secs_f64();
    let peaks = peaks.finish().await;
    report.value(
        "Full rescoring (FitModels)",
        format!("{customers} customers / {transactions} transactions"),
        seconds,
        "s",
        Goal::ValueAtMost(60.0),
    );
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let mut memory = Vec::new();
    for ((name, peak), before) in peaks.into_iter().zip(before) {
        let grew = peak.saturating_sub(before);
        // What the refresh holds per customer, to carry the figure to
        // larger tenants.
        let per_customer = grew as f64 / customers.max(1) as f64;
        report.value(
            &format!("Peak RSS during rescoring: {name}"),
            format!(
                "{:.0} MiB before, grew {:.0} MiB: {per_customer:.0} bytes a customer",
                mib(before),
                mib(grew)
            ),
            mib(peak),
            "MiB",
            Goal::ValueAtMost(256.0),
        );
        memory.push(serde_json::json!({
            "process": name, "before_bytes": before, "peak_bytes": peak,
            "bytes_per_customer": per_customer,
        }));
    }
    report.add_json(
        "rescore",
        serde_json::json!({ "seconds": seconds, "created": fit.created, "memory": memory }),
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
