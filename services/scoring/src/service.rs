//! The gRPC handlers: validate into domain types, call the reader or the
//! repository, convert errors. Nothing here touches storage directly.

use chrono::Utc;
use rapport_kit::{ApiError, FieldErrors, TenantContext, domain, error::classify_db_error, paging};
use rapport_proto::v1::{
    ApplyChangesRequest, ApplyChangesResponse, BatchGetScoresRequest, BatchGetScoresResponse,
    EvaluateModelsRequest, EvaluateModelsResponse, FitModelsRequest, FitModelsResponse,
    GetCustomerEquityRequest, GetCustomerEquityResponse, GetModelFitRequest, GetModelFitResponse,
    GetScoreRequest, GetScoreResponse, GetScoringSettingsRequest, GetScoringSettingsResponse,
    ListModelFitsRequest, ListModelFitsResponse, ListScoresRequest, ListScoresResponse, Money,
    ScoreOrder, SegmentCount, SpendBucket, SummarizeScoresRequest, SummarizeScoresResponse,
    UpdateScoringSettingsRequest, UpdateScoringSettingsResponse,
    scoring_service_server::ScoringService,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    calc::{Segment, Summary},
    changes,
    engine::Engine,
    equity,
    reads::Reader,
    repo::{Cursor, Order},
    rpc, score, tokens,
};

/// Most ids one BatchGetScores call may ask for.
pub const MAX_BATCH: usize = 1_000;

/// The scoring service.
pub struct Scoring {
    pub(crate) reader: Reader,
    pub(crate) engine: Engine,
}

fn db_error(e: sqlx::Error) -> ApiError {
    classify_db_error(e, "score")
}

pub(crate) fn parse_ids(ids: &[String]) -> Result<Vec<Uuid>, ApiError> {
    if ids.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "customer_ids",
            format!("{} ids sent; at most {MAX_BATCH} per call", ids.len()),
        ));
    }
    let mut errors = FieldErrors::new();
    let parsed: Vec<Uuid> = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| errors.check(&format!("customer_ids[{i}]"), domain::parse_uuid(id)))
        .collect();
    errors.into_result()?;
    Ok(parsed)
}

fn parse_order(raw: i32) -> Result<Order, ApiError> {
    match ScoreOrder::try_from(raw) {
        Ok(ScoreOrder::Unspecified | ScoreOrder::NetSpend) => Ok(Order::NetSpend),
        Ok(ScoreOrder::PurchaseCount) => Ok(Order::PurchaseCount),
        Ok(ScoreOrder::LastPurchase) => Ok(Order::LastPurchase),
        Err(_) => Err(ApiError::invalid(
            "order_by",
            format!("{raw} is not a ScoreOrder"),
        )),
    }
}

