//! ListFirings and GetRuleStats: what rules did, and whether contact made a
//! difference (purchases after the firing, contacted against holdout).

use std::collections::BTreeMap;

use chrono::Utc;
use rapport_kit::{
    ApiError, Db, FieldErrors, TenantContext,
    domain::{self, chrono_to_timestamp, from_micros, to_micros},
    paging,
};
use rapport_proto::v1::{
    Firing, GetRuleStatsRequest, GetRuleStatsResponse, ListFiringsRequest, ListFiringsResponse,
};
use uuid::Uuid;

use super::{Rules, crud::rule_id, definition::Trigger, store::on_pool, work::FiringRow};
use crate::{engine::db_error, periods::day_number};

fn firing_to_proto(f: &FiringRow) -> Firing {
    let inputs: BTreeMap<String, String> = serde_json::from_str(&f.inputs).unwrap_or_default();
    Firing {
        id: f.id.clone(),
        rule_id: f.rule.clone(),
        rule_version: f.version.clamp(0, u32::MAX as i64) as u32,
        customer_id: f.customer.clone(),
        trigger: Trigger::parse(&f.trigger).map_or(0, |t| t.to_proto() as i32),
        event_kind: f.event_kind.clone(),
        episode: f.episode.clone(),
        fired_at: Some(chrono_to_timestamp(from_micros(f.fired_at))),
        inputs: inputs.into_iter().collect(),
        holdout: f.holdout,
        action_results: serde_json::from_str(&f.results).unwrap_or_default(),
    }
}

/// Purchases of `customer` on the days after `from_day` up to `to_day`.
async fn purchases_between(
    db: &Db,
    tenant: Uuid,
    customer: &str,
    from_day: i64,
    to_day: i64,
) -> Result<i64, sqlx::Error> {
    let customer = Uuid::parse_str(customer).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let sql = "SELECT CAST(COALESCE(SUM(purchases), 0) AS BIGINT) FROM customer_days \
               WHERE tenant_id = $1 AND customer_id = $2 AND day > $3 AND day <= $4";
    // customer_days keys are uuids on Postgres and text on SQLite.
    match db {
        Db::Postgres(pool) => {
            sqlx::query_scalar(sql)
                .bind(tenant)
                .bind(customer)
                .bind(from_day as i32)
                .bind(to_day as i32)
                .fetch_one(pool)
                .await
        }
        Db::Sqlite(pool) => {
            sqlx::query_scalar(sql)
                .bind(tenant.to_string())
                .bind(customer.to_string())
                .bind(from_day)
                .bind(to_day)
                .fetch_one(pool)
                .await
        }
    }
}

