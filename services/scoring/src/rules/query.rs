//! The rule-reading RPCs: ListRules, ListRuleVersions and ValidateRule.

use rapport_kit::{ApiError, FieldErrors, TenantContext, paging};
use rapport_proto::v1::{
    ListRuleVersionsRequest, ListRuleVersionsResponse, ListRulesRequest, ListRulesResponse,
    RuleDefinition, RuleDiagnostic, ValidateRuleResponse,
};

use super::{
    Rules,
    crud::{rule_id, rule_to_proto, version_to_proto},
    validate::{self, Diagnostic},
};
use crate::engine::db_error;

impl Rules {
    /// ListRules: by name; the token is the last name served.
    pub async fn list(
        &self,
        ctx: &TenantContext,
        req: &ListRulesRequest,
    ) -> Result<ListRulesResponse, ApiError> {
        let mut errors = FieldErrors::new();
        let size = errors.check("page_size", paging::page_size(req.page_size));
        let after = errors.check("page_token", paging::decode_token(&req.page_token));
        errors.into_result()?;
        let size = size.unwrap_or_default();
        let after = after.flatten().unwrap_or_default();
        let mut rows = self
            .store
            .list(ctx.tenant_id(), &after, size + 1)
            .await
            .map_err(db_error)?;
        let next_page_token = if rows.len() > size as usize {
            rows.truncate(size as usize);
            rows.last()
                .map(|r| paging::encode_token(&r.name))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(ListRulesResponse {
            rules: rows.iter().map(rule_to_proto).collect::<Result<_, _>>()?,
            next_page_token,
        })
    }

    /// ListRuleVersions: newest first; the token is the last version served.
    pub async fn versions(
        &self,
        ctx: &TenantContext,
        req: &ListRuleVersionsRequest,
    ) -> Result<ListRuleVersionsResponse, ApiError> {
        let mut errors = FieldErrors::new();
        let rule = errors.check(
            "rule_id",
            rule_id("rule_id", &req.rule_id).map_err(|_| "is not a rule id".to_owned()),
        );
        let size = errors.check("page_size", paging::page_size(req.page_size));
        let before = errors.check(
            "page_token",
            paging::decode_token(&req.page_token).and_then(|t| {
                t.map(|v| {
                    v.parse::<i64>()
                        .map_err(|_| "is not a page token this service issued".to_owned())
                })
                .transpose()
            }),
        );
        errors.into_result()?;
        let (rule, size) = (rule.unwrap_or_default(), size.unwrap_or_default());
        let tenant = ctx.tenant_id();
        if self
            .store
            .get(tenant, &rule)
            .await
            .map_err(db_error)?
            .is_none()
        {
            return Err(ApiError::NotFound {
                what: "rule",
                id: rule,
            });
        }
        let before = before.flatten().unwrap_or(i64::MAX);
        let mut rows = self
            .store
            .versions(tenant, &rule, before, size + 1)
            .await
            .map_err(db_error)?;
        let next_page_token = if rows.len() > size as usize {
            rows.truncate(size as usize);
            rows.last()
                .map(|v| paging::encode_token(&v.version.to_string()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(ListRuleVersionsResponse {
            versions: rows
                .iter()
                .map(version_to_proto)
                .collect::<Result<_, _>>()?,
            next_page_token,
        })
    }

    /// ValidateRule: diagnostics, nothing saved.
    pub async fn validate(
        &self,
        ctx: &TenantContext,
        d: Option<&RuleDefinition>,
    ) -> Result<ValidateRuleResponse, ApiError> {
        let d = d.ok_or_else(|| ApiError::invalid("definition", "required"))?;
        let tiers = self.tiers(ctx.tenant_id()).await?;
        let (diagnostics, references) = match validate::check(d, &tiers) {
            Ok((_, program)) => (Vec::new(), program.references().into_iter().collect()),
            Err(diagnostics) => (diagnostics, Vec::new()),
        };
        Ok(ValidateRuleResponse {
            ok: diagnostics.is_empty(),
            diagnostics: diagnostics
                .into_iter()
                .map(|d: Diagnostic| RuleDiagnostic {
                    field: d.field,
                    line: d.line,
                    column: d.column,
                    message: d.message,
                })
                .collect(),
            references,
        })
    }
}
