//! The demo's last act: a business user saves an email template, writes a
//! rule (first with a typo the service refuses, with its position), tries it
//! on everyone, publishes it, and sees the emails it caused, who was not
//! contacted and why.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;
use rapport_proto::v1::{
    Channel, CreateRuleRequest, GetRuleStatsRequest, ListFiringsRequest, ListNotificationsRequest,
    NotificationStatus, PublishRuleRequest, PutTemplateRequest, Template, ValidateRuleRequest,
};

use super::mailbox::Mailbox;
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
        "  dry run: would match {} of {} customers, contacting no one",
        dry.matched, dry.customers_evaluated
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
    show_notifications(clients, mailbox, &rule.id).await
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

/// Waits for the contacted customers' emails to settle, then prints the
/// outcome per status and one email as received.
async fn show_notifications(
    clients: &mut Clients,
    mailbox: &Mailbox,
    rule_id: &str,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let counts = loop {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut token = String::new();
        loop {
            let page = clients
                .notifications
                .list_notifications(ListNotificationsRequest {
                    page_size: 500,
                    page_token: token,
                    ..Default::default()
                })
                .await?
                .into_inner();
            for n in &page.notifications {
                if !n.origin.contains(rule_id) {
                    continue;
                }
                let status = NotificationStatus::try_from(n.status)
                    .map(|s| s.as_str_name().trim_start_matches("NOTIFICATION_STATUS_"))
                    .unwrap_or("UNKNOWN")
                    .to_owned();
                let label = if n.suppressed_reason.is_empty() {
                    status
                } else {
                    format!("{status} ({})", n.suppressed_reason)
                };
                *counts.entry(label).or_default() += 1;
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let pending = counts.get("PENDING").copied().unwrap_or(0);
        if pending == 0 || tokio::time::Instant::now() > deadline {
            break counts;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    println!("  notifications the rule caused:");
    for (status, n) in &counts {
        println!("    {status:<28} {n:>5}");
    }
    let mails = mailbox.mails();
    println!(
        "  the demo's SMTP mailbox received {} emails; the first:",
        mails.len()
    );
    if let Some(mail) = mails.first() {
        println!("    To: {}", mail.to.join(", "));
        println!("    Subject: {}", mail.header("subject").unwrap_or(""));
        let body = if mail
            .header("content-transfer-encoding")
            .is_some_and(|e| e.eq_ignore_ascii_case("quoted-printable"))
        {
            quoted_printable(mail.body())
        } else {
            mail.body().to_owned()
        };
        for line in body.lines().take(4) {
            println!("    | {line}");
        }
    }
    let firings = clients
        .rules
        .list_firings(ListFiringsRequest {
            rule_id: rule_id.to_owned(),
            page_size: 1,
            ..Default::default()
        })
        .await?
        .into_inner()
        .firings;
    if let Some(f) = firings.first() {
        let mut inputs: Vec<_> = f.inputs.iter().collect();
        inputs.sort();
        println!("  a firing as recorded (rule v{}):", f.rule_version);
        for (k, v) in inputs {
            println!("    {k} = {v}");
        }
        for a in &f.action_results {
            println!("    -> {a}");
        }
    }
    Ok(())
}

/// Undoes quoted-printable (RFC 2045): soft line breaks and `=XX` escapes.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_printable_is_undone() {
        assert_eq!(
            super::quoted_printable("your next orde=\r\nr ships free =E2=82=AC5"),
            "your next order ships free \u{20ac}5"
        );
    }
}
