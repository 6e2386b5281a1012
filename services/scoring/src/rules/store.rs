//! Rules and their versions (`rules`, `rule_versions`, `rule_requests`). The
//! rules tables keep ids as text and times as microseconds on both backends,
//! so every statement here is one SQL text run on either pool.

use rapport_kit::{ApiError, Db, error::classify_db_error};
use uuid::Uuid;

pub(crate) use rapport_kit::on_pool;

/// Why a rules write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No such rule for this tenant.
    #[error("rule {0} not found")]
    NotFound(String),
    /// No such version of the rule.
    #[error("version {1} of rule {0} not found")]
    VersionNotFound(String, i64),
    /// The request id already made a version of another rule.
    #[error("request_id was already used for another rule")]
    RequestReused,
    /// The update was made against an older version.
    #[error("the rule is at version {latest}; the update was made against {expected}")]
    Stale {
        /// What the caller expected.
        expected: i64,
        /// What is stored.
        latest: i64,
    },
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Db(e) => match classify_db_error(e, "rule") {
                ApiError::AlreadyExists { .. } => ApiError::AlreadyExists {
                    reason: "RULE_NAME_TAKEN",
                    message: "another rule of this tenant has that name".into(),
                },
                other => other,
            },
            StoreError::NotFound(id) => ApiError::NotFound { what: "rule", id },
            StoreError::VersionNotFound(id, v) => ApiError::NotFound {
                what: "rule version",
                id: format!("{id} v{v}"),
            },
            e @ StoreError::RequestReused => ApiError::invalid("request_id", e.to_string()),
            e @ StoreError::Stale { .. } => ApiError::FailedPrecondition {
                reason: "RULE_VERSION_STALE",
                message: e.to_string(),
            },
        }
    }
}

/// One stored version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// 1, 2, ...
    pub version: i64,
    /// The definition as JSON.
    pub definition: String,
    /// Who made it.
    pub author: String,
    /// Microseconds.
    pub created_at: i64,
    /// Microseconds; `None` until published.
    pub published_at: Option<i64>,
}

/// A rule with its latest version.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    /// Rule id.
    pub id: String,
    /// Unique per tenant.
    pub name: String,
    /// Latest version number.
    pub latest_version: i64,
    /// Published version number, 0 for none.
    pub published_version: i64,
    /// Paused rules are not evaluated.
    pub enabled: bool,
    /// Microseconds.
    pub created_at: i64,
    /// Microseconds.
    pub updated_at: i64,
    /// The latest version.
    pub latest: VersionRecord,
}

type RuleRow = (
    String,
    String,
    i64,
    i64,
    bool,
    i64,
    i64,
    i64,
    String,
    String,
    i64,
    Option<i64>,
);

fn record(r: RuleRow) -> RuleRecord {
    RuleRecord {
        id: r.0,
        name: r.1,
        latest_version: r.2,
        published_version: r.3,
        enabled: r.4,
        created_at: r.5,
        updated_at: r.6,
        latest: VersionRecord {
            version: r.7,
            definition: r.8,
            author: r.9,
            created_at: r.10,
            published_at: r.11,
        },
    }
}

/// What a new version is.
pub struct NewVersion<'a> {
    /// The idempotency key.
    pub request_id: &'a str,
    /// Who.
    pub author: &'a str,
    /// The rule's name in it.
    pub name: &'a str,
    /// JSON.
    pub definition: &'a str,
    /// Microseconds.
    pub now: i64,
}

/// The rules repository.
#[derive(Debug, Clone)]
pub struct RuleStore {
    pub(crate) db: Db,
}

