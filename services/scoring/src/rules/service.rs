//! The RulesService handlers: tenant from the credentials, the rules logic
//! called, errors converted. A few lines each.

use chrono::Utc;
use rapport_kit::{ApiError, TenantContext, domain::to_micros};
use rapport_proto::v1::{
    CreateRuleRequest, CreateRuleResponse, DryRunRuleRequest, DryRunRuleResponse, GetRuleRequest,
    GetRuleResponse, GetRuleStatsRequest, GetRuleStatsResponse, ListFiringsRequest,
    ListFiringsResponse, ListRuleVersionsRequest, ListRuleVersionsResponse, ListRulesRequest,
    ListRulesResponse, PublishRuleRequest, PublishRuleResponse, RollbackRuleRequest,
    RollbackRuleResponse, SetRuleEnabledRequest, SetRuleEnabledResponse, UpdateRuleRequest,
    UpdateRuleResponse, ValidateRuleRequest, ValidateRuleResponse,
    rules_service_server::RulesService,
};
use tonic::{Request, Response, Status};

use super::{
    Rules,
    crud::{rule_id, rule_to_proto},
};
use crate::engine::db_error;

/// The rules service, served next to the scoring service.
pub struct RulesApi {
    pub(crate) rules: Rules,
}

type Rpc<T> = Result<Response<T>, Status>;

fn ok<T>(r: Result<T, ApiError>) -> Rpc<T> {
    r.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl RulesService for RulesApi {
    #[tracing::instrument(skip_all)]
    async fn create_rule(&self, request: Request<CreateRuleRequest>) -> Rpc<CreateRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self.rules.create(&ctx, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn update_rule(&self, request: Request<UpdateRuleRequest>) -> Rpc<UpdateRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self.rules.update(&ctx, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all, fields(version = request.get_ref().version))]
    async fn publish_rule(&self, request: Request<PublishRuleRequest>) -> Rpc<PublishRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        let req = request.get_ref();
        let id = rule_id("rule_id", &req.rule_id)?;
        if req.version == 0 {
            return Err(ApiError::invalid("version", "required").into());
        }
        let now = to_micros(Utc::now());
        let r = self
            .rules
            .store
            .publish(ctx.tenant_id(), &id, i64::from(req.version), now)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(rule = %id, version = req.version, "rule published");
        ok(rule_to_proto(&r).map(|r| PublishRuleResponse { rule: Some(r) }))
    }

    #[tracing::instrument(skip_all)]
    async fn rollback_rule(
        &self,
        request: Request<RollbackRuleRequest>,
    ) -> Rpc<RollbackRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self.rules.rollback(&ctx, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn set_rule_enabled(
        &self,
        request: Request<SetRuleEnabledRequest>,
    ) -> Rpc<SetRuleEnabledResponse> {
        let ctx = TenantContext::of(&request)?;
        let req = request.get_ref();
        let id = rule_id("rule_id", &req.rule_id)?;
        let now = to_micros(Utc::now());
        let r = self
            .rules
            .store
            .set_enabled(ctx.tenant_id(), &id, req.enabled, now)
            .await
            .map_err(ApiError::from)?;
        ok(rule_to_proto(&r).map(|r| SetRuleEnabledResponse { rule: Some(r) }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_rule(&self, request: Request<GetRuleRequest>) -> Rpc<GetRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        let id = rule_id("rule_id", &request.get_ref().rule_id)?;
        let r = self
            .rules
            .store
            .get(ctx.tenant_id(), &id)
            .await
            .map_err(db_error)?
            .ok_or(ApiError::NotFound { what: "rule", id })?;
        ok(rule_to_proto(&r).map(|r| GetRuleResponse { rule: Some(r) }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_rules(&self, request: Request<ListRulesRequest>) -> Rpc<ListRulesResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self.rules.list(&ctx, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_rule_versions(
        &self,
        request: Request<ListRuleVersionsRequest>,
    ) -> Rpc<ListRuleVersionsResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self.rules.versions(&ctx, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn validate_rule(
        &self,
        request: Request<ValidateRuleRequest>,
    ) -> Rpc<ValidateRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self
            .rules
            .validate(&ctx, request.get_ref().definition.as_ref())
            .await)
    }

    #[tracing::instrument(skip_all)]
    async fn dry_run_rule(&self, request: Request<DryRunRuleRequest>) -> Rpc<DryRunRuleResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self.rules.dry_run(&ctx, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn list_firings(&self, request: Request<ListFiringsRequest>) -> Rpc<ListFiringsResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self.rules.list_firings(&ctx, request.get_ref()).await)
    }

    #[tracing::instrument(skip_all)]
    async fn get_rule_stats(
        &self,
        request: Request<GetRuleStatsRequest>,
    ) -> Rpc<GetRuleStatsResponse> {
        let ctx = TenantContext::of(&request)?;
        ok(self.rules.stats(&ctx, request.get_ref()).await)
    }
}
