//! One round of rule evaluation, as the rules worker runs it on every
//! replica: the work rows ApplyChanges wrote (leased with SKIP LOCKED,
//! deleted once evaluated; a crash leaves them to be claimed again after the
//! lease), then each due tenant's periodic pass (one replica per tenant at a
//! time, through `rules_schedule` leases).

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
    scores::assemble,
};

/// What a failure here was reading or writing.
const WHAT: &str = "rule work";

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

/// Now, and the end of a lease of `lease` from now, in stored microseconds.
/// The end saturates at the last representable time rather than past what
/// the stores read back as a time.
fn now_and_lease(lease: StdDuration) -> (i64, i64) {
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
    async fn lookup_tenant(&self, id: Uuid) -> Result<Arc<Tenant>, Error> {
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

    /// Runs every due tenant's periodic pass.
    async fn schedule_pass(
        &self,
        options: &RulesOptions,
        shutdown: &Shutdown,
    ) -> Result<(), Error> {
        while !shutdown.is_triggered() {
            let (now, until) = now_and_lease(options.lease);
            let Some((tenant, due)) = self
                .evaluation
                .claim_tenant(now, until)
                .await
                .map_err(storage(WHAT))?
            else {
                return Ok(());
            };
            let mut lease = Lease {
                tenant,
                until,
                length: options.lease,
            };
            let result = self.tenant_pass(&mut lease, due, shutdown).await;
            let next = match &result {
                Ok(Held::Yes) => later(Utc::now(), options.schedule_interval),
                // Another replica runs the pass now; its schedule stands.
                Ok(Held::Lost) => continue,
                // Retried sooner, but not in a tight loop.
                Err(_) => later(Utc::now(), options.poll.saturating_mul(10)),
            };
            self.evaluation
                .reschedule(tenant, lease.until, to_micros(next))
                .await
                .map_err(storage(WHAT))?;
            result?;
        }
        Ok(())
    }

    /// One tenant's pass over every customer; the pass id (its due time)
    /// fixes the episodes, so a retried pass fires nothing twice. The lease
    /// is renewed after every page, so a pass over a large tenant keeps it
    /// for as long as it runs; a pass whose lease was taken over stops.
    async fn tenant_pass(
        &self,
        lease: &mut Lease,
        due: i64,
        shutdown: &Shutdown,
    ) -> Result<Held, Error> {
        let id = lease.tenant;
        let rules = self.compiled(id).await?;
        if rules.is_empty() {
            return Ok(Held::Yes);
        }
        let tenant = self.lookup_tenant(id).await?;
        let pass = Pass::Schedule(format!("s:{due}"));
        let mut after = None;
        while !shutdown.is_triggered() {
            let page = self.scores.page(id, after, 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.row.customer_id);
            let now = Utc::now();
            let mut scores: Vec<_> = page.iter().map(assemble::stored).collect();
            self.scores.complete(&tenant, &mut scores, now).await?;
            for s in &scores {
                self.evaluate_customer(&tenant, s, &rules, Vec::new(), &pass, now)
                    .await?;
            }
            if page.len() < 500 {
                break;
            }
            if !self.renew(lease).await? {
                tracing::warn!(tenant = %id, "rules schedule lease taken over; pass stopped");
                return Ok(Held::Lost);
            }
        }
        Ok(Held::Yes)
    }

    /// Extends `lease` by its length from now; false when it is no longer
    /// this replica's.
    async fn renew(&self, lease: &mut Lease) -> Result<bool, Error> {
        let (_, until) = now_and_lease(lease.length);
        let renewed = self
            .evaluation
            .renew_tenant(lease.tenant, lease.until, until)
            .await
            .map_err(storage(WHAT))?;
        if renewed {
            lease.until = until;
        }
        Ok(renewed)
    }
}

/// The lease this replica holds on a tenant's schedule pass.
struct Lease {
    tenant: Uuid,
    /// When it ends (stored microseconds), as last written.
    until: i64,
    length: StdDuration,
}

/// Whether a pass ended still holding its lease.
enum Held {
    Yes,
    Lost,
}
