//! The Postgres baseline: `COPY` into copies of ingestion's transactions
//! (with the same monthly partitions), dedupe-key and outbox tables.

use std::fmt::Write as _;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::Executor;
use uuid::Uuid;

use super::flat::Flat;

const PG_SETUP: &str = "
DROP SCHEMA IF EXISTS bench_copy CASCADE;
CREATE SCHEMA bench_copy;
CREATE TABLE bench_copy.transactions (LIKE ingestion.transactions INCLUDING ALL)
    PARTITION BY RANGE (occurred_at);
CREATE TABLE bench_copy.transaction_keys (LIKE ingestion.transaction_keys INCLUDING ALL);
CREATE TABLE bench_copy.outbox (LIKE ingestion.outbox INCLUDING ALL);
";

/// Creates the `bench_copy` tables afresh.
pub(super) async fn prepare(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    pool.execute(PG_SETUP)
        .await
        .context("creating the COPY tables")?;
    // The same monthly partitions as the real table.
    let parts: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) \
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'ingestion.transactions'::regclass",
    )
    .fetch_all(pool)
    .await?;
    for (name, bound) in parts {
        pool.execute(
            format!(
                "CREATE TABLE bench_copy.\"{name}\" PARTITION OF bench_copy.transactions {bound}"
            )
            .as_str(),
        )
        .await?;
    }
    Ok(())
}

/// Copies `rows` into the three tables in one transaction.
pub(super) async fn load(
    pool: &sqlx::PgPool,
    tenant: Uuid,
    rows: &[Flat],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (mut txns, mut keys, mut outbox) = (String::new(), String::new(), String::new());
    for r in rows {
        let opt = |v: Option<i64>| v.map_or("\\N".to_owned(), |v| v.to_string());
        writeln!(
            txns,
            "{tenant}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\tEUR\t{}\t\\N\t{}\t{}",
            r.customer,
            r.at.to_rfc3339(),
            r.id,
            r.source,
            r.external_id,
            r.kind,
            r.amount,
            opt(r.margin),
            r.category,
            now.to_rfc3339()
        )?;
        writeln!(keys, "{tenant}\t{}\t{}\t{}", r.source, r.external_id, r.id)?;
        writeln!(
            outbox,
            "{tenant}\t{}\t\\\\x{}",
            r.customer,
            hex::encode(&r.change)
        )?;
    }
    let mut tx = pool.begin().await?;
    for (sql, data) in [
        (
            "COPY bench_copy.transaction_keys (tenant_id, source, external_id, id) FROM STDIN",
            keys,
        ),
        (
            "COPY bench_copy.transactions (tenant_id, customer_id, occurred_at, id, source, \
             external_id, kind, amount_minor, currency_code, margin_minor, cost_minor, category, \
             ingested_at) FROM STDIN",
            txns,
        ),
        (
            "COPY bench_copy.outbox (tenant_id, customer_id, change) FROM STDIN",
            outbox,
        ),
    ] {
        let mut copy = tx.copy_in_raw(sql).await?;
        copy.send(data.into_bytes()).await?;
        copy.finish().await?;
    }
    tx.commit().await?;
    Ok(())
}
