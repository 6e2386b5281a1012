//! Each due tenant's periodic pass, on the rules worker of every replica.
//! A tenant's pass is leased through its `rules_schedule` row, so one
//! replica runs it at a time; a tenant estimated past
//! [`RulesOptions::range_customers`] has its pass split into ranges of
//! customer ids instead ([`super::ranges`]), each leased on its own, so every
//! replica takes a part. Every part of a pass evaluates with the pass's one
//! id (its due time), which fixes the episodes: a customer fires once per
//! pass whichever replica evaluates it, and a retried range or pass fires
//! nothing twice.

use std::time::Duration as StdDuration;

use chrono::Utc;
use rapport_kit::{
    domain::{later, to_micros},
    shutdown::Shutdown,
};
use uuid::Uuid;

use super::{
    Rules,
    evaluate::{Compiled, Pass},
    ranges::{self, ESTIMATE_READ, IdRange},
    repo::{Finished, PassRange},
    rounds::{RulesOptions, WHAT, now_and_lease},
};
use crate::{
    error::{Error, storage},
    scores::assemble,
};

/// Customers read and evaluated at once, between lease renewals.
const PAGE: u32 = 500;

impl Rules {
    /// Runs the due passes: the free ranges of split passes first, then each
    /// due tenant's pass, whole or split.
    pub(super) async fn schedule_pass(
        &self,
        options: &RulesOptions,
        shutdown: &Shutdown,
    ) -> Result<(), Error> {
        while !shutdown.is_triggered() {
            if self.range_pass(options, shutdown).await? {
                continue;
            }
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
                of: Leased::Pass,
                until,
                length: options.lease,
            };
            let result = self.tenant_pass(&mut lease, due, options, shutdown).await;
            let next = match &result {
                Ok(Held::Yes) => later(Utc::now(), options.schedule_interval),
                // Another replica runs the pass now; its schedule stands.
                Ok(Held::Lost) => continue,
                // Its ranges are taken above, here or on any replica; the
                // schedule row stays as it is until the last is done.
                Ok(Held::Split | Held::Stopped) => continue,
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

    /// A claimed tenant's pass `due`: run whole, or split into ranges when
    /// the tenant is estimated past `options.range_customers` (or was split
    /// already, by the replica that claimed it before this one's lease).
    async fn tenant_pass(
        &self,
        lease: &mut Lease,
        due: i64,
        options: &RulesOptions,
        shutdown: &Shutdown,
    ) -> Result<Held, Error> {
        let tenant = lease.tenant;
        let split = self.evaluation.is_split(tenant, due).await;
        if split.map_err(storage(WHAT))? {
            return Ok(Held::Split);
        }
        let rules = self.compiled(tenant).await?;
        if rules.is_empty() {
            return Ok(Held::Yes);
        }
        if self.split(tenant, due, options).await? {
            return Ok(Held::Split);
        }
        // A pass cut short by the shutdown counts as run, as it always has.
        match self
            .evaluate_ids(lease, due, &rules, IdRange::ALL, shutdown)
            .await?
        {
            Held::Lost => Ok(Held::Lost),
            _ => Ok(Held::Yes),
        }
    }

    /// Whether pass `due` of `tenant` runs in ranges: true when the tenant
    /// is estimated past `options.range_customers` from its first customers
    /// in id order, and the pass is split (now, or by another replica in the
    /// meantime).
    async fn split(&self, tenant: Uuid, due: i64, options: &RulesOptions) -> Result<bool, Error> {
        let first = self.scores.first_ids(tenant, ESTIMATE_READ).await?;
        let customers = ranges::estimate(&first, ESTIMATE_READ);
        let count = ranges::count(customers, options.range_customers);
        if count == 1 {
            return Ok(false);
        }
        let recorded = self
            .evaluation
            .split_pass(tenant, due, &ranges::split(count))
            .await
            .map_err(storage(WHAT))?;
        if recorded {
            tracing::info!(%tenant, due, customers, ranges = count, "rules schedule pass split");
        }
        Ok(true)
    }

    /// Claims one free range of a split pass, of any tenant, and evaluates
    /// it; false when none is free. A range that fails is left leased, to be
    /// claimed again when its lease ends.
    async fn range_pass(&self, options: &RulesOptions, shutdown: &Shutdown) -> Result<bool, Error> {
        let (now, until) = now_and_lease(options.lease);
        let claimed = self.evaluation.claim_range(now, until).await;
        let Some(range) = claimed.map_err(storage(WHAT))? else {
            return Ok(false);
        };
        let mut lease = Lease {
            tenant: range.tenant,
            of: Leased::Range(range.clone()),
            until,
            length: options.lease,
        };
        let (tenant, number) = (range.tenant, range.number);
        match self.range_customers(&mut lease, &range, shutdown).await {
            Ok(Held::Yes) => {
                let next = to_micros(later(Utc::now(), options.schedule_interval));
                let finished = self
                    .evaluation
                    .finish_range(&range, lease.until, next)
                    .await;
                match finished.map_err(storage(WHAT))? {
                    Finished::Pass => {
                        tracing::info!(%tenant, due = range.due, "rules schedule pass done in ranges")
                    }
                    Finished::Range => {}
                    Finished::Lost => {
                        tracing::warn!(%tenant, range = number, "rules schedule range taken over")
                    }
                }
            }
            Ok(Held::Lost) => {
                tracing::warn!(%tenant, range = number, "rules schedule range lease taken over; range stopped")
            }
            // Cut short by the shutdown: claimed again when its lease ends.
            Ok(Held::Split | Held::Stopped) => {}
            Err(e) => {
                tracing::warn!(%tenant, range = number, error = %e, "rules schedule range failed; will retry")
            }
        }
        Ok(true)
    }

    /// Evaluates the customers of one claimed range.
    async fn range_customers(
        &self,
        lease: &mut Lease,
        range: &PassRange,
        shutdown: &Shutdown,
    ) -> Result<Held, Error> {
        let rules = self.compiled(range.tenant).await?;
        if rules.is_empty() {
            return Ok(Held::Yes);
        }
        self.evaluate_ids(lease, range.due, &rules, range.ids, shutdown)
            .await
    }

    /// Pass `due` over the tenant's customers with ids in `ids`, a page at a
    /// time; the pass id (its due time) fixes the episodes, so a retried
    /// pass fires nothing twice. The lease is renewed after every page, so a
    /// pass over many customers keeps it for as long as it runs; a pass
    /// whose lease was taken over stops.
    async fn evaluate_ids(
        &self,
        lease: &mut Lease,
        due: i64,
        rules: &[Compiled],
        ids: IdRange,
        shutdown: &Shutdown,
    ) -> Result<Held, Error> {
        let id = lease.tenant;
        let tenant = self.lookup_tenant(id).await?;
        let pass = Pass::Schedule(format!("s:{due}"));
        let mut from = Some(ids.first);
        while let Some(start) = from {
            if shutdown.is_triggered() {
                return Ok(Held::Stopped);
            }
            let page = self.scores.page_between(id, start, ids.last, PAGE).await?;
            let Some(last) = page.last() else { break };
            from = ranges::next_id(last.row.customer_id).filter(|_| page.len() == PAGE as usize);
            let now = Utc::now();
            let mut scores: Vec<_> = page.iter().map(assemble::stored).collect();
            self.scores.complete(&tenant, &mut scores, now).await?;
            for s in &scores {
                self.evaluate_customer(&tenant, s, rules, Vec::new(), &pass, now)
                    .await?;
            }
            if from.is_none() {
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
        let renewed = match &lease.of {
            Leased::Pass => {
                let tenant = lease.tenant;
                self.evaluation
                    .renew_tenant(tenant, lease.until, until)
                    .await
            }
            Leased::Range(range) => self.evaluation.renew_range(range, lease.until, until).await,
        };
        let renewed = renewed.map_err(storage(WHAT))?;
        if renewed {
            lease.until = until;
        }
        Ok(renewed)
    }
}

/// The lease this replica holds on a tenant's schedule pass or one range of
/// it.
struct Lease {
    tenant: Uuid,
    /// What is leased.
    of: Leased,
    /// When it ends (stored microseconds), as last written.
    until: i64,
    length: StdDuration,
}

/// What a [`Lease`] holds.
enum Leased {
    /// The tenant's whole pass: its `rules_schedule` row.
    Pass,
    /// One range of a split pass.
    Range(PassRange),
}

/// How a pass (or range) ended.
enum Held {
    /// Evaluated, still holding its lease.
    Yes,
    /// Its lease was taken over; it stopped.
    Lost,
    /// Split into ranges, run range by range.
    Split,
    /// Cut short by the shutdown.
    Stopped,
}
