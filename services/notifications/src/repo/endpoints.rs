//! Integration endpoints, each with its signing secret sealed at rest
//! ([`crate::seal`]) and opened only to sign a delivery or to compare a put.

use chrono::{DateTime, Utc};
use rapport_kit::{
    db::{Id, Time},
    on_pool,
};
use uuid::Uuid;

use super::{Repository, rows::Columns};
use crate::{
    error::Error,
    model::Endpoint,
    seal::Stored,
    validate::{EndpointPut, MAX_ENDPOINTS},
};

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The endpoint is new.
    Created,
    /// Its URL, description or secret changed.
    Changed,
    /// It already was exactly so.
    Unchanged,
}

const COLUMNS: &str = "name, url, description, created_at, updated_at, secret_set_at";

fn endpoint(r: &impl Columns) -> Result<Endpoint, Error> {
    Ok(Endpoint {
        name: r.text("name")?,
        url: r.text("url")?,
        description: r.text("description")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        secret_set_at: r.time("secret_set_at")?,
    })
}

impl Repository {
    /// The tenant's endpoint `name`.
    pub async fn endpoint(&self, tenant: Uuid, name: &str) -> Result<Option<Endpoint>, Error> {
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM integration_endpoints WHERE tenant_id = $1 AND name = $2"
            ))
            .bind(Id(tenant))
            .bind(name)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(endpoint).transpose()
        })
    }

    /// Every endpoint of the tenant, by name.
    pub async fn endpoints(&self, tenant: Uuid) -> Result<Vec<Endpoint>, Error> {
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM integration_endpoints WHERE tenant_id = $1 ORDER BY name"
            ))
            .bind(Id(tenant))
            .fetch_all(pool)
            .await?;
            rows.iter().map(endpoint).collect()
        })
    }

    /// The signing secret of endpoint `name`, opened; `None` when the
    /// endpoint is gone.
    pub async fn endpoint_secret(&self, tenant: Uuid, name: &str) -> Result<Option<String>, Error> {
        let sealed: Option<String> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT secret FROM integration_endpoints WHERE tenant_id = $1 AND name = $2",
            )
            .bind(Id(tenant))
            .bind(name)
            .fetch_optional(pool)
            .await?
        });
        match sealed {
            Some(value) => Ok(Some(self.open_endpoint_secret(tenant, &value).await?)),
            None => Ok(None),
        }
    }

    /// Creates or changes an endpoint at `now`. A put that changes nothing
    /// writes nothing. A new endpoint needs a secret (else INVALID_ARGUMENT
    /// on `signing_secret`), and a tenant has at most [`MAX_ENDPOINTS`].
    pub async fn put_endpoint(
        &self,
        tenant: Uuid,
        put: &EndpointPut,
        now: DateTime<Utc>,
    ) -> Result<(Endpoint, PutOutcome), Error> {
        // Two puts of a new name may race: the loser's insert does nothing
        // and it compares against the winner's row on its second turn.
        for _ in 0..2 {
            let existing: Option<(Endpoint, String)> = on_pool!(&self.db, pool => {
                let row = sqlx::query(&format!(
                    "SELECT {COLUMNS}, secret FROM integration_endpoints \
                     WHERE tenant_id = $1 AND name = $2"
                ))
                .bind(Id(tenant))
                .bind(&put.name)
                .fetch_optional(pool)
                .await?;
                match row {
                    Some(r) => Some((endpoint(&r)?, r.text("secret")?)),
                    None => None,
                }
            });
            match existing {
                None => {
                    let Some(secret) = &put.secret else {
                        return Err(Error::invalid(
                            "signing_secret",
                            "required for a new endpoint",
                        ));
                    };
                    if self.endpoints(tenant).await?.len() >= MAX_ENDPOINTS {
                        return Err(Error::TooManyEndpoints(MAX_ENDPOINTS));
                    }
                    let sealed = self.sealing_key().await?.seal(tenant, secret);
                    let inserted = on_pool!(&self.db, pool => {
                        sqlx::query(
                            "INSERT INTO integration_endpoints \
                             (tenant_id, name, url, description, secret, secret_set_at, \
                              created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $6, $6) \
                             ON CONFLICT (tenant_id, name) DO NOTHING",
                        )
                        .bind(Id(tenant))
                        .bind(&put.name)
                        .bind(&put.url)
                        .bind(&put.description)
                        .bind(&sealed)
                        .bind(Time(now))
                        .execute(pool)
                        .await?
                        .rows_affected()
                    });
                    if inserted == 1 {
                        let created = Endpoint {
                            name: put.name.clone(),
                            url: put.url.clone(),
                            description: put.description.clone(),
                            created_at: now,
                            updated_at: now,
                            secret_set_at: now,
                        };
                        return Ok((created, PutOutcome::Created));
                    }
                }
                Some((mut current, sealed)) => {
                    let new_secret = match &put.secret {
                        Some(s) => *s != self.open_endpoint_secret(tenant, &sealed).await?,
                        None => false,
                    };
                    if !new_secret
                        && current.url == put.url
                        && current.description == put.description
                    {
                        return Ok((current, PutOutcome::Unchanged));
                    }
                    let secret = match (&put.secret, new_secret) {
                        (Some(s), true) => self.sealing_key().await?.seal(tenant, s),
                        _ => sealed.clone(),
                    };
                    let secret_set_at = if new_secret {
                        now
                    } else {
                        current.secret_set_at
                    };
                    // Only the row as read is replaced: a concurrent put
                    // makes this one compare again.
                    let updated = on_pool!(&self.db, pool => {
                        sqlx::query(
                            "UPDATE integration_endpoints \
                             SET url = $3, description = $4, secret = $5, secret_set_at = $6, \
                                 updated_at = $7 \
                             WHERE tenant_id = $1 AND name = $2 AND secret = $8 \
                               AND updated_at = $9",
                        )
                        .bind(Id(tenant))
                        .bind(&put.name)
                        .bind(&put.url)
                        .bind(&put.description)
                        .bind(&secret)
                        .bind(Time(secret_set_at))
                        .bind(Time(now))
                        .bind(&sealed)
                        .bind(Time(current.updated_at))
                        .execute(pool)
                        .await?
                        .rows_affected()
                    });
                    if updated == 1 {
                        current.url = put.url.clone();
                        current.description = put.description.clone();
                        current.secret_set_at = secret_set_at;
                        current.updated_at = now;
                        return Ok((current, PutOutcome::Changed));
                    }
                }
            }
        }
        Err(Error::Contended(
            "the endpoint was changed concurrently; try again",
        ))
    }

    /// Removes endpoint `name`; whether it existed.
    pub async fn delete_endpoint(&self, tenant: Uuid, name: &str) -> Result<bool, Error> {
        on_pool!(&self.db, pool => {
            let deleted = sqlx::query(
                "DELETE FROM integration_endpoints WHERE tenant_id = $1 AND name = $2",
            )
            .bind(Id(tenant))
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(deleted > 0)
        })
    }

    /// Opens a stored endpoint secret, with whichever key sealed it.
    async fn open_endpoint_secret(&self, tenant: Uuid, value: &str) -> Result<String, Error> {
        let stored = Stored::of(value);
        let sealing = self.sealing_key().await?;
        if stored.key_id() == Some(sealing.id()) {
            return Ok(stored.open(tenant, &[sealing])?);
        }
        Ok(stored.open(tenant, &self.opening_keys().await?)?)
    }
}
