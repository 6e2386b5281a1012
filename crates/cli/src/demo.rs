//! `rapport demo`: starts the suite on the embedded default, generates a
//! seeded, realistic sample (customers of several kinds, more than a year of
//! transactions), imports it as CSV through the API, and prints what a user
//! wants to see.

use std::{path::Path, time::Duration};

use anyhow::Context;
use chrono::Utc;
use rapport_kit::{config::Config, domain::CurrencyCode};
use rapport_proto::v1::{
    EvaluateModelsRequest, FitModelsRequest, GetCustomerEquityRequest, GetCustomerRequest,
    ListScoresRequest, ModelKind, Score, ScoreOrder, SummarizeScoresRequest,
};

use crate::{
    client::Clients,
    import::{ImportOptions, ImportSummary, import_customers, import_transactions},
    suite::Suite,
};

mod generate;
mod mailbox;
mod rules;
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
    // The demo fits models on demand inside requests; on a small, busy
    // machine (or a debug build) that can take longer than a service's
    // default request timeout.
    config.request_timeout_ms = config.request_timeout_ms.max(180_000);
    // Email goes to a mailbox inside the demo, so the emails rules cause can be shown.
    let mailbox = mailbox::Mailbox::start()
        .await
        .context("starting the demo mailbox")?;
    config.notify.smtp.host = Some(mailbox.addr().ip().to_string());
    config.notify.smtp.port = mailbox.addr().port();
    config.notify.smtp.tls = rapport_kit::config::SmtpTls::None;
    config.notify.smtp.from = "Rapport demo <demo@rapport.example>".to_owned();

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
    suite.stop().await
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

fn model_name(kind: i32) -> &'static str {
    match ModelKind::try_from(kind).unwrap_or(ModelKind::Unspecified) {
        ModelKind::BgNbd => "BG/NBD",
        ModelKind::MbgNbd => "MBG/NBD",
        ModelKind::ParetoNbd => "Pareto/NBD",
        ModelKind::GammaGamma => "Gamma-Gamma",
        ModelKind::Unspecified => "-",
    }
}

async fn name_of(clients: &mut Clients, id: &str) -> anyhow::Result<String> {
    let c = clients
        .profiles
        .get_customer(GetCustomerRequest {
            customer_id: id.to_owned(),
        })
        .await?
        .into_inner()
        .customer
        .unwrap_or_default();
    Ok(if c.display_name.is_empty() {
        id.to_owned()
    } else {
        c.display_name
    })
}

