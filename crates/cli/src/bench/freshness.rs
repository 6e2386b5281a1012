//! Freshness: how soon a transaction's effect can be read while ingest runs
//! at a sustained rate, and how far the relay lags behind meanwhile.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::task::JoinSet;

use super::{
    calls::channels,
    feed,
    generate::{PopulationSpec, TxnGen},
    load::Latency,
    outbox::{LagSampler, wait_drained},
    probe::{self, Watch},
    report::{Report, Target as Goal},
    run::Run,
};

/// Batches per second the freshness load is sent in.
const BATCHES_PER_SECOND: f64 = 100.0;

/// Ingest at a fixed rate (open loop, in small batches as a point of sale
/// would send them) and, in each batch, one purchase of a probe customer
/// nobody else buys for; the time from the batch's OK to the first read that
/// shows the probe's purchase is the freshness. The probes in flight are read
/// together, one BatchGetScores at a time, so the reads' load on the suite
/// stays bounded however far it falls behind.
pub async fn freshness(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let (target, ids, s) = (&*run.target, &run.ids, run.settings);
    let spec = &s.population;
    let clients = target.clients()?;
    let ingestion_db = target.db(rapport_ingestion::SCHEMA)?;
    // Probes are the last customers of the population (the generator's
    // regulars are the first fifth, so these see little other traffic),
    // and no other row of this scenario names them.
    let probes = (ids.len() / 10).clamp(1, 500) as u64;
    let probe_numbers: Vec<u64> = (spec.customers.saturating_sub(probes)..spec.customers).collect();
    let free = probe::probes(&clients, &probe_numbers).await?;
    let rate = s.freshness_rate;
    let per_batch = (rate / BATCHES_PER_SECOND).round().max(1.0) as usize;
    let total_batches = (s.freshness_duration.as_secs_f64() * BATCHES_PER_SECOND).round() as u64;
    let fillers = spec.customers.saturating_sub(probes).max(1);
    let filler_spec = PopulationSpec {
        customers: fillers,
        ..*spec
    };
    let mut generator = TxnGen::new(&filler_spec, "fresh", 2_000);
    let mut probe_gen = TxnGen::new(spec, "probe", 3_000);

    let chan = channels(&target.scoring_url(), 1)?[0].clone();
    let auth = format!("Bearer {}", target.api_key).try_into()?;
    let watch = Watch::new(chan, auth, free);
    let polled = Arc::new(AtomicBool::new(false));
    let poller = tokio::spawn(probe::poll(watch.clone(), polled.clone()));
    let heard = feed::start(&clients).await?;
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
        let probe = watch.free.lock().ok().and_then(|mut f| f.pop());
        if let Some((_, number, _)) = &probe {
            transactions.push(probe_gen.live_for(*number));
        } else {
            skipped_probes += 1;
        }
        let ingestion = clients.ingestion.clone();
        tasks.spawn(probe::send_batch(
            ingestion,
            transactions,
            due,
            probe,
            watch.clone(),
        ));
        while tasks.try_join_next().is_some() {}
    }
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        if !matches!(done, Ok(true)) {
            failed += 1;
        }
    }
    let sent_for = start.elapsed();
    polled.store(true, Ordering::Relaxed);
    poller.await?;
    lag.sample(&ingestion_db).await;
    wait_drained(&ingestion_db, Duration::from_secs(3_600)).await?;
    ingestion_db.close().await;
    // The feed's poll (200 ms by default) and the read horizon come after
    // the last write.
    let heard = match heard {
        Some(h) => Some(h.finish(Duration::from_secs(2)).await?),
        None => None,
    };
    let seen = watch
        .seen
        .lock()
        .map(|h| Latency::of(&h))
        .unwrap_or_default();
    let ack = watch
        .ack
        .lock()
        .map(|h| Latency::of(&h))
        .unwrap_or_default();
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
    if let Some(heard) = &heard {
        report.ratio(
            "Feed: score written to watcher p99",
            format!("{condition}, {:.0} events/s", heard.per_second),
            heard.lag.p99_us as f64 / 1000.0,
            "Freshness: accepted to readable p99",
            seen.p99_us as f64 / 1000.0,
            "ms",
            Goal::None,
        );
        report.value(
            "Feed: score written to watcher p50",
            format!("{} events", heard.events),
            heard.lag.p50_us as f64 / 1000.0,
            "ms",
            Goal::None,
        );
    }
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
            "probes_given_up": watch.late.load(Ordering::Relaxed),
            "batches_without_probe": skipped_probes,
            "relay_max_queued": lag.max_depth,
            "relay_max_age_ms": lag.max_age_ms,
            "feed": heard,
        }),
    );
    Ok(())
}
