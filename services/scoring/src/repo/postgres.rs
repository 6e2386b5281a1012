//! The Postgres side of [`super::ScoreRepo`]: batches go in as arrays through
//! `UNNEST`, one statement per table per call.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::{PgPool, Row as _, postgres::PgRow, types::Json};
use uuid::Uuid;

use super::{Applied, COLUMNS, Cursor, Marks, Order, ScoreRow, StoredScore, details};
use crate::{
    calc::{self, Summary},
    changes::{self, Change},
    settings::Settings,
};

fn to_row(r: &PgRow) -> Result<ScoreRow, sqlx::Error> {
    Ok(ScoreRow {
        customer_id: r.try_get("customer_id")?,
        version: r.try_get("version")?,
        first_purchase_at: r.try_get("first_purchase_at")?,
        last_purchase_at: r.try_get("last_purchase_at")?,
        purchase_count: r.try_get("purchase_count")?,
        refund_count: r.try_get("refund_count")?,
        purchase_total_minor: r.try_get("purchase_total_minor")?,
        refund_total_minor: r.try_get("refund_total_minor")?,
        currency_code: r.try_get("currency_code")?,
        last_interaction_at: r.try_get("last_interaction_at")?,
        interaction_count: r.try_get("interaction_count")?,
        updated_at: r.try_get("updated_at")?,
        purchase_days: r.try_get("purchase_days")?,
        purchase_weeks: r.try_get("purchase_weeks")?,
        first_day_purchase_minor: r.try_get("first_day_purchase_minor")?,
        first_week_purchase_minor: r.try_get("first_week_purchase_minor")?,
        margin_total_minor: r.try_get("margin_total_minor")?,
        wallet_estimate_minor: r.try_get("wallet_estimate_minor")?,
    })
}

fn to_rows(rows: &[PgRow]) -> Result<Vec<ScoreRow>, sqlx::Error> {
    rows.iter().map(to_row).collect()
}

/// A row of a [`detailed`] query.
fn to_stored(r: &PgRow) -> Result<StoredScore, sqlx::Error> {
    let months: Option<String> = r.try_get("months_json")?;
    let marks: Option<String> = r.try_get("marks_json")?;
    details::stored(to_row(r)?, months.as_deref(), marks.as_deref())
}

/// `SELECT` of whole scores (row, months, marks) `FROM customer_scores s`
/// followed by `rest` (conditions on the row's own columns, unqualified).
fn detailed(rest: &str) -> String {
    let details = details::POSTGRES;
    format!("SELECT {COLUMNS}{details} FROM customer_scores s {rest}")
}

/// Distinct purchase days and weeks and the first of each, per customer.
type Periods = (i64, i64, i64, i64);