impl Rules {
    /// ListFirings: newest first.
    pub async fn list_firings(
        &self,
        ctx: &TenantContext,
        req: &ListFiringsRequest,
    ) -> Result<ListFiringsResponse, ApiError> {
        let mut errors = FieldErrors::new();
        let rule = match req.rule_id.as_str() {
            "" => Some(String::new()),
            raw => errors.check(
                "rule_id",
                rule_id("rule_id", raw).map_err(|_| "is not a rule id".into()),
            ),
        };
        let customer = match req.customer_id.as_str() {
            "" => Some(String::new()),
            raw => errors.check(
                "customer_id",
                domain::parse_uuid(raw).map(|u| u.to_string()),
            ),
        };
        if req.rule_id.is_empty() && req.customer_id.is_empty() {
            errors.add("rule_id", "give a rule_id, a customer_id or both");
        }
        let size = errors.check("page_size", paging::page_size(req.page_size));
        let token = errors.check("page_token", paging::decode_token(&req.page_token));
        errors.into_result()?;
        let cursor = match token.flatten() {
            None => (i64::MAX, String::new()),
            Some(t) => t
                .split_once('/')
                .and_then(|(at, id)| Some((at.parse().ok()?, id.to_owned())))
                .ok_or_else(|| {
                    ApiError::invalid("page_token", "is not a page token this service issued")
                })?,
        };
        let size = size.unwrap_or_default();
        // The first page's time (i64::MAX) is after every firing, so its id
        // part never decides.
        let before_id = cursor.1.as_str();
        let mut rows = self
            .work
            .firings(
                ctx.tenant_id(),
                &rule.unwrap_or_default(),
                &customer.unwrap_or_default(),
                (cursor.0, before_id),
                size + 1,
            )
            .await
            .map_err(db_error)?;
        let next_page_token = if rows.len() > size as usize {
            rows.truncate(size as usize);
            rows.last()
                .map(|f| paging::encode_token(&format!("{}/{}", f.fired_at, f.id)))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(ListFiringsResponse {
            firings: rows.iter().map(firing_to_proto).collect(),
            next_page_token,
        })
    }

    /// GetRuleStats over the last `window_days`.
    pub async fn stats(
        &self,
        ctx: &TenantContext,
        req: &GetRuleStatsRequest,
    ) -> Result<GetRuleStatsResponse, ApiError> {
        let rule = rule_id("rule_id", &req.rule_id)?;
        let window = match req.window_days {
            0 => 30,
            d @ 1..=365 => i64::from(d),
            _ => {
                return Err(ApiError::invalid(
                    "window_days",
                    "must be between 1 and 365",
                ));
            }
        };
        let tenant = ctx.tenant_id();
        if self
            .store
            .get(tenant, &rule)
            .await
            .map_err(db_error)?
            .is_none()
        {
            return Err(ApiError::NotFound {
                what: "rule",
                id: rule,
            });
        }
        let now = Utc::now();
        let since = to_micros(now - chrono::Duration::days(window));
        let t = tenant.to_string();
        let rows: Vec<(String, i64, bool, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT customer_id, fired_at, holdout, results FROM rule_firings \
                 WHERE tenant_id = $1 AND rule_id = $2 AND fired_at >= $3 ORDER BY fired_at",
            )
            .bind(&t).bind(&rule).bind(since)
            .fetch_all(pool).await.map_err(db_error)?
        });
        let (errors, last_error): (i64, Option<String>) = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), MAX(message) FROM rule_errors \
                 WHERE tenant_id = $1 AND rule_id = $2 AND at >= $3",
            )
            .bind(&t).bind(&rule).bind(since)
            .fetch_one(pool).await.map_err(db_error)?
        });
        let mut out = GetRuleStatsResponse {
            firings: rows.len() as u64,
            evaluation_errors: errors.max(0) as u64,
            last_error: last_error.unwrap_or_default(),
            ..Default::default()
        };
        // Each customer counted once, from their first firing in the window.
        let mut first: BTreeMap<&str, (i64, bool, bool)> = BTreeMap::new();
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
            let e = first.entry(customer).or_insert((*at, *holdout, false));
            e.2 |= sent > 0;
        }
        out.customers_matched = first.len() as u64;
        let (mut contacted, mut held) = ((0u64, 0i64), (0u64, 0i64));
        let today = day_number(now);
        for (customer, (at, holdout, reached)) in &first {
            let from = day_number(from_micros(*at));
            let to = (from + window).min(today);
            if *holdout {
                let n = purchases_between(&self.db, tenant, customer, from, to)
                    .await
                    .map_err(db_error)?;
                held = (held.0 + 1, held.1 + n);
            } else if *reached {
                let n = purchases_between(&self.db, tenant, customer, from, to)
                    .await
                    .map_err(db_error)?;
                contacted = (contacted.0 + 1, contacted.1 + n);
            }
        }
        out.customers_contacted = contacted.0;
        out.holdout_customers = held.0;
        let per = |(n, p): (u64, i64)| if n == 0 { 0.0 } else { p as f64 / n as f64 };
        out.purchases_per_contacted_customer = per(contacted);
        out.purchases_per_holdout_customer = per(held);
        Ok(out)
    }
}
