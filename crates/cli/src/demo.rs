//! `rapport demo`: starts the suite on the embedded default, generates a
//! seeded, realistic sample (customers of several kinds, more than a year of
//! transactions), imports it as CSV through the API, and prints what a user
//! wants to see.

use std::{path::Path, time::Duration};

use anyhow::Context;
use chrono::Utc;
use rapport_kit::{config::Config, domain::CurrencyCode};
use rapport_proto::v1::{
    GetCustomerRequest, ListScoresRequest, ScoreOrder, SummarizeScoresRequest,
};

use crate::{
    client::Clients,
    import::{ImportOptions, ImportSummary, import_customers, import_transactions},
    suite::Suite,
};

mod generate;
pub use generate::{Sample, generate};

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Customers to generate.
    pub customers: usize,
    /// Months of history.
    pub months: u32,
    /// Random seed; the same seed gives the same sample.
    pub seed: u64,
}

/// Runs the demo and prints its report to stdout.
pub async fn run(mut config: Config, opts: &DemoOptions) -> anyhow::Result<()> {
    let dir = config.data_dir.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    config.data_dir = dir.clone();
    config.database_url = None;
    config.redis_url = None;
    config.listen = ([127, 0, 0, 1], 0).into();

    let started = std::time::Instant::now();
    let suite = Suite::start(config).await?;
    suite.wait_ready(Duration::from_secs(30)).await?;
    println!(
        "Rapport demo: all four services on {} (embedded store in {})",
        suite.url(),
        dir.display()
    );

    let (_tenant, key) = suite
        .app
        .auth
        .tenants()
        .create("demo", "EUR")
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo tenant: {e}"))?;
    let sample = generate(opts.seed, opts.customers, opts.months, Utc::now());
    let customers_csv = dir.join("customers.csv");
    let transactions_csv = dir.join("transactions.csv");
    sample.write_csv(&customers_csv, &transactions_csv)?;
    println!(
        "Generated {} customers and {} transactions over {} months (seed {}), written as ERP-style CSV",
        sample.customers.len(),
        sample.transactions.len(),
        opts.months,
        opts.seed
    );

    let mut clients = Clients::connect(&suite.url(), &key)?;
    let import = ImportOptions {
        progress: true,
        ..ImportOptions::default()
    };
    let c = import_customers(&mut clients, &customers_csv, &import).await?;
    print_import("customers", &c);
    let t = import_transactions(&mut clients, &transactions_csv, &import).await?;
    print_import("transactions", &t);

    wait_for_scores(&mut clients, &sample).await?;
    println!(
        "Scores current after {:.1} s in all\n",
        started.elapsed().as_secs_f64()
    );
    report(&mut clients).await?;
    suite.stop().await
}

fn print_import(what: &str, s: &ImportSummary) {
    println!(
        "Imported {what}: {} rows, {} stored, {} updated, {} unchanged, {} rejected",
        s.rows,
        s.stored,
        s.updated,
        s.unchanged,
        s.rejected.len()
    );
    for r in s.rejected.iter().take(5) {
        println!("  line {}: {}: {}", r.line, r.field, r.reason);
    }
}

/// Polls until scoring has applied every transaction (the outbox is drained).
async fn wait_for_scores(clients: &mut Clients, sample: &Sample) -> anyhow::Result<()> {
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

fn money(m: Option<&rapport_proto::v1::Money>) -> String {
    match m {
        Some(m) => match CurrencyCode::parse(&m.currency_code) {
            Ok(c) => format!(
                "{} {}",
                rapport_kit::domain::format_minor(m.minor_units, c),
                c
            ),
            Err(_) => format!("{} minor units", m.minor_units),
        },
        None => "-".to_owned(),
    }
}

async fn report(clients: &mut Clients) -> anyhow::Result<()> {
    let top = clients
        .scoring
        .list_scores(ListScoresRequest {
            order_by: ScoreOrder::NetSpend as i32,
            page_size: 10,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    println!("Top customers by net spend");
    println!(
        "  {:<32} {:>9} {:>16} {:>14} {:>9}  segment",
        "customer", "purchases", "net spend", "avg order", "recency"
    );
    for s in &top.scores {
        let c = clients
            .profiles
            .get_customer(GetCustomerRequest {
                customer_id: s.customer_id.clone(),
            })
            .await?
            .into_inner()
            .customer
            .unwrap_or_default();
        let name = if c.display_name.is_empty() {
            s.customer_id.clone()
        } else {
            c.display_name
        };
        println!(
            "  {:<32} {:>9} {:>16} {:>14} {:>8}d  {}",
            rapport_kit::domain::truncate(&name, 32),
            s.purchase_count,
            money(s.net_spend.as_ref()),
            money(s.average_order_value.as_ref()),
            s.recency_days,
            s.segment
        );
    }

    let summary = clients
        .scoring
        .summarize_scores(SummarizeScoresRequest {})
        .await?
        .into_inner();
    println!(
        "\nSpend distribution over {} customers, {} in all",
        summary.customers,
        money(summary.net_spend.as_ref())
    );
    let labels = ["p10", "p25", "p50", "p75", "p90", "p99"];
    let pct: Vec<String> = summary
        .spend_percentiles
        .iter()
        .zip(labels)
        .map(|(m, l)| format!("{l} {}", money(Some(m))))
        .collect();
    println!("  {}", pct.join("  "));
    let widest = summary
        .spend_histogram
        .iter()
        .map(|b| b.customers)
        .max()
        .unwrap_or(1)
        .max(1);
    for b in &summary.spend_histogram {
        let bar = "#".repeat(((b.customers * 50) / widest) as usize);
        println!(
            "  from {:>16}  {:>6}  {bar}",
            money(b.from.as_ref()),
            b.customers
        );
    }
    println!("\nCustomers per segment");
    for s in &summary.segments {
        println!(
            "  {:<10} {:>6}  {:>18}",
            s.segment,
            s.customers,
            money(s.net_spend.as_ref())
        );
    }
    Ok(())
}

/// Writes `rows` to `path` as CSV.
pub(crate) fn write_rows<T: serde::Serialize>(path: &Path, rows: &[T]) -> anyhow::Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(())
}