/// Model checking, fitted models, lifetime value, tiers, RFM segments and
/// behaviour change.
async fn value_report(clients: &mut Clients) -> anyhow::Result<()> {
    let now = Utc::now();
    let calibration_end =
        rapport_kit::domain::chrono_to_timestamp(now - chrono::Duration::days(120));
    let eval = clients
        .scoring
        .evaluate_models(EvaluateModelsRequest {
            calibration_end: Some(calibration_end),
            holdout_end: None,
        })
        .await?
        .into_inner();
    println!(
        "\nModel check: fitted on purchases up to 120 days ago, {} customers, {} repeat purchases in the holdout",
        eval.customers, eval.actual_purchases
    );
    for m in &eval.models {
        if m.error.is_empty() {
            println!(
                "  {:<11} predicted {:>8.1}  mean abs error {:>6.3}  chi-square {:>9.2}",
                model_name(m.kind),
                m.predicted_purchases,
                m.mean_absolute_error,
                m.chi_square
            );
        } else {
            println!("  {:<11} not fitted: {}", model_name(m.kind), m.error);
        }
    }
    println!("  chosen: {} ({})", model_name(eval.chosen), eval.reason);

    let fit = clients
        .scoring
        .fit_models(FitModelsRequest {
            observation_end: None,
        })
        .await?
        .into_inner();
    if let Some(fit) = fit.fit {
        println!("\nFitted on all data (version {}):", fit.version);
        for m in fit
            .models
            .iter()
            .filter(|m| m.selected || m.kind == ModelKind::GammaGamma as i32)
        {
            let params: Vec<String> = m
                .parameters
                .iter()
                .map(|p| format!("{}={:.4}", p.name, p.value))
                .collect();
            println!(
                "  {:<11} {}  log-likelihood {:.1}, {} iterations{}",
                model_name(m.kind),
                params.join(" "),
                m.log_likelihood,
                m.iterations,
                if m.converged { "" } else { ", NOT converged" }
            );
        }
    }

    // Every score, enriched with the new fit.
    let mut all: Vec<Score> = Vec::new();
    let mut token = String::new();
    loop {
        let page = clients
            .scoring
            .list_scores(ListScoresRequest {
                order_by: ScoreOrder::NetSpend as i32,
                page_size: 1000,
                page_token: token,
            })
            .await?
            .into_inner();
        all.extend(page.scores);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let ltv = |s: &Score| {
        s.value
            .as_ref()
            .and_then(|v| v.lifetime_value.as_ref())
            .map(|m| m.minor_units)
            .unwrap_or(0)
    };
    all.sort_by_key(|s| std::cmp::Reverse(ltv(s)));
    println!("\nTop customers by lifetime value");
    println!(
        "  {:<30} {:<9} {:>7} {:>10} {:>16}  RFM segment",
        "customer", "tier", "P(alive)", "buys/year", "lifetime value"
    );
    for s in all.iter().take(10) {
        let name = name_of(clients, &s.customer_id).await?;
        let v = s.value.clone().unwrap_or_default();
        println!(
            "  {:<30} {:<9} {:>7.2} {:>10.1} {:>16}  {}",
            rapport_kit::domain::truncate(&name, 30),
            s.tier,
            v.probability_alive.unwrap_or(f64::NAN),
            v.expected_purchases_365d.unwrap_or(f64::NAN),
            money(v.lifetime_value.as_ref()),
            s.rfm.as_ref().map(|r| r.segment.as_str()).unwrap_or("-")
        );
    }

    let equity = clients
        .scoring
        .get_customer_equity(GetCustomerEquityRequest {})
        .await?
        .into_inner();
    println!(
        "\nCustomer equity {} over {} customers",
        money(equity.total.as_ref()),
        equity.customers
    );
    println!(
        "  {:<18} {:>9} {:>18} {:>16}",
        "tier", "customers", "lifetime value", "share of wallet"
    );
    let share = |g: &rapport_proto::v1::EquityGroup| {
        g.share_of_wallet
            .map(|s| format!("{:.0}%", s * 100.0))
            .unwrap_or("-".into())
    };
    for g in &equity.tiers {
        println!(
            "  {:<18} {:>9} {:>18} {:>16}",
            g.name,
            g.customers,
            money(g.lifetime_value.as_ref()),
            share(g)
        );
    }
    println!(
        "  {:<18} {:>9} {:>18} {:>16}",
        "RFM segment", "customers", "lifetime value", "share of wallet"
    );
    for g in &equity.segments {
        println!(
            "  {:<18} {:>9} {:>18} {:>16}",
            g.name,
            g.customers,
            money(g.lifetime_value.as_ref()),
            share(g)
        );
    }

    let mut flagged: Vec<&Score> = all
        .iter()
        .filter(|s| !s.behaviour_flags.is_empty())
        .collect();
    flagged.sort_by_key(|s| std::cmp::Reverse(ltv(s)));
    println!(
        "\nBehaviour change: {} customers flagged; the most valuable of them:",
        flagged.len()
    );
    for s in flagged.iter().take(8) {
        let name = name_of(clients, &s.customer_id).await?;
        for f in &s.behaviour_flags {
            println!(
                "  {:<30} {:<12} strength {:.2}: {}",
                rapport_kit::domain::truncate(&name, 30),
                f.kind,
                f.strength,
                f.reason
            );
        }
    }
    Ok(())
}
