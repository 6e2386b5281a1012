//! The erasure record: begun before any service erases anything, each part
//! noted as it completes, and completed in the same transaction that removes
//! the profile, clearing the customer id (see `migrations/*/0002_erasures.sql`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    db::{Id, Time, customer_data::Part},
    in_tx, on_pool,
};
use uuid::Uuid;

use super::Repo;
use crate::error::Error;

/// Rows removed or anonymised, by part and then by what.
pub(crate) type Parts = BTreeMap<String, BTreeMap<String, u64>>;

/// An erasure in progress (or just completed).
#[derive(Debug, Clone)]
pub(crate) struct Erasure {
    /// Its id (UUIDv7).
    pub id: Uuid,
    /// When it was first requested.
    pub requested_at: DateTime<Utc>,
    /// The parts done so far.
    pub parts: Parts,
    /// When it completed.
    pub completed_at: Option<DateTime<Utc>>,
}

/// The profile itself, removed last. Children keep no parent.
const PROFILE: &[Part] = &[
    Part::same(
        "children_detached",
        "UPDATE customers SET parent_id = NULL WHERE tenant_id = $1 AND parent_id = $2",
    ),
    Part::same(
        "identities",
        "DELETE FROM identities WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "attributes",
        "DELETE FROM attributes WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "consents",
        "DELETE FROM consents WHERE tenant_id = $1 AND customer_id = $2",
    ),
    Part::same(
        "customers",
        "DELETE FROM customers WHERE tenant_id = $1 AND id = $2",
    ),
];

fn parse_parts(text: &str) -> Parts {
    serde_json::from_str(text).unwrap_or_default()
}

impl Repo {
    /// The erasure in progress for `customer`, begun now (as `id`) if there
    /// is none.
    pub async fn begin_erasure(
        &self,
        tenant: Uuid,
        customer: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Erasure, Error> {
        let row: (Id, Time, String) = on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO erasures (tenant_id, id, customer_id, requested_at, parts) \
                 VALUES ($1, $2, $3, $4, '{}') ON CONFLICT DO NOTHING",
            )
            .bind(Id(tenant))
            .bind(Id(id))
            .bind(Id(customer))
            .bind(Time(now))
            .execute(pool)
            .await?;
            sqlx::query_as(
                "SELECT id, requested_at, parts FROM erasures \
                 WHERE tenant_id = $1 AND customer_id = $2",
            )
            .bind(Id(tenant))
            .bind(Id(customer))
            .fetch_one(pool)
            .await?
        });
        Ok(Erasure {
            id: row.0.0,
            requested_at: row.1.0,
            parts: parse_parts(&row.2),
            completed_at: None,
        })
    }

    /// Notes the parts done so far, while the erasure is in progress: a
    /// concurrent call for the same customer that completed it first keeps
    /// its counts (this one's later parts find nothing and count zeros).
    pub async fn note_erasure(&self, tenant: Uuid, erasure: &Erasure) -> Result<(), Error> {
        let parts = serde_json::to_string(&erasure.parts).unwrap_or_else(|_| "{}".into());
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE erasures SET parts = $3 \
                 WHERE tenant_id = $1 AND id = $2 AND completed_at IS NULL",
            )
                .bind(Id(tenant))
                .bind(Id(erasure.id))
                .bind(parts)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Removes the profile and completes the erasure in one transaction:
    /// from then on the record names no customer. `None` when a concurrent
    /// call completed it first.
    pub async fn complete_erasure(
        &self,
        tenant: Uuid,
        customer: Uuid,
        mut erasure: Erasure,
        now: DateTime<Utc>,
    ) -> Result<Option<Erasure>, Error> {
        let mut counts = BTreeMap::new();
        let db = &self.db;
        in_tx!(db, tx => {
            for part in PROFILE {
                let sql = match db {
                    Db::Postgres(_) => part.postgres,
                    Db::Sqlite(_) => part.sqlite,
                };
                let n = sqlx::query(sql)
                    .bind(Id(tenant))
                    .bind(Id(customer))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                counts.insert(part.name.to_owned(), n);
            }
            erasure.parts.insert("profiles".to_owned(), counts);
            let parts = serde_json::to_string(&erasure.parts).unwrap_or_else(|_| "{}".into());
            let completed = sqlx::query(
                "UPDATE erasures SET customer_id = NULL, completed_at = $3, parts = $4 \
                 WHERE tenant_id = $1 AND id = $2 AND completed_at IS NULL",
            )
            .bind(Id(tenant))
            .bind(Id(erasure.id))
            .bind(Time(now))
            .bind(parts)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if completed == 0 {
                return Ok(None);
            }
        });
        erasure.completed_at = Some(now);
        Ok(Some(erasure))
    }

    /// Forgets an erasure that found nothing to erase anywhere.
    pub async fn discard_erasure(&self, tenant: Uuid, id: Uuid) -> Result<(), Error> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM erasures WHERE tenant_id = $1 AND id = $2")
                .bind(Id(tenant))
                .bind(Id(id))
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
