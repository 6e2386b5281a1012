//! Schema changes made while the service runs (partitions made ahead,
//! retired ones dropped), next to writers that must never queue behind them.

use sqlx::{PgPool, Postgres, Transaction};

/// The longest a partition change waits for a table lock. Writers queue
/// behind a waiting ACCESS EXCLUSIVE request, so a change that cannot get its
/// lock soon gives up and is retried on the next pass instead.
pub const LOCK_TIMEOUT: &str = "2s";

/// A transaction for partition DDL: it holds the advisory lock `lock` (one
/// per partitioned table, so two replicas never race to create or drop the
/// same partition) and waits at most [`LOCK_TIMEOUT`] for any lock it takes.
pub async fn partition_transaction(
    pool: &PgPool,
    lock: i64,
) -> sqlx::Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
