//! Changing rules: save a first version or a new draft from a file, publish
//! a version, roll back to an earlier one, pause and resume. Each request
//! carries an id derived from its inputs, so running a command twice does
//! what running it once did.

use std::path::Path;

use rapport_proto::v1::{
    CreateRuleRequest, PublishRuleRequest, RollbackRuleRequest, SetRuleEnabledRequest,
    UpdateRuleRequest,
};

use super::{
    file,
    lookup::{find, published, request_id, state, the_rule},
};
use crate::client::{Clients, answer};

/// Saves a new rule from `path` as version 1, a draft.
pub(super) async fn create(
    clients: &mut Clients,
    path: &Path,
    author: String,
) -> anyhow::Result<()> {
    let (text, definition) = file::read_with_text(path)?;
    let response = answer(
        clients
            .rules
            .create_rule(CreateRuleRequest {
                request_id: request_id(&["create", &author, &text]),
                author,
                definition: Some(definition),
            })
            .await,
    )?;
    let rule = the_rule(response.rule)?;
    let verb = if response.created {
        "created"
    } else {
        "already created"
    };
    println!(
        "{verb}: rule {} ({}) version {} (draft); publish it with `rapport rules publish {}`",
        rule.name, rule.id, rule.latest_version, rule.name
    );
    Ok(())
}

/// Saves `path` as a new draft version of `rule`, refusing if a version
/// other than `expected_version` (default: the latest now) is the latest.
pub(super) async fn update(
    clients: &mut Clients,
    rule: &str,
    path: &Path,
    author: String,
    expected_version: Option<u32>,
) -> anyhow::Result<()> {
    let current = find(clients, rule).await?;
    let (text, definition) = file::read_with_text(path)?;
    let expected = expected_version.unwrap_or(current.latest_version);
    let response = answer(
        clients
            .rules
            .update_rule(UpdateRuleRequest {
                rule_id: current.id.clone(),
                request_id: request_id(&[
                    "update",
                    &current.id,
                    &expected.to_string(),
                    &author,
                    &text,
                ]),
                author,
                expected_version: expected,
                definition: Some(definition),
            })
            .await,
    )?;
    let rule = the_rule(response.rule)?;
    println!(
        "rule {}: version {} saved as a draft (published: {})",
        rule.name,
        rule.latest_version,
        published(&rule)
    );
    Ok(())
}

/// Makes `version` (default: the latest) the one evaluated.
pub(super) async fn publish(
    clients: &mut Clients,
    rule: &str,
    version: Option<u32>,
) -> anyhow::Result<()> {
    let current = find(clients, rule).await?;
    let version = version.unwrap_or(current.latest_version);
    let response = answer(
        clients
            .rules
            .publish_rule(PublishRuleRequest {
                rule_id: current.id,
                version,
            })
            .await,
    )?;
    let rule = the_rule(response.rule)?;
    println!(
        "rule {}: version {} is published",
        rule.name,
        published(&rule)
    );
    Ok(())
}

/// Publishes a copy of version `to` as a new version.
pub(super) async fn rollback(
    clients: &mut Clients,
    rule: &str,
    to: u32,
    author: String,
) -> anyhow::Result<()> {
    let current = find(clients, rule).await?;
    let response = answer(
        clients
            .rules
            .rollback_rule(RollbackRuleRequest {
                request_id: request_id(&[
                    "rollback",
                    &current.id,
                    &current.latest_version.to_string(),
                    &to.to_string(),
                ]),
                rule_id: current.id,
                author,
                to_version: to,
            })
            .await,
    )?;
    let rule = the_rule(response.rule)?;
    println!(
        "rule {}: version {} (a copy of version {to}) is published",
        rule.name, rule.published_version
    );
    Ok(())
}

/// Resumes (`enabled`) or pauses a rule.
pub(super) async fn set_enabled(
    clients: &mut Clients,
    rule: &str,
    enabled: bool,
) -> anyhow::Result<()> {
    let current = find(clients, rule).await?;
    let response = answer(
        clients
            .rules
            .set_rule_enabled(SetRuleEnabledRequest {
                rule_id: current.id,
                enabled,
            })
            .await,
    )?;
    let rule = the_rule(response.rule)?;
    println!("rule {} is {}", rule.name, state(&rule));
    Ok(())
}
