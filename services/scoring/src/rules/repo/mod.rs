//! Storage of rules and their evaluation. Tenant and customer ids bind as
//! [`Id`](rapport_kit::db::Id) (uuid on Postgres, text on SQLite), rule ids
//! are text and times microseconds on both backends, so every statement is
//! one SQL text run on either pool; only the lease claims (and the lock a
//! split pass takes on its tenant's schedule row) differ.

mod edits;
mod firings;
mod membership;
mod queue;
mod ranges;
mod records;
mod rules;
mod stats;

pub use firings::{FiringRow, FiringsQuery, NewFiring};
pub use queue::WorkRow;
pub use ranges::{Finished, PassRange};
pub use records::{NewVersion, RuleRecord, VersionRecord};
pub use rules::RuleRepo;
pub use stats::{CustomerFirings, RuleWindow, StatsRepo};

use rapport_kit::Db;

/// Storage of evaluation: the work queue, per (rule, customer) match state,
/// firings, evaluation errors, segment/tier membership and marks.
#[derive(Debug, Clone)]
pub struct EvaluationRepo {
    pub(crate) db: Db,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rapport_kit::{
        db::Migrations,
        on_pool,
        testing::{self, Backend},
    };
    use uuid::Uuid;

    use super::*;

    rapport_kit::backend_tests! {
        rules_written_before_the_uuid_migration_read_back_after_it,
    }

    /// Rows written by a release whose rules tables kept ids as text are
    /// read, found by customer and extended after the upgrade.
    async fn rules_written_before_the_uuid_migration_read_back_after_it(backend: Backend) {
        let config = testing::config(backend).await;
        let db = Db::connect_lazy(&config, crate::SCHEMA).unwrap();
        let before = Migrations {
            postgres: &crate::MIGRATIONS.postgres[..6],
            sqlite: &crate::MIGRATIONS.sqlite[..6],
        };
        db.migrate(crate::SCHEMA, &before).await.unwrap();
        let (tenant, customer) = (Uuid::new_v4(), Uuid::new_v4());
        on_pool!(&db, pool => {
            sqlx::query(include_str!("../../../sql/rules/insert_firing.sql"))
                .bind(tenant.to_string()).bind("f-1").bind("r-1").bind(1i64)
                .bind(customer.to_string()).bind("SCORE").bind("").bind("e-1").bind(5i64)
                .bind("{}").bind(false)
                .execute(pool).await.unwrap();
            sqlx::query("INSERT INTO rules_schedule (tenant_id, due_at) VALUES ($1, 100)")
                .bind(tenant.to_string())
                .execute(pool).await.unwrap();
        });
        // The new release starts with fresh connections (statements
        // prepared for text ids would not fit the new columns).
        db.close().await;
        let db = Db::connect_lazy(&config, crate::SCHEMA).unwrap();
        db.migrate(crate::SCHEMA, &crate::MIGRATIONS).await.unwrap();

        let repo = EvaluationRepo { db: db.clone() };
        let query = |customer| FiringsQuery {
            rule: String::new(),
            customer,
            before: (i64::MAX, String::new()),
            limit: 10,
        };
        let mine = repo.firings(tenant, &query(Some(customer))).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].id.as_str(), mine[0].customer), ("f-1", customer));
        let other = repo.firings(tenant, &query(Some(Uuid::new_v4()))).await;
        assert!(other.unwrap().is_empty());
        assert_eq!(repo.firings(tenant, &query(None)).await.unwrap().len(), 1);
        assert_eq!(
            repo.claim_tenant(200, 300).await.unwrap(),
            Some((tenant, 100))
        );
        // The same episode again is the firing already recorded.
        let inputs = BTreeMap::new();
        let again = NewFiring {
            rule: "r-1",
            version: 1,
            customer,
            trigger: "SCORE",
            event_kind: "",
            episode: "e-1",
            at: 6,
            inputs: &inputs,
            holdout: false,
        };
        assert_eq!(repo.fire(tenant, &again).await.unwrap().0, "f-1");
    }
}
