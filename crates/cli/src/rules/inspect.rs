//! Reading rules back: the tenant's rules, one rule's versions, its latest
//! firings, and what it did against its control group.

use rapport_proto::v1::{GetRuleStatsRequest, ListFiringsRequest, ListRuleVersionsRequest};

use super::lookup::{find, published, rules_page, state, timestamp};
use crate::client::{Clients, answer};

/// Prints every rule of the tenant, a page at a time.
pub(super) async fn list(clients: &mut Clients) -> anyhow::Result<()> {
    let mut token = String::new();
    println!(
        "{:<32} {:>7} {:>9}  {:<8} id",
        "name", "latest", "published", "state"
    );
    loop {
        let page = rules_page(clients, token).await?;
        for r in &page.rules {
            println!(
                "{:<32} {:>7} {:>9}  {:<8} {}",
                r.name,
                r.latest_version,
                published(r),
                state(r),
                r.id
            );
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        token = page.next_page_token;
    }
}

/// Prints a rule and its versions, newest first.
pub(super) async fn show(clients: &mut Clients, rule: &str) -> anyhow::Result<()> {
    let rule = find(clients, rule).await?;
    println!(
        "rule {} ({}): latest version {}, published {}, {}",
        rule.name,
        rule.id,
        rule.latest_version,
        published(&rule),
        state(&rule)
    );
    let versions = answer(
        clients
            .rules
            .list_rule_versions(ListRuleVersionsRequest {
                rule_id: rule.id,
                page_size: 50,
                page_token: String::new(),
            })
            .await,
    )?
    .versions;
    for v in versions {
        let when = v.created_at.map(timestamp).unwrap_or_default();
        let state = match v.published_at {
            Some(t) => format!("published {}", timestamp(t)),
            None => "draft".to_owned(),
        };
        let condition = v.definition.map(|d| d.condition).unwrap_or_default();
        println!("  v{:<3} {when}  by {:<20} {state}", v.version, v.author);
        println!("        {condition}");
    }
    Ok(())
}

/// Prints a rule's latest `limit` firings with what each action did.
pub(super) async fn firings(clients: &mut Clients, rule: &str, limit: i32) -> anyhow::Result<()> {
    let rule = find(clients, rule).await?;
    let firings = answer(
        clients
            .rules
            .list_firings(ListFiringsRequest {
                rule_id: rule.id,
                page_size: limit,
                ..Default::default()
            })
            .await,
    )?
    .firings;
    for f in firings {
        let when = f.fired_at.map(timestamp).unwrap_or_default();
        let group = if f.holdout { "  (control group)" } else { "" };
        println!(
            "{when}  v{}  customer {}{group}",
            f.rule_version, f.customer_id
        );
        for a in &f.action_results {
            println!("    {a}");
        }
    }
    Ok(())
}

/// Prints what a rule did, purchases counted `window_days` after each firing.
pub(super) async fn stats(
    clients: &mut Clients,
    rule: &str,
    window_days: u32,
) -> anyhow::Result<()> {
    let rule = find(clients, rule).await?;
    let s = answer(
        clients
            .rules
            .get_rule_stats(GetRuleStatsRequest {
                rule_id: rule.id,
                window_days,
            })
            .await,
    )?;
    println!(
        "rule {}, purchases counted {window_days} days after each firing",
        rule.name
    );
    println!("  firings                 {}", s.firings);
    println!("  customers matched       {}", s.customers_matched);
    println!("  customers contacted     {}", s.customers_contacted);
    println!("  control group           {}", s.holdout_customers);
    println!("  notifications sent      {}", s.notifications_sent);
    println!("  notifications suppressed {}", s.notifications_suppressed);
    println!("  evaluation errors       {}", s.evaluation_errors);
    println!(
        "  purchases per customer  {:.2} contacted, {:.2} control group",
        s.purchases_per_contacted_customer, s.purchases_per_holdout_customer
    );
    if s.sampled {
        println!(
            "  (estimated: the rule fired for more customers than scoring.dry_run_limit; \
             read {} of them, the first in customer id order, a uniform sample)",
            s.customers_read
        );
    }
    if !s.last_error.is_empty() {
        println!("  last error: {}", s.last_error);
    }
    Ok(())
}
