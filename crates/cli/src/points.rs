//! `rapport points …`: the tenant's loyalty programme and its customers'
//! points. `programme` shows or sets the terms; `balance`, `ledger`,
//! `redeem` and `adjust` work on one customer. The ledger prints as CSV.

use std::collections::HashMap;

use anyhow::Context;
use clap::{Args, Subcommand};
use rapport_proto::v1::{
    AdjustPointsRequest, ExternalIdentity, GetPointsBalanceRequest, GetPointsProgrammeRequest,
    ListPointsLedgerRequest, LookupCustomerRequest, PointsBalance, PointsEntry, PointsProgramme,
    PutPointsProgrammeRequest, RedeemPointsRequest,
};

use crate::client::{Clients, answer};

/// The terms `rapport points programme set` puts.
#[derive(Debug, Args)]
pub struct Terms {
    /// Points per currency unit spent (up to 3 decimals).
    #[arg(long)]
    per_unit: f64,
    /// A category's multiplier, as `category=2`; repeat for more.
    #[arg(long = "category", value_name = "NAME=MULTIPLIER")]
    categories: Vec<String>,
    /// A service tier's multiplier, as `gold=1.5`; repeat for more.
    #[arg(long = "tier", value_name = "NAME=MULTIPLIER")]
    tiers: Vec<String>,
    /// Points on a customer's first purchase.
    #[arg(long, default_value_t = 0)]
    welcome: i64,
    /// Points on a member's birthday (the profile's `birth_date`).
    #[arg(long, default_value_t = 0)]
    birthday: i64,
    /// Months points are kept; 0 keeps them forever.
    #[arg(long, default_value_t = 0)]
    expiry_months: u32,
    /// When purchases begin to earn (RFC 3339, e.g. 2026-01-01T00:00:00Z);
    /// the first put's time when absent.
    #[arg(long)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Pause earning (balances, redemptions and expiry go on).
    #[arg(long)]
    paused: bool,
}

/// What `rapport points programme` does.
#[derive(Debug, Subcommand)]
pub enum ProgrammeCommand {
    /// Prints the programme.
    Show,
    /// Creates or replaces the programme (new terms apply to purchases from
    /// then on).
    Set(Terms),
}

