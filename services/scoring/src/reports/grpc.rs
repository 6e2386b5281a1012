//! The ReportsService handler: requests checked field by field, runs
//! queued and read, one customer's cross-sell answered.

use prost::Message;
use rapport_kit::{
    ApiError, FieldErrors, TenantContext, domain,
    paging::{self, decode_time_id, encode_time_id},
};
use rapport_proto::v1::{
    GetCrossSellRequest, GetCrossSellResponse, GetReportRequest, GetReportResponse,
    ListReportsRequest, ListReportsResponse, RankingSpec, ReportDimension, ReportMeasure,
    StartReportRequest, StartReportResponse, reports_service_server::ReportsService,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Reports,
    compute::{MAX_RANKING, dimension_index},
    repo::Started,
    run_proto,
};
use crate::error::storage;

/// Most rankings one start asks for.
pub const MAX_RANKINGS: usize = 20;
/// Most filters of one ranking.
const MAX_FILTERS: usize = 10;
/// Longest filter value, in bytes.
const MAX_VALUE_LEN: usize = 200;
/// Ranking size when the request leaves it at 0.
const DEFAULT_LIMIT: u32 = 10;

/// The reports' service.
pub struct ReportsApi {
    pub(crate) reports: Reports,
}

/// The request's rankings checked (limits defaulted), or every bad field.
fn rankings(specs: &[RankingSpec], errors: &mut FieldErrors) -> Vec<RankingSpec> {
    if specs.len() > MAX_RANKINGS {
        errors.add(
            "rankings",
            format!(
                "has {} rankings; at most {MAX_RANKINGS} are accepted",
                specs.len()
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let field = format!("rankings[{i}]");
        match ReportMeasure::try_from(spec.measure) {
            Ok(ReportMeasure::Unspecified) => errors.add(format!("{field}.measure"), "required"),
            Err(_) => errors.add(format!("{field}.measure"), "is not a ReportMeasure"),
            Ok(_) => {}
        }
        let limit = match spec.limit {
            0 => DEFAULT_LIMIT,
            n if n > MAX_RANKING => {
                errors.add(
                    format!("{field}.limit"),
                    format!("must be at most {MAX_RANKING}"),
                );
                n
            }
            n => n,
        };
        if spec.filters.len() > MAX_FILTERS {
            errors.add(
                format!("{field}.filters"),
                format!("at most {MAX_FILTERS} filters are accepted"),
            );
        }
        for (j, f) in spec.filters.iter().enumerate() {
            let field = format!("{field}.filters[{j}]");
            let known = ReportDimension::try_from(f.dimension)
                .ok()
                .and_then(dimension_index)
                .is_some();
            if !known {
                errors.add(format!("{field}.dimension"), "is not a ReportDimension");
            }
            if f.value.is_empty() {
                errors.add(format!("{field}.value"), "required");
            } else if let Err(e) = domain::check_text(&f.value, MAX_VALUE_LEN) {
                errors.add(format!("{field}.value"), e);
            }
        }
        out.push(RankingSpec {
            limit,
            ..spec.clone()
        });
    }
    out
}

#[tonic::async_trait]
impl ReportsService for ReportsApi {
    #[tracing::instrument(skip_all)]
    async fn start_report(
        &self,
        request: Request<StartReportRequest>,
    ) -> Result<Response<StartReportResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = request.get_ref();
        let mut errors = FieldErrors::new();
        let request_id = errors.check("request_id", domain::parse_id(&r.request_id));
        let rankings = rankings(&r.rankings, &mut errors);
        let Some(request_id) = request_id.filter(|_| errors.is_empty()) else {
            return Err(ApiError::InvalidArgument(errors).into());
        };
        let stored = StartReportRequest {
            request_id: request_id.to_owned(),
            rankings,
        }
        .encode_to_vec();
        let now = chrono::Utc::now();
        let started = (self.reports.repo)
            .start(ctx.tenant_id(), request_id, "api", &stored, now)
            .await
            .map_err(storage("report run"))
            .map_err(ApiError::from)?;
        let (run, started) = match started {
            Started::Queued(r) => (r, true),
            Started::Again(r) | Started::Busy(r) => (r, false),
        };
        Ok(Response::new(StartReportResponse {
            run: Some(run_proto(&run)),
            started,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_report(
        &self,
        request: Request<GetReportRequest>,
    ) -> Result<Response<GetReportResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = request.get_ref();
        let run_id = if r.run_id.is_empty() {
            None
        } else {
            match r.run_id.parse::<Uuid>() {
                Ok(id) => Some(id),
                Err(_) => {
                    let mut errors = FieldErrors::new();
                    errors.add("run_id", "is not a run id (a UUID)");
                    return Err(ApiError::InvalidArgument(errors).into());
                }
            }
        };
        let (run, report) = self.reports.get(ctx.tenant_id(), run_id).await?;
        Ok(Response::new(GetReportResponse {
            run: Some(run_proto(&run)),
            report,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn get_cross_sell(
        &self,
        request: Request<GetCrossSellRequest>,
    ) -> Result<Response<GetCrossSellResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let customer = domain::parse_uuid(&request.get_ref().customer_id)
            .map_err(|e| ApiError::InvalidArgument(FieldErrors::one("customer_id", e)))?;
        let answer = self.reports.cross_sell(ctx.tenant_id(), customer).await?;
        Ok(Response::new(answer))
    }

    #[tracing::instrument(skip_all)]
    async fn list_reports(
        &self,
        request: Request<ListReportsRequest>,
    ) -> Result<Response<ListReportsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let r = request.get_ref();
        let mut errors = FieldErrors::new();
        let limit = errors.check("page_size", paging::page_size(r.page_size));
        let after = errors.check("page_token", decode_time_id(&r.page_token));
        let (Some(limit), Some(after)) = (limit, after) else {
            return Err(ApiError::InvalidArgument(errors).into());
        };
        let runs = (self.reports.repo)
            .list(ctx.tenant_id(), after, limit + 1)
            .await
            .map_err(storage("report run"))
            .map_err(ApiError::from)?;
        let more = runs.len() > limit as usize;
        let runs = &runs[..runs.len().min(limit as usize)];
        let next_page_token = match runs.last() {
            Some(last) if more => encode_time_id(last.queued_at, last.run_id),
            _ => String::new(),
        };
        Ok(Response::new(ListReportsResponse {
            runs: runs.iter().map(run_proto).collect(),
            next_page_token,
        }))
    }
}
