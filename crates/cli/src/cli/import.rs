//! `rapport import customers|transactions FILE`: its flags, and the summary
//! it prints of what was stored and what was refused.

use std::path::PathBuf;

use clap::Subcommand;

use super::remote::Remote;
use crate::import::{self, ImportOptions, ImportSummary};

#[derive(clap::Args)]
pub(super) struct ImportArgs {
    #[command(subcommand)]
    what: ImportWhat,
    #[command(flatten)]
    remote: Remote,
    /// Source system name for rows without a `source` column.
    #[arg(long, global = true, default_value = "erp")]
    source: String,
    /// Rows per request.
    #[arg(long, global = true, default_value_t = 1000)]
    batch_size: usize,
    /// Seconds a batch is retried while the server answers UNAVAILABLE (a
    /// service or its database restarting) or is overloaded; re-sending is
    /// safe, every row is stored once.
    #[arg(long, global = true, default_value_t = 120)]
    retry_for: u64,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// customers.csv: customer_id, source, name, kind, email, phone, parent_id,
    /// consent_email, consent_sms, consent_webhook, then any attribute columns.
    Customers {
        /// The CSV file.
        file: PathBuf,
    },
    /// transactions.csv: transaction_id, customer_id, source, kind,
    /// occurred_at, amount, currency, margin, cost, category.
    Transactions {
        /// The CSV file.
        file: PathBuf,
    },
}

/// Imports the file and prints the summary.
pub(super) async fn run(args: ImportArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=5000).contains(&args.batch_size),
        "--batch-size must be within 1..=5000"
    );
    let mut clients = args.remote.clients()?;
    let opts = ImportOptions {
        source: args.source,
        batch_size: args.batch_size,
        progress: true,
        retry_for: std::time::Duration::from_secs(args.retry_for),
    };
    let (label, summary) = match args.what {
        ImportWhat::Customers { file } => (
            "customers",
            import::import_customers(&mut clients, &file, &opts).await?,
        ),
        ImportWhat::Transactions { file } => (
            "transactions",
            import::import_transactions(&mut clients, &file, &opts).await?,
        ),
    };
    print_summary(label, &summary);
    Ok(())
}

fn print_summary(what: &str, s: &ImportSummary) {
    println!("{what}: {} rows read", s.rows);
    println!("  stored     {}", s.stored);
    if what == "customers" {
        println!("  updated    {}", s.updated);
    } else {
        println!(
            "  new customers created from unknown ids {}",
            s.customers_created
        );
    }
    println!("  unchanged  {}", s.unchanged);
    println!(
        "  rejected   {} rows ({} problems)",
        s.rejected_rows(),
        s.rejected.len()
    );
    for r in s.rejected.iter().take(20) {
        println!("    line {}: {}: {}", r.line, r.field, r.reason);
    }
    if s.rejected.len() > 20 {
        println!("    … and {} more", s.rejected.len() - 20);
    }
}
