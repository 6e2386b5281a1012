//! The SQLite side of [`super::ScoreRepo`]: one transaction per call with
//! prepared (and cached) statements row by row, which SQLite runs in memory.
//! Ids are text, times microseconds. The pool has a single connection, so no
//! function here acquires a second one while holding the first.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use rapport_kit::domain::{from_micros, to_micros};
use sqlx::{Row as _, SqlitePool, sqlite::SqliteRow, types::Json};
use uuid::Uuid;

use super::{Applied, COLUMNS, Cursor, Marks, Order, ScoreRow, StoredScore, details};
use crate::{
    calc::{self, Summary},
    changes::{self, Change},
    settings::Settings,
};

/// An id stored as text.
pub(super) fn parse_uuid(s: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn to_row(r: &SqliteRow) -> Result<ScoreRow, sqlx::Error> {
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        Ok(r.try_get::<Option<i64>, _>(name)?.map(from_micros))
    };
    Ok(ScoreRow {
        customer_id: parse_uuid(r.try_get("customer_id")?)?,
        version: r.try_get("version")?,
        first_purchase_at: time("first_purchase_at")?,
        last_purchase_at: time("last_purchase_at")?,
        purchase_count: r.try_get("purchase_count")?,
        refund_count: r.try_get("refund_count")?,
        purchase_total_minor: r.try_get("purchase_total_minor")?,
        refund_total_minor: r.try_get("refund_total_minor")?,
        currency_code: r.try_get("currency_code")?,
        last_interaction_at: time("last_interaction_at")?,
        interaction_count: r.try_get("interaction_count")?,
        updated_at: from_micros(r.try_get("updated_at")?),
        purchase_days: r.try_get("purchase_days")?,
        purchase_weeks: r.try_get("purchase_weeks")?,
        first_day_purchase_minor: r.try_get("first_day_purchase_minor")?,
        first_week_purchase_minor: r.try_get("first_week_purchase_minor")?,
        margin_total_minor: r.try_get("margin_total_minor")?,
        wallet_estimate_minor: r.try_get("wallet_estimate_minor")?,
    })
}

/// A row of a [`detailed`] query.
fn to_stored(r: &SqliteRow) -> Result<StoredScore, sqlx::Error> {
    let months: Option<String> = r.try_get("months_json")?;
    let marks: Option<String> = r.try_get("marks_json")?;
    details::stored(to_row(r)?, months.as_deref(), marks.as_deref())
}

/// `SELECT` of whole scores (row, months, marks) `FROM customer_scores s`
/// followed by `rest` (conditions on the row's own columns, unqualified).
fn detailed(rest: &str) -> String {
    let details = details::SQLITE;
    format!("SELECT {COLUMNS}{details} FROM customer_scores s {rest}")
}

/// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`: one
/// parameter however many ids.
pub(super) fn json_ids(ids: &[Uuid]) -> String {
    serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

pub(super) async fn apply(
    pool: &SqlitePool,
    tenant: Uuid,
    currency: &str,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<Applied, sqlx::Error> {
    let tenant_s = tenant.to_string();
    let now_us = to_micros(now);
    let mut tx = pool.begin().await?;
    let mut fresh = std::collections::HashSet::new();
    for c in changes {
        let done = sqlx::query(include_str!("../../sql/sqlite/claim_change.sql"))
            .bind(&tenant_s)
            .bind(&c.id)
            .bind(c.customer_id.to_string())
            .bind(now_us)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 1 {
            fresh.insert(c.id.as_str());
        }
    }
    if fresh.is_empty() {
        tx.commit().await?;
        return Ok(Applied {
            applied: 0,
            scores: Vec::new(),
        });
    }
    let settings: Option<Json<Settings>> =
        sqlx::query_scalar("SELECT settings FROM settings WHERE tenant_id = $1")
            .bind(&tenant_s)
            .fetch_optional(&mut *tx)
            .await?;
    let settings = settings.map(|s| s.0).unwrap_or_default();
    let deltas = changes::aggregate(
        changes.iter().filter(|c| fresh.contains(c.id.as_str())),
        &settings,
    );
    let changed: Vec<Uuid> = deltas.iter().map(|d| d.customer_id).collect();
    for d in &deltas {
        let customer = d.customer_id.to_string();
        for (day, v) in &d.days {
            sqlx::query(include_str!("../../sql/sqlite/upsert_day.sql"))
                .bind(&tenant_s)
                .bind(&customer)
                .bind(day)
                .bind(v.purchases)
                .bind(v.amount)
                .execute(&mut *tx)
                .await?;
        }
    }
    let mut periods: HashMap<Uuid, (i64, i64, i64, i64)> = HashMap::new();
    for (c, d, w, fd, fw) in sqlx::query_as::<_, (String, i64, i64, i64, i64)>(include_str!(
        "../../sql/sqlite/purchase_periods.sql"
    ))
    .bind(&tenant_s)
    .bind(json_ids(&changed))
    .fetch_all(&mut *tx)
    .await?
    {
        periods.insert(parse_uuid(&c)?, (d, w, fd, fw));
    }
    let mut rows = Vec::with_capacity(deltas.len());
    for d in &deltas {
        let customer = d.customer_id.to_string();
        let (days, weeks, first_day, first_week) =
            periods.get(&d.customer_id).copied().unwrap_or_default();
        let row = sqlx::query(include_str!("../../sql/sqlite/upsert_score.sql"))
            .bind(&tenant_s)
            .bind(&customer)
            .bind(d.first_purchase_at.map(to_micros))
            .bind(d.last_purchase_at.map(to_micros))
            .bind(d.purchase_count)
            .bind(d.refund_count)
            .bind(d.purchase_total)
            .bind(d.refund_total)
            .bind(currency)
            .bind(d.last_interaction_at.map(to_micros))
            .bind(d.interaction_count)
            .bind(now_us)
            .bind(days)
            .bind(weeks)
            .bind(first_day)
            .bind(first_week)
            .bind(d.margin_total)
            .fetch_one(&mut *tx)
            .await?;
        rows.push(to_row(&row)?);
        for (month, v) in &d.months {
            sqlx::query(include_str!("../../sql/sqlite/upsert_month.sql"))
                .bind(&tenant_s)
                .bind(&customer)
                .bind(month)
                .bind(v.net)
                .bind(v.margin)
                .bind(v.purchases)
                .execute(&mut *tx)
                .await?;
        }
    }
    // Most tenants have no rules: one look instead of a statement per row.
    let has_rules: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM rules WHERE tenant_id = $1 AND enabled \
         AND published_version > 0)",
    )
    .bind(&tenant_s)
    .fetch_one(&mut *tx)
    .await?;
    let work = if !has_rules {
        Vec::new()
    } else {
        crate::rules::enqueue::rows(
            changes.iter().filter(|c| fresh.contains(c.id.as_str())),
            rows.iter().map(|r: &ScoreRow| (r.customer_id, r.version)),
            currency,
        )
    };
    for (id, customer, event) in &work {
        sqlx::query(include_str!("../../sql/sqlite/rules_enqueue.sql"))
            .bind(&tenant_s)
            .bind(id)
            .bind(customer.to_string())
            .bind(event.as_deref())
            .bind(now_us)
            .execute(&mut *tx)
            .await?;
    }
    // Read back in the same transaction: each score with the months and
    // marks of the version just written.
    let scores = select_many(&mut *tx, tenant, &changed).await?;
    tx.commit().await?;
    Ok(Applied {
        applied: fresh.len() as u32,
        scores,
    })
}

async fn select_many<'c, E>(
    ex: E,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<StoredScore>, sqlx::Error>
where
    E: sqlx::SqliteExecutor<'c>,
{
    let rows = sqlx::query(&detailed(
        "WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2))",
    ))
    .bind(tenant.to_string())
    .bind(json_ids(ids))
    .fetch_all(ex)
    .await?;
    let scores = rows.iter().map(to_stored).collect::<Result<Vec<_>, _>>()?;
    Ok(details::in_order(scores, ids))
}

