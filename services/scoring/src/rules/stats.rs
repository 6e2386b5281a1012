//! GetRuleStats: what a rule did over a window, and whether contact made a
//! difference (purchases after the firing, contacted against holdout).
//!
//! A rule can fire for a whole large tenant, so a request never reads all
//! its firings: at most `scoring.dry_run_limit` of the customers it fired
//! for are read, the first in id order, a uniform sample (ids are hashes),
//! and the counts are scaled to the whole as DryRunRule's are
//! ([`super::sample`]).

use chrono::Utc;
use rapport_kit::domain::{earlier, from_micros, to_micros};
use rapport_proto::v1::GetRuleStatsResponse;
use uuid::Uuid;

use super::{
    Rules,
    repo::{CustomerFirings, FiringRow, FiringsQuery, RuleWindow},
    sample::Scale,
};
use crate::{
    calendar::day_number,
    error::{Error, storage},
};

/// What a failure here was reading.
const WHAT: &str = "rule firing";

impl Rules {
    /// The firings `query` asks for, newest first.
    pub async fn firings(
        &self,
        tenant: Uuid,
        query: &FiringsQuery,
    ) -> Result<Vec<FiringRow>, Error> {
        self.evaluation
            .firings(tenant, query)
            .await
            .map_err(storage(WHAT))
    }

    /// GetRuleStats over the last `window` days (the request allows 1 to
    /// 365; a longer one starts at the first representable time), over at
    /// most `dry_run_limit` of the customers the rule fired for.
    pub async fn stats(
        &self,
        tenant: Uuid,
        rule: &str,
        window: i64,
    ) -> Result<GetRuleStatsResponse, Error> {
        self.repo.must_get(tenant, rule).await?;
        let now = Utc::now();
        let days = std::time::Duration::from_secs(window.unsigned_abs().saturating_mul(86_400));
        let since = to_micros(earlier(now, days));
        let repo = &self.stats_repo;
        let RuleWindow {
            customers,
            more,
            errors,
            last_error,
        } = repo
            .since(tenant, rule, since, self.dry_run_limit)
            .await
            .map_err(storage(WHAT))?;
        let read = customers.len() as u64;
        // Past the limit the customers read are a uniform sample of those
        // who fired: every count over them scales by the share of the id
        // space they cover.
        let scale = match customers.last() {
            Some(last) if more => Scale::sampled(read, last.customer),
            _ => Scale::WHOLE,
        };
        let sum = |f: fn(&CustomerFirings) -> u64| scale.estimate(customers.iter().map(f).sum());
        let mut out = GetRuleStatsResponse {
            firings: sum(|c| c.firings),
            customers_matched: scale.estimate(read),
            notifications_sent: sum(|c| c.sent),
            notifications_suppressed: sum(|c| c.suppressed),
            evaluation_errors: errors.max(0) as u64,
            last_error: last_error.unwrap_or_default(),
            sampled: more,
            customers_read: read,
            ..Default::default()
        };
        // Purchases after each compared customer's first firing, within the
        // window: the holdout, and those a notification reached.
        let today = day_number(now);
        let compared: Vec<&CustomerFirings> = customers
            .iter()
            .filter(|c| c.holdout || c.sent > 0)
            .collect();
        let windows: Vec<(Uuid, i64, i64)> = compared
            .iter()
            .map(|c| {
                let from = day_number(from_micros(c.first_at));
                (c.customer, from, from.saturating_add(window).min(today))
            })
            .collect();
        let purchases = repo
            .purchases_in_windows(tenant, &windows)
            .await
            .map_err(storage(WHAT))?;
        let (mut contacted, mut held) = ((0u64, 0i64), (0u64, 0i64));
        for (c, n) in compared.iter().zip(purchases) {
            let group = if c.holdout { &mut held } else { &mut contacted };
            *group = (group.0 + 1, group.1.saturating_add(n));
        }
        out.customers_contacted = scale.estimate(contacted.0);
        out.holdout_customers = scale.estimate(held.0);
        let per = |(n, p): (u64, i64)| if n == 0 { 0.0 } else { p as f64 / n as f64 };
        out.purchases_per_contacted_customer = per(contacted);
        out.purchases_per_holdout_customer = per(held);
        Ok(out)
    }
}
