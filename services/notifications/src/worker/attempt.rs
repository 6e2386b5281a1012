//! One delivery attempt: consent checked again, the message sent on its
//! channel, the outcome decided (delivered, retry with back-off, dead letter,
//! suppressed) and recorded.

use std::time::Duration;

use crate::config::NotifyConfig;
use chrono::Utc;
use rand::Rng;
use rapport_kit::domain::later;

use crate::{
    delivery::{AttemptResult, Verdict, sms::Sms, smtp::Smtp, webhook::Webhooks},
    model::{Attempt, Claimed, Next},
    peers::{Peers, consent_refusal},
    repo::Repository,
};

/// Everything one attempt needs, shared by the delivery tasks.
#[derive(Debug, Clone)]
pub(super) struct Senders {
    pub(super) repo: Repository,
    pub(super) peers: Peers,
    pub(super) webhooks: Webhooks,
    pub(super) sms: Option<Sms>,
    pub(super) smtp: Option<Smtp>,
}

/// Sends `job` on its channel, unless the customer's consent is gone.
async fn send(senders: &Senders, job: &Claimed) -> (AttemptResult, Option<&'static str>) {
    let started_at = Utc::now();
    let refused = |error: String| AttemptResult {
        verdict: Verdict::Refused,
        started_at,
        duration: Duration::ZERO,
        http_status: 0,
        error,
    };
    let integration = !job.integration_endpoint.is_empty();
    if !job.customer_id.is_nil() && !integration {
        // Consent may have been withdrawn since the message was accepted.
        match senders.peers.customer(job.tenant_id, job.customer_id).await {
            Ok(Some(customer)) => {
                let channel = crate::model::channel_from_name(&job.channel);
                if let Some(reason) = consent_refusal(&customer, channel) {
                    return (refused(format!("suppressed: {reason}")), Some(reason));
                }
            }
            Ok(None) => {
                return (
                    refused("suppressed: CUSTOMER_NOT_FOUND".to_owned()),
                    Some("CUSTOMER_NOT_FOUND"),
                );
            }
            Err(e) => {
                let mut r = refused(format!("consent could not be checked: {e}"));
                r.verdict = Verdict::Wait;
                return (r, None);
            }
        }
    }
    let result = match job.channel.as_str() {
        "webhook" if integration => match senders
            .repo
            .endpoint_secret(job.tenant_id, &job.integration_endpoint)
            .await
        {
            Ok(Some(secret)) => senders.webhooks.deliver(job, &[secret.as_str()]).await,
            Ok(None) => refused(format!(
                "integration endpoint {:?} is no longer registered",
                job.integration_endpoint
            )),
            Err(e) => {
                let mut r = refused(format!("signing secret unavailable: {e}"));
                r.verdict = Verdict::Retry;
                r
            }
        },
        "webhook" => match senders
            .repo
            .webhook_secrets(job.tenant_id, Utc::now())
            .await
        {
            Ok(Some(secrets)) => senders.webhooks.deliver(job, &secrets.all()).await,
            // Accepted webhooks always had a secret; an unsigned one is never sent.
            Ok(None) => refused("the tenant has no webhook signing secret".to_owned()),
            Err(e) => {
                let mut r = refused(format!("signing secret unavailable: {e}"));
                r.verdict = Verdict::Retry;
                r
            }
        },
        "sms" => match &senders.sms {
            Some(sms) => sms.deliver(job).await,
            None => refused("sms is not configured in this deployment".to_owned()),
        },
        "email" => match &senders.smtp {
            Some(smtp) => smtp.deliver(job).await,
            None => refused("email is not configured in this deployment".to_owned()),
        },
        other => refused(format!("unknown channel {other:?}")),
    };
    (result, None)
}

