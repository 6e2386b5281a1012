//! The outbox relay: delivers queued changes to scoring's `ApplyChanges`,
//! oldest first, grouped by tenant, and deletes what scoring acknowledged.
//! Delivery is at least once; scoring dedupes by change id, which makes it
//! exactly once in effect. Replicas share the work through `SKIP LOCKED`.

use std::{collections::HashMap, time::Duration};

use prost::Message;
use rapport_kit::{
    Db, config::RelayConfig, db::DbError, internal::InternalCredentials, shutdown::Shutdown,
};
use rapport_proto::v1::{
    ApplyChangesRequest, ChangeEvent, scoring_service_client::ScoringServiceClient,
};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::store::{Claim, OutboxRow};

/// Longest pause between attempts while scoring (or the database) is down.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Bound on one `ApplyChanges` call, so a hung peer cannot hold the claimed
/// rows (and their database transaction) indefinitely.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

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
pub(crate) struct Relay {
    pub db: Db,
    pub scoring: ScoringServiceClient<Channel>,
    pub internal: InternalCredentials,
    pub config: RelayConfig,
}

impl Relay {
    /// Delivers until `shutdown` fires. A round interrupted by shutdown is
    /// dropped, which rolls its claim back: nothing is lost, at worst a change
    /// is delivered again later.
    pub(crate) async fn run(self, shutdown: Shutdown) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(1));
        let mut backoff = poll;
        let mut migrated = false;
        while !shutdown.is_triggered() {
            let round = async {
                if !migrated {
                    // The relay may start before the health check has
                    // migrated the schema; migrating is idempotent.
                    self.db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await?;
                    migrated = true;
                }
                self.deliver_batch().await
            };
            let outcome = tokio::select! {
                outcome = round => outcome,
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
                    pause
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.wait() => break,
            }
        }
        tracing::info!("outbox relay stopped");
    }

    /// One round: claim, deliver per tenant, delete what was acknowledged.
    /// Returns how many changes were delivered.
    async fn deliver_batch(&self) -> Result<usize, RelayError> {
        let (claim, rows) = Claim::take(&self.db, self.config.batch_size).await?;
        if rows.is_empty() {
            claim.finish(&[]).await?;
            return Ok(0);
        }
        let mut delivered = Vec::with_capacity(rows.len());
        let mut failure = None;
        for (tenant, ids, changes) in group_by_tenant(rows) {
            let mut request = self
                .internal
                .request(tenant, None, ApplyChangesRequest { changes });
            request.set_timeout(CALL_TIMEOUT);
            match self.scoring.clone().apply_changes(request).await {
                Ok(_) => delivered.extend(ids),
                // Other tenants are still tried: one tenant's trouble should
                // not hold back everyone else's changes.
                Err(status) => failure = Some(RelayError::Scoring(status.code())),
            }
        }
        claim.finish(&delivered).await?;
        if !delivered.is_empty() {
            tracing::debug!(delivered = delivered.len(), "outbox changes delivered");
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(delivered.len()),
        }
    }
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
