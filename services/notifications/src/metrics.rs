//! The notifications service's metrics: what each delivery came to, per
//! channel, the messages dead-lettered per channel, and the queue's depth
//! and age, sampled from the database in the background.

use std::sync::{Arc, LazyLock};

use rapport_kit::{
    metrics::{Counter, Gauge, KeyValue, meter},
    server::Sampler,
};

use crate::{model::Next, repo::Repository};

static QUEUED: LazyLock<Gauge<u64>> = LazyLock::new(|| {
    meter()
        .u64_gauge("rapport_notifications_queue_depth")
        .with_description("Notifications waiting to be sent, now or at a later retry or schedule, as last sampled.")
        .build()
});

static OVERDUE: LazyLock<Gauge<f64>> = LazyLock::new(|| {
    meter()
        .f64_gauge("rapport_notifications_queue_oldest_age_seconds")
        .with_description("How long the longest-due notification not yet sent has been due (0 when none is), as last sampled.")
        .with_unit("s")
        .build()
});

/// Samples the delivery queue of `repo`.
pub(crate) fn queue_sampler(repo: Repository) -> Sampler {
    Arc::new(move || {
        let repo = repo.clone();
        Box::pin(async move {
            let now = chrono::Utc::now();
            match repo.backlog(now).await {
                Ok((rows, oldest)) => {
                    let age =
                        oldest.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1e3);
                    // Age first: a scrape that sees this depth sees this
                    // age or a later one.
                    OVERDUE.record(age, &[]);
                    QUEUED.record(rows, &[]);
                }
                Err(e) => tracing::warn!(error = %e, "sampling the notification queue failed"),
            }
        })
    })
}

static OUTCOMES: LazyLock<Counter<u64>> = LazyLock::new(|| {
    meter()
        .u64_counter("rapport_notifications_outcomes")
        .with_description("Delivery attempts recorded, by channel and outcome: sent, failed (to be retried), dead_lettered (failed for good), suppressed (consent gone before sending).")
        .build()
});

static DEAD_LETTERED: LazyLock<Counter<u64>> = LazyLock::new(|| {
    meter()
        .u64_counter("rapport_notifications_dead_lettered")
        .with_description("Notifications given up on after their last failed attempt, by channel.")
        .build()
});

/// The channel as labelled: the three Rapport sends on, or "other".
fn channel_label(channel: &str) -> &'static str {
    match channel {
        "webhook" => "webhook",
        "sms" => "sms",
        "email" => "email",
        _ => "other",
    }
}

/// Counts one recorded attempt on `channel` that led to `next`.
pub(crate) fn outcome(channel: &str, next: &Next) {
    let channel = channel_label(channel);
    let outcome = match next {
        Next::Delivered { .. } => "sent",
        Next::Retry { .. } => "failed",
        Next::DeadLetter => "dead_lettered",
        Next::Suppressed { .. } => "suppressed",
        // Nothing was attempted.
        Next::Wait { .. } => return,
    };
    OUTCOMES.add(
        1,
        &[
            KeyValue::new("channel", channel),
            KeyValue::new("outcome", outcome),
        ],
    );
    if matches!(next, Next::DeadLetter) {
        DEAD_LETTERED.add(1, &[KeyValue::new("channel", channel)]);
    }
}
