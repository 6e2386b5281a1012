//! The relay's side of the outbox: lease a batch, delete what was delivered,
//! set aside what was not, and wake relays when changes commit.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, List, Time},
    on_pool, sql_for,
};
use uuid::Uuid;

/// The Postgres channel committed changes are announced on, to relays of
/// other replicas (the `NOTIFY` is sent in the transaction that queues, so
/// only on commit).
pub(crate) const NOTIFY_CHANNEL: &str = "rapport_outbox";

/// One queued change.
#[derive(Debug, Clone)]
pub(crate) struct OutboxRow {
    pub id: i64,
    pub tenant_id: Uuid,
    /// A prost-encoded `rapport.v1.ChangeEvent`.
    pub change: Vec<u8>,
}

/// Wakes relays of this process waiting for changes. One process-wide
/// signal: every repository and relay of the process share it (a spurious wake
/// only costs one empty claim).
pub(crate) fn wake() -> &'static tokio::sync::Notify {
    static WAKE: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();
    WAKE.get_or_init(tokio::sync::Notify::new)
}

/// Leases up to `limit` of the oldest rows nobody holds, for `lease`. The
/// lease commits at once, so no transaction is held across the call to
/// scoring; a relay that dies holding a lease leaves its rows to whoever
/// claims after it ends, and scoring dedupes the repeat.
pub(crate) async fn claim(
    db: &Db,
    limit: u32,
    lease: Duration,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    let limit = i64::from(limit);
    let rows: Vec<(i64, Id, Vec<u8>)> = match db {
        // Rows another relay is claiming right now are skipped, not waited
        // for (`SKIP LOCKED`); the lease runs on the database's clock.
        Db::Postgres(pool) => {
            sqlx::query_as(include_str!("../../sql/postgres/claim_outbox.sql"))
                .bind(limit)
                .bind(lease.as_secs_f64())
                .fetch_all(pool)
                .await?
        }
        // One connection, so nothing to skip; times are microseconds.
        Db::Sqlite(pool) => {
            let now = Utc::now().timestamp_micros();
            let until = now.saturating_add(lease.as_micros() as i64);
            sqlx::query_as(include_str!("../../sql/sqlite/claim_outbox.sql"))
                .bind(now)
                .bind(until)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
    };
    let mut rows: Vec<OutboxRow> = rows
        .into_iter()
        .map(|(id, tenant, change)| OutboxRow {
            id,
            tenant_id: tenant.0,
            change,
        })
        .collect();
    // RETURNING gives no order; the relay delivers in queue order.
    rows.sort_unstable_by_key(|r| r.id);
    Ok(rows)
}

/// Rows waiting in the outbox and when the oldest was queued.
pub(crate) async fn backlog(db: &Db) -> Result<(u64, Option<DateTime<Utc>>), sqlx::Error> {
    let (rows, oldest): (i64, Option<Time>) = on_pool!(db, pool => {
        sqlx::query_as("SELECT count(*), min(created_at) FROM outbox")
            .fetch_one(pool)
            .await?
    });
    Ok((rows.max(0) as u64, oldest.map(|t| t.0)))
}

/// Deletes the `delivered` rows.
pub(crate) async fn finish(db: &Db, delivered: &[i64]) -> Result<(), sqlx::Error> {
    if delivered.is_empty() {
        return Ok(());
    }
    let delete = sql_for!(
        db,
        postgres = "DELETE FROM outbox WHERE id = ANY($1)",
        sqlite = include_str!("../../sql/sqlite/delete_outbox.sql"),
    );
    on_pool!(db, pool => {
        sqlx::query(delete).bind(List(delivered)).execute(pool).await?;
    });
    if let Db::Postgres(_) = db {
        DELETED.fetch_add(delivered.len() as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// Sets the `failed` rows aside for `wait`: they stay leased until then, so
/// the rounds before it lease other rows (another tenant's), and any relay
/// may take them after it.
pub(crate) async fn set_aside(db: &Db, failed: &[i64], wait: Duration) -> Result<(), sqlx::Error> {
    if failed.is_empty() {
        return Ok(());
    }
    match db {
        // On the database's clock, as leases are.
        Db::Postgres(pool) => {
            sqlx::query(
                "UPDATE outbox SET leased_until = clock_timestamp() + make_interval(secs => $2) \
                 WHERE id = ANY($1)",
            )
            .bind(failed)
            .bind(wait.as_secs_f64())
            .execute(pool)
            .await?;
        }
        Db::Sqlite(pool) => {
            let until = Utc::now()
                .timestamp_micros()
                .saturating_add(wait.as_micros() as i64);
            sqlx::query(include_str!("../../sql/sqlite/release_outbox.sql"))
                .bind(List(failed))
                .bind(until)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// Rows this process deleted from the Postgres outbox since its last sweep.
static DELETED: AtomicU64 = AtomicU64::new(0);

/// Rows deleted before a sweep is worth its cost.
const SWEEP_AFTER: u64 = 5_000;

/// Vacuums the Postgres outbox once enough rows have been deleted since the
/// last sweep; true when it ran. A queue table is all churn: every change
/// leaves a dead lease version and a dead row at the head of the id index,
/// and the lease scan walks every one of them until they are vacuumed. At a
/// few thousand changes a second that turns a 1 ms lease into tens of
/// milliseconds within seconds, long before autovacuum's next visit (a
/// minute apart at the default naptime). Replicas that sweep at the same
/// moment skip rather than queue behind each other. Nothing to do on SQLite.
pub(crate) async fn sweep(db: &Db) -> Result<bool, sqlx::Error> {
    let Db::Postgres(pool) = db else {
        return Ok(false);
    };
    let deleted = DELETED.load(Ordering::Relaxed);
    if deleted < SWEEP_AFTER {
        return Ok(false);
    }
    DELETED.fetch_sub(deleted, Ordering::Relaxed);
    sqlx::query("VACUUM (SKIP_LOCKED, INDEX_CLEANUP ON) outbox")
        .execute(pool)
        .await?;
    Ok(true)
}
