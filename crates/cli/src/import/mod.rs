//! `rapport import customers|transactions FILE`: CSV as an ERP exports it,
//! sent through the gRPC API in batches. The columns, the mapping of rows and
//! the report are `rapport_kit::import`'s, shared with `POST /v1/import/...`.
//! Re-running a file changes nothing: customers are keyed by their identity,
//! transactions by (source, transaction id).

mod file;

use std::path::Path;

use chrono::Utc;
use rapport_kit::import::{Customers, Kind, RowOptions, Transactions};

pub use file::ImportOptions;
pub use rapport_kit::import::{ImportSummary, Rejection, parse_time};

use crate::client::Clients;
use file::{import_file, refused};

fn rows(opts: &ImportOptions) -> RowOptions {
    RowOptions {
        source: opts.source.clone(),
        now: Utc::now(),
    }
}

/// Imports customers (see [`Customers`] for the columns).
pub async fn import_customers(
    clients: &mut Clients,
    path: &Path,
    opts: &ImportOptions,
) -> anyhow::Result<ImportSummary> {
    import_file(path, Customers(rows(opts)), opts, async |items| {
        let resp = clients
            .profiles
            .upsert_customers(Customers::request(items))
            .await
            .map_err(refused("UpsertCustomers"))?;
        Ok(Customers::outcome(resp.into_inner()))
    })
    .await
}

/// Imports transactions (see [`Transactions`] for the columns).
pub async fn import_transactions(
    clients: &mut Clients,
    path: &Path,
    opts: &ImportOptions,
) -> anyhow::Result<ImportSummary> {
    import_file(path, Transactions(rows(opts)), opts, async |items| {
        let resp = clients
            .ingestion
            .ingest_transactions(Transactions::request(items))
            .await
            .map_err(refused("IngestTransactions"))?;
        Ok(Transactions::outcome(resp.into_inner()))
    })
    .await
}
