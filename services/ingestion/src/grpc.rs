//! The gRPC adapter: authenticate, hand over to the pipeline or the repository,
//! convert errors. Nothing here decides anything.

use std::time::Duration;

use rapport_kit::{
    ApiError, FieldErrors, TenantContext,
    domain::{self, chrono_to_timestamp},
    error::classify_db_error,
    paging,
    telemetry::TraceContext,
};
use rapport_proto::v1::{
    EraseCustomerActivityRequest, EraseCustomerActivityResponse, ExportCustomerActivityRequest,
    ExportCustomerActivityResponse, IngestEventsRequest, IngestEventsResponse,
    IngestTransactionsRequest, IngestTransactionsResponse, ListTransactionsRequest,
    ListTransactionsResponse, RowError, Transaction, TransactionKind,
    ingestion_service_server::IngestionService, transaction::Amount,
};
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_types::{ErrorDetails, StatusExt};
use uuid::Uuid;

use crate::{ingest::Ingest, repo::StoredTransaction};

#[tonic::async_trait]
impl IngestionService for Ingest {
    #[tracing::instrument(skip_all, fields(rows = request.get_ref().transactions.len()))]
    async fn ingest_transactions(
        &self,
        request: Request<IngestTransactionsRequest>,
    ) -> Result<Response<IngestTransactionsResponse>, Status> {
        let (ctx, trace) = (TenantContext::of(&request)?, TraceContext::of(&request));
        let rows = request.into_inner().transactions;
        let s = self.transactions(&ctx, trace.as_ref(), rows, 0).await?;
        log_summary(s.accepted, s.duplicates, &s.rejected, s.customers_created);
        Ok(Response::new(s))
    }

    #[tracing::instrument(skip_all)]
    async fn stream_transactions(
        &self,
        request: Request<Streaming<IngestTransactionsRequest>>,
    ) -> Result<Response<IngestTransactionsResponse>, Status> {
        let (ctx, trace) = (TenantContext::of(&request)?, TraceContext::of(&request));
        let mut stream = request.into_inner();
        let mut total = IngestTransactionsResponse::default();
        let mut offset = 0u32;
        // Each message is committed before the next is read, so memory stays
        // bounded by one message however long the stream. The stream has no
        // whole-request deadline (it may run for hours); a silent one ends
        // after the idle timeout instead.
        loop {
            let Ok(next) = tokio::time::timeout(self.stream_idle, stream.message()).await else {
                return Err(idle(self.stream_idle, &total));
            };
            let Some(message) = next? else { break };
            let rows = message.transactions.len() as u32;
            let part = self
                .transactions(&ctx, trace.as_ref(), message.transactions, offset)
                .await?;
            total.accepted += part.accepted;
            total.duplicates += part.duplicates;
            total.customers_created += part.customers_created;
            total.rejected.extend(part.rejected);
            offset = offset.saturating_add(rows);
        }
        let t = total;
        log_summary(t.accepted, t.duplicates, &t.rejected, t.customers_created);
        Ok(Response::new(t))
    }

    #[tracing::instrument(skip_all, fields(rows = request.get_ref().events.len()))]
    async fn ingest_events(
        &self,
        request: Request<IngestEventsRequest>,
    ) -> Result<Response<IngestEventsResponse>, Status> {
        let (ctx, trace) = (TenantContext::of(&request)?, TraceContext::of(&request));
        let rows = request.into_inner().events;
        let s = self.events(&ctx, trace.as_ref(), rows).await?;
        log_summary(s.accepted, s.duplicates, &s.rejected, s.customers_created);
        Ok(Response::new(s))
    }

