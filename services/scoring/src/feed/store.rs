//! The change log's storage (`score_changes`, `score_change_horizons`):
//! rows written inside the score's own transaction ([`Record`]), read in
//! commit order below the read horizon, and deleted by age with the newest
//! deleted position kept per tenant, so a resume token past the window is
//! refused rather than resumed with a gap.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time},
    in_tx, sql_for,
};
use sqlx::{PgConnection, SqliteConnection};
use uuid::Uuid;

use super::position::Position;

/// One event to record: the customer, when, and the encoded
/// `ScoreChangeEvent` (without its resume token).
#[derive(Debug, Clone)]
pub struct LogRow {
    /// The customer whose score changed.
    pub customer_id: Uuid,
    /// When the score was written.
    pub at: DateTime<Utc>,
    /// The encoded event.
    pub event: Vec<u8>,
}

/// Writes the log's rows inside the caller's transaction.
pub(crate) trait Record {
    /// Appends `rows` (in order) to `tenant`'s log.
    async fn record(&mut self, tenant: Uuid, rows: &[LogRow]) -> sqlx::Result<()>;
}

impl Record for PgConnection {
    async fn record(&mut self, tenant: Uuid, rows: &[LogRow]) -> sqlx::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let customers: Vec<Uuid> = rows.iter().map(|r| r.customer_id).collect();
        let at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.at).collect();
        let events: Vec<&[u8]> = rows.iter().map(|r| r.event.as_slice()).collect();
        sqlx::query(include_str!("../../sql/feed/pg_insert.sql"))
            .bind(tenant)
            .bind(customers)
            .bind(at)
            .bind(events)
            .execute(&mut *self)
            .await?;
        Ok(())
    }
}

impl Record for SqliteConnection {
    async fn record(&mut self, tenant: Uuid, rows: &[LogRow]) -> sqlx::Result<()> {
        for r in rows {
            sqlx::query(include_str!("../../sql/feed/sqlite_insert.sql"))
                .bind(Id(tenant))
                .bind(Id(r.customer_id))
                .bind(Time(r.at))
                .bind(r.event.as_slice())
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }
}

/// Reads and retires the log.
#[derive(Debug, Clone)]
pub struct FeedRepo {
    db: Db,
}

impl FeedRepo {
    /// The log in the service's primary store (a replica may lag, and its
    /// snapshot horizon is not the primary's).
    pub fn new(db: Db) -> Self {
        FeedRepo { db }
    }

    /// Up to `limit` of `tenant`'s events after `after`, in commit order;
    /// on Postgres only those below the read horizon (every transaction
    /// that could still add an earlier position has ended).
    pub async fn read(
        &self,
        tenant: Uuid,
        after: Position,
        limit: u32,
    ) -> sqlx::Result<Vec<(Position, Vec<u8>)>> {
        let rows: Vec<(i64, i64, Vec<u8>)> = match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_as(include_str!("../../sql/feed/pg_read.sql"))
                    .bind(tenant)
                    .bind(after.xid.to_string())
                    .bind(after.seq)
                    .bind(limit as i64)
                    .fetch_all(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_as(include_str!("../../sql/feed/sqlite_read.sql"))
                    .bind(Id(tenant))
                    .bind(after.seq)
                    .bind(limit as i64)
                    .fetch_all(pool)
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(xid, seq, event)| (Position { xid, seq }, event))
            .collect())
    }

    /// The newest position the retention pass has deleted for `tenant`: a
    /// resume token before it has lost events.
    pub async fn horizon(&self, tenant: Uuid) -> sqlx::Result<Position> {
        let found: Option<(i64, i64)> = match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT xid::text::bigint, seq FROM score_change_horizons WHERE tenant_id = $1",
                )
                .bind(tenant)
                .fetch_optional(pool)
                .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_as("SELECT xid, seq FROM score_change_horizons WHERE tenant_id = $1")
                    .bind(Id(tenant))
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(found.map_or_else(Position::default, |(xid, seq)| Position { xid, seq }))
    }

    /// A position every event committed from now on comes after.
    pub async fn now(&self, tenant: Uuid) -> sqlx::Result<Position> {
        let now = match &self.db {
            // Transactions still running may yet commit events; starting at
            // the oldest of them includes them rather than losing them.
            Db::Postgres(pool) => Position {
                xid: sqlx::query_scalar(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                )
                .fetch_one(pool)
                .await?,
                seq: 0,
            },
            Db::Sqlite(pool) => Position {
                xid: 0,
                seq: sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM score_changes")
                    .fetch_one(pool)
                    .await?,
            },
        };
        Ok(now.max(self.horizon(tenant).await?))
    }

    /// Deletes up to `limit` events written before `before`, oldest first,
    /// and in the same transaction moves each tenant's horizon to the newest
    /// position it deleted; the number deleted.
    pub async fn purge(&self, before: DateTime<Utc>, limit: u32) -> sqlx::Result<usize> {
        let purge = sql_for!(
            &self.db,
            postgres = include_str!("../../sql/feed/pg_purge.sql"),
            sqlite = include_str!("../../sql/feed/sqlite_purge.sql"),
        );
        let keep = sql_for!(
            &self.db,
            postgres = include_str!("../../sql/feed/pg_keep_horizon.sql"),
            sqlite = include_str!("../../sql/feed/sqlite_keep_horizon.sql"),
        );
        let deleted = in_tx!(&self.db, tx => {
            let gone: Vec<(Id, i64, i64)> = sqlx::query_as(purge)
                .bind(Time(before))
                .bind(limit as i64)
                .fetch_all(&mut *tx)
                .await?;
            let mut newest: HashMap<Uuid, Position> = HashMap::new();
            for (tenant, xid, seq) in &gone {
                let p = Position { xid: *xid, seq: *seq };
                let slot = newest.entry(tenant.0).or_default();
                *slot = (*slot).max(p);
            }
            for (tenant, p) in newest {
                sqlx::query(keep)
                    .bind(Id(tenant))
                    .bind(p.xid.to_string())
                    .bind(p.seq)
                    .execute(&mut *tx)
                    .await?;
            }
            gone.len()
        });
        Ok(deleted)
    }
}
