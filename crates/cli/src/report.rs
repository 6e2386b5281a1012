//! `rapport report …`: the tenant's reports as CSV. `start` queues a run
//! (and waits for it with `--wait`); `runs` lists them; `breakdown`,
//! `months`, `cohorts`, `top`, the next-best lists (`reactivation`,
//! `upsell`, `cross-sell`) and `affinity` print a part of the latest report that
//! succeeded (or of `--run`) as CSV on standard output, money in major units
//! (e.g. 1250.00).

use std::{io::Write, time::Duration};

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use rapport_kit::domain::{CurrencyCode, format_minor};
use rapport_proto::v1::{
    BreakdownRow, GetReportRequest, ListReportsRequest, Money, RankingSpec, Report,
    ReportDimension, ReportFilter, ReportMeasure, ReportRun, ReportRunState, StartReportRequest,
};

use crate::client::{Clients, answer};

mod cross_sell;

/// A breakdown's dimension, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Dimension {
    /// The profile attribute `region`.
    Region,
    /// The profile attribute `industry`.
    Industry,
    /// Bands of the profile attribute `birth_date`.
    AgeBand,
    /// The profile attribute `gender`.
    Gender,
    /// person, business, intermediary.
    Kind,
    /// The service tier.
    Tier,
    /// Champions, Loyal, ...
    RfmSegment,
    /// new, active, lapsing, lapsed.
    Lifecycle,
    /// The month of the first purchase.
    Cohort,
    /// The parent account (direct children).
    ParentAccount,
}

impl From<Dimension> for ReportDimension {
    fn from(d: Dimension) -> Self {
        match d {
            Dimension::Region => ReportDimension::Region,
            Dimension::Industry => ReportDimension::Industry,
            Dimension::AgeBand => ReportDimension::AgeBand,
            Dimension::Gender => ReportDimension::Gender,
            Dimension::Kind => ReportDimension::Kind,
            Dimension::Tier => ReportDimension::Tier,
            Dimension::RfmSegment => ReportDimension::RfmSegment,
            Dimension::Lifecycle => ReportDimension::Lifecycle,
            Dimension::Cohort => ReportDimension::Cohort,
            Dimension::ParentAccount => ReportDimension::ParentAccount,
        }
    }
}

/// A ranking's measure, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Measure {
    /// Purchases less refunds.
    NetSpend,
    /// Margin on purchases less refunds.
    Margin,
    /// Margin less cost to serve, per month.
    MonthlyProfit,
    /// Discounted expected contribution.
    LifetimeValue,
    /// Past profit compounded to today.
    PastValue,
    /// Probability of being alive.
    ProbabilityAlive,
    /// Purchases.
    PurchaseCount,
    /// Spend over the wallet estimate.
    ShareOfWallet,
}

impl From<Measure> for ReportMeasure {
    fn from(m: Measure) -> Self {
        match m {
            Measure::NetSpend => ReportMeasure::NetSpend,
            Measure::Margin => ReportMeasure::Margin,
            Measure::MonthlyProfit => ReportMeasure::MonthlyProfit,
            Measure::LifetimeValue => ReportMeasure::LifetimeValue,
            Measure::PastValue => ReportMeasure::PastValue,
            Measure::ProbabilityAlive => ReportMeasure::ProbabilityAlive,
            Measure::PurchaseCount => ReportMeasure::PurchaseCount,
            Measure::ShareOfWallet => ReportMeasure::ShareOfWallet,
        }
    }
}

