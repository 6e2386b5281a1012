//! Per-tenant settings: templates (every version kept), the contact policy
//! and the webhook signing secret, for both backends.

use chrono::{DateTime, Utc};
use rapport_kit::{
    Db,
    domain::{from_micros, to_micros},
};
use sqlx::Row;
use uuid::Uuid;

use super::{Repository, StoreError, count, sql_int};
use crate::model::{ContactPolicy, Template};

const TEMPLATE_LATEST: &str = include_str!("../../sql/template_latest.sql");
const TEMPLATE_DEFAULT: &str = include_str!("../../sql/template_default.sql");
const TEMPLATE_INSERT: &str = include_str!("../../sql/template_insert.sql");
const TEMPLATE_LIST: &str = include_str!("../../sql/template_list.sql");
const TEMPLATE_DELETE: &str =
    "DELETE FROM templates WHERE tenant_id = $1 AND name = $2 AND channel = $3 AND locale = $4";
const POLICY_GET: &str = "SELECT max_messages, window_hours, cool_down_hours, quiet_start_hour, \
     quiet_end_hour FROM contact_policies WHERE tenant_id = $1";
const POLICY_UPSERT: &str = include_str!("../../sql/policy_upsert.sql");
const SECRET_GET: &str = "SELECT secret FROM webhook_secrets WHERE tenant_id = $1";
const SECRET_UPSERT: &str = include_str!("../../sql/secret_upsert.sql");

/// The natural key of a template.
#[derive(Debug, Clone, Copy)]
pub struct TemplateKey<'a> {
    /// Its name.
    pub name: &'a str,
    /// Stored channel name.
    pub channel: &'a str,
    /// Its locale.
    pub locale: &'a str,
}

/// Reads a template row of either backend.
macro_rules! template_row {
    ($r:expr, $updated:expr) => {{
        let r = $r;
        let required: String = r.try_get("required_data")?;
        Template {
            name: r.try_get("name")?,
            channel: r.try_get("channel")?,
            locale: r.try_get("locale")?,
            version: count(i64::from(r.try_get::<i32, _>("version")?), "version")?,
            subject: r.try_get("subject")?,
            body: r.try_get("body")?,
            required_data: serde_json::from_str(&required)
                .map_err(|e| StoreError::Corrupt(format!("required_data: {e}")))?,
            default_locale: r.try_get("default_locale")?,
            updated_at: $updated(r)?,
        }
    }};
}

/// Runs `$query` with the tenant and `$binds`, bound in each backend's form.
macro_rules! fetch_templates {
    ($db:expr, $query:expr, $tenant:expr, [$($bind:expr),*], $fetch:ident) => {
        match $db {
            Db::Postgres(pool) => {
                let rows = sqlx::query($query).bind($tenant)$(.bind($bind))*.$fetch(pool).await?;
                rows.into_iter()
                    .map(|r| Ok(template_row!(&r, |r: &sqlx::postgres::PgRow| r.try_get::<DateTime<Utc>, _>("updated_at"))))
                    .collect::<Result<Vec<Template>, StoreError>>()
            }
            Db::Sqlite(pool) => {
                let rows = sqlx::query($query).bind($tenant.to_string())$(.bind($bind))*.$fetch(pool).await?;
                rows.into_iter()
                    .map(|r| Ok(template_row!(&r, |r: &sqlx::sqlite::SqliteRow| r.try_get::<i64, _>("updated_at").map(from_micros))))
                    .collect::<Result<Vec<Template>, StoreError>>()
            }
        }
    };
}

impl Repository {
    /// The latest version of a template.
    pub async fn template(
        &self,
        tenant: Uuid,
        key: TemplateKey<'_>,
    ) -> Result<Option<Template>, StoreError> {
        let rows = fetch_templates!(
            &self.db,
            TEMPLATE_LATEST,
            tenant,
            [key.name, key.channel, key.locale],
            fetch_optional
        )?;
        Ok(rows.into_iter().next())
    }

    /// The latest version of the default-locale template of `name` on `channel`.
    pub async fn default_template(
        &self,
        tenant: Uuid,
        name: &str,
        channel: &str,
    ) -> Result<Option<Template>, StoreError> {
        let rows = fetch_templates!(
            &self.db,
            TEMPLATE_DEFAULT,
            tenant,
            [name, channel],
            fetch_optional
        )?;
        Ok(rows.into_iter().next())
    }

    /// Latest versions after `after` (name, channel, locale), at most `limit`.
    pub async fn templates(
        &self,
        tenant: Uuid,
        after: (&str, &str, &str),
        limit: u32,
    ) -> Result<Vec<Template>, StoreError> {
        fetch_templates!(
            &self.db,
            TEMPLATE_LIST,
            tenant,
            [after.0, after.1, after.2, i64::from(limit)],
            fetch_all
        )
    }

