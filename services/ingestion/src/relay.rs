//! The outbox relay: delivers queued changes to scoring's `ApplyChanges`,
//! oldest first, grouped by tenant, and deletes what scoring acknowledged.
//! Delivery is at least once; scoring dedupes by change id, which makes it
//! exactly once in effect. Replicas share the work through leases taken with
//! `SKIP LOCKED`.
//!
//! The relay sleeps until a change is committed (woken in process, and by
//! Postgres `LISTEN` across replicas), polling only as a fallback. Each
//! round leases a batch and commits the lease before calling scoring, so no
//! database transaction waits on the network; the tenants of a batch are
//! delivered concurrently, and several rounds run at once.

use std::{collections::HashMap, time::Duration};

use futures::StreamExt;
use prost::Message;
use rapport_kit::{
    Db, config::RelayConfig, db::DbError, internal::InternalCredentials, shutdown::Shutdown,
};
use rapport_proto::v1::{
    ApplyChangesRequest, ChangeEvent, scoring_service_client::ScoringServiceClient,
};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::store::{self, OutboxRow};

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

/// Why a delivery round failed; the rows stay queued.
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
        let listener = listen(&self.db, shutdown.clone());
        let sweeper = tokio::spawn(sweep(self.db.clone(), shutdown.clone()));
        let workers: Vec<_> = (0..self.config.concurrency.max(1))
            .map(|_| tokio::spawn(self.clone().work(shutdown.clone())))
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
    /// for the next commit or the poll interval.
    async fn work(self, shutdown: Shutdown) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(1));
        let mut backoff = poll;
        while !shutdown.is_triggered() {
            let outcome = tokio::select! {
                outcome = self.deliver_batch() => outcome,
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
                _ = store::wake().notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.wait() => break,
            }
        }
    }

    /// One round: lease, deliver each tenant's changes, delete what was
    /// acknowledged and release the rest. Returns how many were delivered.
    async fn deliver_batch(&self) -> Result<usize, RelayError> {
        let rows = store::claim(&self.db, self.config.batch_size, LEASE).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let groups = group_by_tenant(rows);
        let outcomes: Vec<(Vec<i64>, Result<(), tonic::Code>)> = futures::stream::iter(groups)
            .map(|(tenant, ids, changes)| async move {
                let mut request =
                    self.internal
                        .request(tenant, None, ApplyChangesRequest { changes });
                request.set_timeout(CALL_TIMEOUT);
                let result = self.scoring.clone().apply_changes(request).await;
                (ids, result.map(|_| ()).map_err(|s| s.code()))
            })
            .buffer_unordered(TENANTS_IN_FLIGHT)
            .collect()
            .await;
        let (mut delivered, mut failed) = (Vec::new(), Vec::new());
        let mut failure = None;
        for (ids, result) in outcomes {
            match result {
                Ok(()) => delivered.extend(ids),
                // Other tenants are still delivered: one tenant's trouble
                // does not hold back everyone else's changes.
                Err(code) => {
                    failed.extend(ids);
                    failure = Some(RelayError::Scoring(code));
                }
            }
        }
        store::finish(&self.db, &delivered, &failed).await?;
        if !delivered.is_empty() {
            tracing::debug!(delivered = delivered.len(), "outbox changes delivered");
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(delivered.len()),
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
        match store::sweep(&db).await {
            Ok(true) => tracing::debug!("outbox vacuumed"),
            Ok(false) => {}
            // Autovacuum still comes by; only the lease scans pay meanwhile.
            Err(error) => tracing::warn!(%error, "outbox vacuum failed"),
        }
    }
}

/// On Postgres, forwards `NOTIFY`s of other replicas' commits to this
/// process's relays; reconnects after failures. `None` on SQLite, which has
/// one process.
fn listen(db: &Db, shutdown: Shutdown) -> Option<tokio::task::JoinHandle<()>> {
    let Db::Postgres(pool) = db else {
        return None;
    };
    let pool = pool.clone();
    Some(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_triggered() {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(error) => {
                    tracing::warn!(%error, "outbox listener cannot connect; relying on polling");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            if let Err(error) = listener.listen(store::NOTIFY_CHANNEL).await {
                tracing::warn!(%error, "outbox listener cannot LISTEN; relying on polling");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            backoff = Duration::from_millis(100);
            loop {
                match listener.recv().await {
                    Ok(_) => store::wake().notify_one(),
                    Err(error) => {
                        tracing::warn!(%error, "outbox listener lost its connection; reconnecting");
                        break;
                    }
                }
            }
        }
    }))
}

/// Rows grouped by tenant in order of first appearance, each group in queue
/// order, so a customer's changes arrive in the order they were accepted.
fn group_by_tenant(rows: Vec<OutboxRow>) -> Vec<(Uuid, Vec<i64>, Vec<ChangeEvent>)> {
    let mut groups: Vec<(Uuid, Vec<i64>, Vec<ChangeEvent>)> = Vec::new();
    let mut slot: HashMap<Uuid, usize> = HashMap::new();
    for row in rows {
        let change = match ChangeEvent::decode(row.change.as_slice()) {
            Ok(change) => change,
            Err(error) => {
                // Only this service writes the outbox, so this is a bug; the
                // row is kept for inspection rather than dropped.
                tracing::error!(outbox_id = row.id, %error, "undecodable outbox change left queued");
                continue;
            }
        };
        let i = *slot.entry(row.tenant_id).or_insert_with(|| {
            groups.push((row.tenant_id, Vec::new(), Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(row.id);
        groups[i].2.push(change);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, tenant: Uuid, change_id: &str) -> OutboxRow {
        let change = ChangeEvent {
            id: change_id.into(),
            ..Default::default()
        }
        .encode_to_vec();
        OutboxRow {
            id,
            tenant_id: tenant,
            change,
        }
    }

    #[test]
    fn groups_keep_queue_order_and_skip_garbage() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let garbage = OutboxRow {
            id: 9,
            tenant_id: a,
            change: vec![0xff, 0xff, 0xff],
        };
        let groups = group_by_tenant(vec![
            row(1, a, "x1"),
            row(2, b, "y1"),
            garbage,
            row(3, a, "x2"),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, a);
        assert_eq!(groups[0].1, [1, 3]);
        assert_eq!(
            groups[0]
                .2
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
            ["x1", "x2"]
        );
        assert_eq!(groups[1].1, [2]);
    }
}
