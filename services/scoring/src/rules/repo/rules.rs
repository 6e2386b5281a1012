//! Reading rules and their versions (`rules`, `rule_versions`,
//! `rule_requests`).

use rapport_kit::{Db, db::Id, on_pool};
use uuid::Uuid;

use super::records::{RuleRecord, RuleRow, VersionRecord, record};
use crate::error::Error;

/// The rules and their versions.
#[derive(Debug, Clone)]
pub struct RuleRepo {
    pub(crate) db: Db,
}

/// A rules statement that failed: a second rule with a name another holds,
/// or a storage failure.
pub(super) fn rule_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::RuleNameTaken,
        _ => Error::Storage {
            what: "rule",
            source: e,
        },
    }
}

impl RuleRepo {
    /// One rule with its latest version.
    pub async fn get(&self, tenant: Uuid, rule: &str) -> Result<Option<RuleRecord>, Error> {
        let row: Option<RuleRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(concat!(
                include_str!("../../../sql/rules/select_rules.sql"),
                "WHERE r.tenant_id = $1 AND r.rule_id = $2"
            ))
            .bind(Id(tenant))
            .bind(rule)
            .fetch_optional(pool)
            .await
            .map_err(rule_error)?
        });
        Ok(row.map(record))
    }

    /// One rule, which must exist.
    pub async fn must_get(&self, tenant: Uuid, rule: &str) -> Result<RuleRecord, Error> {
        self.get(tenant, rule)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "rule",
                id: rule.to_owned(),
            })
    }

    /// The rule a request id already made a version of.
    pub(super) async fn replay(
        &self,
        tenant: Uuid,
        request_id: &str,
    ) -> Result<Option<String>, Error> {
        on_pool!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT rule_id FROM rule_requests WHERE tenant_id = $1 AND request_id = $2",
            )
            .bind(Id(tenant))
            .bind(request_id)
            .fetch_optional(pool)
            .await
            .map_err(rule_error)
        })
    }

    /// Rules by name after `after`.
    pub async fn list(
        &self,
        tenant: Uuid,
        after: &str,
        limit: u32,
    ) -> Result<Vec<RuleRecord>, Error> {
        let rows: Vec<RuleRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(concat!(
                include_str!("../../../sql/rules/select_rules.sql"),
                "WHERE r.tenant_id = $1 AND r.name > $2 ORDER BY r.name LIMIT $3"
            ))
            .bind(Id(tenant)).bind(after).bind(i64::from(limit))
            .fetch_all(pool).await.map_err(rule_error)?
        });
        Ok(rows.into_iter().map(record).collect())
    }

    /// Versions of `rule`, which must exist, below `before`, newest first.
    pub async fn versions(
        &self,
        tenant: Uuid,
        rule: &str,
        before: i64,
        limit: u32,
    ) -> Result<Vec<VersionRecord>, Error> {
        let rows: Vec<(i64, String, String, i64, Option<i64>)> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../../sql/rules/list_versions.sql"))
                .bind(Id(tenant)).bind(rule).bind(before).bind(i64::from(limit))
                .fetch_all(pool).await.map_err(rule_error)?
        });
        if rows.is_empty() {
            // An empty page is told from a rule that does not exist.
            self.must_get(tenant, rule).await?;
        }
        Ok(rows
            .into_iter()
            .map(|r| VersionRecord {
                version: r.0,
                definition: r.1,
                author: r.2,
                created_at: r.3,
                published_at: r.4,
            })
            .collect())
    }

    /// One version, which must exist.
    pub async fn version(
        &self,
        tenant: Uuid,
        rule: &str,
        version: i64,
    ) -> Result<VersionRecord, Error> {
        let mut v = self.versions(tenant, rule, version + 1, 1).await?;
        v.pop()
            .filter(|v| v.version == version)
            .ok_or_else(|| Error::NotFound {
                what: "rule version",
                id: format!("{rule} v{version}"),
            })
    }

    /// The published versions of the tenant's enabled rules: (rule id,
    /// version, definition JSON).
    pub async fn published(&self, tenant: Uuid) -> Result<Vec<(String, i64, String)>, Error> {
        on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../../sql/rules/published_rules.sql"))
                .bind(Id(tenant))
                .fetch_all(pool)
                .await
                .map_err(rule_error)
        })
    }
}