impl RuleStore {
    /// One rule with its latest version.
    pub async fn get(&self, tenant: Uuid, rule: &str) -> Result<Option<RuleRecord>, sqlx::Error> {
        let row: Option<RuleRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../sql/rules/select_rule.sql"))
                .bind(tenant.to_string())
                .bind(rule)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(record))
    }

    async fn must_get(&self, tenant: Uuid, rule: &str) -> Result<RuleRecord, StoreError> {
        self.get(tenant, rule)
            .await?
            .ok_or_else(|| StoreError::NotFound(rule.to_owned()))
    }

    /// The rule a request id already made a version of.
    async fn replay(&self, tenant: Uuid, request_id: &str) -> Result<Option<String>, sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT rule_id FROM rule_requests WHERE tenant_id = $1 AND request_id = $2",
            )
            .bind(tenant.to_string())
            .bind(request_id)
            .fetch_optional(pool)
            .await
        })
    }

    /// A new rule at version 1 (a draft); `false` when `v.request_id` had
    /// already created one (that rule is returned).
    pub async fn create(
        &self,
        tenant: Uuid,
        v: NewVersion<'_>,
    ) -> Result<(RuleRecord, bool), StoreError> {
        if let Some(rule) = self.replay(tenant, v.request_id).await? {
            return Ok((self.must_get(tenant, &rule).await?, false));
        }
        let rule = Uuid::new_v4().to_string();
        let t = tenant.to_string();
        let inserted = on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(include_str!("../../sql/rules/insert_rule.sql"))
                .bind(&t).bind(&rule).bind(v.name).bind(v.now)
                .execute(&mut *tx).await?;
            sqlx::query(include_str!("../../sql/rules/insert_version.sql"))
                .bind(&t).bind(&rule).bind(1i64).bind(v.definition).bind(v.author)
                .bind(v.now).bind(None::<i64>)
                .execute(&mut *tx).await?;
            let done = sqlx::query(include_str!("../../sql/rules/insert_request.sql"))
                .bind(&t).bind(v.request_id).bind("create").bind(&rule).bind(1i64)
                .execute(&mut *tx).await?;
            if done.rows_affected() == 1 {
                tx.commit().await?;
                true
            } else {
                false
            }
        });
        if !inserted {
            return self.create_replayed(tenant, v.request_id).await;
        }
        Ok((self.must_get(tenant, &rule).await?, true))
    }

    async fn create_replayed(
        &self,
        tenant: Uuid,
        request_id: &str,
    ) -> Result<(RuleRecord, bool), StoreError> {
        let rule = self
            .replay(tenant, request_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(request_id.to_owned()))?;
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
    ) -> Result<(RuleRecord, bool), StoreError> {
        if let Some(done) = self.replay(tenant, v.request_id).await? {
            if done != rule {
                return Err(StoreError::RequestReused);
            }
            return Ok((self.must_get(tenant, &done).await?, false));
        }
        let t = tenant.to_string();
        let next = expected + 1;
        let published_at = publish.then_some(v.now);
        let outcome: Option<bool> = on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let bumped = sqlx::query(include_str!("../../sql/rules/bump_rule.sql"))
                .bind(&t).bind(rule).bind(v.name).bind(expected).bind(v.now)
                .execute(&mut *tx).await?;
            if bumped.rows_affected() == 0 {
                None
            } else {
                sqlx::query(include_str!("../../sql/rules/insert_version.sql"))
                    .bind(&t).bind(rule).bind(next).bind(v.definition).bind(v.author)
                    .bind(v.now).bind(published_at)
                    .execute(&mut *tx).await?;
                if publish {
                    sqlx::query(include_str!("../../sql/rules/publish_rule.sql"))
                        .bind(&t).bind(rule).bind(next).bind(v.now)
                        .execute(&mut *tx).await?;
                    sqlx::query(include_str!("../../sql/rules/schedule_tenant.sql"))
                        .bind(&t).bind(v.now)
                        .execute(&mut *tx).await?;
                }
                let done = sqlx::query(include_str!("../../sql/rules/insert_request.sql"))
                    .bind(&t).bind(v.request_id).bind("version").bind(rule).bind(next)
                    .execute(&mut *tx).await?;
                if done.rows_affected() == 1 {
                    tx.commit().await?;
                    Some(true)
                } else {
                    Some(false)
                }
            }
        });
        match outcome {
            Some(true) => Ok((self.must_get(tenant, rule).await?, true)),
            Some(false) => self.create_replayed(tenant, v.request_id).await,
            None => {
                let current = self.must_get(tenant, rule).await?;
                Err(StoreError::Stale {
                    expected,
                    latest: current.latest_version,
                })
            }
        }
    }

    /// Makes `version` the published one (idempotent).
    pub async fn publish(
        &self,
        tenant: Uuid,
        rule: &str,
        version: i64,
        now: i64,
    ) -> Result<RuleRecord, StoreError> {
        let t = tenant.to_string();
        let found = on_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let marked = sqlx::query(include_str!("../../sql/rules/publish_version.sql"))
                .bind(&t).bind(rule).bind(version).bind(now)
                .execute(&mut *tx).await?;
            if marked.rows_affected() == 1 {
                sqlx::query(include_str!("../../sql/rules/publish_rule.sql"))
                    .bind(&t).bind(rule).bind(version).bind(now)
                    .execute(&mut *tx).await?;
                sqlx::query(include_str!("../../sql/rules/schedule_tenant.sql"))
                    .bind(&t).bind(now)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                true
            } else {
                false
            }
        });
        if !found {
            self.must_get(tenant, rule).await?;
            return Err(StoreError::VersionNotFound(rule.to_owned(), version));
        }
        self.must_get(tenant, rule).await
    }

    /// Pauses or resumes a rule (idempotent).
    pub async fn set_enabled(
        &self,
        tenant: Uuid,
        rule: &str,
        enabled: bool,
        now: i64,
    ) -> Result<RuleRecord, StoreError> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE rules SET enabled = $3, \
                 updated_at = CASE WHEN enabled = $3 THEN updated_at ELSE $4 END \
                 WHERE tenant_id = $1 AND rule_id = $2",
            )
            .bind(tenant.to_string()).bind(rule).bind(enabled).bind(now)
            .execute(pool).await?;
        });
        self.must_get(tenant, rule).await
    }

    /// Rules by name after `after`.
    pub async fn list(
        &self,
        tenant: Uuid,
        after: &str,
        limit: u32,
    ) -> Result<Vec<RuleRecord>, sqlx::Error> {
        let rows: Vec<RuleRow> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../sql/rules/list_rules.sql"))
                .bind(tenant.to_string()).bind(after).bind(i64::from(limit))
                .fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(record).collect())
    }

    /// Versions below `before`, newest first.
    pub async fn versions(
        &self,
        tenant: Uuid,
        rule: &str,
        before: i64,
        limit: u32,
    ) -> Result<Vec<VersionRecord>, sqlx::Error> {
        let rows: Vec<(i64, String, String, i64, Option<i64>)> = on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../sql/rules/list_versions.sql"))
                .bind(tenant.to_string()).bind(rule).bind(before).bind(i64::from(limit))
                .fetch_all(pool).await?
        });
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

    /// One version.
    pub async fn version(
        &self,
        tenant: Uuid,
        rule: &str,
        version: i64,
    ) -> Result<VersionRecord, StoreError> {
        let mut v = self.versions(tenant, rule, version + 1, 1).await?;
        match v.pop() {
            Some(v) if v.version == version => Ok(v),
            _ => {
                self.must_get(tenant, rule).await?;
                Err(StoreError::VersionNotFound(rule.to_owned(), version))
            }
        }
    }

    /// The published versions of the tenant's enabled rules: (rule id,
    /// version, definition JSON).
    pub async fn published(&self, tenant: Uuid) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
        on_pool!(&self.db, pool => {
            sqlx::query_as(include_str!("../../sql/rules/published_rules.sql"))
                .bind(tenant.to_string())
                .fetch_all(pool)
                .await
        })
    }
}
