//! One round of rule evaluation, as the rules worker runs it on every
//! replica: the work rows ApplyChanges wrote (leased with SKIP LOCKED,
//! deleted once evaluated; a crash leaves them to be claimed again after the
//! lease), then the due periodic passes ([`super::schedule`]).

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::Duration as StdDuration,
};

use chrono::Utc;
use rapport_kit::{
    domain::{later, to_micros},
    shutdown::Shutdown,
    tenants::Tenant,
};
use uuid::Uuid;

use super::{
    Rules,
    evaluate::{Compiled, Pass},
    repo::WorkRow,
};
use crate::{
    aggregates::rule_work::EventFacts,
    error::{Error, storage},
};

/// What a failure here was reading or writing.
pub(super) const WHAT: &str = "rule work";

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
    /// Most customers, as estimated, a tenant's periodic pass runs whole on
    /// one replica: a larger tenant's pass is split into ranges of about
    /// this many customers (at most 1,024 ranges) that the workers of every
    /// replica take one at a time.
    pub range_customers: u64,
}

impl Default for RulesOptions {
    fn default() -> Self {
        RulesOptions {
            poll: StdDuration::from_millis(500),
            lease: StdDuration::from_secs(120),
            schedule_interval: StdDuration::from_secs(3_600),
            batch: 200,
            range_customers: 100_000,
        }
    }
}

/// Now, and the end of a lease of `lease` from now, in stored microseconds.
/// The end saturates at the last representable time rather than past what
/// the stores read back as a time.
pub(super) fn now_and_lease(lease: StdDuration) -> (i64, i64) {
    let now = Utc::now();
    (to_micros(now), to_micros(later(now, lease)))
}

impl Rules {
    /// One round: the queued work, then every due tenant's pass.
    pub async fn round(&self, options: &RulesOptions, shutdown: &Shutdown) -> Result<(), Error> {
        let drained = self.drain(options, shutdown).await;
        self.schedule_pass(options, shutdown).await?;
        drained
    }

    /// The tenant as the directory knows it (its currency, for values).
    pub(super) async fn lookup_tenant(&self, id: Uuid) -> Result<Arc<Tenant>, Error> {
        self.auth
            .tenant_by_id(id)
            .await
            .map_err(|s| Error::Unavailable(format!("tenant lookup: {}", s.message())))
    }

    /// Claims and evaluates work until none is due.
    async fn drain(&self, options: &RulesOptions, shutdown: &Shutdown) -> Result<(), Error> {
        while !shutdown.is_triggered() {
            let (now, until) = now_and_lease(options.lease);
            let rows = self
                .evaluation
                .claim(now, until, i64::from(options.batch))
                .await
                .map_err(storage(WHAT))?;
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
                        let r = Arc::new(self.compiled(tenant).await?);
                        compiled.insert(tenant, r.clone());
                        r
                    }
                };
                // A failure leaves this customer's rows leased; they are
                // claimed again when the lease ends.
                match self.evaluate_queued(tenant, customer, &rows, &rules).await {
                    Ok(()) => self.evaluation.done(&rows).await.map_err(storage(WHAT))?,
                    Err(e) => {
                        tracing::warn!(%tenant, error = %e, "rules evaluation failed; will retry")
                    }
                }
            }
        }
        Ok(())
    }

    /// One customer's queued work: the score as read now, evaluated with
    /// the change events that came with it (a customer without a score has
    /// nothing to evaluate).
    async fn evaluate_queued(
        &self,
        tenant: Uuid,
        customer: Uuid,
        rows: &[WorkRow],
        rules: &[Compiled],
    ) -> Result<(), Error> {
        if rules.is_empty() {
            return Ok(());
        }
        let tenant = self.lookup_tenant(tenant).await?;
        let score = match self.scores.get(&tenant, customer).await {
            Ok(r) => r.score.unwrap_or_default(),
            Err(Error::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let events: Vec<EventFacts> = rows
            .iter()
            .filter_map(|r| r.event.as_deref())
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect();
        let at = rows.iter().map(|r| r.created_at).max().unwrap_or_default();
        let pass = Pass::Change(format!("c:{at}"));
        self.evaluate_customer(&tenant, &score, rules, events, &pass, Utc::now())
            .await
    }
}
