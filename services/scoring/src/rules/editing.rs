//! Editing rules: a definition checked against the tenant's tiers and
//! integration endpoints, new rules and versions, publishing and rolling
//! back. Every edit is idempotent through its request id.

use chrono::Utc;
use rapport_kit::{FieldErrors, domain::to_micros};
use rapport_proto::v1::RuleDefinition;
use uuid::Uuid;

use super::{
    Rules,
    definition::Definition,
    repo::{NewVersion, RuleRecord},
    validate,
};
use crate::error::Error;

/// Tries a rollback makes before giving up under concurrent edits.
const ROLLBACK_ATTEMPTS: usize = 5;

/// Who makes an edit, and its idempotency key.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// Unique per edit; a retry with the same key changes nothing.
    pub request_id: String,
    /// Who.
    pub author: String,
}

impl Edit {
    fn version<'a>(&'a self, def: &'a Definition, json: &'a str) -> NewVersion<'a> {
        NewVersion {
            request_id: &self.request_id,
            author: &self.author,
            name: &def.name,
            definition: json,
            now: to_micros(Utc::now()),
        }
    }
}

/// A stored definition; the store only ever holds valid JSON it wrote.
pub fn parse_definition(json: &str) -> Result<Definition, Error> {
    serde_json::from_str(json)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored rule definition: {e}")))
}

fn to_json(def: &Definition) -> Result<String, Error> {
    serde_json::to_string(def).map_err(|e| Error::Internal(e.into()))
}

impl Rules {
    /// The tenant's tier names, for SetTier actions.
    pub async fn tiers(&self, tenant: Uuid) -> Result<Vec<String>, Error> {
        let s = self.scores.states.settings(tenant).await?;
        Ok(s.settings.tiers.into_iter().map(|t| t.name).collect())
    }

    /// `d` checked for saving, after the other violations of the request
    /// (`errors`): every violation on failure. The endpoints it posts to are
    /// looked up once the rest of it is valid (`Unavailable` when the
    /// notifications service cannot be asked: nothing is saved).
    pub async fn checked(
        &self,
        tenant: Uuid,
        d: Option<&RuleDefinition>,
        mut errors: FieldErrors,
    ) -> Result<Definition, Error> {
        let Some(d) = d else {
            errors.add("definition", "required");
            return Err(Error::Invalid(errors));
        };
        let tiers = self.tiers(tenant).await?;
        let diagnostics = match validate::check(d, &tiers) {
            Ok((def, _)) => {
                let missing = self.endpoint_diagnostics(tenant, &def).await?;
                if missing.is_empty() {
                    crate::error::valid(errors)?;
                    return Ok(def);
                }
                missing
            }
            Err(diagnostics) => diagnostics,
        };
        for (f, r) in validate::to_field_errors(&diagnostics).violations() {
            errors.add(f, r);
        }
        Err(Error::Invalid(errors))
    }

    /// A new rule (a draft at version 1); `false` when the request id had
    /// already made it.
    pub async fn create(
        &self,
        tenant: Uuid,
        edit: &Edit,
        def: &Definition,
    ) -> Result<(RuleRecord, bool), Error> {
        let json = to_json(def)?;
        self.repo.create(tenant, edit.version(def, &json)).await
    }

    /// A new draft version of `rule` over version `expected`.
    pub async fn update(
        &self,
        tenant: Uuid,
        rule: &str,
        expected: i64,
        edit: &Edit,
        def: &Definition,
    ) -> Result<(RuleRecord, bool), Error> {
        let json = to_json(def)?;
        let v = edit.version(def, &json);
        self.repo
            .add_version(tenant, rule, expected, v, false)
            .await
    }

    /// Makes `version` the published one (idempotent). A version posting to
    /// an integration endpoint deleted since it was saved is refused, unless
    /// it is already the published one.
    pub async fn publish(
        &self,
        tenant: Uuid,
        rule: &str,
        version: i64,
    ) -> Result<RuleRecord, Error> {
        let current = self.repo.must_get(tenant, rule).await?;
        if current.published_version != version {
            let v = if current.latest.version == version {
                current.latest
            } else {
                self.repo.version(tenant, rule, version).await?
            };
            let def = parse_definition(&v.definition)?;
            self.require_endpoints(tenant, version, &def).await?;
        }
        let now = to_micros(Utc::now());
        let r = self.repo.publish(tenant, rule, version, now).await?;
        tracing::info!(rule = %rule, version, "rule published");
        Ok(r)
    }

    /// A new version copying `to_version`, published at once.
    pub async fn rollback(
        &self,
        tenant: Uuid,
        rule: &str,
        to_version: i64,
        edit: &Edit,
    ) -> Result<(RuleRecord, bool), Error> {
        let target = self.repo.version(tenant, rule, to_version).await?;
        let def = parse_definition(&target.definition)?;
        self.require_endpoints(tenant, to_version, &def).await?;
        // Another editor may save a version between our read and our write;
        // try again on the new latest, a few times, then let the caller retry.
        for _ in 0..ROLLBACK_ATTEMPTS {
            let current = self.repo.must_get(tenant, rule).await?;
            let v = edit.version(&def, &target.definition);
            match self
                .repo
                .add_version(tenant, rule, current.latest_version, v, true)
                .await
            {
                Err(Error::RuleStale { .. }) => continue,
                other => return other,
            }
        }
        Err(Error::Unavailable(format!(
            "rule {rule} kept changing during the rollback; retry"
        )))
    }
}
