//! Finding a rule by what a person types (its name or its id), and the small
//! things every rules command prints or sends.

use anyhow::Context;
use rapport_proto::v1::{GetRuleRequest, ListRulesRequest, ListRulesResponse, Rule};
use uuid::Uuid;

use crate::client::{Clients, answer, describe};

/// A rule by id, or else by name.
pub(super) async fn find(clients: &mut Clients, rule: &str) -> anyhow::Result<Rule> {
    if Uuid::parse_str(rule).is_ok() {
        let found = clients
            .rules
            .get_rule(GetRuleRequest {
                rule_id: rule.to_owned(),
            })
            .await;
        match found {
            Ok(r) => return the_rule(r.into_inner().rule),
            Err(s) if s.code() == tonic::Code::NotFound => {}
            Err(s) => return Err(describe(s)),
        }
    }
    let mut token = String::new();
    loop {
        let page = rules_page(clients, token).await?;
        if let Some(r) = page.rules.into_iter().find(|r| r.name == rule) {
            return Ok(r);
        }
        if page.next_page_token.is_empty() {
            anyhow::bail!("no rule named or with id {rule:?}");
        }
        token = page.next_page_token;
    }
}

/// One page of the tenant's rules.
pub(super) async fn rules_page(
    clients: &mut Clients,
    page_token: String,
) -> anyhow::Result<ListRulesResponse> {
    answer(
        clients
            .rules
            .list_rules(ListRulesRequest {
                page_size: 100,
                page_token,
            })
            .await,
    )
}

/// The rule an answer carries.
pub(super) fn the_rule(rule: Option<Rule>) -> anyhow::Result<Rule> {
    rule.context("no rule in the answer")
}

/// The same inputs give the same request id, so running a command twice does
/// what running it once did.
pub(super) fn request_id(parts: &[&str]) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, parts.join("\u{1f}").as_bytes()).to_string()
}

/// The published version as `v3`, or `none`.
pub(super) fn published(rule: &Rule) -> String {
    match rule.published_version {
        0 => "none".to_owned(),
        v => format!("v{v}"),
    }
}

/// Whether a rule is evaluated, in a word.
pub(super) fn state(rule: &Rule) -> &'static str {
    if rule.enabled { "enabled" } else { "paused" }
}

/// A time to the minute, as the listings show it.
pub(super) fn timestamp(t: prost_types::Timestamp) -> String {
    chrono::DateTime::from_timestamp(t.seconds, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}