fn summary_response(s: Summary, currency: &str) -> SummarizeScoresResponse {
    let money = |minor_units| {
        Some(Money {
            currency_code: currency.to_owned(),
            minor_units,
        })
    };
    SummarizeScoresResponse {
        customers: s.customers,
        net_spend: money(s.net_spend),
        segments: Segment::ALL
            .iter()
            .map(|seg| {
                let (customers, net) = s.segments[seg.index()];
                SegmentCount {
                    segment: seg.as_str().to_owned(),
                    customers,
                    net_spend: money(net),
                }
            })
            .collect(),
        spend_percentiles: s
            .percentiles
            .iter()
            .map(|v| money(*v).unwrap_or_default())
            .collect(),
        spend_histogram: s
            .histogram
            .iter()
            .map(|(from, customers)| SpendBucket {
                from: money(*from),
                customers: *customers,
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl ScoringService for Scoring {
    #[tracing::instrument(skip_all)]
    async fn get_score(
        &self,
        request: Request<GetScoreRequest>,
    ) -> Result<Response<GetScoreResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let id = domain::parse_uuid(&request.get_ref().customer_id)
            .map_err(|r| ApiError::invalid("customer_id", r))?;
        Ok(Response::new(self.reader.get(&ctx.tenant, id).await?))
    }

    #[tracing::instrument(skip_all, fields(ids = request.get_ref().customer_ids.len()))]
    async fn batch_get_scores(
        &self,
        request: Request<BatchGetScoresRequest>,
    ) -> Result<Response<BatchGetScoresResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let ids = parse_ids(&request.get_ref().customer_ids)?;
        Ok(Response::new(self.reader.batch(&ctx.tenant, &ids).await?))
    }

    #[tracing::instrument(skip_all, fields(order_by = request.get_ref().order_by))]
    async fn list_scores(
        &self,
        request: Request<ListScoresRequest>,
    ) -> Result<Response<ListScoresResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let req = request.get_ref();
        let order = parse_order(req.order_by)?;
        let mut errors = FieldErrors::new();
        let size = errors.check("page_size", paging::page_size(req.page_size));
        let after = errors.check("page_token", tokens::decode(order, &req.page_token));
        errors.into_result()?;
        let (size, after) = (size.unwrap_or_default(), after.flatten());
        // One row more than the page tells whether another page follows.
        let mut rows = self
            .reader
            .repo
            .list(ctx.tenant_id(), order, after, size + 1)
            .await
            .map_err(db_error)?;
        let next_page_token = if rows.len() > size as usize {
            rows.truncate(size as usize);
            rows.last()
                .map(|s| {
                    tokens::encode(
                        order,
                        Cursor {
                            value: order.value_of(&s.row),
                            customer_id: s.row.customer_id,
                        },
                    )
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        let mut scores: Vec<_> = rows.iter().map(score::stored).collect();
        self.reader
            .complete(&ctx.tenant, &mut scores, Utc::now())
            .await?;
        Ok(Response::new(ListScoresResponse {
            scores,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn summarize_scores(
        &self,
        request: Request<SummarizeScoresRequest>,
    ) -> Result<Response<SummarizeScoresResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let summary = self
            .reader
            .repo
            .summarize(ctx.tenant_id(), Utc::now())
            .await
            .map_err(db_error)?;
        Ok(Response::new(summary_response(
            summary,
            ctx.tenant.currency.as_str(),
        )))
    }

    #[tracing::instrument(skip_all, fields(changes = request.get_ref().changes.len()))]
    async fn apply_changes(
        &self,
        request: Request<ApplyChangesRequest>,
    ) -> Result<Response<ApplyChangesResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        ctx.require_internal()?;
        let now = Utc::now();
        let events = &request.get_ref().changes;
        let currency = ctx.tenant.currency;
        let changes =
            changes::validate(events, currency, now).map_err(ApiError::InvalidArgument)?;
        let total = changes.len() as u32;
        let changes = changes::dedupe(changes);
        if changes.is_empty() {
            return Ok(Response::new(ApplyChangesResponse {
                applied: 0,
                duplicates: total,
            }));
        }
        let tenant = ctx.tenant_id();
        let r = &self.reader;
        let applied = r
            .repo
            .apply(tenant, currency.as_str(), &changes, now)
            .await
            .map_err(db_error)?;
        // After commit: a cached score is never ahead of the database.
        let scores: Vec<_> = applied.scores.iter().map(score::stored).collect();
        r.hot.publish(tenant, &scores).await;
        tracing::debug!(
            applied = applied.applied,
            customers = scores.len(),
            "changes applied"
        );
        Ok(Response::new(ApplyChangesResponse {
            applied: applied.applied,
            duplicates: total - applied.applied,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn fit_models(
        &self,
        request: Request<FitModelsRequest>,
    ) -> Result<Response<FitModelsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = rpc::fit_models(&self.engine, &ctx, request.get_ref()).await?;
        Ok(Response::new(r))
    }

    #[tracing::instrument(skip_all, fields(version = request.get_ref().version))]
    async fn get_model_fit(
        &self,
        request: Request<GetModelFitRequest>,
    ) -> Result<Response<GetModelFitResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = rpc::get_model_fit(&self.engine, &ctx, request.get_ref()).await?;
        Ok(Response::new(r))
    }

    #[tracing::instrument(skip_all)]
    async fn list_model_fits(
        &self,
        request: Request<ListModelFitsRequest>,
    ) -> Result<Response<ListModelFitsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = rpc::list_model_fits(&self.engine, &ctx, request.get_ref()).await?;
        Ok(Response::new(r))
    }

    #[tracing::instrument(skip_all)]
    async fn evaluate_models(
        &self,
        request: Request<EvaluateModelsRequest>,
    ) -> Result<Response<EvaluateModelsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = rpc::evaluate_models(&self.engine, &ctx, request.get_ref()).await?;
        Ok(Response::new(r))
    }

    #[tracing::instrument(skip_all)]
    async fn get_scoring_settings(
        &self,
        request: Request<GetScoringSettingsRequest>,
    ) -> Result<Response<GetScoringSettingsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        Ok(Response::new(rpc::get_settings(&self.engine, &ctx).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn update_scoring_settings(
        &self,
        request: Request<UpdateScoringSettingsRequest>,
    ) -> Result<Response<UpdateScoringSettingsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = rpc::update_settings(&self.engine, &ctx, request.get_ref()).await?;
        Ok(Response::new(r))
    }

    #[tracing::instrument(skip_all)]
    async fn get_customer_equity(
        &self,
        request: Request<GetCustomerEquityRequest>,
    ) -> Result<Response<GetCustomerEquityResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        Ok(Response::new(
            equity::customer_equity(&self.engine, &ctx).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_are_bounded_and_named() {
        let too_many = vec![Uuid::new_v4().to_string(); MAX_BATCH + 1];
        let Err(ApiError::InvalidArgument(e)) = parse_ids(&too_many) else {
            panic!("accepted")
        };
        assert_eq!(e.violations()[0].0, "customer_ids");
        let mixed = vec![Uuid::new_v4().to_string(), "x".into()];
        let Err(ApiError::InvalidArgument(e)) = parse_ids(&mixed) else {
            panic!("accepted")
        };
        assert_eq!(e.violations()[0].0, "customer_ids[1]");
    }

    #[test]
    fn unknown_orders_are_refused() {
        assert_eq!(parse_order(0).unwrap(), Order::NetSpend);
        assert_eq!(parse_order(3).unwrap(), Order::LastPurchase);
        assert!(parse_order(9).is_err());
    }
}
