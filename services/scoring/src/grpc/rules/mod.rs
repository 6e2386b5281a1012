//! The RulesService handlers: the tenant from the credentials, the request
//! unpacked, the rules called, the answer converted. A few lines each.

mod requests;
mod responses;

use chrono::Utc;
use rapport_kit::{FieldErrors, TenantContext, audit as kit_audit, domain::to_micros};
use rapport_proto::v1::{
    CreateRuleRequest, CreateRuleResponse, DryRunRuleRequest, DryRunRuleResponse, GetRuleRequest,
    GetRuleResponse, GetRuleStatsRequest, GetRuleStatsResponse, ListFiringsRequest,
    ListFiringsResponse, ListRuleVersionsRequest, ListRuleVersionsResponse, ListRulesRequest,
    ListRulesResponse, PublishRuleRequest, PublishRuleResponse, RollbackRuleRequest,
    RollbackRuleResponse, Rule, SetRuleEnabledRequest, SetRuleEnabledResponse, UpdateRuleRequest,
    UpdateRuleResponse, ValidateRuleRequest, ValidateRuleResponse,
    rules_service_server::RulesService,
};
use serde_json::json;
use tonic::{Request, Response, Status};

use super::{audit, page_tokens::page};
use crate::{
    error::Error,
    rules::{Rules, repo::RuleRecord},
};
use requests::rule_id;

/// The rules service, served next to the scoring service.
pub struct RulesApi {
    pub(crate) rules: Rules,
}

type Rpc<T> = Result<Response<T>, Status>;

impl RulesApi {
    /// A rule as it is before a change, for the audit trail.
    async fn before(&self, ctx: &TenantContext, id: &str) -> Result<Rule, Status> {
        Ok(responses::rule(
            &self.rules.get(ctx.tenant_id(), id).await?,
        )?)
    }

    /// The contract's form of `after`, recording the change from `before`
    /// in the audit trail if `changed` (with `extra` fields in the summary).
    async fn changed(
        &self,
        ctx: &TenantContext,
        before: Rule,
        after: &RuleRecord,
        changed: bool,
        extra: serde_json::Value,
    ) -> Result<Option<Rule>, Status> {
        let after = responses::rule(after)?;
        if changed {
            let mut summary = audit::rule_changed(&before, &after);
            if let (Some(s), serde_json::Value::Object(e)) = (summary.as_object_mut(), extra) {
                s.extend(e);
            }
            kit_audit::record(ctx, audit::rule_target(&after), summary).await;
        }
        Ok(Some(after))
    }
}