pub(super) async fn apply(
    pool: &PgPool,
    tenant: Uuid,
    currency: &str,
    changes: &[Change],
    now: DateTime<Utc>,
) -> Result<Applied, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Claimed in id order, so concurrent calls lock in the same order.
    let mut claim: Vec<(&str, Uuid)> = changes
        .iter()
        .map(|c| (c.id.as_str(), c.customer_id))
        .collect();
    claim.sort_unstable();
    let (ids, customers): (Vec<&str>, Vec<Uuid>) = claim.into_iter().unzip();
    let fresh: Vec<String> =
        sqlx::query_scalar(include_str!("../../sql/postgres/claim_changes.sql"))
            .bind(tenant)
            .bind(&ids)
            .bind(&customers)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
    if fresh.is_empty() {
        tx.commit().await?;
        return Ok(Applied {
            applied: 0,
            scores: Vec::new(),
        });
    }
    let settings: Option<Json<Settings>> =
        sqlx::query_scalar("SELECT settings FROM settings WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&mut *tx)
            .await?;
    let settings = settings.map(|s| s.0).unwrap_or_default();
    let fresh: std::collections::HashSet<String> = fresh.into_iter().collect();
    let deltas = changes::aggregate(changes.iter().filter(|c| fresh.contains(&c.id)), &settings);
    let changed: Vec<Uuid> = deltas.iter().map(|d| d.customer_id).collect();

    let days: Vec<(Uuid, i32, i64, i64)> = deltas
        .iter()
        .flat_map(|d| {
            d.days
                .iter()
                .map(move |(day, v)| (d.customer_id, *day as i32, v.purchases, v.amount))
        })
        .collect();
    if !days.is_empty() {
        sqlx::query(include_str!("../../sql/postgres/upsert_days.sql"))
            .bind(tenant)
            .bind(days.iter().map(|d| d.0).collect::<Vec<_>>())
            .bind(days.iter().map(|d| d.1).collect::<Vec<_>>())
            .bind(days.iter().map(|d| d.2).collect::<Vec<_>>())
            .bind(days.iter().map(|d| d.3).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    let periods: HashMap<Uuid, Periods> = sqlx::query_as::<_, (Uuid, i64, i64, i64, i64)>(
        include_str!("../../sql/postgres/purchase_periods.sql"),
    )
    .bind(tenant)
    .bind(&changed)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|(c, d, w, fd, fw)| (c, (d, w, fd, fw)))
    .collect();
    let period = |d: &changes::Delta| periods.get(&d.customer_id).copied().unwrap_or_default();

    let rows: Vec<PgRow> = sqlx::query(include_str!("../../sql/postgres/upsert_scores.sql"))
        .bind(tenant)
        .bind(currency)
        .bind(now)
        .bind(&changed)
        .bind(
            deltas
                .iter()
                .map(|d| d.first_purchase_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            deltas
                .iter()
                .map(|d| d.last_purchase_at)
                .collect::<Vec<_>>(),
        )
        .bind(deltas.iter().map(|d| d.purchase_count).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.refund_count).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.purchase_total).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.refund_total).collect::<Vec<_>>())
        .bind(
            deltas
                .iter()
                .map(|d| d.last_interaction_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            deltas
                .iter()
                .map(|d| d.interaction_count)
                .collect::<Vec<_>>(),
        )
        .bind(deltas.iter().map(|d| period(d).0).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| period(d).1).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| period(d).2).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| period(d).3).collect::<Vec<_>>())
        .bind(deltas.iter().map(|d| d.margin_total).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;

    let monthly: Vec<(Uuid, &str, changes::MonthDelta)> = deltas
        .iter()
        .flat_map(|d| {
            d.months
                .iter()
                .map(move |(m, v)| (d.customer_id, m.as_str(), *v))
        })
        .collect();
    if !monthly.is_empty() {
        sqlx::query(include_str!("../../sql/postgres/upsert_monthly.sql"))
            .bind(tenant)
            .bind(monthly.iter().map(|m| m.0).collect::<Vec<_>>())
            .bind(monthly.iter().map(|m| m.1).collect::<Vec<_>>())
            .bind(monthly.iter().map(|m| m.2.net).collect::<Vec<_>>())
            .bind(monthly.iter().map(|m| m.2.margin).collect::<Vec<_>>())
            .bind(monthly.iter().map(|m| m.2.purchases).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    let rows = to_rows(&rows)?;
    let work = crate::rules::enqueue::rows(
        changes.iter().filter(|c| fresh.contains(&c.id)),
        rows.iter().map(|r| (r.customer_id, r.version)),
        currency,
    );
    sqlx::query(include_str!("../../sql/postgres/rules_enqueue.sql"))
        .bind(tenant.to_string())
        .bind(work.iter().map(|w| w.0.as_str()).collect::<Vec<_>>())
        .bind(work.iter().map(|w| w.1.to_string()).collect::<Vec<_>>())
        .bind(work.iter().map(|w| w.2.as_deref()).collect::<Vec<_>>())
        .bind(rapport_kit::domain::to_micros(now))
        .execute(&mut *tx)
        .await?;
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
    E: sqlx::PgExecutor<'c>,
{
    let rows: Vec<PgRow> = sqlx::query(&detailed("WHERE tenant_id = $1 AND customer_id = ANY($2)"))
        .bind(tenant)
        .bind(ids)
        .fetch_all(ex)
        .await?;
    let scores = rows.iter().map(to_stored).collect::<Result<Vec<_>, _>>()?;
    Ok(details::in_order(scores, ids))
}

pub(super) async fn get_many(
    pool: &PgPool,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<StoredScore>, sqlx::Error> {
    select_many(pool, tenant, ids).await
}

/// Up to `limit` scores in customer id order after `after`.
pub(super) async fn page(
    pool: &PgPool,
    tenant: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<StoredScore>, sqlx::Error> {
    let sql = detailed(
        "WHERE tenant_id = $1 AND ($2::uuid IS NULL OR customer_id > $2) \
         ORDER BY customer_id LIMIT $3",
    );
    let rows: Vec<PgRow> = sqlx::query(&sql)
        .bind(tenant)
        .bind(after)
        .bind(limit as i64)
        .fetch_all(pool)
        .await?;
    rows.iter().map(to_stored).collect()
}

/// The sort expression of `order` and the expression the cursor value is
/// compared through (the same shape, so the index serves both).
fn sort_sql(order: Order) -> (&'static str, &'static str) {
    match order {
        Order::NetSpend => ("(purchase_total_minor - refund_total_minor)", "$2::bigint"),
        Order::PurchaseCount => ("purchase_count", "$2::bigint"),
        Order::LastPurchase => (
            "COALESCE(last_purchase_at, '-infinity'::timestamptz)",
            "COALESCE($2::timestamptz, '-infinity'::timestamptz)",
        ),
    }
}

pub(super) async fn list(
    pool: &PgPool,
    tenant: Uuid,
    order: Order,
    after: Option<Cursor>,
    limit: u32,
) -> Result<Vec<StoredScore>, sqlx::Error> {
    let (sort, param) = sort_sql(order);
    let rows: Vec<PgRow> = match after {
        None => {
            let sql = detailed(&format!(
                "WHERE tenant_id = $1 ORDER BY {sort} DESC, customer_id DESC LIMIT $2"
            ));
            sqlx::query(&sql)
                .bind(tenant)
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        }
        Some(c) => {
            let sql = detailed(&format!(
                "WHERE tenant_id = $1 AND ({sort}, customer_id) < ({param}, $3) \
                 ORDER BY {sort} DESC, customer_id DESC LIMIT $4"
            ));
            let q = sqlx::query(&sql).bind(tenant);
            let q = match order {
                Order::LastPurchase => q.bind(c.value.map(rapport_kit::domain::from_micros)),
                _ => q.bind(c.value.unwrap_or_default()),
            };
            q.bind(c.customer_id)
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        }
    };
    rows.iter().map(to_stored).collect()
}

pub(super) async fn summarize(
    pool: &PgPool,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> Result<Summary, sqlx::Error> {
    // One snapshot for both reads, so the count matches the rows streamed.
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (n, min, max): (i64, i64, i64) =
        sqlx::query_as(include_str!("../../sql/postgres/summary_bounds.sql"))
            .bind(tenant)
            .fetch_one(&mut *tx)
            .await?;
    let mut summary = Summary::new(n.max(0) as u64, min, max);
    {
        let mut rows = sqlx::query_as::<_, (Option<DateTime<Utc>>, Option<DateTime<Utc>>, i64)>(
            include_str!("../../sql/postgres/summary_rows.sql"),
        )
        .bind(tenant)
        .fetch(&mut *tx);
        while let Some((first, last, net)) = rows.try_next().await? {
            summary.add(net, calc::segment(first, last, now));
        }
    }
    tx.commit().await?;
    Ok(summary)
}

/// Stores what rules set on a customer and bumps the score's version in the
/// same transaction, so the cached score (which carries the marks) is
/// replaced; returns the score to publish (`None` for a customer without one).
pub(super) async fn set_marks(
    pool: &PgPool,
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
    .bind(tenant)
    .bind(customer)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let score = select_many(&mut *tx, tenant, &[customer]).await?.pop();
    tx.commit().await?;
    Ok(score)
}
