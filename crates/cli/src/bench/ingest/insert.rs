//! The SQLite baseline: prepared INSERTs into a database of its own with the
//! service's tables and indexes, one transaction per batch.

use std::path::Path;

use chrono::{DateTime, Utc};
use sqlx::{Executor, sqlite::SqliteConnectOptions};
use uuid::Uuid;

use super::flat::Flat;

/// Copies the service's table definitions from `service` (closing it) into
/// a new database at `path`, opened as the service opens its own.
pub(super) async fn prepare(
    service: sqlx::SqlitePool,
    path: &Path,
) -> anyhow::Result<sqlx::SqlitePool> {
    let ddl: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name IN \
         ('transactions', 'transaction_keys', 'outbox') ORDER BY type DESC",
    )
    .fetch_all(&service)
    .await?;
    service.close().await;
    let _ = std::fs::remove_file(path);
    // The service's own connection settings (kit::db).
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    for statement in ddl {
        pool.execute(statement.as_str()).await?;
    }
    Ok(pool)
}

/// Inserts `rows` into the three tables in one transaction.
pub(super) async fn load(
    pool: &sqlx::SqlitePool,
    tenant: Uuid,
    rows: &[Flat],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tenant = tenant.to_string();
    let now = now.timestamp_micros();
    let mut tx = pool.begin().await?;
    for r in rows {
        sqlx::query(
            "INSERT INTO transaction_keys (tenant_id, source, external_id, id) VALUES ($1, $2, $3, $4)",
        )
        .bind(&tenant)
        .bind(&r.source)
        .bind(&r.external_id)
        .bind(r.id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO transactions (tenant_id, customer_id, occurred_at, id, source, external_id, \
             kind, amount_minor, currency_code, margin_minor, cost_minor, category, ingested_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'EUR', $9, NULL, $10, $11)",
        )
        .bind(&tenant)
        .bind(r.customer.to_string())
        .bind(r.at.timestamp_micros())
        .bind(r.id.to_string())
        .bind(&r.source)
        .bind(&r.external_id)
        .bind(r.kind)
        .bind(r.amount)
        .bind(r.margin)
        .bind(&r.category)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO outbox (tenant_id, customer_id, change, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&tenant)
        .bind(r.customer.to_string())
        .bind(&r.change)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
