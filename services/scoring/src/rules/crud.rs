//! The rule-editing RPCs behind the handlers (create, update, roll back) and
//! the contract's forms of stored rules. Publish and pause are single store
//! calls in the handlers; reads are in `query.rs`.

use rapport_kit::{
    ApiError, FieldErrors, TenantContext,
    domain::{self, chrono_to_timestamp, from_micros, to_micros},
};
use rapport_proto::v1::{
    CreateRuleRequest, CreateRuleResponse, RollbackRuleRequest, RollbackRuleResponse, Rule,
    RuleDefinition, RuleVersion, UpdateRuleRequest, UpdateRuleResponse,
};
use uuid::Uuid;

use super::{
    Rules,
    definition::Definition,
    store::{NewVersion, RuleRecord, VersionRecord},
    validate,
};
use crate::engine::db_error;

const MAX_AUTHOR: usize = 200;

/// A stored definition; the store only ever holds valid JSON it wrote.
pub fn parse_definition(json: &str) -> Result<Definition, ApiError> {
    serde_json::from_str(json)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored rule definition: {e}")))
}

/// The contract's form of a version.
pub fn version_to_proto(v: &VersionRecord) -> Result<RuleVersion, ApiError> {
    Ok(RuleVersion {
        version: v.version.clamp(0, u32::MAX as i64) as u32,
        definition: Some(parse_definition(&v.definition)?.to_proto()),
        author: v.author.clone(),
        created_at: Some(chrono_to_timestamp(from_micros(v.created_at))),
        published_at: v.published_at.map(|t| chrono_to_timestamp(from_micros(t))),
    })
}

/// The contract's form of a rule.
pub fn rule_to_proto(r: &RuleRecord) -> Result<Rule, ApiError> {
    Ok(Rule {
        id: r.id.clone(),
        name: r.name.clone(),
        latest_version: r.latest_version.clamp(0, u32::MAX as i64) as u32,
        published_version: r.published_version.clamp(0, u32::MAX as i64) as u32,
        enabled: r.enabled,
        latest: Some(version_to_proto(&r.latest)?),
        created_at: Some(chrono_to_timestamp(from_micros(r.created_at))),
        updated_at: Some(chrono_to_timestamp(from_micros(r.updated_at))),
    })
}

/// A rule id from a request.
pub fn rule_id(field: &str, raw: &str) -> Result<String, ApiError> {
    domain::parse_uuid(raw)
        .map(|u| u.to_string())
        .map_err(|r| ApiError::invalid(field, r))
}

/// The checks every edit shares: an idempotency key and who made it.
fn check_edit(errors: &mut FieldErrors, request_id: &str, author: &str) {
    errors.check("request_id", domain::parse_id(request_id).map(drop));
    errors.check(
        "author",
        domain::parse_id(author)
            .and_then(|a| domain::check_text(a, MAX_AUTHOR))
            .map(drop),
    );
}

/// `rule_id` of a request, as a field error.
fn rule_id_field(raw: &str) -> Result<String, String> {
    rule_id("rule_id", raw).map_err(|_| "is not a rule id".to_owned())
}

fn now_micros() -> i64 {
    to_micros(chrono::Utc::now())
}

impl Rules {
    /// The tenant's tier names, for SetTier actions.
    pub(super) async fn tiers(&self, tenant: Uuid) -> Result<Vec<String>, ApiError> {
        let s = self
            .engine
            .models
            .settings(tenant)
            .await
            .map_err(db_error)?;
        Ok(s.settings.tiers.into_iter().map(|t| t.name).collect())
    }

    /// A definition checked for saving: field violations on failure.
    async fn checked(
        &self,
        tenant: Uuid,
        d: Option<&RuleDefinition>,
        errors: FieldErrors,
    ) -> Result<Definition, ApiError> {
        let Some(d) = d else {
            let mut errors = errors;
            errors.add("definition", "required");
            return Err(ApiError::InvalidArgument(errors));
        };
        let tiers = self.tiers(tenant).await?;
        match validate::check(d, &tiers) {
            Ok((def, _)) => {
                errors.into_result()?;
                Ok(def)
            }
            Err(diagnostics) => {
                let mut all = errors;
                for (f, r) in validate::to_field_errors(&diagnostics).violations() {
                    all.add(f, r);
                }
                Err(ApiError::InvalidArgument(all))
            }
        }
    }