/// What `rapport report` does.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Queues a report run (one pass over the tenant, off the request path)
    /// and prints its id; with `--wait`, waits for it and prints how it
    /// ended.
    Start {
        /// Idempotency key; a new one when absent.
        #[arg(long)]
        request_id: Option<String>,
        /// Wait for the run to end, showing progress on standard error.
        #[arg(long)]
        wait: bool,
    },
    /// The tenant's report runs, newest first.
    Runs,
    /// Customers, revenue, margin, profit, equity and share of wallet by one
    /// dimension, as CSV.
    Breakdown {
        /// The dimension.
        #[arg(value_enum)]
        dimension: Dimension,
        /// The run to read; the latest that succeeded when absent.
        #[arg(long)]
        run: Option<String>,
    },
    /// Revenue and margin per month, new against returning customers, as CSV.
    Months {
        /// The run to read; the latest that succeeded when absent.
        #[arg(long)]
        run: Option<String>,
    },
    /// First-purchase cohorts and how many bought again k months later, as
    /// CSV (one column per month after the first).
    Cohorts {
        /// The run to read; the latest that succeeded when absent.
        #[arg(long)]
        run: Option<String>,
    },
    /// Next-best list: repeat buyers likely gone, by value at risk, with
    /// why, as CSV.
    Reactivation {
        /// The run to read; the latest that succeeded when absent.
        #[arg(long)]
        run: Option<String>,
    },
    /// Next-best list: customers spending well below their peers at the
    /// same purchase frequency, by the spend left on the table, with why, as
    /// CSV.
    Upsell {
        /// The run to read; the latest that succeeded when absent.
        #[arg(long)]
        run: Option<String>,
    },
    /// Next-best list: customers likely to buy a category they have not,
    /// by expected value (the pair's confidence times their order value),
    /// with the pair and why, as CSV. With `--customer`, that customer's
    /// likely categories instead, most likely first.
    CrossSell {
        /// The run to read; the latest that succeeded when absent.
        #[arg(long)]
        run: Option<String>,
        /// A customer's Rapport id: their likely categories, from the latest
        /// report.
        #[arg(long, conflicts_with = "run")]
        customer: Option<String>,
    },
    /// Category affinity from co-purchase: customers who buy one category
    /// also buy another, with support, confidence and lift, as CSV.
    Affinity {
        /// The run to read; the latest that succeeded when absent.
        #[arg(long)]
        run: Option<String>,
    },
    /// The top customers by a measure, as CSV. Without filters, reads the
    /// latest report's default ranking (top 20); with `--where` (or a limit
    /// above 20), runs a new report for the ranking and waits for it.
    Top {
        /// The measure.
        #[arg(value_enum)]
        measure: Measure,
        /// How many, 1 to 100.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only customers with this dimension value, e.g. `region=north`;
        /// repeat for several (all must hold).
        #[arg(long = "where", value_name = "DIMENSION=VALUE")]
        filters: Vec<String>,
    },
}

