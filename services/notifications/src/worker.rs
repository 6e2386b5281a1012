//! The delivery worker: claims due notifications, delivers them outside any
//! database transaction, and records each attempt. Any number of workers
//! (threads, processes, replicas) can share one database.

use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use rapport_kit::{Db, config::NotifyConfig, shutdown::Shutdown};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use crate::{
    delivery::{AttemptResult, Verdict, http, sms::Sms, smtp::Smtp, webhook::Webhooks},
    model::{Attempt, Claimed, Next},
    peers::{Peers, consent_refusal},
    repo::Repository,
};

/// Everything one attempt needs, shared by the delivery tasks.
#[derive(Debug, Clone)]
struct Senders {
    repo: Repository,
    peers: Peers,
    webhooks: Webhooks,
    sms: Option<Sms>,
    smtp: Option<Smtp>,
}

/// Longest pause between claims while the database keeps failing.
const MAX_ERROR_PAUSE: Duration = Duration::from_secs(5);

/// Why the delivery worker could not be set up (a CA file that holds no
/// certificate, a TLS setting the library refuses). Start-up fails with it, so
/// a misconfigured replica never looks healthy while delivering nothing.
#[derive(Debug, thiserror::Error)]
pub enum WorkerSetupError {
    /// The HTTP client for webhooks and SMS.
    #[error("webhook and SMS client: {0}")]
    Http(#[from] crate::delivery::http::HttpSetupError),
    /// The SMTP transport.
    #[error("smtp: {0}")]
    Smtp(#[from] crate::delivery::smtp::SmtpSetupError),
}

/// Delivers due notifications until `shutdown`, then finishes the deliveries
/// in flight (each bounded by the HTTP timeout) and returns. Safe to run in
/// any number of replicas: a claim is a lease, so each attempt runs once.
/// Consent is checked again through `peers` just before each attempt.
/// The senders are built before anything starts, so bad delivery settings
/// are an error here rather than a worker that silently never runs.
pub fn spawn_worker(
    db: Db,
    config: NotifyConfig,
    peers: Peers,
    shutdown: Shutdown,
) -> Result<JoinHandle<()>, WorkerSetupError> {
    let repo = Repository::new(db.clone());
    let timeout = Duration::from_millis(config.http_timeout_ms.max(1));
    let senders = Senders {
        repo,
        peers,
        webhooks: Webhooks::new(
            http::webhook_client(&config)?,
            timeout,
            !config.allow_private_destinations,
        ),
        sms: Sms::new(&config.sms, http::sms_client(&config)?, timeout),
        smtp: Smtp::new(&config.smtp)?,
    };
    Ok(tokio::spawn(run(db, config, senders, shutdown)))
}

async fn run(db: Db, config: NotifyConfig, senders: Senders, shutdown: Shutdown) {
    // The worker may start before the server's health check has applied the
    // schema; migrating is idempotent and serialised, so do it here too.
    while let Err(e) = db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await {
        tracing::warn!(error = %e, "notification store not ready; retrying");
        tokio::select! {
            _ = tokio::time::sleep(MAX_ERROR_PAUSE) => {}
            _ = shutdown.wait() => return,
        }
    }
    let repo = senders.repo.clone();
    // A claim outlives the slowest possible attempt (validated in config),
    // so it lapses only when its worker died (or stalled) and another
    // replica should take over, with the same idempotency key.
    let lease = chrono::Duration::milliseconds(i64::try_from(config.lease_ms).unwrap_or(i64::MAX));
    let concurrency = config.concurrency.max(1) as usize;
    let poll = Duration::from_millis(config.poll_interval_ms.max(1));
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut failures: u32 = 0;
    tracing::info!(concurrency, "notification worker started");

    while !shutdown.is_triggered() {
        while let Some(done) = in_flight.try_join_next() {
            reap(done);
        }
        let free = concurrency - in_flight.len();
        if free == 0 {
            tokio::select! {
                Some(done) = in_flight.join_next() => reap(done),
                _ = shutdown.wait() => {}
            }
            continue;
        }
        let now = Utc::now();
        let pause = match repo.claim(now, now + lease, free as u32).await {
            Ok(batch) => {
                if failures > 0 {
                    tracing::info!("notification queue reachable again");
                    failures = 0;
                }
                let drained = batch.len() < free;
                for job in batch {
                    let span = tracing::info_span!(
                        "delivery",
                        tenant = %job.tenant_id,
                        notification_id = %job.id,
                        attempt = job.attempt,
                    );
                    let work = attempt(senders.clone(), config.clone(), job);
                    in_flight.spawn(work.instrument(span));
                }
                if drained { Some(poll) } else { None }
            }
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    tracing::warn!(error = %e, "claiming notifications failed; retrying");
                }
                Some(poll.saturating_mul(failures.min(64)).min(MAX_ERROR_PAUSE))
            }
        };
        if let Some(pause) = pause {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.wait() => {}
            }
        }
    }
    let draining = in_flight.len();
    while let Some(done) = in_flight.join_next().await {
        reap(done);
    }
    tracing::info!(drained = draining, "notification worker stopped");
}

