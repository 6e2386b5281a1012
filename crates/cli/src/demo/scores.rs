//! The first part of the report: the top customers by net spend, how spend
//! is spread, and the customers in each segment.

use rapport_proto::v1::{ListScoresRequest, ScoreOrder, SummarizeScoresRequest};

use super::format::{money, name_of};
use crate::client::Clients;

/// Prints the scores part of the report.
pub(super) async fn show(clients: &mut Clients) -> anyhow::Result<()> {
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
        let name = name_of(clients, &s.customer_id).await?;
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