/// Runs `command` against the suite.
pub async fn run(clients: &mut Clients, command: ReportCommand) -> anyhow::Result<()> {
    match command {
        ReportCommand::Start { request_id, wait } => {
            let request_id = request_id.unwrap_or_else(|| format!("cli-{}", uuid::Uuid::now_v7()));
            // With --wait, the run waited for is this one, not another that was
            // already going (a scheduled run).
            let run = start(clients, request_id, Vec::new(), wait).await?;
            println!("{}", run.run_id);
            if wait {
                let run = wait_for(clients, &run.run_id).await?;
                eprintln!("{}", describe(&run));
            }
            Ok(())
        }
        ReportCommand::Runs => {
            let r = answer(
                clients
                    .reports
                    .list_reports(ListReportsRequest::default())
                    .await,
            )?;
            for run in r.runs {
                println!("{}  {}", run.run_id, describe(&run));
            }
            Ok(())
        }
        ReportCommand::Breakdown { dimension, run } => {
            let report = read(clients, run).await?;
            let d = ReportDimension::from(dimension) as i32;
            let b = report
                .breakdowns
                .iter()
                .find(|b| b.dimension == d)
                .context("the report has no such breakdown")?;
            let c = currency(&report)?;
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record([
                "value",
                "customers",
                "purchasers",
                "net_spend",
                "margin",
                "monthly_profit",
                "equity",
                "average_lifetime_value",
                "past_value",
                "share_of_wallet",
                "wallet_customers",
            ])?;
            for row in &b.rows {
                out.write_record(breakdown_record(row, c))?;
            }
            finish(out)
        }
        ReportCommand::Months { run } => {
            let report = read(clients, run).await?;
            let c = currency(&report)?;
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record([
                "month",
                "net_spend",
                "margin",
                "buying_customers",
                "new_customers",
                "returning_customers",
                "new_customer_spend",
                "returning_customer_spend",
            ])?;
            for m in &report.months {
                out.write_record([
                    m.month.clone(),
                    money(&m.net_spend, c),
                    money(&m.margin, c),
                    m.buying_customers.to_string(),
                    m.new_customers.to_string(),
                    m.returning_customers.to_string(),
                    money(&m.new_customer_spend, c),
                    money(&m.returning_customer_spend, c),
                ])?;
            }
            finish(out)
        }
        ReportCommand::Cohorts { run } => {
            let report = read(clients, run).await?;
            let width = report
                .cohorts
                .iter()
                .map(|c| c.active.len())
                .max()
                .unwrap_or(0);
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            let mut header = vec!["cohort".to_owned(), "customers".to_owned()];
            header.extend((0..width).map(|k| format!("m{k}")));
            out.write_record(&header)?;
            for c in &report.cohorts {
                let mut record = vec![c.cohort.clone(), c.customers.to_string()];
                record.extend(c.active.iter().map(u64::to_string));
                record.resize(header.len(), String::new());
                out.write_record(&record)?;
            }
            finish(out)
        }
        ReportCommand::Reactivation { run } => {
            let report = read(clients, run).await?;
            let c = currency(&report)?;
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record([
                "rank",
                "customer_id",
                "display_name",
                "value_at_risk",
                "probability_alive",
                "lifetime_value",
                "past_value",
                "days_since_last_purchase",
                "purchases",
                "reason",
            ])?;
            for (i, e) in report.reactivation.iter().enumerate() {
                out.write_record([
                    (i + 1).to_string(),
                    e.customer_id.clone(),
                    e.display_name.clone(),
                    money(&e.value, c),
                    format!("{:.4}", e.probability_alive),
                    money(&e.lifetime_value, c),
                    money(&e.past_value, c),
                    e.days_since_last_purchase.to_string(),
                    e.purchases.to_string(),
                    e.reason.clone(),
                ])?;
            }
            finish(out)
        }
        ReportCommand::Upsell { run } => {
            let report = read(clients, run).await?;
            let c = currency(&report)?;
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record([
                "rank",
                "customer_id",
                "display_name",
                "yearly_gap",
                "order_value",
                "purchases_last_12_months",
                "purchases",
                "days_since_last_purchase",
                "reason",
            ])?;
            for (i, e) in report.upsell.iter().enumerate() {
                out.write_record([
                    (i + 1).to_string(),
                    e.customer_id.clone(),
                    e.display_name.clone(),
                    money(&e.value, c),
                    money(&e.order_value, c),
                    e.purchases_last_12_months.to_string(),
                    e.purchases.to_string(),
                    e.days_since_last_purchase.to_string(),
                    e.reason.clone(),
                ])?;
            }
            finish(out)
        }
        ReportCommand::CrossSell { run, customer } => {
            cross_sell::list(clients, run, customer).await
        }
        ReportCommand::Affinity { run } => cross_sell::affinity(clients, run).await,
        ReportCommand::Top {
            measure,
            limit,
            filters,
        } => {
            if !(1..=100).contains(&limit) {
                bail!("--limit must be within 1..=100");
            }
            let spec = RankingSpec {
                measure: ReportMeasure::from(measure) as i32,
                limit,
                filters: filters
                    .iter()
                    .map(|f| filter(f))
                    .collect::<anyhow::Result<_>>()?,
            };
            let report = if spec.filters.is_empty() && limit <= 20 {
                read(clients, None).await?
            } else {
                let request_id = format!("cli-top-{}", uuid::Uuid::now_v7());
                let run = start(clients, request_id, vec![spec.clone()], true).await?;
                let run = wait_for(clients, &run.run_id).await?;
                read(clients, Some(run.run_id)).await?
            };
            let ranking = report
                .rankings
                .iter()
                .rev()
                .find(|r| {
                    r.spec.as_ref().is_some_and(|s| {
                        s.measure == spec.measure
                            && s.filters == spec.filters
                            && s.limit >= limit.min(20)
                    })
                })
                .context("the report has no such ranking")?;
            let c = currency(&report)?;
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record(["rank", "customer_id", "display_name", "value"])?;
            for (i, r) in ranking.customers.iter().take(limit as usize).enumerate() {
                let value = match &r.money {
                    Some(m) => format_minor(m.minor_units, c),
                    None => format!("{}", r.value),
                };
                out.write_record([
                    (i + 1).to_string(),
                    r.customer_id.clone(),
                    r.display_name.clone(),
                    value,
                ])?;
            }
            finish(out)
        }
    }
}

fn filter(text: &str) -> anyhow::Result<ReportFilter> {
    let Some((d, v)) = text.split_once('=') else {
        bail!("--where {text:?}: expected DIMENSION=VALUE, e.g. region=north");
    };
    let d = Dimension::from_str(d.trim(), true)
        .map_err(|_| anyhow::anyhow!("--where {text:?}: unknown dimension {d:?}"))?;
    Ok(ReportFilter {
        dimension: ReportDimension::from(d) as i32,
        value: v.to_owned(),
    })
}

