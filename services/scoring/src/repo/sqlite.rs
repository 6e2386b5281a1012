//! The SQLite side of [`super::ScoreRepo`]: one transaction per call with
//! prepared (and cached) statements row by row, which SQLite runs in memory.
//! Ids are text, times microseconds. The pool has a single connection, so no
//! function here acquires a second one while holding the first.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use rapport_kit::domain::{from_micros, to_micros};
use sqlx::SqlitePool;
use uuid::Uuid;

use super::{Applied, Cursor, Order, ScoreRow, StoredScore, join_months};
use crate::{
    calc::{self, Summary},
    changes::{self, Change},
};

type Row = (
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    String,
    Option<i64>,
    i64,
    i64,
);

const COLUMNS: &str = "customer_id, version, first_purchase_at, last_purchase_at, purchase_count, \
     refund_count, purchase_total_minor, refund_total_minor, currency_code, \
     last_interaction_at, interaction_count, updated_at";

fn parse_uuid(s: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn to_row(r: Row) -> Result<ScoreRow, sqlx::Error> {
    Ok(ScoreRow {
        customer_id: parse_uuid(&r.0)?,
        version: r.1,
        first_purchase_at: r.2.map(from_micros),
        last_purchase_at: r.3.map(from_micros),
        purchase_count: r.4,
        refund_count: r.5,
        purchase_total_minor: r.6,
        refund_total_minor: r.7,
        currency_code: r.8,
        last_interaction_at: r.9.map(from_micros),
        interaction_count: r.10,
        updated_at: from_micros(r.11),
    })
}

/// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`: one
/// parameter however many ids.
fn json_ids(ids: &[Uuid]) -> String {
    serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

async fn recent_months<'c, E>(
    ex: E,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String, i64)>, sqlx::Error>
where
    E: sqlx::SqliteExecutor<'c>,
{
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as(include_str!("../../sql/sqlite/recent_months.sql"))
            .bind(tenant.to_string())
            .bind(json_ids(ids))
            .fetch_all(ex)
            .await?;
    rows.into_iter()
        .map(|(c, m, n)| Ok((parse_uuid(&c)?, m, n)))
        .collect()
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
    let deltas = changes::aggregate(changes.iter().filter(|c| fresh.contains(c.id.as_str())));
    let mut rows = Vec::with_capacity(deltas.len());
    for d in &deltas {
        let customer = d.customer_id.to_string();
        let row: Row = sqlx::query_as(include_str!("../../sql/sqlite/upsert_score.sql"))
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
            .fetch_one(&mut *tx)
            .await?;
        rows.push(to_row(row)?);
        for (month, net) in &d.months {
            sqlx::query(include_str!("../../sql/sqlite/upsert_month.sql"))
                .bind(&tenant_s)
                .bind(&customer)
                .bind(month)
                .bind(net)
                .execute(&mut *tx)
                .await?;
        }
    }
    let changed: Vec<Uuid> = deltas.iter().map(|d| d.customer_id).collect();
    let months = recent_months(&mut *tx, tenant, &changed).await?;
    tx.commit().await?;
    Ok(Applied {
        applied: fresh.len() as u32,
        scores: join_months(rows, months),
    })
}

pub(super) async fn get_many(
    pool: &SqlitePool,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<StoredScore>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(include_str!("../../sql/sqlite/select_scores.sql"))
        .bind(tenant.to_string())
        .bind(json_ids(ids))
        .fetch_all(pool)
        .await?;
    finish(pool, tenant, rows).await
}

/// Converts rows and attaches their months (a second query, after the first
/// has released the connection).
async fn finish(
    pool: &SqlitePool,
    tenant: Uuid,
    rows: Vec<Row>,
) -> Result<Vec<StoredScore>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let rows = rows
        .into_iter()
        .map(to_row)
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.customer_id).collect();
    let months = recent_months(pool, tenant, &ids).await?;
    Ok(join_months(rows, months))
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
    let rows: Vec<Row> = match after {
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM customer_scores WHERE tenant_id = $1 \
                 ORDER BY {sort} DESC, customer_id DESC LIMIT $2"
            );
            sqlx::query_as(&sql)
                .bind(tenant.to_string())
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        }
        Some(c) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM customer_scores WHERE tenant_id = $1 \
                 AND ({sort}, customer_id) < ({param}, $3) \
                 ORDER BY {sort} DESC, customer_id DESC LIMIT $4"
            );
            sqlx::query_as(&sql)
                .bind(tenant.to_string())
                .bind(c.value)
                .bind(c.customer_id.to_string())
                .bind(limit as i64)
                .fetch_all(pool)
                .await?
        }
    };
    finish(pool, tenant, rows).await
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