#[tonic::async_trait]
impl RulesService for RulesApi {
    #[tracing::instrument(skip_all)]
    async fn create_rule(&self, request: Request<CreateRuleRequest>) -> Rpc<CreateRuleResponse> {
        let (ctx, req) = (TenantContext::of(&request)?, request.get_ref());
        let mut errors = FieldErrors::new();
        let edit = requests::edit(&mut errors, &req.request_id, &req.author);
        let def = (self.rules)
            .checked(ctx.tenant_id(), req.definition.as_ref(), errors)
            .await?;
        let (rule, created) = self.rules.create(ctx.tenant_id(), &edit, &def).await?;
        let rule = responses::rule(&rule)?;
        if created {
            let (target, summary) = (audit::rule_target(&rule), audit::rule_created(&rule));
            kit_audit::record(&ctx, target, summary).await;
        }
        Ok(Response::new(CreateRuleResponse {
            rule: Some(rule),
            created,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_rule(&self, request: Request<UpdateRuleRequest>) -> Rpc<UpdateRuleResponse> {
        let (ctx, req) = (TenantContext::of(&request)?, request.get_ref());
        let mut errors = FieldErrors::new();
        let (id, expected, edit) = requests::update(req, &mut errors);
        let def = (self.rules)
            .checked(ctx.tenant_id(), req.definition.as_ref(), errors)
            .await?;
        let before = self.before(&ctx, &id).await?;
        let (rule, created) = (self.rules)
            .update(ctx.tenant_id(), &id, expected, &edit, &def)
            .await?;
        let rule = self
            .changed(&ctx, before, &rule, created, json!({}))
            .await?;
        Ok(Response::new(UpdateRuleResponse { rule, created }))
    }

    #[tracing::instrument(skip_all, fields(version = request.get_ref().version))]
    async fn publish_rule(&self, request: Request<PublishRuleRequest>) -> Rpc<PublishRuleResponse> {
        let (ctx, req) = (TenantContext::of(&request)?, request.get_ref());
        let id = rule_id("rule_id", &req.rule_id)?;
        if req.version == 0 {
            return Err(Error::invalid("version", "required").into());
        }
        let version = i64::from(req.version);
        let before = self.before(&ctx, &id).await?;
        let rule = self.rules.publish(ctx.tenant_id(), &id, version).await?;
        let changed = before.published_version != rule.published_version.max(0) as u32;
        let rule = self
            .changed(&ctx, before, &rule, changed, json!({}))
            .await?;
        Ok(Response::new(PublishRuleResponse { rule }))
    }

    #[tracing::instrument(skip_all)]
    async fn rollback_rule(
        &self,
        request: Request<RollbackRuleRequest>,
    ) -> Rpc<RollbackRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        let (id, to_version, edit) = requests::rollback(request.get_ref())?;
        let before = self.before(&ctx, &id).await?;
        let (rule, created) = (self.rules)
            .rollback(ctx.tenant_id(), &id, to_version, &edit)
            .await?;
        let extra = json!({ "rolled_back_to": to_version });
        let rule = self.changed(&ctx, before, &rule, created, extra).await?;
        Ok(Response::new(RollbackRuleResponse { rule, created }))
    }

    #[tracing::instrument(skip_all)]
    async fn set_rule_enabled(
        &self,
        request: Request<SetRuleEnabledRequest>,
    ) -> Rpc<SetRuleEnabledResponse> {
        let (ctx, req) = (TenantContext::of(&request)?, request.get_ref());
        let id = rule_id("rule_id", &req.rule_id)?;
        let now = to_micros(Utc::now());
        let before = self.before(&ctx, &id).await?;
        let rule = (self.rules.repo)
            .set_enabled(ctx.tenant_id(), &id, req.enabled, now)
            .await?;
        let changed = before.enabled != rule.enabled;
        let rule = self
            .changed(&ctx, before, &rule, changed, json!({}))
            .await?;
        Ok(Response::new(SetRuleEnabledResponse { rule }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_rule(&self, request: Request<GetRuleRequest>) -> Rpc<GetRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        let id = rule_id("rule_id", &request.get_ref().rule_id)?;
        let rule = self.rules.get(ctx.tenant_id(), &id).await?;
        let rule = Some(responses::rule(&rule)?);
        Ok(Response::new(GetRuleResponse { rule }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_rules(&self, request: Request<ListRulesRequest>) -> Rpc<ListRulesResponse> {
        let ctx = TenantContext::of(&request)?;
        let (size, after) = requests::list(request.get_ref())?;
        let rows = (self.rules.repo)
            .list(ctx.tenant_id(), &after, size + 1)
            .await?;
        let (rows, next_page_token) = page(rows, size, |r| r.name.clone());
        Ok(Response::new(ListRulesResponse {
            rules: rows.iter().map(responses::rule).collect::<Result<_, _>>()?,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_rule_versions(
        &self,
        request: Request<ListRuleVersionsRequest>,
    ) -> Rpc<ListRuleVersionsResponse> {
        let ctx = TenantContext::of(&request)?;
        let (id, size, before) = requests::versions(request.get_ref())?;
        let rows = (self.rules.repo)
            .versions(ctx.tenant_id(), &id, before, size + 1)
            .await?;
        let (rows, next_page_token) = page(rows, size, |v| v.version.to_string());
        Ok(Response::new(ListRuleVersionsResponse {
            versions: rows
                .iter()
                .map(responses::version)
                .collect::<Result<_, _>>()?,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn validate_rule(
        &self,
        request: Request<ValidateRuleRequest>,
    ) -> Rpc<ValidateRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        let Some(d) = request.get_ref().definition.as_ref() else {
            return Err(Error::invalid("definition", "required").into());
        };
        let (diagnostics, references) = self.rules.diagnose(ctx.tenant_id(), d).await?;
        Ok(Response::new(ValidateRuleResponse {
            ok: diagnostics.is_empty(),
            diagnostics: diagnostics.into_iter().map(responses::diagnostic).collect(),
            references,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn dry_run_rule(&self, request: Request<DryRunRuleRequest>) -> Rpc<DryRunRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        let (of, size) = requests::dry_run(request.get_ref())?;
        Ok(Response::new(
            self.rules.dry_run(&ctx.tenant, of, size).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn list_firings(&self, request: Request<ListFiringsRequest>) -> Rpc<ListFiringsResponse> {
        let ctx = TenantContext::of(&request)?;
        let (query, size) = requests::firings(request.get_ref())?;
        let rows = self.rules.firings(ctx.tenant_id(), &query).await?;
        let (rows, next_page_token) = page(rows, size, |f| format!("{}/{}", f.fired_at, f.id));
        Ok(Response::new(ListFiringsResponse {
            firings: rows.iter().map(responses::firing).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_rule_stats(
        &self,
        request: Request<GetRuleStatsRequest>,
    ) -> Rpc<GetRuleStatsResponse> {
        let (ctx, req) = (TenantContext::of(&request)?, request.get_ref());
        let id = rule_id("rule_id", &req.rule_id)?;
        let window = requests::window_days(req.window_days)?;
        Ok(Response::new(
            self.rules.stats(ctx.tenant_id(), &id, window).await?,
        ))
    }
}
