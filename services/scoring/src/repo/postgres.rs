//! The Postgres side of [`super::ScoreRepo`]: batches go in as arrays through
//! `UNNEST`, one statement per table per call.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Applied, Cursor, Order, ScoreRow, StoredScore, join_months};
use crate::{
    calc::{self, Summary},
    changes::{self, Change},
};

type Row = (
    Uuid,
    i64,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    i64,
    i64,
    i64,
    i64,
    String,
    Option<DateTime<Utc>>,
    i64,
    DateTime<Utc>,
);

const COLUMNS: &str = "customer_id, version, first_purchase_at, last_purchase_at, purchase_count, \
     refund_count, purchase_total_minor, refund_total_minor, currency_code, \
     last_interaction_at, interaction_count, updated_at";

fn to_row(r: Row) -> ScoreRow {
    ScoreRow {
        customer_id: r.0,
        version: r.1,
        first_purchase_at: r.2,
        last_purchase_at: r.3,
        purchase_count: r.4,
        refund_count: r.5,
        purchase_total_minor: r.6,
        refund_total_minor: r.7,
        currency_code: r.8,
        last_interaction_at: r.9,
        interaction_count: r.10,
        updated_at: r.11,
    }
}

async fn recent_months<'c, E>(
    ex: E,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String, i64)>, sqlx::Error>
where
    E: sqlx::PgExecutor<'c>,
{
    sqlx::query_as(include_str!("../../sql/postgres/recent_months.sql"))
        .bind(tenant)
        .bind(ids)
        .fetch_all(ex)
        .await
}

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
    let fresh: std::collections::HashSet<String> = fresh.into_iter().collect();
    let deltas = changes::aggregate(changes.iter().filter(|c| fresh.contains(&c.id)));

    let rows: Vec<Row> = sqlx::query_as(include_str!("../../sql/postgres/upsert_scores.sql"))
        .bind(tenant)
        .bind(currency)
        .bind(now)
        .bind(deltas.iter().map(|d| d.customer_id).collect::<Vec<_>>())
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
        .fetch_all(&mut *tx)
        .await?;

    let monthly: Vec<(Uuid, &str, i64)> = deltas
        .iter()
        .flat_map(|d| {
            d.months
                .iter()
                .map(move |(m, net)| (d.customer_id, m.as_str(), *net))
        })
        .collect();
    if !monthly.is_empty() {
        sqlx::query(include_str!("../../sql/postgres/upsert_monthly.sql"))
            .bind(tenant)
            .bind(monthly.iter().map(|m| m.0).collect::<Vec<_>>())
            .bind(monthly.iter().map(|m| m.1).collect::<Vec<_>>())
            .bind(monthly.iter().map(|m| m.2).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    let changed: Vec<Uuid> = deltas.iter().map(|d| d.customer_id).collect();
    let months = recent_months(&mut *tx, tenant, &changed).await?;
    tx.commit().await?;
    let scores = join_months(rows.into_iter().map(to_row).collect(), months);
    Ok(Applied {
        applied: fresh.len() as u32,
        scores,
    })
}

pub(super) async fn get_many(
    pool: &PgPool,
    tenant: Uuid,
    ids: &[Uuid],
) -> Result<Vec<StoredScore>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(include_str!("../../sql/postgres/select_scores.sql"))
        .bind(tenant)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let months = recent_months(pool, tenant, &found).await?;
    Ok(join_months(rows.into_iter().map(to_row).collect(), months))
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
    let rows: Vec<Row> = match after {
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM customer_scores WHERE tenant_id = $1 \
                 ORDER BY {sort} DESC, customer_id DESC LIMIT $2"
            );
            sqlx::query_as(&sql)
                .bind(tenant)
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
            let q = sqlx::query_as(&sql).bind(tenant);
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
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let months = recent_months(pool, tenant, &ids).await?;
    // join_months keeps the query's row order.
    Ok(join_months(rows.into_iter().map(to_row).collect(), months))
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
