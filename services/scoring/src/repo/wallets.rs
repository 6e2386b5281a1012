//! Wallet estimates on score rows. A changed estimate is a new version of the
//! customer's score (share of wallet depends on it), so the cache takes it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time},
    on_pool,
};
use uuid::Uuid;

use super::{ScoreRepo, rows::StoredScore};

impl ScoreRepo {
    /// The stored wallet estimates of the tenant's customers whose ids lie
    /// in `(after, upto]` (byte order, as Profiles lists them).
    pub async fn wallet_estimates(
        &self,
        tenant: Uuid,
        after: Uuid,
        upto: Uuid,
    ) -> Result<HashMap<Uuid, i64>, sqlx::Error> {
        let rows: Vec<(Id, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT customer_id, wallet_estimate_minor FROM customer_scores \
                 WHERE tenant_id = $1 AND customer_id > $2 AND customer_id <= $3 \
                 AND wallet_estimate_minor IS NOT NULL",
            )
            .bind(Id(tenant))
            .bind(Id(after))
            .bind(Id(upto))
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(c, v)| (c.0, v)).collect())
    }

    /// Sets the estimates of customers that have a score (`None` clears
    /// one), bumping their versions; returns the new scores of those that
    /// changed.
    pub async fn set_wallets(
        &self,
        tenant: Uuid,
        updates: &[(Uuid, Option<i64>)],
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredScore>, sqlx::Error> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        let changed: Vec<Uuid> = match &self.db {
            // Postgres: the whole batch in one statement through UNNEST.
            Db::Postgres(pool) => {
                sqlx::query_scalar(include_str!("../../sql/postgres/set_wallets.sql"))
                    .bind(tenant)
                    .bind(updates.iter().map(|u| u.0).collect::<Vec<_>>())
                    .bind(updates.iter().map(|u| u.1).collect::<Vec<_>>())
                    .bind(now)
                    .fetch_all(pool)
                    .await?
            }
            // SQLite: a prepared statement per row, in one transaction.
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let mut changed = Vec::new();
                for (customer, estimate) in updates {
                    let done = sqlx::query(include_str!("../../sql/sqlite/set_wallet.sql"))
                        .bind(Id(tenant))
                        .bind(Id(*customer))
                        .bind(estimate)
                        .bind(Time(now))
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() > 0 {
                        changed.push(*customer);
                    }
                }
                tx.commit().await?;
                changed
            }
        };
        self.get_many(tenant, &changed).await
    }
}
