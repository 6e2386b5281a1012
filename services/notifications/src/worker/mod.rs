//! The delivery worker: claims due notifications, delivers them outside any
//! database transaction, and records each attempt. Any number of workers
//! (threads, processes, replicas) can share one database.

mod attempt;

use std::time::Duration;

use chrono::Utc;
use rapport_kit::{Db, domain::later, shutdown::Shutdown};

use crate::config::NotifyConfig;
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument;

use crate::{
    delivery::{http, sms::Sms, smtp::Smtp, webhook::Webhooks},
    peers::Peers,
    repo::{Keys, Repository},
};
use attempt::{Senders, attempt};

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
    /// The key webhook signing secrets are sealed with.
    #[error("{0}")]
    SecretKey(crate::seal::SealError),
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
    let keys = Keys::from_config(&config);
    if keys.unusable() {
        return Err(WorkerSetupError::SecretKey(crate::seal::SealError::BadKey));
    }
    let repo = Repository::new(db.clone(), keys);
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
    // Secrets written before sealing (or under an earlier key) are sealed
    // now rather than when their tenant next sends a webhook.
    match repo.seal_all(Utc::now()).await {
        Ok(0) => {}
        Ok(sealed) => tracing::info!(sealed, "webhook signing secrets sealed"),
        Err(e) => tracing::warn!(error = %e, "sealing webhook signing secrets failed"),
    }
    // A claim outlives the slowest possible attempt (validated in config),
    // so it lapses only when its worker died (or stalled) and another
    // replica should take over, with the same idempotency key.
    let lease = Duration::from_millis(config.lease_ms);
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
        let pause = match repo.claim(now, later(now, lease), free as u32).await {
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
