//! The work queue ApplyChanges fills (`rules_queue`) and the tenants'
//! periodic passes (`rules_schedule`), both leased so that of several
//! replicas one takes each row. The claims differ by backend: Postgres
//! leases with SKIP LOCKED, SQLite's single connection needs no lock.

use rapport_kit::{db::Id, on_pool, sql_for};
use uuid::Uuid;

use super::EvaluationRepo;

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
        let rows: Vec<(Id, String, Id, Option<String>, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(now).bind(until).bind(limit).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(t, id, c, event, created_at)| WorkRow {
                tenant: t.0,
                id,
                customer: c.0,
                event,
                created_at,
            })
            .collect())
    }

    /// Removes done rows.
    pub async fn done(&self, rows: &[WorkRow]) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            for r in rows {
                sqlx::query("DELETE FROM rules_queue WHERE tenant_id = $1 AND id = $2")
                    .bind(Id(r.tenant)).bind(&r.id)
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
        let row: Option<(Id, i64)> = on_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(now).bind(until).fetch_optional(pool).await?
        });
        Ok(row.map(|(t, due)| (t.0, due)))
    }

    /// Extends the lease on `tenant`'s pass from `held` (the end of the
    /// lease this replica holds) to `until`. False when the lease is no
    /// longer this replica's: it ran out and another replica claimed the
    /// pass, or the pass was rescheduled.
    pub async fn renew_tenant(
        &self,
        tenant: Uuid,
        held: i64,
        until: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE rules_schedule SET leased_until = $3 \
                 WHERE tenant_id = $1 AND leased_until = $2",
            )
            .bind(Id(tenant)).bind(held).bind(until).execute(pool).await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Sets a tenant's next pass and releases its lease, if this replica
    /// still holds it (ending at `held`); a pass another replica took over
    /// keeps that replica's lease and schedule.
    pub async fn reschedule(&self, tenant: Uuid, held: i64, due: i64) -> Result<(), sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE rules_schedule SET due_at = $2, leased_until = NULL \
                 WHERE tenant_id = $1 AND leased_until = $3",
            )
            .bind(Id(tenant)).bind(due).bind(held).execute(pool).await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rapport_kit::{
        Db,
        testing::{self, Backend},
    };

    use super::*;

    rapport_kit::backend_tests! {
        a_renewed_lease_keeps_the_pass_and_a_taken_one_is_left_alone,
    }

    async fn a_renewed_lease_keeps_the_pass_and_a_taken_one_is_left_alone(backend: Backend) {
        let config = testing::config(backend).await;
        let db = Db::connect_lazy(&config, crate::SCHEMA).unwrap();
        db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await.unwrap();
        let repo = EvaluationRepo { db: db.clone() };
        let tenant = Uuid::new_v4();
        on_pool!(&db, pool => {
            sqlx::query("INSERT INTO rules_schedule (tenant_id, due_at) VALUES ($1, 100)")
                .bind(Id(tenant))
                .execute(pool)
                .await
                .unwrap();
        });
        // Replica A claims the pass at 200, leased to 300.
        assert_eq!(
            repo.claim_tenant(200, 300).await.unwrap(),
            Some((tenant, 100))
        );
        assert_eq!(repo.claim_tenant(250, 350).await.unwrap(), None);
        // A renews to 500: past its first lease, nobody can claim it.
        assert!(repo.renew_tenant(tenant, 300, 500).await.unwrap());
        assert_eq!(repo.claim_tenant(400, 600).await.unwrap(), None);
        // A stalls past 500; B claims the pass. A's renewal fails, and its
        // reschedule leaves B's lease and schedule alone.
        assert_eq!(
            repo.claim_tenant(501, 900).await.unwrap(),
            Some((tenant, 100))
        );
        assert!(!repo.renew_tenant(tenant, 500, 1_000).await.unwrap());
        repo.reschedule(tenant, 500, 5_000).await.unwrap();
        assert_eq!(
            repo.claim_tenant(800, 1_200).await.unwrap(),
            None,
            "still B's"
        );
        assert!(
            repo.renew_tenant(tenant, 900, 950).await.unwrap(),
            "B holds it"
        );
        // B finishes: the next pass is due at 5,000.
        repo.reschedule(tenant, 950, 5_000).await.unwrap();
        assert_eq!(repo.claim_tenant(4_000, 6_000).await.unwrap(), None);
        assert_eq!(
            repo.claim_tenant(5_000, 6_000).await.unwrap(),
            Some((tenant, 5_000))
        );
    }
}
