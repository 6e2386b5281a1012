//! The ScoringService handlers: the tenant from the credentials, the request
//! unpacked into domain values, the domain called, the answer converted, a
//! few lines each. As served, GetScore and BatchGetScores are answered from
//! raw bytes by [`super::ScoringRoutes`] before they reach these.

use chrono::Utc;
use rapport_kit::TenantContext;
use rapport_proto::v1::{
    ApplyChangesRequest, ApplyChangesResponse, BatchGetScoresRequest, BatchGetScoresResponse,
    EraseCustomerScoresRequest, EraseCustomerScoresResponse, EvaluateModelsRequest,
    EvaluateModelsResponse, ExportCustomerScoresRequest, ExportCustomerScoresResponse,
    FitModelsRequest, FitModelsResponse, GetCustomerEquityRequest, GetCustomerEquityResponse,
    GetModelFitRequest, GetModelFitResponse, GetScoreRequest, GetScoreResponse,
    GetScoringSettingsRequest, GetScoringSettingsResponse, ListDeadLettersRequest,
    ListDeadLettersResponse, ListModelFitsRequest, ListModelFitsResponse, ListScoresRequest,
    ListScoresResponse, RedriveDeadLettersRequest, RedriveDeadLettersResponse,
    SummarizeScoresRequest, SummarizeScoresResponse, UpdateScoringSettingsRequest,
    UpdateScoringSettingsResponse, scoring_service_server::ScoringService,
};
use tonic::{Request, Response, Status};

use super::{audit, customer_data, dead_letters, page_tokens, requests, responses};
use crate::{
    refresh::Refresher,
    scores::Scores,
    value::fits::{FitRequest, Fitter},
};

type Rpc<T> = Result<Response<T>, Status>;

/// The scoring service.
pub struct ScoringApi {
    pub(crate) scores: Scores,
    pub(crate) fitter: Fitter,
    pub(crate) refresher: Refresher,
    pub(crate) reports: crate::reports::Reports,
    /// SummarizeScores and GetCustomerEquity: inline or stored.
    pub(crate) figures: crate::figures::Figures,
}

#[tonic::async_trait]
impl ScoringService for ScoringApi {
    #[tracing::instrument(skip_all)]
    async fn get_score(&self, request: Request<GetScoreRequest>) -> Rpc<GetScoreResponse> {
        let ctx = TenantContext::of(&request)?;
        let id = requests::customer_id(&request.get_ref().customer_id)?;
        Ok(Response::new(self.scores.get(&ctx.tenant, id).await?))
    }

    #[tracing::instrument(skip_all, fields(ids = request.get_ref().customer_ids.len()))]
    async fn batch_get_scores(
        &self,
        request: Request<BatchGetScoresRequest>,
    ) -> Rpc<BatchGetScoresResponse> {
        let ctx = TenantContext::of(&request)?;
        let ids = requests::customer_ids(&request.get_ref().customer_ids)?;
        Ok(Response::new(self.scores.batch(&ctx.tenant, &ids).await?))
    }

