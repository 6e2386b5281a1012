//! The batch pipeline every ingest RPC runs: validate each row, resolve the
//! batch's customers through Profiles, drop in-batch repeats, store the rest
//! with their outbox changes in one transaction.

use chrono::Utc;
use rapport_kit::{ApiError, TenantContext, error::classify_db_error, telemetry::TraceContext};
use rapport_proto::v1::{
    IngestEventsResponse, IngestTransactionsResponse, InteractionEvent, RowError, Transaction,
};
use uuid::Uuid;

use crate::{
    repo::Repo,
    resolve::Resolver,
    validate::{CustomerRef, MAX_BATCH_ROWS, Row, dedupe, event, transaction},
};

/// The service state shared by every RPC.
#[derive(Clone)]
pub(crate) struct Ingest {
    pub repo: Repo,
    pub resolver: Resolver,
}

/// Rows ready to store, and what happened to the others.
struct Prepared<T> {
    rows: Vec<Row<Uuid, T>>,
    rejected: Vec<RowError>,
    in_batch_duplicates: u32,
    customers_created: u32,
}

impl Ingest {
    /// One batch of transactions whose first row has index `offset`.
    pub(crate) async fn transactions(
        &self,
        ctx: &TenantContext,
        trace: Option<&TraceContext>,
        rows: Vec<Transaction>,
        offset: u32,
    ) -> Result<IngestTransactionsResponse, ApiError> {
        check_size("transactions", rows.len())?;
        let (now, currency) = (Utc::now(), ctx.tenant.currency);
        let mut rejected = Vec::new();
        let mut valid = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            match transaction::validate(offset.saturating_add(i as u32), row, currency, now) {
                Ok(row) => valid.push(row),
                Err(e) => rejected.extend(e),
            }
        }
        let p = self
            .prepare(ctx, trace, "transactions", valid, rejected)
            .await?;
        let accepted = self
            .repo
            .insert_transactions(ctx.tenant_id(), &p.rows)
            .await
            .map_err(|e| classify_db_error(e, "transaction"))?;
        Ok(IngestTransactionsResponse {
            accepted,
            duplicates: p.in_batch_duplicates + (p.rows.len() as u32 - accepted),
            rejected: p.rejected,
            customers_created: p.customers_created,
        })
    }

    /// One batch of interaction events.
    pub(crate) async fn events(
        &self,
        ctx: &TenantContext,
        trace: Option<&TraceContext>,
        rows: Vec<InteractionEvent>,
    ) -> Result<IngestEventsResponse, ApiError> {
        check_size("events", rows.len())?;
        let now = Utc::now();
        let mut rejected = Vec::new();
        let mut valid = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            match event::validate(i as u32, row, now) {
                Ok(row) => valid.push(row),
                Err(e) => rejected.extend(e),
            }
        }
        let p = self.prepare(ctx, trace, "events", valid, rejected).await?;
        let accepted = self
            .repo
            .insert_events(ctx.tenant_id(), &p.rows)
            .await
            .map_err(|e| classify_db_error(e, "event"))?;
        Ok(IngestEventsResponse {
            accepted,
            duplicates: p.in_batch_duplicates + (p.rows.len() as u32 - accepted),
            rejected: p.rejected,
            customers_created: p.customers_created,
        })
    }

    /// Resolves customers (failing the whole batch if Profiles cannot be
    /// asked, before anything is written) and keeps the first of repeated keys.
    async fn prepare<T>(
        &self,
        ctx: &TenantContext,
        trace: Option<&TraceContext>,
        list: &str,
        valid: Vec<Row<CustomerRef, T>>,
        mut rejected: Vec<RowError>,
    ) -> Result<Prepared<T>, ApiError> {
        let resolution = self
            .resolver
            .resolve(ctx.tenant_id(), trace, valid.iter().map(|r| &r.customer))
            .await?;
        let (ready, missing) = resolution.attach(list, valid);
        rejected.extend(missing);
        rejected.sort_by_key(|e| e.index);
        let (rows, in_batch_duplicates) = dedupe(ready);
        Ok(Prepared {
            rows,
            rejected,
            in_batch_duplicates,
            customers_created: resolution.created,
        })
    }
}

fn check_size(list: &'static str, rows: usize) -> Result<(), ApiError> {
    if rows > MAX_BATCH_ROWS {
        return Err(ApiError::invalid(
            list,
            format!("has {rows} rows; at most {MAX_BATCH_ROWS} are accepted per message"),
        ));
    }
    Ok(())
}