    /// Saves `t` as the next version unless it equals the latest; returns
    /// the latest version and whether this call created it.
    pub async fn put_template(
        &self,
        tenant: Uuid,
        mut t: Template,
    ) -> Result<(Template, bool), StoreError> {
        let key = TemplateKey {
            name: &t.name,
            channel: &t.channel,
            locale: &t.locale,
        };
        let latest = self.template(tenant, key).await?;
        if let Some(latest) = &latest
            && latest.same_content(&t)
        {
            return Ok((latest.clone(), false));
        }
        t.version = latest.map_or(1, |l| l.version + 1);
        let required = serde_json::to_string(&t.required_data)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // The version is part of the key: of two racing puts one inserts,
        // the other finds the row taken and reports the winner.
        let inserted = match &self.db {
            Db::Postgres(pool) => sqlx::query(TEMPLATE_INSERT)
                .bind(tenant)
                .bind(&t.name)
                .bind(&t.channel)
                .bind(&t.locale)
                .bind(sql_int(t.version))
                .bind(&t.subject)
                .bind(&t.body)
                .bind(&required)
                .bind(t.default_locale)
                .bind(t.updated_at)
                .execute(pool)
                .await?
                .rows_affected(),
            Db::Sqlite(pool) => sqlx::query(TEMPLATE_INSERT)
                .bind(tenant.to_string())
                .bind(&t.name)
                .bind(&t.channel)
                .bind(&t.locale)
                .bind(sql_int(t.version))
                .bind(&t.subject)
                .bind(&t.body)
                .bind(&required)
                .bind(t.default_locale)
                .bind(to_micros(t.updated_at))
                .execute(pool)
                .await?
                .rows_affected(),
        };
        if inserted == 1 {
            return Ok((t, true));
        }
        let key = TemplateKey {
            name: &t.name,
            channel: &t.channel,
            locale: &t.locale,
        };
        let latest = self.template(tenant, key).await?;
        latest
            .map(|l| (l, false))
            .ok_or_else(|| StoreError::Corrupt("template vanished during a put".into()))
    }

    /// Deletes every version of a template; true when there was one.
    pub async fn delete_template(
        &self,
        tenant: Uuid,
        key: TemplateKey<'_>,
    ) -> Result<bool, StoreError> {
        let deleted = match &self.db {
            Db::Postgres(pool) => sqlx::query(TEMPLATE_DELETE)
                .bind(tenant)
                .bind(key.name)
                .bind(key.channel)
                .bind(key.locale)
                .execute(pool)
                .await?
                .rows_affected(),
            Db::Sqlite(pool) => sqlx::query(TEMPLATE_DELETE)
                .bind(tenant.to_string())
                .bind(key.name)
                .bind(key.channel)
                .bind(key.locale)
                .execute(pool)
                .await?
                .rows_affected(),
        };
        Ok(deleted > 0)
    }

    /// The tenant's contact policy, or the defaults.
    pub async fn policy(&self, tenant: Uuid) -> Result<ContactPolicy, StoreError> {
        let row: Option<[i32; 5]> = match &self.db {
            Db::Postgres(pool) => sqlx::query(POLICY_GET)
                .bind(tenant)
                .fetch_optional(pool)
                .await?
                .map(|r| policy_columns(|i| r.try_get::<i32, _>(i)))
                .transpose()?,
            Db::Sqlite(pool) => sqlx::query(POLICY_GET)
                .bind(tenant.to_string())
                .fetch_optional(pool)
                .await?
                .map(|r| policy_columns(|i| r.try_get::<i32, _>(i)))
                .transpose()?,
        };
        let Some(v) = row else {
            return Ok(ContactPolicy::default());
        };
        let n = |i: usize| count(i64::from(v[i]), "contact policy");
        Ok(ContactPolicy {
            max_messages: n(0)?,
            window_hours: n(1)?,
            cool_down_hours: n(2)?,
            quiet_start_hour: n(3)?,
            quiet_end_hour: n(4)?,
        })
    }

    /// Replaces the tenant's contact policy.
    pub async fn put_policy(&self, tenant: Uuid, p: &ContactPolicy) -> Result<(), StoreError> {
        let values = [
            p.max_messages,
            p.window_hours,
            p.cool_down_hours,
            p.quiet_start_hour,
            p.quiet_end_hour,
        ]
        .map(sql_int);
        match &self.db {
            Db::Postgres(pool) => {
                let mut q = sqlx::query(POLICY_UPSERT).bind(tenant);
                for v in values {
                    q = q.bind(v);
                }
                q.execute(pool).await?;
            }
            Db::Sqlite(pool) => {
                let mut q = sqlx::query(POLICY_UPSERT).bind(tenant.to_string());
                for v in values {
                    q = q.bind(v);
                }
                q.execute(pool).await?;
            }
        }
        Ok(())
    }

    /// The tenant's webhook signing secret, if one was rotated in.
    pub async fn webhook_secret(&self, tenant: Uuid) -> Result<Option<String>, StoreError> {
        Ok(match &self.db {
            Db::Postgres(pool) => sqlx::query(SECRET_GET)
                .bind(tenant)
                .fetch_optional(pool)
                .await?
                .map(|r| r.try_get("secret"))
                .transpose()?,
            Db::Sqlite(pool) => sqlx::query(SECRET_GET)
                .bind(tenant.to_string())
                .fetch_optional(pool)
                .await?
                .map(|r| r.try_get("secret"))
                .transpose()?,
        })
    }

    /// Stores `secret` as the tenant's webhook signing secret.
    pub async fn set_webhook_secret(
        &self,
        tenant: Uuid,
        secret: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match &self.db {
            Db::Postgres(pool) => {
                sqlx::query(SECRET_UPSERT)
                    .bind(tenant)
                    .bind(secret)
                    .bind(at)
                    .execute(pool)
                    .await?;
            }
            Db::Sqlite(pool) => {
                sqlx::query(SECRET_UPSERT)
                    .bind(tenant.to_string())
                    .bind(secret)
                    .bind(to_micros(at))
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }
}

fn policy_columns(
    get: impl Fn(usize) -> Result<i32, sqlx::Error>,
) -> Result<[i32; 5], sqlx::Error> {
    Ok([get(0)?, get(1)?, get(2)?, get(3)?, get(4)?])
}
