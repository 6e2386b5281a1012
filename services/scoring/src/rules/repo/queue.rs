//! The work queue ApplyChanges fills (`rules_queue`) and the tenants'
//! periodic passes (`rules_schedule`), both leased so that of several
//! replicas one takes each row. The claims differ by backend: Postgres
//! leases with SKIP LOCKED, SQLite's single connection needs no lock.

use rapport_kit::{on_pool, sql_for};
use uuid::Uuid;

use super::{EvaluationRepo, parse_uuid};

/// One claimed work row.
#[derive(Debug, Clone)]
pub struct WorkRow {
    /// Tenant.
    pub tenant: Uuid,
    /// Row id: "score:<customer>:<version>" or the change id.
    pub id: String,
    /// Customer.
    pub customer: Uuid,
    /// The change event as JSON (`EventFacts`); `None` for a score change.
    pub event: Option<String>,
    /// Microseconds.
    pub created_at: i64,
}

impl EvaluationRepo {
    /// Rows waiting in the queue, and when the oldest was queued
    /// (microseconds).
    pub async fn backlog(&self) -> Result<(u64, Option<i64>), sqlx::Error> {
        let (rows, oldest): (i64, Option<i64>) = on_pool!(&self.db, pool => {
            sqlx::query_as("SELECT count(*), min(created_at) FROM rules_queue")
                .fetch_one(pool)
                .await?
        });
        Ok((rows.max(0) as u64, oldest))
    }

    /// Leases up to `limit` due rows until `until` (microseconds), fairly
    /// between tenants: every tenant's oldest due row, then every tenant's
    /// second, and so on, so one tenant's backlog cannot stall another's.
    pub async fn claim(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<WorkRow>, sqlx::Error> {
        // Postgres claims with SKIP LOCKED; SQLite's one connection by rowid.
        let sql = sql_for!(
            &self.db,
            postgres = include_str!("../../../sql/postgres/rules_claim.sql"),
            sqlite = include_str!("../../../sql/sqlite/rules_claim.sql"),
        );
        let rows: Vec<(String, String, String, Option<String>, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(now).bind(until).bind(limit).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(t, id, c, event, created_at)| {
                Ok(WorkRow {
                    tenant: parse_uuid(&t)?,
                    id,
                    customer: parse_uuid(&c)?,
                    event,
                    created_at,
                })
            })
            .collect()
    }

    /// Removes done rows.
    pub async fn done(&self, rows: &[WorkRow]) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            for r in rows {
                sqlx::query("DELETE FROM rules_queue WHERE tenant_id = $1 AND id = $2")
                    .bind(r.tenant.to_string()).bind(&r.id)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Leases one tenant whose schedule pass is due: (tenant, due_at).
    pub async fn claim_tenant(
        &self,
        now: i64,
        until: i64,
    ) -> Result<Option<(Uuid, i64)>, sqlx::Error> {
        // As for work rows: SKIP LOCKED on Postgres only.
        let sql = sql_for!(
            &self.db,
            postgres = include_str!("../../../sql/postgres/rules_claim_tenant.sql"),
            sqlite = include_str!("../../../sql/sqlite/rules_claim_tenant.sql"),
        );
        let row: Option<(String, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(now).bind(until).fetch_optional(pool).await?
        });
        row.map(|(t, due)| Ok((parse_uuid(&t)?, due))).transpose()
    }

    /// Sets a tenant's next pass and releases its lease.
    pub async fn reschedule(&self, tenant: Uuid, due: i64) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query("UPDATE rules_schedule SET due_at = $2, leased_until = NULL WHERE tenant_id = $1")
                .bind(tenant.to_string()).bind(due).execute(pool).await?;
        });
        Ok(())
    }
}
