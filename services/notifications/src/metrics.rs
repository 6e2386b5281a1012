//! The notifications service's metrics: what each delivery came to, per
//! channel, the messages dead-lettered per channel, and the queue's depth
//! and age, sampled from the database in the background.

use std::sync::LazyLock;

use rapport_kit::{
    metrics::{Backlog, Counter, KeyValue, backlog_sampler, meter},
    server::Sampler,
};

use crate::{model::Next, repo::Repository};

static QUEUE: LazyLock<Backlog> = LazyLock::new(|| {
    Backlog::new(
        "rapport_notifications_queue_depth",
        "Notifications waiting to be sent, now or at a later retry or schedule, as last sampled.",
        "rapport_notifications_queue_oldest_age_seconds",
        "How long the longest-due notification not yet sent has been due (0 when none is), as last sampled.",
    )
});

/// Samples the delivery queue of `repo`.
pub(crate) fn queue_sampler(repo: Repository) -> Sampler {
    backlog_sampler(&QUEUE, "the notification queue", move || {
        let repo = repo.clone();
        async move { repo.backlog(chrono::Utc::now()).await }
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