/// Starts a run. When another run of the tenant is queued or running, the
/// answer is that run; with `until_mine`, waits for it to end and starts
/// again, so the run answered is this request's.
pub(crate) async fn start(
    clients: &mut Clients,
    request_id: String,
    rankings: Vec<RankingSpec>,
    until_mine: bool,
) -> anyhow::Result<ReportRun> {
    loop {
        let request = StartReportRequest {
            request_id: request_id.clone(),
            rankings: rankings.clone(),
        };
        let r = answer(clients.reports.start_report(request).await)?;
        let run = r.run.context("no run in the answer")?;
        let active = ReportRunState::try_from(run.state)
            .is_ok_and(|s| matches!(s, ReportRunState::Queued | ReportRunState::Running));
        if r.started || !active {
            return Ok(run);
        }
        eprintln!("a run is already queued or running: {}", run.run_id);
        if !until_mine {
            return Ok(run);
        }
        let _ = wait_for(clients, &run.run_id).await;
    }
}

/// Polls the run until it has ended, showing progress on standard error.
async fn wait_for(clients: &mut Clients, run_id: &str) -> anyhow::Result<ReportRun> {
    loop {
        let request = GetReportRequest {
            run_id: run_id.to_owned(),
        };
        let r = answer(clients.reports.get_report(request).await)?;
        let run = r.run.context("no run in the answer")?;
        match ReportRunState::try_from(run.state) {
            Ok(ReportRunState::Succeeded) => return Ok(run),
            Ok(ReportRunState::Failed) => bail!("report run {} failed: {}", run.run_id, run.error),
            _ => {
                eprint!("\r{}   ", describe(&run));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

fn describe(run: &ReportRun) -> String {
    let state = ReportRunState::try_from(run.state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("REPORT_RUN_STATE_")
                .to_lowercase()
        })
        .unwrap_or_default();
    let mut text = format!(
        "{state} ({}) {} of {} customers",
        run.origin, run.customers_done, run.customers_expected
    );
    if let Some(at) = &run.queued_at {
        text.push_str(&format!(", queued {}", at_text(at)));
    }
    if !run.error.is_empty() {
        text.push_str(&format!(": {}", run.error));
    }
    text
}

fn at_text(t: &prost_types::Timestamp) -> String {
    rapport_kit::domain::timestamp_to_chrono(t)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The report of `run`, or the latest that succeeded.
async fn read(clients: &mut Clients, run: Option<String>) -> anyhow::Result<Report> {
    let request = GetReportRequest {
        run_id: run.unwrap_or_default(),
    };
    let r = match clients.reports.get_report(request).await {
        Err(s) if s.code() == tonic::Code::NotFound => {
            bail!("{}; run `rapport report start --wait` first", s.message())
        }
        other => answer(other)?,
    };
    match r.report {
        Some(report) => Ok(report),
        None => {
            let run = r.run.unwrap_or_default();
            bail!(
                "report run {} has no report yet: {}",
                run.run_id,
                describe(&run)
            )
        }
    }
}

fn currency(report: &Report) -> anyhow::Result<CurrencyCode> {
    CurrencyCode::parse(&report.currency_code).map_err(|e| anyhow::anyhow!(e))
}

fn money(m: &Option<Money>, c: CurrencyCode) -> String {
    m.as_ref()
        .map_or_else(String::new, |m| format_minor(m.minor_units, c))
}

fn breakdown_record(row: &BreakdownRow, c: CurrencyCode) -> Vec<String> {
    vec![
        row.value.clone(),
        row.customers.to_string(),
        row.purchasers.to_string(),
        money(&row.net_spend, c),
        money(&row.margin, c),
        money(&row.monthly_profit, c),
        money(&row.equity, c),
        money(&row.average_lifetime_value, c),
        money(&row.past_value, c),
        row.share_of_wallet
            .map_or_else(String::new, |s| format!("{s:.4}")),
        row.wallet_customers.to_string(),
    ]
}

/// Flushes a CSV written to standard output; a closed pipe (`| head`) is
/// not an error.
pub(crate) fn finish<W: Write>(out: csv::Writer<W>) -> anyhow::Result<()> {
    match out.into_inner() {
        Ok(mut w) => match w.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        },
        Err(e) if e.error().kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::anyhow!("writing the CSV: {}", e.error())),
    }
}
