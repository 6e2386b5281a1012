//! Loading the sample the way a user would: both CSV files through
//! `rapport import`'s code, then waiting until every score is current.

use std::{path::Path, time::Duration};

use rapport_proto::v1::SummarizeScoresRequest;

use super::sample::Sample;
use crate::{
    client::Clients,
    import::{ImportOptions, ImportSummary, import_customers, import_transactions},
};

/// Imports customers, then transactions, printing what each import did.
pub(super) async fn import(
    clients: &mut Clients,
    customers_csv: &Path,
    transactions_csv: &Path,
) -> anyhow::Result<()> {
    let import = ImportOptions {
        progress: true,
        ..ImportOptions::default()
    };
    let c = import_customers(clients, customers_csv, &import).await?;
    print_import("customers", &c);
    let t = import_transactions(clients, transactions_csv, &import).await?;
    print_import("transactions", &t);
    Ok(())
}

fn print_import(what: &str, s: &ImportSummary) {
    println!(
        "Imported {what}: {} rows, {} stored, {} updated, {} unchanged, {} rejected",
        s.rows,
        s.stored,
        s.updated,
        s.unchanged,
        s.rejected_rows()
    );
    for r in s.rejected.iter().take(5) {
        println!("  line {}: {}: {}", r.line, r.field, r.reason);
    }
}

/// Polls until scoring has applied every transaction (the outbox is drained).
pub(super) async fn wait_for_scores(clients: &mut Clients, sample: &Sample) -> anyhow::Result<()> {
    let expected_net = sample.net_spend_minor();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let s = clients
            .scoring
            .summarize_scores(SummarizeScoresRequest {})
            .await?
            .into_inner();
        let net = s.net_spend.as_ref().map(|m| m.minor_units).unwrap_or(0);
        if net == expected_net && s.customers as usize == sample.customers_with_transactions() {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("scores did not catch up: net spend {net} of {expected_net}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
