//! The scoring service's metrics: changes dead-lettered per tenant (tenants
//! number in the hundreds, so the series stay bounded), counted as they are
//! kept, and dead letters waiting, sampled from the database in the
//! background rather than queried per scrape; the rules queue's depth and
//! age, and how far score change subscriptions are behind, sampled
//! likewise; score cache lookups; model fit durations.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use rapport_kit::{
    metrics::{
        Backlog, Counter, Gauge, Histogram, KeyValue, backlog_sampler, meter, seconds_histogram,
    },
    server::Sampler,
};
use uuid::Uuid;

use crate::{feed::subscriptions::SubscriptionRepo, repo::ScoreRepo, rules::repo::EvaluationRepo};

static DEAD_LETTERED: LazyLock<Counter<u64>> = LazyLock::new(|| {
    meter()
        .u64_counter("rapport_scoring_dead_lettered")
        .with_description("Changes ApplyChanges could not apply and kept as dead letters, by tenant (a change failing again counts again).")
        .build()
});

static WAITING: LazyLock<Gauge<u64>> = LazyLock::new(|| {
    meter()
        .u64_gauge("rapport_scoring_dead_letters")
        .with_description("Dead letters waiting to be re-driven, by tenant, as last sampled (ListDeadLetters' total).")
        .build()
});

static CACHE_LOOKUPS: LazyLock<Counter<u64>> = LazyLock::new(|| {
    meter()
        .u64_counter("rapport_scoring_score_cache_lookups")
        .with_description("Scores looked up in the score cache, by result: hit (served from the cache), miss (read from the database), unavailable (cache down; read from the database).")
        .build()
});

static FIT_DURATION: LazyLock<Histogram<f64>> = LazyLock::new(|| {
    seconds_histogram(
        "rapport_scoring_fit_duration_seconds",
        "Time spent fitting a tenant's models over its data (fits skipped over unchanged data are not counted).",
    )
});

/// Counts score cache lookups: `hits` found, `misses` not.
pub(crate) fn cache_lookups(hits: u64, misses: u64) {
    if hits > 0 {
        CACHE_LOOKUPS.add(hits, &[KeyValue::new("result", "hit")]);
    }
    if misses > 0 {
        CACHE_LOOKUPS.add(misses, &[KeyValue::new("result", "miss")]);
    }
}

/// Counts `n` lookups the cache could not answer.
pub(crate) fn cache_unavailable(n: u64) {
    CACHE_LOOKUPS.add(n, &[KeyValue::new("result", "unavailable")]);
}

/// Records one model fit that took `elapsed`.
pub(crate) fn fitted(elapsed: Duration) {
    FIT_DURATION.record(elapsed.as_secs_f64(), &[]);
}

fn tenant_label(tenant: Uuid) -> [KeyValue; 1] {
    [KeyValue::new("tenant", tenant.to_string())]
}

/// Counts `n` changes of `tenant` just kept as dead letters.
pub(crate) fn dead_lettered(tenant: Uuid, n: usize) {
    DEAD_LETTERED.add(n as u64, &tenant_label(tenant));
}

/// Samples every tenant's waiting dead letters. A tenant whose letters are
/// all re-driven reads 0 from then on, not its last count.
pub(crate) fn dead_letter_sampler(repo: ScoreRepo) -> Sampler {
    LazyLock::force(&WAITING);
    // The tenants this sampler has seen with dead letters.
    let seen: Arc<Mutex<HashMap<Uuid, u64>>> = Arc::default();
    Arc::new(move || {
        let (repo, seen) = (repo.clone(), seen.clone());
        Box::pin(async move {
            match repo.count_dead_letters_by_tenant().await {
                Ok(counts) => record_waiting(&seen, counts),
                Err(e) => tracing::warn!(error = %e, "sampling dead letters failed"),
            }
        })
    })
}

fn record_waiting(seen: &Mutex<HashMap<Uuid, u64>>, counts: Vec<(Uuid, u64)>) {
    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    for n in seen.values_mut() {
        *n = 0;
    }
    seen.extend(counts);
    for (tenant, n) in seen.iter() {
        WAITING.record(*n, &tenant_label(*tenant));
    }
}

static RULES_QUEUE: LazyLock<Backlog> = LazyLock::new(|| {
    Backlog::new(
        "rapport_scoring_rules_queue_depth",
        "Score changes and events waiting for the rules worker, as last sampled.",
        "rapport_scoring_rules_queue_oldest_age_seconds",
        "How long the oldest row waiting for the rules worker has waited (0 when none waits), as last sampled.",
    )
});

/// Samples the rules queue.
pub(crate) fn rules_queue_sampler(repo: EvaluationRepo) -> Sampler {
    backlog_sampler(&RULES_QUEUE, "the rules queue", move || {
        let repo = repo.clone();
        async move {
            let (rows, oldest) = repo.backlog().await?;
            Ok::<_, sqlx::Error>((
                rows,
                oldest.and_then(chrono::DateTime::from_timestamp_micros),
            ))
        }
    })
}

static SUBSCRIPTIONS_BEHIND: LazyLock<Backlog> = LazyLock::new(|| {
    Backlog::new(
        "rapport_scoring_subscriptions_behind",
        "Score change subscriptions with an event not yet handed to the notifications service, as last sampled.",
        "rapport_scoring_subscription_oldest_undelivered_age_seconds",
        "How long ago the oldest score change not yet handed over by its subscription was written (0 when every subscription has caught up), as last sampled: it grows while a subscription fails.",
    )
});

/// Samples how far the score change subscriptions are behind.
pub(crate) fn subscriptions_sampler(repo: SubscriptionRepo) -> Sampler {
    backlog_sampler(
        &SUBSCRIPTIONS_BEHIND,
        "score change subscriptions",
        move || {
            let repo = repo.clone();
            async move { repo.backlog().await }
        },
    )
}