    #[tracing::instrument(skip_all)]
    async fn list_transactions(
        &self,
        request: Request<ListTransactionsRequest>,
    ) -> Result<Response<ListTransactionsResponse>, Status> {
        let ctx = TenantContext::of(&request)?;
        let (customer, limit, after) = parse_list(request.get_ref())?;
        let mut rows = self
            .repo
            .list_transactions(ctx.tenant_id(), customer, after, limit + 1)
            .await
            .map_err(|e| classify_db_error(e, "transaction"))?;
        let mut next_page_token = String::new();
        if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            if let Some(last) = rows.last() {
                next_page_token = paging::encode_token(&format!(
                    "{}:{}",
                    domain::to_micros(last.occurred_at),
                    last.id
                ));
            }
        }
        let transactions = rows.into_iter().map(to_proto).collect();
        Ok(Response::new(ListTransactionsResponse {
            transactions,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn export_customer_activity(
        &self,
        request: Request<ExportCustomerActivityRequest>,
    ) -> Result<Response<ExportCustomerActivityResponse>, Status> {
        Ok(Response::new(self.export_customer(request).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn erase_customer_activity(
        &self,
        request: Request<EraseCustomerActivityRequest>,
    ) -> Result<Response<EraseCustomerActivityResponse>, Status> {
        Ok(Response::new(self.erase_customer(request).await?))
    }
}

/// DEADLINE_EXCEEDED for a stream that sent nothing for `wait`. The rows it
/// sent before are committed; what became of them is in the message and in
/// the ErrorInfo metadata, named as in the summary a finished stream gets.
fn idle(wait: Duration, t: &IngestTransactionsResponse) -> Status {
    let counts = [
        ("accepted", t.accepted),
        ("duplicates", t.duplicates),
        ("rejected", t.rejected.len() as u32),
        ("customers_created", t.customers_created),
    ];
    let details = ErrorDetails::with_error_info(
        "STREAM_IDLE",
        "rapport.dev",
        counts.map(|(k, v)| (k.to_owned(), v.to_string())),
    );
    let message = format!(
        "no message for {} ms (stream_idle_timeout_ms); the rows sent before are committed: \
         {} accepted, {} duplicates, {} rejected",
        wait.as_millis(),
        t.accepted,
        t.duplicates,
        t.rejected.len()
    );
    Status::with_error_details(Code::DeadlineExceeded, message, details)
}

fn log_summary(accepted: u32, duplicates: u32, rejected: &[RowError], customers_created: u32) {
    let rejected = rejected.len();
    tracing::debug!(
        accepted,
        duplicates,
        rejected,
        customers_created,
        "batch ingested"
    );
}

type Cursor = (chrono::DateTime<chrono::Utc>, Uuid);

fn parse_list(req: &ListTransactionsRequest) -> Result<(Uuid, u32, Option<Cursor>), ApiError> {
    let mut errors = FieldErrors::new();
    let customer = errors.check("customer_id", domain::parse_uuid(&req.customer_id));
    let limit = errors.check("page_size", paging::page_size(req.page_size));
    let after = errors.check(
        "page_token",
        paging::decode_token(&req.page_token).and_then(|t| t.map(parse_cursor).transpose()),
    );
    errors.into_result()?;
    match (customer, limit, after) {
        (Some(customer), Some(limit), Some(after)) => Ok((customer, limit, after)),
        _ => Err(ApiError::invalid("page_token", "could not be read")),
    }
}

fn parse_cursor(token: String) -> Result<Cursor, String> {
    let bad = || "is not a page token this service issued".to_owned();
    let (micros, id) = token.split_once(':').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    Ok((
        domain::from_micros(micros),
        Uuid::parse_str(id).map_err(|_| bad())?,
    ))
}

fn to_proto(t: StoredTransaction) -> Transaction {
    Transaction {
        id: t.id.to_string(),
        source: t.source,
        external_id: t.external_id,
        customer: None,
        customer_id: t.customer_id.to_string(),
        kind: t
            .kind
            .map_or(TransactionKind::Unspecified, |k| k.to_proto()) as i32,
        occurred_at: Some(chrono_to_timestamp(t.occurred_at)),
        currency_code: t.currency_code,
        amount: Some(Amount::AmountMinor(t.amount_minor)),
        margin_minor: t.margin_minor,
        cost_minor: t.cost_minor,
        category: t.category,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::new_v4();
        let (at, back) = parse_cursor(format!("1700000000123456:{id}")).unwrap();
        assert_eq!((domain::to_micros(at), back), (1_700_000_000_123_456, id));
        assert!(parse_cursor("nope".into()).is_err());
        let req = ListTransactionsRequest {
            customer_id: id.to_string(),
            page_size: 0,
            page_token: "zz".into(),
        };
        let Err(ApiError::InvalidArgument(f)) = parse_list(&req) else {
            panic!("accepted")
        };
        assert_eq!(f.violations()[0].0, "page_token");
    }
}
