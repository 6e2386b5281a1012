//! A tenant's webhook signing secret: one row, replaced on rotation.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    on_pool,
};
use uuid::Uuid;

use super::Repository;
use crate::error::Error;

impl Repository {
    /// The tenant's webhook signing secret, if one was rotated in.
    pub async fn webhook_secret(&self, tenant: Uuid) -> Result<Option<String>, Error> {
        on_pool!(&self.db, pool => {
            let secret = sqlx::query_scalar("SELECT secret FROM webhook_secrets WHERE tenant_id = $1")
                .bind(Id(tenant))
                .fetch_optional(pool)
                .await?;
            Ok(secret)
        })
    }

    /// Stores `secret` as the tenant's webhook signing secret.
    pub async fn set_webhook_secret(
        &self,
        tenant: Uuid,
        secret: &str,
        at: DateTime<Utc>,
    ) -> Result<(), Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../sql/secret_upsert.sql"))
                .bind(Id(tenant))
                .bind(secret)
                .bind(Time(at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
