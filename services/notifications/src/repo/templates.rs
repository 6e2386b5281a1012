//! Templates: every version is kept, the highest is the current one.

use rapport_kit::{
    db::{Id, Time},
    on_pool,
};
use uuid::Uuid;

use super::{
    Repository, TemplateKey,
    rows::{sql_int, template},
};
use crate::{error::Error, model::Template};

impl Repository {
    /// The latest version of template `name` on `channel`: in `locale`, or
    /// for `None` in the locale marked as the default.
    pub async fn template(
        &self,
        tenant: Uuid,
        name: &str,
        channel: &str,
        locale: Option<&str>,
    ) -> Result<Option<Template>, Error> {
        on_pool!(&self.db, pool => {
            let query = match locale {
                Some(locale) => sqlx::query(include_str!("../../sql/template_latest.sql"))
                    .bind(Id(tenant))
                    .bind(name)
                    .bind(channel)
                    .bind(locale),
                None => sqlx::query(include_str!("../../sql/template_default.sql"))
                    .bind(Id(tenant))
                    .bind(name)
                    .bind(channel),
            };
            let row = query.fetch_optional(pool).await?;
            row.as_ref().map(template).transpose()
        })
    }

    /// Latest versions after `after` (name, channel, locale), at most `limit`.
    pub async fn templates(
        &self,
        tenant: Uuid,
        after: (&str, &str, &str),
        limit: u32,
    ) -> Result<Vec<Template>, Error> {
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(include_str!("../../sql/template_list.sql"))
                .bind(Id(tenant))
                .bind(after.0)
                .bind(after.1)
                .bind(after.2)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(template).collect()
        })
    }

    /// Saves `t` as the next version unless it equals the latest; returns
    /// the latest version and whether this call created it.
    pub async fn put_template(
        &self,
        tenant: Uuid,
        mut t: Template,
    ) -> Result<(Template, bool), Error> {
        let latest = self.latest(tenant, &t).await?;
        if let Some(latest) = &latest
            && latest.same_content(&t)
        {
            return Ok((latest.clone(), false));
        }
        t.version = latest.map_or(1, |l| l.version + 1);
        let required =
            serde_json::to_string(&t.required_data).map_err(|e| Error::Corrupt(e.to_string()))?;
        // The version is part of the key: of two racing puts one inserts,
        // the other finds the row taken and reports the winner.
        let inserted = on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../sql/template_insert.sql"))
                .bind(Id(tenant))
                .bind(&t.name)
                .bind(&t.channel)
                .bind(&t.locale)
                .bind(sql_int(t.version))
                .bind(&t.subject)
                .bind(&t.body)
                .bind(&required)
                .bind(t.default_locale)
                .bind(Time(t.updated_at))
                .execute(pool)
                .await?
                .rows_affected()
        });
        if inserted == 1 {
            return Ok((t, true));
        }
        let latest = self.latest(tenant, &t).await?;
        latest
            .map(|l| (l, false))
            .ok_or_else(|| Error::Corrupt("template vanished during a put".into()))
    }

    /// The latest stored version of `t`.
    async fn latest(&self, tenant: Uuid, t: &Template) -> Result<Option<Template>, Error> {
        self.template(tenant, &t.name, &t.channel, Some(&t.locale))
            .await
    }

    /// Deletes every version of a template; true when there was one.
    pub async fn delete_template(&self, tenant: Uuid, key: TemplateKey<'_>) -> Result<bool, Error> {
        let deleted = on_pool!(&self.db, pool => {
            sqlx::query(
                "DELETE FROM templates WHERE tenant_id = $1 AND name = $2 AND channel = $3 AND locale = $4",
            )
            .bind(Id(tenant))
            .bind(key.name)
            .bind(key.channel)
            .bind(key.locale)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted > 0)
    }
}
