//! One delivery round: lease a batch, hand each tenant's changes to scoring
//! in calls sized by bytes as well as rows, then delete what was
//! acknowledged and set the rest aside for the tenant's back-off.

use std::{collections::HashMap, time::Instant};

use futures::StreamExt;
use prost::Message;
use rapport_proto::{
    limits::{APPLY_CHANGES_BATCH_BYTES, APPLY_CHANGES_MAX_BYTES},
    v1::{ApplyChangesRequest, ChangeEvent},
};
use uuid::Uuid;

use super::{CALL_TIMEOUT, LEASE, Relay, RelayError, TENANTS_IN_FLIGHT, TenantBackoff};
use crate::repo::{self, OutboxRow};

/// Bytes a change takes in a request besides its own: the field's tag and
/// length prefix.
const FRAMING: usize = 8;

/// The largest change sent as it is: past this, even alone in a call it
/// would not decode at scoring (the rest is room for the call's framing).
const MAX_CHANGE_BYTES: usize = APPLY_CHANGES_MAX_BYTES - (64 << 10);

/// One tenant's rows of a batch, in queue order: their outbox ids and changes.
type Group = (Uuid, Vec<i64>, Vec<ChangeEvent>);

impl Relay {
    /// One round: lease, deliver each tenant's changes, delete what was
    /// acknowledged and set aside the rest. Returns how many were delivered.
    /// The lease commits before scoring is called, so no database
    /// transaction waits on the network; the batch's tenants are delivered
    /// concurrently, and a tenant whose delivery fails backs off on its own
    /// while the others go on (its rows are leased until its next try, so
    /// they do not fill the next rounds' batches).
    pub(super) async fn deliver_batch(&self, backoff: &TenantBackoff) -> Result<usize, RelayError> {
        let rows = repo::claim(&self.db, self.config.batch_size, LEASE).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let groups = group_by_tenant(rows);
        let outcomes: Vec<(Uuid, Vec<i64>, Vec<i64>)> = futures::stream::iter(groups)
            .map(|group| self.deliver_tenant(group, backoff))
            .buffer_unordered(TENANTS_IN_FLIGHT)
            .collect()
            .await;
        let mut delivered = Vec::new();
        for (tenant, done, failed) in outcomes {
            delivered.extend(done);
            if !failed.is_empty() {
                let wait = backoff.wait(tenant);
                repo::set_aside(&self.db, &failed, wait).await?;
            }
        }
        repo::finish(&self.db, &delivered).await?;
        if !delivered.is_empty() {
            tracing::debug!(delivered = delivered.len(), "outbox changes delivered");
        }
        Ok(delivered.len())
    }

    /// Delivers one tenant's group in calls of at most
    /// [`APPLY_CHANGES_BATCH_BYTES`], in order, stopping at the first that
    /// fails: the rows delivered and the rows left. A tenant still backing
    /// off is not called at all.
    async fn deliver_tenant(
        &self,
        (tenant, ids, changes): Group,
        backoff: &TenantBackoff,
    ) -> (Uuid, Vec<i64>, Vec<i64>) {
        if backoff.waiting(tenant, Instant::now()) {
            return (tenant, Vec::new(), ids);
        }
        let mut done = Vec::with_capacity(ids.len());
        let mut rows = ids.into_iter();
        for call in calls(changes) {
            let count = call.len();
            let mut request =
                self.internal
                    .request(tenant, None, ApplyChangesRequest { changes: call });
            request.set_timeout(CALL_TIMEOUT);
            match self.scoring.clone().apply_changes(request).await {
                Ok(answer) => {
                    let dead = answer.get_ref().dead_lettered;
                    if dead > 0 {
                        // Scoring keeps them (ListDeadLetters); they are delivered.
                        tracing::warn!(%tenant, dead_lettered = dead, "changes dead-lettered by scoring");
                    }
                    done.extend(rows.by_ref().take(count));
                }
                Err(status) => {
                    // Only the code: scoring's message might quote the changes.
                    let error = RelayError::Scoring(status.code());
                    let failures = backoff.failed(tenant, Instant::now());
                    tracing::warn!(%tenant, %error, failures, "outbox delivery failed; the tenant backs off");
                    return (tenant, done, rows.collect());
                }
            }
        }
        backoff.succeeded(tenant);
        (tenant, done, Vec::new())
    }
}

/// A group's changes cut into calls of at most [`APPLY_CHANGES_BATCH_BYTES`]
/// (a change larger than that goes alone), in order. A change too large for
/// scoring to decode even alone is sent as its id and customer only, which
/// scoring keeps as a dead letter: it can never be delivered whole, and
/// retrying it would only hold back the changes behind it.
fn calls(changes: Vec<ChangeEvent>) -> Vec<Vec<ChangeEvent>> {
    let mut calls: Vec<Vec<ChangeEvent>> = Vec::new();
    let mut bytes = 0;
    for mut change in changes {
        let size = change.encoded_len() + FRAMING;
        if size > MAX_CHANGE_BYTES {
            tracing::error!(change_id = %change.id, bytes = size, "change too large to deliver; sent without its content");
            change.change = None;
        }
        let size = change.encoded_len() + FRAMING;
        match calls.last_mut() {
            Some(call) if bytes + size <= APPLY_CHANGES_BATCH_BYTES => {
                call.push(change);
                bytes += size;
            }
            _ => {
                calls.push(vec![change]);
                bytes = size;
            }
        }
    }
    calls
}

/// Rows grouped by tenant in order of first appearance, each group in queue
/// order, so a customer's changes arrive in the order they were accepted.
fn group_by_tenant(rows: Vec<OutboxRow>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
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
mod tests;