/// What `rapport points` does.
#[derive(Debug, Subcommand)]
pub enum PointsCommand {
    /// The tenant's programme.
    Programme {
        /// Show or set.
        #[command(subcommand)]
        command: ProgrammeCommand,
    },
    /// A customer's balance, what expires within 30 days, and the totals.
    Balance {
        /// The customer: a Rapport id, or SOURCE:EXTERNAL_ID (e.g. erp:C-1001).
        customer: String,
    },
    /// A customer's ledger as CSV, newest first.
    Ledger {
        /// The customer: a Rapport id, or SOURCE:EXTERNAL_ID (e.g. erp:C-1001).
        customer: String,
    },
    /// Spends a customer's points; refused beyond the balance.
    Redeem {
        /// The customer: a Rapport id, or SOURCE:EXTERNAL_ID (e.g. erp:C-1001).
        customer: String,
        /// How many points.
        points: i64,
        /// What they were spent on.
        #[arg(long, default_value = "")]
        reason: String,
        /// Idempotency key; a new one when absent.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Adds (or, negative, takes away) points by hand, with a reason.
    Adjust {
        /// The customer: a Rapport id, or SOURCE:EXTERNAL_ID (e.g. erp:C-1001).
        customer: String,
        /// How many points (negative to take away; put `--` before it).
        #[arg(allow_negative_numbers = true)]
        points: i64,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Idempotency key; a new one when absent.
        #[arg(long)]
        request_id: Option<String>,
    },
}

/// `NAME=MULTIPLIER` pairs as a map.
fn multipliers(flag: &str, given: &[String]) -> anyhow::Result<HashMap<String, f64>> {
    given
        .iter()
        .map(|pair| {
            let (name, m) = pair
                .split_once('=')
                .with_context(|| format!("--{flag} {pair:?}: expected NAME=MULTIPLIER"))?;
            let m: f64 = m
                .trim()
                .parse()
                .with_context(|| format!("--{flag} {pair:?}: {m:?} is not a number"))?;
            Ok((name.trim().to_owned(), m))
        })
        .collect()
}

fn print_programme(p: &PointsProgramme) {
    println!("version          {}", p.version);
    if p.paused {
        println!("paused           purchases earn nothing until resumed");
    }
    println!("points per unit  {}", p.points_per_unit);
    let mut categories: Vec<_> = p.category_multipliers.iter().collect();
    categories.sort_by(|a, b| a.0.cmp(b.0));
    for (name, m) in categories {
        println!("category {name:<8} ×{m}");
    }
    let mut tiers: Vec<_> = p.tier_multipliers.iter().collect();
    tiers.sort_by(|a, b| a.0.cmp(b.0));
    for (name, m) in tiers {
        println!("tier {name:<12} ×{m}");
    }
    if let Some(t) = &p.started_at {
        println!("earning since    {}", time(t));
    }
    println!("welcome bonus    {}", p.welcome_bonus);
    println!("birthday bonus   {}", p.birthday_bonus);
    match p.expiry_months {
        0 => println!("expiry           never"),
        n => println!("expiry           {n} months after earning"),
    }
}

fn print_balance(b: &PointsBalance) {
    println!("customer      {}", b.customer_id);
    println!("balance       {}", b.balance);
    println!("expiring 30d  {}", b.expiring_30d);
    if let Some(at) = &b.next_expiry_at {
        println!("next expiry   {} on {}", b.next_expiry_points, time(at));
    }
    println!("earned        {}", b.earned);
    println!("redeemed      {}", b.redeemed);
    println!("expired       {}", b.expired);
    println!("adjusted      {}", b.adjusted);
}

fn time(t: &prost_types::Timestamp) -> String {
    rapport_kit::domain::timestamp_to_chrono(t)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn entry_record(e: &PointsEntry) -> Vec<String> {
    let kind = e
        .kind()
        .as_str_name()
        .trim_start_matches("POINTS_ENTRY_KIND_");
    vec![
        e.recorded_at.as_ref().map(time).unwrap_or_default(),
        e.occurred_at.as_ref().map(time).unwrap_or_default(),
        kind.to_ascii_lowercase(),
        e.points.to_string(),
        e.balance_after.to_string(),
        e.expires_at.as_ref().map(time).unwrap_or_default(),
        e.entry_id.clone(),
        e.reason.clone(),
    ]
}

/// The Rapport id of `given`: itself when it is one, else the customer the
/// identity `SOURCE:EXTERNAL_ID` names.
async fn customer_id(clients: &mut Clients, given: &str) -> anyhow::Result<String> {
    if uuid::Uuid::parse_str(given).is_ok() {
        return Ok(given.to_owned());
    }
    let Some((source, external_id)) = given.split_once(':') else {
        anyhow::bail!("{given:?} is neither a Rapport customer id nor SOURCE:EXTERNAL_ID");
    };
    let found = clients
        .profiles
        .lookup_customer(LookupCustomerRequest {
            identity: Some(ExternalIdentity {
                source: source.to_owned(),
                external_id: external_id.to_owned(),
            }),
        })
        .await;
    let customer = answer(found)?.customer.unwrap_or_default();
    Ok(customer.id)
}

fn request_id(given: Option<String>) -> String {
    given.unwrap_or_else(|| format!("cli-{}", uuid::Uuid::now_v7()))
}

/// Runs `command` against the suite `clients` reach.
pub async fn run(clients: &mut Clients, command: PointsCommand) -> anyhow::Result<()> {
    let command = match command {
        PointsCommand::Balance { customer } => PointsCommand::Balance {
            customer: customer_id(clients, &customer).await?,
        },
        PointsCommand::Ledger { customer } => PointsCommand::Ledger {
            customer: customer_id(clients, &customer).await?,
        },
        PointsCommand::Redeem {
            customer,
            points,
            reason,
            request_id,
        } => PointsCommand::Redeem {
            customer: customer_id(clients, &customer).await?,
            points,
            reason,
            request_id,
        },
        PointsCommand::Adjust {
            customer,
            points,
            reason,
            request_id,
        } => PointsCommand::Adjust {
            customer: customer_id(clients, &customer).await?,
            points,
            reason,
            request_id,
        },
        other => other,
    };
    let loyalty = &mut clients.loyalty;
    match command {
        PointsCommand::Programme {
            command: ProgrammeCommand::Show,
        } => {
            let r = answer(
                loyalty
                    .get_points_programme(GetPointsProgrammeRequest {})
                    .await,
            )?;
            print_programme(&r.programme.unwrap_or_default());
        }
        PointsCommand::Programme {
            command: ProgrammeCommand::Set(t),
        } => {
            let programme = PointsProgramme {
                points_per_unit: t.per_unit,
                category_multipliers: multipliers("category", &t.categories)?,
                tier_multipliers: multipliers("tier", &t.tiers)?,
                welcome_bonus: t.welcome,
                birthday_bonus: t.birthday,
                expiry_months: t.expiry_months,
                paused: t.paused,
                started_at: t.since.map(rapport_kit::domain::chrono_to_timestamp),
                ..PointsProgramme::default()
            };
            let r = answer(
                loyalty
                    .put_points_programme(PutPointsProgrammeRequest {
                        programme: Some(programme),
                    })
                    .await,
            )?;
            let what = match (r.created, r.changed) {
                (true, _) => "created",
                (false, true) => "changed",
                (false, false) => "unchanged",
            };
            eprintln!("programme {what}");
            print_programme(&r.programme.unwrap_or_default());
        }
        PointsCommand::Balance { customer } => {
            let r = answer(
                loyalty
                    .get_points_balance(GetPointsBalanceRequest {
                        customer_id: customer,
                    })
                    .await,
            )?;
            print_balance(&r.balance.unwrap_or_default());
        }
        PointsCommand::Ledger { customer } => {
            let mut out = csv::Writer::from_writer(std::io::stdout());
            out.write_record([
                "recorded_at",
                "occurred_at",
                "kind",
                "points",
                "balance_after",
                "expires_at",
                "entry_id",
                "reason",
            ])?;
            let mut token = String::new();
            loop {
                let page = answer(
                    loyalty
                        .list_points_ledger(ListPointsLedgerRequest {
                            customer_id: customer.clone(),
                            page_size: 1_000,
                            page_token: token,
                        })
                        .await,
                )?;
                for e in &page.entries {
                    out.write_record(entry_record(e))?;
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
            crate::report::finish(out)?;
        }
        PointsCommand::Redeem {
            customer,
            points,
            reason,
            request_id: id,
        } => {
            let r = answer(
                loyalty
                    .redeem_points(RedeemPointsRequest {
                        request_id: request_id(id),
                        customer_id: customer,
                        points,
                        reason,
                    })
                    .await,
            )?;
            if r.replayed {
                eprintln!("already redeemed by this request id; nothing new spent");
            }
            print_balance(&r.balance.unwrap_or_default());
        }
        PointsCommand::Adjust {
            customer,
            points,
            reason,
            request_id: id,
        } => {
            let r = answer(
                loyalty
                    .adjust_points(AdjustPointsRequest {
                        request_id: request_id(id),
                        customer_id: customer,
                        points,
                        reason,
                    })
                    .await,
            )?;
            if r.replayed {
                eprintln!("already adjusted by this request id; nothing new written");
            }
            print_balance(&r.balance.unwrap_or_default());
        }
    }
    Ok(())
}
