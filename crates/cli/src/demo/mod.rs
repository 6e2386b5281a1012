//! `rapport demo`: starts the suite on the embedded default, imports a
//! generated sample as CSV through the API, and prints what a user wants to
//! see: scores, customer value, and a rule at work.

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use rapport_kit::config::Config;

use crate::{client::Clients, suite::Suite};

mod customer;
mod dashboard;
mod draw;
mod format;
mod generate;
mod habits;
mod history;
mod load;
mod mailbox;
mod models;
mod outcome;
mod points;
mod rules;
mod sample;
mod scores;
mod value;

pub use generate::generate;
pub use sample::{CustomerRow, Sample, TransactionRow};

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Customers to generate.
    pub customers: usize,
    /// Months of history.
    pub months: u32,
    /// Random seed; the same seed gives the same sample.
    pub seed: u64,
    /// Keep serving (the dashboard) after the report, until Ctrl-C.
    pub serve: bool,
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
    // The demo fits models on demand inside requests; on a small, busy
    // machine (or a debug build) that can take longer than a service's
    // default request timeout.
    config.request_timeout_ms = config.request_timeout_ms.max(180_000);
    // Email goes to a mailbox inside the demo, so the emails rules cause can be shown.
    let mailbox = mailbox::Mailbox::start()
        .await
        .context("starting the demo mailbox")?;
    config.update_section(|n: &mut rapport_notifications::config::NotifyConfig| {
        n.smtp.host = Some(mailbox.addr().ip().to_string());
        n.smtp.port = mailbox.addr().port();
        n.smtp.tls = rapport_notifications::config::SmtpTls::None;
        n.smtp.from = "Rapport demo <demo@rapport.example>".to_owned();
    });
    // The demo waits for its scores through SummarizeScores, and for as many
    // firings as its dry run matched: both must then cover every customer
    // (past the limits, SummarizeScores answers the refresh worker's stored
    // figures, up to 15 minutes old, and a dry run evaluates a sample).
    let customers = u32::try_from(opts.customers)
        .unwrap_or(u32::MAX)
        .min(rapport_scoring::MAX_INLINE_FIGURES);
    config.update_section(|s: &mut rapport_scoring::ScoringConfig| {
        s.inline_figures_limit = s.inline_figures_limit.max(customers);
        s.dry_run_limit = s.dry_run_limit.max(customers);
    });

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
    points::setup(&mut clients, opts.months).await?;
    load::import(&mut clients, &customers_csv, &transactions_csv).await?;
    load::wait_for_scores(&mut clients, &sample).await?;
    println!(
        "Scores current after {:.1} s in all\n",
        started.elapsed().as_secs_f64()
    );
    scores::show(&mut clients).await?;
    // A small or unusual sample can leave the purchase models nothing to
    // fit (no sign of customers dropping out, say): that is a finding to
    // show, not a reason to stop the demo.
    if let Err(e) = value_report(&mut clients).await {
        match e.downcast_ref::<tonic::Status>() {
            Some(s) if s.code() == tonic::Code::FailedPrecondition => println!(
                "\nCustomer value: the models cannot be fitted on this sample: {}.\n\
                 A larger sample (--customers) gives them enough to work with.\n",
                s.message()
            ),
            _ => return Err(e),
        }
    }
    rules::show(&mut clients, &mailbox).await?;
    points::show(&mut clients).await?;
    dashboard::show(&mut clients, &suite, &key).await?;
    if opts.serve {
        println!("  serving until Ctrl-C");
        return suite.run_until_signal().await;
    }
    println!("  (served while the demo runs: run it from a terminal to keep it open)");
    suite.stop().await
}

/// Model checking, fitted models, lifetime value, tiers, RFM segments and
/// behaviour change.
async fn value_report(clients: &mut Clients) -> anyhow::Result<()> {
    models::show(clients).await?;
    value::show(clients).await
}