/// Delivers one claimed notification and records the attempt.
pub(super) async fn attempt(senders: Senders, config: NotifyConfig, job: Claimed) {
    let repo = senders.repo.clone();
    let (result, suppressed) = send(&senders, &job).await;
    let result = result.storable();
    let (next, error) = match suppressed {
        Some(reason) => (Next::Suppressed { reason }, Some(result.error.as_str())),
        None if result.verdict == Verdict::Wait => match wait_delay(&config, &job, Utc::now()) {
            Some(at) => (Next::Wait { at }, Some(result.error.as_str())),
            None => decide(&config, job.attempt, &result),
        },
        None => decide(&config, job.attempt, &result),
    };
    if let Next::Wait { at } = next {
        tracing::info!(error = %result.error, retry_at = %at, "delivery waits for a dependency");
        match repo.wait(&job, at, &result.error).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("claim lapsed before the wait was recorded"),
            Err(e) => tracing::warn!(error = %e, "recording the wait failed; it will be retried"),
        }
        return;
    }
    let record = Attempt {
        number: job.attempt,
        started_at: result.started_at,
        succeeded: matches!(result.verdict, Verdict::Delivered(_)),
        http_status: result.http_status,
        error: result.error.clone(),
        duration_ms: u32::try_from(result.duration.as_millis()).unwrap_or(u32::MAX),
        retry_delay_ms: match &next {
            Next::Retry { delay_ms, .. } => *delay_ms,
            _ => 0,
        },
    };
    let (status, ms) = (record.http_status, record.duration_ms);
    match &next {
        Next::Delivered { .. } => tracing::info!(
            http_status = status,
            duration_ms = ms,
            "notification delivered"
        ),
        Next::Retry { at, .. } => tracing::info!(
            http_status = status,
            duration_ms = ms,
            error = %result.error,
            retry_at = %at,
            "delivery failed; will retry"
        ),
        Next::DeadLetter => tracing::warn!(
            http_status = status,
            duration_ms = ms,
            error = %result.error,
            "delivery failed; dead-lettered"
        ),
        Next::Suppressed { reason } => {
            tracing::info!(reason, "notification suppressed before sending")
        }
        // Recorded above, without an attempt.
        Next::Wait { .. } => {}
    }
    let counted = match repo.finish(&job, &record, &next, error).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::warn!("claim lapsed before the attempt was recorded; another worker owns it");
            false
        }
        // The attempt still counts, or a result the store refuses would have
        // the message sent again every lease and never dead-lettered.
        Err(e) => {
            tracing::warn!(error = %e, "recording the attempt failed; counting it without its result");
            match repo.finish_unrecorded(&job, &next).await {
                Ok(true) => true,
                Ok(false) => {
                    tracing::warn!("claim lapsed before the attempt was counted");
                    false
                }
                // The claim lapses and another attempt follows; the receiver
                // can drop the repeat by its idempotency key.
                Err(e) => {
                    tracing::warn!(error = %e, "counting the attempt failed; it will be retried");
                    false
                }
            }
        }
    };
    // Only attempts that took effect: a lapsed claim is someone else's to count.
    if counted {
        crate::metrics::outcome(&job.channel, &next);
    }
}

/// What follows attempt number `attempt` with `result`, and the error to keep.
fn decide<'a>(
    config: &NotifyConfig,
    attempt: u32,
    result: &'a AttemptResult,
) -> (Next, Option<&'a str>) {
    match &result.verdict {
        Verdict::Delivered(id) => (
            Next::Delivered {
                at: Utc::now(),
                provider_message_id: id.clone(),
            },
            None,
        ),
        // Past the time it may wait, a dependency's outage counts as a failure.
        Verdict::Retry | Verdict::Wait if attempt < config.max_attempts => {
            let delay = backoff(config, attempt);
            let at = later(Utc::now(), delay);
            let delay_ms = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
            (Next::Retry { at, delay_ms }, Some(&result.error))
        }
        Verdict::Retry | Verdict::Wait | Verdict::Refused => {
            (Next::DeadLetter, Some(&result.error))
        }
    }
}

/// When a notification that could not be checked (a dependency did not
/// answer) is checked again, or `None` once it has waited
/// `dependency_wait_ms` since it was accepted. The delay grows with the time
/// already waited (a random share of half of it, between the base and the
/// longest back-off), so a long outage is probed less and less often and a
/// recovering dependency is not hit by every waiting notification at once.
pub fn wait_delay(
    config: &NotifyConfig,
    job: &Claimed,
    now: chrono::DateTime<Utc>,
) -> Option<chrono::DateTime<Utc>> {
    let waited = u64::try_from((now - job.created_at).num_milliseconds()).unwrap_or(0);
    if waited >= config.dependency_wait_ms {
        return None;
    }
    let cap = (waited / 2)
        .max(config.base_backoff_ms)
        .min(config.max_backoff_ms);
    let delay = rand::rng().random_range(0..=cap);
    Some(later(now, Duration::from_millis(delay)))
}

/// The delay after failed attempt number `attempt` (1 for the first): a
/// uniformly random duration up to `min(max, base × 2^(attempt-1))`, so
/// receivers recovering from an outage are not hit by every retry at once.
pub fn backoff(config: &NotifyConfig, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(40);
    let cap = config
        .base_backoff_ms
        .saturating_mul(1u64 << doublings)
        .min(config.max_backoff_ms);
    Duration::from_millis(rand::rng().random_range(0..=cap))
}

#[cfg(test)]
mod tests;
