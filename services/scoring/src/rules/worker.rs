//! The rules worker, one per replica: drains the work rows ApplyChanges
//! wrote (leased with SKIP LOCKED, deleted once evaluated; a crash leaves them
//! to be claimed again after the lease) and runs each tenant's periodic pass
//! (one replica per tenant at a time, through `rules_schedule` leases).

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration as StdDuration,
};

use chrono::{Duration, Utc};
use rapport_kit::{ApiError, domain::to_micros, shutdown::Shutdown, tenants::Tenant};
use uuid::Uuid;

use super::{
    Rules,
    env::EventFacts,
    evaluate::{Compiled, Pass},
    work::WorkRow,
};
use crate::{engine::db_error, score};

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct RulesOptions {
    /// Pause between looks for work.
    pub poll: StdDuration,
    /// How long claimed work (or a tenant's pass) stays leased.
    pub lease: StdDuration,
    /// Time between a tenant's periodic passes.
    pub schedule_interval: StdDuration,
    /// Work rows claimed at once.
    pub batch: u32,
}

impl Default for RulesOptions {
    fn default() -> Self {
        RulesOptions {
            poll: StdDuration::from_millis(500),
            lease: StdDuration::from_secs(120),
            schedule_interval: StdDuration::from_secs(3_600),
            batch: 200,
        }
    }
}

/// The worker.
pub struct RulesWorker {
    pub(crate) rules: Rules,
    pub(crate) options: RulesOptions,
}

fn micros(d: StdDuration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 4)
}

impl RulesWorker {
    /// Runs until `shutdown` fires (after migrating, as the refresh does).
    pub async fn run(self, shutdown: Shutdown) {
        let db = &self.rules.db;
        while let Err(e) = db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await {
            tracing::debug!(error = %e, "rules worker waits for its database");
            tokio::select! {
                _ = tokio::time::sleep(self.options.poll.max(StdDuration::from_millis(500))) => {}
                _ = shutdown.wait() => return,
            }
        }
        loop {
            if let Err(e) = self.round(&shutdown).await {
                tracing::warn!(error = %e, "rules round failed; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.options.poll) => {}
                _ = shutdown.wait() => return,
            }
        }
    }

    /// One round: the queued work, then every due tenant's pass.
    pub async fn round(&self, shutdown: &Shutdown) -> Result<(), ApiError> {
        let drained = self.drain(shutdown).await;
        self.schedule_pass(shutdown).await?;
        drained
    }

    async fn tenant(&self, id: Uuid) -> Result<Arc<Tenant>, ApiError> {
        self.rules
            .auth
            .tenant_by_id(id)
            .await
            .map_err(|s| ApiError::Unavailable(format!("tenant lookup: {}", s.message())))
    }

    /// Claims and evaluates work until none is due.
    async fn drain(&self, shutdown: &Shutdown) -> Result<(), ApiError> {
        while !shutdown.is_triggered() {
            let now = to_micros(Utc::now());
            let rows = self
                .rules
                .work
                .claim(
                    now,
                    now + micros(self.options.lease),
                    i64::from(self.options.batch),
                )
                .await
                .map_err(db_error)?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut groups: BTreeMap<(Uuid, Uuid), Vec<WorkRow>> = BTreeMap::new();
            for r in rows {
                groups.entry((r.tenant, r.customer)).or_default().push(r);
            }
            let mut compiled: HashMap<Uuid, Arc<Vec<Compiled>>> = HashMap::new();
            for ((tenant, customer), rows) in groups {
                let rules = match compiled.get(&tenant) {
                    Some(r) => r.clone(),
                    None => {
                        let r = Arc::new(self.rules.compiled(tenant).await?);
                        compiled.insert(tenant, r.clone());
                        r
                    }
                };
                // A failure leaves this customer's rows leased; they are
                // claimed again when the lease ends.
                match self.customer(tenant, customer, &rows, &rules).await {
                    Ok(()) => self.rules.work.done(&rows).await.map_err(db_error)?,
                    Err(e) => {
                        tracing::warn!(%tenant, error = %e, "rules evaluation failed; will retry")
                    }
                }
            }
        }
        Ok(())
    }

    async fn customer(
        &self,
        tenant: Uuid,
        customer: Uuid,
        rows: &[WorkRow],
        rules: &[Compiled],
    ) -> Result<(), ApiError> {
        if rules.is_empty() {
            return Ok(());
        }
        let tenant = self.tenant(tenant).await?;
        let score = match self.rules.reader.get(&tenant, customer).await {
            Ok(r) => r.score.unwrap_or_default(),
            Err(ApiError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let events: Vec<EventFacts> = rows
            .iter()
            .filter_map(|r| r.event.as_deref())
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect();
        let at = rows.iter().map(|r| r.created_at).max().unwrap_or_default();
        let pass = Pass::Change(format!("c:{at}"));
        self.rules
            .evaluate_customer(&tenant, &score, rules, events, &pass, Utc::now())
            .await
    }

    /// Runs every due tenant's periodic pass.
    async fn schedule_pass(&self, shutdown: &Shutdown) -> Result<(), ApiError> {
        while !shutdown.is_triggered() {
            let now = to_micros(Utc::now());
            let lease = now + micros(self.options.lease);
            let Some((tenant, due)) = self
                .rules
                .work
                .claim_tenant(now, lease)
                .await
                .map_err(db_error)?
            else {
                return Ok(());
            };
            let result = self.tenant_pass(tenant, due, shutdown).await;
            let next = match &result {
                Ok(()) => {
                    Utc::now()
                        + Duration::from_std(self.options.schedule_interval)
                            .unwrap_or(Duration::hours(1))
                }
                // Retried sooner, but not in a tight loop.
                Err(_) => {
                    Utc::now()
                        + Duration::from_std(self.options.poll * 10).unwrap_or(Duration::minutes(1))
                }
            };
            self.rules
                .work
                .reschedule(tenant, to_micros(next))
                .await
                .map_err(db_error)?;
            result?;
        }
        Ok(())
    }

    /// One tenant's pass over every customer; the pass id (its due time)
    /// fixes the episodes, so a retried pass fires nothing twice.
    async fn tenant_pass(&self, id: Uuid, due: i64, shutdown: &Shutdown) -> Result<(), ApiError> {
        let rules = self.rules.compiled(id).await?;
        if rules.is_empty() {
            return Ok(());
        }
        let tenant = self.tenant(id).await?;
        let pass = Pass::Schedule(format!("s:{due}"));
        let mut after = None;
        while !shutdown.is_triggered() {
            let page = self
                .rules
                .reader
                .repo
                .page(id, after, 500)
                .await
                .map_err(db_error)?;
            let Some(last) = page.last() else { break };
            after = Some(last.row.customer_id);
            let now = Utc::now();
            let mut scores: Vec<_> = page.iter().map(score::stored).collect();
            self.rules
                .reader
                .complete(&tenant, &mut scores, now)
                .await?;
            for s in &scores {
                self.rules
                    .evaluate_customer(&tenant, s, &rules, Vec::new(), &pass, now)
                    .await?;
            }
            if page.len() < 500 {
                break;
            }
        }
        Ok(())
    }
}
