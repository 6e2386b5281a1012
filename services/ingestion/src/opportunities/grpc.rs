//! The gRPC adapter of OpportunitiesService: authenticate, parse, call the
//! batch pipeline or the store, convert. Nothing here decides anything.

use rapport_kit::{
    ApiError, FieldErrors, TenantContext,
    domain::{self, CurrencyCode, chrono_to_timestamp},
    error::classify_db_error,
    paging,
    telemetry::TraceContext,
};
use rapport_proto::v1::{
    ExternalIdentity, GetOpportunityRequest, GetOpportunityResponse, GetPipelineRequest,
    GetPipelineResponse, IngestOpportunityEventsRequest, IngestOpportunityEventsResponse,
    ListOpportunitiesRequest, ListOpportunitiesResponse, Money, Opportunity,
    OpportunityExplanation, OpportunityStatus, PipelineLevel, PipelineModel, PipelineRow,
    StageFigures, opportunities_service_server::OpportunitiesService,
};
use tonic::{Request, Response, Status};

use super::{
    Opportunities,
    score::{Explanation, ModelFigures},
    store::{OpportunityRow, RollupRow},
};

#[tonic::async_trait]
impl OpportunitiesService for Opportunities {
    #[tracing::instrument(skip_all, fields(rows = request.get_ref().events.len()))]
    async fn ingest_opportunity_events(
        &self,
        request: Request<IngestOpportunityEventsRequest>,
    ) -> Result<Response<IngestOpportunityEventsResponse>, Status> {
        let (ctx, trace) = (TenantContext::of(&request)?, TraceContext::of(&request));
        let rows = request.into_inner().events;
        let s = self
            .ingest
            .opportunity_events(&ctx, trace.as_ref(), rows)
            .await?;
        Ok(Response::new(s))
    }

