//! The relay's side of the outbox: claim a batch, then delete what was
//! delivered.

use rapport_kit::Db;
use sqlx::{Postgres, sqlite::SqlitePool};
use uuid::Uuid;

/// One queued change.
#[derive(Debug, Clone)]
pub(crate) struct OutboxRow {
    pub id: i64,
    pub tenant_id: Uuid,
    /// A prost-encoded `rapport.v1.ChangeEvent`.
    pub change: Vec<u8>,
}

/// Rows claimed for delivery. In Postgres the claim is a transaction holding
/// row locks (other replicas skip those rows); dropping it unfinished rolls
/// back and leaves every row queued. SQLite has one process and one
/// connection, which must not be held across the network call, so it claims
/// nothing and deletes by id afterwards.
pub(crate) enum Claim {
    Postgres(sqlx::Transaction<'static, Postgres>),
    Sqlite(SqlitePool),
}

impl Claim {
    /// Claims up to `limit` of the oldest queued rows.
    pub(crate) async fn take(db: &Db, limit: u32) -> Result<(Claim, Vec<OutboxRow>), sqlx::Error> {
        match db {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let rows: Vec<(i64, Uuid, Vec<u8>)> =
                    sqlx::query_as(include_str!("../../sql/postgres/claim_outbox.sql"))
                        .bind(i64::from(limit))
                        .fetch_all(&mut *tx)
                        .await?;
                let rows = rows
                    .into_iter()
                    .map(|(id, tenant_id, change)| OutboxRow {
                        id,
                        tenant_id,
                        change,
                    })
                    .collect();
                Ok((Claim::Postgres(tx), rows))
            }
            Db::Sqlite(pool) => {
                let rows: Vec<(i64, String, Vec<u8>)> =
                    sqlx::query_as("SELECT id, tenant_id, change FROM outbox ORDER BY id LIMIT $1")
                        .bind(i64::from(limit))
                        .fetch_all(pool)
                        .await?;
                let rows = rows
                    .into_iter()
                    .map(|(id, tenant, change)| {
                        let tenant_id = Uuid::parse_str(&tenant)
                            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                        Ok(OutboxRow {
                            id,
                            tenant_id,
                            change,
                        })
                    })
                    .collect::<Result<_, sqlx::Error>>()?;
                Ok((Claim::Sqlite(pool.clone()), rows))
            }
        }
    }

    /// Deletes the `delivered` rows and releases the claim; rows not named
    /// stay queued.
    pub(crate) async fn finish(self, delivered: &[i64]) -> Result<(), sqlx::Error> {
        match self {
            Claim::Postgres(mut tx) => {
                if !delivered.is_empty() {
                    sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
                        .bind(delivered)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            Claim::Sqlite(pool) => {
                if !delivered.is_empty() {
                    let ids = serde_json::to_string(delivered)
                        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                    sqlx::query(include_str!("../../sql/sqlite/delete_outbox.sql"))
                        .bind(ids)
                        .execute(&pool)
                        .await?;
                }
                Ok(())
            }
        }
    }
}
