//! Ingest through IngestTransactions against the fastest bulk load the
//! store has for the same rows (see [`baseline`]), batch size by batch size.

use std::time::Instant;

use anyhow::Context;
use rapport_proto::v1::{IngestTransactionsRequest, Transaction};

use super::{
    generate::TxnGen,
    outbox::{outbox_depth, wait_drained},
    report::{Report, Target as Goal},
    run::Run,
};

mod baseline;
mod copy;
mod flat;
mod insert;

use baseline::Baseline;

/// Rows/s of the API against the bulk load, for each batch size.
pub async fn run(run: &Run<'_>, report: &mut Report) -> anyhow::Result<()> {
    let (target, s) = (&*run.target, run.settings);
    let spec = &s.population;
    let clients = target.clients()?;
    let ingestion_db = target.db(rapport_ingestion::SCHEMA)?;
    let baseline = Baseline::prepare(target).await?;
    for (round, &batch) in s.ingest_batches.iter().enumerate() {
        let batches = (s.ingest_rows as usize).div_ceil(batch).max(1);
        let mut generator = TxnGen::new(spec, &format!("ingest{batch}"), 1_000 + round as u64);
        let data: Vec<Vec<Transaction>> = (0..batches).map(|_| generator.live(batch)).collect();
        let rows = (batches * batch) as f64;

        // The relay runs as it would in production; the figure is the rate
        // at which ingest acknowledged durable rows.
        let mut client = clients.ingestion.clone();
        let t0 = Instant::now();
        for transactions in &data {
            let answer = client
                .ingest_transactions(IngestTransactionsRequest {
                    transactions: transactions.clone(),
                })
                .await
                .context("IngestTransactions")?
                .into_inner();
            anyhow::ensure!(
                answer.accepted as usize == transactions.len(),
                "ingest accepted {} of {} (first rejection: {:?})",
                answer.accepted,
                transactions.len(),
                answer.rejected.first()
            );
        }
        let api = rows / t0.elapsed().as_secs_f64();
        let backlog = outbox_depth(&ingestion_db).await?;
        let t1 = Instant::now();
        wait_drained(&ingestion_db, std::time::Duration::from_secs(3_600)).await?;
        let drain = t1.elapsed().as_secs_f64();

        let t2 = Instant::now();
        for transactions in &data {
            baseline.load(target.tenant_id, transactions).await?;
        }
        let bulk = rows / t2.elapsed().as_secs_f64();
        report.ratio(
            &format!("Ingest, batches of {batch}"),
            format!("{rows} rows, one stream"),
            api,
            baseline.name(),
            bulk,
            "rows/s",
            Goal::AtLeast(0.6),
        );
        if backlog > 0 && drain > 0.0 {
            report.value(
                "Relay + apply: backlog drained",
                format!("{backlog} changes left when ingest ended"),
                backlog as f64 / drain,
                "chg/s",
                Goal::None,
            );
        }
    }
    baseline.close().await;
    ingestion_db.close().await;
    Ok(())
}
