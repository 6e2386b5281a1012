//! The batch pipeline every ingest RPC runs: validate each row, resolve the
//! batch's customers through Profiles, drop in-batch repeats and replays of
//! stored rows whose customer is gone, create the customers still unknown,
//! store the rest with their outbox changes in one transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rapport_kit::{ApiError, TenantContext, error::classify_db_error, telemetry::TraceContext};
use rapport_proto::v1::{
    IngestEventsResponse, IngestOpportunityEventsResponse, IngestTransactionsResponse,
    InteractionEvent, OpportunityEvent, RowError, Transaction,
};
use uuid::Uuid;

use crate::{
    repo::{OUT_OF_RANGE, Repo, Table},
    resolve::{Resolution, Resolver},
    validate::{
        CustomerRef, MAX_BATCH_ROWS, Row, RowCheck, dedupe, event, opportunity, transaction,
    },
};

/// The service state shared by every RPC.
#[derive(Clone)]
pub(crate) struct Ingest {
    pub repo: Repo,
    pub resolver: Resolver,
    /// Transactions dated before this are refused row by row.
    pub oldest: DateTime<Utc>,
    /// Longest a client stream may go without a message.
    pub stream_idle: Duration,
}

/// What a batch did.
struct Outcome {
    accepted: u32,
    duplicates: u32,
    rejected: Vec<RowError>,
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
        let (now, currency, oldest) = (Utc::now(), ctx.tenant.currency, self.oldest);
        let checked = rows.into_iter().enumerate().map(|(i, row)| {
            let index = offset.saturating_add(i as u32);
            transaction::validate(index, row, currency, now, oldest)
        });
        let o = self.ingest(ctx, trace, "transactions", checked).await?;
        Ok(IngestTransactionsResponse {
            accepted: o.accepted,
            duplicates: o.duplicates,
            rejected: o.rejected,
            customers_created: o.customers_created,
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
        let checked =
            (rows.into_iter().enumerate()).map(|(i, row)| event::validate(i as u32, row, now));
        let o = self.ingest(ctx, trace, "events", checked).await?;
        Ok(IngestEventsResponse {
            accepted: o.accepted,
            duplicates: o.duplicates,
            rejected: o.rejected,
            customers_created: o.customers_created,
        })
    }

    /// One batch of opportunity events; their accounts are resolved like
    /// transactions' customers.
    pub(crate) async fn opportunity_events(
        &self,
        ctx: &TenantContext,
        trace: Option<&TraceContext>,
        rows: Vec<OpportunityEvent>,
    ) -> Result<IngestOpportunityEventsResponse, ApiError> {
        check_size("events", rows.len())?;
        let (now, currency) = (Utc::now(), ctx.tenant.currency);
        let checked = (rows.into_iter().enumerate())
            .map(|(i, row)| opportunity::validate(i as u32, row, currency, now));
        let o = self.ingest(ctx, trace, "events", checked).await?;
        Ok(IngestOpportunityEventsResponse {
            accepted: o.accepted,
            duplicates: o.duplicates,
            rejected: o.rejected,
            customers_created: o.customers_created,
        })
    }

    /// Resolves the customers of the valid rows without creating any, sets
    /// aside in-batch repeats and the rows stored before whose customer is
    /// unknown, creates stubs for the unknown customers of the rest and
    /// stores them. Profiles failing fails the whole batch before anything
    /// is written.
    async fn ingest<T: Table>(
        &self,
        ctx: &TenantContext,
        trace: Option<&TraceContext>,
        list: &str,
        checked: impl Iterator<Item = Result<Row<CustomerRef, T>, Vec<RowError>>>,
    ) -> Result<Outcome, ApiError> {
        let tenant = ctx.tenant_id();
        let mut rejected = Vec::new();
        let mut valid = Vec::new();
        for row in checked {
            match row {
                Ok(row) => valid.push(row),
                Err(e) => rejected.extend(e),
            }
        }
        let refs = valid.iter().map(|r| &r.customer);
        let mut resolution = self.resolver.resolve(tenant, trace, refs, false).await?;
        let (valid, missing) = resolution.refuse_unknown_ids(list, valid);
        rejected.extend(missing);
        let (rows, in_batch_duplicates) = dedupe(valid);
        let (rows, replayed) = self.set_aside_replays(tenant, &resolution, rows).await?;
        let unknown = rows.iter().map(|r| &r.customer);
        let unknown = unknown.filter(|c| !resolution.knows(c));
        let created = self.resolver.resolve(tenant, trace, unknown, true).await?;
        resolution.extend(created);
        let (rows, missing) = resolution.attach(list, rows);
        rejected.extend(missing);
        let written = self
            .repo
            .insert(tenant, &rows)
            .await
            .map_err(|e| classify_db_error(e, T::WHAT))?;
        let refused = written.over.len() as u32;
        rejected.extend(written.over.into_iter().flat_map(|o| {
            let mut check = RowCheck::new(list, o.index);
            check.fail(o.field, OUT_OF_RANGE);
            check.errors()
        }));
        rejected.sort_by_key(|e| e.index);
        Ok(Outcome {
            accepted: written.stored,
            duplicates: in_batch_duplicates
                + replayed
                + (rows.len() as u32 - written.stored - refused),
            rejected,
            customers_created: resolution.created,
        })
    }

    /// Drops the rows whose customer Profiles does not know but whose key
    /// is taken, and counts them: they were stored before (for a customer
    /// since erased, merged away or deleted), so they are duplicates, and
    /// resolving them would create a stub customer holding the identity
    /// again. Rows of known customers are left to the insert, which finds
    /// their duplicates while claiming keys.
    async fn set_aside_replays<T: Table>(
        &self,
        tenant: Uuid,
        resolution: &Resolution,
        rows: Vec<Row<CustomerRef, T>>,
    ) -> Result<(Vec<Row<CustomerRef, T>>, u32), ApiError> {
        let unknown: Vec<_> = (rows.iter())
            .filter(|r| !resolution.knows(&r.customer))
            .collect();
        let taken = self
            .repo
            .stored_keys(tenant, &unknown)
            .await
            .map_err(|e| classify_db_error(e, T::WHAT))?;
        if taken.is_empty() {
            return Ok((rows, 0));
        }
        let before = rows.len();
        let rows: Vec<_> = (rows.into_iter())
            .filter(|r| {
                resolution.knows(&r.customer)
                    || !taken.contains(&(r.source.clone(), r.external_id.clone()))
            })
            .collect();
        let replayed = (before - rows.len()) as u32;
        Ok((rows, replayed))
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
