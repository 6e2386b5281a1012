//! The outbox relay: the background loop that delivers queued changes to
//! scoring's `ApplyChanges` at least once (scoring dedupes by change id, which
//! makes it exactly once in effect), sharing the work across replicas.

use std::time::Duration;

use rapport_kit::{Db, db::DbError, internal::InternalCredentials, shutdown::Shutdown};
use rapport_proto::v1::scoring_service_client::ScoringServiceClient;
use tonic::transport::Channel;

use crate::{config::RelayConfig, repo};

mod backoff;
mod deliver;
mod listen;

use backoff::TenantBackoff;

/// Longest pause between attempts while scoring (or the database) is down.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Bound on one `ApplyChanges` call, so a hung peer cannot hold the leased
/// rows longer than the lease.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long leased rows stay with one relay: past every call's timeout, so
/// a live relay never loses its rows mid-call.
const LEASE: Duration = Duration::from_secs(30);
/// How often the relay checks whether the outbox needs a vacuum.
const SWEEP_EVERY: Duration = Duration::from_secs(2);
/// Tenants of one batch delivered at once.
const TENANTS_IN_FLIGHT: usize = 4;

/// Why a delivery round (or one tenant's part of it) failed; the rows stay
/// queued.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RelayError {
    #[error("preparing the schema: {0}")]
    Migrate(#[from] DbError),
    #[error("outbox: {0}")]
    Db(#[from] sqlx::Error),
    /// Only the code: scoring's message might quote the changes.
    #[error("scoring ApplyChanges answered {0:?}")]
    Scoring(tonic::Code),
}

/// What the relay needs to deliver.
#[derive(Clone)]
pub(crate) struct Relay {
    pub db: Db,
    /// Where other replicas' commits are heard; `None`: the poll only.
    pub listen_on: Option<sqlx::PgPool>,
    pub scoring: ScoringServiceClient<Channel>,
    pub internal: InternalCredentials,
    pub config: RelayConfig,
}

impl Relay {
    /// Delivers until `shutdown` fires, with `config.concurrency` rounds in
    /// flight. A round interrupted by shutdown leaves its leased rows to be
    /// taken again when the lease ends: nothing is lost, at worst a change
    /// is delivered twice.
    pub(crate) async fn run(self, shutdown: Shutdown) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(1));
        let mut backoff = poll;
        // The relay may start before the health check has migrated the
        // schema; migrating is idempotent.
        loop {
            let migrated = tokio::select! {
                r = self.db.migrate(crate::SCHEMA, &crate::MIGRATIONS) => r,
                _ = shutdown.wait() => return,
            };
            match migrated {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(%error, "outbox relay cannot prepare the schema; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.wait() => return,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        let listener = listen::listen(self.listen_on.clone(), shutdown.clone());
        let sweeper = tokio::spawn(sweep(self.db.clone(), shutdown.clone()));
        // The tenants whose deliveries are failing, shared by the loops.
        let backoff = TenantBackoff::default();
        let workers: Vec<_> = (0..self.config.concurrency.max(1))
            .map(|_| tokio::spawn(self.clone().work(backoff.clone(), shutdown.clone())))
            .collect();
        for w in workers {
            let _ = w.await;
        }
        if let Some(l) = listener {
            l.abort();
        }
        sweeper.abort();
        tracing::info!("outbox relay stopped");
    }

    /// One delivery loop: a round, then (when the outbox was empty) a wait
    /// for the next commit (woken in process, and by Postgres `LISTEN` across
    /// replicas) or, as a fallback, the poll interval. Several loops run at
    /// once.
    async fn work(self, tenants: TenantBackoff, shutdown: Shutdown) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(1));
        let mut backoff = poll;
        while !shutdown.is_triggered() {
            let outcome = tokio::select! {
                outcome = self.deliver_batch(&tenants) => outcome,
                _ = shutdown.wait() => break,
            };
            let pause = match outcome {
                Ok(delivered) if delivered > 0 => {
                    backoff = poll;
                    continue;
                }
                Ok(_) => {
                    backoff = poll;
                    poll
                }
                Err(error) => {
                    let pause = backoff;
                    tracing::warn!(%error, retry_in_ms = pause.as_millis() as u64, "outbox delivery failed; retrying");
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    // A failure waits out its back-off, not the next commit.
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.wait() => break,
                    }
                    continue;
                }
            };
            tokio::select! {
                _ = repo::wake().notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.wait() => break,
            }
        }
    }
}

/// Keeps the outbox's dead rows from slowing every lease: checks every
/// [`SWEEP_EVERY`] whether this process deleted enough to vacuum.
async fn sweep(db: Db, shutdown: Shutdown) {
    if !matches!(db, Db::Postgres(_)) {
        return;
    }
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait() => return,
        }
        match repo::sweep(&db).await {
            Ok(true) => tracing::debug!("outbox vacuumed"),
            Ok(false) => {}
            // Autovacuum still comes by; only the lease scans pay meanwhile.
            Err(error) => tracing::warn!(%error, "outbox vacuum failed"),
        }
    }
}
