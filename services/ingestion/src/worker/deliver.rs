//! One delivery round: lease a batch, hand each tenant's changes to
//! scoring, then delete what was acknowledged and release the rest.

use std::collections::HashMap;

use futures::StreamExt;
use prost::Message;
use rapport_proto::v1::{ApplyChangesRequest, ChangeEvent};
use uuid::Uuid;

use super::{CALL_TIMEOUT, LEASE, Relay, RelayError, TENANTS_IN_FLIGHT};
use crate::repo::{self, OutboxRow};

impl Relay {
    /// One round: lease, deliver each tenant's changes, delete what was
    /// acknowledged and release the rest. Returns how many were delivered.
    /// The lease commits before scoring is called, so no database
    /// transaction waits on the network; the batch's tenants are delivered
    /// concurrently.
    pub(super) async fn deliver_batch(&self) -> Result<usize, RelayError> {
        let rows = repo::claim(&self.db, self.config.batch_size, LEASE).await?;
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
        repo::finish(&self.db, &delivered, &failed).await?;
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
