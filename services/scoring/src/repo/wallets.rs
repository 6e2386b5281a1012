//! Wallet estimates on score rows. A changed estimate is a new version of the
//! customer's score (share of wallet depends on it), so the cache takes it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rapport_kit::{Db, domain::to_micros};
use sqlx::Row as _;
use uuid::Uuid;

use super::{ScoreRepo, StoredScore, sqlite};

impl ScoreRepo {
    /// The stored wallet estimates of the tenant's customers.
    pub async fn wallet_estimates(&self, tenant: Uuid) -> Result<HashMap<Uuid, i64>, sqlx::Error> {
        const SQL: &str = "SELECT customer_id, wallet_estimate_minor FROM customer_scores \
             WHERE tenant_id = $1 AND wallet_estimate_minor IS NOT NULL";
        match &self.db {
            Db::Postgres(pool) => {
                let rows: Vec<(Uuid, i64)> =
                    sqlx::query_as(SQL).bind(tenant).fetch_all(pool).await?;
                Ok(rows.into_iter().collect())
            }
            Db::Sqlite(pool) => {
                let rows: Vec<(String, i64)> = sqlx::query_as(SQL)
                    .bind(tenant.to_string())
                    .fetch_all(pool)
                    .await?;
                rows.into_iter()
                    .map(|(c, v)| Ok((sqlite::parse_uuid(&c)?, v)))
                    .collect()
            }
        }
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
        match &self.db {
            Db::Postgres(pool) => {
                let rows = sqlx::query(
                    "UPDATE customer_scores AS s SET wallet_estimate_minor = u.estimate, \
                     version = s.version + 1, updated_at = $4 \
                     FROM UNNEST($2::uuid[], $3::bigint[]) AS u (customer_id, estimate) \
                     WHERE s.tenant_id = $1 AND s.customer_id = u.customer_id \
                     AND s.wallet_estimate_minor IS DISTINCT FROM u.estimate \
                     RETURNING s.customer_id",
                )
                .bind(tenant)
                .bind(updates.iter().map(|u| u.0).collect::<Vec<_>>())
                .bind(updates.iter().map(|u| u.1).collect::<Vec<_>>())
                .bind(now)
                .fetch_all(pool)
                .await?;
                let ids: Vec<Uuid> = rows
                    .iter()
                    .map(|r| r.try_get("customer_id"))
                    .collect::<Result<_, _>>()?;
                self.get_many(tenant, &ids).await
            }
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let mut ids = Vec::new();
                for (customer, estimate) in updates {
                    let changed = sqlx::query(
                        "UPDATE customer_scores SET wallet_estimate_minor = $3, \
                         version = version + 1, updated_at = $4 \
                         WHERE tenant_id = $1 AND customer_id = $2 \
                         AND wallet_estimate_minor IS NOT $3",
                    )
                    .bind(tenant.to_string())
                    .bind(customer.to_string())
                    .bind(estimate)
                    .bind(to_micros(now))
                    .execute(&mut *tx)
                    .await?;
                    if changed.rows_affected() > 0 {
                        ids.push(*customer);
                    }
                }
                tx.commit().await?;
                self.get_many(tenant, &ids).await
            }
        }
    }
}