    /// CreateRule.
    pub async fn create(
        &self,
        ctx: &TenantContext,
        req: &CreateRuleRequest,
    ) -> Result<CreateRuleResponse, ApiError> {
        let mut errors = FieldErrors::new();
        check_edit(&mut errors, &req.request_id, &req.author);
        let def = self
            .checked(ctx.tenant_id(), req.definition.as_ref(), errors)
            .await?;
        let json = serde_json::to_string(&def).map_err(|e| ApiError::Internal(e.into()))?;
        let (rule, created) = self
            .store
            .create(
                ctx.tenant_id(),
                NewVersion {
                    request_id: &req.request_id,
                    author: &req.author,
                    name: &def.name,
                    definition: &json,
                    now: now_micros(),
                },
            )
            .await?;
        Ok(CreateRuleResponse {
            rule: Some(rule_to_proto(&rule)?),
            created,
        })
    }

    /// UpdateRule.
    pub async fn update(
        &self,
        ctx: &TenantContext,
        req: &UpdateRuleRequest,
    ) -> Result<UpdateRuleResponse, ApiError> {
        let mut errors = FieldErrors::new();
        let rule = errors.check("rule_id", rule_id_field(&req.rule_id));
        check_edit(&mut errors, &req.request_id, &req.author);
        if req.expected_version == 0 {
            errors.add(
                "expected_version",
                "required: the version the edit was made on",
            );
        }
        let def = self
            .checked(ctx.tenant_id(), req.definition.as_ref(), errors)
            .await?;
        let rule = rule.unwrap_or_default();
        let json = serde_json::to_string(&def).map_err(|e| ApiError::Internal(e.into()))?;
        let (rule, created) = self
            .store
            .add_version(
                ctx.tenant_id(),
                &rule,
                i64::from(req.expected_version),
                NewVersion {
                    request_id: &req.request_id,
                    author: &req.author,
                    name: &def.name,
                    definition: &json,
                    now: now_micros(),
                },
                false,
            )
            .await?;
        Ok(UpdateRuleResponse {
            rule: Some(rule_to_proto(&rule)?),
            created,
        })
    }

    /// RollbackRule: a new version copying `to_version`, published.
    pub async fn rollback(
        &self,
        ctx: &TenantContext,
        req: &RollbackRuleRequest,
    ) -> Result<RollbackRuleResponse, ApiError> {
        let mut errors = FieldErrors::new();
        let rule = errors.check("rule_id", rule_id_field(&req.rule_id));
        check_edit(&mut errors, &req.request_id, &req.author);
        if req.to_version == 0 {
            errors.add("to_version", "required");
        }
        errors.into_result()?;
        let (tenant, rule) = (ctx.tenant_id(), rule.unwrap_or_default());
        let target = self
            .store
            .version(tenant, &rule, i64::from(req.to_version))
            .await?;
        let def = parse_definition(&target.definition)?;
        // Retried until no concurrent edit slips in between read and write.
        // Another editor may save a version between our read and our write;
        // try again on the new latest, a few times, then let the caller retry.
        for _ in 0..ROLLBACK_ATTEMPTS {
            let current = self
                .store
                .get(tenant, &rule)
                .await
                .map_err(db_error)?
                .ok_or_else(|| ApiError::NotFound {
                    what: "rule",
                    id: rule.clone(),
                })?;
            let result = self
                .store
                .add_version(
                    tenant,
                    &rule,
                    current.latest_version,
                    NewVersion {
                        request_id: &req.request_id,
                        author: &req.author,
                        name: &def.name,
                        definition: &target.definition,
                        now: now_micros(),
                    },
                    true,
                )
                .await;
            match result {
                Err(super::store::StoreError::Stale { .. }) => continue,
                other => {
                    let (rule, created) = other?;
                    return Ok(RollbackRuleResponse {
                        rule: Some(rule_to_proto(&rule)?),
                        created,
                    });
                }
            }
        }
        Err(ApiError::Unavailable(format!(
            "rule {rule} kept changing during the rollback; retry"
        )))
    }
}

/// Tries a rollback makes before giving up under concurrent edits.
const ROLLBACK_ATTEMPTS: usize = 5;