/// Reports a delivery task that panicked; its claim lapses and another
/// attempt follows.
fn reap(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        tracing::error!(error = %e, "delivery task failed");
    }
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
    if !job.customer_id.is_nil() {
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
                r.verdict = Verdict::Retry;
                return (r, None);
            }
        }
    }
    let result = match job.channel.as_str() {
        "webhook" => match senders.repo.webhook_secret(job.tenant_id).await {
            Ok(Some(secret)) => senders.webhooks.deliver(job, &secret).await,
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
async fn attempt(senders: Senders, config: NotifyConfig, job: Claimed) {
    let repo = senders.repo.clone();
    let (result, suppressed) = send(&senders, &job).await;
    let (next, error) = match suppressed {
        Some(reason) => (Next::Suppressed { reason }, Some(result.error.as_str())),
        None => decide(&config, job.attempt, &result),
    };
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
    }
    match repo.finish(&job, &record, &next, error).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("claim lapsed before the attempt was recorded; another worker owns it")
        }
        // The claim lapses and another attempt follows; the receiver can
        // drop the repeat by its idempotency key.
        Err(e) => tracing::warn!(error = %e, "recording the attempt failed; it will be retried"),
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
        Verdict::Retry if attempt < config.max_attempts => {
            let delay = backoff(config, attempt);
            let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            let delay_ms = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
            (Next::Retry { at, delay_ms }, Some(&result.error))
        }
        Verdict::Retry | Verdict::Refused => (Next::DeadLetter, Some(&result.error)),
    }
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
mod tests {
    use super::*;

    fn config() -> NotifyConfig {
        NotifyConfig {
            base_backoff_ms: 100,
            max_backoff_ms: 1_000,
            max_attempts: 3,
            ..NotifyConfig::default()
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = config();
        for (attempt, cap) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1_000),
            (60, 1_000),
        ] {
            for _ in 0..200 {
                assert!(
                    backoff(&c, attempt) <= Duration::from_millis(cap),
                    "attempt {attempt}"
                );
            }
        }
        // Full jitter still spreads over the whole range.
        let spread: std::collections::HashSet<_> = (0..200).map(|_| backoff(&c, 4)).collect();
        assert!(spread.len() > 10);
    }

    fn result(verdict: Verdict) -> AttemptResult {
        AttemptResult {
            verdict,
            started_at: Utc::now(),
            duration: Duration::from_millis(3),
            http_status: 503,
            error: "receiver answered 503 Service Unavailable".into(),
        }
    }

    #[test]
    fn retries_stop_at_max_attempts_and_refusals_at_once() {
        let c = config();
        let retry = result(Verdict::Retry);
        assert!(matches!(decide(&c, 1, &retry).0, Next::Retry { .. }));
        assert!(matches!(decide(&c, 2, &retry).0, Next::Retry { .. }));
        assert_eq!(decide(&c, 3, &retry).0, Next::DeadLetter);
        assert_eq!(decide(&c, 1, &result(Verdict::Refused)).0, Next::DeadLetter);
        let delivered = result(Verdict::Delivered("m-1".into()));
        let (next, error) = decide(&c, 3, &delivered);
        assert!(
            matches!(next, Next::Delivered { provider_message_id, .. } if provider_message_id == "m-1")
        );
        assert_eq!(error, None);
    }
}
