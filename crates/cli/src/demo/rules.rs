//! The demo's last act: a business user saves an email template, writes a
//! rule (first with a typo the service refuses, with its position), tries it
//! on everyone, publishes it, and waits until it has fired for everyone it
//! matched.

use std::time::Duration;

use anyhow::Context;
use rapport_proto::v1::{
    Channel, CreateRuleRequest, GetRuleStatsRequest, PublishRuleRequest, PutTemplateRequest,
    Template, ValidateRuleRequest,
};

use super::{mailbox::Mailbox, outcome};
use crate::{client::Clients, rules::file};

/// The rule as its author first types it: `montly_profit` is misspelt.
const RULE_WITH_TYPO: &str = r#"
name = "win-back-valuable"
description = "Valuable customers who are slipping away get a personal email"
condition = "score.montly_profit > 15.0 && (score.rfm_segment == 'At risk' || score.rfm_segment == \"Can't lose them\")"
trigger = "score_change"
topic = "win-back"
holdout_percent = 20

[[actions]]
notify = { channel = "email", template = "win-back", locale = "en" }
[[actions]]
tag = "win-back"
"#;

const SUBJECT: &str = "We miss you, {{ customer.first_name | default: \"friend\" }}";
const BODY: &str = "Hello {{ customer.first_name | default: \"there\" }},\r\n\r\n\
You bought from us {{ score.purchases_this_year }} times this year. \
As a {{ score.tier | default: \"valued\" }} customer, your next order ships free.\r\n";

/// Runs the rules section and prints what happened.
pub async fn show(clients: &mut Clients, mailbox: &Mailbox) -> anyhow::Result<()> {
    println!("\nRules: a business user writes one, tries it, publishes it");
    clients
        .notifications
        .put_template(PutTemplateRequest {
            template: Some(Template {
                name: "win-back".into(),
                channel: Channel::Email as i32,
                locale: "en".into(),
                subject: SUBJECT.into(),
                body: BODY.into(),
                default_locale: true,
                ..Default::default()
            }),
        })
        .await
        .context("saving the win-back template")?;
    println!("  saved email template \"win-back\" (en)");

    let with_typo = file::parse(RULE_WITH_TYPO)?;
    let checked = clients
        .rules
        .validate_rule(ValidateRuleRequest {
            definition: Some(with_typo.clone()),
        })
        .await?
        .into_inner();
    for d in &checked.diagnostics {
        println!(
            "  refused: {} line {}, column {}: {}",
            d.field, d.line, d.column, d.message
        );
    }
    anyhow::ensure!(!checked.ok, "the misspelt rule should have been refused");

    let mut definition = with_typo;
    definition.condition = definition
        .condition
        .replace("montly_profit", "monthly_profit");
    println!("  condition: {}", definition.condition);
    let dry = clients
        .rules
        .dry_run_rule(rapport_proto::v1::DryRunRuleRequest {
            definition: Some(definition.clone()),
            page_size: 3,
            ..Default::default()
        })
        .await?
        .into_inner();
    println!(
        "  dry run: would match {}, contacting no one",
        crate::rules::dry_run_counts(&dry)
    );

    let rule = clients
        .rules
        .create_rule(CreateRuleRequest {
            request_id: "demo-win-back".into(),
            author: "maria.keller@example.com".into(),
            definition: Some(definition),
        })
        .await?
        .into_inner()
        .rule
        .context("no rule in the answer")?;
    clients
        .rules
        .publish_rule(PublishRuleRequest {
            rule_id: rule.id.clone(),
            version: rule.latest_version,
        })
        .await?;
    println!(
        "  created and published {} v{} (author maria.keller@example.com)",
        rule.name, rule.latest_version
    );

    let stats = wait_for_firings(clients, &rule.id, dry.matched).await?;
    println!(
        "  fired for {} customers: {} kept uncontacted as the control group, the others emailed \
         where they consented",
        stats.customers_matched, stats.holdout_customers
    );
    outcome::show(clients, mailbox, &rule.id).await
}

async fn wait_for_firings(
    clients: &mut Clients,
    rule_id: &str,
    expected: u64,
) -> anyhow::Result<rapport_proto::v1::GetRuleStatsResponse> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let stats = clients
            .rules
            .get_rule_stats(GetRuleStatsRequest {
                rule_id: rule_id.to_owned(),
                window_days: 30,
            })
            .await?
            .into_inner();
        if stats.customers_matched >= expected {
            return Ok(stats);
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!(
                "the rule fired for {} of the {expected} customers the dry run matched",
                stats.customers_matched
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
