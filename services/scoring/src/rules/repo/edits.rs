//! Editing rules: a new rule, a new version over the latest (published at
//! once for rollbacks), publishing a version, pausing. Every edit carries a
//! request id, so a retried edit returns what the first one made.

use rapport_kit::{db::Id, on_pool};
use uuid::Uuid;

use super::{
    records::{NewVersion, RuleRecord},
    rules::{RuleRepo, rule_error},
};
use crate::error::Error;

impl RuleRepo {
    /// A new rule at version 1 (a draft); `false` when `v.request_id` had
    /// already created one (that rule is returned).
    pub async fn create(
        &self,
        tenant: Uuid,
        v: NewVersion<'_>,
    ) -> Result<(RuleRecord, bool), Error> {
        if let Some(rule) = self.replay(tenant, v.request_id).await? {
            return Ok((self.must_get(tenant, &rule).await?, false));
        }
        let rule = Uuid::new_v4().to_string();
        if !self
            .insert_rule(tenant, &rule, &v)
            .await
            .map_err(rule_error)?
        {
            return self.create_replayed(tenant, v.request_id).await;
        }
        Ok((self.must_get(tenant, &rule).await?, true))
    }

    /// Inserts the rule, its first version and the request; `false` when the
    /// request id was taken meanwhile (nothing is kept).
    async fn insert_rule(
        &self,
        tenant: Uuid,
        rule: &str,
        v: &NewVersion<'_>,
    ) -> Result<bool, sqlx::Error> {
        let t = Id(tenant);
        Ok(on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(include_str!("../../../sql/rules/insert_rule.sql"))
                .bind(t).bind(rule).bind(v.name).bind(v.now)
                .execute(&mut *tx).await?;
            sqlx::query(include_str!("../../../sql/rules/insert_version.sql"))
                .bind(t).bind(rule).bind(1i64).bind(v.definition).bind(v.author)
                .bind(v.now).bind(None::<i64>)
                .execute(&mut *tx).await?;
            let done = sqlx::query(include_str!("../../../sql/rules/insert_request.sql"))
                .bind(t).bind(v.request_id).bind("create").bind(rule).bind(1i64)
                .execute(&mut *tx).await?;
            if done.rows_affected() == 1 {
                tx.commit().await?;
                true
            } else {
                false
            }
        }))
    }

    async fn create_replayed(
        &self,
        tenant: Uuid,
        request_id: &str,
    ) -> Result<(RuleRecord, bool), Error> {
        let rule = self
            .replay(tenant, request_id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "rule",
                id: request_id.to_owned(),
            })?;
        Ok((self.must_get(tenant, &rule).await?, false))
    }

    /// A new latest version over `expected`; published at once when
    /// `publish` (rollbacks).
    pub async fn add_version(
        &self,
        tenant: Uuid,
        rule: &str,
        expected: i64,
        v: NewVersion<'_>,
        publish: bool,
    ) -> Result<(RuleRecord, bool), Error> {
        if let Some(done) = self.replay(tenant, v.request_id).await? {
            if done != rule {
                return Err(Error::RequestReused);
            }
            return Ok((self.must_get(tenant, &done).await?, false));
        }
        let outcome = self
            .insert_version(tenant, rule, expected, &v, publish)
            .await
            .map_err(rule_error)?;
        match outcome {
            Some(true) => Ok((self.must_get(tenant, rule).await?, true)),
            Some(false) => self.create_replayed(tenant, v.request_id).await,
            None => {
                let current = self.must_get(tenant, rule).await?;
                Err(Error::RuleStale {
                    expected,
                    latest: current.latest_version,
                })
            }
        }
    }

    /// Bumps the rule from `expected` and inserts the version (and the
    /// request): `None` when the rule is no longer at `expected`, `false`
    /// when the request id was taken meanwhile (nothing is kept).
    async fn insert_version(
        &self,
        tenant: Uuid,
        rule: &str,
        expected: i64,
        v: &NewVersion<'_>,
        publish: bool,
    ) -> Result<Option<bool>, sqlx::Error> {
        let t = Id(tenant);
        let next = expected + 1;
        let published_at = publish.then_some(v.now);
        Ok(on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let bumped = sqlx::query(include_str!("../../../sql/rules/bump_rule.sql"))
                .bind(t).bind(rule).bind(v.name).bind(expected).bind(v.now)
                .execute(&mut *tx).await?;
            if bumped.rows_affected() == 0 {
                None
            } else {
                sqlx::query(include_str!("../../../sql/rules/insert_version.sql"))
                    .bind(t).bind(rule).bind(next).bind(v.definition).bind(v.author)
                    .bind(v.now).bind(published_at)
                    .execute(&mut *tx).await?;
                if publish {
                    sqlx::query(include_str!("../../../sql/rules/publish_rule.sql"))
                        .bind(t).bind(rule).bind(next).bind(v.now)
                        .execute(&mut *tx).await?;
                    sqlx::query(include_str!("../../../sql/rules/schedule_tenant.sql"))
                        .bind(t).bind(v.now)
                        .execute(&mut *tx).await?;
                }
                let done = sqlx::query(include_str!("../../../sql/rules/insert_request.sql"))
                    .bind(t).bind(v.request_id).bind("version").bind(rule).bind(next)
                    .execute(&mut *tx).await?;
                if done.rows_affected() == 1 {
                    tx.commit().await?;
                    Some(true)
                } else {
                    Some(false)
                }
            }
        }))
    }

    /// Makes `version` the published one (idempotent).
    pub async fn publish(
        &self,
        tenant: Uuid,
        rule: &str,
        version: i64,
        now: i64,
    ) -> Result<RuleRecord, Error> {
        if !self
            .mark_published(tenant, rule, version, now)
            .await
            .map_err(rule_error)?
        {
            self.must_get(tenant, rule).await?;
            return Err(Error::NotFound {
                what: "rule version",
                id: format!("{rule} v{version}"),
            });
        }
        self.must_get(tenant, rule).await
    }

    /// Marks the version and the rule published and schedules the tenant's
    /// pass; `false` when there is no such version.
    async fn mark_published(
        &self,
        tenant: Uuid,
        rule: &str,
        version: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let t = Id(tenant);
        Ok(on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let marked = sqlx::query(include_str!("../../../sql/rules/publish_version.sql"))
                .bind(t).bind(rule).bind(version).bind(now)
                .execute(&mut *tx).await?;
            if marked.rows_affected() == 1 {
                sqlx::query(include_str!("../../../sql/rules/publish_rule.sql"))
                    .bind(t).bind(rule).bind(version).bind(now)
                    .execute(&mut *tx).await?;
                sqlx::query(include_str!("../../../sql/rules/schedule_tenant.sql"))
                    .bind(t).bind(now)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                true
            } else {
                false
            }
        }))
    }

    /// Pauses or resumes a rule (idempotent).
    pub async fn set_enabled(
        &self,
        tenant: Uuid,
        rule: &str,
        enabled: bool,
        now: i64,
    ) -> Result<RuleRecord, Error> {
        on_pool!(&self.db, pool => {
            sqlx::query(include_str!("../../../sql/rules/set_enabled.sql"))
                .bind(Id(tenant)).bind(rule).bind(enabled).bind(now)
                .execute(pool).await.map_err(rule_error)?;
        });
        self.must_get(tenant, rule).await
    }
}
