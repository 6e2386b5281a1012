//! A tenant's webhook signing secrets: the current one and, for a window
//! after a rotation, the one it replaced; both sealed at rest
//! ([`crate::seal`]). A value found in plaintext (written before sealing) or
//! sealed under another key is sealed under the current key when read, and
//! the delivery worker seals every row so when it starts.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    on_pool,
};
use sqlx::Row;
use uuid::Uuid;

use super::Repository;
use crate::{error::Error, seal::Stored};

/// The secrets webhooks are signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSecrets {
    /// The newest secret.
    pub current: String,
    /// The secret it replaced, while the rotation's overlap lasts.
    pub previous: Option<String>,
}

impl SigningSecrets {
    /// Every secret that signs, the newest first.
    pub fn all(&self) -> Vec<&str> {
        std::iter::once(self.current.as_str())
            .chain(self.previous.as_deref())
            .collect()
    }
}

/// The columns a secret is kept in.
#[derive(Debug, Clone, Copy)]
enum Column {
    Current,
    Previous,
}

impl Column {
    /// Replaces the column's value, if it is still the one read.
    fn reseal_sql(self) -> &'static str {
        match self {
            Column::Current => {
                "UPDATE webhook_secrets SET secret = $3 WHERE tenant_id = $1 AND secret = $2"
            }
            Column::Previous => {
                "UPDATE webhook_secrets SET previous_secret = $3 \
                 WHERE tenant_id = $1 AND previous_secret = $2"
            }
        }
    }
}

impl Repository {
    /// Whether the tenant has a webhook signing secret.
    pub async fn has_webhook_secret(&self, tenant: Uuid) -> Result<bool, Error> {
        on_pool!(&self.db, pool => {
            let found: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM webhook_secrets WHERE tenant_id = $1")
                    .bind(Id(tenant))
                    .fetch_optional(pool)
                    .await?;
            Ok(found.is_some())
        })
    }

    /// The tenant's signing secrets at `now`, if one was rotated in.
    pub async fn webhook_secrets(
        &self,
        tenant: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<SigningSecrets>, Error> {
        let row = on_pool!(&self.db, pool => {
            let row = sqlx::query(
                "SELECT secret, previous_secret, previous_until FROM webhook_secrets \
                 WHERE tenant_id = $1",
            )
            .bind(Id(tenant))
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(r) => Some((
                    r.try_get::<String, _>("secret")?,
                    r.try_get::<Option<String>, _>("previous_secret")?,
                    r.try_get::<Option<Time>, _>("previous_until")?,
                )),
            }
        });
        let Some((current, previous, until)) = row else {
            return Ok(None);
        };
        let current = self.open(tenant, Column::Current, &current).await?;
        let previous = match previous.filter(|_| until.is_some_and(|u| u.0 > now)) {
            Some(p) => Some(self.open(tenant, Column::Previous, &p).await?),
            None => None,
        };
        Ok(Some(SigningSecrets { current, previous }))
    }

    /// Stores `secret` as the tenant's signing secret from `at`; the one it
    /// replaces keeps signing until `previous_until`.
    pub async fn set_webhook_secret(
        &self,
        tenant: Uuid,
        secret: &str,
        at: DateTime<Utc>,
        previous_until: DateTime<Utc>,
    ) -> Result<(), Error> {
        let sealed = self.sealing_key().await?.seal(tenant, secret);
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../sql/secret_upsert.sql"))
                .bind(Id(tenant))
                .bind(&sealed)
                .bind(Time(at))
                .bind(Time(previous_until))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Seals every stored secret not sealed under the current key and drops
    /// previous secrets whose overlap ended at `now`; returns how many
    /// values were sealed again.
    pub async fn seal_all(&self, now: DateTime<Utc>) -> Result<usize, Error> {
        let rows = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE webhook_secrets SET previous_secret = NULL, previous_until = NULL \
                 WHERE previous_until <= $1",
            )
            .bind(Time(now))
            .execute(pool)
            .await?;
            let rows = sqlx::query("SELECT tenant_id, secret, previous_secret FROM webhook_secrets")
                .fetch_all(pool)
                .await?;
            let mut values = Vec::with_capacity(rows.len());
            for r in rows {
                values.push((
                    r.try_get::<Id, _>("tenant_id")?.0,
                    r.try_get::<String, _>("secret")?,
                    r.try_get::<Option<String>, _>("previous_secret")?,
                ));
            }
            values
        });
        if rows.is_empty() {
            return Ok(0);
        }
        let id = self.sealing_key().await?.id().to_owned();
        let mut sealed = 0;
        for (tenant, current, previous) in rows {
            let columns = [
                (Column::Current, Some(current)),
                (Column::Previous, previous),
            ];
            for (column, value) in columns {
                if let Some(value) = value
                    && Stored::of(&value).key_id() != Some(id.as_str())
                {
                    self.open(tenant, column, &value).await?;
                    sealed += 1;
                }
            }
        }
        Ok(sealed)
    }

    /// The secret in `value`, read from `column` of the tenant's row. A value
    /// not sealed under the current key is sealed again in place (unless the
    /// row changed meanwhile); failing to does not fail the read.
    async fn open(&self, tenant: Uuid, column: Column, value: &str) -> Result<String, Error> {
        let stored = Stored::of(value);
        let sealing = self.sealing_key().await?;
        if stored.key_id() == Some(sealing.id()) {
            return Ok(stored.open(tenant, &[sealing])?);
        }
        let secret = stored.open(tenant, &self.opening_keys().await?)?;
        let resealed = sealing.seal(tenant, &secret);
        let written = on_pool!(&self.db, pool => {
            sqlx::query(column.reseal_sql())
                .bind(Id(tenant))
                .bind(value)
                .bind(&resealed)
                .execute(pool)
                .await
                .map(|_| ())
        });
        if let Err(e) = written {
            tracing::warn!(error = %e, "sealing a webhook signing secret failed; it stays as it was");
        }
        Ok(secret)
    }
}
