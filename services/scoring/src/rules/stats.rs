//! GetRuleStats: what a rule did over a window, and whether contact made a
//! difference (purchases after the firing, contacted against holdout).

use std::collections::BTreeMap;

use chrono::Utc;
use rapport_kit::domain::{earlier, from_micros, to_micros};
use rapport_proto::v1::GetRuleStatsResponse;
use uuid::Uuid;

use super::{
    Rules,
    repo::{FiringRow, FiringsQuery, RuleWindow},
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
    /// 365; a longer one starts at the first representable time).
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
        let repo = &self.evaluation;
        let RuleWindow {
            firings: rows,
            errors,
            last_error,
        } = repo
            .since(tenant, rule, since)
            .await
            .map_err(storage(WHAT))?;
        let mut out = GetRuleStatsResponse {
            firings: rows.len() as u64,
            evaluation_errors: errors.max(0) as u64,
            last_error: last_error.unwrap_or_default(),
            ..Default::default()
        };
        // Each customer counted once, from their first firing in the window.
        let mut first: BTreeMap<Uuid, (i64, bool, bool)> = BTreeMap::new();
        for (customer, at, holdout, results) in &rows {
            let results: Vec<String> = serde_json::from_str(results).unwrap_or_default();
            let sent = results
                .iter()
                .filter(|r| r.starts_with("notification "))
                .count();
            out.notifications_sent += sent as u64;
            out.notifications_suppressed += results
                .iter()
                .filter(|r| r.starts_with("suppressed:"))
                .count() as u64;
            let e = first.entry(customer.0).or_insert((*at, *holdout, false));
            e.2 |= sent > 0;
        }
        out.customers_matched = first.len() as u64;
        // Purchases after each compared customer's first firing, within the
        // window: the holdout, and those a notification reached.
        let today = day_number(now);
        let compared: Vec<(Uuid, bool, (i64, i64))> = first
            .iter()
            .filter(|(_, (_, holdout, reached))| *holdout || *reached)
            .map(|(customer, (at, holdout, _))| {
                let from = day_number(from_micros(*at));
                (
                    *customer,
                    *holdout,
                    (from, from.saturating_add(window).min(today)),
                )
            })
            .collect();
        let windows: Vec<(Uuid, i64, i64)> =
            compared.iter().map(|(c, _, (f, t))| (*c, *f, *t)).collect();
        let purchases = repo
            .purchases_in_windows(tenant, &windows)
            .await
            .map_err(storage(WHAT))?;
        let (mut contacted, mut held) = ((0u64, 0i64), (0u64, 0i64));
        for ((_, holdout, _), n) in compared.iter().zip(purchases) {
            let group = if *holdout { &mut held } else { &mut contacted };
            *group = (group.0 + 1, group.1.saturating_add(n));
        }
        out.customers_contacted = contacted.0;
        out.holdout_customers = held.0;
        let per = |(n, p): (u64, i64)| if n == 0 { 0.0 } else { p as f64 / n as f64 };
        out.purchases_per_contacted_customer = per(contacted);
        out.purchases_per_holdout_customer = per(held);
        Ok(out)
    }
}
