//! The rule file: how a business user writes a rule for `rapport rules`.
//!
//! ```toml
//! name = "valuable-slowing"
//! description = "Valuable customers who buy less often than they used to"
//! condition = "score.monthly_profit > 500.0 && change.frequency_drop > 0.3"
//! trigger = "score_change"      # or "event" (with event_kinds) or "schedule"
//! topic = "win-back"            # what the contact is about; dedupes across rules
//! holdout_percent = 10          # control group kept uncontacted
//! audience = "reactivation"     # only customers on this next-best list (optional)
//!
//! [[actions]]
//! notify = { channel = "email", template = "win-back", locale = "en" }
//! [[actions]]
//! tag = "win-back-2026"
//! ```

use std::path::Path;

use anyhow::Context;
use rapport_proto::v1::{
    Channel, NotifyAction, Purpose, RuleAction, RuleDefinition, RuleTrigger, SetTierAction,
    TagAction, WebhookAction, rule_action,
};
use serde::Deserialize;

pub use super::duration::parse_duration;
use super::duration::to_proto_duration;

/// A rule as written in a file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    name: String,
    #[serde(default)]
    description: String,
    condition: String,
    #[serde(default = "default_trigger")]
    trigger: String,
    #[serde(default)]
    event_kinds: Vec<String>,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    holdout_percent: u32,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    actions: Vec<ActionFile>,
}

fn default_trigger() -> String {
    "score_change".to_owned()
}

/// One action: exactly one of its keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum ActionFile {
    Notify(NotifyFile),
    SetTier(String),
    Tag(String),
    Webhook(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyFile {
    channel: String,
    template: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    delay: Option<String>,
    #[serde(default)]
    before_event_property: String,
    #[serde(default)]
    before: Option<String>,
}

/// Reads and converts a rule file; errors name the file, key and line.
pub fn read(path: &Path) -> anyhow::Result<RuleDefinition> {
    Ok(read_with_text(path)?.1)
}

/// Reads and converts a rule file, and also hands back its text.
pub fn read_with_text(path: &Path) -> anyhow::Result<(String, RuleDefinition)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let definition = parse(&text).with_context(|| format!("in {}", path.display()))?;
    Ok((text, definition))
}

/// Parses the TOML text of a rule file.
pub fn parse(text: &str) -> anyhow::Result<RuleDefinition> {
    let file: RuleFile = toml::from_str(text)?;
    file.into_definition()
}

impl RuleFile {
    fn into_definition(self) -> anyhow::Result<RuleDefinition> {
        let trigger = match self.trigger.as_str() {
            "score_change" => RuleTrigger::ScoreChange,
            "event" => RuleTrigger::Event,
            "schedule" => RuleTrigger::Schedule,
            other => anyhow::bail!(
                "trigger: {other:?} is not one of \"score_change\", \"event\", \"schedule\""
            ),
        };
        let actions = self
            .actions
            .into_iter()
            .enumerate()
            .map(|(i, a)| a.into_proto().with_context(|| format!("actions[{i}]")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(RuleDefinition {
            name: self.name,
            description: self.description,
            condition: self.condition,
            trigger: trigger as i32,
            event_kinds: self.event_kinds,
            actions,
            topic: self.topic,
            holdout_percent: self.holdout_percent,
            audience: self.audience,
        })
    }
}

impl ActionFile {
    fn into_proto(self) -> anyhow::Result<RuleAction> {
        let action = match self {
            ActionFile::Notify(n) => rule_action::Action::Notify(n.into_proto()?),
            ActionFile::SetTier(tier) => rule_action::Action::SetTier(SetTierAction { tier }),
            ActionFile::Tag(tag) => rule_action::Action::Tag(TagAction { tag }),
            // The name of a registered integration endpoint; a URL is passed
            // on as one, for the service to refuse with its explanation.
            ActionFile::Webhook(target) if target.contains("://") => {
                rule_action::Action::Webhook(WebhookAction {
                    url: target,
                    endpoint: String::new(),
                })
            }
            ActionFile::Webhook(endpoint) => rule_action::Action::Webhook(WebhookAction {
                url: String::new(),
                endpoint,
            }),
        };
        Ok(RuleAction {
            action: Some(action),
        })
    }
}

impl NotifyFile {
    fn into_proto(self) -> anyhow::Result<NotifyAction> {
        let channel = match self.channel.as_str() {
            "email" => Channel::Email,
            "sms" => Channel::Sms,
            "webhook" => Channel::Webhook,
            other => anyhow::bail!("notify.channel: {other:?} is not email, sms or webhook"),
        };
        let purpose = match self.purpose.as_str() {
            "" | "marketing" => Purpose::Marketing,
            "transactional" => Purpose::Transactional,
            other => anyhow::bail!("notify.purpose: {other:?} is not marketing or transactional"),
        };
        let duration = |field: &str, value: Option<String>| -> anyhow::Result<_> {
            value
                .map(|v| {
                    parse_duration(&v)
                        .map(to_proto_duration)
                        .with_context(|| format!("notify.{field}"))
                })
                .transpose()
        };
        Ok(NotifyAction {
            channel: channel as i32,
            template: self.template,
            locale: self.locale,
            purpose: purpose as i32,
            delay: duration("delay", self.delay)?,
            before_event_property: self.before_event_property,
            before: duration("before", self.before)?,
        })
    }
}

#[cfg(test)]
mod tests;