    #[tracing::instrument(skip_all, fields(order_by = request.get_ref().order_by))]
    async fn list_scores(&self, request: Request<ListScoresRequest>) -> Rpc<ListScoresResponse> {
        let ctx = TenantContext::of(&request)?;
        let (order, size, after) = requests::list_scores(request.get_ref())?;
        let (scores, next) = self.scores.list(&ctx.tenant, order, after, size).await?;
        Ok(Response::new(ListScoresResponse {
            scores,
            next_page_token: next.map_or_else(String::new, |c| page_tokens::encode(order, c)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn summarize_scores(
        &self,
        request: Request<SummarizeScoresRequest>,
    ) -> Rpc<SummarizeScoresResponse> {
        let ctx = TenantContext::of(&request)?;
        Ok(Response::new(self.figures.summarize(&ctx.tenant).await?))
    }

    #[tracing::instrument(skip_all, fields(changes = request.get_ref().changes.len()))]
    async fn apply_changes(
        &self,
        request: Request<ApplyChangesRequest>,
    ) -> Rpc<ApplyChangesResponse> {
        let ctx = TenantContext::of(&request)?;
        ctx.require_internal()?;
        let events = &request.get_ref().changes;
        let (now, currency) = (Utc::now(), ctx.tenant.currency);
        let done = self
            .scores
            .apply(ctx.tenant_id(), currency, events, now)
            .await?;
        Ok(Response::new(dead_letters::applied(&done)))
    }

    #[tracing::instrument(skip_all)]
    async fn export_customer_scores(
        &self,
        request: Request<ExportCustomerScoresRequest>,
    ) -> Rpc<ExportCustomerScoresResponse> {
        let ctx = TenantContext::of(&request)?;
        let answer = customer_data::export(&self.scores, &ctx, request.get_ref()).await?;
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all)]
    async fn erase_customer_scores(
        &self,
        request: Request<EraseCustomerScoresRequest>,
    ) -> Rpc<EraseCustomerScoresResponse> {
        let ctx = TenantContext::of(&request)?;
        let mut answer = customer_data::erase(&self.scores, &ctx, request.get_ref()).await?;
        // Stored reports name customers in their rankings (and parent
        // accounts in a breakdown): the erasure id takes their place.
        let r = request.get_ref();
        let ids = (r.customer_id.parse(), r.erasure_id.parse());
        let (Ok(customer), Ok(erasure)) = ids else {
            return Err(Status::internal("ids checked by the erasure"));
        };
        let scrubbed = (self.reports)
            .erase_customer(ctx.tenant_id(), customer, erasure)
            .await?;
        answer
            .counts
            .insert("reports_anonymised".to_owned(), scrubbed);
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all)]
    async fn list_dead_letters(
        &self,
        request: Request<ListDeadLettersRequest>,
    ) -> Rpc<ListDeadLettersResponse> {
        let ctx = TenantContext::of(&request)?;
        let (size, after) = dead_letters::list_request(request.get_ref())?;
        let (page, total) = self
            .scores
            .dead_letters(ctx.tenant_id(), after.as_deref(), size + 1)
            .await?;
        let (page, next_page_token) = page_tokens::page(page, size, |l| l.letter.change_id.clone());
        Ok(Response::new(ListDeadLettersResponse {
            dead_letters: page.iter().map(dead_letters::dead_letter).collect(),
            next_page_token,
            total,
        }))
    }

    #[tracing::instrument(skip_all, fields(ids = request.get_ref().change_ids.len()))]
    async fn redrive_dead_letters(
        &self,
        request: Request<RedriveDeadLettersRequest>,
    ) -> Rpc<RedriveDeadLettersResponse> {
        let ctx = TenantContext::of(&request)?;
        let ids = dead_letters::redrive_request(request.get_ref())?;
        let (currency, now) = (ctx.tenant.currency, Utc::now());
        let (done, remaining) = self
            .scores
            .redrive(ctx.tenant_id(), currency, ids, now)
            .await?;
        Ok(Response::new(RedriveDeadLettersResponse {
            results: dead_letters::results(&done),
            remaining,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn fit_models(&self, request: Request<FitModelsRequest>) -> Rpc<FitModelsResponse> {
        let ctx = TenantContext::of(&request)?;
        let now = Utc::now();
        let r = FitRequest {
            tenant: ctx.tenant_id(),
            currency: ctx.tenant.currency,
            end_day: requests::observation_end(request.get_ref(), now)?,
            now,
        };
        let (fit, created) = self.refresher.fit_and_refresh(r).await?;
        Ok(Response::new(FitModelsResponse {
            fit: Some(responses::fit(&fit)),
            created,
        }))
    }

    #[tracing::instrument(skip_all, fields(version = request.get_ref().version))]
    async fn get_model_fit(
        &self,
        request: Request<GetModelFitRequest>,
    ) -> Rpc<GetModelFitResponse> {
        let ctx = TenantContext::of(&request)?;
        let version = requests::fit_version(request.get_ref().version)?;
        let fit = self.fitter.stored(ctx.tenant_id(), version).await?;
        Ok(Response::new(GetModelFitResponse {
            fit: Some(responses::fit(&fit)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_model_fits(
        &self,
        request: Request<ListModelFitsRequest>,
    ) -> Rpc<ListModelFitsResponse> {
        let ctx = TenantContext::of(&request)?;
        let (size, before) = requests::list_model_fits(request.get_ref())?;
        let (fits, refresh) = self.fitter.list(ctx.tenant_id(), before, size + 1).await?;
        let (fits, next_page_token) = page_tokens::page(fits, size, |f| f.version.to_string());
        Ok(Response::new(ListModelFitsResponse {
            fits: fits.iter().map(responses::fit).collect(),
            next_page_token,
            refresh: refresh.as_ref().map(responses::refresh),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn evaluate_models(
        &self,
        request: Request<EvaluateModelsRequest>,
    ) -> Rpc<EvaluateModelsResponse> {
        let ctx = TenantContext::of(&request)?;
        let (calibration, holdout) = requests::evaluate_models(request.get_ref(), Utc::now())?;
        let r = self
            .fitter
            .check_models(ctx.tenant_id(), ctx.tenant.currency, calibration, holdout)
            .await?;
        Ok(Response::new(r))
    }

    #[tracing::instrument(skip_all)]
    async fn get_scoring_settings(
        &self,
        request: Request<GetScoringSettingsRequest>,
    ) -> Rpc<GetScoringSettingsResponse> {
        let ctx = TenantContext::of(&request)?;
        let s = self.scores.states.settings(ctx.tenant_id()).await?;
        Ok(Response::new(GetScoringSettingsResponse {
            settings: Some(responses::settings(&ctx, &s)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_scoring_settings(
        &self,
        request: Request<UpdateScoringSettingsRequest>,
    ) -> Rpc<UpdateScoringSettingsResponse> {
        let ctx = TenantContext::of(&request)?;
        let (update, mask) = requests::settings_update(request.get_ref())?;
        // Read for the audit trail only; the update reads its own.
        let before = self.scores.states.settings(ctx.tenant_id()).await?;
        let (stored, changed) = self
            .scores
            .states
            .update_settings(ctx.tenant_id(), update, &mask, ctx.tenant.currency)
            .await?;
        let settings = responses::settings(&ctx, &stored);
        if changed {
            let before = responses::settings(&ctx, &before);
            let summary = audit::settings(&before, &settings);
            rapport_kit::audit::record(&ctx, audit::SETTINGS, summary).await;
        }
        Ok(Response::new(UpdateScoringSettingsResponse {
            settings: Some(settings),
            changed,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_customer_equity(
        &self,
        request: Request<GetCustomerEquityRequest>,
    ) -> Rpc<GetCustomerEquityResponse> {
        let ctx = TenantContext::of(&request)?;
        Ok(Response::new(self.figures.equity(&ctx.tenant).await?))
    }
}