pub(super) async fn get_many(
    pool: &SqlitePool,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<StoredScore>, sqlx::Error> {
    select_many(pool, tenant, ids).await
}

/// Up to `limit` scores in customer id order after `after`.
pub(super) async fn page(
    pool: &SqlitePool,
    tenant: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<StoredScore>, sqlx::Error> {
    let sql = detailed(
        "WHERE tenant_id = $1 AND ($2 IS NULL OR customer_id > $2) \
         ORDER BY customer_id LIMIT $3",
    );
    let rows = sqlx::query(&sql)
        .bind(tenant.to_string())
        .bind(after.map(|a| a.to_string()))
        .bind(limit as i64)
        .fetch_all(pool)
        .await?;
    rows.iter().map(to_stored).collect()
}

/// Customers without a purchase sort below every real time.
const NO_PURCHASE: &str = "-9223372036854775808";

pub(super) async fn list(
    pool: &SqlitePool,
    tenant: Uuid,
    order: Order,
    after: Option<Cursor>,
    limit: u32,
) -> Result<Vec<StoredScore>, sqlx::Error> {
    let (sort, param) = match order {
        Order::NetSpend => (
            "(purchase_total_minor - refund_total_minor)".to_owned(),
            "$2".to_owned(),
        ),
        Order::PurchaseCount => ("purchase_count".to_owned(), "$2".to_owned()),
        Order::LastPurchase => (
            format!("COALESCE(last_purchase_at, {NO_PURCHASE})"),
            format!("COALESCE($2, {NO_PURCHASE})"),
        ),
    };
    let rows = match after {
        None => {
            let sql = detailed(&format!(
                "WHERE tenant_id = $1 ORDER BY {sort} DESC, customer_id DESC LIMIT $2"
            ));
            sqlx::query(&sql)
                .bind(tenant.to_string())
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        }
        Some(c) => {
            let sql = detailed(&format!(
                "WHERE tenant_id = $1 AND ({sort}, customer_id) < ({param}, $3) \
                 ORDER BY {sort} DESC, customer_id DESC LIMIT $4"
            ));
            sqlx::query(&sql)
                .bind(tenant.to_string())
                .bind(c.value)
                .bind(c.customer_id.to_string())
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        }
    };
    rows.iter().map(to_stored).collect()
}

pub(super) async fn summarize(
    pool: &SqlitePool,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> Result<Summary, sqlx::Error> {
    // One read transaction: both reads see the same snapshot.
    let mut tx = pool.begin().await?;
    let (n, min, max): (i64, i64, i64) =
        sqlx::query_as(include_str!("../../sql/sqlite/summary_bounds.sql"))
            .bind(tenant.to_string())
            .fetch_one(&mut *tx)
            .await?;
    let mut summary = Summary::new(n.max(0) as u64, min, max);
    {
        let mut rows = sqlx::query_as::<_, (Option<i64>, Option<i64>, i64)>(include_str!(
            "../../sql/sqlite/summary_rows.sql"
        ))
        .bind(tenant.to_string())
        .fetch(&mut *tx);
        while let Some((first, last, net)) = rows.try_next().await? {
            summary.add(
                net,
                calc::segment(first.map(from_micros), last.map(from_micros), now),
            );
        }
    }
    tx.commit().await?;
    Ok(summary)
}

/// Stores what rules set on a customer and bumps the score's version in the
/// same transaction, so the cached score (which carries the marks) is
/// replaced; returns the score to publish (`None` for a customer without one).
pub(super) async fn set_marks(
    pool: &SqlitePool,
    tenant: Uuid,
    customer: Uuid,
    marks: &Marks,
    now: DateTime<Utc>,
) -> Result<Option<StoredScore>, sqlx::Error> {
    let tags = serde_json::to_string(&marks.tags).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut tx = pool.begin().await?;
    sqlx::query(include_str!("../../sql/rules/upsert_marks.sql"))
        .bind(tenant.to_string())
        .bind(customer.to_string())
        .bind(&marks.tier)
        .bind(&marks.origin)
        .bind(tags)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE customer_scores SET version = version + 1, updated_at = $3 \
         WHERE tenant_id = $1 AND customer_id = $2",
    )
    .bind(tenant.to_string())
    .bind(customer.to_string())
    .bind(to_micros(now))
    .execute(&mut *tx)
    .await?;
    let score = select_many(&mut *tx, tenant, &[customer]).await?.pop();
    tx.commit().await?;
    Ok(score)
}
