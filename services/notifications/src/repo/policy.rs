//! A tenant's contact policy: one row, the defaults until one is saved.

use rapport_kit::{db::Id, on_pool};
use uuid::Uuid;

use super::{
    Repository,
    rows::{policy, sql_int},
};
use crate::{error::Error, model::ContactPolicy};

impl Repository {
    /// The tenant's contact policy, or the defaults.
    pub async fn policy(&self, tenant: Uuid) -> Result<ContactPolicy, Error> {
        on_pool!(&self.db, pool => {
            let row = sqlx::query(include_str!("../../sql/policy_get.sql"))
                .bind(Id(tenant))
                .fetch_optional(pool)
                .await?;
            row.as_ref().map_or(Ok(ContactPolicy::default()), policy)
        })
    }

    /// Replaces the tenant's contact policy.
    pub async fn put_policy(&self, tenant: Uuid, p: &ContactPolicy) -> Result<(), Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../sql/policy_upsert.sql"))
                .bind(Id(tenant))
                .bind(sql_int(p.max_messages))
                .bind(sql_int(p.window_hours))
                .bind(sql_int(p.cool_down_hours))
                .bind(sql_int(p.quiet_start_hour))
                .bind(sql_int(p.quiet_end_hour))
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
