//! `rapport opportunities …`: the tenant's B2B pipeline as CSV. `list`
//! prints opportunities with their conversion probability and expected
//! value, highest first; `pipeline` the roll-up by tier, parent account or
//! account, with the model's figures per stage on standard error.

use clap::{Subcommand, ValueEnum};
use rapport_kit::domain::{CurrencyCode, format_minor};
use rapport_proto::v1::{
    GetPipelineRequest, ListOpportunitiesRequest, Money, Opportunity, OpportunityStatus,
    PipelineLevel,
};

use crate::{
    client::{Clients, answer},
    report::finish,
};

/// Which opportunities `list` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Status {
    /// Still open.
    Open,
    /// Won.
    Won,
    /// Lost.
    Lost,
}

/// The roll-up `pipeline` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Level {
    /// Per service tier of the account.
    Tier,
    /// Per parent account.
    Parent,
    /// Per account.
    Account,
}

/// What `rapport opportunities` does.
#[derive(Debug, Subcommand)]
pub enum OpportunitiesCommand {
    /// Opportunities as CSV, highest expected value first.
    List {
        /// Only this account's (a Rapport customer id).
        #[arg(long)]
        customer: Option<String>,
        /// Only these.
        #[arg(long, value_enum)]
        status: Option<Status>,
    },
    /// The pipeline rolled up, as CSV; the model's stages on standard error.
    Pipeline {
        /// The roll-up.
        #[arg(value_enum, default_value = "tier")]
        level: Level,
    },
}

fn money(m: &Option<Money>) -> String {
    match m {
        Some(m) => match CurrencyCode::parse(&m.currency_code) {
            Ok(c) => format_minor(m.minor_units, c),
            Err(_) => m.minor_units.to_string(),
        },
        None => String::new(),
    }
}

fn time(t: &Option<prost_types::Timestamp>) -> String {
    t.as_ref()
        .and_then(|t| rapport_kit::domain::timestamp_to_chrono(t).ok())
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn record(o: &Opportunity) -> Vec<String> {
    let id = o.opportunity.clone().unwrap_or_default();
    let status = o
        .status()
        .as_str_name()
        .trim_start_matches("OPPORTUNITY_STATUS_");
    vec![
        format!("{}:{}", id.source, id.external_id),
        o.customer_id.clone(),
        status.to_ascii_lowercase(),
        o.stage.clone(),
        money(&o.amount),
        o.probability
            .map_or_else(String::new, |p| format!("{p:.4}")),
        money(&o.expected_value),
        time(&o.expected_close),
        o.explanation
            .as_ref()
            .map(|e| e.text.clone())
            .unwrap_or_default(),
    ]
}

/// Runs `command` against the suite `clients` reach.
pub async fn run(clients: &mut Clients, command: OpportunitiesCommand) -> anyhow::Result<()> {
    let client = &mut clients.opportunities;
    let mut out = csv::Writer::from_writer(std::io::stdout());
    match command {
        OpportunitiesCommand::List { customer, status } => {
            out.write_record([
                "opportunity",
                "customer_id",
                "status",
                "stage",
                "amount",
                "probability",
                "expected_value",
                "expected_close",
                "why",
            ])?;
            let status = status.map_or(OpportunityStatus::Unspecified, |s| match s {
                Status::Open => OpportunityStatus::Open,
                Status::Won => OpportunityStatus::Won,
                Status::Lost => OpportunityStatus::Lost,
            });
            let mut token = String::new();
            loop {
                let page = answer(
                    client
                        .list_opportunities(ListOpportunitiesRequest {
                            customer_id: customer.clone().unwrap_or_default(),
                            status: status as i32,
                            page_size: 1_000,
                            page_token: token,
                        })
                        .await,
                )?;
                for o in &page.opportunities {
                    out.write_record(record(o))?;
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
        OpportunitiesCommand::Pipeline { level } => {
            let level = match level {
                Level::Tier => PipelineLevel::Tier,
                Level::Parent => PipelineLevel::Parent,
                Level::Account => PipelineLevel::Account,
            };
            out.write_record([
                "key",
                "accounts",
                "open",
                "open_amount",
                "expected_value",
                "won",
                "won_amount",
                "lost",
            ])?;
            let mut token = String::new();
            let mut first = true;
            loop {
                let page = answer(
                    client
                        .get_pipeline(GetPipelineRequest {
                            level: level as i32,
                            page_size: 1_000,
                            page_token: token,
                        })
                        .await,
                )?;
                if first {
                    first = false;
                    describe(page.model.as_ref());
                }
                for r in &page.rows {
                    out.write_record([
                        r.key.clone(),
                        r.accounts.to_string(),
                        r.open_count.to_string(),
                        money(&r.open_amount),
                        money(&r.expected_value),
                        r.won_count.to_string(),
                        money(&r.won_amount),
                        r.lost_count.to_string(),
                    ])?;
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
    }
    finish(out)
}

/// The model behind the figures, on standard error (the CSV stays data).
fn describe(model: Option<&rapport_proto::v1::PipelineModel>) {
    let Some(m) = model else {
        eprintln!("no refit yet: the figures come once the refit job has run");
        return;
    };
    eprintln!(
        "model fitted {} on {} won and {} lost (win rate {:.3}){}",
        time(&m.fitted_at),
        m.won,
        m.lost,
        m.tenant_win_rate,
        if m.pending {
            "; newer events wait for the next refit"
        } else {
            ""
        }
    );
    if !m.thin_history.is_empty() {
        eprintln!("  no probabilities: {}", m.thin_history);
    }
    for s in &m.stages {
        eprintln!(
            "  {:<16} win {:.3}  typical {:.0} days  exits {} (won {}, lost {})  open now {}",
            s.stage,
            s.win_probability,
            s.typical_days,
            s.exits,
            s.exits_won,
            s.exits_lost,
            s.open_now
        );
    }
}