    #[tracing::instrument(skip_all)]
    async fn list_opportunities(
        &self,
        request: Request<ListOpportunitiesRequest>,
    ) -> Result<Response<ListOpportunitiesResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        let account = (!req.customer_id.is_empty())
            .then(|| errors.check("customer_id", domain::parse_uuid(&req.customer_id)))
            .flatten();
        let status = errors.check("status", status_filter(req.status));
        let limit = errors.check("page_size", paging::page_size(req.page_size));
        let after = errors.check("page_token", list_cursor(&req.page_token));
        errors.into_result()?;
        let (Some(status), Some(limit), Some(after)) = (status, limit, after) else {
            return Err(ApiError::invalid("page_token", "could not be read").into());
        };
        let mut rows = self
            .store
            .list(ctx.tenant_id(), (account, status), after, limit + 1)
            .await
            .map_err(|e| classify_db_error(e, "opportunity"))?;
        let mut next_page_token = String::new();
        if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            if let Some(l) = rows.last() {
                let cursor = (l.expected_value_minor, &l.source, &l.opportunity_ref);
                next_page_token =
                    paging::encode_token(&serde_json::to_string(&cursor).unwrap_or_default());
            }
        }
        let currency = ctx.tenant.currency;
        Ok(Response::new(ListOpportunitiesResponse {
            opportunities: rows.into_iter().map(|r| to_proto(r, currency)).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_opportunity(
        &self,
        request: Request<GetOpportunityRequest>,
    ) -> Result<Response<GetOpportunityResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let o = request.into_inner().opportunity.unwrap_or_default();
        let mut errors = FieldErrors::new();
        errors.check(
            "opportunity.source",
            domain::parse_id(&o.source).map(|_| ()),
        );
        errors.check(
            "opportunity.external_id",
            domain::parse_id(&o.external_id).map(|_| ()),
        );
        errors.into_result()?;
        let row = self
            .store
            .get(ctx.tenant_id(), &o.source, &o.external_id)
            .await
            .map_err(|e| classify_db_error(e, "opportunity"))?
            .ok_or_else(|| ApiError::NotFound {
                what: "opportunity",
                id: format!("{}/{}", o.source, o.external_id),
            })?;
        Ok(Response::new(GetOpportunityResponse {
            opportunity: Some(to_proto(row, ctx.tenant.currency)),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_pipeline(
        &self,
        request: Request<GetPipelineRequest>,
    ) -> Result<Response<GetPipelineResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let req = request.get_ref();
        let mut errors = FieldErrors::new();
        let level = errors.check("level", level(req.level));
        let limit = errors.check("page_size", paging::page_size(req.page_size));
        let after = errors.check("page_token", rollup_cursor(&req.page_token));
        errors.into_result()?;
        let (Some(level), Some(limit), Some(after)) = (level, limit, after) else {
            return Err(ApiError::invalid("page_token", "could not be read").into());
        };
        let tenant = ctx.tenant_id();
        let fit = (self.store.fit(tenant).await).map_err(|e| classify_db_error(e, "pipeline"))?;
        let mut rows = self
            .store
            .rollups(tenant, level, after, limit + 1)
            .await
            .map_err(|e| classify_db_error(e, "pipeline"))?;
        let mut next_page_token = String::new();
        if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            if let Some(l) = rows.last() {
                let cursor = (l.expected_value_minor, &l.key);
                next_page_token =
                    paging::encode_token(&serde_json::to_string(&cursor).unwrap_or_default());
            }
        }
        let currency = ctx.tenant.currency;
        let model = fit.map(|f| {
            let m: ModelFigures = serde_json::from_str(&f.model).unwrap_or_default();
            PipelineModel {
                fitted_at: f.fitted_at.map(chrono_to_timestamp),
                pending: f.pending,
                won: m.won,
                lost: m.lost,
                tenant_win_rate: m.tenant_win_rate,
                thin_history: m.thin_history,
                stages: (m.stages.into_iter())
                    .map(|s| StageFigures {
                        stage: s.stage,
                        exits: s.exits,
                        exits_won: s.exits_won,
                        exits_lost: s.exits_lost,
                        win_probability: s.win_probability,
                        typical_days: s.typical_days,
                        open_now: s.open_now,
                    })
                    .collect(),
            }
        });
        Ok(Response::new(GetPipelineResponse {
            model,
            rows: rows.into_iter().map(|r| rollup(r, currency)).collect(),
            next_page_token,
        }))
    }
}

fn status_filter(status: i32) -> Result<Option<&'static str>, String> {
    match OpportunityStatus::try_from(status) {
        Ok(OpportunityStatus::Unspecified) => Ok(None),
        Ok(OpportunityStatus::Open) => Ok(Some("open")),
        Ok(OpportunityStatus::Won) => Ok(Some("won")),
        Ok(OpportunityStatus::Lost) => Ok(Some("lost")),
        Err(_) => Err(format!("{status} is not an OpportunityStatus")),
    }
}

fn level(level: i32) -> Result<&'static str, String> {
    match PipelineLevel::try_from(level) {
        Ok(PipelineLevel::Unspecified | PipelineLevel::Tier) => Ok("tier"),
        Ok(PipelineLevel::Parent) => Ok("parent"),
        Ok(PipelineLevel::Account) => Ok("account"),
        Err(_) => Err(format!("{level} is not a PipelineLevel")),
    }
}

const FOREIGN_TOKEN: &str = "is not a page token this service issued";

fn list_cursor(token: &str) -> Result<Option<(i64, String, String)>, String> {
    paging::decode_token(token)?
        .map(|t| serde_json::from_str(&t).map_err(|_| FOREIGN_TOKEN.to_owned()))
        .transpose()
}

fn rollup_cursor(token: &str) -> Result<Option<(i64, String)>, String> {
    paging::decode_token(token)?
        .map(|t| serde_json::from_str(&t).map_err(|_| FOREIGN_TOKEN.to_owned()))
        .transpose()
}

fn money(minor_units: i64, currency: CurrencyCode) -> Option<Money> {
    Some(Money {
        currency_code: currency.as_str().to_owned(),
        minor_units,
    })
}

fn to_proto(r: OpportunityRow, currency: CurrencyCode) -> Opportunity {
    let e: Explanation = serde_json::from_str(&r.explanation).unwrap_or_default();
    let status = match r.status.as_str() {
        "won" => OpportunityStatus::Won,
        "lost" => OpportunityStatus::Lost,
        _ => OpportunityStatus::Open,
    };
    Opportunity {
        opportunity: Some(ExternalIdentity {
            source: r.source,
            external_id: r.opportunity_ref,
        }),
        customer_id: r.customer.to_string(),
        status: status as i32,
        stage: r.stage,
        amount: money(r.amount_minor, currency),
        expected_close: r.expected_close.map(chrono_to_timestamp),
        opened_at: Some(chrono_to_timestamp(r.opened_at)),
        stage_entered_at: Some(chrono_to_timestamp(r.stage_entered_at)),
        closed_at: r.closed_at.map(chrono_to_timestamp),
        probability: r.probability,
        expected_value: r
            .probability
            .and_then(|_| money(r.expected_value_minor, currency)),
        explanation: Some(OpportunityExplanation {
            stage: e.stage,
            stage_probability: e.stage_probability,
            age_days: e.age_days,
            typical_days: e.typical_days,
            stays_as_long: e.stays_as_long,
            age_adjusted_probability: e.age_adjusted_probability,
            account_won: e.account_won,
            account_lost: e.account_lost,
            account_win_rate: e.account_win_rate,
            tenant_win_rate: e.tenant_win_rate,
            account_odds_factor: e.account_odds_factor,
            text: e.text,
        }),
    }
}

fn rollup(r: RollupRow, currency: CurrencyCode) -> PipelineRow {
    let count = |n: i64| n.clamp(0, u32::MAX as i64) as u32;
    PipelineRow {
        key: r.key,
        accounts: count(r.accounts),
        open_count: count(r.open_count),
        open_amount: money(r.open_amount_minor, currency),
        expected_value: money(r.expected_value_minor, currency),
        won_count: count(r.won_count),
        won_amount: money(r.won_amount_minor, currency),
        lost_count: count(r.lost_count),
    }
}
