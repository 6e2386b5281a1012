//! Customer value in the report: the customers worth most over their
//! lifetime, customer equity by tier and by RFM segment, and the valuable
//! customers whose behaviour changed.

use rapport_proto::v1::{EquityGroup, GetCustomerEquityRequest, Score};

use super::format::{money, name_of};
use crate::client::{Clients, each_score_page};

/// Prints the value part of the report from every score, enriched with the
/// models fitted just before.
pub(super) async fn show(clients: &mut Clients) -> anyhow::Result<()> {
    let mut all: Vec<Score> = Vec::new();
    each_score_page(&mut clients.scoring, |page| all.extend(page)).await?;
    all.sort_by_key(|s| std::cmp::Reverse(lifetime_value(s)));
    top_by_value(clients, &all).await?;
    equity(clients).await?;
    behaviour(clients, &all).await
}

fn lifetime_value(s: &Score) -> i64 {
    s.value
        .as_ref()
        .and_then(|v| v.lifetime_value.as_ref())
        .map(|m| m.minor_units)
        .unwrap_or(0)
}

/// The ten customers of `all` (most valuable first) with their measures.
async fn top_by_value(clients: &mut Clients, all: &[Score]) -> anyhow::Result<()> {
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
    Ok(())
}

async fn equity(clients: &mut Clients) -> anyhow::Result<()> {
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
    equity_table("tier", &equity.tiers);
    equity_table("RFM segment", &equity.segments);
    Ok(())
}

/// One equity table: a header naming what the groups are, then a line per group.
fn equity_table(groups_are: &str, groups: &[EquityGroup]) {
    println!(
        "  {:<18} {:>9} {:>18} {:>16}",
        groups_are, "customers", "lifetime value", "share of wallet"
    );
    for g in groups {
        let share = g
            .share_of_wallet
            .map(|s| format!("{:.0}%", s * 100.0))
            .unwrap_or("-".into());
        println!(
            "  {:<18} {:>9} {:>18} {:>16}",
            g.name,
            g.customers,
            money(g.lifetime_value.as_ref()),
            share
        );
    }
}

/// The most valuable of the customers whose behaviour changed, with why.
async fn behaviour(clients: &mut Clients, all: &[Score]) -> anyhow::Result<()> {
    let flagged: Vec<&Score> = all
        .iter()
        .filter(|s| !s.behaviour_flags.is_empty())
        .collect();
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
